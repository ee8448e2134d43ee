"""Dominance analysis: how much of a multiple regression's R² each predictor earns.

Dominance analysis (Budescu, 1993; Azen & Budescu, 2003) fits the regression of
``y`` on every one of the ``2**p`` subsets of the ``p`` predictors and compares the
R² gained by adding each predictor to each subset. The *general dominance* of a
predictor is the average, over subset sizes ``k = 0 .. p-1``, of its average
incremental R² over the subsets of size ``k`` that do not contain it; general
dominances add up exactly to the R² of the full model (they are the Shapley values
of the R² set function, which is also true for adjusted R², whose empty-model value
is 0 too).

Statistic names follow NiSpace (and the ``dominance-analysis`` package it follows):

===============  ===================  ============================================
name             shape (batched)      meaning
===============  ===================  ============================================
``sum``          ``(n_y,)``           R² of the full model (= sum of ``total``)
``total``        ``(n_y, n_x)``       general dominance of each predictor
``individual``   ``(n_y, n_x)``       R² of the predictor alone (conditional
                                      dominance at subset size 0)
``relative``     ``(n_y, n_x)``       ``total / sum`` (fractions that sum to 1)
``conditional``  ``(n_y, n_x, n_x)``  ``[..., j, k]``: average R² increment of
                                      predictor ``j`` over subsets of size ``k``
===============  ===================  ============================================

By default R² is *adjusted* for the number of predictors in each subset model, as
NiSpace's ``colocalize(method="dominance")`` does (``adj_r2=True``); pass
``adjusted=False`` for plain R².

Implementation: the maps are centred and scaled once, so that the R² of a subset
``S`` is ``c_S' G_SS^+ c_S`` with ``G`` the predictor correlation matrix and ``c``
the predictor-target correlations, exactly the least-squares R² of the subset model
(with intercept). All ``2**p`` values are computed for all target maps at once by a
sweep (incremental Cholesky) tree: predictor ``j`` is added to the ``2**j`` subsets
of the predictors before it with a rank-1 update of their residual correlations, so
the cost is ``O(2**p (p + n_y))`` after one matrix product, whatever the number of
parcels. Collinear predictors: when adding predictor ``j`` to a subset leaves it a
residual variance below ``_COLLINEAR_TOL = 1e-10`` (as a fraction of its variance,
i.e. a residual standard deviation below 1e-5 of its own: a linear combination of
the subset up to that), ``j`` adds nothing to that subset's R² (pseudo-inverse semantics). So a
near-duplicate predictor is dropped from such subsets here where a least-squares
fit (``numpy.linalg.lstsq``, whose cutoff is relative to machine precision) would
still fit it and could gain a little R². The dominance statistics follow from
per-size sums of the R² vector. About
0.5 s for 19 predictors and 13 target maps on a 2-core machine
(``benchmarks/bench_dominance.py``); ``p`` is limited to :data:`MAX_PREDICTORS`.

References
----------
Budescu, D. V. (1993). Dominance analysis: A new approach to the problem of relative
importance of predictors in multiple regression. Psychological Bulletin, 114(3),
542-551. https://doi.org/10.1037/0033-2909.114.3.542

Azen, R., & Budescu, D. V. (2003). The dominance analysis approach for comparing
predictors in multiple regression. Psychological Methods, 8(2), 129-148.
https://doi.org/10.1037/1082-989X.8.2.129
"""

from __future__ import annotations

from math import comb

import numpy as np

from .._validate import null_memory
from ..errors import DataError, InputError

__all__ = [
    "MAX_PREDICTORS",
    "adjusted_r2",
    "all_subsets_r2",
    "dominance_analysis",
    "dominance_analysis_batch",
]

#: Largest number of predictors (X maps) for which all ``2**p`` subset models are fitted
#: (22 predictors, 13 target maps: about 5 s and 0.5 GB on a 2-core machine).
MAX_PREDICTORS = 22

