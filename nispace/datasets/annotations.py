"""Brain annotations: the neuromaps catalogue of published brain maps.

neuromaps [1]_ curates a set of brain maps ("annotations") acquired by other
groups, each identified by a 4-tuple ``(source, desc, space, den|res)``, e.g.
``("abagen", "genepc1", "fsaverage", "10k")``. nispace reads the same catalogue
(``annotations/neuromaps/osf.json`` and ``meta.json`` of the data repository,
fetched and SHA-256 verified by :func:`~nispace.datasets.download.fetch_file`)
and downloads the annotation files themselves from OSF.

Where the files go
    ``<root>/annotations/<rel_path>/<fname>``, where ``<root>`` is the
    ``data_dir`` argument, else the environment variable
    ``NISPACE_ANNOTATIONS_DIR``, else ``NISPACE_DATA_DIR`` (so by default the
    files sit in ``<NISPACE_DATA_DIR>/annotations/``). The layout is the one of
    neuromaps, so ``data_dir="~/neuromaps-data"`` reuses a neuromaps download.
Where the files come from
    A URL built from the catalogue's ``url`` entry ``[project, file_id]`` with a
    template: the ``url_template`` argument, else ``NISPACE_ANNOTATIONS_URL``,
    else the OSF storage API used by neuromaps,
    ``https://files.osf.io/v1/resources/{project}/providers/osfstorage/{file_id}``.
    A template may also be a ``file://`` URL or a local path.
    Which URLs a catalogue may lead to: an entry's ``[project, file_id]`` must be
    two plain names (letters, digits, ``_``, ``-``, ``.``; no ``/`` or ``..``); an
    entry that gives a full URL is accepted only over https from the OSF hosts
    (:data:`CATALOGUE_HOSTS`) or under the configured data source or URL template.
    ``file://`` URLs and local paths in a catalogue are always refused (the
    template itself, chosen by the user, may be local).
How they are verified
    Against the catalogue's MD5 checksum, on download (temporary file in the
    target folder, verified, then moved into place with :func:`os.replace`) and
    again on every call for a cached file (a corrupted copy is fetched anew).
    Downloads are locked against concurrent processes, retried with exponential
    backoff and limited in size and time, with the machinery of
    :mod:`nispace.datasets.download`. An entry without a checksum is refused
    unless the user opts in with ``allow_unverified=True`` or the environment
    variable ``NISPACE_ALLOW_UNVERIFIED=1``.

Restricted annotations live in a private OSF project and need an OSF access
token, which nispace does not use: they are listed only with
``return_restricted=True`` and can be used only from a cached copy.

References
----------
.. [1] Markello RD, Hansen JY, Liu Z-Q, Bazinet V, Shafiei G, Suárez LE, et al.
   neuromaps: structural and functional interpretation of brain maps. Nat Methods.
   2022;19:1472-1479. doi:10.1038/s41592-022-01625-w
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .._errors import suggest
from .._logging import verbose_context
from ..errors import DataError, InputError, InputTypeError
from .config import get_data_dir, get_data_url
from .download import (DataFetchError, _check_relpath, _lock, _NotFound, _retrieve,
                       _Transient, fetch_file)

logger = logging.getLogger(__name__)

ENV_ANNOTATIONS_DIR = "NISPACE_ANNOTATIONS_DIR"
ENV_ANNOTATIONS_URL = "NISPACE_ANNOTATIONS_URL"
ENV_ALLOW_UNVERIFIED = "NISPACE_ALLOW_UNVERIFIED"
#: Hosts a catalogue entry's full URL may name (over https), besides the configured bases.
CATALOGUE_HOSTS = frozenset({"files.osf.io", "osf.io", "files.de-1.osf.io",
                             "files.us.osf.io"})
#: The OSF storage API, as used by neuromaps (``{project}``, ``{file_id}`` from the catalogue).
DEFAULT_ANNOTATIONS_URL = (
    "https://files.osf.io/v1/resources/{project}/providers/osfstorage/{file_id}"
)
#: Catalogue files in the nispace data repository.
CATALOGUE_FILE = "annotations/neuromaps/osf.json"
META_FILE = "annotations/neuromaps/meta.json"
#: OSF projects whose files need an access token (as in neuromaps).
RESTRICTED_PROJECTS = frozenset({"grh4d"})
#: Filter keys, in neuromaps' order.
FILTER_KEYS = ("source", "desc", "space", "den", "res", "hemi", "tags", "format")

Annotation = tuple[str, str, str, str]
_ANY = "all"  # a bare "all" matches any value
_HEMI_ORDER = {"L": 0, "R": 1}
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_DOI = re.compile(r"(?:doi:\s*|https?://(?:dx\.)?doi\.org/)(10\.\d{4,9}/[^\s,;]+)", re.I)


# --------------------------------------------------------------------------------------
# catalogue

@dataclass(frozen=True)
class _Catalogue:
    entries: list[dict[str, Any]]  # osf.json "annotations", entries without url dropped
    meta: dict[Annotation, dict[str, Any]]  # meta.json entries by annotation tuple


_CATALOGUES: dict[tuple[str, str], _Catalogue] = {}


def _annotation_key(entry: dict[str, Any]) -> Annotation:
    """The 4-tuple ``(source, desc, space, den|res)`` of a catalogue or meta entry."""
    return (entry["source"], entry["desc"], entry["space"], entry.get("den") or entry.get("res"))


def _read_json(relpath: str) -> dict[str, Any]:
    try:
        path = fetch_file(relpath)
    except KeyError:
        raise DataFetchError(
            f"The annotation catalogue '{relpath}' is not part of the data source "
            f"{get_data_url()}. Point NISPACE_DATA_URL to a copy of the nispace data "
            f"repository that includes annotations/neuromaps/ (osf.json and meta.json)."
        ) from None
    return json.loads(path.read_text(encoding="utf-8"))


def _catalogue() -> _Catalogue:
    """The parsed catalogue of the configured data source (memoised per data dir and URL)."""
    key = (str(get_data_dir()), get_data_url())
    if key not in _CATALOGUES:
        entries = [e for e in _read_json(CATALOGUE_FILE)["annotations"]
                   if e.get("url") is not None]
        meta = {_annotation_key(m["annot"]): m for m in _read_json(META_FILE)["annotations"]}
        _CATALOGUES[key] = _Catalogue(entries, meta)
    return _CATALOGUES[key]


def clear_memo() -> None:
    """Forget the catalogues held in memory (the disk cache stays)."""
    _CATALOGUES.clear()


def _is_restricted(entry: dict[str, Any]) -> bool:
    url = entry.get("url")
    return not isinstance(url, str) and url[0] in RESTRICTED_PROJECTS


# --------------------------------------------------------------------------------------
# matching

def _normalise(name: str, value) -> str | list[str] | None:
    """None, the wildcard ``"all"``, or a list of wanted values."""
    if value is None or (isinstance(value, str) and value == _ANY):
        return value
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, dict):
        values = list(value)
        if all(isinstance(v, str) for v in values):
            return values
    raise InputTypeError(f"{name}: expected a string, a list of strings, 'all' or None; "
                         f"got {value!r}.")


def _filters(**kwargs) -> dict[str, str | list[str]]:
    """The given filters, normalised (keys that are None are left out)."""
    out = {key: _normalise(key, kwargs.get(key)) for key in FILTER_KEYS}
    return {k: v for k, v in out.items() if v is not None}


def _matches(entry: dict[str, Any], filters: dict[str, str | list[str]]) -> bool:
    """neuromaps' matching rule for one catalogue entry.

    Every given key must match; a list matches if any value does, except ``tags``
    where all listed tags must be present; ``"all"`` matches any entry that has a
    value for the key. ``den`` and ``res`` are pooled: an entry matches if its
    density or resolution is among the values given for either.
    """
    for key, wanted in filters.items():
        if key in ("den", "res"):
            continue
        have = entry.get(key)
        if have is None:
            return False
        if wanted == _ANY:
            continue
        if key == "tags":
            if not all(tag in have for tag in wanted):
                return False
        elif have not in wanted:
            return False
    denres = [filters[k] for k in ("den", "res") if k in filters]
    if denres and _ANY not in denres:
        return (entry.get("den") or entry.get("res")) in sum(denres, [])
    return True


def _match(entries: list[dict[str, Any]], filters, return_restricted: bool = True):
    return [e for e in entries if (return_restricted or not _is_restricted(e))
            and _matches(e, filters)]


def _unique_keys(entries: list[dict[str, Any]]) -> list[Annotation]:
    return list(dict.fromkeys(_annotation_key(e) for e in entries))


def available_annotations(source: str | list[str] | None = None,
                          desc: str | list[str] | None = None,
                          space: str | list[str] | None = None,
                          den: str | list[str] | None = None,
                          res: str | list[str] | None = None,
                          hemi: str | list[str] | None = None,
                          tags: str | list[str] | None = None,
                          format: str | list[str] | None = None,
                          return_restricted: bool = False) -> list[Annotation]:
    """List the annotations that :func:`fetch_annotation` can fetch.

    Parameters
    ----------
    source, desc, space, den, res, hemi, tags, format : str, list of str or None
        Values to match. None matches everything; a string matches exactly; a list
        matches any of its values, except ``tags``, where every listed tag must be
        present; ``"all"`` matches any annotation that has the key (volumes have no
        ``hemi``). ``den`` and ``res`` are pooled: ``den="10k", res="2mm"`` matches
        10k surfaces and 2 mm volumes.
    return_restricted : bool
        Include annotations that need an OSF access token.

    Returns
    -------
    list of tuple
        ``(source, desc, space, den|res)`` of each matching annotation, once each,
        in catalogue order.

    Notes
    -----
    Same results as ``neuromaps.datasets.available_annotations`` with two
    exceptions: neuromaps compares list values (except tags) by substring
    (``source=["abag"]`` matches "abagen"), nispace exactly; and ``"all"`` for
    ``tags``, ``den`` or ``res`` matches nothing in neuromaps, everything here.
    """
    filters = _filters(source=source, desc=desc, space=space, den=den, res=res, hemi=hemi,
                       tags=tags, format=format)
    return _unique_keys(_match(_catalogue().entries, filters, return_restricted))


def available_tags(return_restricted: bool = False) -> list[str]:
    """Sorted tags that can be used to search annotations (``tags=``).

    Parameters
    ----------
    return_restricted : bool
        Include the tags of annotations that need an OSF access token.
    """
    return sorted({tag for e in _catalogue().entries
                   if return_restricted or not _is_restricted(e) for tag in e.get("tags") or []})


def _values_of(entry: dict[str, Any], key: str) -> list[str]:
    """The values an entry has for a filter key (den and res pooled)."""
    if key == "tags":
        return list(entry.get("tags") or [])
    value = entry.get("den") or entry.get("res") if key in ("den", "res") else entry.get(key)
    return [] if value is None else [value]


def _shown(key: str, value: str | list[str]) -> str | list[str]:
    """A filter as the user probably wrote it (one-element lists as strings)."""
    return value[0] if isinstance(value, list) and len(value) == 1 and key != "tags" else value


def _no_match_error(entries, filters) -> ValueError:
    """Which filter values exist nowhere (with the closest value), or which combination fails."""
    problems = []
    for key, wanted in filters.items():
        known = sorted({v for e in entries for v in _values_of(e, key)}, key=str.lower)
        for value in ([] if wanted == _ANY else wanted):
            if value not in known:
                listing = f" Known values: {known}." if len(known) <= 20 else ""
                problems.append(f"{key}={value!r} matches no annotation.{listing}"
                                f"{suggest(value, known)}")
    given = ", ".join(f"{k}={_shown(k, v)!r}" for k, v in filters.items())
    if problems:
        msg = "No annotation matches " + given + ": " + " ".join(problems)
    else:
        alone = [f"{k}={_shown(k, v)!r} alone matches "
                 f"{_unique_keys(_match(entries, {k: v}, return_restricted=False))[:5]}"
                 for k, v in filters.items()]
        msg = (f"No annotation matches all of {given}; each value exists, but not in this "
               f"combination ({'; '.join(alone)}).")
    return ValueError(msg + " List the choices with available_annotations().")


# --------------------------------------------------------------------------------------
# files

def _annotations_root(data_dir: str | os.PathLike | None) -> Path:
    """argument > ``NISPACE_ANNOTATIONS_DIR`` > ``NISPACE_DATA_DIR`` (not created here)."""
    if data_dir is None:
        data_dir = os.environ.get(ENV_ANNOTATIONS_DIR) or None
    return get_data_dir(data_dir)


def _url_template(url_template: str | None) -> str:
    template = url_template or os.environ.get(ENV_ANNOTATIONS_URL) or DEFAULT_ANNOTATIONS_URL
    try:
        template.format(project="p", file_id="f")
    except (KeyError, IndexError, ValueError, AttributeError):
        raise InputError(f"url_template: expected a string with the fields {{project}} and "
                         f"{{file_id}} (argument or {ENV_ANNOTATIONS_URL}); "
                         f"got {template!r}.") from None
    return template


def _prefix(base: str) -> str | None:
    """The http(s) URL prefix under which a configured base serves files, or None."""
    base = base.split("{", 1)[0]
    parts = urllib.parse.urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return base if base.endswith("/") else base.rsplit("/", 1)[0] + "/"


def _url_allowed(url: str, template: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname in CATALOGUE_HOSTS and parts.username is None:
        return True
    if parts.scheme not in ("http", "https") or ".." in parts.path.split("/"):
        return False
    return any(p is not None and url.startswith(p)
               for p in (_prefix(template), _prefix(get_data_url())))


def _untrusted(entry: dict[str, Any], problem: str) -> DataFetchError:
    return DataFetchError(
        f"Annotation {_annotation_key(entry)} ({entry.get('fname')}): the catalogue of the "
        f"data source {get_data_url()} {problem}. Nothing was downloaded. Use a trusted copy "
        f"of the nispace data repository (NISPACE_DATA_URL).")


def _file_url(entry: dict[str, Any], template: str) -> str:
    """The download URL of a catalogue entry, refusing what a catalogue may not name."""
    url = entry["url"]
    if isinstance(url, str):  # a full URL in the catalogue: only from allowed hosts
        if not _url_allowed(url, template):
            raise _untrusted(entry, f"gives the URL {url!r}, which is not an https URL of "
                                    f"{sorted(CATALOGUE_HOSTS)} nor under the configured "
                                    f"data source or url_template ({template!r}); local "
                                    f"paths and file:// URLs are never accepted")
        return url
    if not (isinstance(url, (list, tuple)) and len(url) == 2
            and all(isinstance(v, str) and _NAME.match(v) and v not in (".", "..")
                    for v in url)):
        raise _untrusted(entry, f"gives the url {url!r}; expected [project, file_id], two "
                                f"plain names (letters, digits, '_', '-', '.')")
    project, file_id = url
    return template.format(project=project, file_id=file_id)


def _allow_unverified(allow_unverified: bool | None) -> bool:
    if allow_unverified is None:
        return os.environ.get(ENV_ALLOW_UNVERIFIED, "").strip().lower() in ("1", "true", "yes")
    if not isinstance(allow_unverified, bool):
        raise InputTypeError(f"allow_unverified: expected True, False or None; got "
                             f"{allow_unverified!r}.")
    return allow_unverified


def _checksum(entry: dict[str, Any]) -> Any:
    """The entry's MD5 checksum, lower-cased (catalogues may write hex digits in upper
    case)."""
    checksum = entry.get("checksum")
    return checksum.strip().lower() if isinstance(checksum, str) else checksum


def _check_checksum(entry: dict[str, Any], allowed: bool) -> None:
    checksum = _checksum(entry)
    if checksum is None and allowed:
        logger.warning("The catalogue has no checksum for %s; it is used unverified "
                       "(allow_unverified).", entry["fname"])
        return
    if not (isinstance(checksum, str) and re.fullmatch(r"[0-9a-f]{32}", checksum)):
        raise _untrusted(entry, f"gives no valid MD5 checksum (got {checksum!r}), so the file "
                                f"cannot be verified. If you trust this source, call again "
                                f"with allow_unverified=True or set "
                                f"{ENV_ALLOW_UNVERIFIED}=1")


def _md5_file(path: str | os.PathLike) -> str:
    """MD5 hex digest of a file's bytes (the checksum the neuromaps catalogue gives)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _entry_path(entry: dict[str, Any], root: Path) -> tuple[str, Path]:
    """(path relative to ``root``, cached file) of a catalogue entry."""
    rel = _check_relpath(f"annotations/{entry['rel_path'].strip('/')}/{entry['fname']}")
    return rel, root / rel


