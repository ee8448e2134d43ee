"""Peak coordinates as Y maps: coordinate-based meta-analysis through NiMARE, with
null maps from randomly placed foci.

A coordinate-based meta-analysis (CBMA) turns the reported peaks (foci) of a set of
experiments into one brain map, e.g. the activation likelihood estimation (ALE)
map. This module computes that map with a NiMARE estimator, parcellates it with
nispace's parcellation code (zeros are values here, not background) and builds
its null distribution the way NiMARE's Monte-Carlo FWE correction does: every
null map is the same estimator applied to the same experiments, each experiment
keeping its number of foci and its sample size, with every focus moved to a
voxel drawn uniformly (with replacement) from the estimator's brain mask.

Coordinates are read from a NiMARE :class:`~nimare.dataset.Dataset`, a Sleuth
text file (read by :func:`nimare.io.convert_sleuth_to_dataset`, which also
converts Talairach coordinates to MNI) or a table with the columns
``experiment``, ``x``, ``y``, ``z`` (MNI, mm) and ``sample_size``.

NiMARE is an optional dependency (``pip install nimare``). NiMARE 0.22 declares
``nilearn<0.14``; nispace uses nilearn 0.14, so pip would downgrade nilearn:
install NiMARE without its nilearn pin at your own risk (nispace's tests ran with
NiMARE 0.22.1 on nilearn 0.14.1) or in a separate environment.

:func:`random_foci` is the pure core (a mask in, coordinates out);
:func:`meta_analysis_map` and :func:`coordinate_null_maps` need NiMARE.

References
----------
Eickhoff, S. B., Bzdok, D., Laird, A. R., Kurth, F., & Fox, P. T. (2012).
Activation likelihood estimation meta-analysis revisited. NeuroImage, 59(3),
2349-2361. https://doi.org/10.1016/j.neuroimage.2011.09.017

Salo, T., Yarkoni, T., Nichols, T. E., Poline, J.-B., Bilgel, M., Bottenhorn,
K. L., ... & Laird, A. R. (2023). NiMARE: Neuroimaging Meta-Analysis Research
Environment. Aperture Neuro, 3. https://doi.org/10.52294/001c.87681
"""

from __future__ import annotations

import copy
import logging
import os
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ._random import as_generator
from .errors import InputError, InputTypeError

__all__ = ["CBMA_ESTIMATORS", "NIMARE_SPACE", "COORDINATE_COLUMNS", "read_coordinates",
           "random_foci", "meta_analysis_map", "coordinate_null_maps"]

logger = logging.getLogger("nispace.coordinates")

#: NiMARE estimators that turn one set of coordinates into one map.
CBMA_ESTIMATORS = ("ALE", "MKDADensity", "KDA")
#: NiMARE's default template ``mni152_2mm`` is FSL's MNI152 (nonlinear 6th
#: generation, asymmetric) brain at 2 mm.
NIMARE_SPACE = "MNI152NLin6Asym"
#: Columns of a coordinates table.
COORDINATE_COLUMNS = ("experiment", "x", "y", "z", "sample_size")
#: Null maps per chunk (part of the random stream's definition, like
#: :data:`nispace.permute.engine.CHUNK_SIZE`; never depends on ``n_proc``).
NULL_CHUNK_SIZE = 25

_INSTALL = ("NiMARE is needed for maps from peak coordinates: pip install nimare (NiMARE "
            "0.22 declares nilearn<0.14 and pip would downgrade nilearn; see "
            "nispace.coordinates)")


def _nimare():
    """Import NiMARE, or raise an ImportError naming the install command."""
    import matplotlib

    try:
        # NiMARE's imports change matplotlib's savefig settings (bbox "tight", dpi 100)
        # for the whole process; rc_context puts the user's settings back
        with matplotlib.rc_context():
            import nimare  # noqa: F401
            from nimare.dataset import Dataset  # noqa: F401
            from nimare.meta import cbma  # noqa: F401
    except ImportError as err:
        raise ImportError(_INSTALL + ".") from err
    return nimare


def _is_dataset(obj: Any) -> bool:
    """A NiMARE Dataset, recognised without importing NiMARE."""
    return type(obj).__name__ == "Dataset" and type(obj).__module__.startswith("nimare") \
        and hasattr(obj, "coordinates")


def is_coordinates(obj: Any) -> bool:
    """True for inputs :func:`read_coordinates` accepts (Dataset, Sleuth file, table)."""
    if _is_dataset(obj):
        return True
    if isinstance(obj, pd.DataFrame):
        return {"x", "y", "z"} <= set(map(str, obj.columns))
    if isinstance(obj, (str, os.PathLike)):
        return str(obj).lower().endswith(".txt")
    return False


