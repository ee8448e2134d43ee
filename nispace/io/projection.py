"""Volumes onto surface parcellations: the automatic MNI152 -> surface transform.

When volumetric images meet a parcellation without a volumetric space (e.g.
Glasser, fsaverage/fsLR only), or the user asks for a surface space of the
parcellation (``space="fsLR"``), the volumes are projected with
:func:`nispace.transforms.mni152_to_fslr` / :func:`~nispace.transforms.mni152_to_fsaverage`
at the parcellation's density. Each projection is logged at WARNING (a transform is a
choice the user must see) and described in ``record["transforms"]``, which
:class:`~nispace.api.NiSpace` keeps in ``fit_record_["transforms"][<input>]``.
"""

from __future__ import annotations

import logging

from ..errors import InputError
from ..parcellation.formats import MESH_DENSITIES
from ..transforms import (SURFACE_DENSITIES, mni152_to_fsaverage, mni152_to_fslr,
                          resample_surface)
from ..transforms.volume import describe
from .parcellate import _Source, _n_vertices
from .spaces import is_surface_space

__all__ = ["surface_target", "project_volume_sources", "resample_surface_sources"]

logger = logging.getLogger(__name__)

#: vertices per hemisphere -> density name of the meshes the transforms support
_DENSITY = {n: density for n, (space, density) in MESH_DENSITIES.items()
            if density in SURFACE_DENSITIES.get(space, ())}
#: surface spaces in order of preference as projection targets
_TARGET_PREFERENCE = ("fsLR", "fsaverage")


def _volumetric_spaces(parcellation) -> list[str]:
    return [s for s in parcellation.spaces if not parcellation.is_surface(s)]


def surface_target(parcellation, where: str) -> str:
    """The surface space of ``parcellation`` that volumes are projected to: fsLR, else
    fsaverage, else its first surface space."""
    surf = [s for s in parcellation.spaces if parcellation.is_surface(s)]
    if not surf:
        raise InputError(f"parcellation: {parcellation.name!r} has neither a volumetric nor a "
                         f"surface space ({parcellation.spaces}); cannot parcellate the "
                         f"volumes in '{where}'.")
    return next((s for s in _TARGET_PREFERENCE if s in surf), surf[0])


def _density(parcellation, space: str, where: str) -> str:
    n = _n_vertices(parcellation.get_img(space))[0]
    density = _DENSITY.get(n)
    family = "fsLR" if space.lower().startswith("fslr") else "fsaverage"
    if density is None or density not in SURFACE_DENSITIES.get(family, ()):
        raise InputError(f"parcellation: space {space!r} of {parcellation.name!r} has {n} "
                         f"vertices per hemisphere; volumes in '{where}' can be projected to "
                         f"{SURFACE_DENSITIES} only. Use a volumetric parcellation or "
                         f"surface data.")
    return density


def project_volume_sources(sources: list, spaces: dict, parcellation, where: str,
                           method: str = "linear") -> tuple[list, dict, str | None]:
    """Project the volume sources whose parcellation space is a surface.

    Returns the new sources (projected volumes become surface pairs; the user's
    images are not modified), the new ``spaces`` (kind -> (data space, source,
    parcellation space)) and the description of the transform applied, e.g.
    ``"MNI152NLin6Asym -> fsLR 32k (registration fusion RF-ANTs, Wu et al. 2018,
    regfusion 0.1.0)"``, or ``"MNI152NLin2009cAsym (as MNI152NLin6Asym) -> ..."`` for a
    volume in another MNI152 space (None when none).
    """
    if "volume" not in spaces:
        return sources, spaces, None
    dspace, dsource, pspace = spaces["volume"]
    if pspace is None or not parcellation.is_surface(pspace):
        return sources, spaces, None
    if "surface" in spaces and spaces["surface"][2] != pspace:
        raise InputError(f"{where}: surface images in {spaces['surface'][2]!r} and volumes to "
                         f"project onto {pspace!r}; give the surface data in {pspace!r} or "
                         f"pass space= to choose one parcellation space.")
    density = _density(parcellation, pspace, where)
    fslr = pspace.lower().startswith("fslr")
    project = mni152_to_fslr if fslr else mni152_to_fsaverage
    desc = describe("fsLR" if fslr else "fsaverage", density, dspace)
    reason = ("has no volumetric space" if not _volumetric_spaces(parcellation)
              else f"is used in its surface space {pspace!r} as requested (space=)")
    logger.warning("'%s': the volumes are projected to the surface because parcellation %r "
                   "%s: %s, linear interpolation. Parcellate with a volumetric parcellation "
                   "to avoid the transform.", where, parcellation.name, reason, desc)
    out = []
    for s in sources:
        if s.kind == "volume":
            pair = project(s.img, density, method=method, space=dspace)
            out.append(_Source(pair, "surface", s.n_maps, s.name))
        else:
            out.append(s)
    spaces = {k: v for k, v in spaces.items() if k != "volume"}
    spaces["surface"] = (dspace, dsource, pspace)
    return out, spaces, desc