def _is_valid(path: Path, checksum: str | None) -> bool:
    """The cached file matches ``checksum`` (no checksum: it exists; callers have checked
    that the user allowed unverified files)."""
    try:
        return _md5_file(path) == checksum if checksum else path.is_file()
    except FileNotFoundError:
        return False


def _md5_check(expected: str | None):
    """Validator for ``download._retrieve``: raises ValueError on an MD5 mismatch."""
    def check(tmp: Path) -> None:
        received = _md5_file(tmp)
        if expected and received != expected:
            raise DataError(f"MD5 checksum mismatch (expected {expected}, "
                            f"received {received})")
    return check


def _restricted_error(entries: list[dict[str, Any]], root: Path,
                      return_restricted: bool) -> DataFetchError:
    names = _unique_keys(entries)
    where = "; ".join(f"{_entry_path(e, root)[1]} (MD5 {e['checksum']})" for e in entries)
    how = ("If you have these files (e.g. from neuromaps with NEUROMAPS_OSF_TOKEN), place "
           f"them at {where} and call again with return_restricted=True.")
    if return_restricted:
        how = f"They are not in the cache: {where}."
    return DataFetchError(
        f"Annotation(s) {names} are restricted: their files are in a private OSF project "
        f"and need an OSF access token, which nispace does not use, so they cannot be "
        f"downloaded and are not available offline. {how}")