def _table_to_dataset(table: pd.DataFrame):
    """A NiMARE Dataset from a coordinates table (one contrast per experiment)."""
    from nimare.dataset import Dataset

    missing = [c for c in COORDINATE_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"y: a coordinates table needs the columns {list(COORDINATE_COLUMNS)} "
                         f"(MNI coordinates in mm, one row per focus); missing {missing}, "
                         f"got {list(map(str, table.columns))}.")
    xyz = table[["x", "y", "z"]].to_numpy(dtype=float)
    if not np.isfinite(xyz).all():
        raise InputError("y: the coordinates table has missing or infinite x, y or z values.")
    if "space" in table.columns:
        spaces = set(table["space"].astype(str).str.lower())
        if not spaces <= {"mni", "mni152", "mni152_2mm"}:
            raise InputError(f"y: coordinates must be MNI152 coordinates; the 'space' column "
                             f"holds {sorted(spaces)}. Convert Talairach coordinates first "
                             f"(e.g. nimare.utils.tal2mni) or read a Sleuth file, whose "
                             f"'// Reference=Talairach' header NiMARE converts.")
    else:
        logger.warning("y: the coordinates table has no 'space' column; its coordinates are "
                       "taken as MNI152 (mm). Add space='MNI' to silence this.")
    source: dict[str, Any] = {}
    for experiment, rows in table.groupby("experiment", sort=False):
        n = rows["sample_size"].unique()
        if len(n) != 1 or not np.isfinite(float(n[0])) or float(n[0]) <= 0:
            raise InputError(f"y: experiment {experiment!r} needs one positive sample_size; "
                             f"got {list(n)}.")
        source[str(experiment)] = {"contrasts": {"1": {
            "coords": {"space": "MNI", "x": rows["x"].astype(float).tolist(),
                       "y": rows["y"].astype(float).tolist(),
                       "z": rows["z"].astype(float).tolist()},
            "metadata": {"sample_sizes": [int(n[0])]}}}}
    with warnings.catch_warnings():
        # NiMARE 0.22 announces Studyset as Dataset's successor; Dataset is what its
        # estimators fit
        warnings.filterwarnings("ignore", "nimare.dataset.Dataset is deprecated",
                                FutureWarning)
        return Dataset(source)


def read_coordinates(coordinates):
    """Peak coordinates as a NiMARE Dataset (a new object; the input is not modified).

    Parameters
    ----------
    coordinates : nimare.dataset.Dataset, path or DataFrame
        A NiMARE Dataset (copied), a Sleuth text file (``.txt``, read with
        :func:`nimare.io.convert_sleuth_to_dataset`), or a table with one row per
        focus and the columns ``experiment``, ``x``, ``y``, ``z`` (MNI152, mm) and
        ``sample_size``; an optional ``space`` column must say MNI.

    Returns
    -------
    nimare.dataset.Dataset
    """
    _nimare()
    if _is_dataset(coordinates):
        return coordinates.copy()
    if isinstance(coordinates, pd.DataFrame):
        return _table_to_dataset(coordinates)
    if isinstance(coordinates, (str, os.PathLike)):
        from nimare.io import convert_sleuth_to_dataset

        if not os.path.isfile(coordinates):
            from .errors import MissingFileError

            raise MissingFileError(f"y: Sleuth file {os.fspath(coordinates)!r} not found.")
        return convert_sleuth_to_dataset(os.fspath(coordinates))
    raise InputTypeError(f"y: expected peak coordinates (a NiMARE Dataset, a Sleuth .txt "
                         f"file or a table with columns {list(COORDINATE_COLUMNS)}); got "
                         f"{type(coordinates).__name__}.")


def random_foci(mask: np.ndarray, affine: np.ndarray, n_foci: int, n_perm: int,
                seed=None) -> np.ndarray:
    """Foci placed uniformly at random in a brain mask.

    Each focus is the centre of a voxel drawn uniformly, with replacement, from
    the voxels where ``mask`` is true (as NiMARE's Monte-Carlo FWE correction
    draws its null foci).

    Parameters
    ----------
    mask : numpy.ndarray of bool, shape (I, J, K)
        Brain mask.
    affine : numpy.ndarray, shape (4, 4)
        Voxel-to-mm affine of the mask.
    n_foci : int
        Foci per null dataset.
    n_perm : int
        Number of null datasets.
    seed : int, SeedSequence, Generator or None

    Returns
    -------
    numpy.ndarray, shape (n_perm, n_foci, 3)
        mm coordinates (x, y, z).
    """
    mask = np.asarray(mask).astype(bool)
    if mask.ndim != 3 or not mask.any():
        raise InputError(f"mask: expected a 3D mask with at least one voxel; got shape "
                         f"{mask.shape} with {int(mask.sum())} voxel(s).")
    inside = np.flatnonzero(mask)
    rng = as_generator(seed)
    picks = inside[rng.integers(0, inside.size, size=(int(n_perm), int(n_foci)))]
    ijk = np.stack(np.unravel_index(picks, mask.shape), axis=-1).astype(float)
    return ijk @ np.asarray(affine, dtype=float)[:3, :3].T + np.asarray(affine, float)[:3, 3]


