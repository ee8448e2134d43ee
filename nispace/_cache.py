"""Verified, atomic array caches under ``<NISPACE_DATA_DIR>/cache``.

Every cached array ``<name>.npy`` has a JSON sidecar ``<name>.npy.json`` that records
what the array was computed from (a *key*: input hashes, method, options, ``n_perm``,
seed, the cache version) and the SHA-256 of the ``.npy`` file's bytes. A cached file
is used only if its sidecar exists, its key equals the one the caller expects and the
bytes hash to the recorded SHA-256; otherwise (swapped, replaced, truncated or
tampered files) it is ignored with a WARNING naming the file, and the caller computes
it again.

Writes go to a temporary ``*.part`` file in the same folder with ordinary file I/O
(no memory maps, so a full disk raises ``ENOSPC`` instead of killing the process
with SIGBUS), are flushed with ``fsync`` and moved into place with
:func:`os.replace`; the sidecar is written the same way afterwards, so a run killed
at any point leaves either nothing usable (recomputed next time) or a complete,
verified entry. A failed write removes its ``.part`` file and raises an
:class:`OSError` naming the cache folder and what to do. ``.part`` files left by a
killed process are removed by :func:`remove_stale_parts`.

A cache folder that cannot be written (read-only, not a folder, no permission) is
replaced by a temporary folder with a WARNING (:func:`cache_folder`); the caller
removes that folder when done.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CACHE_VERSION", "ArrayWriter", "cache_folder", "load_array", "load_json", "remove",
           "remove_stale_parts", "remove_tree", "save_array", "save_json", "write_error"]

logger = logging.getLogger("nispace.cache")

#: Bump when the layout of cached files or sidecars changes (invalidates every entry).
CACHE_VERSION = "2"
_SIDECAR = ".json"
_BLOCK = 1 << 20


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + _SIDECAR)


def _normal(key: dict[str, Any]) -> dict[str, Any]:
    """``key`` as it reads back from JSON (tuples become lists, ...)."""
    return json.loads(json.dumps(key, sort_keys=True, default=str))


def _is_writable(folder: Path) -> str | None:
    """None if a file can be created in ``folder`` (created if needed), else the reason."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            return "no write permission"
        with tempfile.TemporaryFile(dir=folder, prefix=".probe-"):
            pass
    except OSError as err:
        return f"{type(err).__name__}: {err.strerror or err}"
    return None


def cache_folder(kind: str, data_dir: str | os.PathLike | None = None, *,
                 fallback: bool = True) -> tuple[Path | None, str | None]:
    """``<data_dir>/cache/<kind>`` if it is writable, else a new temporary folder.

    Parameters
    ----------
    kind : str
        Sub-folder of the cache (``"nulls"``, ``"distmat"``).
    data_dir : path-like, optional
        Cache root (default ``NISPACE_DATA_DIR``).
    fallback : bool
        If False, an unusable cache gives ``(None, None)`` (the caller keeps its
        result in memory) instead of a temporary folder.

    Returns
    -------
    folder : Path or None
    tmpdir : str or None
        The temporary folder to remove when done (None for the real cache).
    """
    from ._config import get_data_dir

    folder = get_data_dir(data_dir) / "cache" / kind
    reason = _is_writable(folder)
    if reason is None:
        return folder, None
    if not fallback:
        logger.warning("The nispace cache folder %s cannot be written (%s); the result is "
                       "kept in memory for this session only. Set NISPACE_DATA_DIR to a "
                       "writable folder to keep the cache.", folder, reason)
        return None, None
    tmp = tempfile.mkdtemp(prefix=f"nispace-{kind}-")
    logger.warning("The nispace cache folder %s cannot be written (%s); using the temporary "
                   "folder %s for this run (removed afterwards). Set NISPACE_DATA_DIR to a "
                   "writable folder to keep the cache.", folder, reason, tmp)
    return Path(tmp), tmp


