"""Turning any supported input into a maps x parcels table.

:func:`read_input` is the one entry point used for ``x``, ``y`` and ``z`` data: images
are parcellated with :func:`~nispace.io.parcellate_images`, tables and arrays are
checked against the parcellation. The result is always a new
:class:`pandas.DataFrame` with one row per map (index = map labels) and one column
per parcel (the parcellation's labels); the user's objects are never modified.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._alignment import is_default_index
from .._logging import verbose_context
from ..errors import DataError, InputError, InputTypeError, MissingFileError
from .images import is_gifti_like, is_image_like, is_path
from .parcellate import _collect_images, _n_vertices, _parcellate_sources, _surface_space
from .spaces import SOURCE_TABLE, parcellation_space_for, resolve_data_space, space_from_filename
from .projection import (_volumetric_spaces, project_volume_sources, resample_surface_sources,
                         surface_target)

logger = logging.getLogger(__name__)

#: file name endings read as tables
TABLE_EXTENSIONS = (".csv", ".tsv", ".csv.gz", ".tsv.gz")


@dataclass
class _Block:
    """A consecutive run of maps from one input item (internal)."""

    kind: str  # "image" | "table"
    item: Any = None  # image item (path, image, pair)
    values: np.ndarray | None = None  # table: (n_maps, n_parcels) float
    index: pd.Index | None = None  # table: row labels, or None for defaults
    n_maps: int = 0
    names: list | None = None  # per-map labels from the input (file names, keys)
    where: str = ""
    columns: pd.Index | None = None  # table: parcel axis after alignment
    positional: bool = False  # table without parcel labels, taken in the parcellation's order


def _is_table_path(obj) -> bool:
    return is_path(obj) and os.fspath(obj).lower().endswith(TABLE_EXTENSIONS)


def _read_table(path, where: str) -> pd.DataFrame:
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingFileError(f"{where}: file not found: {os.fspath(path)!r}.")
    sep = "\t" if ".tsv" in path.name.lower() else ","
    df = pd.read_csv(path, sep=sep)
    if df.shape[1] and not pd.api.types.is_numeric_dtype(df.iloc[:, 0]):
        df = df.set_index(df.columns[0])
        if str(df.index.name).startswith("Unnamed:"):
            df.index.name = None
    logger.info("Read table %s: %d row(s) x %d column(s).", path.name, *df.shape)
    return df


def _numeric(values, where: str) -> np.ndarray:
    try:
        if isinstance(values, (pd.DataFrame, pd.Series)):  # also nullable dtypes (pd.NA)
            return values.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        arr = np.array(values, dtype=np.float64)  # always a copy
    except (TypeError, ValueError) as exc:
        raise InputTypeError(f"{where}: expected numeric values; got data that cannot be read as "
                             f"numbers ({exc}).") from exc
    return arr


def _parcel_labels(parcellation) -> list[str] | None:
    return None if parcellation is None else [str(v) for v in parcellation.labels]


def _align_columns(columns: pd.Index, values: np.ndarray, parc_labels: list[str] | None,
                   where: str, parc_name) -> tuple[np.ndarray, pd.Index, bool]:
    """Check the parcel axis of a table against the parcellation; reorder by label.

    The third value is True when the table has no parcel labels and is taken in the
    parcellation's order (the caller warns).
    """
    n_cols = values.shape[1]
    if parc_labels is None:
        return values, columns, False
    str_cols = [str(c) for c in columns]
    if len(set(str_cols)) != len(str_cols):
        dup = [c for c in dict.fromkeys(str_cols) if str_cols.count(c) > 1]
        raise InputError(f"{where}: expected one column per parcel; duplicated columns "
                         f"{dup[:5]}.")
    if not isinstance(columns, pd.RangeIndex) and set(str_cols) == set(parc_labels) \
            and len(str_cols) == len(parc_labels):
        if str_cols != parc_labels:
            logger.info("%s: columns reordered to the parcellation's label order.", where)
            order = pd.Index(str_cols).get_indexer(parc_labels)
            values = values[:, order]
        return values, pd.Index(parc_labels), False
    label_like = [c for c in columns if isinstance(c, str) and not c.strip().isdigit()]
    if label_like:
        unknown = [c for c in str_cols if c not in set(parc_labels)]
        missing = [c for c in parc_labels if c not in set(str_cols)]
        raise InputError(
            f"{where}: the columns do not match the parcel labels of parcellation "
            f"{parc_name!r} ({len(parc_labels)} parcels); got {n_cols} columns, "
            f"{len(unknown)} not in the parcellation (e.g. {unknown[:3]}) and "
            f"{len(missing)} parcel(s) missing (e.g. {missing[:3]}).")
    if n_cols != len(parc_labels):
        raise InputError(f"{where}: expected {len(parc_labels)} parcels (columns) to match "
                         f"parcellation {parc_name!r}; got {n_cols} (data of shape "
                         f"{values.shape}).")
    return values, pd.Index(parc_labels), True


def _table_block(obj, where: str, parc_labels, parc_name) -> _Block:
    """DataFrame, Series or array -> a table block (values copied)."""
    if isinstance(obj, pd.DataFrame):
        values = _numeric(obj, where)
        index = None if is_default_index(obj.index) else obj.index.copy()
        values, columns, positional = _align_columns(obj.columns, values, parc_labels, where,
                                                     parc_name)
        return _Block("table", values=values, index=index, n_maps=values.shape[0],
                      where=where, columns=columns, positional=positional)
    if isinstance(obj, pd.Series):
        values = _numeric(obj, where)[None, :]
        values, columns, positional = _align_columns(obj.index, values, parc_labels, where,
                                                     parc_name)
        names = [obj.name] if obj.name is not None else None
        return _Block("table", values=values, index=None, n_maps=1, names=names,
                      where=where, columns=columns, positional=positional)
    arr = _numeric(obj, where)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise InputError(f"{where}: expected a 1D (one map) or 2D (n_maps, n_parcels) array; "
                         f"got a {arr.ndim}D array of shape {arr.shape}.")
    if parc_labels is not None and arr.shape[1] != len(parc_labels):
        hint = (" (transposed? maps are rows)" if arr.shape[0] == len(parc_labels) else "")
        raise InputError(f"{where}: expected {len(parc_labels)} parcels (columns) to match "
                         f"parcellation {parc_name!r}; got an array of shape {arr.shape}"
                         f"{hint}.")
    columns = pd.Index(parc_labels) if parc_labels is not None else pd.RangeIndex(arr.shape[1])
    return _Block("table", values=arr, index=None, n_maps=arr.shape[0], where=where,
                  columns=columns, positional=parc_labels is not None)


def _is_number_list(obj) -> bool:
    return isinstance(obj, (list, tuple)) and len(obj) > 0 and all(
        isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in obj)


def _blocks(data, where: str, parc_labels, parc_name, top: bool = True) -> list[_Block]:
    """Split an input into image and table blocks, in order."""
    if isinstance(data, (pd.DataFrame, pd.Series, np.ndarray)) or _is_number_list(data) or (
            isinstance(data, (list, tuple)) and data and all(_is_number_list(r) for r in data)):
        return [_table_block(data, where, parc_labels, parc_name)]
    if _is_table_path(data):
        return [_table_block(_read_table(data, where), where, parc_labels, parc_name)]
    if is_image_like(data):
        return [_Block("image", item=data, where=where)]
    if is_path(data):
        raise InputError(f"{where}: {os.fspath(data)!r} is neither an image (.nii, .nii.gz, "
                         f".gii, .gii.gz) nor a table (.csv, .tsv) path. Images are also "
                         f"CIFTI .dscalar.nii / .dtseries.nii files and (L, R) pairs of GIfTI, "
                         f"FreeSurfer .mgh / .mgz or morphometry files (lh.thickness, ...). "
                         f"Reference datasets such as 'pet' are loaded with "
                         f"nispace.datasets.fetch_reference.")
    if is_gifti_like(data):
        raise InputError(f"{where}: got a single GIfTI hemisphere; surface data must be given "
                         f"as an (L, R) pair (a tuple) of files or images.")
    if isinstance(data, Mapping) and top:
        if not data:
            raise InputError(f"{where}: got an empty dict.")
        out = []
        for key, value in data.items():
            sub = _blocks(value, f"{where}[{key!r}]", parc_labels, parc_name, top=False)
            if len(sub) != 1 or (sub[0].kind == "table" and sub[0].n_maps != 1):
                n = sub[0].n_maps if len(sub) == 1 else len(sub)
                raise InputError(f"{where}[{key!r}]: expected one map per dict key; got "
                                 f"{n} maps.")
            sub[0].names = [key]
            sub[0].index = None
            out += sub
        return out
    if isinstance(data, (list, tuple)) and top:
        if not data:
            raise InputError(f"{where}: got an empty {type(data).__name__}.")
        out = []
        for i, item in enumerate(data):
            out += _blocks(item, f"{where}[{i}]", parc_labels, parc_name, top=False)
        return out
    raise InputTypeError(f"{where}: expected images (NIfTI paths/images, (L, R) GIfTI pairs), a "
                         f"list or dict of them, a DataFrame, a Series, a numpy array or a "
                         f"CSV/TSV path; got {type(data).__name__}.")


def read_input(data, parcellation=None, labels=None, name: str = "x",
               data_space: str | None = None, record: dict | None = None,
               **parcellate_kwargs) -> pd.DataFrame:
    """Read maps of any supported kind into a maps x parcels DataFrame.

    Parameters
    ----------
    data : image(s), dict, DataFrame, Series, array, or path
        * NIfTI volumes (3D = one map, 4D = one map per volume), ``(L, R)`` GIfTI
          pairs, or their file paths; parcellated with ``parcellation``;
        * a dict ``{label: image or 1D data}`` (one map per key);
        * a DataFrame (rows = maps, columns = parcels), a Series (one map), a
          numpy array ``(n_maps, n_parcels)`` or ``(n_parcels,)``, or the path of
          a CSV/TSV table (first column = map labels if it is not numeric);
        * a list of any of these (images in a list are parcellated in one call).
    parcellation : Parcellation or None
        Needed for images. Tables are checked against it: the number of parcels
        must match, and label-like columns must be its parcel labels (they are
        reordered to its order).
    labels : str or list, optional
        Map labels (one per map), overriding all others.
    name : str
        Name of the argument in messages and prefix of default labels
        (``x0, x1, ...``).
    data_space : str, optional
        Space of the images (e.g. ``"MNI152NLin6Asym"``, ``"fsLR"``). Default: the
        BIDS ``space-<label>`` entity of the file names, else ``space``, else for
        volumes ``"MNI152NLin6Asym"`` with a WARNING (see :mod:`nispace.io.spaces`).
        Images are parcellated with the parcellation's version in that space.
    record : dict, optional
        Filled with ``data_space``, ``data_space_source`` and
        ``parcellation_space`` (JSON-serialisable; see :mod:`nispace.io.spaces`).
        Other assumptions made are added to it too: tables and arrays without parcel labels
        (RangeIndex or ``"0" .. "n-1"`` columns, numpy arrays) are taken in the
        parcellation's order with a WARNING and recorded as
        ``record["parcel_order_assumed"] = {"parcellation", "n_parcels", "first",
        "last", "inputs"}``.
    **parcellate_kwargs
        Passed to :func:`~nispace.io.parcellate_images` (``space``: the
        parcellation's space to use, overriding the choice from ``data_space``;
        ``strategy``, ``background``, ``min_valid``, ``resampling_target``,
        ``dtype``, ``interpolation``, ``verbose``).

    Returns
    -------
    pandas.DataFrame, shape (n_maps, n_parcels)
        float64. Index: ``labels``, else dict keys, the DataFrame's index, a
        Series' name, file names without extension (images; ``<name>_<i>`` for
        volumes of a 4D file), else ``<name>0, <name>1, ...``. Columns: the
        parcellation's labels (without parcellation: the table's columns).

    Raises
    ------
    ValueError
        Wrong number of parcels, columns that are not the parcellation's labels,
        maps that are all NaN, duplicated labels, wrong number of labels, a dict
        value holding several maps, and all errors of
        :func:`~nispace.io.parcellate_images`.
    TypeError
        Unsupported input types or non-numeric tables.

    Examples
    --------
    >>> from nispace.datasets import fetch_parcellation
    >>> parc = fetch_parcellation("Schaefer200")                          # doctest: +SKIP
    >>> y = read_input({"Pain": "pain.nii.gz"}, parc, name="y")           # doctest: +SKIP
    >>> y.shape                                                           # doctest: +SKIP
    (1, 200)
    """
    verbose = parcellate_kwargs.pop("verbose", True)
    with verbose_context(verbose):
        parc_labels = _parcel_labels(parcellation)
        parc_name = getattr(parcellation, "name", None)
        blocks = _blocks(data, name, parc_labels, parc_name)
        _note_parcel_order(blocks, parc_labels, parc_name, name, record)
        kinds = sorted({b.kind for b in blocks})
        logger.info("Input '%s': %s.", name, " + ".join(
            {"image": "images (to parcellate)", "table": "parcellated data"}[k] for k in kinds))

        # images: collected and parcellated in one call (shared grids are reduced together)
        image_blocks = [b for b in blocks if b.kind == "image"]
        if image_blocks:
            if parcellation is None:
                raise InputError(f"parcellation: needed to parcellate the images in '{name}'; "
                                 f"pass a Parcellation (nispace.datasets.fetch_parcellation).")
            sources = []
            for b in image_blocks:
                src = _collect_images(b.item, argument=b.where)
                n = sum(s.n_maps for s in src)
                if b.names is not None and n != 1:
                    raise InputError(f"{b.where}: expected one map per dict key; the image "
                                     f"holds {n} maps (a 4D image or several GIfTI data "
                                     f"arrays). Split it or pass it outside a dict.")
                b.n_maps = n
                if b.names is None:
                    b.names = _image_names(src)
                sources += src
            parc_space = parcellate_kwargs.pop("space", None)
            sources, data_space, resampled = resample_surface_sources(
                sources, parcellation, data_space, parc_space, name)
            spaces = _image_spaces(sources, parcellation, data_space, parc_space, name)
            sources, spaces, projected = project_volume_sources(sources, spaces,
                                                                parcellation, name)
            transforms = [t for t in (resampled, projected) if t]
            if transforms and record is not None:
                record["transforms"] = "; ".join(transforms)
            values = _parcellate_by_kind(sources, parcellation, spaces, parcellate_kwargs)
            start = 0
            for b in image_blocks:
                b.values = values[start:start + b.n_maps]
                start += b.n_maps
        else:
            spaces = {}
            ignored = sorted(parcellate_kwargs) + (["data_space"] if data_space else [])
            if ignored:
                logger.info("'%s' is already parcellated; ignoring %s.", name, ignored)
        if record is not None:
            record.update(_space_record(spaces, any(b.kind == "table" for b in blocks)))

        columns = _columns(blocks, parc_labels, name)
        values = np.concatenate([b.values for b in blocks], axis=0)
        index = _index(blocks, labels, name, values.shape[0])
        df = pd.DataFrame(values, index=index, columns=columns, copy=False)

        nan_rows = np.isnan(values).all(axis=1)
        if nan_rows.any():
            bad = [str(v) for v in df.index[nan_rows][:5]]
            raise DataError(f"{name}: {int(nan_rows.sum())} map(s) contain only NaN values "
                            f"(e.g. {bad}); check the data, the background setting and "
                            f"that images and parcellation are in the same space.")
        n_nan = int(np.isnan(values).any(axis=0).sum())
        if n_nan:
            logger.info("'%s': %d of %d parcels contain NaN values in at least one map.",
                        name, n_nan, values.shape[1])
        logger.info("Got '%s' data for %d map(s) x %d parcels.", name, *df.shape)
        return df


def _image_spaces(sources, parcellation, data_space, parc_space, name) -> dict[str, tuple]:
    """Per kind of image: (data space, where it came from, parcellation space)."""
    out = {}
    for kind in sorted({s.kind for s in sources}):
        names = [s.name for s in sources if s.kind == kind]
        to_surface = kind == "volume" and (
            (parc_space is not None and parcellation.is_surface(parc_space))
            or (parc_space is None and not _volumetric_spaces(parcellation)))
        given = data_space  # per kind: a choice made for surfaces never leaks to volumes
        if given is None and parc_space is not None and not to_surface and not any(
                space_from_filename(n) for n in names):
            given = parc_space  # the user chose the parcellation's space for the data
        dspace, source = resolve_data_space(kind, names, given, name)
        pspace = parc_space
        if to_surface:
            out[kind] = (dspace, source, pspace or surface_target(parcellation, name))
            continue
        if pspace is None:
            pspace = parcellation_space_for(parcellation, kind, dspace, name)
        elif dspace is not None and dspace != pspace:
            logger.warning("'%s': the images are in space '%s' but parcellation %r is used in "
                           "space '%s' as requested (space=); no transform is applied.", name,
                           dspace, parcellation.name, pspace)
        if kind == "surface":
            counts = {_n_vertices(s.img) for s in sources if s.kind == kind}
            if len(counts) == 1:  # else the parcellation step raises its clear error
                pspace = _surface_space(parcellation, pspace, counts.pop())
                dspace = dspace or pspace
        out[kind] = (dspace, source, pspace)
    return out


def _space_record(spaces: dict[str, tuple], has_tables: bool) -> dict[str, Any]:
    """``data_space``, ``data_space_source``, ``parcellation_space`` of one input."""
    parts = list(spaces.values())

    def join(values):
        values = [v for v in values if v is not None]
        return " + ".join(dict.fromkeys(values)) if values else None

    sources = [p[1] for p in parts] + ([SOURCE_TABLE] if has_tables else [])
    return {"data_space": join(p[0] for p in parts),
            "data_space_source": join(sources),
            "parcellation_space": join(p[2] for p in parts)}


def _note_parcel_order(blocks: list[_Block], parc_labels, parc_name, name: str,
                       record: dict | None) -> None:
    """WARN (and record) when tables without parcel labels were taken in the
    parcellation's order."""
    where = [b.where for b in blocks if b.positional]
    if not where:
        return
    logger.warning(
        "%s: %s no parcel labels; taken in the parcel order of parcellation %r (%d parcels: "
        "%r ... %r). Give a DataFrame with the parcel labels as columns to match by label.",
        name, f"{where[0]} has" if len(where) == 1 else f"{len(where)} inputs have",
        parc_name, len(parc_labels), parc_labels[0], parc_labels[-1])
    if record is not None:
        record["parcel_order_assumed"] = {
            "parcellation": None if parc_name is None else str(parc_name),
            "n_parcels": len(parc_labels), "first": parc_labels[0], "last": parc_labels[-1],
            "inputs": where}


