"""Collections: named selections of reference maps, optionally grouped into sets.

A collection file (``collection-<Name>.collect`` in a dataset folder, or a user's
own file) is either

* JSON: ``{"set": ["map", ...], ...}`` (two-level ``["set", "map"]`` index) or a
  list of maps (flat index), or
* CSV with one to three columns: ``map`` | ``set, map`` | ``set, map, weight``
  (the map column may also be called ``x``), with or without a header.
"""

from __future__ import annotations

import json
import os
from io import StringIO
from pathlib import Path

import pandas as pd

from .._errors import suggest
from ..errors import InputError
from .download import fetch_file, fetch_manifest
from .._docs import fill_doc
from .registry import list_names, load_manifest

_COLUMNS = {1: ["map"], 2: ["set", "map"], 3: ["set", "map", "weight"]}
_HEADER_WORDS = {"map", "set", "x", "weight", "gene", "maps"}


@fill_doc
def list_collections(dataset: str, data_dir=None, data_url=None) -> list[str]:
    """Names of the collections integrated for ``dataset``.

    Parameters
    ----------
    dataset : str
        Canonical reference dataset name (``"pet"``, ``"mrna"``, ...).
    %(data_dir_url)s

    Returns
    -------
    list of str
    """
    prefix = f"reference/{dataset}/collection-"
    return sorted(k[len(prefix):].rsplit(".", 1)[0]
                  for k in fetch_manifest(data_dir, data_url) if k.startswith(prefix))


def default_collection(dataset: str, data_dir=None, data_url=None) -> str | None:
    """The collection a dataset's ``ref.yaml`` names as ``default_collection``.

    Parameters
    ----------
    dataset : str
        A reference dataset name such as ``"mrna"`` (case-insensitive).

    Returns
    -------
    str or None
        The collection name, or None when the dataset names no default.
    """
    _, meta = load_manifest("reference", dataset, data_dir, data_url, argument="dataset")
    name = meta.get("default_collection")
    return None if name is None else str(name)


def datasets_with_collections(data_dir=None, data_url=None) -> dict[str, str | None]:
    """Every reference dataset that has integrated collections, with its default one.

    Returns
    -------
    dict
        ``{dataset: default collection or None}``, datasets in catalogue order.
    """
    return {name: default_collection(name, data_dir, data_url)
            for name in list_names("reference", data_dir, data_url)
            if list_collections(name, data_dir, data_url)}


def parse_collection(text: str, source: str = "collection") -> pd.DataFrame:
    """Parse the text of a collection file into a DataFrame with columns set/map/weight.

    Parameters
    ----------
    text : str
        File content.
    source : str
        Name used in error messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``["map"]``, ``["set", "map"]`` or ``["set", "map", "weight"]``.
    """
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            content = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InputError(f"collection: {source} is not valid JSON ({exc}).") from exc
        if isinstance(content, dict):
            rows = []
            for set_name, members in content.items():
                if isinstance(members, dict):  # {set: {map: weight}}
                    rows += [(set_name, m, w) for m, w in members.items()]
                else:
                    rows += [(set_name, m) for m in members]
            width = max((len(r) for r in rows), default=2)
            frame = pd.DataFrame(rows, columns=_COLUMNS[width])
        elif isinstance(content, list):
            frame = pd.DataFrame({"map": [str(m) for m in content]})
        else:
            raise InputError(f"collection: {source} must hold a JSON object or list.")
    else:
        first = stripped.splitlines()[0] if stripped else ""
        header = 0 if {c.strip().lower() for c in first.split(",")} & _HEADER_WORDS else None
        frame = pd.read_csv(StringIO(text), header=header, dtype=str, skip_blank_lines=True)
        if frame.shape[1] not in _COLUMNS:
            raise InputError(f"collection: {source} has {frame.shape[1]} columns; expected 1 "
                             f"(map), 2 (set, map) or 3 (set, map, weight).")
        frame.columns = _COLUMNS[frame.shape[1]]
        if "weight" in frame:
            frame["weight"] = pd.to_numeric(frame["weight"])
    frame["map"] = frame["map"].astype(str).str.strip()
    if frame.empty:
        raise InputError(f"collection: {source} is empty.")
    return frame.reset_index(drop=True)


@fill_doc
def load_collection(dataset: str, collection: str | os.PathLike, data_dir=None,
                    data_url=None) -> tuple[str, pd.DataFrame]:
    """Load an integrated collection by name, or a user's collection file by path.

    Parameters
    ----------
    dataset : str
        Canonical reference dataset name (``"pet"``, ``"mrna"``, ...).
    collection : str or path-like
        A collection name (see :func:`list_collections`) or the path of your own
        collection file.
    %(data_dir_url)s

    Returns
    -------
    (str, pandas.DataFrame)
        A display name and the parsed collection (see :func:`parse_collection`).
    """
    path = Path(os.fspath(collection)).expanduser()
    if path.suffix and path.is_file():
        return path.name, parse_collection(path.read_text(encoding="utf-8"), str(path))
    available = list_collections(dataset, data_dir, data_url)
    name = str(collection).removeprefix("collection-")
    match = [c for c in available if c.lower() == name.lower()]
    if not match:
        raise InputError(
            f"collection: {collection!r} is neither an integrated collection of dataset "
            f"{dataset!r} nor an existing file. Integrated collections: {available}."
            f"{suggest(name, available)}")
    name = match[0]
    relpath = next(k for k in fetch_manifest(data_dir, data_url)
                   if k.startswith(f"reference/{dataset}/collection-{name}."))
    text = fetch_file(relpath, data_dir, data_url).read_text(encoding="utf-8")
    return name, parse_collection(text, relpath)