# measured cost of the all-subsets R² and dominance statistics (2-core machine, 2026):
# seconds ~ 2**p * (_SECONDS_PER_SUBSET + n_y * _SECONDS_PER_SUBSET_TARGET), and about
# _BYTES_PER_SUBSET_TARGET bytes of temporaries per subset and target map
_SECONDS_PER_SUBSET = 1.5e-7
_SECONDS_PER_SUBSET_TARGET = 6e-8
_BYTES_PER_SUBSET_TARGET = 32

# target maps per chunk in dominance_analysis_batch keep temporaries under this size
_MEMORY_BUDGET = 512 * 2**20

#: Residual variance (fraction of a predictor's variance left after regressing it on
#: the other predictors of a subset) below which the predictor counts as collinear
#: with the subset and adds nothing to its R² (pseudo-inverse semantics).
_COLLINEAR_TOL = 1e-10


# --------------------------------------------------------------------------------------
# small helpers shared with nispace.stats.coloc


def _as_maps(values, name: str) -> np.ndarray:
    """Validate maps as a float array of shape ``(n_maps, n_parcels)``.

    A 1-D array is one map. Raises a ValueError naming ``name`` for other shapes,
    empty arrays, infinite values and maps that contain only NaN.
    """
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: expected a numeric array of shape (n_maps, n_parcels); "
                         f"could not convert it to float ({exc}).") from None
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(f"{name}: expected a non-empty 2-D array of shape "
                         f"(n_maps, n_parcels); got shape {np.shape(values)}.")
    if np.isinf(arr).any():
        i, j = np.argwhere(np.isinf(arr))[0]
        raise DataError(f"{name}: expected finite values (NaN marks missing parcels); "
                        f"got {arr[i, j]} at {name}[{i}, {j}].")
    all_nan = np.isnan(arr).all(axis=1)
    if all_nan.any():
        bad = np.flatnonzero(all_nan).tolist()
        raise DataError(f"{name}: map(s) {bad} contain only NaN values (all "
                        f"{arr.shape[1]} parcels); drop them before the analysis.")
    return arr


