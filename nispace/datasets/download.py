"""Verified, cached, concurrency-safe downloads from the nispace data repository.

The data repository carries a root ``file_hashes.json`` (relative path -> SHA-256
of the file bytes). :func:`fetch_file` returns the local path of a file after
making sure its cached copy matches that hash:

1. A cached file whose hash matches is used as is (the source is not contacted),
   so a verified cache works offline.
2. Otherwise, under a file lock (so that concurrent processes never download the
   same file at once), the file is streamed into a temporary file in the target
   folder, hashed while streaming, verified and moved into place atomically with
   :func:`os.replace`. A corrupted or truncated cached file is therefore replaced,
   never patched, and a failed download never leaves a partial file behind; the
   ``.part`` file of a killed process is removed by the next download into its
   folder.
3. Transient failures (HTTP 5xx/408/429, dropped connections, truncated bodies,
   hash mismatches) are retried with exponential backoff.
4. Every download has limits: a maximum size per file
   (``NISPACE_MAX_DOWNLOAD_MB``, default :data:`MAX_DOWNLOAD_MB`) and an overall
   deadline per file, retries included (``NISPACE_DOWNLOAD_DEADLINE`` in seconds,
   default :data:`DOWNLOAD_DEADLINE`). A response that exceeds either is stopped,
   nothing is written to the cache and a :class:`DataFetchError` names the URL and
   the limit. A read that stalls is stopped after the socket timeout
   (:data:`TIMEOUT`, shortened to the time left before the deadline).

The pattern is pooch's (temp file, verify, atomic move); the transport is the
standard library so that ``http(s)://``, ``file://`` URLs and plain directories
are served by one code path.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import logging
import os
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from filelock import FileLock

from .._cache import remove_stale_parts
from .._logging import progress_bar, verbose_context
from ..errors import DataError, InputError
from .config import get_data_dir, get_data_url
from .._docs import fill_doc

logger = logging.getLogger(__name__)

MANIFEST_NAME = "file_hashes.json"
#: How many times a transient failure is retried (after the first attempt).
RETRIES = 4
#: Base of the exponential backoff in seconds (0.5, 1, 2, 4 s).
BACKOFF = 0.5
#: Socket timeout of one HTTP request in seconds.
TIMEOUT = 30.0
#: Downloads larger than this get a progress bar (when logging INFO is enabled).
PROGRESS_MIN_BYTES = 2_000_000
_CHUNK = 1 << 16
#: Default maximum size of one downloaded file in MB (env ``NISPACE_MAX_DOWNLOAD_MB``).
MAX_DOWNLOAD_MB = 1024.0
#: Default overall deadline of one file's download in seconds, retries included
#: (env ``NISPACE_DOWNLOAD_DEADLINE``).
DOWNLOAD_DEADLINE = 1800.0
ENV_MAX_DOWNLOAD_MB = "NISPACE_MAX_DOWNLOAD_MB"
ENV_DOWNLOAD_DEADLINE = "NISPACE_DOWNLOAD_DEADLINE"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")

# (data_dir, data_url) -> manifest
_MANIFESTS: dict[tuple[str, str], dict[str, str]] = {}
#: provenance: every file fetch_file returned in this process, with its SHA-256
_USED: dict[str, str] = {}


class DataFetchError(OSError):
    """A data file could not be obtained or verified."""


class NotInManifestError(InputError, KeyError):
    """A file the user named that the data manifest does not list: a KeyError and an
    :class:`~nispace.errors.InputError` (command line: exit 2)."""

    __str__ = Exception.__str__  # the message, not KeyError's quoted repr


def _positive_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise InputError(f"{name}: expected a positive number; got {raw!r}.")
    return value


def max_download_bytes() -> int:
    """Size limit of one download in bytes (``NISPACE_MAX_DOWNLOAD_MB`` or the default)."""
    return int(_positive_env(ENV_MAX_DOWNLOAD_MB, MAX_DOWNLOAD_MB) * 1_000_000)


def download_deadline() -> float:
    """Overall deadline of one file's download in seconds (``NISPACE_DOWNLOAD_DEADLINE``)."""
    return _positive_env(ENV_DOWNLOAD_DEADLINE, DOWNLOAD_DEADLINE)