def _fetch_entry(entry: dict[str, Any], root: Path, template: str) -> Path:
    """Return the verified cached file of one catalogue entry, downloading it if needed.

    The entry's checksum and URL have been checked by the caller (:func:`_check_checksum`).
    """
    (rel, target), checksum = _entry_path(entry, root), _checksum(entry)
    if _is_valid(target, checksum):
        return target
    if _is_restricted(entry):
        raise _restricted_error([entry], root, True)
    with _lock(root, rel):
        # another process may have fetched it while we waited for the lock
        if _is_valid(target, checksum):
            return target
        if target.exists():
            logger.warning("Cached annotation %s does not match its MD5 checksum; fetching it "
                           "again.", target)
        location = _file_url(entry, template)
        logger.info("Downloading %s from %s", entry["fname"], location)
        name = _annotation_key(entry)
        try:
            _retrieve(location, target, None, check=_md5_check(checksum))
        except _NotFound:
            reason = "the file was not found there"
        except (_Transient, DataFetchError) as exc:
            reason = str(exc)
            if "checksum mismatch" in reason:
                raise DataFetchError(
                    f"Annotation {name}: {entry['fname']} downloaded from {location} failed "
                    f"verification: {reason}. Nothing was written to the cache. The source "
                    f"may be corrupt; try again later or set {ENV_ANNOTATIONS_URL} to "
                    f"another copy.") from None
        else:
            return target
    raise DataFetchError(
        f"Could not obtain annotation {name}: {entry['fname']} is not in the cache ({target}) "
        f"and {location} failed: {reason}. Check your connection, set {ENV_ANNOTATIONS_URL} "
        f"(or url_template) to a reachable copy laid out as {{project}}/{{file_id}}, or "
        f"point {ENV_ANNOTATIONS_DIR} (or data_dir) to a folder that holds the file.")


