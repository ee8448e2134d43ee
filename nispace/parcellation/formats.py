"""Reading CIFTI-2 and FreeSurfer files into per-hemisphere arrays (nibabel).

* CIFTI-2 dense files (``.dscalar.nii``, ``.dtseries.nii``, ``.dlabel.nii``): the
  ``CORTEX_LEFT`` and ``CORTEX_RIGHT`` surface models become ``(n_vertices, n_maps)``
  arrays on the full mesh (vertices the file leaves out, usually the medial wall, are
  NaN for data and 0 for labels); other structures (subcortical voxels) are left out
  with a WARNING.
* FreeSurfer ``.annot`` pairs: per-vertex labels and parcel names.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import nibabel as nib
import numpy as np

from ..errors import DataError, InputError, InputTypeError, MissingFileError

__all__ = ["CIFTI_EXTENSIONS", "MESH_DENSITIES", "is_cifti", "is_annot_pair",
           "cifti_hemispheres", "dlabel_hemispheres", "annot_hemispheres", "gifti_columns",
           "arrays_to_gifti", "labels_to_gifti_pair"]

logger = logging.getLogger(__name__)

#: file name endings of the CIFTI-2 dense files read
CIFTI_EXTENSIONS = (".dscalar.nii", ".dtseries.nii", ".dlabel.nii")
#: vertices per hemisphere -> (space, density) of the standard meshes (fsLR 164k is
#: left out: it has as many vertices as fsaverage 164k)
MESH_DENSITIES = {2562: ("fsaverage", "3k"), 10242: ("fsaverage", "10k"),
                  40962: ("fsaverage", "41k"), 163842: ("fsaverage", "164k"),
                  32492: ("fsLR", "32k"), 59412: ("fsLR", "59k")}
_CORTEX = {"L": "CIFTI_STRUCTURE_CORTEX_LEFT", "R": "CIFTI_STRUCTURE_CORTEX_RIGHT"}
#: annotation names taken as background (label 0)
_BACKGROUND_NAMES = {"unknown", "???", "medial_wall", "medialwall", "background"}


def is_cifti(obj: Any) -> bool:
    """True for a ``nibabel.Cifti2Image`` or the path of a CIFTI-2 dense file."""
    if isinstance(obj, (str, os.PathLike)):
        return os.fspath(obj).lower().endswith(CIFTI_EXTENSIONS)
    return isinstance(obj, nib.Cifti2Image)


def is_annot_pair(obj: Any) -> bool:
    """True for an (L, R) pair of FreeSurfer ``.annot`` paths."""
    return (isinstance(obj, (tuple, list)) and len(obj) == 2
            and all(isinstance(o, (str, os.PathLike))
                    and os.fspath(o).lower().endswith(".annot") for o in obj))


def _load_cifti(img: Any, argument: str) -> nib.Cifti2Image:
    if isinstance(img, (str, os.PathLike)):
        if not os.path.isfile(img):
            raise MissingFileError(f"{argument}: file not found: {os.fspath(img)!r}.")
        try:
            img = nib.load(os.fspath(img))
        except Exception as exc:  # nibabel raises several types for broken files
            raise DataError(f"{argument}: could not read {os.fspath(img)!r} as a CIFTI-2 "
                            f"file ({type(exc).__name__}: {exc}).") from exc
    if not isinstance(img, nib.Cifti2Image):
        raise InputTypeError(f"{argument}: expected a CIFTI-2 dense file; got "
                             f"{type(img).__name__}.")
    return img


def cifti_hemispheres(img: Any, argument: str = "img", fill: float = np.nan
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Left and right cortex of a CIFTI-2 dense image as full-mesh arrays.

    Returns
    -------
    lh, rh : ndarray, shape (n_vertices, n_maps)
        Rows of the vertices the file leaves out are ``fill``.
    """
    img = _load_cifti(img, argument)
    models = img.header.get_axis(1)
    if not isinstance(models, nib.cifti2.BrainModelAxis):
        raise DataError(f"{argument}: expected brain models on the second CIFTI axis; got "
                        f"{type(models).__name__}.")
    data = np.asarray(img.get_fdata(dtype=np.float64))  # (n_maps, n_grayordinates)
    out = {}
    others = []
    for name, slc, model in models.iter_structures():
        hemi = next((h for h, s in _CORTEX.items() if s == name), None)
        if hemi is None:
            others.append(name.replace("CIFTI_STRUCTURE_", ""))
            continue
        arr = np.full((model.nvertices[name], data.shape[0]), fill, dtype=np.float64)
        arr[model.vertex] = data[:, slc].T
        out[hemi] = arr
    if set(out) != {"L", "R"}:
        raise DataError(f"{argument}: expected left and right cortex surface models in the "
                        f"CIFTI file; got {sorted(out) or 'none'} (and {others}).")
    if others:
        logger.warning("%s: the CIFTI file also holds %s; only the cortex (L, R) is read.",
                       argument, ", ".join(others[:6]) + (" ..." if len(others) > 6 else ""))
    return out["L"], out["R"]