class _Limits:
    """The size limit and the deadline of one file's download (all attempts), and the
    socket timeout of each request (default :data:`TIMEOUT`)."""

    def __init__(self, timeout: float | None = None):
        self.timeout = TIMEOUT if timeout is None else float(timeout)
        self.max_bytes = max_download_bytes()
        self.seconds = download_deadline()
        self.until = time.monotonic() + self.seconds

    def left(self) -> float:
        return self.until - time.monotonic()

    def check_time(self, location: str) -> None:
        if self.left() <= 0:
            raise DataFetchError(
                f"Download of {location} stopped: it did not finish within the deadline of "
                f"{self.seconds:g} s per file ({ENV_DOWNLOAD_DEADLINE}). Nothing was written "
                f"to the cache. The server may be overloaded or too slow; try again later, "
                f"use another source, or raise {ENV_DOWNLOAD_DEADLINE}.")

    def check_size(self, location: str, n_bytes: int) -> None:
        if n_bytes > self.max_bytes:
            raise DataFetchError(
                f"Download of {location} stopped: it is larger than the limit of "
                f"{self.max_bytes / 1e6:g} MB per file ({ENV_MAX_DOWNLOAD_MB}; received or "
                f"announced {n_bytes} bytes). Nothing was written to the cache. If the file "
                f"is really that large, raise {ENV_MAX_DOWNLOAD_MB}.")


class _Transient(Exception):
    """A failure worth retrying."""


class _NotFound(Exception):
    """The source answered that the file does not exist."""


# --------------------------------------------------------------------------------------
# hashing

def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_verified(path: Path, expected: str) -> bool:
    """True if ``path`` exists and hashes to ``expected``.

    The file is hashed on every call: no size/mtime shortcut, which could miss a
    same-size rewrite within one timestamp tick. Reference files are small
    (hashing all PET maps and tables takes < 0.1 s, see benchmarks/).
    """
    try:
        return sha256_file(path) == expected
    except FileNotFoundError:
        return False


# --------------------------------------------------------------------------------------
# transport

def _source_location(data_url: str, relpath: str) -> str:
    """Full URL or local path of ``relpath`` at the source ``data_url``."""
    if "://" in data_url:
        return data_url + urllib.parse.quote(relpath)
    return str(Path(data_url) / relpath)


