"""Open save/load of a NiSpace analysis: JSON + CSV + ``.npy``, no code execution.

Format ``nispace-results`` version 1: a folder, or the same files in a ``.zip``::

    manifest.json                  format name and version, nispace version, the
                                   object's parameters, parcellation (name, spaces,
                                   labels), fit_record_, Y steps, and for every result
                                   its parameters, provenance and files
    tables/*.csv                   X, Y, Z (as fitted and after steps): maps x parcels
    colocalizations/*.csv          one table per result and statistic
    permutations/*.csv             observed values, p and z per permutation
    permutations/*.npy             null colocalizations (n_perm, n_rows, n_cols)
    corrections/*.csv              corrected p-values
    parcellation_regions.csv       the parcellation's region summary (if available)

Tables are CSV with one header row (column labels) and one label column; the exact
labels (all index levels, their names and types) are in ``manifest.json``, values are
written with full float64 precision. Arrays are ``.npy`` read with
``np.load(..., allow_pickle=False)``. Nothing in a saved analysis is executed when it
is loaded. Old pickles (nispace < this format) load only with ``allow_pickle=True``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..errors import DataError, ExistingPathError, InputError, MissingFileError
from .objects import ColocalizationResult, CorrectionResult, PermutationResult
from .reduction import XReduction
from .provenance import flat_label, jsonable, now

__all__ = ["FORMAT", "FORMAT_VERSION", "save_nispace", "read_manifest", "load_state",
           "is_saved_analysis", "PickleRefusedError"]

logger = logging.getLogger("nispace.results")

FORMAT = "nispace-results"
FORMAT_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*\.(csv|npy|json)$")


class PickleRefusedError(InputError):
    """A pickle was given to a loader without ``allow_pickle=True``."""


# --------------------------------------------------------------------------------------
# tables <-> files

def _index_record(index: pd.Index) -> dict:
    return {"names": [None if n is None else str(n) for n in index.names],
            "levels": [jsonable(list(index.get_level_values(i)))
                       for i in range(index.nlevels)]}


def _index_from(record: dict) -> pd.Index:
    levels = [list(v) for v in record["levels"]]
    names = record["names"]
    if len(levels) == 1:
        return pd.Index(levels[0], name=names[0], tupleize_cols=False)
    return pd.MultiIndex.from_arrays(levels, names=names)


def _flat(index: pd.Index) -> list[str]:
    return [flat_label(v) for v in index]


def _table_bytes(frame: pd.DataFrame) -> bytes:
    flat = pd.DataFrame(frame.to_numpy(dtype=np.float64), index=pd.Index(_flat(frame.index),
                        name="label"), columns=_flat(frame.columns))
    return flat.to_csv().encode("utf-8")


class _Writer:
    def __init__(self):
        self.files: dict[str, bytes] = {}

    def table(self, name: str, frame: pd.DataFrame | None) -> dict | None:
        if frame is None:
            return None
        self.files[name] = _table_bytes(frame)
        return {"file": name, "index": _index_record(frame.index),
                "columns": _index_record(frame.columns), "dtype": str(frame.dtypes.iloc[0])
                if frame.shape[1] else "float64"}

    def tables(self, prefix: str, frames) -> dict:
        return {stat: self.table(f"{prefix}_{i}.csv", frame)
                for i, (stat, frame) in enumerate(frames.items())}

    def array(self, name: str, arr: np.ndarray) -> dict:
        buf = io.BytesIO()
        np.save(buf, np.asarray(arr, dtype=np.float64), allow_pickle=False)
        self.files[name] = buf.getvalue()
        return {"file": name, "shape": list(arr.shape)}


class _Reader:
    """Files of a saved analysis (a folder or a zip), by checked relative name."""

    def __init__(self, path: Path):
        self.path = path
        self.zip = zipfile.ZipFile(path) if path.is_file() else None

    def read(self, name: str) -> bytes:
        if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
            raise DataError(f"{self.path}: manifest.json names an invalid file {name!r}.")
        if self.zip is not None:
            return self.zip.read(name)
        return (self.path / name).read_bytes()

    def table(self, entry: dict | None) -> pd.DataFrame | None:
        if entry is None:
            return None
        raw = pd.read_csv(io.BytesIO(self.read(entry["file"])), index_col=0,
                          keep_default_na=False, na_values=[""], dtype=str)
        values = raw.apply(pd.to_numeric, errors="raise").to_numpy(dtype=np.float64)
        index, columns = _index_from(entry["index"]), _index_from(entry["columns"])
        if values.shape != (len(index), len(columns)):
            raise DataError(f"{self.path}: {entry['file']} has shape {values.shape}; "
                            f"manifest.json says {(len(index), len(columns))}.")
        return pd.DataFrame(values, index=index, columns=columns).astype(entry["dtype"])

    def tables(self, entries: dict) -> dict:
        return {stat: self.table(e) for stat, e in entries.items()}

    def array(self, entry: dict) -> np.ndarray:
        arr = np.load(io.BytesIO(self.read(entry["file"])), allow_pickle=False)
        if list(arr.shape) != list(entry["shape"]):
            raise DataError(f"{self.path}: {entry['file']} has shape {arr.shape}; "
                            f"manifest.json says {entry['shape']}.")
        return arr

    def close(self):
        if self.zip is not None:
            self.zip.close()


# --------------------------------------------------------------------------------------
# save

def parcellation_record(nsp) -> dict:
    """Name, spaces, number of parcels and labels of the object's parcellation."""
    info = getattr(nsp, "parcellation_info_", None)
    if info is not None:
        return dict(info)
    parc = getattr(nsp, "parcellation_", None)
    if parc is None:
        return {"name": None, "spaces": [], "n_parcels": int(nsp.x_.shape[1]),
                "labels": [str(c) for c in nsp.x_.columns]}
    return jsonable({"name": parc.name, "spaces": list(parc.spaces),
                     "n_parcels": int(parc.n_parcels), "labels": list(map(str, parc.labels))})