def _log_notes(keys: list[Annotation], meta: dict[Annotation, dict[str, Any]]) -> None:
    """Warnings from meta.json, and the papers to cite (INFO)."""
    for key in keys:
        entry = meta.get(key, {})
        if entry.get("warning"):
            logger.warning("Annotation %s: %s", key, entry["warning"])
        refs = [r["citation"] for group in ("primary", "secondary")
                for r in (entry.get("refs") or {}).get(group, []) if r.get("citation")]
        if refs:
            logger.info("Please cite for %s:\n  %s", key, "\n  ".join(refs))


def fetch_annotation(*, source: str | list[str] | None = None,
                     desc: str | list[str] | None = None,
                     space: str | list[str] | None = None,
                     den: str | list[str] | None = None,
                     res: str | list[str] | None = None,
                     hemi: str | list[str] | None = None,
                     tags: str | list[str] | None = None,
                     format: str | list[str] | None = None,
                     return_single: bool = True, return_restricted: bool = False,
                     data_dir: str | os.PathLike | None = None,
                     url_template: str | None = None,
                     allow_unverified: bool | None = None,
                     verbose: bool | str | int | None = None,
                     ) -> Path | list[Path] | dict[Annotation, Path | list[Path]]:
    """Download (or take from the cache) the files of the matching annotations.

    Parameters
    ----------
    source, desc, space, den, res, hemi, tags, format : str, list of str or None
        Values to match, as in :func:`available_annotations`. At least one must be
        given; use e.g. ``source="all"`` to fetch every annotation.
    return_single : bool
        If exactly one annotation matches, return its file(s) instead of a dict.
    return_restricted : bool
        Include restricted annotations (private OSF project). nispace does not use
        OSF tokens, so these are returned only from a verified cached copy; if one
        is missing a :class:`~nispace.datasets.DataFetchError` says where to put it.
        With False they are left out, and an error is raised if nothing else matches.
    data_dir : str or path-like, optional
        Root of the cache; files are kept in ``<data_dir>/annotations/<rel_path>/``.
        Defaults to ``NISPACE_ANNOTATIONS_DIR``, else ``NISPACE_DATA_DIR``.
    url_template : str, optional
        Download URL with the fields ``{project}`` and ``{file_id}`` (the catalogue's
        ``url`` entry). Defaults to ``NISPACE_ANNOTATIONS_URL``, else
        :data:`DEFAULT_ANNOTATIONS_URL` (OSF).
    allow_unverified : bool or None
        Accept catalogue entries without a checksum (their files cannot be
        verified; a WARNING is logged). None: the environment variable
        ``NISPACE_ALLOW_UNVERIFIED`` (``1``/``true``), else False, so such an
        entry is an error.
    verbose : bool, str, int or None
        Logging level for this call (None follows :func:`nispace.set_verbosity`). At INFO, the
        papers to cite for each annotation are logged.

    Returns
    -------
    pathlib.Path, list of pathlib.Path or dict
        A dict ``{(source, desc, space, den|res): files}`` in catalogue order, where
        ``files`` is the path of a volume (or of a single surface hemisphere) and the
        list ``[L, R]`` of a two-hemisphere surface. With ``return_single`` and one
        matching annotation, ``files`` itself.

    Raises
    ------
    ValueError
        No filter given, or nothing matches (the message names the filter values
        that match nothing and the closest existing values).
    DataFetchError
        A file could not be downloaded or verified (nothing broken is left in the
        cache), a restricted annotation is not in the cache, or the catalogue names
        a URL outside the allowed hosts, a local path, or no checksum (all checked
        before any download).

    Notes
    -----
    Same selection and return shapes as ``neuromaps.datasets.fetch_annotation``,
    except that two-hemisphere surfaces are always ordered ``[L, R]`` (neuromaps
    keeps catalogue order, which is ``[R, L]`` for the xu2020 maps) and paths are
    :class:`pathlib.Path` objects.
    """
    filters = _filters(source=source, desc=desc, space=space, den=den, res=res, hemi=hemi,
                       tags=tags, format=format)
    if not filters:
        raise InputError(f"fetch_annotation: expected at least one of {list(FILTER_KEYS)}; "
                         f"got none. To fetch every annotation use e.g. source='all'.")
    with verbose_context(verbose):
        catalogue = _catalogue()
        root = _annotations_root(data_dir)
        matched = _match(catalogue.entries, filters)
        restricted = [e for e in matched if _is_restricted(e)]
        if restricted and not return_restricted:
            matched = [e for e in matched if not _is_restricted(e)]
            if not matched:
                raise _restricted_error(restricted, root, False)
            logger.info("Leaving out restricted annotation(s) %s (return_restricted=False).",
                        _unique_keys(restricted))
        if not matched:
            raise _no_match_error(catalogue.entries, filters)
        missing = [e for e in matched if _is_restricted(e)
                   and not _is_valid(_entry_path(e, root)[1], _checksum(e))]
        if missing:  # before any download
            raise _restricted_error(missing, root, True)
        template = _url_template(url_template)
        unverified = _allow_unverified(allow_unverified)
        for entry in matched:  # before any download
            _check_checksum(entry, unverified)
            if not _is_restricted(entry):
                _file_url(entry, template)
        logger.info("Fetching %d file(s) of %d annotation(s).", len(matched),
                    len(_unique_keys(matched)))
        grouped: dict[Annotation, list[tuple[int, Path]]] = {}
        for entry in matched:
            path = _fetch_entry(entry, root, template)
            order = _HEMI_ORDER.get(entry.get("hemi"), 2)
            grouped.setdefault(_annotation_key(entry), []).append((order, path))
        _log_notes(list(grouped), catalogue.meta)
    out = {}
    for key, files in grouped.items():
        paths = [path for _, path in sorted(files, key=lambda f: f[0])]  # [L, R]
        out[key] = paths[0] if len(paths) == 1 else paths
    if return_single and len(out) == 1:
        return next(iter(out.values()))
    return out


