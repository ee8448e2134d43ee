"""Choose and build the null model for a parcellation (the geometry side of permute).

This is where a :class:`~nispace.parcellation.Parcellation` meets the pure null
models of :mod:`nispace.nulls`: centroids on the sphere for spins, distance matrices
for Moran and Burt, per-vertex labels for vertex-level spins, and NiSpace's defaults:

* cortex-only parcellation with a surface (fsLR preferred, else fsaverage):
  ``alexander_bloch`` spins;
* volumetric-only or combined cortex + subcortex parcellation: ``moran`` on the
  Euclidean distances between parcel centroids;
* combined parcellations take a split method, ``"spin+moran"`` or
  ``("alexander_bloch", "moran")``: the cortex part is spun on its surface, the
  subcortex part gets the second method, and the two are stitched; a spin method
  alone on a combined parcellation is refused, because it would leave the subcortex
  unpermuted.
"""

from __future__ import annotations

import logging

import numpy as np

from .. import nulls
from ..errors import InputError
from ..parcellation import Parcellation

__all__ = ["default_null_method", "null_model_for"]

logger = logging.getLogger("nispace.permute")

_SURFACE_PREFERENCE = ("fsLR", "fsaverage")


def _surface_space(parc: Parcellation, space: str | None = None) -> str | None:
    """The surface space for spins: ``space`` if the cortex has it, else fsLR, fsaverage."""
    spaces = parc.surface_spaces_cortex
    if space in spaces:
        return space
    return next((s for s in _SURFACE_PREFERENCE if s in spaces), None)


def _volume_space(parc: Parcellation, space: str | None) -> str:
    """The volumetric space for centroid distances: ``space`` if ``parc`` has it as a
    volume, else the active space if volumetric, else the first volumetric one."""
    volumetric = [s for s in parc.spaces if not parc.is_surface(s)]
    if not volumetric:
        raise InputError(f"null_method: distance-based nulls need a volumetric space or a "
                         f"distance matrix; parcellation {parc.name!r} has only "
                         f"{parc.spaces}. Pass parcellation_dist_mat= or use a spin method.")
    for candidate in (space, parc.active_space):
        if candidate in volumetric:
            return candidate
    return volumetric[0]


def default_null_method(parc: Parcellation) -> str:
    """NiSpace's default null method for ``parc`` (see the module docstring)."""
    if parc.level == "cortex" and _surface_space(parc) is not None:
        return "alexander_bloch"
    return "moran"


def _cortex_parc(parc: Parcellation) -> Parcellation:
    return parc.components[0] if parc.level == "combined" else parc


def _spin_geometry(parc: Parcellation, method: str, space: str | None = None
                   ) -> tuple[dict, str]:
    cx = _cortex_parc(parc)
    space = _surface_space(cx, space)
    if space is None:
        raise InputError(f"null_method: {method!r} spins the cortex on a template sphere, but "
                         f"parcellation {parc.name!r} has no fsLR or fsaverage surface "
                         f"version; use null_method='moran' or 'burt2020'.")
    geo: dict = {"space": space}
    if method in ("baum", "cornblath"):
        (c_l, c_r), _ = cx.get_mesh(space, "sphere")
        data = cx.get_data(space)
        n_l = c_l.shape[0]
        geo.update(vertex_coords=(c_l, c_r), vertex_labels=(data[:n_l], data[n_l:]),
                   label_values=cx.get_label_values(space))
    else:
        right = cx.get_hemi_indices("R", space)
        hemiid = np.zeros(cx.n_parcels, dtype=int)
        hemiid[right] = 1
        geo.update(coords=cx.get_centroids(space), hemiid=hemiid)
    return geo, space


def _dist_geometry(parc: Parcellation, idx: np.ndarray | None, dist_mat,
                   space: str | None = None) -> tuple[np.ndarray, str]:
    """Distances (restricted to ``idx``) and a description of where they come from."""
    if dist_mat is None:
        space = _volume_space(parc, space)
        dist_mat, desc = parc.get_dist_mat(space), f"Euclidean centroid distances, {space}"
    else:
        desc = "user-provided distance matrix"
    dist_mat = np.asarray(dist_mat, dtype=float)
    return (dist_mat if idx is None else dist_mat[np.ix_(idx, idx)]), desc


