"""Provenance of results: content hashes of the data, versions, data files, time.

Everything here is JSON-serialisable, so a provenance record can be written into
``manifest.json`` and ``results.json`` and read back unchanged.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import platform
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["content_hash", "array_hash", "jsonable", "package_versions", "data_record",
           "base_provenance"]

#: packages whose versions every result records
PACKAGES = ("numpy", "scipy", "pandas", "nibabel", "nilearn", "scikit-learn", "statsmodels",
            "joblib", "matplotlib")


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars, tuples and other objects turned into JSON types."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else str(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return jsonable(float(value))
    if isinstance(value, np.ndarray):
        return {"array_sha256": array_hash(value), "shape": list(value.shape)}
    return str(value)


def _labels(index: pd.Index) -> list:
    return [[str(v) for v in index.get_level_values(i)] for i in range(index.nlevels)]


def content_hash(frame: pd.DataFrame | None) -> str | None:
    """SHA-256 of a table: its values as float64 (C order) and its row and column labels.

    Two tables with the same numbers but other labels (or another order) differ.

    Parameters
    ----------
    frame : pandas.DataFrame or None
        The table; None gives None.

    Returns
    -------
    str or None
        The hexadecimal digest.
    """
    if frame is None:
        return None
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(frame.to_numpy(dtype=np.float64)).tobytes())
    h.update(json.dumps([_labels(frame.index), _labels(frame.columns),
                         list(map(str, frame.shape))]).encode("utf-8"))
    return h.hexdigest()


def array_hash(values) -> str:
    """SHA-256 of an array (its values as text when it is not numeric)."""
    arr = np.asarray(values)
    h = hashlib.sha256(str(arr.shape).encode("utf-8"))
    if arr.dtype.kind in "biuf":
        h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
    else:
        h.update(json.dumps([str(v) for v in arr.ravel()]).encode("utf-8"))
    return h.hexdigest()


def flat_label(label) -> str:
    """A map label as text: ``"set · map"`` for the tuples of a ``(set, map)`` index."""
    return " · ".join(map(str, label)) if isinstance(label, tuple) else str(label)


def data_record(frame: pd.DataFrame | None) -> dict | None:
    """Labels, shape and content hash of one table (X, Y or Z)."""
    if frame is None:
        return None
    rows = [flat_label(r) for r in frame.index]
    return {"shape": list(frame.shape), "labels": rows, "sha256": content_hash(frame)}


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages the computations depend on."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def base_provenance(nsp) -> dict:
    """What every result of ``nsp`` records: data (labels + hashes), Y steps, the fit
    record (copied whole), versions, data files used and the time."""
    from .._version import __version__
    from ..datasets import files_used

    return jsonable({
        "created": now(),
        "nispace": __version__,
        "python": platform.python_version(),
        "packages": package_versions(),
        "data": {"x": data_record(nsp.x_), "y": data_record(nsp.get_y()),
                 "z": data_record(nsp.z_)},
        "steps": copy.deepcopy(list(nsp.transforms_)),
        "y_steps": [step_record(s) for s in (nsp.y_steps_ or [])],
        "fit_record": copy.deepcopy(getattr(nsp, "fit_record_", {}) or {}),
        "standardize": nsp.standardize,
        "data_files": dict(sorted(files_used().items())),
    })


def step_record(step: dict) -> dict:
    """A Y step (transform or cleaning) with hashes instead of its arrays."""
    out = {}
    for key, value in step.items():
        if value is None or isinstance(value, (str, bool, int, float)):
            out[key] = value
        else:
            arr = np.asarray(value)
            out[key] = {"sha256": array_hash(arr), "shape": list(arr.shape)}
    return out
