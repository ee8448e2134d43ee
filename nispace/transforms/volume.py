"""Projecting MNI152 volumes to the fsaverage and fsLR surfaces by registration fusion.

The RF-ANTs MNI152 -> fsaverage mappings of Wu et al. (2018) ship in the ``regfusion``
package (PyPI; ``pip install "nispace[transforms]"``): for every fsaverage (164k)
vertex, the MNI152 coordinate it maps from. Only the mapping files are read (the
package is not imported), and the volume is sampled at those coordinates exactly as
``regfusion.vol_to_fsaverage`` does (linear or nearest interpolation on the voxel
grid, as ``scipy.interpolate.interpn``; outside the volume: NaN). The mappings were
built for FSL's MNI152 template (``MNI152NLin6Asym``).

References
----------
Wu J et al. (2018) Accurate nonlinear mapping between MNI volumetric and
FreeSurfer surface coordinate systems. Human Brain Mapping 39:3793-3808.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from ..errors import InputError, InputTypeError, StateError
from .surface import _gifti_pair, resample_surface
from .._docs import fill_doc

__all__ = ["regfusion_version", "mni152_to_fsaverage", "mni152_to_fslr", "describe"]

logger = logging.getLogger(__name__)

_METHODS = ("linear", "nearest")
_MAPPING = "{h}.avgMapping_allSub_RF_ANTs_MNI152_orig_to_fsaverage.txt"
#: the volumetric space the mappings were made for
MAPPING_SPACE = "MNI152NLin6Asym"


def regfusion_version() -> str:
    """Version of the installed ``regfusion`` package; raises StateError if missing."""
    try:
        return importlib.metadata.version("regfusion")
    except importlib.metadata.PackageNotFoundError:
        raise StateError("MNI152 -> surface projection needs the registration-fusion "
                         "mappings of the 'regfusion' package: pip install "
                         "'nispace[transforms]' (or pip install regfusion).") from None


def describe(target: str, density: str, source: str | None = None) -> str:
    """One-line description of the volume -> surface transform, for provenance.

    ``source``: the volume's space when known; a space other than the mappings'
    (``MNI152NLin6Asym``) is written ``"<source> (as MNI152NLin6Asym)"``.
    """
    space = MAPPING_SPACE if source in (None, MAPPING_SPACE) else \
        f"{source} (as {MAPPING_SPACE})"
    return (f"{space} -> {target} {density} (registration fusion RF-ANTs, "
            f"Wu et al. 2018, regfusion {regfusion_version()})")


@lru_cache(maxsize=2)
def _mapping(hemi: str) -> np.ndarray:
    regfusion_version()
    spec = importlib.util.find_spec("regfusion")
    folder = Path(next(iter(spec.submodule_search_locations))) / "mappings"
    path = folder / _MAPPING.format(h={"L": "lh", "R": "rh"}[hemi])
    ras = np.loadtxt(path)  # (3, 163842) MNI coordinates of the fsaverage vertices
    ras.setflags(write=False)
    return ras


def _load_volume(img: Any) -> nib.spatialimages.SpatialImage:
    if isinstance(img, (str, os.PathLike)):
        img = nib.load(os.fspath(img))
    if not isinstance(img, nib.spatialimages.SpatialImage) or len(img.shape) not in (3, 4):
        raise InputTypeError(f"img: expected a 3D or 4D NIfTI image or its path; got "
                             f"{type(img).__name__}.")
    return img


def project_volume(data: np.ndarray, affine: np.ndarray, method: str = "linear"
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Sample a volume array at the fsaverage 164k vertices' MNI152 coordinates.

    Parameters
    ----------
    data : ndarray, shape (X, Y, Z) or (X, Y, Z, n_maps)
    affine : ndarray, shape (4, 4)
    method : {"linear", "nearest"}

    Returns
    -------
    (lh, rh) : ndarrays of shape (163842, n_maps)
        NaN at vertices that map outside the volume.
    """
    if method not in _METHODS:
        raise InputError(f"method: expected one of {list(_METHODS)}; got {method!r}.")
    data = np.asarray(data)
    vols = data.reshape(data.shape[:3] + (-1,))
    grid = tuple(np.arange(n) for n in vols.shape[:3])
    inv = np.linalg.inv(np.asarray(affine, dtype=np.float64))
    # one interpolator over all maps (trailing axis), as interpn per map would give
    from scipy.interpolate import RegularGridInterpolator  # ~0.2 s: only when used

    sample = RegularGridInterpolator(grid, vols, method=method, bounds_error=False,
                                     fill_value=np.nan)
    out = []
    for hemi in ("L", "R"):
        ras = _mapping(hemi)
        vox = (inv[:3, :3] @ ras + inv[:3, [3]]).T
        out.append(np.asarray(sample(vox), dtype=np.float64).reshape(len(vox), -1))
    return out[0], out[1]