def _mesh_of(counts: tuple[int, int], data_space: str | None) -> tuple[str, str] | None:
    if counts[0] != counts[1] or counts[0] not in _DENSITY:
        return None
    density = _DENSITY[counts[0]]
    family = "fsLR" if density == "32k" else "fsaverage"
    if data_space is not None and data_space.lower().startswith(("fslr", "fsaverage")):
        family = "fsLR" if data_space.lower().startswith("fslr") else "fsaverage"
    return (family, density) if density in SURFACE_DENSITIES.get(family, ()) else None


def resample_surface_sources(sources: list, parcellation, data_space: str | None,
                             parc_space: str | None, where: str
                             ) -> tuple[list, str | None, str | None]:
    """Resample surface pairs whose mesh no surface space of ``parcellation`` has.

    fsaverage (164k, 10k) and fsLR 32k pairs are resampled to the parcellation's
    ``parc_space`` (if a surface space) or its space of the same family (fsaverage
    or fsLR), else its fsLR, else fsaverage, space with
    :func:`nispace.transforms.resample_surface` (area-weighted adaptive barycentric),
    with a WARNING. Other vertex counts are left for the parcellation step's error.

    Returns the new sources, the data space after resampling (``data_space`` when
    nothing was done) and the transform's description (None when none).
    """
    pairs = [s for s in sources if s.kind == "surface"]
    if not pairs or (parc_space is not None and parc_space in parcellation.spaces
                     and not parcellation.is_surface(parc_space)):
        # a volumetric space= for surface data: the space check raises the clear error
        return sources, data_space, None
    surf = [s for s in parcellation.spaces if parcellation.is_surface(s)]
    if parc_space is not None and parc_space in surf:
        surf = [parc_space]
    have = {s: _n_vertices(parcellation.get_img(s)) for s in surf}
    counts = {_n_vertices(s.img) for s in pairs}
    if len(counts) != 1 or not have:
        return sources, data_space, None
    counts = counts.pop()
    if counts in have.values() or counts[::-1] in have.values():
        return sources, data_space, None
    source = _mesh_of(counts, data_space)
    if source is None:
        return sources, data_space, None
    preference = (source[0],) + _TARGET_PREFERENCE  # same mesh family first
    target_space = next((s for s in preference if s in have), next(iter(have)))
    target = _mesh_of(have[target_space], target_space)
    if target is None:
        return sources, data_space, None
    desc = (f"{source[0]} {source[1]} -> {target[0]} {target[1]} (area-weighted adaptive "
            f"barycentric, HCP fs_LR-deformed_to-fsaverage spheres)")
    logger.warning("'%s': the surface data (%d vertices per hemisphere) are resampled to "
                   "space %r of parcellation %r: %s. Give data on the parcellation's mesh "
                   "to avoid the transform.", where, counts[0], target_space,
                   parcellation.name, desc)
    out = []
    for s in sources:
        if s.kind == "surface":
            pair = resample_surface(s.img, source, target)
            # no file name: its space- entity names the mesh before resampling
            out.append(_Source(pair, "surface", s.n_maps, None))
        else:
            out.append(s)
    new_space = target_space if data_space and is_surface_space(data_space) else data_space
    return out, new_space, desc
