"""Parcellating brain maps: from voxels or vertices to one value per parcel.

Two layers:

* :func:`parcellate_array` is the pure core: maps as rows of an array, one label per
  column, one vectorised reduction per strategy (``np.bincount`` for mean, sum and
  std; one sort by parcel for median, min and max). No I/O, no logging.
* :func:`parcellate_images` loads NIfTI volumes and (L, R) GIfTI pairs, brings
  each image and the :class:`~nispace.parcellation.Parcellation` onto one grid
  (the label image is resampled once per distinct image grid), decides which
  points are background, and calls the core once per grid for all maps that
  share it.

Array convention: maps are rows, ``(n_maps, n_parcels)``, as everywhere in nispace.
"""

from __future__ import annotations

import inspect
import logging
import numbers
import re
import warnings
import zlib
from dataclasses import dataclass
from typing import Any, Iterable

import nibabel as nib
import numpy as np

from .._errors import check_option
from .._logging import verbose_context
from ..errors import DataError, InputError, InputTypeError
from ..parcellation.formats import gifti_columns
from .images import (
    is_gifti_like,
    is_image_like,
    is_path,
    load_img,
    strip_image_extension,
)

logger = logging.getLogger(__name__)

#: reductions available in :func:`parcellate_array`
STRATEGIES = ("mean", "median", "sum", "min", "max", "std")
#: where volumes and labels meet (as in NiSpace / neuromaps)
RESAMPLING_TARGETS = ("data", "parcellation", None)
#: interpolation of images resampled onto the parcellation grid
INTERPOLATIONS = ("linear", "continuous")
#: at most this many values (maps x points) are reduced at once (~64 MB as float64)
_CHUNK_VALUES = 2 ** 23
#: relative tolerance for background values given by the user (int maps with scl_slope)
_BACKGROUND_RTOL = 1e-6
#: library parcellations to suggest when a parcellation has no MNI space
_MNI_EXAMPLES = "'Schaefer200', 'Schaefer400TianS1' or 'DesikanKilliany'"


# ======================================================================================
# pure core

def _check_min_valid(min_valid) -> tuple[str, float]:
    """Validate ``min_valid``: ``("count", n)`` for an int, ``("fraction", f)`` for a float."""
    if isinstance(min_valid, (bool, np.bool_)) or not isinstance(min_valid, numbers.Real):
        raise InputTypeError(f"min_valid: expected an int >= 1 (number of points) or a float in "
                             f"(0, 1] (fraction of the parcel); got {min_valid!r}.")
    if isinstance(min_valid, numbers.Integral):
        if min_valid < 1:
            raise InputError(f"min_valid: expected an int >= 1 (number of points) or a float "
                             f"in (0, 1] (fraction of the parcel); got {min_valid!r}.")
        return "count", float(min_valid)
    if not 0 < float(min_valid) <= 1:
        raise InputError(f"min_valid: a float is a fraction of the parcel's points and must "
                         f"be in (0, 1]; got {min_valid!r}. Pass an int for a number of "
                         f"points.")
    return "fraction", float(min_valid)


def _label_positions(labels: np.ndarray, label_values: np.ndarray) -> np.ndarray:
    """Parcel index (0-based position in ``label_values``) of every point; -1 elsewhere."""
    labels = np.asarray(labels)
    n = len(label_values)
    if n == 0:
        return np.full(labels.shape, -1, dtype=np.intp)
    lo, hi = int(label_values.min()), int(label_values.max())
    if lo >= 0 and hi <= max(4 * n, 65536):
        # small label range: a look-up table is one gather
        lut = np.full(hi + 2, -1, dtype=np.intp)
        lut[label_values] = np.arange(n)
        idx = np.where((labels >= 0) & (labels <= hi), labels, hi + 1)
        return lut[idx]
    order = np.argsort(label_values)
    sorted_values = label_values[order]
    idx = np.clip(np.searchsorted(sorted_values, labels), 0, n - 1)
    return np.where(sorted_values[idx] == labels, order[idx], -1)


