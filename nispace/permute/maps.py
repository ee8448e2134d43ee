"""Permutation of maps: colocalize spatial null maps of X and/or Y with the other side."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import InputError
from ..stats.batch import dense_keys, permutation_rows
from .engine import run_chunks, stack_chunks
from .nullmaps import NullMaps
from .spec import ColocSpec

__all__ = ["null_colocalizations_maps"]

#: Null maps per chunk of the colocalization pass. Null maps are read, not drawn, in
#: this pass, so the chunk size changes neither the nulls nor the results (only memory
#: and speed; the kernels keep their blocks small enough for two threads to share the
#: processor's caches).
MAPS_CHUNK_SIZE = 250


def _maps_chunk(start, stop, _seed, spec: ColocSpec, X, Y, x_nulls, y_nulls):
    if (x_nulls is None) != (y_nulls is None):
        out = _index_chunk(start, stop, spec, X, Y, x_nulls or y_nulls,
                           "X" if y_nulls is None else "Y")
        if out is not None:
            return out
    Xb = X if x_nulls is None else x_nulls.chunk(start, stop).transpose(1, 0, 2)
    Yb = Y if y_nulls is None else y_nulls.chunk(start, stop).transpose(1, 0, 2)
    return spec(Xb, Yb)


def _index_chunk(start, stop, spec: ColocSpec, X, Y, nulls, side: str):
    """One side permuted by index nulls: the rows that are permutations of the parcels
    go through :meth:`ColocSpec.index_nulls` (nothing gathered or re-ranked), the
    others through the general path; None when the shortcut does not apply at all."""
    idx = nulls.indices(start, stop) if hasattr(nulls, "indices") else None
    data = X if side == "X" else Y
    if idx is None or nulls.data is None or not np.array_equal(nulls.data, data,
                                                               equal_nan=True):
        return None
    ok = permutation_rows(idx)
    whole = spec.index_nulls(X, Y, idx, side, perm_rows=ok)
    if whole is not None or ok.all() or not ok.any():
        return whole
    fast = spec.index_nulls(X, Y, idx[ok], side, perm_rows=ok[ok])
    if fast is None:
        return None
    rest = nulls.resolve(idx[~ok]).transpose(1, 0, 2)          # gather the other rows only
    slow = spec(rest, Y) if side == "X" else spec(X, rest)
    out = {}
    for stat, arr in fast.items():
        out[stat] = np.empty((idx.shape[0],) + arr.shape[1:])
        out[stat][ok], out[stat][~ok] = arr, slow[stat]
    return out


def _as_keys(data: np.ndarray, nulls):
    """For rank methods: index nulls of ``data`` as nulls of its :func:`dense_keys`.

    Ranks over any set of parcels are those of the values (a strictly increasing map
    per row; ties and NaN kept; z-scoring does not change ranks), and the gathered
    keys are ranked by counting instead of sorting.
    """
    if (not isinstance(nulls, NullMaps) or nulls.kind != "index" or nulls.data is None
            or not np.array_equal(nulls.data, data, equal_nan=True)):
        return data, nulls
    keys = dense_keys(data)
    return keys, replace(nulls, data=keys, standardize=False, _tmpdir=None)


def null_colocalizations_maps(spec: ColocSpec, X: np.ndarray, Y: np.ndarray,
                              x_nulls: NullMaps | None, y_nulls: NullMaps | None, *,
                              n_proc: int = 1, verbose: bool | str | int | None = None) -> dict[str, np.ndarray]:
    """Null statistics ``{stat: (n_perm, n_y, n_cols)}`` from null maps of X and/or Y.

    Permutation ``k`` pairs null ``k`` of every permuted map (spins rotate all maps
    alike, so the maps' relations to each other are kept); unpermuted maps enter
    as observed.
    """
    if x_nulls is None and y_nulls is None:
        raise InputError("maps_which: no null maps to colocalize (neither X nor Y).")
    n_perm = (x_nulls or y_nulls).n_perm
    if spec.method in ("spearman", "partialspearman"):
        X, x_nulls = _as_keys(X, x_nulls)
        Y, y_nulls = _as_keys(Y, y_nulls)
    chunks = run_chunks(_maps_chunk, n_perm, None, seeded=False, chunk_size=MAPS_CHUNK_SIZE,
                        args=(spec, X, Y, x_nulls, y_nulls), n_proc=n_proc,
                        desc=f"Null colocalizations ({spec.method})", verbose=verbose,
                        prefer="threads")
    return stack_chunks(chunks)
