"""The catalogue of the data repository: names, YAML manifests and aliases.

Everything here is read from the data source itself (``parc.yaml``, ``ref.yaml``,
``template.yaml``, ``example.yaml``, found through the hash manifest), so the
package knows no dataset or parcellation names of its own.
"""

from __future__ import annotations

import functools
from typing import Any

import yaml

from .._errors import suggest
from ..errors import InputError, InputTypeError
from .download import fetch_file, fetch_manifest

#: kind -> (top-level folder, manifest file name)
KINDS = {
    "parcellation": ("parcellation", "parc.yaml"),
    "reference": ("reference", "ref.yaml"),
    "template": ("template", "template.yaml"),
    "example": ("example", "example.yaml"),
}
_NOUN = {"parcellation": "parcellation", "reference": "dataset", "template": "space",
         "example": "example"}


def list_names(kind: str, data_dir=None, data_url=None) -> list[str]:
    """Names available for ``kind`` ("parcellation", "reference", "template", "example")."""
    folder, fname = KINDS[kind]
    manifest = fetch_manifest(data_dir, data_url)
    names = {k.split("/")[1] for k in manifest
             if k.startswith(folder + "/") and k.count("/") == 2 and k.endswith("/" + fname)}
    return sorted(names, key=str.lower)


def load_yaml(relpath: str, data_dir=None, data_url=None) -> dict[str, Any]:
    """Fetch and parse a YAML file of the data repository."""
    path = fetch_file(relpath, data_dir, data_url)
    return _read_yaml(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _read_yaml(path: str, _mtime: int) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def match_name(kind: str, name: str, data_dir=None, data_url=None,
               argument: str | None = None) -> str:
    """Return the exact catalogue spelling of ``name`` (case-insensitive match).

    Raises
    ------
    ValueError
        Naming the argument, the valid names and the closest one.
    """
    if not isinstance(name, str):
        raise InputTypeError(f"{argument or _NOUN[kind]}: expected a string; "
                             f"got {type(name).__name__}.")
    names = list_names(kind, data_dir, data_url)
    if name in names:
        return name
    lower = {n.lower(): n for n in names}
    if name.lower() in lower:
        return lower[name.lower()]
    raise InputError(f"{argument or _NOUN[kind]}: unknown {_NOUN[kind]} {name!r}. "
                     f"Available: {names}.{suggest(name, names)}")


def load_manifest(kind: str, name: str, data_dir=None, data_url=None,
                  argument: str | None = None) -> tuple[str, dict[str, Any]]:
    """Resolve ``name`` (following one alias) and return (canonical name, manifest dict)."""
    folder, fname = KINDS[kind]
    name = match_name(kind, name, data_dir, data_url, argument)
    meta = load_yaml(f"{folder}/{name}/{fname}", data_dir, data_url)
    if "alias" in meta:
        name = match_name(kind, meta["alias"], data_dir, data_url, argument)
        meta = load_yaml(f"{folder}/{name}/{fname}", data_dir, data_url)
    return name, meta


def aliases(data_dir=None, data_url=None) -> dict[str, str]:
    """Parcellation alias -> canonical name."""
    out = {}
    for name in list_names("parcellation", data_dir, data_url):
        meta = load_yaml(f"parcellation/{name}/parc.yaml", data_dir, data_url)
        if "alias" in meta:
            out[name] = meta["alias"]
    return out


def parse_parcellation_name(parcellation: str | tuple | list, data_dir=None,
                            data_url=None, extra_names: list[str] | tuple = ()) -> list[str]:
    """Split a (possibly combined) parcellation name into canonical library names.

    Accepts a single name or alias (``"Schaefer200"``), a combination written
    ``"Schaefer200TianS1"``, ``"Schaefer200 TianS1"``, ``"Schaefer200+TianS1"``
    or as a tuple/list of two names. A concatenated name is split at the unique
    position where both parts are known names.

    Returns
    -------
    list of str
        One canonical name, or two for a cortex + subcortex combination.

    ``extra_names`` are accepted as they are although they have no library
    parcellation (e.g. ``"Aseg"``, for which only reference tables exist).
    """
    arg = "parcellation"
    if isinstance(parcellation, (tuple, list)):
        parts = list(parcellation)
    elif isinstance(parcellation, str):
        text = parcellation.strip()
        parts = [p for p in text.replace("+", " ").split() if p]
        if len(parts) == 1:
            parts = _split_concatenated(parts[0], data_dir, data_url, extra_names)
    else:
        raise InputTypeError(f"{arg}: expected a name, a tuple of two names or a Parcellation; "
                             f"got {type(parcellation).__name__}.")
    if not 1 <= len(parts) <= 2:
        raise InputError(f"{arg}: expected one parcellation or a cortex + subcortex pair; "
                         f"got {len(parts)} parts in {parcellation!r}.")
    extra = {n.lower(): n for n in extra_names}
    return [extra[p.lower()] if isinstance(p, str) and p.lower() in extra
            else load_manifest("parcellation", p, data_dir, data_url, arg)[0] for p in parts]


def _split_concatenated(name: str, data_dir, data_url, extra_names=()) -> list[str]:
    names = {n.lower() for n in list_names("parcellation", data_dir, data_url)}
    names |= {n.lower() for n in extra_names}
    if name.lower() in names:
        return [name]
    splits = [(name[:i], name[i:]) for i in range(1, len(name))
              if name[:i].lower() in names and name[i:].lower() in names]
    if len(splits) == 1:
        return list(splits[0])
    if len(splits) > 1:
        raise InputError(f"parcellation: {name!r} can be split into known names in several "
                         f"ways {splits}; write it as 'A+B' or as a tuple.")
    return [name]  # unknown: load_manifest raises with suggestions
