"""Colocalization statistics for a whole batch of permuted maps at once.

A permutation test needs the statistics of :func:`nispace.stats.coloc.colocalize`
for thousands of null versions of X (reference maps) or Y (target maps).
:func:`colocalize_batch` takes X of shape ``(B, n_x, n_parcels)`` and/or Y of shape
``(B, n_y, n_parcels)`` (a leading batch axis on either or both) and returns every
statistic with a leading batch axis, ``(B, n_y, n_x)`` or ``(B, n_y)``. For each
``k`` the result equals ``colocalize(X[k], Y[k], ...)`` (with the unbatched side
as given) to rounding, with the same NaN conventions (see :mod:`nispace.stats.coloc`).

Algorithms
----------
**Grouping by NaN pattern.** Pair-wise methods (``pearson``, ``spearman``,
``partialpearson``, ``partialspearman``, ``slr``) drop, per X-Y pair, the parcels
that are NaN in either map (or in Z). Rows of an unbatched side are grouped by NaN
pattern first (a loop over patterns, not over permutations) and the columns
restricted to that pattern, so that the unbatched side is NaN-free. When every
batched row then shares one pattern (the common case: no NaN at all, or NaN at the
same parcels in every null) the statistics of all permutations come from **one
matrix product**: rows are ranked (Spearman, :func:`rank_rows`), Z is regressed out
(one basis of Z for all rows), rows are centred and scaled to unit norm, and
``rho = Y_u @ X_u.T`` for all permutations together.

**Varying NaN parcels** (spin nulls of a map with NaN parcels: each null has NaN at
other parcels). Let ``V`` be the batched side with per-row validity masks ``W``
and ``S`` the NaN-free other side, without Z. ``V`` is centred over its own valid
parcels (which are the pair's parcels, since ``S`` has no NaN) and set to 0
elsewhere, so ``sum_W v_c s = sum_W v_c (s - mean_W s)`` and the cross-products are
one product ``V_c @ S.T``. The moments of ``S`` over each ``W`` are masked sums,
``W @ [s', s'^2, s^2].T`` with ``s' = s - mean(s)``, from which
``S_ss(W) = sum_W s'^2 - (sum_W s')^2 / n_W``. Pairs where this subtraction loses
more than three digits (``S`` nearly constant over ``W``) are recomputed exactly by
two-pass sums (vectorised over the flagged pairs), so constant-over-``W`` maps give
NaN exactly as in :mod:`~nispace.stats.coloc`.

For **Spearman** with varying masks, the ranks of ``s`` over each valid set ``W``
depend on ``W``. They are computed exactly with the comparison matrix
``C[p, q] = [s_q < s_p] + 0.5 [s_q = s_p]``: the average rank of parcel ``p``
within ``W`` is ``r_p(W) = 1 + #{q in W: s_q < s_p} + 0.5 #{q in W, q != p: s_q = s_p}
= 0.5 + (W @ C.T)_p`` for ``p`` in ``W``. All masks of a chunk are ranked by one
matrix product ``W @ C.T`` (``(rows, n) @ (n, n)`` per map of ``S``). Every term is
a multiple of 0.5, so these ranks, ``sum_W r^2`` and the rank variance are exact in
float64 (a map constant over ``W`` has variance exactly 0). Memory: the comparison
matrices ``(n_s_chunk, n, n)`` and the rank blocks ``(rows_chunk, n_s_chunk, n)``
are each kept below :data:`CHUNK_BYTES` (32 MB) by sub-chunking maps and rows, so
this path adds less than ~100 MB whatever ``B``, ``n_x`` and ``n_parcels``. Cost:
``2 n_parcels^2`` flops per (row, map) pair, e.g. ~2.3 GFlop for 1000 nulls of 29
maps of 200 parcels against one map. When ``S`` is batched too, a ``C`` would serve
a single permutation, so the masked copies ``where(W, s, nan)`` are ranked by
:func:`rank_rows` instead (same exact ranks, ``O(n log n)`` per pair, chunked to the
same memory bound).

**Multivariate** methods (``mlr``, ``dominance``) drop parcels list-wise, per
Y map. When that mask changes only with the permutation (one mask per ``k``, e.g.
X nulls with NaN), maps are centred over each mask and zero-padded, which leaves
every sum over the mask unchanged, so the same batched kernel serves both cases.
``mlr`` solves the normal equations of the standardised predictors,
``R beta = r`` for stacked ``(B, n_x, n_x)`` systems (inverted once when X is not
batched); ``R² = r' R^{-1} r``. Permutations whose predictors are constant or
nearly collinear (condition number of ``R`` above 1e6), where the minimum-norm
solution of ``numpy.linalg.lstsq`` in :func:`~nispace.stats.coloc.mlr` is not the
solution of the normal equations, are delegated to :func:`~nispace.stats.coloc.mlr`.
``dominance`` computes the R² of every subset ``S`` of predictors as
``r_S' R_SS^+ r_S`` from batched correlation matrices (pseudo-inverses shared by all
permutations when X is not batched) and aggregates them with the helpers of
:mod:`nispace.stats.dominance`.

Everything else falls back to a loop over the batch calling
:func:`~nispace.stats.coloc.colocalize`: the methods ``mi``, ``pls``, ``pcr``,
``lasso``, ``ridge`` and ``elasticnet``, and, for the vectorised methods, the rare
layouts without a closed form here (Z together with NaN parcels that vary between
permutations; varying NaN parcels on both sides of a pair).

References
----------
Spearman, C. (1904). The proof and measurement of association between two things.
Am. J. Psychol., 15(1), 72-101. https://doi.org/10.2307/1412159

Budescu, D. V. (1993). Dominance analysis: A new approach to the problem of relative
importance of predictors in multiple regression. Psychological Bulletin, 114(3),
542-551. https://doi.org/10.1037/0033-2909.114.3.542

Alexander-Bloch, A. F., et al. (2018). On testing for spatial correspondence between
maps of human brain structure and function. NeuroImage, 178, 540-551.
https://doi.org/10.1016/j.neuroimage.2018.05.070
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import suggest
from ..errors import DataError, InputError
from .coloc import (
    _DEGENERATE_TOL,
    _FUNCTIONS,
    _MIN_PAIR_PARCELS,
    COLOC_METHODS,
    _center,
    _check_bool,
    _residualize,
    _residualize_rowwise,
    _validate,
    colocalize,
)
from .dominance import (
    _BYTES_PER_SUBSET_TARGET,
    _MEMORY_BUDGET,
    _check_n_predictors,
    _dominance_from_subsets,
    _popcount,
    _row_groups,
    _subsets_r2_from_gram,
    adjusted_r2,
)
from .ranks import CHUNK_BYTES, _rank_by_counting, rank_rows  # noqa: F401 (re-exported)

__all__ = ["BATCHED_METHODS", "CHUNK_BYTES", "colocalize_batch", "colocalize_index_nulls",
           "dense_keys", "permutation_rows", "rank_rows"]

#: Methods computed without a loop over permutations (all others loop over ``colocalize``).
BATCHED_METHODS: tuple[str, ...] = ("pearson", "spearman", "partialpearson", "partialspearman",
                                    "slr", "mlr", "dominance")

#: Size of the arrays of one block of the masked index path (see ``_index_spearman_masked``).
CACHE_BYTES = 2**20

_PAIR_METHODS = ("pearson", "spearman", "partialpearson", "partialspearman", "slr")
_RANKED = ("spearman", "partialspearman")
#: ``S_ss(W)`` of the masked-sums path is recomputed exactly when the one-pass formula
#: keeps fewer than ~3 digits of it (or when ``S`` is nearly constant everywhere).
_CANCEL_TOL = 1e-3
_GLOBAL_CONST_TOL = 1e-8
#: ``mlr`` permutations whose predictor correlation matrix is worse conditioned than
#: this are delegated to :func:`nispace.stats.coloc.mlr`.
_MAX_COND = 1e6


# --------------------------------------------------------------------------------------
# ranks


def dense_keys(a) -> np.ndarray:
    """Replace the values of each row by their dense rank ``0 .. n_distinct - 1``.

    A strictly increasing map of each row's values (ties stay ties, NaN stays NaN), so
    every rank-based statistic of any subset of parcels is unchanged, while
    :func:`rank_rows` ranks such rows by counting instead of sorting. Used for the
    index nulls of rank methods: the keys of a map are computed once and gathered.

    Parameters
    ----------
    a : array_like, shape (n_maps, n_parcels)

    Returns
    -------
    numpy.ndarray of float64, same shape

    Examples
    --------
    >>> dense_keys([[0.3, np.nan, -1.0, 0.3]])
    array([[ 1., nan,  0.,  1.]])
    """
    arr = np.array(a, dtype=np.float64, ndmin=2)
    out = np.full(arr.shape, np.nan)
    for i, row in enumerate(arr):
        valid = ~np.isnan(row)
        _, inverse = np.unique(row[valid], return_inverse=True)
        out[i, valid] = inverse
    return out


# --------------------------------------------------------------------------------------
# validation


def _as_batch(values, name: str) -> np.ndarray:
    """``values`` as float64 ``(B, n_maps, n_parcels)``; 1-D/2-D input gets ``B = 1``."""
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: expected a numeric array of shape (n_maps, n_parcels) or "
                         f"(B, n_maps, n_parcels); could not convert it to float ({exc})."
                         ) from None
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.ndim != 3 or 0 in arr.shape:
        raise InputError(f"{name}: expected a non-empty array of shape (n_maps, n_parcels) or "
                         f"(B, n_maps, n_parcels); got shape {np.shape(values)}.")
    if np.isinf(arr).any():
        k, j, p = np.argwhere(np.isinf(arr))[0]
        raise DataError(f"{name}: expected finite values (NaN marks missing parcels); got "
                        f"{arr[k, j, p]} at batch {k}, map {j}, parcel {p}.")
    all_nan = np.isnan(arr).all(axis=2)
    if all_nan.any():
        k, j = np.argwhere(all_nan)[0]
        raise DataError(f"{name}: map {j} of batch element {k} contains only NaN values "
                        f"({int(all_nan.sum())} such map(s) in total); drop them first.")
    return arr


@dataclass
class _Options:
    method: str
    zy: bool
    r2_adjusted: bool
    individual: bool = False

    @property
    def rank(self) -> bool:
        return self.method in _RANKED


#: options of ``colocalize(..., cv="distance")``: its ``cv_*`` statistics describe the
#: observed model only and are not permuted, so the batched path accepts and drops them
_DISTANCE_CV_OPTIONS = ("dist_mat", "cv_test_fraction", "cv_seed_set")


def _check_kwargs(method: str, kwargs: dict[str, Any]) -> None:
    """Reject keyword arguments that ``colocalize`` would reject for ``method``."""
    generic = ("X", "Y", "Z", "zy_matched", "fisher_z", "r2_adjusted", "cv", "seed")
    accepted = [p for p in inspect.signature(_FUNCTIONS[method]).parameters if p not in generic]
    unknown = sorted(set(kwargs) - set(accepted) - {"cv", "seed", *_DISTANCE_CV_OPTIONS})
    if unknown:
        raise InputError(f"kwargs: method {method!r} accepts {accepted or 'none'} (and cv, "
                         f"seed, {', '.join(_DISTANCE_CV_OPTIONS)}); got unexpected "
                         f"{unknown}.")


# --------------------------------------------------------------------------------------
# small array helpers


def _center_masked(a: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre ``a`` over ``valid`` (broadcast), 0 elsewhere; degenerate rows become 0.

    Returns the centred array and the means ``(...)`` (NaN for an empty mask). The
    degeneracy rule is that of :func:`nispace.stats.coloc._center`.
    """
    vals = np.where(valid, a, 0.0)
    count = np.broadcast_to(valid, vals.shape).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = vals.sum(axis=-1) / count
    centred = np.where(valid, a - mean[..., None], 0.0)
    norm = np.sqrt(np.einsum("...i,...i->...", centred, centred))
    ref = np.sqrt(np.einsum("...i,...i->...", vals, vals))
    centred[norm <= _DEGENERATE_TOL * ref] = 0.0
    return centred, mean