def _reduce(x: np.ndarray, p: np.ndarray, n_parcels: int, strategy: str,
            ok: np.ndarray | None, min_valid: tuple[str, float]) -> np.ndarray:
    """Reduce ``x`` (n_maps, n_points) over parcels ``p`` (n_points,), all ``p`` valid.

    ``ok`` marks the points to use (finite values are required in any case).
    Returns (n_maps, n_parcels) float64; NaN where a parcel has too few valid points.
    """
    n_maps, n_points = x.shape
    out = np.full((n_maps, n_parcels), np.nan)
    if n_maps == 0 or n_points == 0:
        return out
    n_total = np.bincount(p, minlength=n_parcels)
    finite = np.isfinite(x)
    ok = finite if ok is None else (ok & finite)
    all_ok = bool(ok.all())

    # flat (map, parcel) bin of every value: one bincount serves all maps
    flat = (np.arange(n_maps, dtype=np.intp)[:, None] * n_parcels + p[None, :]).ravel()
    size = n_maps * n_parcels
    if all_ok:
        flat_ok = flat
        count = np.broadcast_to(n_total, (n_maps, n_parcels)).astype(np.float64)
    else:
        okf = ok.ravel()
        flat_ok = flat[okf]
        count = np.bincount(flat_ok, minlength=size).reshape(n_maps, n_parcels).astype(float)
    has = count > 0

    if strategy in ("mean", "sum", "std"):
        xv = x.ravel() if all_ok else x.ravel()[okf]
        # float64 also when no point is valid (an empty bincount is int64)
        sums = np.bincount(flat_ok, weights=xv, minlength=size).reshape(
            n_maps, n_parcels).astype(np.float64, copy=False)
        if strategy == "sum":
            out[has] = sums[has]
        else:
            mean = np.divide(sums, count, out=np.full_like(sums, np.nan), where=has)
            if strategy == "mean":
                out = mean
            else:  # population standard deviation (ddof=0), two-pass for accuracy
                dev = x - mean[:, p]
                dv = dev.ravel() if all_ok else dev.ravel()[okf]
                ss = np.bincount(flat_ok, weights=dv * dv, minlength=size)
                ss = ss.reshape(n_maps, n_parcels).astype(np.float64, copy=False)
                out = np.sqrt(np.divide(ss, count, out=np.full_like(ss, np.nan), where=has))
    else:
        # group the points by parcel once; invalid values become NaN
        perm = np.argsort(p, kind="stable")
        ps = p[perm]
        xs = x[:, perm].astype(np.float64, copy=True)
        if not all_ok:
            xs[~ok[:, perm]] = np.nan
        starts = np.concatenate([[0], np.cumsum(n_total)[:-1]])
        present = np.flatnonzero(n_total > 0)
        if strategy in ("min", "max"):
            ufunc = np.fmin if strategy == "min" else np.fmax  # fmin/fmax skip NaN
            out[:, present] = ufunc.reduceat(xs, starts[present], axis=1)
        else:  # median: sort each row by value, then stably by parcel
            by_value = np.argsort(xs, axis=1, kind="stable")  # NaN last
            by_parcel = np.argsort(ps[by_value], axis=1, kind="stable")
            sv = np.take_along_axis(xs, np.take_along_axis(by_value, by_parcel, axis=1), 1)
            c = count.astype(np.intp)
            lo = np.clip(starts[None, :] + (c - 1) // 2, 0, n_points - 1)
            hi = np.clip(starts[None, :] + c // 2, 0, n_points - 1)
            out = 0.5 * (np.take_along_axis(sv, lo, 1) + np.take_along_axis(sv, hi, 1))

    kind, value = min_valid
    need = value if kind == "count" else value * n_total[None, :]
    out[(count < need) | ~has] = np.nan
    return out


def parcellate_array(data: np.ndarray, labels: np.ndarray, label_values: np.ndarray,
                     strategy: str = "mean", valid: np.ndarray | None = None,
                     min_valid: int | float = 1) -> np.ndarray:
    """Reduce maps to one value per parcel.

    Parameters
    ----------
    data : numpy.ndarray, shape (n_maps, n_points)
        Maps as rows; points are voxels or vertices. A 1D array is one map.
    labels : numpy.ndarray of int, shape (n_points,)
        Label value of every point. Points whose label is not in
        ``label_values`` (background, usually 0) are ignored.
    label_values : numpy.ndarray of int, shape (n_parcels,)
        Label value of each parcel, in output order (need not be sorted).
    strategy : {"mean", "median", "sum", "min", "max", "std"}
        Reduction over the valid points of a parcel. ``"std"`` is the population
        standard deviation (``ddof=0``, as :func:`numpy.std` and
        :func:`scipy.ndimage.standard_deviation`).
    valid : numpy.ndarray of bool, shape (n_maps, n_points) or (n_points,), optional
        Points to use (e.g. not background). Non-finite values are never used.
    min_valid : int or float
        Minimum number (int >= 1) or fraction of the parcel's points (float in
        (0, 1]) that must be valid; otherwise the parcel is NaN for that map.
        Note that ``1`` (one point) and ``1.0`` (all points) differ.

    Returns
    -------
    numpy.ndarray, shape (n_maps, n_parcels)
        float64; NaN where a parcel has no or too few valid points.

    Notes
    -----
    Mean, sum and std use :func:`numpy.bincount` over all maps at once; median,
    min and max sort the points by parcel once (``np.fmin.reduceat`` for min and
    max, a per-row sort for the median). There is no loop over parcels.

    Examples
    --------
    >>> import numpy as np
    >>> data = np.array([[1.0, 2.0, 3.0, 10.0, np.nan]])
    >>> parcellate_array(data, np.array([1, 1, 2, 2, 2]), np.array([1, 2]))
    array([[1.5, 6.5]])
    """
    check_option("strategy", strategy, STRATEGIES)
    mv = _check_min_valid(min_valid)
    data = np.asarray(data)
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2:
        raise InputError(f"data: expected a 2D array (n_maps, n_points); got a {data.ndim}D "
                         f"array of shape {data.shape}.")
    if not (np.issubdtype(data.dtype, np.number) or data.dtype == bool):
        raise InputTypeError(f"data: expected numbers; got an array of dtype {data.dtype}.")
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != data.shape[1]:
        raise InputError(f"labels: expected a 1D array with one label per point "
                         f"({data.shape[1]}); got shape {labels.shape}.")
    labels = _as_int(labels, "labels")
    label_values = _as_int(np.atleast_1d(np.asarray(label_values)), "label_values")
    if label_values.ndim != 1:
        raise InputError(f"label_values: expected a 1D array; got shape {label_values.shape}.")
    uniq, counts = np.unique(label_values, return_counts=True)
    if (counts > 1).any():
        raise InputError(f"label_values: expected unique values; {uniq[counts > 1][:5].tolist()} "
                         f"occur more than once.")
    if valid is not None:
        valid = np.asarray(valid)
        if valid.dtype != bool:
            raise InputTypeError(f"valid: expected a boolean array; got dtype {valid.dtype}.")
        if valid.shape not in (data.shape, (data.shape[1],)):
            raise InputError(f"valid: expected shape {data.shape} or ({data.shape[1]},) like "
                             f"data; got {valid.shape}.")
    pos = _label_positions(labels, label_values)
    sel = np.flatnonzero(pos >= 0)
    ok = None
    if valid is not None:
        ok = np.broadcast_to(valid, data.shape)[:, sel]
    return _reduce(data[:, sel].astype(np.float64, copy=False), pos[sel], len(label_values),
                   strategy, ok, mv)


def _as_int(arr: np.ndarray, name: str) -> np.ndarray:
    if np.issubdtype(arr.dtype, np.integer):
        return arr
    if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) \
            and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)
    raise InputTypeError(f"{name}: expected integer label values; got dtype {arr.dtype}"
                         f"{' with non-integer values' if arr.dtype.kind == 'f' else ''}.")


