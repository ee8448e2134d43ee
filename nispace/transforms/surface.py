"""Resampling surface maps between fsaverage and fsLR through the HCP spheres.

The spheres and vertex-area maps come from the nispace data repository
(``transform/fsLR-fsaverage/``, fetched and hash-verified by
:func:`nispace.datasets.fetch_file`; a sphere the manifest lacks is a data problem,
:class:`~nispace.datasets.DataFetchError`): the fsLR 32k sphere deformed to fsaverage and
the fsaverage standard spheres (164k, and fsaverage5 = 10k), so all meshes share
fsaverage's spherical coordinates.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import nibabel as nib
import numpy as np

from ..datasets.download import fetch_library_file
from ..errors import InputError, InputTypeError
from ..parcellation.formats import MESH_DENSITIES, arrays_to_gifti, gifti_columns
from ._sphere import adaptive_area_weights, apply_weights, label_mode
from .._docs import fill_doc

__all__ = ["SURFACE_DENSITIES", "resample_surface", "fsaverage_to_fslr", "fslr_to_fsaverage",
           "fsaverage_to_fsaverage"]

logger = logging.getLogger(__name__)

_ROOT = "transform/fsLR-fsaverage/"
#: (space, density) -> (sphere file, vertex-area file), ``{h}`` = L or R
_MESHES = {
    ("fsaverage", "164k"): ("fsaverage_std_sphere.{h}.164k_fsavg_{h}.surf.gii",
                            "fsaverage.{h}.midthickness_va_avg.164k_fsavg_{h}.shape.gii"),
    ("fsaverage", "10k"): ("fsaverage5_std_sphere.{h}.10k_fsavg_{h}.surf.gii",
                           "fsaverage5.{h}.midthickness_va_avg.10k_fsavg_{h}.shape.gii"),
    ("fsLR", "32k"): ("fs_LR-deformed_to-fsaverage.{h}.sphere.32k_fs_LR.surf.gii",
                      "fs_LR.{h}.midthickness_va_avg.32k_fs_LR.shape.gii"),
}
#: densities available per surface space
SURFACE_DENSITIES = {"fsaverage": ("164k", "10k"), "fsLR": ("32k",)}
_N_VERTICES = {mesh: n for n, mesh in MESH_DENSITIES.items() if mesh in _MESHES}
_METHODS = ("linear", "nearest")


def _check_mesh(space: str, density: str, argument: str) -> tuple[str, str]:
    if (space, density) not in _MESHES:
        have = [f"{s} {d}" for s, d in _MESHES]
        raise InputError(f"{argument}: expected one of {have}; got {space} {density}.")
    return space, density


def _mesh_files(space: str, density: str, hemi: str):
    """Verified local copies of a mesh's sphere and vertex areas (recorded in
    :func:`nispace.datasets.files_used` on every call, for provenance)."""
    return tuple(fetch_library_file(_ROOT + n.format(h=hemi)) for n in _MESHES[(space, density)])


@lru_cache(maxsize=8)
def _mesh(space: str, density: str, hemi: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sphere_path, area_path = _mesh_files(space, density, hemi)
    coords, faces = (np.asarray(a) for a in nib.load(sphere_path).agg_data(
        ("pointset", "triangle")))
    area = np.asarray(nib.load(area_path).agg_data(), dtype=np.float64)
    return coords, faces, area


@lru_cache(maxsize=8)
def _weights(source: tuple[str, str], target: tuple[str, str], hemi: str):
    s_coords, s_faces, s_area = _mesh(*source, hemi)
    t_coords, t_faces, _ = _mesh(*target, hemi)
    return adaptive_area_weights(s_coords, s_faces, t_coords, t_faces, s_area)


def _hemi_data(data: Any, argument: str) -> tuple[list[np.ndarray], bool]:
    """(L, R) pair of GIfTI images/paths or arrays -> two (n_vertices, n_maps) arrays, and
    whether the input arrays were 1D (both must agree)."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise InputTypeError(f"{argument}: expected an (L, R) pair of GIfTI files/images or "
                             f"arrays; got {type(data).__name__}.")
    if all(isinstance(item, np.ndarray) for item in data):
        if data[0].ndim != data[1].ndim:
            raise InputError(f"{argument}: expected arrays of the same shape kind for L and R; "
                             f"got {data[0].ndim}D and {data[1].ndim}D.")
        return [item.reshape(item.shape[0], -1) for item in data], data[0].ndim == 1
    if any(isinstance(item, np.ndarray) for item in data):
        raise InputTypeError(f"{argument}: expected two arrays or two GIfTI files/images; got "
                             f"{type(data[0]).__name__} and {type(data[1]).__name__}.")
    return [gifti_columns(item, argument) for item in data], False