def null_model_for(parc: Parcellation, null_method=None, *, keep: np.ndarray | None = None,
                   dist_mat=None, null_kwargs: dict | None = None, space: str | None = None):
    """The prepared null model for the parcels ``keep`` of ``parc``.

    Parameters
    ----------
    parc : Parcellation
    null_method : str, tuple or None
        A name of :data:`nispace.nulls.NULL_METHODS`, a split ``"spin+moran"`` /
        ``(cortex_method, subcortex_method)`` for combined parcellations, or None for
        the default.
    keep : ndarray of int, optional
        Positions (in the parcellation's label order) of the parcels in the data;
        default all.
    dist_mat : ndarray (n_parcels, n_parcels), optional
        Distances to use instead of the parcellation's (in the parcellation's order).
    null_kwargs : dict, optional
        Passed to the null model(s).
    space : str, optional
        The space the data were parcellated in. Distance-based nulls (Moran, Burt)
        use the Euclidean distances between the parcel centroids in this space when
        it is volumetric (else in the parcellation's active volumetric space); spins
        use it when it is a surface space of the cortex (else fsLR, then fsaverage).

    Returns
    -------
    model : nispace.nulls.NullModel
    description : str
        Method and the space of its geometry, for logs and reports, e.g.
        ``"moran (Euclidean centroid distances, MNI152NLin6Asym)"``.
    """
    null_kwargs = dict(null_kwargs or {})
    n_all = parc.n_parcels
    keep = np.arange(n_all) if keep is None else np.asarray(keep)
    if null_method is None:
        null_method = default_null_method(parc)
        logger.info("Using default null method '%s' for parcellation '%s'.", null_method,
                    parc.name)
    cx_method, sc_method = nulls.parse_null_method(null_method)

    if parc.level == "combined":
        if cx_method in nulls.SPIN_METHODS and sc_method is None:
            raise InputError(
                f"null_method: a spin method ({cx_method!r}) alone cannot randomise the "
                f"subcortical parcels of the combined parcellation {parc.name!r}; the "
                f"subcortex would stay fixed and the null would be too narrow. Use a split "
                f"method such as 'spin+moran' or ('{cx_method}', 'moran'), or a method for "
                f"the whole brain such as 'moran'.")
        if sc_method is not None:
            cx_idx, sc_idx = parc.cortex_indices, parc.subcortex_indices
            cx_model, cx_desc = _single_model(parc.components[0], cx_method, None,
                                              _sub(dist_mat, cx_idx), null_kwargs, space)
            sc_model, sc_desc = _single_model(parc.components[1], sc_method, None,
                                              _sub(dist_mat, sc_idx), null_kwargs, space)
            model = nulls.SplitNullModel(cx_model, sc_model, cx_idx, sc_idx)
            return _restrict(model, keep, n_all), f"{cx_desc} (cortex) + {sc_desc} (subcortex)"
    elif sc_method is not None:
        method = sc_method if parc.level == "subcortex" else cx_method
        logger.info("Split null method on a %s parcellation: using '%s'.", parc.level, method)
        cx_method = method
    model, desc = _single_model(parc, cx_method, None, dist_mat, null_kwargs, space)
    return _restrict(model, keep, n_all), desc


def _sub(dist_mat, idx):
    return None if dist_mat is None else np.asarray(dist_mat)[np.ix_(idx, idx)]


def _single_model(parc: Parcellation, method: str, idx, dist_mat, null_kwargs,
                  space: str | None = None):
    if method in nulls.SPIN_METHODS:
        geo, space = _spin_geometry(parc, method, space)
        geo.pop("space")
        return nulls.make_null_model(method, **geo, **null_kwargs), f"{method} ({space})"
    if method == "random":
        return nulls.make_null_model(method, n_parcels=parc.n_parcels, **null_kwargs), method
    dist, desc = _dist_geometry(parc, idx, dist_mat, space)
    return nulls.make_null_model(method, dist_mat=dist, **null_kwargs), f"{method} ({desc})"


def _restrict(model, keep: np.ndarray, n_all: int):
    if keep.size == n_all and np.array_equal(keep, np.arange(n_all)):
        return model
    return nulls.SubsetNullModel(model, keep, n_all)
