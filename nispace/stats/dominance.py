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

Implementation: the maps are centred and scaled once; the R² of a subset ``S`` is
``c_S' G_SS^+ c_S / (y'y)`` with ``G`` the predictor correlation matrix and ``c``
the predictor-target cross-products, which is exactly the least-squares R² of the
subset model (with intercept). All subsets of one size are solved in one batched
pseudo-inverse shared by every target map, so the cost does not depend on the
number of parcels after one matrix product. ``p`` is limited to
:data:`MAX_PREDICTORS`.

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

from ..errors import DataError, InputError

__all__ = [
    "MAX_PREDICTORS",
    "adjusted_r2",
    "all_subsets_r2",
    "dominance_analysis",
    "dominance_analysis_batch",
]

#: Largest number of predictors (X maps) for which all ``2**p`` subset models are fitted.
MAX_PREDICTORS = 15

# elements per batched pseudo-inverse chunk (keeps memory flat for p close to the limit)
_CHUNK_ELEMENTS = 4_000_000


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


def _standardize_rows(a: np.ndarray) -> np.ndarray:
    """Centre rows and scale them to unit norm; (numerically) constant rows become 0."""
    c = a - a.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(c, axis=1, keepdims=True)
    scale = np.linalg.norm(a, axis=1, keepdims=True)
    ok = norm > 1e-10 * scale
    return np.where(ok, c / np.where(ok, norm, 1.0), 0.0)


# --------------------------------------------------------------------------------------
# all-subsets R²


def _subset_bits(p: int) -> np.ndarray:
    """``(2**p, p)`` boolean membership of predictor ``j`` in subset (bitmask) ``m``."""
    masks = np.arange(2**p)
    return ((masks[:, None] >> np.arange(p)) & 1).astype(bool)


def _subsets_r2_clean(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Plain R² of all subset models for NaN-free data; ``(2**p, n_y)``.

    ``xs`` (p, n) predictors, ``ys`` (n_y, n) targets; NaN for constant targets.
    """
    p = xs.shape[0]
    xz = _standardize_rows(xs)               # (p, n), unit norm (0 for constant maps)
    yz = _standardize_rows(ys)               # (n_y, n)
    gram = xz @ xz.T                         # predictor correlation matrix (p, p)
    cross = xz @ yz.T                        # predictor-target correlations (p, n_y)
    n_y = ys.shape[0]
    r2 = np.zeros((2**p, n_y))
    bits = _subset_bits(p)
    sizes = bits.sum(axis=1)
    for k in range(1, p + 1):
        masks = np.flatnonzero(sizes == k)
        members = np.nonzero(bits[masks])[1].reshape(-1, k)    # (n_sub, k), ascending
        chunk = max(1, _CHUNK_ELEMENTS // (k * max(k, n_y)))
        for start in range(0, masks.size, chunk):
            idx = members[start:start + chunk]
            g = gram[idx[:, :, None], idx[:, None, :]]        # (c, k, k)
            c = cross[idx]                                   # (c, k, n_y)
            w = np.linalg.pinv(g, hermitian=True) @ c        # (c, k, n_y)
            r2[masks[start:start + chunk]] = np.einsum("skt,skt->st", c, w)
    # targets with zero variance have no R²
    const_y = ~np.any(yz != 0, axis=1)
    r2[:, const_y] = np.nan
    return np.clip(r2, 0.0, 1.0, out=r2, where=~np.isnan(r2))


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
    if p > MAX_PREDICTORS:
        raise InputError(f"X: dominance analysis fits all 2**n_x subset models and supports "
                         f"at most {MAX_PREDICTORS} predictors; got n_x = {p}. Reduce X "
                         "first (e.g. PCA or fewer maps).")
    out = np.full((2**p, Y.shape[0]), np.nan)
    valid = ~np.isnan(Y) & ~np.isnan(X).any(axis=0)
    for mask, rows in _row_groups(valid):
        n_obs = int(mask.sum())
        if n_obs < p + 2:
            continue
        r2 = _subsets_r2_clean(X[:, mask], Y[np.ix_(rows, mask)])
        if adjusted:
            r2 = adjusted_r2(r2, n_obs, _subset_bits(p).sum(axis=1)[:, None])
        out[:, rows] = r2
    return out


# --------------------------------------------------------------------------------------
# dominance statistics


def _dominance_from_subsets(r2: np.ndarray, p: int) -> dict[str, np.ndarray]:
    """Dominance statistics from all-subsets R² ``(2**p, n_y)``; arrays lead with n_y."""
    masks = np.arange(2**p)
    bits = _subset_bits(p)
    sizes = bits.sum(axis=1)
    n_y = r2.shape[1]
    conditional = np.empty((n_y, p, p))
    for j in range(p):
        without = masks[~bits[:, j]]                            # 2**(p-1) subsets
        gain = r2[without | (1 << j)] - r2[without]             # (2**(p-1), n_y)
        size = sizes[without]
        onehot = (size[:, None] == np.arange(p)).astype(np.float64)
        counts = np.array([comb(p - 1, k) for k in range(p)], dtype=np.float64)
        conditional[:, j, :] = (onehot.T @ gain).T / counts
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
    r2 = all_subsets_r2(X, Y, adjusted=adjusted)
    return _dominance_from_subsets(r2, X.shape[0])


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