def _parcellate_by_kind(sources, parcellation, spaces, parcellate_kwargs) -> np.ndarray:
    """Parcellate volumes and surface pairs separately (one call per kind, in the
    parcellation space chosen for the kind, so shared grids are still reduced
    together) and return the rows in the sources' order."""
    offsets = np.cumsum([0] + [s.n_maps for s in sources])
    kinds = sorted({s.kind for s in sources})
    if len(kinds) == 1:
        return _parcellate_sources(sources, parcellation, space=spaces[kinds[0]][2],
                                   **parcellate_kwargs)[0]
    out = None
    for kind in kinds:
        idx = [i for i, s in enumerate(sources) if s.kind == kind]
        part, _ = _parcellate_sources([sources[i] for i in idx], parcellation,
                                      space=spaces[kind][2], **parcellate_kwargs)
        if out is None:
            out = np.full((offsets[-1], part.shape[1]), np.nan, dtype=part.dtype)
        row = 0
        for i in idx:
            out[offsets[i]:offsets[i + 1]] = part[row:row + sources[i].n_maps]
            row += sources[i].n_maps
    return out


def _image_names(sources) -> list:
    names = []
    for s in sources:
        if s.name is None:
            names += [None] * s.n_maps
        elif s.n_maps == 1:
            names.append(s.name)
        else:
            names += [f"{s.name}_{t}" for t in range(s.n_maps)]
    return names