def write_error(err: OSError, folder: Path) -> OSError:
    """A clear :class:`OSError` for a failed cache write into ``folder``."""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        what = (f"the disk holding the cache folder {folder} is full ({err.strerror}). "
                f"Free some space, or set NISPACE_DATA_DIR (or TMPDIR for runs without a "
                f"seed) to a folder on a disk with more space, and run again")
    else:
        what = (f"writing into the cache folder {folder} failed ({err.strerror or err}). "
                f"Check that the folder is writable, or set NISPACE_DATA_DIR to one that is")
    new = OSError(err.errno, f"Could not write the nispace cache: {what}. Nothing partial "
                             f"was left behind.")
    new.filename = str(folder)
    return new


def remove_stale_parts(folder: Path) -> None:
    """Remove ``*.<pid>.part`` files in ``folder`` whose process is no longer running.

    The process is looked up on this machine: a cache shared between machines
    (network file system) should not be written by two of them at once.
    """
    try:
        parts = list(folder.glob("*.part"))
    except OSError:
        return
    for part in parts:
        pid = part.name.rsplit(".", 2)[-2] if part.name.count(".") >= 2 else ""
        if pid.isdigit() and _alive(int(pid)):
            continue
        try:
            part.unlink()
            logger.info("Removed %s, left behind by an interrupted run.", part)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    """Whether process ``pid`` may still be running (True when it cannot be told)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":
        # os.kill(pid, 0) sends CTRL_C on Windows: never probe, never remove another
        # process's parts there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


class ArrayWriter:
    """Write a ``(shape[0], ...)`` array into a cache file block by block, atomically.

    Use as a context manager: rows are appended in order with :meth:`write`, the file
    is moved into place (with its sidecar) by :meth:`commit`; leaving the block
    without commit, or any error, removes the temporary file.
    """

    def __init__(self, path: Path, shape: tuple[int, ...], dtype, key: dict[str, Any]):
        self.path, self.shape, self.dtype = Path(path), tuple(int(s) for s in shape), \
            np.dtype(dtype)
        self.key = key
        self.part = self.path.with_name(f"{self.path.name}.{os.getpid()}.part")
        self._file = None
        self._rows = 0

    def __enter__(self) -> ArrayWriter:
        try:
            self._file = open(self.part, "wb")
            header = {"descr": np.lib.format.dtype_to_descr(self.dtype),
                      "fortran_order": False, "shape": self.shape}
            np.lib.format.write_array_header_1_0(self._file, header)
        except OSError as err:
            self._discard()
            raise write_error(err, self.path.parent) from err
        return self

    def write(self, rows: np.ndarray) -> None:
        """Append ``rows`` (``(b, *shape[1:])``) to the file."""
        block = np.ascontiguousarray(rows, dtype=self.dtype)
        if block.shape[1:] != self.shape[1:] or self._rows + len(block) > self.shape[0]:
            raise ValueError(f"rows: expected (<= {self.shape[0] - self._rows}, "
                             f"*{self.shape[1:]}); got {block.shape}.")
        data = block.tobytes()
        try:
            self._file.write(data)
        except OSError as err:
            self._discard()
            raise write_error(err, self.path.parent) from err
        self._rows += len(block)

    def commit(self) -> None:
        """Check completeness, fsync, move into place and write the sidecar."""
        if self._rows != self.shape[0]:
            raise ValueError(f"{self.path.name}: {self._rows} of {self.shape[0]} rows written.")
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            digest = _sha256(self.part)
            os.replace(self.part, self.path)
            _write_sidecar(self.path, self.key, digest, self.shape, self.dtype)
        except OSError as err:
            self._discard()
            _unlink(self.path)
            raise write_error(err, self.path.parent) from err

    def __exit__(self, *exc) -> None:
        self._discard()

    def _discard(self) -> None:
        if self._file is not None and not self._file.closed:
            try:
                self._file.close()
            except OSError:
                pass
        _unlink(self.part)


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_sidecar(path: Path, key: dict[str, Any], digest: str, shape, dtype) -> None:
    meta = {"nispace_cache": CACHE_VERSION, "file": path.name, "key": _normal(key),
            "sha256": digest, "size": path.stat().st_size, "shape": list(shape),
            "dtype": np.dtype(dtype).str}
    side = _sidecar(path)
    part = side.with_name(f"{side.name}.{os.getpid()}.part")
    try:
        with open(part, "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, side)
    finally:
        _unlink(part)


def save_array(path: Path, array: np.ndarray, key: dict[str, Any]) -> None:
    """Write ``array`` to the cache file ``path`` with its sidecar, atomically."""
    array = np.asarray(array)
    with ArrayWriter(path, array.shape, array.dtype, key) as writer:
        writer.write(array)
        writer.commit()


def load_array(path: Path, key: dict[str, Any], *, shape: tuple[int, ...] | None = None,
               dtype=None, mmap: bool = False, what: str = "cached array") -> np.ndarray | None:
    """The verified cached array at ``path``, or None (missing, or invalid: WARNING).

    The sidecar must exist and record ``key``; the file must have the recorded size
    and SHA-256 and, if given, ``shape`` and ``dtype``. With ``mmap`` the verified
    file is returned as a read-only memory map (hashed once here, read lazily later).
    """
    path = Path(path)
    if not path.exists():
        return None
    problem = _check(path, key, shape, dtype)
    if problem is None:
        try:
            arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
            if (shape is None or arr.shape == tuple(shape)) and \
                    (dtype is None or arr.dtype == np.dtype(dtype)):
                return arr
            problem = f"shape {arr.shape}, dtype {arr.dtype}"
        except (OSError, ValueError) as err:
            problem = f"unreadable ({err})"
    logger.warning("Ignoring the %s %s: %s. It is computed again.", what, path, problem)
    return None


def _check(path: Path, key, shape, dtype) -> str | None:
    side = _sidecar(path)
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"its sidecar {side.name} (key and checksum) is missing"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return f"its sidecar {side.name} is unreadable ({err})"
    if not isinstance(meta, dict) or meta.get("nispace_cache") != CACHE_VERSION:
        return "it was written by another nispace cache version"
    if meta.get("key") != _normal(key):
        return "it was computed from other inputs than this run's (key mismatch)"
    if shape is not None and meta.get("shape") != list(shape):
        return f"shape {meta.get('shape')} instead of {list(shape)}"
    if dtype is not None and meta.get("dtype") != np.dtype(dtype).str:
        return f"dtype {meta.get('dtype')} instead of {np.dtype(dtype).str}"
    try:
        size = path.stat().st_size
        if size != meta.get("size"):
            return f"{size} bytes instead of {meta.get('size')} (truncated or replaced)"
        digest = _sha256(path)
    except OSError as err:
        return f"unreadable ({err})"
    if digest != meta.get("sha256"):
        return "its SHA-256 does not match the one recorded when it was written (changed)"
    return None


def save_json(path: Path, payload: Any, key: dict[str, Any]) -> None:
    """Write the JSON-serialisable ``payload`` to the cache file ``path`` with its
    sidecar, atomically (as :func:`save_array`)."""
    path = Path(path)
    data = json.dumps(payload, sort_keys=True, indent=1, default=str).encode("utf-8")
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        with open(part, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, path)
        _write_sidecar(path, key, hashlib.sha256(data).hexdigest(), (len(data),), np.uint8)
    except OSError as err:
        _unlink(part)
        _unlink(path)
        raise write_error(err, path.parent) from err


def load_json(path: Path, key: dict[str, Any], *, what: str = "cached record") -> Any | None:
    """The verified JSON document at ``path``, or None (missing, or invalid: WARNING).

    Checked like :func:`load_array`: the sidecar must record ``key``, the file its
    recorded size and SHA-256.
    """
    path = Path(path)
    if not path.exists():
        return None
    problem = _check(path, key, None, None)
    if problem is None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            problem = f"unreadable ({err})"
    logger.warning("Ignoring the %s %s: %s. It is computed again.", what, path, problem)
    return None


def remove(path: Path) -> None:
    """Remove a cache entry and its sidecar (errors ignored)."""
    _unlink(Path(path))
    _unlink(_sidecar(Path(path)))


def remove_tree(folder: str | None) -> None:
    """Remove a temporary folder (None: nothing to do)."""
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