def _relabel(per_hemi: dict[str, tuple[np.ndarray, dict]]):
    """Number the parcels 1..n over both hemispheres (left first), names in order.

    Names that occur in both hemispheres (FreeSurfer's aparc/aparc.a2009s annotations
    use the same names on both sides) get an ``L_``/``R_`` prefix, so that every parcel
    label is unique."""
    present = {h: np.unique(per_hemi[h][0][per_hemi[h][0] > 0]) for h in ("L", "R")}
    hemi_names = {h: [per_hemi[h][1][v] for v in present[h]] for h in ("L", "R")}
    shared = set(hemi_names["L"]) & set(hemi_names["R"])
    arrays, names, offset = [], [], 0
    for hemi in ("L", "R"):
        values, keep = per_hemi[hemi][0], present[hemi]
        new = np.zeros(values.shape, dtype=np.int32)
        labelled = values > 0
        new[labelled] = np.searchsorted(keep, values[labelled]) + offset + 1
        names += [f"{hemi}_{n}" if shared else n for n in hemi_names[hemi]]
        offset += len(keep)
        arrays.append(new)
    return arrays[0], arrays[1], names


def dlabel_hemispheres(img: Any, argument: str = "parcellation"):
    """Cortex labels of a CIFTI-2 ``dlabel`` file: ``(lh, rh, names)``, parcels numbered
    1..n over both hemispheres (left first), 0 = background (the file's key 0 and
    vertices it leaves out)."""
    img = _load_cifti(img, argument)
    label_axis = img.header.get_axis(0)
    if not isinstance(label_axis, nib.cifti2.LabelAxis):
        raise InputError(f"{argument}: expected a CIFTI dlabel file (label axis first); got "
                         f"{type(label_axis).__name__}. Data files (dscalar) are maps, not "
                         f"parcellations.")
    table = label_axis.label[0]
    lh, rh = (a[:, 0] for a in cifti_hemispheres(img, argument, fill=0.0))
    names = {int(k): v[0] for k, v in table.items()}
    per = {h: (np.rint(a).astype(np.int64), names) for h, a in zip("LR", (lh, rh))}
    return _relabel(per)


