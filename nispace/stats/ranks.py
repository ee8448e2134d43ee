"""Average ranks of rows, as ``scipy.stats.rankdata`` gives them, with NumPy only.

Shared by the colocalization methods (:mod:`nispace.stats.coloc`), the batched
permutation kernels (:mod:`nispace.stats.batch`) and the plots, so that ranking never
imports ``scipy.stats`` (~0.5 s).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["CHUNK_BYTES", "rank_rows"]

#: Upper bound (bytes) of each large temporary array of the batched kernels.
CHUNK_BYTES = 32 * 2**20


def rank_rows(a, axis: int = -1) -> np.ndarray:
    """Average ranks along one axis; NaN entries stay NaN and are not ranked.

    Parameters
    ----------
    a : array_like, shape (..., n, ...)
        Values; any number of leading/trailing axes is ranked independently.
    axis : int, default -1
        Axis along which to rank.

    Returns
    -------
    numpy.ndarray of float64, same shape as ``a``
        1-based ranks among the non-NaN entries of each slice, ties given the mean of
        the ranks they span; NaN where ``a`` is NaN. Equals
        ``scipy.stats.rankdata(a, axis=axis, nan_policy="omit")`` (scipy >= 1.10).

    Notes
    -----
    Fully vectorised: one ``argsort`` per slice (NaN sort last), tie groups found by
    comparing neighbours of the sorted values, group starts propagated forwards with
    ``maximum.accumulate`` and group ends backwards with ``minimum.accumulate``; the
    average rank ``(start + end) / 2 + 1`` is scattered back to the original order.

    Examples
    --------
    >>> rank_rows([[3.0, np.nan, 1.0, 3.0, 2.0]])
    array([[3.5, nan, 1. , 3.5, 2. ]])
    """
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 0:
        raise InputError(f"a: expected an array with at least one axis; got a scalar {arr!r}.")
    moved = np.moveaxis(arr, axis, -1)
    shape = moved.shape
    n = shape[-1]
    if moved.size == 0:
        return np.empty(arr.shape)
    flat = moved.reshape(-1, n)
    counted = _rank_by_counting(flat)
    if counted is not None:
        return np.moveaxis(counted.reshape(shape), -1, axis)
    out = np.empty_like(flat)
    positions = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
    step = max(1, CHUNK_BYTES // 8 // 8 // n)         # rows per chunk: bounded temporaries
    for start in range(0, flat.shape[0], step):
        rows = flat[start:start + step]
        order = np.argsort(rows, axis=1)
        ordered = np.take_along_axis(rows, order, axis=1)
        starts = np.ones(ordered.shape, dtype=bool)
        np.not_equal(ordered[:, 1:], ordered[:, :-1], out=starts[:, 1:])  # NaN never tied
        ends = np.ones(ordered.shape, dtype=bool)
        ends[:, :-1] = starts[:, 1:]
        first = np.maximum.accumulate(np.where(starts, positions, 0), axis=1)
        last = np.minimum.accumulate(np.where(ends, positions, n - 1)[:, ::-1], axis=1)
        ranks = (first + last[:, ::-1]) * 0.5 + 1.0
        ranks[np.isnan(ordered)] = np.nan
        np.put_along_axis(out[start:start + step], order, ranks, axis=1)
    return np.moveaxis(out.reshape(shape), -1, axis)


def _rank_by_counting(flat: np.ndarray) -> np.ndarray | None:
    """Average ranks of rows of small non-negative integers (NaN stays NaN), by counting;
    None when some non-NaN entry is not an integer in ``[0, 4 n)``.

    ``rank = #{<=} - (#{=} - 1) / 2`` from the counts of each key per row (one
    ``bincount``): exactly the average ranks of :func:`rank_rows`, in ``O(n)`` per
    row instead of a sort (such rows come from :func:`dense_keys`).
    """
    n = flat.shape[1]
    first = flat[0][~np.isnan(flat[0])]
    if first.size and (first.min() < 0 or first.max() >= 4 * n
                       or not np.array_equal(first, np.floor(first))):
        return None                                # cheap early exit for ordinary data
    out = np.empty_like(flat)
    n_keys = 4 * n
    step = max(1, CHUNK_BYTES // 8 // 4 // n_keys)
    for start in range(0, flat.shape[0], step):
        rows = flat[start:start + step]
        valid = ~np.isnan(rows)
        vals = np.where(valid, rows, 0.0)
        # range and integrality on the floats first: casting inf or huge values to
        # integers is undefined (and warns)
        if vals.min() < 0 or vals.max() >= n_keys or not np.array_equal(vals, np.floor(vals)):
            return None
        keys = vals.astype(np.intp)
        keys += (np.arange(rows.shape[0]) * n_keys)[:, None]
        counts = np.bincount(keys[valid], minlength=rows.shape[0] * n_keys).astype(np.float64)
        counts = counts.reshape(rows.shape[0], n_keys)
        avg = np.cumsum(counts, axis=1)
        avg -= 0.5 * (counts - 1.0)
        ranks = avg.reshape(-1)[keys]
        ranks[~valid] = np.nan
        out[start:start + step] = ranks
    return out
