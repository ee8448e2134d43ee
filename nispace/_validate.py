"""Validators for the arguments every public entry point shares.

Each function checks one argument before any data is loaded or permuted and raises a
:mod:`nispace.errors` exception naming the argument, what was expected and what was
received. They only read their input and return it (or its normalised form).

Bounds
------
:data:`MAX_N_PERM` (1,000,000) is the largest ``n_perm`` accepted. Null maps are
streamed in chunks, but the null colocalizations (``n_perm x n_y x n_x`` float64) are
kept in memory; the error message states what a request would need. Set the
environment variable ``NISPACE_MAX_N_PERM`` to a larger integer to go beyond it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from ._random import as_seed_sequence
from .errors import InputError, InputTypeError

__all__ = ["MAX_N_PERM", "TAILS", "check_n_perm", "check_seed", "check_n_proc",
           "check_tails", "check_bool", "check_out_dir", "check_dist_mat", "null_memory"]

#: Largest ``n_perm`` accepted unless ``NISPACE_MAX_N_PERM`` says otherwise.
MAX_N_PERM = 1_000_000
#: The tails of a permutation test.
TAILS = ("two", "upper", "lower")


def _type(value: object) -> str:
    return type(value).__name__


def max_n_perm() -> int:
    """The bound on ``n_perm``: ``NISPACE_MAX_N_PERM`` if set, else :data:`MAX_N_PERM`."""
    raw = os.environ.get("NISPACE_MAX_N_PERM")
    if raw is None:
        return MAX_N_PERM
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"NISPACE_MAX_N_PERM: expected a positive integer; got "
                         f"{raw!r}.") from None
    if value < 1:
        raise InputError(f"NISPACE_MAX_N_PERM: expected a positive integer; got {value}.")
    return value


def null_memory(n_perm: int, n_rows: int = 1, n_cols: int = 1) -> str:
    """Human-readable size of ``n_perm x n_rows x n_cols`` float64 values."""
    size = float(n_perm) * max(int(n_rows), 1) * max(int(n_cols), 1) * 8
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return ""  # pragma: no cover


def check_n_perm(n_perm: object, n_rows: int | None = None, n_cols: int | None = None,
                 name: str = "n_perm") -> int:
    """``n_perm`` as an int: a positive integer up to :func:`max_n_perm`.

    ``n_rows`` and ``n_cols`` (e.g. the numbers of Y and X maps) make the message of a
    too large request state the memory its null colocalizations would need.
    """
    if isinstance(n_perm, bool) or not isinstance(n_perm, Integral):
        if isinstance(n_perm, Real) and not isinstance(n_perm, bool):
            raise InputError(f"{name}: expected a positive integer; got {n_perm!r} (a "
                             f"{_type(n_perm)}); pass int({n_perm!r}) if that is meant.")
        raise InputTypeError(f"{name}: expected a positive integer; got {n_perm!r} (a "
                             f"{_type(n_perm)}).")
    n_perm = int(n_perm)
    if n_perm < 1:
        raise InputError(f"{name}: expected a positive integer; got {n_perm}.")
    bound = max_n_perm()
    if n_perm > bound:
        if n_rows is None:
            need = (f"n_perm x n_y x n_x x 8 bytes, i.e. {null_memory(n_perm)} per pair of "
                    f"Y and X maps")
        else:
            need = (f"{n_perm:,} x {n_rows} x {n_cols or 1} x 8 bytes = "
                    f"{null_memory(n_perm, n_rows, n_cols or 1)}")
        raise InputError(
            f"{name}: expected at most {bound:,} permutations; got {n_perm:,}. The null "
            f"colocalizations alone would need {need}. To go beyond, set the environment "
            f"variable NISPACE_MAX_N_PERM.")
    return n_perm


def check_dist_mat(dist_mat, n_parcels: int | None = None, name: str = "dist_mat"
                   ) -> np.ndarray:
    """``dist_mat`` as a square, symmetric, non-negative float array matching the data.

    ``inf`` is allowed (no path between parcels, e.g. between hemispheres of a
    surface parcellation); NaN is not. ``n_parcels`` (if given) is the size the data
    need. Returns the input as a float array (not a copy when it already is one).
    """
    dist = np.asarray(dist_mat, dtype=float)
    if dist.ndim != 2 or dist.shape[0] != dist.shape[1]:
        raise InputError(f"{name}: expected a square 2-D array (n_parcels, n_parcels); got "
                         f"shape {dist.shape}.")
    if n_parcels is not None and dist.shape[0] != n_parcels:
        raise InputError(f"{name}: expected shape ({n_parcels}, {n_parcels}) to match data with "
                         f"{n_parcels} parcels; got shape {dist.shape}.")
    if np.isnan(dist).any():
        i, j = np.argwhere(np.isnan(dist))[0]
        raise InputError(f"{name}: expected no NaN (use inf for unconnected parcels, e.g. "
                         f"across hemispheres); got NaN at {name}[{i}, {j}] "
                         f"({int(np.isnan(dist).sum())} NaN value(s) in total).")
    if (dist < 0).any():
        raise InputError(f"{name}: expected non-negative distances; got minimum {dist.min()}.")
    if not np.allclose(dist, dist.T, rtol=1e-5, atol=1e-8, equal_nan=False):
        raise InputError(f"{name}: expected a symmetric matrix; the largest difference to its "
                         f"transpose is {np.nanmax(np.abs(np.nan_to_num(dist - dist.T))):.3g}.")
    return dist


def check_seed(seed: object, name: str = "seed") -> object:
    """``seed``: None, a non-negative integer, a SeedSequence or a Generator."""
    as_seed_sequence(seed, name)
    return seed


def check_n_proc(n_proc: object, name: str = "n_proc", allow_none: bool = True) -> object:
    """``n_proc``: a positive integer or -1 (all cores); None when ``allow_none``."""
    if n_proc is None and allow_none:
        return n_proc
    if isinstance(n_proc, bool) or not isinstance(n_proc, Integral):
        raise InputTypeError(f"{name}: expected a positive integer or -1 (all cores); got "
                             f"{n_proc!r} (a {_type(n_proc)}).")
    if n_proc == 0 or n_proc < -1:
        raise InputError(f"{name}: expected a positive integer or -1 (all cores); got "
                         f"{n_proc}.")
    return n_proc


def check_tails(p_tails: object, name: str = "p_tails") -> object:
    """``p_tails``: None, one of :data:`TAILS`, or a dict ``{statistic: tail}``."""
    if p_tails is None:
        return p_tails
    values = p_tails.items() if isinstance(p_tails, Mapping) else [(None, p_tails)]
    if not isinstance(p_tails, (str, Mapping)):
        raise InputTypeError(f"{name}: expected None, one of {list(TAILS)} or a dict "
                             f"{{statistic: tail}}; got {p_tails!r} (a {_type(p_tails)}).")
    for stat, tail in values:
        if tail not in TAILS:
            label = name if stat is None else f"{name}[{stat!r}]"
            raise InputError(f"{label}: expected one of {list(TAILS)}; got {tail!r}.")
    return p_tails


def check_bool(value: object, name: str) -> bool:
    """A real bool (``True``/``False``, numpy bools included), nothing else."""
    if not isinstance(value, (bool, np.bool_)):
        raise InputTypeError(f"{name}: expected True or False; got {value!r} (a "
                             f"{_type(value)}).")
    return bool(value)


def _writable_parent(p: Path) -> Path | None:
    """The closest existing ancestor of ``p``, or None."""
    for parent in [p, *p.parents]:
        if parent.exists():
            return parent
    return None


def check_out_dir(path: str | os.PathLike | None, name: str = "out") -> Path:
    """An output folder that exists or can be created: not a file, under a writable
    folder (tested by creating and removing an empty folder there). Nothing else is
    created."""
    if path is None or not isinstance(path, (str, os.PathLike)) or os.fspath(path) == "":
        raise InputTypeError(f"{name}: expected a folder path; got {path!r}.")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"{name}: expected a folder; got the existing file "
                         f"{os.fspath(path)}.")
    anchor = _writable_parent(p.absolute())
    if anchor is None or not anchor.is_dir():
        raise InputError(f"{name}: cannot create the folder {os.fspath(path)}: "
                         f"{anchor} is not a folder.")
    try:  # os.access says yes to root even where nothing can be created (/proc)
        os.rmdir(tempfile.mkdtemp(prefix=".nispace-write-test-", dir=anchor))
    except OSError as err:
        raise InputError(f"{name}: cannot create {os.fspath(path)}: the folder {anchor} is "
                         f"not writable ({err.strerror}).") from None
    return p