# ======================================================================================
# background

@dataclass(frozen=True)
class _Background:
    """Which values of a map are background (internal)."""

    auto: bool = False
    values: tuple[float, ...] = ()

    def describe(self) -> str:
        parts = (["auto (constant border value, zeros)"] if self.auto else []) + \
            [repr(v) for v in self.values]
        return ", ".join(parts + ["NaN"])


def _parse_background(background) -> _Background:
    msg = ("background: expected 'auto', a number, a list of numbers (may include 'auto'), "
           "or None/False; got {!r}.")
    if background is None or background is False:
        return _Background()
    if isinstance(background, str):
        if background != "auto":
            raise InputError(msg.format(background) + " Did you mean 'auto'?")
        return _Background(auto=True)
    if isinstance(background, (bool, np.bool_)):
        raise InputError(msg.format(background))
    if isinstance(background, numbers.Real):
        return _Background(values=(float(background),))
    if isinstance(background, (list, tuple, np.ndarray)):
        auto, values = False, []
        for b in background:
            if isinstance(b, str) and b == "auto":
                auto = True
            elif isinstance(b, numbers.Real) and not isinstance(b, (bool, np.bool_)):
                values.append(float(b))
            else:
                raise InputError(msg.format(background))
        return _Background(auto=auto, values=tuple(values))
    raise InputError(msg.format(background))


def border_background(volume: np.ndarray) -> float | None:
    """The constant border value of a volume, or None.

    The most frequent finite value among the 8 corner voxels counts as background
    when it fills more than half of the volume (0 for most maps; a constant offset
    such as -0.003 for maps stored as integers with a scale factor).

    Parameters
    ----------
    volume : numpy.ndarray, 3D

    Returns
    -------
    float or None
    """
    if volume.ndim != 3 or volume.size == 0:
        return None
    corners = volume[np.ix_(*[[0, s - 1] for s in volume.shape])].ravel()
    corners = corners[np.isfinite(corners)]
    if corners.size == 0:
        return None
    vals, counts = np.unique(corners, return_counts=True)
    candidate = vals[np.argmax(counts)]
    if np.count_nonzero(volume == candidate) > 0.5 * volume.size:
        return float(candidate)
    return None


def _background_mask(x: np.ndarray, rule: _Background, border: float | None,
                     surface: bool = False) -> np.ndarray:
    """True where ``x`` is a usable (finite, non-background) value."""
    ok = np.isfinite(x)
    if rule.auto:
        ok &= x != 0
        if border is not None and border != 0 and not surface:
            ok &= x != border
    for b in rule.values:
        if b == 0:
            ok &= x != 0
        else:
            ok &= np.abs(x - b) > _BACKGROUND_RTOL * abs(b)
    return ok


# ======================================================================================
# image sources

@dataclass
class _Source:
    """One input image (internal): a volume (3D/4D) or an (L, R) GIfTI pair."""

    img: Any
    kind: str  # "volume" | "surface"
    n_maps: int
    name: str | None  # file name without extension, if loaded from a path