def _region_table(nsp) -> pd.DataFrame | None:
    regions = getattr(nsp, "parcellation_regions_", None)
    if regions is not None:
        return regions
    parc = getattr(nsp, "parcellation_", None)
    if parc is None:
        return None
    spaces = [s for s in parc.spaces if not parc.is_surface(s)] or parc.spaces
    try:
        return parc.region_summary(spaces[0])
    except Exception:  # noqa: BLE001 - a summary table is optional
        return None


def save_nispace(nsp, path: str | os.PathLike, save_nulls: bool = True) -> Path:
    """Write a fitted NiSpace object and all its results in the open format.

    ``path`` ending in ``.zip`` gives one zip file, else a folder (replaced if it
    holds an earlier save; refused if it holds anything else).
    """
    path = Path(path)
    w = _Writer()
    manifest: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "created": now(),
    }
    from .._version import __version__

    manifest["nispace"] = __version__
    manifest["object"] = jsonable({
        "x": nsp.x if isinstance(nsp.x, str) else None,
        "x_type": type(nsp.x).__name__, "x_collection": nsp.x_collection,
        "standardize": nsp.standardize, "drop_nan": nsp.drop_nan, "seed": nsp.seed,
        "n_proc": nsp.n_proc, "verbose": nsp.verbose, "dtype": np.dtype(nsp.dtype).name,
        "data_space": nsp.data_space, "parcellation_space": nsp.parcellation_space,
        "parcellation_hemi": nsp.parcellation_hemi})
    manifest["parcellation"] = parcellation_record(nsp)
    regions = _region_table(nsp)
    if regions is not None:
        w.files["parcellation_regions.csv"] = regions.to_csv(index=False).encode("utf-8")
    manifest["parcellation"]["regions"] = None if regions is None else \
        "parcellation_regions.csv"
    manifest["fit_record"] = jsonable(getattr(nsp, "fit_record_", {}) or {})
    manifest["transforms"] = jsonable(list(nsp.transforms_))
    manifest["tables"] = {name: w.table(f"tables/{name}.csv", getattr(nsp, f"{name}_"))
                          for name in ("x", "x_raw", "y", "y_raw", "z")}
    reduction = getattr(nsp, "x_reduction_", None)  # NiSpace.reduce_x's record
    if reduction is not None:
        manifest["x_reduction"] = {"method": reduction.method,
                                   "options": jsonable(reduction.options),
                                   "tables": w.tables("tables/x_reduction", reduction.frames())}
    manifest["colocalizations"] = [
        {"key": c.key, "method": c.method, "xsea": c.xsea, "xsea_aggr": c.xsea_aggr,
         "options": jsonable(dict(c.options)), "provenance": jsonable(dict(c.provenance)),
         "stats": w.tables(f"colocalizations/c{i}", c.stats)}
        for i, c in enumerate(nsp.colocalizations_.values())]
    perms = []
    for i, perm in enumerate(r for d in nsp.permutations_.values() for r in d.values()):
        entry = perm.describe()
        entry["provenance"] = jsonable(dict(perm.provenance))
        for part in ("observed", "p", "z"):
            entry[part] = w.tables(f"permutations/m{i}_{part}", getattr(perm, part))
        entry["nulls"] = ({stat: w.array(f"permutations/m{i}_nulls_{j}.npy", arr)
                           for j, (stat, arr) in enumerate(perm.nulls.items())}
                          if save_nulls else {})
        perms.append(entry)
    manifest["permutations"] = perms
    manifest["corrections"] = [
        {**c.describe(), "provenance": jsonable(dict(c.provenance)),
         "p": w.tables(f"corrections/q{i}", c.p)}
        for i, c in enumerate(nsp.corrections_)]
    w.files["manifest.json"] = json.dumps(manifest, indent=1).encode("utf-8")
    _write(path, w.files)
    return path