# --------------------------------------------------------------------------------------
# descriptions

def _references(refs: list[dict[str, str]]) -> list[dict[str, str]]:
    """Non-empty references as ``{"citation", "bibkey", "doi"}`` (doi "" if none is given)."""
    out = []
    for ref in refs or []:
        citation = (ref.get("citation") or "").strip()
        if not citation and not ref.get("bibkey"):
            continue
        doi = _DOI.search(citation)
        out.append({"citation": citation, "bibkey": ref.get("bibkey") or "",
                    "doi": doi.group(1).rstrip(".") if doi else ""})
    return out


def describe_annotations(annotations: Annotation | list[Annotation] | None = None,
                         **filters) -> pd.DataFrame:
    """Full descriptions and citations of annotations.

    Parameters
    ----------
    annotations : tuple or list of tuple, optional
        ``(source, desc, space, den|res)`` tuples as returned by
        :func:`available_annotations` (restricted ones included). If None, the
        annotations selected by ``filters``.
    **filters
        Keyword arguments of :func:`available_annotations` (``source``, ...,
        ``return_restricted``); only used when ``annotations`` is None.

    Returns
    -------
    pandas.DataFrame
        One row per annotation, indexed by ``source, desc, space, denres``, with the
        columns ``full_desc``, ``format``, ``hemis`` (tuple of the hemispheres with
        a file, empty for volumes), ``tags``, ``n`` and ``age`` (demographics),
        ``primary_refs`` and ``secondary_refs`` (lists of ``{"citation",
        "bibkey", "doi"}``), ``citation`` (all reference texts, one per line),
        ``warning``, ``license`` and ``restricted``.
    """
    catalogue = _catalogue()
    if annotations is None:
        annotations = available_annotations(**filters)
    elif filters:
        raise InputTypeError(f"describe_annotations: give either annotations or filters; got both "
                             f"(filters {sorted(filters)}).")
    elif isinstance(annotations, tuple) and all(isinstance(a, str) for a in annotations):
        annotations = [annotations]
    by_key: dict[Annotation, list[dict[str, Any]]] = {}
    for entry in catalogue.entries:
        by_key.setdefault(_annotation_key(entry), []).append(entry)
    unknown = [a for a in map(tuple, annotations) if a not in by_key]
    if unknown:
        hint = suggest("_".join(unknown[0]), ["_".join(k) for k in by_key])
        raise InputError(f"annotations: expected (source, desc, space, den|res) tuples from "
                         f"available_annotations(); got unknown {unknown}.{hint}")
    rows = []
    for key in map(tuple, annotations):
        files, meta = by_key[key], catalogue.meta.get(key, {})
        refs = meta.get("refs") or {}
        primary, secondary = _references(refs.get("primary")), _references(refs.get("secondary"))
        demographics = meta.get("demographics") or {}
        rows.append({
            "source": key[0], "desc": key[1], "space": key[2], "denres": key[3],
            "full_desc": meta.get("full_desc", ""),
            "format": files[0]["format"],
            "hemis": tuple(sorted({e["hemi"] for e in files if e.get("hemi")},
                                  key=_HEMI_ORDER.get)),
            "tags": list(files[0].get("tags") or []),
            "n": demographics.get("N"), "age": demographics.get("age"),
            "primary_refs": primary, "secondary_refs": secondary,
            "citation": "\n".join(r["citation"] for r in primary + secondary if r["citation"]),
            "warning": meta.get("warning", ""),
            "license": (meta.get("license") or {}).get("type", ""),
            "restricted": any(_is_restricted(e) for e in files),
        })
    columns = ["source", "desc", "space", "denres", "full_desc", "format", "hemis", "tags",
               "n", "age", "primary_refs", "secondary_refs", "citation", "warning", "license",
               "restricted"]
    return pd.DataFrame(rows, columns=columns).set_index(["source", "desc", "space", "denres"])