def _rows(a: np.ndarray, fn) -> np.ndarray:
    """Apply a row-wise 2-D function to ``(..., n)`` by flattening the leading axes."""
    return fn(a.reshape(-1, a.shape[-1])).reshape(a.shape)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b^T`` for ``a (Ba, na, n)``, ``b (Bb, nb, n)`` with ``Ba, Bb in {1, B}``.

    One ``(na, n) @ (n, nb)`` product per batch element, ``(max(Ba, Bb), na, nb)``:
    every product has the same shape whatever the batch size, so BLAS computes each
    element the same way and results do not depend on how permutations are chunked
    (one large product over the stacked rows would pick shape-dependent kernels, which
    differ in the last bit).
    """
    if a.shape[0] == 1 and b.shape[0] == 1:
        return (a[0] @ b[0].T)[np.newaxis]
    return np.matmul(a, b.transpose(0, 2, 1))


def _pick(a: np.ndarray, k: int | slice) -> np.ndarray:
    """Batch element(s) ``k`` of ``a``, or ``a`` itself when it is not batched."""
    if a.shape[0] == 1:
        return a if isinstance(k, slice) else a[0]
    return a[k]


def _valid_y(Y: np.ndarray, Z: np.ndarray | None, zy: bool) -> np.ndarray:
    valid = ~np.isnan(Y)
    if Z is not None:
        valid &= ~np.isnan(Z) if zy else ~np.isnan(Z).any(axis=0)
    return valid


def _cols(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``a[..., mask]`` without a copy when ``mask`` keeps every parcel."""
    return a if mask.all() else a[..., mask]


def _z_part(Z: np.ndarray | None, cols, rows=None, zy: bool = False) -> np.ndarray | None:
    if Z is None:
        return None
    if zy and rows is not None:
        Z = Z[rows]
    return _cols(Z, cols)


def _common(valid: np.ndarray) -> np.ndarray | None:
    """The one validity pattern of all rows of ``valid (B, r, n)``, or None."""
    first = valid[0, 0]
    return first.copy() if (valid == first).all() else None


def _remove_z(X: np.ndarray, Y: np.ndarray, Z: np.ndarray | None, zy: bool):
    """Batched :func:`nispace.stats.coloc._remove_z` on NaN-free blocks."""
    if Z is None:
        return X, Y
    if zy:
        zs = np.broadcast_to(Z, Y.shape).reshape(-1, Y.shape[-1])
        return X, _residualize_rowwise(Y.reshape(-1, Y.shape[-1]), zs).reshape(Y.shape)
    return (_rows(X, lambda a: _residualize(a, Z)), _rows(Y, lambda a: _residualize(a, Z)))