def _row_groups(valid: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Group the rows of a boolean ``(n_rows, n_parcels)`` array by identical pattern.

    Returns ``[(mask (n_parcels,), row_indices), ...]``; a single group when all rows
    are equal (the common case without NaNs), so callers can batch each group.
    """
    valid = np.asarray(valid, dtype=bool)
    if (valid == valid[:1]).all():
        return [(valid[0].copy(), np.arange(valid.shape[0]))]
    patterns, inverse = np.unique(valid, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    return [(patterns[k], np.flatnonzero(inverse == k)) for k in range(patterns.shape[0])]


def adjusted_r2(r2, n_obs: int, n_predictors) -> np.ndarray:
    """Adjusted R² (Wherry / Ezekiel): ``1 - (1 - R²) (n - 1) / (n - p - 1)``.

    Parameters
    ----------
    r2 : array_like
        Plain R².
    n_obs : int
        Number of observations (parcels) the model was fitted on.
    n_predictors : int or array_like
        Number of predictors ``p`` (intercept excluded); broadcast against ``r2``.

    Returns
    -------
    numpy.ndarray
        Adjusted R²; NaN where ``n - p - 1 <= 0``. ``p = 0`` gives back ``r2``.
    """
    r2 = np.asarray(r2, dtype=np.float64)
    dof = n_obs - np.asarray(n_predictors, dtype=np.float64) - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1.0 - (1.0 - r2) * (n_obs - 1.0) / dof
    return np.where(dof > 0, out, np.nan)


def _check_components(n_components, n_x: int) -> int:
    """``n_components`` of PLS/PCR as an int in ``[1, n_x]``."""
    if not isinstance(n_components, (int, np.integer)) or isinstance(n_components, bool) \
            or not 1 <= n_components <= n_x:
        raise InputError(f"n_components: expected an int between 1 and n_x = {n_x}; got "
                         f"{n_components!r}.")
    return int(n_components)


def _standardize_rows(a: np.ndarray) -> np.ndarray:
    """Centre rows and scale them to unit norm; (numerically) constant rows become 0."""
    c = a - a.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(c, axis=1, keepdims=True)
    scale = np.linalg.norm(a, axis=1, keepdims=True)
    ok = norm > 1e-10 * scale
    return np.where(ok, c / np.where(ok, norm, 1.0), 0.0)


# --------------------------------------------------------------------------------------
# all-subsets R²


def _subsets_r2_from_gram(gram: np.ndarray, cross: np.ndarray) -> np.ndarray:
    """Plain R² of all ``2**p`` subset models from correlations, by a sweep tree.

    Parameters
    ----------
    gram : numpy.ndarray, shape (..., p, p)
        Predictor correlation matrices (diagonal 1, or 0 for a constant predictor).
    cross : numpy.ndarray, shape (..., p, n_y)
        Predictor-target correlations; leading dimensions broadcast with ``gram``.

    Returns
    -------
    numpy.ndarray, shape (..., 2**p, n_y)
        Row ``m`` is ``c_S' G_SS^+ c_S`` for the subset ``S`` of set bits of ``m``.

    Notes
    -----
    Predictor ``j`` is added to all ``2**j`` subsets of predictors ``0 .. j-1`` at
    once. Each subset carries the residual (Schur-complement) correlations of the
    predictors ``j .. p-1`` and of the targets after projecting out its members;
    adding ``j`` raises R² by ``r_j² / R_jj`` for every target (``R_jj`` the residual
    variance of predictor ``j``, ``r_j`` its residual cross-product with the target)
    and sweeps ``j`` out of the remaining predictors with a rank-1 update. The total
    work is ``O(2**p (p + n_y))``. A predictor whose residual variance is below
    :data:`_COLLINEAR_TOL` (it is, up to rounding, a linear combination of the
    subset) adds nothing, which is the minimum-norm (pseudo-inverse) solution.
    """
    gram = np.asarray(gram, dtype=np.float64)
    cross = np.asarray(cross, dtype=np.float64)
    p, n_y = cross.shape[-2], cross.shape[-1]
    lead = np.broadcast_shapes(gram.shape[:-2], cross.shape[:-2])
    r2 = np.zeros(lead + (2**p, n_y))
    # state of the 2**j subsets of predictors 0..j-1 (axis -3), restricted to j..p-1
    resid_g = gram[..., None, :, :]                   # (..., 2**j, p-j, p-j)
    resid_c = cross[..., None, :, :]                  # (..., 2**j, p-j, n_y)
    for j in range(p):
        n_old = 2**j
        var_j = resid_g[..., :, 0, 0]                 # residual variance of predictor j
        ok = var_j > _COLLINEAR_TOL
        inv_var = np.where(ok, 1.0 / np.where(ok, var_j, 1.0), 0.0)
        c_j = resid_c[..., :, 0, :]                   # (..., 2**j, n_y)
        r2[..., n_old:2 * n_old, :] = r2[..., :n_old, :] + c_j * c_j * inv_var[..., None]
        if j == p - 1:
            break
        # sweep predictor j out of predictors j+1.. and the targets (rank-1 update)
        factor = resid_g[..., :, 1:, 0] * inv_var[..., None]          # (..., 2**j, q)
        kept_g = resid_g[..., :, 1:, 1:]
        kept_c = resid_c[..., :, 1:, :]
        swept_g = kept_g - factor[..., :, None] * resid_g[..., :, None, 0, 1:]
        swept_c = kept_c - factor[..., :, None] * c_j[..., :, None, :]
        resid_g = np.concatenate([np.broadcast_to(kept_g, swept_g.shape), swept_g], axis=-3)
        resid_c = np.concatenate([np.broadcast_to(kept_c, swept_c.shape), swept_c], axis=-3)
    return r2


def _subsets_r2_clean(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Plain R² of all subset models for NaN-free data; ``(2**p, n_y)``.

    ``xs`` (p, n) predictors, ``ys`` (n_y, n) targets; NaN for constant targets.
    """
    xz = _standardize_rows(xs)               # (p, n), unit norm (0 for constant maps)
    yz = _standardize_rows(ys)               # (n_y, n)
    r2 = _subsets_r2_from_gram(xz @ xz.T, xz @ yz.T)
    # targets with zero variance have no R²
    const_y = ~np.any(yz != 0, axis=1)
    r2[:, const_y] = np.nan
    return np.clip(r2, 0.0, 1.0, out=r2, where=~np.isnan(r2))


def _check_n_predictors(n_x: int, n_y: int, n_fits: int = 1) -> None:
    """Raise if ``n_x`` exceeds :data:`MAX_PREDICTORS`, with the cost it would have.

    The cost is stated per fit (all subsets of one set of maps); with ``n_fits > 1``
    (permutations: one fit per null) the message also gives the total.
    """
    if n_x <= MAX_PREDICTORS:
        return
    seconds = 2.0**n_x * (_SECONDS_PER_SUBSET + n_y * _SECONDS_PER_SUBSET_TARGET)
    per = " per fit" if n_fits == 1 else (
        f" per fit, i.e. per permutation ({n_fits:,} fits: about "
        f"{_human_time(seconds * n_fits)} in total)")
    raise InputError(
        f"X: dominance analysis fits all 2**n_x subset models and supports at most "
        f"MAX_PREDICTORS = {MAX_PREDICTORS} predictors; got n_x = {n_x}. For {n_y} target "
        f"map(s) the 2**{n_x} = {2**n_x:,} subsets would need about {_human_time(seconds)}"
        f"{per} (measured on a 2-core machine) and {null_memory(2**n_x, n_y)} for their R² "
        f"values (at least {null_memory(2**n_x, _BYTES_PER_SUBSET_TARGET // 8)} of "
        "temporaries per target map). Reduce X first (e.g. PCA or fewer maps).")


def _human_time(seconds: float) -> str:
    for unit, size in (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"


def all_subsets_r2(X, Y, *, adjusted: bool = True) -> np.ndarray:
    """R² of the regressions of each target map on every subset of the predictor maps.

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Predictor maps; ``n_x <= MAX_PREDICTORS``.
    Y : array_like, shape (n_y, n_parcels) or (n_parcels,)
        Target maps.
    adjusted : bool, default True
        Adjust each subset's R² for its number of predictors (see :func:`adjusted_r2`).

    Returns
    -------
    numpy.ndarray, shape (2**n_x, n_y)
        Row ``m`` holds the R² of the model whose predictors are the set bits of the
        integer ``m`` (bit ``j`` = ``X[j]``); row 0 (intercept only) is 0. NaN for a
        target that is constant or has fewer than ``n_x + 2`` usable parcels.

    Notes
    -----
    Parcels with NaN in the target or in any predictor are dropped for that target
    (list-wise); targets with the same NaN pattern are solved together.

    References
    ----------
    Budescu (1993), https://doi.org/10.1037/0033-2909.114.3.542
    """
    X = _as_maps(X, "X")
    Y = _as_maps(Y, "Y")
    p = X.shape[0]
    if X.shape[1] != Y.shape[1]:
        raise InputError(f"X and Y must have the same number of parcels (columns); got X "
                         f"{X.shape} and Y {Y.shape}.")
    _check_n_predictors(p, Y.shape[0])
    valid = ~np.isnan(Y) & ~np.isnan(X).any(axis=0)
    groups = _row_groups(valid)
    out = None if len(groups) == 1 else np.full((2**p, Y.shape[0]), np.nan)
    for mask, rows in groups:
        n_obs = int(mask.sum())
        if n_obs < p + 2:
            r2 = np.full((2**p, rows.size), np.nan)
        else:
            r2 = _subsets_r2_clean(X[:, mask], Y[np.ix_(rows, mask)])
            if adjusted:                  # in place: 1 - (1 - R²) (n - 1) / (n - k - 1)
                r2 -= 1.0
                r2 *= ((n_obs - 1.0) / (n_obs - 1.0 - _popcount(p)))[:, None]
                r2 += 1.0
        if out is None:
            return r2
        out[:, rows] = r2
    return out


# --------------------------------------------------------------------------------------
# dominance statistics


def _popcount(p: int) -> np.ndarray:
    """Number of set bits of ``0 .. 2**p - 1`` (subset sizes), as int8."""
    counts = np.zeros(1, dtype=np.int8)
    for _ in range(p):
        counts = np.concatenate([counts, counts + 1])
    return counts


def _size_sums(r2: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums of subset R² by subset size: ``A (p+1, p, n_y)`` and ``B (p+1, n_y)``.

    ``A[k, j]`` sums the subsets of size ``k`` that contain predictor ``j``, ``B[k]``
    all subsets of size ``k``. The subset index ``m = h * 2**b + l`` is split into
    high bits ``h`` and low bits ``l``; the size is ``|h| + |l|``. Summing over ``h``
    by ``|h|`` (one matrix product) leaves ``T[|h|, l]``, from which the sums for the
    low predictors follow by ``|l|``; summing over ``l`` by ``|l|`` leaves
    ``U[h, |l|]`` for the high predictors. No ``(2**p, p)`` membership array is built.
    """
    n_y = r2.shape[1]
    low = p // 2
    high = p - low

    def tables(bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        size = _popcount(bits)
        onehot = (size[:, None] == np.arange(bits + 1)).astype(np.float64)
        member = ((np.arange(2**bits)[:, None] >> np.arange(bits)) & 1).astype(np.float64)
        return size, onehot, member

    size_l, onehot_l, member_l = tables(low)
    size_h, onehot_h, member_h = tables(high)
    blocks = r2.reshape(2**high, 2**low, n_y)                       # [h, l, target]
    by_high = np.tensordot(onehot_h, blocks, axes=(0, 0))           # T: (high+1, 2**low, n_y)
    by_low = np.matmul(onehot_l.T, blocks)                          # U: (2**high, low+1, n_y)
    in_size = np.zeros((p + 1, p, n_y))
    size_sum = np.zeros((p + 1, n_y))
    for k_low in range(low + 1):
        part = by_high[:, size_l == k_low]                          # (high+1, c, n_y)
        in_size[k_low:k_low + high + 1, :low] += np.einsum(
            "lj,klt->kjt", member_l[size_l == k_low], part)
        size_sum[k_low:k_low + high + 1] += part.sum(axis=1)
    for k_high in range(high + 1):
        in_size[k_high:k_high + low + 1, low:] += np.einsum(
            "hj,hkt->kjt", member_h[size_h == k_high], by_low[size_h == k_high])
    return in_size, size_sum


def _dominance_from_subsets(r2: np.ndarray, p: int) -> dict[str, np.ndarray]:
    """Dominance statistics from all-subsets R² ``(2**p, n_y)``; arrays lead with n_y.

    With ``A[k, j]`` the sum of R² over the subsets of size ``k`` that contain
    predictor ``j`` and ``B[k]`` the sum over all subsets of size ``k``
    (:func:`_size_sums`), the summed gains of ``j`` over the subsets of size ``k``
    without it are ``A[k+1, j] - (B[k] - A[k, j])`` (each such ``S`` pairs with
    ``S + {j}``), which gives every conditional dominance.
    """
    r2 = np.asarray(r2, dtype=np.float64)
    in_size, size_sum = _size_sums(r2, p)
    counts = np.array([comb(p - 1, k) for k in range(p)], dtype=np.float64)
    gains = in_size[1:] - size_sum[:-1, None, :] + in_size[:-1]     # (k, j, n_y)
    conditional = (gains / counts[:, None, None]).transpose(2, 1, 0).copy()
    total = conditional.mean(axis=2)
    full = r2[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = total / full[:, None]
    return {
        "sum": full.copy(),
        "total": total,
        "individual": r2[1 << np.arange(p)].T.copy(),
        "relative": relative,
        "conditional": conditional,
    }


def dominance_analysis_batch(X, Y, *, adjusted: bool = True) -> dict[str, np.ndarray]:
    """Dominance analysis of many target maps on the same predictor maps.

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Predictor (reference) maps; at most :data:`MAX_PREDICTORS`.
    Y : array_like, shape (n_y, n_parcels)
        Target maps, each analysed separately; the subset designs are shared.
    adjusted : bool, default True
        Use adjusted R² for every subset model (NiSpace's default); ``False`` for
        plain R², with which ``sum`` is the ordinary full-model R².

    Returns
    -------
    dict of str to numpy.ndarray
        ``"sum"`` (n_y,), ``"total"`` (n_y, n_x), ``"individual"`` (n_y, n_x),
        ``"relative"`` (n_y, n_x) and ``"conditional"`` (n_y, n_x, n_x); see the
        module docstring. ``total`` sums to ``sum`` over predictors, ``relative``
        sums to 1 (NaN when ``sum`` is 0).

    Notes
    -----
    Parcels with NaN in the target or in any predictor are dropped for that target
    (list-wise). Targets that are constant or have fewer than ``n_x + 2`` usable
    parcels give NaN. Constant predictors contribute 0.

    References
    ----------
    Budescu (1993), https://doi.org/10.1037/0033-2909.114.3.542 ;
    Azen & Budescu (2003), https://doi.org/10.1037/1082-989X.8.2.129
    """
    X = _as_maps(X, "X")
    Y = _as_maps(Y, "Y")
    p, n_y = X.shape[0], Y.shape[0]
    _check_n_predictors(p, n_y)
    step = max(1, _MEMORY_BUDGET // (2**p * _BYTES_PER_SUBSET_TARGET))
    parts = [_dominance_from_subsets(all_subsets_r2(X, Y[start:start + step],
                                                    adjusted=adjusted), p)
             for start in range(0, n_y, step)]
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def dominance_analysis(X, y, adjusted: bool = True) -> dict[str, np.ndarray]:
    """Dominance analysis of one target map (general dominance of each predictor).

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Predictor (reference) maps; at most :data:`MAX_PREDICTORS`.
    y : array_like, shape (n_parcels,)
        Target map.
    adjusted : bool, default True
        Adjusted R² per subset model (NiSpace's default) or plain R².

    Returns
    -------
    dict of str to numpy.ndarray
        ``"sum"`` (0-d, full-model R²), ``"total"`` (n_x,, general dominance),
        ``"individual"`` (n_x,, R² alone), ``"relative"`` (n_x,, ``total / sum``),
        ``"conditional"`` (n_x, n_x; ``[j, k]`` = average gain of predictor ``j``
        over subsets of size ``k``).

    See Also
    --------
    dominance_analysis_batch : the same for many target maps at once.

    References
    ----------
    Budescu (1993), https://doi.org/10.1037/0033-2909.114.3.542 ;
    Azen & Budescu (2003), https://doi.org/10.1037/1082-989X.8.2.129
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise InputError(f"y: expected one map of shape (n_parcels,); got shape {y.shape}. "
                         "Use dominance_analysis_batch for several maps.")
    out = dominance_analysis_batch(X, y[np.newaxis, :], adjusted=adjusted)
    return {name: arr[0] for name, arr in out.items()}