def _collect_images(images, argument: str = "images") -> list[_Source]:
    """Load the images of a call into :class:`_Source` objects (internal).

    A single image, an (L, R) GIfTI pair, or a list/tuple of images and pairs.
    """
    if is_image_like(images):
        items, single = [images], True
    elif isinstance(images, (list, tuple)):
        if len(images) == 0:
            raise InputError(f"{argument}: expected at least one image; got an empty "
                             f"{type(images).__name__}.")
        items, single = list(images), False
    elif is_gifti_like(images):
        raise InputError(f"{argument}: got a single GIfTI hemisphere; surface data must be "
                         f"given as an (L, R) pair of files or images.")
    else:
        raise InputTypeError(f"{argument}: expected a NIfTI path or image, an (L, R) pair of GIfTI "
                             f"files/images, or a list of them; got {type(images).__name__}.")
    sources = []
    for i, item in enumerate(items):
        where = argument if single else f"{argument}[{i}]"
        if not is_image_like(item):
            if is_gifti_like(item):
                raise InputError(f"{where}: got a single GIfTI hemisphere; surface data must "
                                 f"be given as an (L, R) pair (a tuple) of files or images.")
            raise InputTypeError(f"{where}: expected a NIfTI path or image or an (L, R) pair of "
                                 f"GIfTI files/images; got {type(item).__name__}.")
        try:
            img = load_img(item)
        except (ValueError, TypeError, FileNotFoundError) as exc:
            raise type(exc)(str(exc).replace("img:", f"{where}:", 1)) from exc
        name = None
        if is_path(item):
            name = strip_image_extension(item)
        elif isinstance(item, (tuple, list)) and is_path(item[0]):
            name = _strip_hemi(strip_image_extension(item[0]))
        if isinstance(img, tuple):
            sources.append(_Source(img, "surface", _surface_n_maps(img, where), name))
        else:
            shape = img.shape
            if len(shape) == 3:
                n = 1
            elif len(shape) == 4:
                n = shape[3]
            else:
                raise InputError(f"{where}: expected a 3D or 4D image; got a {len(shape)}D "
                                 f"image of shape {shape}.")
            if n == 0:
                raise DataError(f"{where}: the 4D image holds no volumes (shape {shape}).")
            sources.append(_Source(img, "volume", n, name))
    return sources


_HEMI_TAG = re.compile(r"(_hemi-L(?=_|$)|^hemi-L_|^lh\.|[._](L|lh)$)", re.IGNORECASE)


def _strip_hemi(name: str) -> str:
    """Map name from a left-hemisphere file name: drop ``hemi-L``, ``lh.``, ``.L``, ``_lh``.

    >>> _strip_hemi("sub-01_hemi-L_thickness"), _strip_hemi("lh.thickness")
    ('sub-01_thickness', 'thickness')
    """
    return _HEMI_TAG.sub("", name, count=1) or name


def _surface_n_maps(pair: tuple, where: str) -> int:
    n = [sum(int(np.prod(np.asarray(d.data).shape[1:], dtype=int)) for d in g.darrays)
         for g in pair]
    if n[0] != n[1]:
        raise InputError(f"{where}: the left hemisphere holds {n[0]} map(s), the right "
                         f"{n[1]}; expected the same number.")
    return n[0]


def _n_vertices(pair: tuple) -> tuple[int, int]:
    return tuple(int(np.asarray(g.darrays[0].data).shape[0]) for g in pair)


# ======================================================================================
# space selection

def _volume_space(parcellation, space: str | None) -> str:
    volumetric = [s for s in parcellation.spaces if not parcellation.is_surface(s)]
    if not volumetric:
        raise InputError(
            f"images: the images are volumes but parcellation {parcellation.name!r} has only "
            f"surface spaces ({parcellation.spaces}); parcellate_images does not project "
            f"volumes to surfaces: use nispace.io.read_input or NiSpace (they project MNI152 "
            f"volumes by registration fusion, with a WARNING), project first with "
            f"nispace.transforms.mni152_to_fslr, or use a parcellation with an MNI space "
            f"such as {_MNI_EXAMPLES}.")
    if space is not None:
        check_option("space", space, parcellation.spaces)
        if parcellation.is_surface(space):
            raise InputError(
                f"space: {space!r} is a surface space but the images are volumes; "
                f"parcellate_images does not project volumes to surfaces (nispace.io.read_input "
                f"and NiSpace do). Use one of the MNI spaces of this parcellation: "
                f"{volumetric}.")
        return space
    active = parcellation.active_space
    chosen = active if active in volumetric else volumetric[0]
    if len(volumetric) > 1:
        logger.info("Volumes are parcellated in space '%s' (pass space= if your images are in "
                    "%s).", chosen, [s for s in volumetric if s != chosen])
    return chosen


def _surface_space(parcellation, space: str | None, counts: tuple[int, int]) -> str:
    surf = [s for s in parcellation.spaces if parcellation.is_surface(s)]
    if not surf:
        raise InputError(
            f"images: the images are (L, R) surface pairs but parcellation "
            f"{parcellation.name!r} has only volumetric spaces ({parcellation.spaces}); "
            f"projection from surface to volume is not supported. Use a parcellation with a "
            f"surface space (fsaverage, fsLR) such as 'Schaefer200', or volumetric data.")
    if space is not None:
        check_option("space", space, parcellation.spaces)
        if not parcellation.is_surface(space):
            raise InputError(f"space: {space!r} is a volumetric space but the images are "
                             f"(L, R) surface pairs; use one of {surf}.")
        candidates = [space]
    else:
        candidates = surf
    expected = {s: _n_vertices(parcellation.get_img(s)) for s in candidates}
    for s, exp in expected.items():
        if exp == counts:
            return s
    for s, exp in expected.items():
        if exp == counts[::-1] and exp[0] != exp[1]:
            raise InputError(f"images: the hemispheres look swapped: the pair has "
                             f"{counts[0]} (L) and {counts[1]} (R) vertices but space {s!r} of "
                             f"the parcellation has {exp[0]} (L) and {exp[1]} (R). Pass the "
                             f"pair as (L, R).")
    desc = ", ".join(f"{s}: {e[0]} + {e[1]}" for s, e in expected.items())
    raise InputError(f"images: expected surface data with the vertex counts of the "
                     f"parcellation's surface space(s) ({desc} vertices per hemisphere; "
                     f"fsaverage 10k = 10242, fsLR 32k = 32492); got {counts[0]} + "
                     f"{counts[1]}. Resample your data to one of these meshes first.")