def resample_surface(data: Any, source: tuple[str, str], target: tuple[str, str],
                     method: str = "linear", as_arrays: bool = False):
    """Resample an (L, R) surface map from one standard mesh to another.

    Parameters
    ----------
    data : (L, R) pair
        GIfTI files or images (each data array one map), or arrays of shape
        ``(n_vertices,)`` or ``(n_vertices, n_maps)``.
    source, target : (space, density)
        E.g. ``("fsaverage", "164k")``, ``("fsaverage", "10k")`` (fsaverage5),
        ``("fsLR", "32k")``.
    method : {"linear", "nearest"}
        ``"linear"``: area-weighted adaptive barycentric resampling for continuous
        maps (NaN sources are left out of each weighted mean). ``"nearest"``: for
        label maps, the label with the largest summed adaptive weight (weighted
        mode).
    as_arrays : bool
        Return arrays instead of GIfTI images.

    Returns
    -------
    tuple of two nibabel.GiftiImage (or arrays)
        Left and right hemisphere on the target mesh, ``(n_target_vertices,
        n_maps)`` (1D for 1D input arrays). Data are float64 (int32 for labels in
        GIfTI images). float64 is not a GIfTI data type ``nib.save`` accepts: write
        the images with ``img.to_filename(path, mode="compat")``, which stores them
        as float32.
    """
    source = _check_mesh(*source, "source")
    target = _check_mesh(*target, "target")
    if method not in _METHODS:
        raise InputError(f"method: expected one of {list(_METHODS)}; got {method!r}.")
    arrays, squeeze = _hemi_data(data, "data")
    out = []
    for hemi, arr in zip(("L", "R"), arrays):
        if arr.shape[0] != _N_VERTICES[source]:
            raise InputError(f"data: expected {_N_VERTICES[source]} vertices per hemisphere "
                             f"for {source[0]} {source[1]}; got {arr.shape[0]} "
                             f"(hemisphere {hemi}).")
        if source == target:
            res = arr.copy()
        else:
            for mesh in (source, target):
                _mesh_files(*mesh, hemi)  # the files are verified and recorded each time
            weights = _weights(source, target, hemi)
            if method == "nearest":
                res = np.column_stack([label_mode(weights, col) for col in arr.T])
            else:
                res = apply_weights(weights, arr)
        out.append(res)
    if as_arrays:
        return tuple(o[:, 0] if squeeze else o for o in out)
    return _gifti_pair(out, method == "nearest")


def _gifti_pair(arrays, labels: bool = False) -> tuple:
    """(L, R) GIfTI images of two ``(n_vertices, n_maps)`` arrays, as the public transforms
    return them: float64 data (saved with ``img.to_filename(path, mode="compat")``) or
    int32 labels."""
    return tuple(arrays_to_gifti(a, h, labels) for a, h in zip(arrays, ("L", "R")))


@fill_doc
def fsaverage_to_fslr(data: Any, target_density: str = "32k", method: str = "linear",
                      source_density: str = "164k", as_arrays: bool = False):
    """Resample an (L, R) fsaverage map to fsLR (see :func:`resample_surface`).

    Parameters
    ----------
    %(surface_data)s
    target_density : {"32k", "164k"}
        fsLR density (as the data source provides the meshes).
    %(surface_method)s
    source_density : {"164k", "10k"}
        ``"164k"`` (fsaverage) or ``"10k"`` (fsaverage5).
    %(as_arrays)s

    Returns
    -------
    %(surface_returns)s
    """
    return resample_surface(data, ("fsaverage", source_density), ("fsLR", target_density),
                            method, as_arrays)


@fill_doc
def fslr_to_fsaverage(data: Any, target_density: str = "164k", method: str = "linear",
                      source_density: str = "32k", as_arrays: bool = False):
    """Resample an (L, R) fsLR map to fsaverage or fsaverage5 (see :func:`resample_surface`).

    Parameters
    ----------
    %(surface_data)s
    target_density : {"164k", "10k"}
        ``"164k"`` (fsaverage) or ``"10k"`` (fsaverage5).
    %(surface_method)s
    source_density : {"32k", "164k"}
        fsLR density of ``data``.
    %(as_arrays)s

    Returns
    -------
    %(surface_returns)s
    """
    return resample_surface(data, ("fsLR", source_density), ("fsaverage", target_density),
                            method, as_arrays)


@fill_doc
def fsaverage_to_fsaverage(data: Any, target_density: str = "10k", method: str = "linear",
                           source_density: str = "164k", as_arrays: bool = False):
    """Resample between fsaverage densities (see :func:`resample_surface`).

    Parameters
    ----------
    %(surface_data)s
    target_density, source_density : {"164k", "10k"}
        ``"164k"`` (fsaverage) or ``"10k"`` (fsaverage5).
    %(surface_method)s
    %(as_arrays)s

    Returns
    -------
    %(surface_returns)s
    """
    return resample_surface(data, ("fsaverage", source_density),
                            ("fsaverage", target_density), method, as_arrays)