def _write(path: Path, files: dict[str, bytes]) -> None:
    tmp = path.with_name(path.name + ".part")
    if tmp.exists():
        shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
    if path.exists() and not is_saved_analysis(path):
        if path.is_file() or any(path.iterdir()):
            raise ExistingPathError(f"path: {path} exists and is not a saved nispace "
                                    f"analysis; expected a new or empty folder, a new .zip "
                                    f"file name, or an earlier save to replace.")
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for name, data in files.items():
                z.writestr(name, data)
        os.replace(tmp, path)
        return
    for name, data in files.items():
        target = tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if path.exists():
        shutil.rmtree(path)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------
# load

def _looks_like_pickle(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(2)
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def is_saved_analysis(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder or zip written by :func:`save_nispace`.

    Parameters
    ----------
    path : str or path-like
        A folder or zip file.

    Returns
    -------
    bool
    """
    path = Path(path)
    try:
        return read_manifest(path).get("format") == FORMAT
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return False


def read_manifest(path: str | os.PathLike) -> dict:
    """The ``manifest.json`` of a saved analysis (folder or zip); never unpickles."""
    path = Path(path)
    if path.is_dir():
        return json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return json.loads(z.read("manifest.json").decode("utf-8"))
    raise InputError(f"path: {path} is not a folder or zip saved by NiSpace.save().")


def load_state(path: str | os.PathLike, allow_pickle: bool = False,
               unpickle: Callable[[Path], Any] | None = None) -> dict | Any:
    """Read a saved analysis: a dict of the object's state.

    A pickle is refused unless ``allow_pickle=True``; then ``unpickle(path)`` is
    returned (the caller's legacy loader).
    """
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"path: {path} does not exist.")
    if path.is_file() and not zipfile.is_zipfile(path) and _looks_like_pickle(path):
        if not allow_pickle:
            raise PickleRefusedError(
                f"path: {path} is a pickle. Loading a pickle runs any code the file "
                f"contains, so nispace refuses it by default. Only if you made this file "
                f"yourself (an object saved by an older nispace), load it with "
                f"NiSpace.load({str(path)!r}, allow_pickle=True) and save it again with "
                f"nsp.save(folder) in the open format.")
        logger.warning("Loading the pickle %s (allow_pickle=True): this runs any code the "
                       "file contains; use it only for files you made yourself.", path)
        return unpickle(path)
    manifest = read_manifest(path)
    if manifest.get("format") != FORMAT:
        raise InputError(f"path: expected a '{FORMAT}' folder or zip; {path} has format "
                         f"{manifest.get('format')!r}.")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise InputError(f"path: {path} has format version {manifest['format_version']}; "
                         f"this nispace reads up to {FORMAT_VERSION}; update nispace.")
    r = _Reader(path)
    try:
        state = {"manifest": manifest,
                 "tables": {k: r.table(v) for k, v in manifest["tables"].items()}}
        red = manifest.get("x_reduction")
        state["x_reduction"] = None if red is None else XReduction.from_frames(
            red["method"], red["options"], r.tables(red["tables"]))
        regions = manifest["parcellation"].get("regions")
        state["regions"] = (pd.read_csv(io.BytesIO(r.read(regions)))
                            if regions else None)
        state["colocalizations"] = [
            ColocalizationResult(key=c["key"], method=c["method"], xsea=c["xsea"],
                                 xsea_aggr=c["xsea_aggr"], options=c["options"],
                                 stats=r.tables(c["stats"]), provenance=c["provenance"])
            for c in manifest["colocalizations"]]
        state["permutations"] = [
            PermutationResult(
                key=m["key"], permute_what=m["permute_what"], kind=m["kind"],
                null_model=m["null_model"], n_perm=m["n_perm"], seed=m["seed"],
                n_proc=m["n_proc"], tails=m["tails"], pooled=m["pooled"],
                paired=m["paired"], maps_which=m["maps_which"], extra=m["extra"],
                observed=r.tables(m["observed"]), p=r.tables(m["p"]), z=r.tables(m["z"]),
                nulls={s: r.array(e) for s, e in m["nulls"].items()},
                provenance=m["provenance"])
            for m in manifest["permutations"]]
        state["corrections"] = [
            CorrectionResult(key=c["key"], permute_what=c["permute_what"],
                             mc_method=c["mc_method"], mc_dimension=c["mc_dimension"],
                             p=r.tables(c["p"]), provenance=c["provenance"])
            for c in manifest["corrections"]]
    finally:
        r.close()
    if manifest.get("nispace") != _version():
        logger.warning("Loading results saved with nispace %s (this is %s).",
                       manifest.get("nispace"), _version())
    return state


def _version() -> str:
    from .._version import __version__

    return __version__