# ======================================================================================
# grids and resampling

def _grid_key(img) -> tuple:
    return tuple(img.shape[:3]), np.round(np.asarray(img.affine, dtype=np.float64), 5).tobytes()


def _same_grid(shape_a, affine_a, shape_b, affine_b) -> bool:
    return tuple(shape_a[:3]) == tuple(shape_b[:3]) and np.allclose(affine_a, affine_b,
                                                                    atol=1e-5, rtol=0)


def _resample(img, target_affine, target_shape, interpolation: str):
    """nilearn's resampling with the settings of ``nilearn.image.resample_to_img``.

    ``clip=False`` as in ``resample_to_img`` (spline over- and undershoots are
    kept); ``force_resample`` / ``copy_header`` are passed where nilearn has them.
    """
    from nilearn.image import resample_img
    from nilearn.image.resampling import BoundingBoxError

    kwargs = {}
    params = inspect.signature(resample_img).parameters
    if "force_resample" in params:
        kwargs["force_resample"] = True
    if "copy_header" in params:
        kwargs["copy_header"] = True
    with warnings.catch_warnings():
        # maps of 0/1 values are legitimate data here (the parcel mean is a fraction)
        warnings.filterwarnings("ignore", message="Resampling binary images")
        try:
            return resample_img(img, target_affine=np.asarray(target_affine),
                                target_shape=tuple(int(v) for v in target_shape),
                                interpolation=interpolation, clip=False, **kwargs)
        except BoundingBoxError as exc:  # the grids do not overlap
            raise DataError(f"images: the image and the parcellation do not overlap "
                            f"({exc}); are they in the same space (data_space= / space=)?"
                            ) from exc


def _crop_to_labels(label_data: np.ndarray, affine: np.ndarray, label_values: np.ndarray):
    """Bounding box of the parcels: (cropped labels, affine of the crop, slices).

    Resampling an image onto the crop gives the same values as onto the full grid
    (every output voxel is interpolated independently) in a fraction of the time.
    """
    inside = np.isin(label_data, label_values)
    if not inside.any():
        return label_data, affine, (slice(None),) * 3
    box = [np.flatnonzero(inside.any(axis=tuple(a for a in range(3) if a != ax)))
           for ax in range(3)]
    block = tuple(slice(int(b[0]), int(b[-1]) + 1) for b in box)
    shift = np.eye(4)
    shift[:3, 3] = [b.start for b in block]
    return label_data[block], np.asarray(affine) @ shift, block


def _volume_array(img, dtype) -> np.ndarray:
    """The data of a volume: read and scaled as ``dtype`` from disk, else not copied."""
    obj = img.dataobj
    if not nib.is_proxy(obj):
        return np.asarray(obj)
    try:
        return np.asarray(obj, dtype=dtype)
    except (EOFError, OSError, ValueError, zlib.error) as exc:  # truncated or corrupt file
        path = img.get_filename() if hasattr(img, "get_filename") else None
        raise DataError(f"images: could not read the data of {path or 'an image'!r}: the "
                        f"file is truncated or corrupt ({type(exc).__name__}: {exc}). "
                        f"Download or write it again.") from exc


def _source_label(source: _Source, index: int) -> str:
    """How a source is named in messages: its file, else its position."""
    img = source.img[0] if isinstance(source.img, tuple) else source.img
    path = img.get_filename() if hasattr(img, "get_filename") else None
    return f"{source.name!r} ({path})" if path else (
        repr(source.name) if source.name else f"image {index}")