def _estimator(estimator):
    """A fresh NiMARE CBMA estimator from a name, or a deep copy of the user's one."""
    _nimare()
    from nimare.meta import cbma

    if isinstance(estimator, str):
        from ._errors import check_option

        check_option("estimator", estimator, list(CBMA_ESTIMATORS))
        return getattr(cbma, estimator)()
    if isinstance(estimator, type):
        raise InputTypeError(f"estimator: expected an estimator name {list(CBMA_ESTIMATORS)} "
                             f"or an estimator instance (e.g. ALE()); got the class "
                             f"{estimator.__name__}.")
    if not hasattr(estimator, "fit"):
        raise InputTypeError(f"estimator: expected an estimator name {list(CBMA_ESTIMATORS)} "
                             f"or a NiMARE CBMA estimator instance; got "
                             f"{type(estimator).__name__}.")
    if type(estimator).__name__ in ("MKDAChi2", "ALESubtraction", "SCALE"):
        raise InputError(f"estimator: {type(estimator).__name__} does not map one set of "
                         f"coordinates to one map; use one of {list(CBMA_ESTIMATORS)}.")
    return copy.deepcopy(estimator)  # fitting stores state; the user's object stays as is


def meta_analysis_map(dataset, estimator="ALE", map_name: str = "stat"):
    """The meta-analytic map of ``dataset`` (fitted on a copy of ``estimator``).

    Parameters
    ----------
    dataset : nimare.dataset.Dataset
        From :func:`read_coordinates`.
    estimator : str or NiMARE CBMA estimator
        ``"ALE"`` (default), ``"MKDADensity"``, ``"KDA"``, or an instance (copied).
    map_name : str
        Map of the result (``"stat"``: the summary statistic, e.g. ALE values).

    Returns
    -------
    nibabel.Nifti1Image
    """
    result = _estimator(estimator).fit(dataset)
    if map_name not in result.maps:
        raise InputError(f"map_name: the {type(result.estimator).__name__} result has the "
                         f"maps {sorted(result.maps)}; got {map_name!r}.")
    return result.get_map(map_name)


def _null_chunk(start: int, stop: int, seed, dataset, estimator, map_name: str,
                parcellation, space: str) -> np.ndarray:
    """Null maps ``start:stop`` (seeded per chunk), parcellated: (stop - start, n_parcels)."""
    import nibabel as nib

    from .io import parcellate_images

    mask_img = dataset.masker.mask_img
    mask = np.asarray(mask_img.dataobj).astype(bool)
    coords = dataset.coordinates
    xyz = random_foci(mask, mask_img.affine, len(coords), stop - start, seed)
    maps = []
    for foci in xyz:
        null = dataset.copy()
        table = coords.copy()
        table[["x", "y", "z"]] = foci
        table = table.drop(columns=[c for c in ("i", "j", "k") if c in table.columns])
        null.coordinates = table
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NiMARE's per-fit notices
            maps.append(np.asarray(meta_analysis_map(null, estimator, map_name).dataobj,
                                   dtype=np.float32))
    img = nib.Nifti1Image(np.stack(maps, axis=-1), mask_img.affine)
    return parcellate_images(img, parcellation, space=space, background=None)


def coordinate_null_maps(dataset, parcellation, estimator="ALE", map_name: str = "stat",
                         n_perm: int = 1000, seed=None, n_proc: int | None = 1,
                         space: str = NIMARE_SPACE,
                         verbose: bool | str | int | None = None) -> np.ndarray:
    """Parcellated meta-analytic null maps from randomly placed foci.

    Each null dataset keeps the experiments of ``dataset``, their numbers of foci and
    sample sizes; every focus moves to a voxel drawn uniformly from the dataset's
    brain mask (:func:`random_foci`). The null map is ``estimator`` fitted to it,
    parcellated with zeros kept as values.

    Parameters
    ----------
    dataset : nimare.dataset.Dataset
        The observed coordinates (:func:`read_coordinates`).
    parcellation : Parcellation
        With the volumetric space ``space``.
    estimator, map_name
        As :func:`meta_analysis_map`.
    n_perm : int
        Number of null maps.
    seed : int or None
        Chunk ``c`` of :data:`NULL_CHUNK_SIZE` maps draws from child ``c`` of
        ``SeedSequence(seed)``: the nulls depend on ``seed`` only, not on ``n_proc``.
    n_proc : int
        Parallel workers (-1: all cores).
    space : str
        Space of the maps (NiMARE's template: ``"MNI152NLin6Asym"``).
    verbose : bool, str, int or None
        Progress bar level.

    Returns
    -------
    numpy.ndarray, shape (n_perm, n_parcels)
        Parcels in the order of ``parcellation.get_labels(space)``.
    """
    from .permute.engine import run_chunks

    _estimator(estimator)  # checks the argument before any work
    chunks = run_chunks(_null_chunk, n_perm, seed, n_proc=n_proc, chunk_size=NULL_CHUNK_SIZE,
                        args=(dataset, estimator, map_name, parcellation, space),
                        desc="Coordinate null maps", verbose=verbose)
    return np.concatenate(chunks, axis=0)