def _columns(blocks: list[_Block], parc_labels, name: str) -> pd.Index:
    if parc_labels is not None:
        return pd.Index(parc_labels)
    cols = [b.columns for b in blocks if b.kind == "table"]
    first = cols[0]
    for c in cols[1:]:
        if not first.equals(c):
            raise InputError(f"{name}: the tables have different columns ({len(first)} vs "
                             f"{len(c)}); pass a parcellation or tables with equal columns.")
    return first.copy()


def _index(blocks: list[_Block], labels, name: str, n_maps: int) -> pd.Index:
    if labels is not None:
        if isinstance(labels, str):
            labels = [labels]
        labels = list(labels)
        if len(labels) != n_maps:
            raise InputError(f"labels: expected {n_maps} label(s), one per map of '{name}'; "
                             f"got {len(labels)}.")
        index = pd.Index(labels)
    elif len(blocks) == 1 and blocks[0].index is not None:
        index = blocks[0].index.copy()
    else:
        flat = []
        for b in blocks:
            if b.names is not None:
                flat += list(b.names)
            elif b.index is not None:
                flat += list(b.index)
            else:
                flat += [None] * b.n_maps
        flat = [f"{name}{i}" if v is None else v for i, v in enumerate(flat)]
        index = pd.Index(flat, tupleize_cols=False)
    dup = index[index.duplicated()]
    if len(dup):
        raise InputError(f"{name}: map labels must be unique; duplicated: "
                         f"{[str(d) for d in dict.fromkeys(dup)][:5]}. Pass labels= or a dict.")
    return index
