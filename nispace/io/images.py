"""Loading brain images: NIfTI volumes, (L, R) surface pairs and CIFTI-2 files.

Conventions
-----------
* A volume is a 3D NIfTI image (one map) or a 4D one (one map per volume).
* Surface data are always an ``(L, R)`` pair: left hemisphere first, one file or
  image per hemisphere: GIfTI (each data array one map), FreeSurfer ``.mgh``/``.mgz``
  surface overlays or morphometry files (``lh.thickness``, ``lh.curv``, ...).
* A CIFTI-2 ``.dscalar.nii`` / ``.dtseries.nii`` (or ``nibabel.Cifti2Image``) is read
  as the (L, R) pair of its cortex models (one map per scalar / time point; vertices
  the file leaves out are NaN).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Union

import nibabel as nib
import numpy as np

from ..errors import DataError, InputError, InputTypeError, MissingFileError
from ..parcellation.formats import (CIFTI_EXTENSIONS, arrays_to_gifti, cifti_hemispheres,
                                   is_cifti)

logger = logging.getLogger(__name__)

#: file name endings :func:`load_img` reads
VOLUME_EXTENSIONS = (".nii", ".nii.gz")
SURFACE_EXTENSIONS = (".gii", ".gii.gz")
#: FreeSurfer surface overlays (one hemisphere); morphometry files have no extension
FREESURFER_EXTENSIONS = (".mgh", ".mgz")
_FS_HEMI_PREFIXES = ("lh.", "rh.")
#: GIfTI metadata key that names the hemisphere of a surface file
_STRUCTURE_KEY = "AnatomicalStructurePrimary"
_HEMI_STRUCTURES = {"L": "CortexLeft", "R": "CortexRight"}

ImageLike = Union[str, os.PathLike, nib.spatialimages.SpatialImage, nib.GiftiImage]
LoadedImage = Union[nib.spatialimages.SpatialImage, tuple]


def is_path(obj: Any) -> bool:
    """True for a ``str`` or ``os.PathLike`` object."""
    return isinstance(obj, (str, os.PathLike))


def _ends_with(path, extensions: tuple[str, ...]) -> bool:
    return os.fspath(path).lower().endswith(extensions)


def is_volume_like(obj: Any) -> bool:
    """True for a nibabel volume or the path of a NIfTI file (not checked on disk)."""
    if is_path(obj):
        return _ends_with(obj, VOLUME_EXTENSIONS) and not is_cifti(obj)
    return isinstance(obj, nib.spatialimages.SpatialImage)


def is_freesurfer_surface(obj: Any) -> bool:
    """True for the path of a FreeSurfer surface overlay (``.mgh``/``.mgz``) or a
    morphometry file named ``lh.*``/``rh.*`` without an image extension."""
    if not is_path(obj):
        return False
    name = Path(obj).name.lower()
    if name.endswith(FREESURFER_EXTENSIONS):
        return True
    return name.startswith(_FS_HEMI_PREFIXES) and not name.endswith(
        VOLUME_EXTENSIONS + SURFACE_EXTENSIONS + (".annot", ".label", ".csv", ".tsv", ".txt"))


def is_gifti_like(obj: Any) -> bool:
    """True for a single GIfTI image or the path of a GIfTI or FreeSurfer surface file
    (one hemisphere)."""
    if is_path(obj):
        return _ends_with(obj, SURFACE_EXTENSIONS) or is_freesurfer_surface(obj)
    return isinstance(obj, nib.GiftiImage)


def is_gifti_pair(obj: Any) -> bool:
    """True for a tuple or list of exactly two GIfTI files/images: ``(L, R)``."""
    return (isinstance(obj, (tuple, list)) and len(obj) == 2
            and all(is_gifti_like(o) for o in obj))


def is_image_like(obj: Any) -> bool:
    """True for anything :func:`load_img` accepts: a volume, an (L, R) surface pair or
    a CIFTI-2 dense data file."""
    return is_volume_like(obj) or is_gifti_pair(obj) or is_cifti(obj)


def strip_image_extension(path: str | os.PathLike) -> str:
    """File name without folder and image extension.

    ``.nii``, ``.nii.gz``, ``.gii`` and ``.gii.gz`` are removed, and for GIfTI
    files also the intent part (``.func``, ``.shape``, ``.label``).

    Examples
    --------
    >>> strip_image_extension("/data/pet/map_space-fsLR_hemi-L.shape.gii.gz")
    'map_space-fsLR_hemi-L'
    """
    name = Path(path).name
    for ext in CIFTI_EXTENSIONS + (".nii.gz", ".nii", ".gii.gz", ".gii", ".mgh", ".mgz"):
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
            if ext.startswith(".gii"):
                for intent in (".func", ".shape", ".label", ".surf", ".time"):
                    if name.lower().endswith(intent):
                        name = name[: -len(intent)]
                        break
            break
    return name


def _load_file(path: str | os.PathLike, argument: str):
    path = Path(path).expanduser()
    if not _ends_with(path, VOLUME_EXTENSIONS + SURFACE_EXTENSIONS):
        raise InputError(f"{argument}: expected a file ending in .nii, .nii.gz, .gii or "
                         f".gii.gz; got {os.fspath(path)!r}.")
    if not path.is_file():
        raise MissingFileError(f"{argument}: file not found: {os.fspath(path)!r}.")
    try:
        return nib.load(os.fspath(path))
    except Exception as exc:  # nibabel raises many types for broken files
        raise DataError(f"{argument}: could not read {os.fspath(path)!r} as an image "
                        f"({type(exc).__name__}: {exc}).") from exc


def _load_freesurfer(path, hemi: str, argument: str) -> nib.GiftiImage:
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingFileError(f"{argument}: file not found: {os.fspath(path)!r}.")
    try:
        if path.name.lower().endswith(FREESURFER_EXTENSIONS):
            img = nib.load(os.fspath(path))
            data = np.asarray(img.dataobj)
            if data.ndim < 3 or any(n != 1 for n in data.shape[1:3]):
                raise InputError(f"{argument}: {path.name!r} is a volume (shape "
                                 f"{data.shape}); expected a surface overlay of shape "
                                 f"(n_vertices, 1, 1[, n_maps]).")
            data = data.reshape(data.shape[0], -1)
        else:
            data = nib.freesurfer.read_morph_data(os.fspath(path))
    except InputError:
        raise
    except Exception as exc:  # nibabel raises many types for broken files
        raise DataError(f"{argument}: could not read {os.fspath(path)!r} as a FreeSurfer "
                        f"surface file ({type(exc).__name__}: {exc}).") from exc
    return arrays_to_gifti(data, hemi)


def _load_cifti_pair(img, argument: str) -> tuple:
    if is_path(img) and _ends_with(img, (".dlabel.nii",)):
        raise InputError(f"{argument}: {os.fspath(img)!r} is a CIFTI label file; use it as "
                         f"a parcellation (parcellation=...), not as data.")
    if is_path(img) and not Path(img).expanduser().is_file():
        raise MissingFileError(f"{argument}: file not found: {os.fspath(img)!r}.")
    try:
        lh, rh = cifti_hemispheres(img, argument)
    except (InputError, DataError):
        raise
    except Exception as exc:  # nibabel raises many types for broken files
        raise DataError(f"{argument}: could not read the CIFTI file ({type(exc).__name__}: "
                        f"{exc}).") from exc
    return arrays_to_gifti(lh, "L"), arrays_to_gifti(rh, "R")


def _load_hemisphere(obj, hemi: str, argument: str) -> nib.GiftiImage:
    if is_freesurfer_surface(obj):
        return _load_freesurfer(obj, hemi, argument)
    img = _load_file(obj, argument) if is_path(obj) else obj
    if not isinstance(img, nib.GiftiImage):
        raise InputTypeError(f"{argument}: expected a GIfTI file or image for hemisphere {hemi}; "
                             f"got {type(img).__name__}.")
    if not img.darrays:
        raise DataError(f"{argument}: the GIfTI image of hemisphere {hemi} holds no data "
                        f"arrays.")
    return img


def gifti_hemisphere(img: nib.GiftiImage) -> str | None:
    """``"L"`` or ``"R"`` from the GIfTI ``AnatomicalStructurePrimary`` tag, or None."""
    metas = [img.meta] + [d.meta for d in img.darrays[:1]]
    for meta in metas:
        value = dict(meta or {}).get(_STRUCTURE_KEY)
        for hemi, structure in _HEMI_STRUCTURES.items():
            if value == structure:
                return hemi
    return None


def load_img(img: Any) -> LoadedImage:
    """Load a brain image from a path, a nibabel image, or an (L, R) GIfTI pair.

    Parameters
    ----------
    img : str, os.PathLike, nibabel image, or (L, R) pair
        * the path of a NIfTI (``.nii``, ``.nii.gz``) or a loaded nibabel volume;
        * an ``(L, R)`` tuple or list of two GIfTI files (``.gii``, ``.gii.gz``)
          or ``nibabel.GiftiImage`` objects, left hemisphere first.

        A single GIfTI (one hemisphere) is refused: surface data always come in
        pairs.

    Returns
    -------
    nibabel image or tuple of two nibabel.GiftiImage
        Loaded images are returned as they are (not copied); paths are loaded
        with :func:`nibabel.load` (data are read lazily).

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    ValueError
        For unsupported file types, single GIfTI files, or GIfTI pairs whose
        hemisphere tags say right then left.
    TypeError
        For objects that are not images.

    Examples
    --------
    >>> from nispace.io import load_img
    >>> pain = load_img("neuroquery/pain.nii.gz")               # doctest: +SKIP
    >>> lh, rh = load_img(("lh.shape.gii", "rh.shape.gii"))      # doctest: +SKIP
    """
    if is_cifti(img):
        return _load_cifti_pair(img, "img")
    if isinstance(img, (tuple, list)):
        if len(img) != 2 or not all(is_gifti_like(o) for o in img):
            kinds = [type(o).__name__ if not is_path(o) else Path(o).name for o in img]
            raise InputError(f"img: expected an (L, R) pair of GIfTI files or images; got a "
                             f"{type(img).__name__} of {len(img)} item(s): {kinds}. To load "
                             f"several images, call load_img on each.")
        lh, rh = (_load_hemisphere(o, h, "img") for o, h in zip(img, ("L", "R")))
        if gifti_hemisphere(lh) == "R" or gifti_hemisphere(rh) == "L":
            raise InputError(f"img: expected the left hemisphere first; the GIfTI tags say "
                             f"({gifti_hemisphere(lh)}, {gifti_hemisphere(rh)}). Pass the "
                             f"pair as (L, R).")
        return lh, rh
    if is_path(img):
        loaded = _load_file(img, "img")
        if isinstance(loaded, nib.GiftiImage):
            raise InputError(f"img: {os.fspath(img)!r} is a single GIfTI hemisphere; surface "
                             f"data must be given as an (L, R) pair of files.")
        return loaded
    if isinstance(img, nib.GiftiImage):
        raise InputError("img: got a single GiftiImage; surface data must be given as an "
                         "(L, R) pair of GIfTI images.")
    if isinstance(img, nib.spatialimages.SpatialImage):
        return img
    raise InputTypeError(f"img: expected a path, a nibabel image or an (L, R) pair of GIfTI "
                         f"files/images; got {type(img).__name__}.")