def annot_hemispheres(pair: tuple, argument: str = "parcellation"):
    """Labels of an (L, R) pair of FreeSurfer ``.annot`` files: ``(lh, rh, names)``,
    parcels numbered 1..n over both hemispheres (left first). Vertices without a label
    (-1) and entries named like background (``unknown``, ``???``, ``medial_wall``) are
    0, with a WARNING naming them."""
    per, dropped = {}, set()
    for hemi, path in zip("LR", pair):
        if not os.path.isfile(path):
            raise MissingFileError(f"{argument}: file not found: {os.fspath(path)!r}.")
        try:
            values, _, names = nib.freesurfer.read_annot(os.fspath(path))
        except Exception as exc:  # nibabel raises several types for broken files
            raise DataError(f"{argument}: could not read {os.fspath(path)!r} as a FreeSurfer "
                            f"annotation ({type(exc).__name__}: {exc}).") from exc
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
        values = values.astype(np.int64) + 1  # -1 (no label) -> 0; table index i -> i + 1
        lookup = {i + 1: n for i, n in enumerate(names)}
        for i, n in lookup.items():
            if n.lower() in _BACKGROUND_NAMES and (values == i).any():
                values[values == i] = 0
                dropped.add(n)
        per[hemi] = (values, lookup)
    if dropped:
        logger.warning("%s: annotation entries %s taken as background (label 0).", argument,
                       sorted(dropped))
    return _relabel(per)


def gifti_columns(gii: Any, argument: str = "images") -> np.ndarray:
    """``(n_vertices, n_maps)`` array of a GIfTI image or file: each data array gives one
    column or more (a 2D data array gives one column per map).

    Raises
    ------
    MissingFileError
        The file does not exist.
    DataError
        The file cannot be read as GIfTI, or its data arrays differ in length.
    """
    if isinstance(gii, (str, os.PathLike)):
        path = os.fspath(gii)
        if not os.path.isfile(path):
            raise MissingFileError(f"{argument}: file not found: {path!r}.")
        try:
            gii = nib.load(path)
        except Exception as exc:  # nibabel raises several types for broken files
            raise DataError(f"{argument}: could not read {path!r} as a GIfTI file "
                            f"({type(exc).__name__}: {exc}).") from exc
    if not isinstance(gii, nib.GiftiImage):
        raise InputTypeError(f"{argument}: expected a GIfTI image or file; got "
                             f"{type(gii).__name__}.")
    cols, n = [], None
    for d in gii.darrays:
        a = np.asarray(d.data)
        a = a.reshape(a.shape[0], -1) if a.ndim else a.reshape(1, 1)
        if n is not None and a.shape[0] != n:
            raise DataError(f"{argument}: the data arrays of a GIfTI image have different "
                            f"numbers of vertices ({n} and {a.shape[0]}).")
        n = a.shape[0]
        cols.append(a)
    if not cols:
        raise DataError(f"{argument}: the GIfTI image holds no data array.")
    return np.concatenate(cols, axis=1)


def arrays_to_gifti(arr: np.ndarray, hemi: str, labels: bool = False) -> nib.GiftiImage:
    """A GIfTI image of one hemisphere (``"L"`` or ``"R"``, tagged), one data array per
    column of ``arr`` ``(n_vertices[, n_maps])``: int32 labels, or float32/float64 data
    (float32 input stays float32). float64 keeps the precision of nispace's transforms
    but is not a GIfTI type: save such images with
    ``img.to_filename(path, mode="compat")`` (nibabel casts to float32)."""
    structure = {"L": "CortexLeft", "R": "CortexRight"}[hemi]
    img = nib.GiftiImage(meta=nib.gifti.GiftiMetaData({"AnatomicalStructurePrimary":
                                                       structure}))
    arr = np.asarray(arr)
    for col in arr.reshape(arr.shape[0], -1).T:
        if labels:
            dtype, intent = "int32", "NIFTI_INTENT_LABEL"
        else:
            dtype = "float32" if col.dtype == np.float32 else "float64"
            intent = "NIFTI_INTENT_NONE"
        img.add_gifti_data_array(nib.gifti.GiftiDataArray(col.astype(dtype), intent=intent,
                                                          datatype=dtype))
    return img


def labels_to_gifti_pair(lh: np.ndarray, rh: np.ndarray) -> tuple:
    """Two GIfTI label images (int32) from per-hemisphere label arrays."""
    return arrays_to_gifti(lh, "L", labels=True), arrays_to_gifti(rh, "R", labels=True)