def _why_empty(values: np.ndarray) -> str:
    """Why a map has no usable value in any parcel (values: all its points)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return "all its values are NaN or infinite"
    if np.all(finite == 0):
        return "all its values are zero (background)"
    if np.all(finite == finite[0]):
        return (f"it is constant ({float(finite[0]):g} everywhere), so every value is taken "
                f"as background")
    return ("none of its non-background values falls inside a parcel: is the image in the "
            "space of the parcellation (data_space= / space=)?")


def _check_empty_maps(out: np.ndarray, sources: list[_Source], offsets, space: str) -> None:
    """DataError naming every map (and file) that parcellated to NaN in all parcels."""
    empty = np.flatnonzero(np.isnan(out).all(axis=1))
    if empty.size == 0:
        return
    problems = []
    for row in empty[:5]:
        i = int(np.searchsorted(offsets, row, side="right") - 1)
        src, t = sources[i], int(row - offsets[i])
        if src.kind == "surface":
            vals = np.concatenate([gifti_columns(h) for h in src.img], axis=0)[:, t]
        else:
            arr = _volume_array(src.img, np.float64)
            vals = arr if arr.ndim == 3 else arr[..., t]
        label = _source_label(src, i) + (f", volume {t}" if src.n_maps > 1 else "")
        problems.append(f"{label}: {_why_empty(np.asarray(vals, dtype=float).ravel())}")
    more = f" (and {empty.size - 5} more)" if empty.size > 5 else ""
    raise DataError(f"images: {empty.size} map(s) have no valid value in any parcel of "
                    f"space {space!r}{more}: " + "; ".join(problems) + ".")


def _volumes(arr: np.ndarray) -> Iterable[np.ndarray]:
    if arr.ndim == 3:
        yield arr
    else:
        for t in range(arr.shape[3]):
            yield arr[..., t]


def _ravel_f(vol: np.ndarray) -> np.ndarray:
    return vol.reshape(-1, order="F")


# ======================================================================================
# public: images

def parcellate_images(images, parcellation, space: str | None = None, strategy: str = "mean",
                      background: str | float | list | None = "auto",
                      min_valid: int | float = 1, resampling_target: str | None = "data",
                      dtype=np.float64, interpolation: str = "linear",
                      return_nan_parcels: bool = False,
                      verbose: bool | str | int | None = None):
    """Parcellate volumes (NIfTI) or surface maps ((L, R) GIfTI pairs).

    Parameters
    ----------
    images : path, nibabel image, (L, R) GIfTI pair, or a list of them
        3D NIfTI = one map, 4D NIfTI = one map per volume, GIfTI pair = one map
        per data array. Volumes may have any resolution and affine.
    parcellation : Parcellation
        e.g. from :func:`nispace.datasets.fetch_parcellation`.
    space : str, optional
        Space of the parcellation to use. Volumes: default the active space if
        it is volumetric, else the first MNI space (pass the space of your
        images, e.g. ``"MNI152NLin6Asym"``, when the parcellation has several).
        Surfaces: default the surface space whose vertex counts match the data
        (fsaverage 10k: 10242, fsLR 32k: 32492 per hemisphere).
    strategy : {"mean", "median", "sum", "min", "max", "std"}
        Reduction per parcel (see :func:`parcellate_array`).
    background : "auto", number, list of numbers, or None/False
        Values excluded before reducing, per map. NaN is always excluded.
        ``"auto"``: exact zeros and, for volumes, the constant border value (the
        corner voxels' value when it fills more than half of the volume). A
        number or list: those values (relative tolerance 1e-6, so values
        scaled from integers match); may include ``"auto"``. None/False: only NaN.
    min_valid : int or float
        Minimum number (int) or fraction (float in (0, 1]) of valid points per
        parcel, else NaN (see :func:`parcellate_array`).
    resampling_target : {"data", "parcellation", None}
        Volumes only. ``"data"``: the labels are resampled onto each image's grid
        (nearest neighbour, once per distinct grid), as nilearn's
        ``NiftiLabelsMasker`` does by default. ``"parcellation"``: each image is
        resampled onto the label grid (cropped to the parcels' bounding box) with
        ``interpolation``; background points are set to 0 before, and the
        valid-point mask, resampled with nearest neighbour, marks the usable
        voxels, so background and voxels outside the image's field of view never
        enter a parcel (with ``"auto"``, resampled values of exactly 0 are
        excluded too). None: the grids must match.
    dtype : numpy dtype
        Precision in which data are read and of the result (default float64).
    interpolation : {"linear", "continuous"}
        For ``resampling_target="parcellation"``: linear (as neuromaps and NiSpace)
        or 3rd-order spline interpolation, with the settings of
        :func:`nilearn.image.resample_to_img` (no clipping of spline overshoots).
    return_nan_parcels : bool
        Also return the labels of the parcels that are NaN in at least one map.
    verbose : bool, str, int or None
        Logging level for this call (None follows :func:`nispace.set_verbosity`).

    Returns
    -------
    values : numpy.ndarray, shape (n_maps, n_parcels)
        Maps in input order (volumes of a 4D image in order); parcels in the
        order of ``parcellation.get_labels(space)``.
    nan_parcels : list of str
        Only with ``return_nan_parcels=True``.

    Notes
    -----
    One warning names the parcels that came out NaN (no points on the data grid
    after resampling, or fewer than ``min_valid`` valid points).

    Images that share a grid are reduced together in one vectorised call; with
    ``resampling_target="data"`` the parcellation is resampled once per grid
    (cached for the call).

    Examples
    --------
    >>> from nispace.datasets import fetch_parcellation, fetch_reference
    >>> parc = fetch_parcellation("Schaefer200")                     # doctest: +SKIP
    >>> maps = fetch_reference("pet", space="MNI152NLin6Asym")       # doctest: +SKIP
    >>> values = parcellate_images(maps, parc, space="MNI152NLin6Asym")  # doctest: +SKIP
    >>> values.shape                                                 # doctest: +SKIP
    (28, 200)
    """
    with verbose_context(verbose):
        sources = _collect_images(images)
        values, nan_parcels = _parcellate_sources(
            sources, parcellation, space=space, strategy=strategy, background=background,
            min_valid=min_valid, resampling_target=resampling_target, dtype=dtype,
            interpolation=interpolation)
    if return_nan_parcels:
        return values, nan_parcels
    return values


def _parcellate_sources(sources: list[_Source], parcellation, space=None, strategy="mean",
                       background="auto", min_valid=1, resampling_target="data",
                       dtype=np.float64, interpolation="linear"):
    """Parcellate collected sources (internal; see :func:`parcellate_images`)."""
    check_option("strategy", strategy, STRATEGIES)
    check_option("resampling_target", resampling_target, RESAMPLING_TARGETS)
    check_option("interpolation", interpolation, INTERPOLATIONS)
    mv = _check_min_valid(min_valid)
    rule = _parse_background(background)
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise InputError(f"dtype: expected a floating-point dtype; got {dtype}.")
    if not hasattr(parcellation, "get_label_values"):
        raise InputTypeError(f"parcellation: expected a nispace Parcellation (see "
                             f"nispace.datasets.fetch_parcellation); got "
                             f"{type(parcellation).__name__}.")
    kinds = {s.kind for s in sources}
    if len(kinds) > 1:
        raise InputError("images: got both volumes and (L, R) surface pairs; parcellate them "
                         "in separate calls.")
    kind = kinds.pop()
    n_maps = sum(s.n_maps for s in sources)
    if kind == "surface":
        counts = {_n_vertices(s.img) for s in sources}
        if len(counts) > 1:
            raise InputError(f"images: the surface pairs have different vertex counts "
                             f"{sorted(counts)}; parcellate them in separate calls.")
        space = _surface_space(parcellation, space, counts.pop())
    else:
        space = _volume_space(parcellation, space)
    label_values = np.asarray(parcellation.get_label_values(space))
    names = parcellation.get_labels(space)
    n_parcels = len(label_values)
    logger.info("Parcellating %d map(s) from %d image(s) with parcellation '%s' (%d parcels) "
                "in space '%s': strategy=%s, background=%s, min_valid=%s%s.", n_maps,
                len(sources), parcellation.name, n_parcels, space, strategy, rule.describe(),
                min_valid, "" if kind == "surface" else
                f", resampling_target={resampling_target!r}")

    out = np.full((n_maps, n_parcels), np.nan, dtype=np.float64)
    offsets = np.concatenate([[0], np.cumsum([s.n_maps for s in sources])])
    lost: set[int] = set()
    if kind == "surface":
        _parcellate_surfaces(sources, offsets, out, parcellation, space, label_values,
                             strategy, rule, mv, dtype)
    elif resampling_target == "parcellation":
        _parcellate_on_label_grid(sources, offsets, out, parcellation, space, label_values,
                                  strategy, rule, mv, dtype, interpolation)
    else:
        lost = _parcellate_on_data_grids(sources, offsets, out, parcellation, space,
                                         label_values, strategy, rule, mv, dtype,
                                         resampling_target)

    _check_empty_maps(out, sources, offsets, space)
    nan_cols = np.flatnonzero(np.isnan(out).any(axis=0))
    nan_parcels = [names[i] for i in nan_cols]
    if nan_parcels:
        lost_cols = [i for i in nan_cols if i in lost]
        few_cols = [i for i in nan_cols if i not in lost]
        reasons = []
        if lost_cols:
            reasons.append(f"no voxel on the data grid after resampling the labels (try "
                           f"resampling_target='parcellation'): {_shorten(names, lost_cols)}")
        if few_cols:
            reasons.append(f"fewer than min_valid={min_valid} valid (finite, non-background) "
                           f"points: {_shorten(names, few_cols)}")
        logger.warning("%d of %d parcels are NaN in at least one of %d map(s); %s.",
                       len(nan_parcels), n_parcels, n_maps, "; ".join(reasons))
    return out.astype(dtype, copy=False), nan_parcels


def _chunk_rows(n_points: int) -> int:
    """Maps reduced together so that a chunk holds at most ``_CHUNK_VALUES`` values."""
    return max(1, _CHUNK_VALUES // max(n_points, 1))


def _parcellate_on_data_grids(sources, offsets, out, parcellation, space, label_values,
                              strategy, rule, mv, dtype, resampling_target) -> set[int]:
    """Labels resampled onto each image grid (nearest, once per grid); returns lost parcels."""
    label_img = parcellation.get_img(space)
    label_data = parcellation.get_data(space)
    n_parcels = len(label_values)
    groups: dict[tuple, list[int]] = {}
    for i, s in enumerate(sources):
        groups.setdefault(_grid_key(s.img), []).append(i)
    lost: set[int] = set()
    for key, members in groups.items():
        first = sources[members[0]].img
        shape, affine = first.shape[:3], first.affine
        if _same_grid(shape, affine, label_data.shape, label_img.affine):
            labels = label_data
        elif resampling_target is None:
            where = sources[members[0]].name or f"image {members[0]}"
            raise InputError(
                f"resampling_target: None requires the images to be on the grid of the "
                f"parcellation (space {space!r}: shape {label_data.shape}, voxel size "
                f"{_voxel_size(label_img.affine)} mm); {where!r} has shape {tuple(shape)}, "
                f"voxel size {_voxel_size(affine)} mm. Use resampling_target='data' or "
                f"'parcellation'.")
        else:
            labels = np.asarray(_resample(nib.Nifti1Image(label_data, label_img.affine),
                                          affine, shape, "nearest").dataobj)
            logger.info("Resampled the parcellation labels (nearest neighbour) to the data "
                        "grid %s, voxel size %s mm (%d image(s) on this grid).", tuple(shape),
                        _voxel_size(affine), len(members))
        pos = _label_positions(_ravel_f(labels), label_values)
        sel = np.flatnonzero(pos >= 0)
        p = pos[sel]
        lost.update(np.flatnonzero(np.bincount(p, minlength=n_parcels) == 0).tolist())
        chunk = _chunk_rows(sel.size)
        rows, oks, targets = [], [], []

        def flush():
            if rows:
                x = np.stack(rows)
                ok = np.stack(oks)
                out[targets] = _reduce(x, p, n_parcels, strategy, ok, mv)
                rows.clear()
                oks.clear()
                targets.clear()

        for i in members:
            arr = _volume_array(sources[i].img, dtype)
            for t, vol in enumerate(_volumes(arr)):
                x = _ravel_f(vol)[sel].astype(dtype, copy=False)
                border = border_background(vol) if rule.auto else None
                rows.append(x)
                oks.append(_background_mask(x, rule, border))
                targets.append(offsets[i] + t)
                if len(rows) >= chunk:
                    flush()
        flush()
    return lost


def _parcellate_on_label_grid(sources, offsets, out, parcellation, space, label_values,
                              strategy, rule, mv, dtype, interpolation) -> None:
    """Each image resampled onto the label grid (linear or spline), support by nearest.

    Background points are set to 0 before resampling; the valid-point mask is
    resampled with nearest neighbour, so that background never enters a mean and
    label voxels outside an image's field of view are not counted.
    """
    label_img = parcellation.get_img(space)
    full = parcellation.get_data(space)
    labels, affine, block = _crop_to_labels(full, label_img.affine, label_values)
    pos = _label_positions(_ravel_f(labels), label_values)
    sel = np.flatnonzero(pos >= 0)
    p = pos[sel]
    n_parcels = len(label_values)
    chunk = _chunk_rows(sel.size)
    rows, oks, targets = [], [], []

    def flush():
        if rows:
            out[targets] = _reduce(np.stack(rows), p, n_parcels, strategy, np.stack(oks), mv)
            rows.clear()
            oks.clear()
            targets.clear()

    for i, s in enumerate(sources):
        arr = _volume_array(s.img, dtype)
        same = _same_grid(s.img.shape, s.img.affine, full.shape, label_img.affine)
        if not same:
            logger.info("Resampling image %d/%d (%s) to the parcellation grid (%s "
                        "interpolation).", i + 1, len(sources), s.name or "in memory",
                        interpolation)
        for t, vol in enumerate(_volumes(arr)):
            vol = np.asarray(vol, dtype=dtype)
            border = border_background(vol) if rule.auto else None
            valid = _background_mask(vol, rule, border)
            if same:
                x = _ravel_f(vol[block])[sel]
                ok = _ravel_f(valid[block])[sel]
            else:
                filled = np.where(valid, vol, 0).astype(dtype, copy=False)
                res = _resample(nib.Nifti1Image(filled, s.img.affine), affine, labels.shape,
                                interpolation)
                support = _resample(nib.Nifti1Image(valid.astype(np.uint8), s.img.affine),
                                    affine, labels.shape, "nearest")
                x = _ravel_f(np.asarray(res.dataobj))[sel].astype(dtype, copy=False)
                ok = _ravel_f(np.asarray(support.dataobj))[sel] > 0
                if rule.auto or 0.0 in rule.values:
                    ok &= x != 0
            rows.append(x)
            oks.append(ok)
            targets.append(offsets[i] + t)
            if len(rows) >= chunk:
                flush()
    flush()


def _parcellate_surfaces(sources, offsets, out, parcellation, space, label_values, strategy,
                         rule, mv, dtype) -> None:
    labels = parcellation.get_data(space)
    pos = _label_positions(labels, label_values)
    sel = np.flatnonzero(pos >= 0)
    p = pos[sel]
    for i, s in enumerate(sources):
        lh, rh = (gifti_columns(g) for g in s.img)
        data = np.concatenate([lh, rh], axis=0).T.astype(dtype, copy=False)  # (n_maps, n_vert)
        x = data[:, sel]
        ok = _background_mask(x, rule, None, surface=True)
        out[offsets[i]:offsets[i + 1]] = _reduce(x, p, len(label_values), strategy, ok, mv)


def _voxel_size(affine) -> tuple[float, ...]:
    return tuple(float(round(v, 3)) for v in np.sqrt((np.asarray(affine)[:3, :3] ** 2).sum(0)))


def _shorten(names: list[str], idx: list[int], n: int = 10) -> str:
    shown = ", ".join(str(names[i]) for i in idx[:n])
    return shown + (f", ... ({len(idx)} in total)" if len(idx) > n else "")