def _warn_space(space: str | None) -> None:
    if space is not None and space != MAPPING_SPACE:
        logger.warning("The volume is in '%s' but the registration-fusion mappings were made "
                       "for '%s'; projecting without a volumetric transform (MNI152 variants "
                       "differ by a few millimetres).", space, MAPPING_SPACE)


def mni152_to_fsaverage(img: Any, fsavg_density: str = "164k", method: str = "linear",
                        space: str | None = None, as_arrays: bool = False):
    """Project an MNI152 volume to fsaverage by registration fusion (Wu et al. 2018).

    Parameters
    ----------
    img : str, os.PathLike or nibabel image
        3D (one map) or 4D (one map per volume) NIfTI in MNI152 space.
    fsavg_density : {"164k", "10k"}
        fsaverage (164k) or fsaverage5 (10k; resampled from 164k, area-weighted).
    method : {"linear", "nearest"}
        Interpolation in the volume; ``"nearest"`` for label images (then the
        resampling to 10k takes the weighted mode).
    space : str, optional
        The volume's MNI152 variant; anything but ``MNI152NLin6Asym`` is projected
        as it is with a WARNING.
    as_arrays : bool
        Return ``(n_vertices, n_maps)`` arrays instead of GIfTI images.

    Returns
    -------
    tuple of two nibabel.GiftiImage (or arrays)
        Left and right hemisphere, ``(n_vertices, n_maps)`` float64 arrays, or GIfTI
        images with one float64 data array per map (int32 for ``method="nearest"``).
        float64 is not a GIfTI data type ``nib.save`` accepts: write the images with
        ``img.to_filename(path, mode="compat")``, which stores them as float32.
    """
    vol = _load_volume(img)
    _warn_space(space)
    lh, rh = project_volume(vol.get_fdata(dtype=np.float64), vol.affine, method)
    if fsavg_density != "164k":
        return resample_surface((lh, rh), ("fsaverage", "164k"), ("fsaverage", fsavg_density),
                                method, as_arrays)
    if as_arrays:
        return lh, rh
    return _gifti_pair((lh, rh), method == "nearest")


@fill_doc
def mni152_to_fslr(img: Any, fslr_density: str = "32k", method: str = "linear",
                   space: str | None = None, as_arrays: bool = False):
    """Project an MNI152 volume to fsLR.

    Registration fusion to fsaverage 164k (see :func:`mni152_to_fsaverage`), then
    area-weighted adaptive barycentric resampling through the HCP fsLR-to-fsaverage
    sphere.

    Parameters
    ----------
    img : str, os.PathLike or nibabel image
        3D (one map) or 4D (one map per volume) NIfTI in MNI152 space.
    fslr_density : {"32k", "164k"}
        fsLR density.
    method : {"linear", "nearest"}
        Interpolation in the volume; ``"nearest"`` for label images (then the
        resampling to fsLR takes the weighted mode).
    space : str, optional
        The volume's MNI152 variant; anything but ``MNI152NLin6Asym`` is projected
        as it is with a WARNING.
    %(as_arrays)s

    Returns
    -------
    %(surface_returns)s
    """
    pair = mni152_to_fsaverage(img, "164k", method, space, as_arrays=True)
    return resample_surface(pair, ("fsaverage", "164k"), ("fsLR", fslr_density), method,
                            as_arrays)