def _batch_steps(n_batch: int, per_item: int) -> list[slice]:
    """Slices of ``range(n_batch)`` holding at most CHUNK_BYTES / 8 / per_item items."""
    step = max(1, CHUNK_BYTES // 8 // max(per_item, 1))
    return [slice(s, min(s + step, n_batch)) for s in range(0, n_batch, step)]


# --------------------------------------------------------------------------------------
# fallback: a loop over the batch


def _loop_into(out: dict, X, Y, Z, xr, yr, o: _Options, *, multivariate: bool,
               ks=None) -> None:
    """Fill ``out`` for batch elements ``ks`` with :func:`colocalize`, one call each.

    Maps left without any parcel by an earlier column restriction give NaN (a pair
    with fewer than 3 parcels, or a model without parcels, has NaN statistics).
    """
    n_batch = next(iter(out.values())).shape[0]
    z_all_nan = None if Z is None else np.isnan(Z).all(axis=1)
    for k in range(n_batch) if ks is None else ks:
        xk, yk = _pick(X, k), _pick(Y, k)
        xok, yok = ~np.isnan(xk).all(axis=1), ~np.isnan(yk).all(axis=1)
        if Z is not None:
            if o.zy:
                yok &= ~z_all_nan
            elif z_all_nan.any():
                continue
        if (multivariate and not xok.all()) or not xok.any() or not yok.any():
            continue
        zk = Z[yok] if (Z is not None and o.zy) else Z
        kw = {"individual": True} if o.individual else {}
        res = colocalize(xk[xok], yk[yok], o.method, zk, zy_matched=o.zy, fisher_z=False,
                         r2_adjusted=o.r2_adjusted, **kw)
        for key, arr in out.items():
            if multivariate:
                arr[k, yr[yok]] = res[key]
            else:
                arr[k][np.ix_(yr[yok], xr[xok])] = res[key]


# --------------------------------------------------------------------------------------
# pair-wise methods: correlations and slr


def _slr_from_moments(sxx, syy, sxy, xmean, ymean, n_obs) -> dict[str, np.ndarray]:
    """slr statistics as :func:`nispace.stats.coloc.slr` from centred moments."""
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = sxy / sxx
        rr = sxy**2 / (syy * sxx)
    beta = np.where(sxx == 0, np.nan, beta)
    rr[~np.isfinite(rr)] = np.nan
    r2 = np.clip(rr, 0.0, 1.0)
    return {"r2_raw": r2, "r2_adj": adjusted_r2(r2, n_obs, 1), "beta": beta,
            "intercept": ymean - beta * xmean}


def _clean_pairs(X, Y, Z, o: _Options) -> dict[str, np.ndarray]:
    """Pair-wise statistics for NaN-free blocks: ``(B, n_y, n_x)`` by one product."""
    if o.rank:
        X, Y = rank_rows(X), rank_rows(Y)
        Z = None if Z is None else rank_rows(Z)
    X, Y = _remove_z(X, Y, Z, o.zy)
    xc, yc = _rows(X, _center), _rows(Y, _center)
    xn = np.sqrt(np.einsum("...i,...i->...", xc, xc))
    yn = np.sqrt(np.einsum("...i,...i->...", yc, yc))
    if o.method != "slr":
        xu = xc / np.where(xn > 0, xn, 1.0)[..., None]
        yu = yc / np.where(yn > 0, yn, 1.0)[..., None]
        rho = _cross(yu, xu)
        rho[(yn == 0)[:, :, None] | (xn == 0)[:, None, :]] = np.nan
        return {"rho": np.clip(rho, -1.0, 1.0)}
    sxx, syy = (xn**2)[:, None, :], (yn**2)[:, :, None]
    return _slr_from_moments(sxx, syy, _cross(yc, xc), X.mean(axis=-1)[:, None, :],
                             Y.mean(axis=-1)[:, :, None], X.shape[-1])


def _masked_rank_sums(W: np.ndarray, vc: np.ndarray, S: np.ndarray):
    """``sum_W v_c r_s(W)`` and the rank variance of each ``S`` row over each mask.

    ``W``, ``vc`` (B, r, n); ``S`` (Bs, ns, n) NaN-free, ``Bs in {1, B}``. Returns
    ``(svs, sss)`` of shape (B, r, ns). Shared ``S``: ranks of ``s`` within ``W`` are
    ``0.5 + W @ C.T`` with the comparison matrix ``C[p, q] = [s_q < s_p] + 0.5
    [s_q = s_p]``, one product for all masks (see the module docstring). Batched
    ``S`` (each ``C`` would serve one permutation only): :func:`rank_rows` of the
    masked copies ``where(W, s, nan)``, which gives the same exact ranks.
    """
    n_batch, r, n = W.shape
    n_s = S.shape[1]
    budget = CHUNK_BYTES // 8
    wf = W.astype(np.float64)
    count = wf.sum(axis=-1)
    mean_sq = count * ((count + 1.0) * 0.5) ** 2                      # n_W * mean rank²
    svs = np.empty((n_batch, r, n_s))
    sss = np.empty((n_batch, r, n_s))
    if S.shape[0] > 1:
        s_step = max(1, budget // (2 * r * n))
        for s0 in range(0, n_s, s_step):
            sb = min(s_step, n_s - s0)
            k_step = max(1, budget // (2 * r * sb * n))
            for k0 in range(0, n_batch, k_step):
                ks, ss = slice(k0, k0 + k_step), slice(s0, s0 + sb)
                masked = np.where(W[ks, :, np.newaxis, :], S[ks, np.newaxis, ss, :], np.nan)
                rank = np.nan_to_num(rank_rows(masked), copy=False)   # 0 outside W
                svs[ks, :, ss] = np.einsum("krsp,krp->krs", rank, vc[ks])
                sss[ks, :, ss] = (np.einsum("krsp,krsp->krs", rank, rank)
                                  - mean_sq[ks, :, np.newaxis])
        return svs, sss

    rows_w, rows_v = wf.reshape(-1, n), vc.reshape(-1, n)
    deduped = _rank_sums_unique_masks(W.reshape(-1, n), rows_v, S[0], mean_sq.reshape(-1))
    if deduped is not None:
        return deduped[0].reshape(n_batch, r, n_s), deduped[1].reshape(n_batch, r, n_s)
    # sum_W r² = sum_W u² + sum_W u + n_W / 4 with r = u + 0.5 (all terms exact)
    offset = (mean_sq - 0.25 * count).reshape(-1)
    vsum = rows_v.sum(axis=-1)
    s_step = max(1, budget // (n * n))
    for s0 in range(0, n_s, s_step):
        sb = min(s_step, n_s - s0)
        # C[p, q] = 0.5 + 0.5 sign(s_p - s_q): 1 if s_q < s_p, 0.5 if equal, 0 if greater
        comp = S[0, s0:s0 + sb, :, np.newaxis] - S[0, s0:s0 + sb, np.newaxis, :]
        np.sign(comp, out=comp)
        comp *= 0.5
        comp += 0.5
        comp = comp.reshape(sb * n, n)
        r_step = max(1, budget // (2 * sb * n))
        a_all = np.empty((rows_w.shape[0], sb))
        b_all = np.empty((rows_w.shape[0], sb))
        for r0 in range(0, rows_w.shape[0], r_step):
            sl = slice(r0, r0 + r_step)
            u = (rows_w[sl] @ comp.T).reshape(-1, sb, n)                  # (rows, sb, n)
            a_all[sl] = np.einsum("rsp,rp->rs", u, rows_v[sl]) + 0.5 * vsum[sl, None]
            u_w = u * rows_w[sl, np.newaxis, :]
            b_all[sl] = (np.einsum("rsp,rsp->rs", u_w, u) + u_w.sum(axis=-1)
                         - offset[sl, None])
        svs[..., s0:s0 + sb] = a_all.reshape(n_batch, r, sb)
        sss[..., s0:s0 + sb] = b_all.reshape(n_batch, r, sb)
    return svs, sss


def _rank_sums_unique_masks(W: np.ndarray, vc: np.ndarray, S: np.ndarray,
                            mean_sq: np.ndarray):
    """:func:`_masked_rank_sums` for shared ``S`` when few masks are distinct.

    Null maps of several maps with the same NaN parcels share one mask per
    permutation: ``S`` is ranked once per distinct mask (:func:`rank_rows` of the
    masked copies, exact) and the rows look their ranks up. ``W``, ``vc`` (rows, n),
    ``S`` (ns, n), ``mean_sq`` (rows,). None when more than a quarter of the rows have
    masks of their own (the comparison-matrix product is then cheaper).
    """
    n_rows, n = W.shape
    n_s = S.shape[0]
    uniq, inverse = np.unique(np.packbits(W, axis=1), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if 4 * uniq.shape[0] > n_rows:
        return None
    n_u = uniq.shape[0]
    masks = np.unpackbits(uniq, axis=1, count=n).astype(bool)          # (U, n)
    # masks in chunks of CHUNK_BYTES of ranks; each chunk serves the rows that use it
    step = max(1, CHUNK_BYTES // 8 // (n_s * n))
    by_mask = np.argsort(inverse, kind="stable")
    edges = np.searchsorted(inverse[by_mask], np.arange(0, n_u + step, step))
    sum_sq = np.empty((n_u, n_s))
    svs = np.empty((n_rows, n_s))
    for c, u0 in enumerate(range(0, n_u, step)):
        sl = slice(u0, u0 + step)
        masked = np.where(masks[sl, None, :], S[None, :, :], np.nan)
        ranks = np.nan_to_num(rank_rows(masked), copy=False)          # 0 outside the mask
        sum_sq[sl] = np.einsum("usp,usp->us", ranks, ranks)            # exact (quarters)
        rows = by_mask[edges[c]:edges[c + 1]]
        for r0 in range(0, rows.size, step):
            rs = rows[r0:r0 + step]
            svs[rs] = np.einsum("rsp,rp->rs", ranks[inverse[rs] - u0], vc[rs])
    return svs, sum_sq[inverse] - mean_sq[:, None]


def _masked_moment_sums(W: np.ndarray, vc: np.ndarray, S: np.ndarray):
    """Cross-products, variances and means of NaN-free ``S`` over the masks ``W``.

    Masked sums by matrix products, with pairs that lose precision to cancellation
    recomputed exactly (two-pass). Returns ``(svs, sss, smean)`` of shape (B, r, ns).
    """
    n_batch, r, n = W.shape
    n_s = S.shape[1]
    wf = W.astype(np.float64)
    count = wf.sum(axis=-1)[..., None]
    s_mean = S.mean(axis=-1, keepdims=True)
    shifted = S - s_mean
    stacked = np.concatenate([shifted, shifted * shifted, S * S], axis=1)   # (Bs, 3ns, n)
    sums = _cross(wf, stacked)                                              # (B, r, 3ns)
    s1, s2, sq = sums[..., :n_s], sums[..., n_s:2 * n_s], sums[..., 2 * n_s:]
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = s1 / count
    sss = s2 - s1 * shift
    svs = _cross(vc, shifted) - shift * vc.sum(axis=-1)[..., None]
    smean = s_mean[..., 0][:, None, :] + shift
    redo = (count >= _MIN_PAIR_PARCELS) & ((sss <= _CANCEL_TOL * s2)
                                          | (s2 <= _GLOBAL_CONST_TOL * sq))
    kk, rr, ss = np.nonzero(redo)
    step = max(1, CHUNK_BYTES // 8 // (3 * n))
    for start in range(0, kk.size, step):
        k, i, j = kk[start:start + step], rr[start:start + step], ss[start:start + step]
        w = W[k, i]
        s = S[k if S.shape[0] > 1 else np.zeros_like(k), j]
        centred, mean = _center_masked(s, w)
        sss[k, i, j] = np.einsum("fi,fi->f", centred, centred)
        svs[k, i, j] = np.einsum("fi,fi->f", vc[k, i], centred)
        smean[k, i, j] = mean
    return svs, sss, smean


def _masked_pairs(V: np.ndarray, S: np.ndarray, o: _Options, v_is_x: bool
                  ) -> dict[str, np.ndarray]:
    """Pair statistics of batched ``V`` (NaN at varying parcels) and NaN-free ``S``.

    Returns arrays of shape (B, n_v, n_s).
    """
    W = ~np.isnan(V)
    count = W.sum(axis=-1)[..., None].astype(np.float64)               # (B, r, 1)
    if o.rank:
        V = rank_rows(V)
    vc, vmean = _center_masked(V, W)
    svv = np.einsum("...i,...i->...", vc, vc)[..., None]
    few = np.broadcast_to(count < _MIN_PAIR_PARCELS, (V.shape[0], V.shape[1], S.shape[1]))
    if o.rank:
        svs, sss = _masked_rank_sums(W, vc, S)
        smean = None
    else:
        svs, sss, smean = _masked_moment_sums(W, vc, S)
    if o.method != "slr":
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = svs / np.sqrt(svv * sss)
        rho[~np.isfinite(rho) | few | (svv == 0) | (sss <= 0)] = np.nan
        return {"rho": np.clip(rho, -1.0, 1.0)}
    vmean = vmean[..., None]
    if v_is_x:
        res = _slr_from_moments(svv, sss, svs, vmean, smean, count)
    else:
        res = _slr_from_moments(sss, svv, svs, smean, vmean, count)
    for arr in res.values():
        arr[few] = np.nan
    return res


def _pair_fill(out: dict, X, Y, Z, xr, yr, o: _Options) -> None:
    """Fill ``out[...][:, yr, xr]``: group by NaN pattern, then the fastest exact path."""
    if X.shape[-1] < _MIN_PAIR_PARCELS:
        return
    vx, vy = ~np.isnan(X), _valid_y(Y, Z, o.zy)
    if X.shape[0] == 1:
        groups = _row_groups(vx[0])
        if len(groups) > 1:
            for mask, rows in groups:
                _pair_fill(out, X[:, rows][..., mask], Y[..., mask], _z_part(Z, mask),
                           xr[rows], yr, o)
            return
    if Y.shape[0] == 1:
        groups = _row_groups(vy[0])
        if len(groups) > 1:
            for mask, rows in groups:
                _pair_fill(out, X[..., mask], Y[:, rows][..., mask],
                           _z_part(Z, mask, rows, o.zy), xr, yr[rows], o)
            return
    px, py = _common(vx), _common(vy)
    idx = (slice(None), yr[:, None], xr[None, :])
    if px is not None and py is not None:
        m = px & py
        if m.sum() >= _MIN_PAIR_PARCELS:
            res = _clean_pairs(_cols(X, m), _cols(Y, m), _z_part(Z, m), o)
            for key, arr in res.items():
                out[key][idx] = arr
        return
    if Z is None and px is not None:                     # Y varies, X NaN-free on px
        res = _masked_pairs(_cols(Y, px), _cols(X, px), o, v_is_x=False)
    elif Z is None and py is not None:                   # X varies, Y NaN-free on py
        res = {k: v.transpose(0, 2, 1)
               for k, v in _masked_pairs(_cols(X, py), _cols(Y, py), o, v_is_x=True).items()}
    else:
        _loop_into(out, X, Y, Z, xr, yr, o, multivariate=False)
        return
    for key, arr in res.items():
        out[key][idx] = arr


# --------------------------------------------------------------------------------------
# multivariate methods: mlr and dominance


def _mlr_kernel(xc, xmean, yc, ymean, ysq, o: _Options):
    """mlr statistics of centred, zero-padded blocks; also the ill-conditioned batch rows.

    ``xc`` (Kx, p, n), ``yc`` (K, n_y, n), means ``(K?, p|n_y)``, ``ysq`` (K, n_y) sum of
    squared targets (for the constant-target rule of :func:`coloc.mlr`).
    """
    p = xc.shape[1]
    gram = np.matmul(xc, xc.transpose(0, 2, 1))                      # (Kx, p, p)
    d = np.sqrt(np.diagonal(gram, axis1=1, axis2=2))                 # (Kx, p)
    bad = (d == 0).any(axis=1)
    ds = np.where(d > 0, d, 1.0)
    corr = gram / (ds[:, :, None] * ds[:, None, :])
    corr[bad] = np.eye(p)
    eig = np.linalg.eigvalsh(corr)
    bad |= eig[:, 0] * _MAX_COND < eig[:, -1]
    corr[bad] = np.eye(p)
    inv = np.linalg.inv(corr)                                        # (Kx, p, p)
    cross = _cross(xc, yc)                                           # (K, p, n_y)
    beta = np.matmul(inv, cross / ds[:, :, None]) / ds[:, :, None]   # (K, p, n_y)
    syy = np.einsum("...i,...i->...", yc, yc)                        # (K, n_y)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.einsum("kpt,kpt->kt", cross, beta) / syy
    r2[np.broadcast_to(~(syy > _DEGENERATE_TOL * ysq), r2.shape)] = np.nan
    res = {"r2_raw": r2, "beta": beta.transpose(0, 2, 1),
           "intercept": ymean - np.einsum("kpt,kp->kt", beta, np.broadcast_to(
               xmean, (beta.shape[0], p)))}
    if o.individual:
        ginv_diag = np.diagonal(inv, axis1=1, axis2=2) / ds**2       # (Kx, p)
        with np.errstate(divide="ignore", invalid="ignore"):
            drop = beta**2 / ginv_diag[:, :, None] / syy[:, None, :]
        res["r2_without"] = (r2[:, None, :] - drop).transpose(0, 2, 1)   # (K, n_y, p)
    return res, bad


def _dominance_kernel(xc, yc) -> np.ndarray:
    """Plain R² of all subset models ``(K, 2**p, n_y)`` as in :mod:`.dominance`."""
    xn = np.sqrt(np.einsum("...i,...i->...", xc, xc))
    yn = np.sqrt(np.einsum("...i,...i->...", yc, yc))
    xz = xc / np.where(xn > 0, xn, 1.0)[..., None]
    yz = yc / np.where(yn > 0, yn, 1.0)[..., None]
    gram = np.matmul(xz, xz.transpose(0, 2, 1))                      # (Kx, p, p)
    r2 = _subsets_r2_from_gram(gram, _cross(xz, yz))                 # (K, 2**p, n_y)
    r2[np.broadcast_to((yn == 0)[:, None, :], r2.shape)] = np.nan
    return np.clip(r2, 0.0, 1.0, out=r2, where=~np.isnan(r2))


def _dominance_block(xc, yc, n_obs, adjusted: bool) -> dict[str, np.ndarray]:
    """Dominance statistics ``(K, n_y[, p])`` of centred ``xc`` (Kx, p, n), ``yc``.

    The ``(K, 2**p, n_targets)`` subset R² are computed for a few target maps at a
    time, as many as keep them under the memory budget of
    :func:`~nispace.stats.dominance.dominance_analysis_batch`, and adjusted in place.
    """
    p, n_y = xc.shape[1], yc.shape[1]
    k = max(xc.shape[0], yc.shape[0])
    res = {"sum": np.empty((k, n_y))}
    res |= {key: np.empty((k, n_y, p)) for key in ("total", "individual", "relative")}
    if adjusted:        # 1 - (1 - R²) (n - 1) / (n - size - 1); NaN where dof <= 0
        dof = n_obs[:, None] - 1.0 - _popcount(p)[None, :]            # (Kw, 2**p)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(dof > 0, (n_obs[:, None] - 1.0) / dof, np.nan)[:, :, None]
    step = max(1, _MEMORY_BUDGET // (2**p * _BYTES_PER_SUBSET_TARGET * k))
    for t0 in range(0, n_y, step):
        ts = slice(t0, min(t0 + step, n_y))
        r2 = _dominance_kernel(xc, yc[:, ts])                         # (K, 2**p, t)
        if adjusted:
            r2 -= 1.0
            r2 *= factor
            r2 += 1.0
        t = r2.shape[2]
        flat = _dominance_from_subsets(r2.transpose(1, 0, 2).reshape(2**p, k * t), p)
        del r2
        for key in res:
            res[key][:, ts] = flat[key].reshape((k, t) + flat[key].shape[1:])
    return res


def _multi_block(out: dict, X, Y, W, yr, o: _Options) -> np.ndarray:
    """Vectorised mlr/dominance of a block; returns batch rows to delegate (mlr only).

    ``X`` (Bx, p, n), ``Y`` (By, n_y, n) and ``W`` (Bw, n) the list-wise mask of each
    permutation (None: all parcels valid, ``X``/``Y`` NaN-free).
    """
    p, n_y, n = X.shape[1], Y.shape[1], X.shape[-1]
    n_batch = next(iter(out.values())).shape[0]
    per_item = (p + n_y) * n + (2**p * n_y if o.method == "dominance" else p * n_y)
    to_delegate = []
    for sl in _batch_steps(n_batch, 2 * per_item):
        xb, yb = _pick(X, sl), _pick(Y, sl)
        if W is None:
            valid = np.ones((1, 1, n), dtype=bool)
            n_obs = np.full(1, float(n))
        else:
            valid = _pick(W, sl)[:, None, :]
            n_obs = valid[:, 0].sum(axis=-1).astype(np.float64)
        xc, xmean = _center_masked(xb, valid)
        yc, ymean = _center_masked(yb, valid)
        few = n_obs < p + 2                                           # (Kw,)
        if o.method == "mlr":
            ysq = np.einsum("...i,...i->...", *(2 * [np.where(valid, yb, 0.0)]))
            res, bad = _mlr_kernel(xc, xmean, yc, ymean, ysq, o)
            res["r2_adj"] = adjusted_r2(res["r2_raw"], n_obs[:, None], p)
            if o.individual:
                r2 = res["r2_adj"] if o.r2_adjusted else res["r2_raw"]
                without = res.pop("r2_without")
                if o.r2_adjusted:
                    without = adjusted_r2(without, n_obs[:, None, None], p - 1)
                res["individual"] = r2[:, :, None] - without
            bad = np.broadcast_to(bad & ~few, (sl.stop - sl.start,))
            to_delegate.extend(np.flatnonzero(bad) + sl.start)
        else:
            res = _dominance_block(xc, yc, n_obs, o.r2_adjusted)
        for key, arr in res.items():
            arr = np.array(np.broadcast_to(arr, (sl.stop - sl.start,) + arr.shape[1:]))
            arr[np.broadcast_to(few, (arr.shape[0],))] = np.nan
            out[key][sl, yr] = arr
    return np.asarray(to_delegate, dtype=int)


def _multi_fill(out: dict, X, Y, Z, yr, o: _Options) -> None:
    """Fill ``out[...][:, yr]`` for mlr/dominance (list-wise NaN removal per Y map)."""
    p = X.shape[1]
    vy = _valid_y(Y, Z, o.zy)
    if Y.shape[0] == 1:
        groups = _row_groups(vy[0])
        if len(groups) > 1:
            for mask, rows in groups:
                _multi_fill(out, X[..., mask], Y[:, rows][..., mask],
                            _z_part(Z, mask, rows, o.zy), yr[rows], o)
            return
    W = vy & ~np.isnan(X).any(axis=1)[:, None, :]                    # (B', n_y, n)
    common = _common(W)
    if common is not None:
        if common.sum() < p + 2:
            return
        Xm, Ym = _remove_z(_cols(X, common), _cols(Y, common), _z_part(Z, common), o.zy)
        bad = _multi_block(out, Xm, Ym, None, yr, o)
    elif Z is None and (W == W[:, :1]).all():
        bad = _multi_block(out, X, Y, W[:, 0], yr, o)
    else:
        _loop_into(out, X, Y, Z, None, yr, o, multivariate=True)
        return
    if bad.size:
        for arr in out.values():
            arr[np.ix_(bad, yr)] = np.nan
        _loop_into(out, X, Y, Z, None, yr, o, multivariate=True, ks=bad)


# --------------------------------------------------------------------------------------
# public entry point


def colocalize_batch(X, Y, method: str, Z=None, *, zy_matched: bool = False,
                     fisher_z: bool = False, r2_adjusted: bool = True,
                     stats: Sequence[str] | None = None, **kwargs) -> dict[str, np.ndarray]:
    """Colocalization statistics of many permuted (null) maps at once.

    Parameters
    ----------
    X : array_like, shape (B, n_x, n_parcels) or (n_x, n_parcels)
        Reference maps, optionally with a leading batch (permutation) axis.
    Y : array_like, shape (B, n_y, n_parcels) or (n_y, n_parcels)
        Target maps, optionally with a leading batch axis. When X and Y are both
        batched, their ``B`` must match: permutation ``k`` of X pairs with
        permutation ``k`` of Y. Neither batched: ``B = 1``.
    method : str
        One of :data:`nispace.stats.coloc.COLOC_METHODS`. :data:`BATCHED_METHODS`
        are vectorised across the batch; the others loop over it.
    Z : array_like, shape (n_z, n_parcels), optional
        Covariate maps (not batched), as in :func:`~nispace.stats.coloc.colocalize`;
        with ``zy_matched``: shape (n_y, n_parcels).
    zy_matched : bool, default False
        ``Z[i]`` is regressed out of ``Y[..., i, :]`` only.
    fisher_z : bool, default False
        ``arctanh`` of ``rho`` (correlation methods).
    r2_adjusted : bool, default True
        Adjusted R² in ``"r2"`` of ``slr``, ``mlr``, ``dominance`` (and ``pcr``).
    stats : sequence of str, optional
        Statistics to return (default: all of the method's); e.g. ``["rho"]``.
        For ``mlr``, ``"individual"`` is computed only when listed here or when
        ``individual=True`` is passed.
    **kwargs
        Passed on as in :func:`~nispace.stats.coloc.colocalize` (``cv``, ``seed``,
        ``n_components``, ``individual``, ...). The fallback methods are called
        once per permutation with the same ``seed``.

    Returns
    -------
    dict of str to numpy.ndarray
        For each statistic an array of shape ``(B, n_y, n_x)`` (per X-Y pair) or
        ``(B, n_y)`` (per model); element ``k`` equals
        ``colocalize(X[k], Y[k], method, Z, ...)[stat]`` to rounding.

    Raises
    ------
    ValueError
        As :func:`~nispace.stats.coloc.colocalize`, plus batch sizes of X and Y that
        differ and ``stats`` names the method does not return.

    Notes
    -----
    See the module docstring for the algorithms (one matrix product per batch for
    NaN-free correlations, masked sums and exact comparison-matrix ranks for NaN
    parcels that vary between nulls, batched normal equations for ``mlr``, batched
    all-subsets R² for ``dominance``) and their memory use.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(3, 100)), rng.normal(size=(1, 100))
    >>> nulls = np.stack([x[:, rng.permutation(100)] for _ in range(50)])
    >>> colocalize_batch(nulls, y, "spearman")["rho"].shape
    (50, 1, 3)
    """
    if not isinstance(method, str) or method not in _FUNCTIONS:
        raise InputError(f"method: expected one of {list(_FUNCTIONS)}; got {method!r}."
                         + (suggest(method, _FUNCTIONS) if isinstance(method, str) else ""))
    for name, value in (("zy_matched", zy_matched), ("fisher_z", fisher_z),
                        ("r2_adjusted", r2_adjusted)):
        _check_bool(name, value)
    X, Y = _as_batch(X, "X"), _as_batch(Y, "Y")
    if X.shape[0] > 1 and Y.shape[0] > 1 and X.shape[0] != Y.shape[0]:
        raise InputError(f"X and Y: both carry a batch axis, so their batch sizes must match; "
                         f"got X {X.shape} and Y {Y.shape}.")
    partial = method if method.startswith("partial") else None
    _, _, Z = _validate(X[0], Y[0], Z, zy_matched, require_z=partial)
    n_batch = max(X.shape[0], Y.shape[0])
    available = COLOC_METHODS[method] + (("individual",) if method == "mlr" else ())
    if stats is None:
        wanted = list(COLOC_METHODS[method])
    else:
        wanted = [stats] if isinstance(stats, str) else list(stats)
        unknown = [s for s in wanted if s not in available]
        if unknown or not wanted:
            raise InputError(f"stats: method {method!r} returns {list(available)}; got "
                             f"{wanted!r}.")
    if method not in BATCHED_METHODS:
        results = [colocalize(_pick(X, k), _pick(Y, k), method, Z, fisher_z=fisher_z,
                              zy_matched=zy_matched, r2_adjusted=r2_adjusted, **kwargs)
                   for k in range(n_batch)]
        names = list(results[0]) if stats is None else wanted
        return {s: np.stack([r[s] for r in results]) for s in names}

    _check_kwargs(method, kwargs)
    individual = False
    if method == "mlr":
        _check_bool("individual", kwargs.get("individual", False))
        individual = bool(kwargs.get("individual", False)) or "individual" in wanted
        if individual and "individual" not in wanted and stats is None:
            wanted.append("individual")
    o = _Options(method, zy_matched, r2_adjusted, individual=individual)
    n_y, n_x = Y.shape[1], X.shape[1]
    yr, xr = np.arange(n_y), np.arange(n_x)
    if method in _PAIR_METHODS:
        keys = ["rho"] if method != "slr" else ["r2_raw", "r2_adj", "beta", "intercept"]
        out = {key: np.full((n_batch, n_y, n_x), np.nan) for key in keys}
        _pair_fill(out, X, Y, Z, xr, yr, o)
    else:
        if method == "dominance":
            _check_n_predictors(n_x, n_y, n_fits=n_batch)
        if method == "mlr":
            out = {"r2_raw": np.full((n_batch, n_y), np.nan),
                   "r2_adj": np.full((n_batch, n_y), np.nan),
                   "beta": np.full((n_batch, n_y, n_x), np.nan),
                   "intercept": np.full((n_batch, n_y), np.nan)}
            if individual:
                out["individual"] = np.full((n_batch, n_y, n_x), np.nan)
        else:
            out = {"sum": np.full((n_batch, n_y), np.nan)}
            out |= {key: np.full((n_batch, n_y, n_x), np.nan)
                    for key in ("total", "individual", "relative")}
        _multi_fill(out, X, Y, Z, yr, o)
    if "rho" in out and fisher_z:
        with np.errstate(divide="ignore"):
            out["rho"] = np.arctanh(out["rho"])
    if "r2_raw" in out:
        out["r2"] = out["r2_adj"] if r2_adjusted else out["r2_raw"]
    return {s: out[s] for s in wanted}


# --------------------------------------------------------------------------------------
# index nulls: permute the other side instead of re-ranking every null


def permutation_rows(idx) -> np.ndarray:
    """Which rows of an index-null array are permutations of ``range(n_parcels)``.

    Parameters
    ----------
    idx : array_like of int, shape (B, n_parcels)
        Index nulls (null ``k`` is ``data[idx[k]]``; -1 marks a NaN parcel).

    Returns
    -------
    numpy.ndarray of bool, shape (B,)
        True where row ``k`` holds every parcel exactly once (no -1, no duplicate).

    Examples
    --------
    >>> permutation_rows([[2, 0, 1], [0, 0, 1], [2, -1, 1]])
    array([ True, False, False])
    """
    idx = np.asarray(idx)
    if idx.ndim != 2:
        raise InputError(f"idx: expected an integer array (B, n_parcels); got shape {idx.shape}.")
    n = idx.shape[1]
    if idx.size == 0:
        return np.zeros(idx.shape[0], dtype=bool)
    ok = (idx >= 0).all(axis=1) & (idx < n).all(axis=1)
    seen = np.zeros(idx.shape, dtype=bool)
    rows = np.flatnonzero(ok)
    seen[rows[:, None], idx[rows]] = True
    return ok & seen.all(axis=1)


def _unit_rows(a: np.ndarray, rank: bool) -> tuple[np.ndarray, np.ndarray]:
    """Rows ranked (optionally), centred and scaled to unit norm; and which are constant."""
    if rank:
        a = rank_rows(a)
    ac = _center(a)
    norm = np.sqrt(np.einsum("ij,ij->i", ac, ac))
    return ac / np.where(norm > 0, norm, 1.0)[:, None], norm == 0


def colocalize_index_nulls(X, Y, idx, method: str, *, permuted: str = "X",
                           fisher_z: bool = False, perm_rows=None
                           ) -> dict[str, np.ndarray] | None:
    """Correlations of index nulls of one side with the other, without re-ranking nulls.

    Null ``k`` of every map on the ``permuted`` side is ``map[idx[k]]``. When ``idx[k]``
    is a permutation of the parcels (every parcel once: Hungarian and Vasa spins, and
    many Alexander-Bloch spins) and both sides are NaN-free, the ranks, mean and norm
    of a null are those of its map, reordered. So
    ``rho_k = sum_p u_y[p] u_x[idx_k[p]] = sum_q u_x[q] u_y[inv_k[q]]``: the unit
    (ranked, centred, normalised) maps are computed **once**, the other side's unit
    maps are reordered by the inverse permutation ``inv_k`` and one matrix product
    gives every null correlation. Cost ``O(B n_parcels (n_x + n_y))`` for the reorder
    plus one ``(B n_other, n) @ (n, n_perm_side)`` product, instead of ranking
    ``B n_permuted`` null maps.

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Reference maps (not batched).
    Y : array_like, shape (n_y, n_parcels)
        Target maps (not batched).
    idx : array_like of int, shape (B, n_parcels)
        Index nulls of the ``permuted`` side.
    method : {"pearson", "spearman"}
        Correlation.
    permuted : {"X", "Y"}, default "X"
        Which side ``idx`` permutes.
    fisher_z : bool, default False
        ``arctanh`` of ``rho``.
    perm_rows : array_like of bool, shape (B,), optional
        :func:`permutation_rows` of ``idx``, if the caller has computed it already.

    Returns
    -------
    dict or None
        ``{"rho": (B, n_y, n_x)}``, equal to ``colocalize_batch(X[:, idx].transpose(1,
        0, 2), Y, method)`` (``permuted="X"``) up to floating-point rounding (the same
        sums in another order), so the same p-values; None when the shortcut does not
        apply (another method, NaN in X or Y, or a row of ``idx`` that is not a
        permutation, see :func:`permutation_rows`): the caller then takes the
        general path.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.normal(size=(3, 50)), rng.normal(size=(1, 50))
    >>> idx = np.stack([rng.permutation(50) for _ in range(20)])
    >>> colocalize_index_nulls(X, Y, idx, "spearman")["rho"].shape
    (20, 1, 3)

    Spearman also takes index nulls with repeated parcels (nearest-centroid spins)
    and NaN parcels (-1 in ``idx``, NaN in the maps, one NaN pattern per side): the
    ranks of every null are counted from the multiplicities of the source parcels and
    those of the other side from the parcels each null keeps, see
    :func:`_index_spearman_masked`.
    """
    check = {"X": "X", "Y": "Y"}
    if permuted not in check:
        raise InputError(f"permuted: expected 'X' or 'Y'; got {permuted!r}.")
    _check_bool("fisher_z", fisher_z)
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    idx = np.asarray(idx)
    if (method not in ("pearson", "spearman") or X.ndim != 2 or Y.ndim != 2
            or X.shape[1] != Y.shape[1] or idx.ndim != 2 or idx.shape[1] != X.shape[1]
            or X.shape[1] < _MIN_PAIR_PARCELS):
        return None
    if perm_rows is not None and np.shape(perm_rows) != (idx.shape[0],):
        raise InputError(f"perm_rows: expected permutation_rows(idx), shape "
                         f"({idx.shape[0]},); got shape {np.shape(perm_rows)}.")
    if (np.isnan(X).any() or np.isnan(Y).any()
            or not (permutation_rows(idx) if perm_rows is None else perm_rows).all()):
        if method != "spearman":
            return None
        P, O = (X, Y) if permuted == "X" else (Y, X)
        rho = _index_spearman_masked(P, O, idx)
        if rho is None:
            return None
        rho = rho if permuted == "X" else rho.transpose(0, 2, 1)
        if fisher_z:
            with np.errstate(divide="ignore"):
                rho = np.arctanh(rho)
        return {"rho": np.ascontiguousarray(rho)}
    n_batch, n = idx.shape
    inv = np.empty_like(idx)
    np.put_along_axis(inv, idx, np.arange(n)[None, :], axis=1)
    xu, x0 = _unit_rows(X, method == "spearman")
    yu, y0 = _unit_rows(Y, method == "spearman")
    # one (n_a, n) @ (n, n_b) product per null, stacked: every product has the same shape
    # whatever the number of nulls B, so BLAS computes each null the same way and the
    # results do not depend on how the nulls are chunked (threads get other chunk sizes)
    if permuted == "X":       # rho[k, i, j] = (yu_i reordered by inv_k) . xu_j
        moved = yu[:, inv].transpose(1, 0, 2)                         # (B, n_y, n)
        rho = np.matmul(moved, xu.T)                                  # (B, n_y, n_x)
    else:                     # rho[k, i, j] = yu_i . (xu_j reordered by inv_k)
        moved = xu[:, inv].transpose(1, 0, 2)                         # (B, n_x, n)
        rho = np.matmul(moved, yu.T).transpose(0, 2, 1)               # (B, n_y, n_x)
    rho = np.clip(rho, -1.0, 1.0)
    rho[:, y0[:, None] | x0[None, :]] = np.nan
    if fisher_z:
        with np.errstate(divide="ignore"):
            rho = np.arctanh(rho)
    return {"rho": np.ascontiguousarray(rho)}


def _tie_groups(values: np.ndarray, valid: np.ndarray):
    """Sort order of each row (invalid last) and each sorted position's tie group.

    Returns ``(order, first, last, tied)``: ``order`` (rows, n) sorts each row,
    ``first``/``last`` (rows, n) are the first and last sorted positions of each
    position's group of equal values, ``tied`` (rows,) says whether a row has ties.
    """
    n = values.shape[1]
    order = np.argsort(np.where(valid, values, np.inf), axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    pos = np.arange(n)
    starts = np.ones(values.shape, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ends = np.ones(values.shape, dtype=bool)
    ends[:, :-1] = starts[:, 1:]
    first = np.maximum.accumulate(np.where(starts, pos, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends, pos, n - 1)[:, ::-1], axis=1)[:, ::-1]
    return order, first, last, (first != pos).any(axis=1)


def _counted_ranks(counts: np.ndarray, order: np.ndarray, first: np.ndarray,
                   last: np.ndarray, ties: bool):
    """Average ranks from counts, in each map's sorted order (no sort per null).

    ``counts`` (B, n) is how often each parcel enters a null (0, 1 or more);
    ``order``, ``first``, ``last`` (nb, n) come from :func:`_tie_groups` of ``nb``
    maps. Returns ``(ms, cum, rank)`` of shape (B, nb, n): the counts in sorted
    order, their cumulative sums and the average rank of each sorted position,
    ``#{smaller} + (#{equal} + 1) / 2`` (``rank`` is None for maps without ties,
    where it is ``cum - (ms - 1) / 2``). All values are multiples of 1/2: exact.
    """
    n_batch, n = counts.shape
    nb = order.shape[0]
    shape = (n_batch, nb, n)
    ms = np.take(counts, order.reshape(-1), axis=1).reshape(shape)
    cum = np.cumsum(ms, axis=-1)
    if not ties:
        return ms, cum, None
    offs = (np.arange(nb) * n)[:, None]      # one 1-D take per array: group ends
    before = np.take((cum - ms).reshape(n_batch, -1), (first + offs).reshape(-1),
                     axis=1).reshape(shape)
    end = np.take(cum.reshape(n_batch, -1), (last + offs).reshape(-1), axis=1).reshape(shape)
    return ms, cum, before + (end - before + 1.0) * 0.5


def _index_spearman_masked(P: np.ndarray, O: np.ndarray, idx: np.ndarray
                           ) -> np.ndarray | None:
    """Spearman of index nulls ``P[:, idx[k]]`` with ``O``, pair-wise NaN removal.

    Null ``k`` of a map ``x`` keeps the parcels ``W_k`` whose source ``idx_k[p]`` is
    valid, that are valid in ``x`` and in ``O`` (one NaN pattern per side). With
    ``m_k[q]`` the number of parcels of ``W_k`` drawn from source ``q`` (0, 1 or more),
    the average rank of a null value ``x_q`` among the ``n_W`` values is
    ``#{smaller} + (#{equal} + 1) / 2``, with counts that are sums of ``m_k`` over the
    map's sorted parcels: one cumulative sum per (null, map), no sort. The ranks of
    ``O`` over ``W_k`` are counted the same way (``W_k`` as 0/1 counts in each ``O``
    map's sorted order), centred (``o_c``) and scattered to the sources,
    ``a_k[q] = sum_{p in W_k, idx_k[p] = q} o_c[p]``, so ``S_ro = sum_q R[q] a_k[q]``
    and ``S_rr = sum_q m_k[q] R[q]^2 - n_W ((n_W + 1) / 2)^2`` (exact: quarters).

    For a map without ties the tie groups are the copies of each source, so (sum of
    squared average ranks) ``S_rr = n_W (n_W + 1) (2 n_W + 1) / 6 - sum_q (m_k[q]^3 -
    m_k[q]) / 12 - n_W ((n_W + 1) / 2)^2`` for every such map, and with
    ``R[q] = cum[q] - (m_k[q] - 1) / 2`` (``cum``: the counts up to ``q`` in the map's
    order) and ``sum_q a_k[q] = 0``, ``S_ro = sum_q cum[q] a_k[q] - sum_q m_k[q] a_k[q]
    / 2``: one gather, one cumulative sum and one product per (null, map) instead of
    six passes. Every term is a multiple of 1/4, so both forms are exact in float64
    and give the same ``rho`` bit for bit (``O`` is taken in blocks of maps of
    ``CACHE_BYTES`` arrays).

    With more ``O`` maps than ``P`` maps (nulls of one target against many maps) the
    ``O`` side is vectorised instead: nulls that keep the same parcels share one
    ranking of ``O`` and one product (:func:`_shared_mask_rho`); otherwise the ranks of
    ``O`` are counted per null and read against the nulls' ranks at their parcels
    (:func:`_per_null_rho`). Same exact sums, same ``rho`` bit for bit.

    Returns ``rho`` (B, n_o, n_p), or None when a side has several NaN patterns.
    """
    pvalid, ovalid = ~np.isnan(P), ~np.isnan(O)
    if not ((pvalid == pvalid[0]).all() and (ovalid == ovalid[0]).all()):
        return None
    pvalid, ovalid = pvalid[0], ovalid[0]
    n_batch, n = idx.shape
    n_p, n_o = P.shape[0], O.shape[0]
    src = np.where(idx < 0, 0, idx)
    W = (idx >= 0) & pvalid[src] & pvalid[None, :] & ovalid[None, :]             # (B, n)
    count = W.sum(axis=1).astype(np.float64)                                      # (B,)
    mid = (count + 1.0) * 0.5
    flat = (src + (np.arange(n_batch) * n)[:, None])[W]
    m = np.bincount(flat, minlength=n_batch * n).astype(np.float64).reshape(n_batch, n)
    p_order, p_first, p_last, p_tied = _tie_groups(P, np.broadcast_to(pvalid, P.shape))
    mean_sq = count * mid ** 2
    # maps without ties: the sources' tie groups are their copies alone, so S_rr does not
    # depend on the map and S_ro needs only the cumulative counts (see the docstring)
    s_rr_free = (count * (count + 1.0) * (2.0 * count + 1.0) / 6.0
                 - ((m ** 3 - m) / 12.0).sum(axis=1) - mean_sq)                 # (B,)
    wf = W.astype(np.float64)
    rho = np.empty((n_batch, n_o, n_p))
    step = max(1, CHUNK_BYTES // 8 // (n_batch * n))
    p_blocks = [(g[j0:j0 + step], ties) for ties in (False, True)
                for g in [np.flatnonzero(p_tied == ties)] for j0 in range(0, g.size, step)]
    if n_o > n_p:             # few maps permuted against many: O's side vectorised
        p_ranks = _p_ranks_at_parcels(m, src, W, p_order, p_first, p_last, p_blocks,
                                      s_rr_free, mean_sq)
        masks, inverse = np.unique(W, axis=0, return_inverse=True)
        if 4 * masks.shape[0] <= n_batch:
            _shared_mask_rho(rho, O, W, masks, inverse.reshape(-1), p_ranks)
        else:
            _per_null_rho(rho, O, W, ovalid, count, p_ranks)
        rho[count < _MIN_PAIR_PARCELS] = np.nan
        return np.clip(rho, -1.0, 1.0)
    o_order, o_first, o_last, o_tied = _tie_groups(O, np.broadcast_to(ovalid, O.shape))
    o_inv = np.empty_like(o_order)
    np.put_along_axis(o_inv, o_order, np.arange(n)[None, :], axis=1)
    # ~8 arrays of (B, block, n) live at once: blocks of CACHE_BYTES each stay in the
    # processor's caches (two threads with 4 MB blocks each were 20% slower than one)
    o_step = max(1, CACHE_BYTES // 8 // (n_batch * n))
    o_blocks = [(g[i0:i0 + o_step], ties) for ties in (False, True)
                for g in [np.flatnonzero(o_tied == ties)] for i0 in range(0, g.size, o_step)]
    for os_, o_ties in o_blocks:
        nbo = os_.size
        ms, cum, rank = _counted_ranks(wf, o_order[os_], o_first[os_], o_last[os_], o_ties)
        if rank is None:        # ranks 1..n_W over W_k (only where ms == 1 is used)
            rank = cum
        oc = (rank - mid[:, None, None]) * ms           # centred ranks, 0 outside W_k
        s_oo = np.einsum("kis,kis->ki", oc, oc)                                # (B, nbo)
        # back to parcel order, then scattered to the sources: a (B, nbo, n)
        offs = (np.arange(nbo) * n)[:, None]
        oc = np.take(oc.reshape(n_batch, -1), (o_inv[os_] + offs).reshape(-1),
                     axis=1).reshape(n_batch, nbo, n)
        a = np.bincount((flat[None, :] + (np.arange(nbo) * (n_batch * n))[:, None]).ravel(),
                        weights=oc.transpose(1, 0, 2)[:, W].ravel(),
                        minlength=nbo * n_batch * n).reshape(nbo, n_batch, n).transpose(1, 0, 2)
        del oc
        ma = np.einsum("kq,kiq->ki", m, a)                                     # (B, nbo)
        for js, p_ties in p_blocks:
            ms, cum, rank = _counted_ranks(m, p_order[js], p_first[js], p_last[js], p_ties)
            if rank is None:
                s_rr = s_rr_free[:, None]
                r_use, shift = cum, 0.5 * ma           # S_ro = cum . a - m . a / 2
            else:
                s_rr = np.einsum("kjs,kjs->kj", ms * rank, rank) - mean_sq[:, None]
                r_use, shift = rank, None
            nbp = js.size
            if nbp <= nbo:      # few P maps: every O map of the block at once
                for jj in range(nbp):
                    a_s = np.take(a, p_order[js[jj]], axis=2)                  # (B, nbo, n)
                    s_ro = np.einsum("ks,kis->ki", r_use[:, jj], a_s)
                    if shift is not None:
                        s_ro -= shift
                    s_col = s_rr if s_rr.shape[1] == 1 else s_rr[:, jj, None]
                    rho[:, os_, js[jj]] = _rank_corr(s_ro, s_col, s_oo)
                continue
            flat_order = p_order[js].reshape(-1)
            shape = (n_batch, nbp, n)
            for ii in range(nbo):
                s_ro = np.einsum("kjs,kjs->kj", r_use,
                                 np.take(a[:, ii], flat_order, axis=1).reshape(shape))
                if shift is not None:
                    s_ro -= shift[:, ii, None]
                rho[:, os_[ii], js] = _rank_corr(s_ro, s_rr, s_oo[:, ii, None])
    rho[count < _MIN_PAIR_PARCELS] = np.nan
    return np.clip(rho, -1.0, 1.0)


def _p_ranks_at_parcels(m, src, W, p_order, p_first, p_last, p_blocks, s_rr_free,
                        mean_sq):
    """Ranks of the nulls of ``P`` at their parcels, by blocks of maps.

    Yields ``(js, at, s_rr)``: ``at`` (B, nb, n) holds ``R_k[idx_k[p]]`` (the average
    rank of null ``k``'s value at parcel ``p`` among the values it keeps, counted from
    the source multiplicities ``m``; 0 outside ``W_k``) and ``s_rr`` (B, nb) its sum of
    squared centred ranks, for the maps ``js`` of each block.
    """
    n_batch, n = W.shape
    p_inv = np.empty_like(p_order)
    np.put_along_axis(p_inv, p_order, np.arange(n)[None, :], axis=1)
    for js, ties in p_blocks:
        nbp = js.size
        ms, cum, rank = _counted_ranks(m, p_order[js], p_first[js], p_last[js], ties)
        if rank is None:
            rank = cum - (ms - 1.0) * 0.5
            s_rr = np.broadcast_to(s_rr_free[:, None], (n_batch, nbp))
        else:
            s_rr = np.einsum("kjs,kjs->kj", ms * rank, rank) - mean_sq[:, None]
        # ranks by source (undo each map's sort), then at each null's parcels
        offs = (np.arange(nbp) * n)[:, None]
        by_src = np.take(rank.reshape(n_batch, -1), (p_inv[js] + offs).reshape(-1),
                         axis=1).reshape(n_batch, nbp, n)
        at = np.take_along_axis(by_src, np.broadcast_to(src[:, None, :], by_src.shape), axis=2)
        at *= W[:, None, :]
        yield js, at, s_rr


def _shared_mask_rho(rho, O, W, masks, inverse, p_ranks) -> None:
    """:func:`_index_spearman_masked` when many nulls keep the same parcels.

    Nulls of a target without NaN parcels keep the same parcels ``W`` (the other
    side's valid ones), or few distinct sets of them: ``O`` is ranked once per
    distinct mask, and with the ranks of each null of ``P`` at its parcels
    (:func:`_p_ranks_at_parcels`), ``S_ro`` of all ``O`` maps is one product per mask,
    ``(b n_p, n) @ (n, n_o)``. Ranks and centred ranks are multiples of 1/2, so every
    product and sum is exact: the same ``rho``, bit for bit, as the per-null path.
    Fills ``rho`` (B, n_o, n_p).
    """
    n_w = masks.sum(axis=1)
    ranked = np.nan_to_num(rank_rows(np.where(masks[:, None, :], O[None], np.nan)), copy=False)
    oc = np.where(masks[:, None, :], ranked - ((n_w + 1.0) * 0.5)[:, None, None], 0.0)
    s_oo = np.einsum("uip,uip->ui", oc, oc)                                  # (U, n_o)
    groups = [np.flatnonzero(inverse == u) for u in range(masks.shape[0])]
    for js, at, s_rr in p_ranks:
        for u, ks in enumerate(groups):
            s_ro = np.matmul(at[ks], oc[u].T).transpose(0, 2, 1)          # (b, n_o, nbp)
            rho[np.ix_(ks, np.arange(rho.shape[1]), js)] = _rank_corr(
                s_ro, s_rr[ks][:, None, :], s_oo[u][None, :, None])


def _per_null_rho(rho, O, W, ovalid, count, p_ranks) -> None:
    """:func:`_index_spearman_masked` for few ``P`` maps and many ``O`` maps whose
    nulls each keep their own parcels.

    The ranks of each ``O`` map over each null's parcels are counted in the map's
    sorted order (``W_k`` as 0/1 counts, a cumulative sum; tie groups as for ``P``),
    and ``S_ro = sum_W r_o R_P - n_W (n_W + 1)^2 / 4`` with the ranks of the nulls of
    ``P`` at their parcels (:func:`_p_ranks_at_parcels`), read in the same sorted
    order: two gathers, one cumulative sum and one product per (null, map), no sort
    and no scatter. ``S_oo`` of maps without ties is ``n_W (n_W^2 - 1) / 12``. Every
    term is a multiple of 1/4: exact, the same ``rho`` bit for bit. Fills ``rho``.
    """
    n_batch, n = W.shape
    n_o = O.shape[0]
    o_order, o_first, o_last, o_tied = _tie_groups(O, np.broadcast_to(ovalid, O.shape))
    wf = W.astype(np.float64)
    mid = (count + 1.0) * 0.5
    centre = (mid * count * mid)[:, None]                # n_W (n_W + 1)^2 / 4
    s_oo_free = (count * (count * count - 1.0) / 12.0)[:, None]
    o_step = max(1, 4 * CACHE_BYTES // 8 // (n_batch * n))
    o_blocks = [(g[i0:i0 + o_step], ties) for ties in (False, True)
                for g in [np.flatnonzero(o_tied == ties)] for i0 in range(0, g.size, o_step)]
    p_ranks = list(p_ranks)
    for os_, o_ties in o_blocks:
        nbo = os_.size
        flat_order = o_order[os_].reshape(-1)
        ms, cum, rank = _counted_ranks(wf, o_order[os_], o_first[os_], o_last[os_], o_ties)
        if rank is None:      # at the kept parcels (ms == 1) the rank is cum
            rank, s_oo = cum, s_oo_free
        else:
            centred = (rank - mid[:, None, None]) * ms
            s_oo = np.einsum("kis,kis->ki", centred, centred)
            del centred
        for js, at, s_rr in p_ranks:
            for jj, j in enumerate(js):
                at_s = np.take(at[:, jj], flat_order, axis=1).reshape(n_batch, nbo, n)
                s_ro = np.einsum("kis,kis->ki", rank, at_s) - centre
                rho[:, os_, j] = _rank_corr(s_ro, s_rr[:, jj, None], s_oo)


def _rank_corr(s_ro: np.ndarray, s_rr: np.ndarray, s_oo: np.ndarray) -> np.ndarray:
    """``s_ro / sqrt(s_rr s_oo)`` (broadcast), NaN where a variance is not positive."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = s_ro / np.sqrt(s_rr * s_oo)
    r[np.broadcast_to((s_rr <= 0) | (s_oo <= 0), r.shape)] = np.nan
    return r