def _open(location: str, timeout: float = TIMEOUT) -> tuple[BinaryIO, int | None]:
    """Open a source location for streaming; return (stream, size or None)."""
    if location.startswith("file://"):
        location = urllib.request.url2pathname(urllib.parse.urlparse(location).path)
    if "://" not in location:
        try:
            f = open(location, "rb")
        except FileNotFoundError as exc:
            raise _NotFound(location) from exc
        except OSError as exc:
            raise _Transient(f"cannot read {location}: {exc}") from exc
        return f, os.fstat(f.fileno()).st_size
    from .._version import __version__

    request = urllib.request.Request(location, headers={"User-Agent": f"nispace/{__version__}"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code in (404, 410):
            raise _NotFound(location) from exc
        if exc.code in (408, 425, 429) or exc.code >= 500:
            raise _Transient(f"HTTP {exc.code} from {location}") from exc
        raise DataFetchError(f"HTTP {exc.code} ({exc.reason}) from {location}") from exc
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise _Transient(f"cannot reach {location}: {exc}") from exc
    length = response.headers.get("Content-Length")
    return response, int(length) if length and length.isdigit() else None


def _download_to(location: str, target_dir: Path, name: str,
                 limits: _Limits) -> tuple[Path, str]:
    """Stream ``location`` into a temporary file in ``target_dir``; return (tmp path, sha256).

    The temporary file is removed on any failure, including a size or time limit.
    """
    limits.check_time(location)
    stream, size = _open(location, timeout=max(0.1, min(limits.timeout, limits.left())))
    if size is not None:
        try:
            limits.check_size(location, size)
        except DataFetchError:
            stream.close()
            raise
    read = getattr(stream, "read1", stream.read)  # what has arrived, not a full buffer
    # the pid in the name lets a later run remove what a killed process left behind
    fd, tmp_name = tempfile.mkstemp(dir=target_dir, prefix=f".{name}.",
                                    suffix=f".{os.getpid()}.part")
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    n_bytes = 0
    bar = None
    try:
        if size and size >= PROGRESS_MIN_BYTES and logger.isEnabledFor(logging.INFO):
            bar = progress_bar(total=size, unit="B", unit_scale=True,
                               desc=f"Downloading {name}", leave=False)
        with os.fdopen(fd, "wb") as out, stream:
            while True:
                try:
                    chunk = read(_CHUNK)
                except (http.client.HTTPException, OSError) as exc:
                    limits.check_time(location)
                    raise _Transient(f"connection dropped while reading {location}: {exc}")
                if not chunk:
                    break
                n_bytes += len(chunk)
                limits.check_size(location, n_bytes)
                limits.check_time(location)
                out.write(chunk)
                digest.update(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        if size is not None and n_bytes != size:
            raise _Transient(f"truncated body from {location}: got {n_bytes} of {size} bytes")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    return tmp, digest.hexdigest()


def _retrieve(location: str, target: Path, expected: str | None, check=None,
              timeout: float | None = None) -> None:
    """Download ``location`` to ``target`` atomically, retrying transient failures.

    ``expected`` is the SHA-256 the bytes must have; ``check`` an optional callable
    that validates the temporary file (raising ``ValueError``) when no hash exists.
    The size limit (:func:`max_download_bytes`) holds per attempt and the deadline
    (:func:`download_deadline`) covers all attempts; ``timeout`` is the socket timeout
    of each request in seconds (default :data:`TIMEOUT`).
    """
    _make_dir(target.parent)
    remove_stale_parts(target.parent)
    limits = _Limits(timeout)
    last = None
    for attempt in range(RETRIES + 1):
        if attempt:
            wait = min(BACKOFF * 2 ** (attempt - 1), max(limits.left(), 0))
            logger.info("Retrying %s in %.1f s (attempt %d of %d): %s",
                        target.name, wait, attempt + 1, RETRIES + 1, last)
            time.sleep(wait)
        try:
            tmp, digest = _download_to(location, target.parent, target.name, limits)
        except _Transient as exc:
            last = str(exc)
            continue
        try:
            if expected is not None and digest != expected:
                last = f"hash mismatch (expected sha256 {expected}, received {digest})"
                continue
            if check is not None:
                try:
                    check(tmp)
                except ValueError as exc:
                    last = f"invalid content: {exc}"
                    continue
            os.replace(tmp, target)
            return
        finally:
            tmp.unlink(missing_ok=True)
    raise _Transient(last)


# --------------------------------------------------------------------------------------
# manifest

def _check_relpath(relpath: str) -> str:
    rel = str(relpath).replace("\\", "/").lstrip("/")
    parts = rel.split("/")
    if not rel or any(p in ("", ".", "..") for p in parts):
        raise InputError(f"relpath: expected a relative path inside the data repository; "
                         f"got {relpath!r}.")
    return rel


def _validate_manifest(path: Path) -> dict[str, str]:
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{MANIFEST_NAME} is not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or not manifest:
        raise DataError(f"{MANIFEST_NAME} is not a non-empty JSON object")
    bad = [k for k, v in manifest.items() if not isinstance(v, str) or not _HEX64.match(v)]
    if bad:
        raise DataError(f"{MANIFEST_NAME} has invalid SHA-256 entries, e.g. {bad[:3]}")
    return manifest


def _unwritable(folder: Path, exc: OSError) -> DataFetchError:
    return DataFetchError(
        f"The nispace data cache cannot be written: {folder} ({exc.strerror or exc}). "
        f"Set NISPACE_DATA_DIR (or data_dir=) to a writable folder, or to a cache that "
        f"already holds the files.")


def _make_dir(folder: Path) -> None:
    """Create a cache folder, or raise a DataFetchError saying what to do."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(13, "no write permission")
    except OSError as exc:
        raise _unwritable(folder, exc) from None


@contextlib.contextmanager
def _lock(data_dir: Path, relpath: str):
    """Hold the inter-process lock of ``relpath`` (a cache that cannot be written is an
    error naming the cache, not the lock file)."""
    lock_dir = data_dir / ".locks"
    _make_dir(lock_dir)
    name = hashlib.sha256(relpath.encode()).hexdigest()[:32]
    lock = FileLock(str(lock_dir / f"{name}.lock"), timeout=900)
    try:
        lock.acquire()
    except PermissionError as exc:
        raise _unwritable(data_dir, exc) from None
    try:
        yield lock
    finally:
        lock.release()


def _unreachable(relpath: str, data_url: str, data_dir: Path, reason: str) -> DataFetchError:
    return DataFetchError(
        f"Could not obtain '{relpath}': it is not in the cache ({data_dir}) and the data "
        f"source {_source_location(data_url, relpath)} failed: {reason}. "
        f"Check your connection, or point NISPACE_DATA_URL to a reachable copy of the "
        f"NiSpace-data repository (an http(s):// URL, a file:// URL or a local directory), "
        f"or NISPACE_DATA_DIR to a cache that already holds the file."
    )


@fill_doc
def fetch_manifest(data_dir: str | os.PathLike | None = None,
                   data_url: str | None = None,
                   refresh: bool = False) -> dict[str, str]:
    """Return the hash manifest (relative path -> SHA-256) of the data repository.

    The manifest is cached as ``<data_dir>/file_hashes.json``; a cached manifest is
    used without contacting the source unless ``refresh=True``.

    Parameters
    ----------
    %(data_dir_url)s
    refresh : bool
        Fetch the manifest from the source again even if one is cached.

    Returns
    -------
    dict of str to str
        Relative path -> SHA-256 (hex).
    """
    data_dir, data_url = get_data_dir(data_dir), get_data_url(data_url)
    key = (str(data_dir), data_url)
    if not refresh and key in _MANIFESTS:
        return _MANIFESTS[key]
    target = data_dir / MANIFEST_NAME
    manifest = None
    if not refresh and target.exists():
        try:
            manifest = _validate_manifest(target)
        except ValueError as exc:
            logger.warning("Cached %s is unusable (%s); fetching it again.", MANIFEST_NAME, exc)
    if manifest is None:
        _make_dir(data_dir)
        with _lock(data_dir, MANIFEST_NAME):
            # another process may have fetched it while we waited for the lock
            if not refresh and target.exists():
                try:
                    manifest = _validate_manifest(target)
                except ValueError:
                    pass
            if manifest is None:
                try:
                    _retrieve(_source_location(data_url, MANIFEST_NAME), target, None,
                              check=_validate_manifest)
                except (_Transient, _NotFound) as exc:
                    if not refresh or not target.exists():
                        reason = ("not found" if isinstance(exc, _NotFound) else str(exc))
                        raise _unreachable(MANIFEST_NAME, data_url, data_dir,
                                           reason) from None
                    logger.warning("Could not refresh %s (%s); using the cached copy.",
                                   MANIFEST_NAME, exc)
                manifest = _validate_manifest(target)
    _MANIFESTS[key] = manifest
    return manifest


def fetch_file(relpath: str, data_dir: str | os.PathLike | None = None,
               data_url: str | None = None, verbose: bool | str | int | None = None) -> Path:
    """Return the local path of a verified copy of ``relpath``.

    Every file returned is recorded, with its SHA-256, for provenance
    (:func:`files_used`).

    Parameters
    ----------
    relpath : str
        Path relative to the root of the data repository, e.g.
        ``"parcellation/TianS1/parc.yaml"``.
    data_dir, data_url : optional
        Cache directory and remote base; default to ``NISPACE_DATA_DIR`` and
        ``NISPACE_DATA_URL`` (see :mod:`nispace.datasets.config`).
    verbose : bool, str, int or None
        Logging level for this call (None follows :func:`nispace.set_verbosity`).

    Returns
    -------
    pathlib.Path
        The cached file, guaranteed to match the manifest's SHA-256.

    Raises
    ------
    KeyError
        ``relpath`` is not listed in the manifest.
    DataFetchError
        The file is neither cached and valid nor obtainable from the source.
    """
    target = _fetch_file(relpath, data_dir, data_url, verbose)
    rel = _check_relpath(relpath)
    # the manifest's hash, which the file was just verified against (memoised)
    _USED[rel] = fetch_manifest(data_dir, data_url).get(rel) or sha256_file(target)
    return target


def fetch_library_file(relpath: str, data_dir: str | os.PathLike | None = None,
                       data_url: str | None = None,
                       verbose: bool | str | int | None = None) -> Path:
    """:func:`fetch_file` for a file that nispace itself names (a registry entry, a
    parcellation's image, a transform sphere), not the user.

    Raises
    ------
    DataFetchError
        The manifest does not list ``relpath``: the data source is incomplete, a data
        problem rather than a wrong argument (:class:`NotInManifestError`).
    """
    try:
        return fetch_file(relpath, data_dir, data_url, verbose)
    except NotInManifestError as exc:
        raise DataFetchError(f"The data source lacks '{_check_relpath(relpath)}', which nispace "
                             f"needs: {exc} The data source is incomplete or older than this "
                             f"nispace version; update it or point NISPACE_DATA_URL to a "
                             f"complete copy.") from None


def files_used() -> dict[str, str]:
    """Data files fetched in this process so far: ``{relpath: sha256}``, in order."""
    return dict(_USED)


def reset_files_used() -> None:
    """Start a new provenance record (see :func:`files_used`)."""
    _USED.clear()


def _fetch_file(relpath, data_dir, data_url, verbose) -> Path:
    with verbose_context(verbose):
        rel = _check_relpath(relpath)
        data_dir, data_url = get_data_dir(data_dir), get_data_url(data_url)
        manifest = fetch_manifest(data_dir, data_url)
        if rel not in manifest:
            from .._errors import suggest

            raise NotInManifestError(f"'{rel}' is not listed in the data manifest "
                                     f"({data_dir / MANIFEST_NAME}).{suggest(rel, manifest)}")
        target = data_dir / rel
        if _is_verified(target, manifest[rel]):
            return target
        with _lock(data_dir, rel):
            # another process may have fetched it while we waited for the lock
            if _is_verified(target, manifest[rel]):
                return target
            if target.exists():
                logger.warning("Cached file %s does not match its SHA-256; fetching it again.",
                               target)
            location = _source_location(data_url, rel)
            local = "://" not in str(location) or str(location).startswith("file:")
            logger.info("%s %s", "Copying" if local else "Downloading", location)
            try:
                _retrieve(location, target, manifest[rel])
            except _NotFound:
                raise _unreachable(rel, data_url, data_dir, "file not found at the source") \
                    from None
            except _Transient as exc:
                if "hash mismatch" in str(exc):
                    # the source may have been updated since the manifest was cached
                    fresh = fetch_manifest(data_dir, data_url, refresh=True)
                    if fresh.get(rel) not in (None, manifest[rel]):
                        logger.info("The data manifest changed; retrying %s.", rel)
                        try:
                            _retrieve(location, target, fresh[rel])
                            return target
                        except (_Transient, _NotFound):
                            pass
                    raise DataFetchError(
                        f"'{rel}' downloaded from {location} failed verification: {exc}. "
                        f"Nothing was written to the cache. The source may be corrupt or "
                        f"out of sync with its {MANIFEST_NAME}; try again later or use "
                        f"another NISPACE_DATA_URL."
                    ) from None
                raise _unreachable(rel, data_url, data_dir, str(exc)) from None
        return target


def fetch_files(relpaths: Iterable[str], data_dir=None, data_url=None,
                verbose: bool | str | int | None = None) -> list[Path]:
    """:func:`fetch_file` for several files; returns the paths in the same order."""
    return [fetch_file(r, data_dir, data_url, verbose) for r in relpaths]


def clear_memo() -> None:
    """Forget the manifests held in memory (the disk cache stays)."""
    _MANIFESTS.clear()
