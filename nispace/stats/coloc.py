"""Colocalization methods: one pure function per NiSpace ``colocalization_method``.

Every function takes reference maps ``X`` (n_x, n_parcels), target maps ``Y``
(n_y, n_parcels) and optional covariate maps ``Z`` (n_z, n_parcels), and returns a
dict ``{stat_name: array}``: arrays of shape ``(n_y, n_x)`` for statistics of an
X-Y pair (``rho``, ``beta``, ...) and ``(n_y,)`` for statistics of a model that uses
all X maps at once (``r2`` of ``mlr``, ...). :func:`colocalize` dispatches on the
method name; :data:`COLOC_METHODS` lists every method and the statistics it returns.

=====================  ======================================================  ==========
method                 statistics (``(n_y, n_x)`` | ``(n_y,)``)                 X per model
=====================  ======================================================  ==========
``pearson``            ``rho``                                                 one
``spearman``           ``rho``                                                 one
``partialpearson``     ``rho``                                                 one
``partialspearman``    ``rho``                                                 one
``mi``                 ``mi``                                                  one
``slr``                ``r2``, ``r2_adj``, ``r2_raw``, ``beta``, ``intercept``  one
``mlr``                ``beta`` [``individual``] | ``r2``, ``r2_adj``,          all
                       ``r2_raw``, ``intercept``
``dominance``          ``total``, ``individual``, ``relative`` | ``sum``        all
``pls``                ``beta``, ``weight`` | ``r2``, ``r2_cv``, ``intercept``,  all
                       ``score_r``
``pcr``                ``beta`` | ``r2``, ``r2_adj``, ``r2_raw``, ``r2_cv``,     all
                       ``intercept``, ``score_r``
``lasso``, ``ridge``   ``beta`` | ``r2``, ``r2_cv``, ``intercept``, ``alpha``    all
``elasticnet``         as ``lasso`` plus ``l1ratio``                           all
=====================  ======================================================  ==========

Conventions
-----------
* **NaN parcels** are dropped, never imputed. Pair-wise methods (correlations,
  ``mi``, ``slr``) drop, for each X-Y pair, the parcels that are NaN in ``X[j]``,
  ``Y[i]`` or (when given) ``Z``; multivariate methods (``mlr``, ``dominance``,
  ``pls``, ``pcr``, ``lasso``, ``ridge``, ``elasticnet``) drop, for each ``Y[i]``,
  the parcels that are NaN in ``Y[i]``, in any X map or in ``Z`` (list-wise). Maps
  sharing a NaN pattern are computed together, so data without NaNs takes one
  vectorised path. A map that is entirely NaN raises a ValueError; a pair or model
  left with too few parcels (fewer than 3 for a pair, fewer than ``n_x + 2`` for a
  multivariate model) gives NaN.
* **Constant maps** (zero variance over the parcels used) give NaN for every
  statistic that divides by a variance (``rho``, ``r2``, ``beta`` of ``slr``,
  ``score_r``), without warnings. A constant predictor in a multivariate model
  simply explains nothing.
* **Z** (covariate maps): the ``partial*`` methods require it. As in NiSpace
  (``colocalize(regress_z=True)``, its default) Z given to any other method is
  regressed out of X and Y before that method runs, so ``pearson`` with Z equals
  ``partialpearson``. For ``spearman``/``partialspearman`` X, Y *and* Z are ranked
  first and the ranks are residualised (the standard partial Spearman correlation
  of pingouin's ``partial_corr(method="spearman")`` and NiSpace). With
  ``zy_matched=True`` Z holds one map per Y map and ``Z[i]`` is regressed out of
  ``Y[i]`` only (X is not touched): a semi-partial correlation, which is what
  NiSpace computes for ``zy_matched`` (it falls back from ``partial*`` to the
  semi-partial method).
* **Spearman ranks** use average ranks for ties and are computed over the parcels of
  each pair after dropping NaNs, as ``scipy.stats.spearmanr`` does on the dropped
  data. (NiSpace ranks each map once before dropping; the two agree when X and Y
  have the same NaN parcels.)
* **Cross-validation** (``pls``, ``pcr``, ``lasso``, ``ridge``, ``elasticnet``):
  folds are spatially contiguous blocks of parcels, so that a held-out fold is not
  predicted from its immediate, autocorrelated neighbours; see
  :func:`spatial_cv_folds`. Hyper-parameters of the regularised models are chosen by
  this CV (mean squared error), ``r2_cv`` is the R² of the pooled held-out
  predictions. ``r2`` is, as in NiSpace, the in-sample R² of the final model fitted
  on all parcels.
* **Distance-dependent cross-validation** (``colocalize(..., cv="distance",
  dist_mat=...)`` for ``mlr`` and ``dominance``; Hansen et al., 2022): each parcel
  seeds a split whose test set is it and its nearest quarter of parcels; the multiple
  regression is fitted on the rest. Adds ``cv_train_r``/``cv_test_r`` (Pearson r of
  predicted and observed values per split, ``(n_y, n_parcels)``), ``cv_train_r2``/
  ``cv_test_r2`` and their means and medians over splits (``(n_y,)``); see
  :mod:`nispace.stats.crossval`.

References
----------
Fisher, R. A. (1915). Frequency distribution of the values of the correlation
coefficient in samples from an indefinitely large population. Biometrika, 10(4),
507-521. https://doi.org/10.2307/2331838

Kraskov, A., Stögbauer, H., & Grassberger, P. (2004). Estimating mutual information.
Physical Review E, 69, 066138. https://doi.org/10.1103/PhysRevE.69.066138

Roberts, D. R., et al. (2017). Cross-validation strategies for data with temporal,
spatial, hierarchical, or phylogenetic structure. Ecography, 40(8), 913-929.
https://doi.org/10.1111/ecog.02881

Dukart, J., et al. (2021). JuSpace: A tool for spatial correlation analyses of
magnetic resonance imaging data with nuclear imaging derived neurotransmitter maps.
Human Brain Mapping, 42(3), 555-566. https://doi.org/10.1002/hbm.25244

Hansen, J. Y., et al. (2022). Mapping neurotransmitter systems to the structural and
functional organization of the human neocortex. Nature Neuroscience, 25, 1569-1581.
https://doi.org/10.1038/s41593-022-01186-3

Lotter, L. D., et al. (2024). Regional patterns of human cortex development correlate
with underlying neurobiology. Nature Communications, 15, 7987.
https://doi.org/10.1038/s41467-024-52366-7
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .._errors import suggest
from ..errors import DataError, InputError
from .crossval import (
    _SEED_SETS,
    _SPLIT_KEYS,
    _SUMMARY_KEYS,
    _check_dist_mat,
    _n_test,
    distance_cv,
)
from .dominance import (
    _as_maps,
    _check_components,
    _check_n_predictors,
    _row_groups,
    adjusted_r2,
    dominance_analysis_batch,
)
from .ranks import rank_rows

__all__ = [
    "COLOC_METHODS",
    "colocalize",
    "pearson",
    "spearman",
    "partialpearson",
    "partialspearman",
    "mutual_info",
    "slr",
    "mlr",
    "dominance",
    "pls",
    "pcr",
    "lasso",
    "ridge",
    "elasticnet",
    "spatial_cv_folds",
]

#: Statistics returned by each method (main statistic first).
COLOC_METHODS: dict[str, tuple[str, ...]] = {
    "pearson": ("rho",),
    "spearman": ("rho",),
    "partialpearson": ("rho",),
    "partialspearman": ("rho",),
    "mi": ("mi",),
    "slr": ("r2", "beta", "intercept", "r2_adj", "r2_raw"),
    "mlr": ("r2", "beta", "intercept", "r2_adj", "r2_raw"),  # + "individual" on request
    "dominance": ("sum", "total", "individual", "relative"),
    "pls": ("r2", "beta", "intercept", "r2_cv", "score_r", "weight"),
    "pcr": ("r2", "beta", "intercept", "r2_adj", "r2_raw", "r2_cv", "score_r"),
    "lasso": ("r2", "beta", "intercept", "r2_cv", "alpha"),
    "ridge": ("r2", "beta", "intercept", "r2_cv", "alpha"),
    "elasticnet": ("r2", "beta", "intercept", "r2_cv", "alpha", "l1ratio"),
}

_RHO_METHODS = ("pearson", "spearman", "partialpearson", "partialspearman")
_R2_METHODS = ("slr", "mlr", "dominance", "pcr")
_CV_METHODS = ("pls", "pcr", "lasso", "ridge", "elasticnet")
#: methods whose (full) model colocalize can cross-validate with cv="distance"
_DISTANCE_CV_METHODS = ("mlr", "dominance")
_MIN_PAIR_PARCELS = 3
#: relative size below which a centred or residualised map counts as constant
_DEGENERATE_TOL = 1e-10


# --------------------------------------------------------------------------------------
# validation


def _validate(X, Y, Z, zy_matched: bool, *, require_z: str | None = None):
    """Arrays ``(X, Y, Z)`` after checks of shapes, NaN-only maps and zy_matched."""
    X = _as_maps(X, "X")
    Y = _as_maps(Y, "Y")
    Z = None if Z is None else _as_maps(Z, "Z")
    shapes = {"X": X.shape, "Y": Y.shape} | ({} if Z is None else {"Z": Z.shape})
    if len({s[1] for s in shapes.values()}) > 1:
        described = ", ".join(f"{k} {v}" for k, v in shapes.items())
        raise InputError(f"X, Y and Z must have the same number of parcels (columns); got "
                         f"{described}.")
    if require_z and Z is None:
        raise InputError(f"Z: method {require_z!r} needs covariate maps Z of shape "
                         f"(n_z, {X.shape[1]}); got None.")
    if zy_matched:
        if Z is None:
            raise InputError("Z: zy_matched=True needs one Z map per Y map; got Z=None.")
        if Z.shape[0] != Y.shape[0]:
            raise InputError(f"Z: zy_matched=True needs one Z map per Y map, i.e. "
                             f"{Y.shape[0]} rows; got Z with shape {Z.shape}.")
    return X, Y, Z


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name}: expected True or False; got {value!r}.")


def _random_state(seed) -> int | None:
    """An int for scikit-learn's ``random_state`` from ``seed`` (int, Generator or None)."""
    if seed is None:
        return None
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**31 - 1))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed)
    raise InputError(f"seed: expected None, an int or a numpy Generator; got {seed!r}.")


# --------------------------------------------------------------------------------------
# preprocessing: centring, residualisation, NaN blocks


def _center(a: np.ndarray) -> np.ndarray:
    """Centre rows; rows that are constant up to rounding become exactly 0."""
    c = a - a.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(c, axis=1)
    ref = np.linalg.norm(a, axis=1)
    c[norm <= _DEGENERATE_TOL * ref] = 0.0
    return c


def _residualize(a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Residuals of each row of ``a`` regressed on the rows of ``z`` (with intercept)."""
    ac = _center(a)
    zc = _center(z)
    u, s, _ = np.linalg.svd(zc.T, full_matrices=False)          # basis of span(Z)
    keep = s > (s.max() if s.size else 0.0) * max(zc.shape) * np.finfo(float).eps
    basis = u[:, keep]
    res = ac - (ac @ basis) @ basis.T
    gone = np.linalg.norm(res, axis=1) <= _DEGENERATE_TOL * np.linalg.norm(ac, axis=1)
    res[gone] = 0.0
    return res


def _residualize_rowwise(a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Residuals of row ``a[i]`` regressed on row ``z[i]`` (with intercept)."""
    ac = _center(a)
    zc = _center(z)
    szz = np.einsum("ij,ij->i", zc, zc)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(szz > 0, np.einsum("ij,ij->i", zc, ac) / szz, 0.0)
    res = ac - slope[:, None] * zc
    gone = np.linalg.norm(res, axis=1) <= _DEGENERATE_TOL * np.linalg.norm(ac, axis=1)
    res[gone] = 0.0
    return res


def _remove_z(xs, ys, zs, zy_matched: bool):
    """Regress Z out of X and Y (shared Z) or Z[i] out of Y[i] (zy_matched)."""
    if zs is None:
        return xs, ys
    if zy_matched:
        return xs, _residualize_rowwise(ys, zs)
    return _residualize(xs, zs), _residualize(ys, zs)


def _valid_y(Y, Z, zy_matched: bool) -> np.ndarray:
    valid = ~np.isnan(Y)
    if Z is not None:
        valid &= ~np.isnan(Z) if zy_matched else ~np.isnan(Z).any(axis=0)
    return valid


def _average_ranks(a: np.ndarray) -> np.ndarray:
    """Average ranks (1-based; ties share the mean of their ranks) along the last axis,
    equal to ``scipy.stats.rankdata(a, axis=-1)``: a row holding NaN becomes NaN."""
    ranks = rank_rows(a)
    ranks[np.isnan(ranks).any(axis=-1)] = np.nan
    return ranks


def _pair_blocks(X, Y, Z, zy_matched: bool, rank: bool
                 ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(y_rows, x_rows, xs, ys)`` of pairs sharing the same usable parcels.

    ``xs``/``ys`` hold those parcels only, ranked if ``rank`` and with Z removed.
    Without NaNs there is a single block holding all maps.
    """
    valid_x = ~np.isnan(X)
    for y_mask, y_rows in _row_groups(_valid_y(Y, Z, zy_matched)):
        for mask, x_rows in _row_groups(valid_x & y_mask):
            if mask.sum() < _MIN_PAIR_PARCELS:
                continue
            xs = X[np.ix_(x_rows, mask)]
            ys = Y[np.ix_(y_rows, mask)]
            zs = None
            if Z is not None:
                zs = Z[np.ix_(y_rows, mask)] if zy_matched else Z[:, mask]
            if rank:
                xs, ys = _average_ranks(xs), _average_ranks(ys)
                zs = None if zs is None else _average_ranks(zs)
            xs, ys = _remove_z(xs, ys, zs, zy_matched)
            yield y_rows, x_rows, xs, ys


def _model_blocks(X, Y, Z, zy_matched: bool
                  ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(y_rows, mask, xs, ys)`` for multivariate models (list-wise NaN removal)."""
    valid = _valid_y(Y, Z, zy_matched) & ~np.isnan(X).any(axis=0)
    for mask, y_rows in _row_groups(valid):
        if mask.sum() < X.shape[0] + 2:
            continue
        xs = X[:, mask]
        ys = Y[np.ix_(y_rows, mask)]
        zs = None
        if Z is not None:
            zs = Z[np.ix_(y_rows, mask)] if zy_matched else Z[:, mask]
        xs, ys = _remove_z(xs, ys, zs, zy_matched)
        yield y_rows, mask, xs, ys


def _corr_rows(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Pearson correlation of every row of ``ys`` with every row of ``xs``."""
    xc, yc = _center(xs), _center(ys)
    nx, ny = np.linalg.norm(xc, axis=1), np.linalg.norm(yc, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = (yc @ xc.T) / np.outer(ny, nx)
    rho[~np.isfinite(rho)] = np.nan
    return np.clip(rho, -1.0, 1.0)


def _fisher(rho: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.arctanh(rho)


# --------------------------------------------------------------------------------------
# correlations


def _correlation(X, Y, Z, *, rank: bool, zy_matched: bool, fisher_z: bool, partial: str | None):
    X, Y, Z = _validate(X, Y, Z, zy_matched, require_z=partial)
    _check_bool("fisher_z", fisher_z)
    rho = np.full((Y.shape[0], X.shape[0]), np.nan)
    for y_rows, x_rows, xs, ys in _pair_blocks(X, Y, Z, zy_matched, rank):
        rho[np.ix_(y_rows, x_rows)] = _corr_rows(xs, ys)
    return {"rho": _fisher(rho) if fisher_z else rho}


_CORR_DOC = """{title}

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Reference maps.
    Y : array_like, shape (n_y, n_parcels)
        Target maps.
    Z : array_like, shape (n_z, n_parcels), optional
        Covariate maps{z_note}. With ``zy_matched=True``: shape (n_y, n_parcels),
        ``Z[i]`` is regressed out of ``Y[i]`` only (semi-partial correlation).
    zy_matched : bool, default False
        Pair Z maps with Y maps (see ``Z``).
    fisher_z : bool, default False
        Return ``arctanh(rho)`` (Fisher, 1915); ``rho = ±1`` gives ``±inf``.

    Returns
    -------
    dict
        ``{{"rho": array of shape (n_y, n_x)}}``; NaN for pairs with a constant map
        or fewer than 3 shared non-NaN parcels.

    Notes
    -----
    {method_note} Parcels with NaN in ``X[j]``, ``Y[i]`` or Z are dropped for pair
    ``(i, j)``. See the module docstring for Z handling.

    References
    ----------
    {refs}
    """


def pearson(X, Y, Z=None, *, zy_matched: bool = False, fisher_z: bool = False
            ) -> dict[str, np.ndarray]:
    return _correlation(X, Y, Z, rank=False, zy_matched=zy_matched, fisher_z=fisher_z,
                        partial=None)


def spearman(X, Y, Z=None, *, zy_matched: bool = False, fisher_z: bool = False
             ) -> dict[str, np.ndarray]:
    return _correlation(X, Y, Z, rank=True, zy_matched=zy_matched, fisher_z=fisher_z,
                        partial=None)


def partialpearson(X, Y, Z, *, zy_matched: bool = False, fisher_z: bool = False
                   ) -> dict[str, np.ndarray]:
    return _correlation(X, Y, Z, rank=False, zy_matched=zy_matched, fisher_z=fisher_z,
                        partial="partialpearson")


def partialspearman(X, Y, Z, *, zy_matched: bool = False, fisher_z: bool = False
                    ) -> dict[str, np.ndarray]:
    return _correlation(X, Y, Z, rank=True, zy_matched=zy_matched, fisher_z=fisher_z,
                        partial="partialspearman")


_PEARSON_REF = "Fisher (1915), https://doi.org/10.2307/2331838"
pearson.__doc__ = _CORR_DOC.format(
    title="Pearson correlation of every Y map with every X map.",
    z_note=", regressed out of X and Y when given (as NiSpace's regress_z)",
    method_note="Computed as one matrix product of centred, unit-norm maps per block "
                "of maps with the same NaN parcels.",
    refs=_PEARSON_REF)
spearman.__doc__ = _CORR_DOC.format(
    title="Spearman rank correlation of every Y map with every X map.",
    z_note=", ranked and regressed out of the ranked X and Y when given",
    method_note="Maps are ranked (average ranks for ties) over the parcels of the pair, "
                "then correlated as for :func:`pearson`.",
    refs="Spearman, C. (1904). The proof and measurement of association between two "
         "things. Am. J. Psychol., 15(1), 72-101. https://doi.org/10.2307/1412159")
partialpearson.__doc__ = _CORR_DOC.format(
    title="Partial Pearson correlation of X and Y maps controlling for Z maps.",
    z_note=" (required), regressed out of X and Y (least squares with intercept)",
    method_note="The correlation of the residuals of X and Y after regressing both on "
                "Z, equal to pingouin's ``partial_corr``.",
    refs=_PEARSON_REF)
partialspearman.__doc__ = _CORR_DOC.format(
    title="Partial Spearman correlation of X and Y maps controlling for Z maps.",
    z_note=" (required); X, Y and Z are ranked, then Z is regressed out of X and Y",
    method_note="Ranks X, Y and Z, regresses the ranked Z out of ranked X and Y and "
                "correlates the residuals, equal to pingouin's "
                "``partial_corr(method='spearman')`` and NiSpace.",
    refs=_PEARSON_REF)


# --------------------------------------------------------------------------------------
# mutual information


def mutual_info(X, Y, Z=None, *, zy_matched: bool = False, n_neighbors: int = 3,
                seed=None) -> dict[str, np.ndarray]:
    """Mutual information of every Y map with every X map (k-nearest-neighbour estimate).

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Reference maps.
    Y : array_like, shape (n_y, n_parcels)
        Target maps.
    Z : array_like, shape (n_z, n_parcels), optional
        Covariate maps regressed out of X and Y first (``zy_matched``: ``Z[i]`` out of
        ``Y[i]``).
    zy_matched : bool, default False
        Pair Z maps with Y maps.
    n_neighbors : int, default 3
        Neighbours of the Kraskov estimator.
    seed : int, numpy.random.Generator or None
        ``random_state`` of scikit-learn's estimator, which adds tiny noise to break
        ties; the same int is used for every pair, so results are reproducible.
        ``None``: not reproducible.

    Returns
    -------
    dict
        ``{"mi": array of shape (n_y, n_x)}`` in nats (>= 0).

    Notes
    -----
    One call of :func:`sklearn.feature_selection.mutual_info_regression` per pair on
    that pair's non-NaN parcels (continuous features), as NiSpace does.

    References
    ----------
    Kraskov et al. (2004), https://doi.org/10.1103/PhysRevE.69.066138
    """
    from sklearn.feature_selection import mutual_info_regression

    X, Y, Z = _validate(X, Y, Z, zy_matched)
    if not isinstance(n_neighbors, (int, np.integer)) or n_neighbors < 1:
        raise InputError(f"n_neighbors: expected a positive int; got {n_neighbors!r}.")
    state = _random_state(seed)
    out = np.full((Y.shape[0], X.shape[0]), np.nan)
    for y_rows, x_rows, xs, ys in _pair_blocks(X, Y, Z, zy_matched, rank=False):
        if xs.shape[1] <= n_neighbors:
            continue
        for a, i in enumerate(y_rows):
            for b, j in enumerate(x_rows):
                out[i, j] = mutual_info_regression(
                    xs[b][:, None], ys[a], discrete_features=False,
                    n_neighbors=int(n_neighbors), random_state=state)[0]
    return {"mi": out}


# --------------------------------------------------------------------------------------
# linear regression


def _r2_stats(r2_raw: np.ndarray, n_obs, n_pred, r2_adjusted: bool) -> dict[str, np.ndarray]:
    r2_adj = adjusted_r2(r2_raw, n_obs, n_pred)
    return {"r2": r2_adj if r2_adjusted else r2_raw, "r2_adj": r2_adj, "r2_raw": r2_raw}


def slr(X, Y, Z=None, *, zy_matched: bool = False, r2_adjusted: bool = True
        ) -> dict[str, np.ndarray]:
    """Simple linear regression of every Y map on every X map separately.

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Reference maps (one predictor per model).
    Y : array_like, shape (n_y, n_parcels)
        Target maps.
    Z : array_like, shape (n_z, n_parcels), optional
        Covariates regressed out of X and Y first (``zy_matched``: ``Z[i]`` out of
        ``Y[i]``); the intercept is then that of the residuals (0).
    zy_matched : bool, default False
        Pair Z maps with Y maps.
    r2_adjusted : bool, default True
        ``"r2"`` holds the adjusted R² (NiSpace's ``adj_r2=True`` default) or plain.

    Returns
    -------
    dict
        ``"r2"``, ``"r2_adj"``, ``"r2_raw"``, ``"beta"`` (slope) and ``"intercept"``,
        each of shape (n_y, n_x). NaN for constant maps and pairs with fewer than 3
        shared non-NaN parcels.

    Notes
    -----
    Closed form per block of pairs with the same NaN parcels:
    ``beta = s_xy / s_xx``, ``R² = s_xy² / (s_xx s_yy)``.
    """
    X, Y, Z = _validate(X, Y, Z, zy_matched)
    _check_bool("r2_adjusted", r2_adjusted)
    shape = (Y.shape[0], X.shape[0])
    r2 = np.full(shape, np.nan)
    beta = np.full(shape, np.nan)
    intercept = np.full(shape, np.nan)
    n_obs = np.zeros(shape)
    for y_rows, x_rows, xs, ys in _pair_blocks(X, Y, Z, zy_matched, rank=False):
        xc, yc = _center(xs), _center(ys)
        sxx = np.einsum("ij,ij->i", xc, xc)
        syy = np.einsum("ij,ij->i", yc, yc)
        sxy = yc @ xc.T
        with np.errstate(divide="ignore", invalid="ignore"):
            b = sxy / sxx[None, :]
            rr = sxy**2 / np.outer(syy, sxx)
        b[:, sxx == 0] = np.nan
        rr[~np.isfinite(rr)] = np.nan
        idx = np.ix_(y_rows, x_rows)
        beta[idx] = b
        r2[idx] = np.clip(rr, 0.0, 1.0)
        intercept[idx] = ys.mean(axis=1)[:, None] - b * xs.mean(axis=1)[None, :]
        n_obs[idx] = xs.shape[1]
    out = _r2_stats(r2, n_obs, 1, r2_adjusted)
    out.update(beta=beta, intercept=intercept)
    return out


def _ols_r2(design: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients ``(k, n_t)`` and plain R² ``(n_t,)`` of ``targets (n, n_t)`` on ``design``."""
    coef = np.linalg.lstsq(design, targets, rcond=None)[0]
    resid = targets - design @ coef
    tot = targets - targets.mean(axis=0)
    ss_tot = np.einsum("ij,ij->j", tot, tot)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - np.einsum("ij,ij->j", resid, resid) / ss_tot
    r2[~(ss_tot > _DEGENERATE_TOL * np.einsum("ij,ij->j", targets, targets))] = np.nan
    return coef, r2


def mlr(X, Y, Z=None, *, zy_matched: bool = False, r2_adjusted: bool = True,
        individual: bool = False) -> dict[str, np.ndarray]:
    """Multiple linear regression of every Y map on all X maps together.

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Reference maps (the predictors).
    Y : array_like, shape (n_y, n_parcels)
        Target maps, one model each.
    Z : array_like, shape (n_z, n_parcels), optional
        Covariates regressed out of X and Y first (``zy_matched``: ``Z[i]`` out of
        ``Y[i]``).
    zy_matched : bool, default False
        Pair Z maps with Y maps.
    r2_adjusted : bool, default True
        ``"r2"`` holds the adjusted R² (NiSpace's default) or the plain R².
    individual : bool, default False
        Also return ``"individual"`` (n_y, n_x): the drop in R² (adjusted or plain as
        ``"r2"``) when the predictor is left out, i.e. its unique contribution
        (NiSpace's ``mlr_individual``).

    Returns
    -------
    dict
        ``"r2"``, ``"r2_adj"``, ``"r2_raw"``, ``"intercept"`` of shape (n_y,) and
        ``"beta"`` (n_y, n_x) (unstandardised coefficients). NaN for a Y map that is
        constant or has fewer than ``n_x + 2`` usable parcels.

    Notes
    -----
    One least-squares solve (``numpy.linalg.lstsq``, minimum-norm for collinear X)
    for all Y maps that share their non-NaN parcels; parcels with NaN in ``Y[i]``, in
    any X map or in Z are dropped for ``Y[i]``.
    """
    X, Y, Z = _validate(X, Y, Z, zy_matched)
    _check_bool("r2_adjusted", r2_adjusted)
    _check_bool("individual", individual)
    n_y, n_x = Y.shape[0], X.shape[0]
    r2 = np.full(n_y, np.nan)
    n_obs = np.zeros(n_y)
    beta = np.full((n_y, n_x), np.nan)
    intercept = np.full(n_y, np.nan)
    r2_without = np.full((n_y, n_x), np.nan)
    for y_rows, _, xs, ys in _model_blocks(X, Y, Z, zy_matched):
        n = xs.shape[1]
        design = np.column_stack([np.ones(n), xs.T])
        coef, rr = _ols_r2(design, ys.T)
        r2[y_rows], intercept[y_rows], beta[y_rows] = rr, coef[0], coef[1:].T
        n_obs[y_rows] = n
        if individual:
            for j in range(n_x):
                r2_without[y_rows, j] = _ols_r2(np.delete(design, j + 1, axis=1), ys.T)[1]
    out = _r2_stats(r2, n_obs, n_x, r2_adjusted)
    out.update(beta=beta, intercept=intercept)
    if individual:
        reduced = adjusted_r2(r2_without, n_obs[:, None], n_x - 1) if r2_adjusted else r2_without
        out["individual"] = out["r2"][:, None] - reduced
    return out


def dominance(X, Y, Z=None, *, zy_matched: bool = False, r2_adjusted: bool = True
              ) -> dict[str, np.ndarray]:
    """Dominance analysis of every Y map on all X maps (Budescu, 1993).

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Reference maps (predictors); at most
        :data:`~nispace.stats.dominance.MAX_PREDICTORS` (22; 19 maps and 13 targets
        take about 0.5 s).
    Y : array_like, shape (n_y, n_parcels)
        Target maps.
    Z : array_like, shape (n_z, n_parcels), optional
        Covariates regressed out of X and Y first (``zy_matched``: ``Z[i]`` out of
        ``Y[i]``).
    zy_matched : bool, default False
        Pair Z maps with Y maps.
    r2_adjusted : bool, default True
        Adjusted R² for every subset model (NiSpace's default) or plain R².

    Returns
    -------
    dict
        NiSpace's names: ``"sum"`` (n_y,) full-model R²; ``"total"`` (n_y, n_x)
        general dominance (sums to ``"sum"``); ``"individual"`` (n_y, n_x) R² of each
        predictor alone; ``"relative"`` (n_y, n_x) ``total / sum``.

    Notes
    -----
    List-wise NaN removal per Y map. See :mod:`nispace.stats.dominance`.

    References
    ----------
    Budescu (1993), https://doi.org/10.1037/0033-2909.114.3.542 ;
    Azen & Budescu (2003), https://doi.org/10.1037/1082-989X.8.2.129
    """
    X, Y, Z = _validate(X, Y, Z, zy_matched)
    _check_bool("r2_adjusted", r2_adjusted)
    n_y, n_x = Y.shape[0], X.shape[0]
    _check_n_predictors(n_x, n_y)
    out = {"sum": np.full(n_y, np.nan)}
    for name in ("total", "individual", "relative"):
        out[name] = np.full((n_y, n_x), np.nan)
    for y_rows, _, xs, ys in _model_blocks(X, Y, Z, zy_matched):
        res = dominance_analysis_batch(xs, ys, adjusted=r2_adjusted)
        for name in out:
            out[name][y_rows] = res[name]
    return out


# --------------------------------------------------------------------------------------
# spatial cross-validation


def spatial_cv_folds(n_parcels: int, n_folds: int = 5, *, coords=None, seed=None
                     ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Spatially blocked cross-validation folds over parcels.

    Parameters
    ----------
    n_parcels : int
        Number of parcels.
    n_folds : int, default 5
        Number of folds (>= 2).
    coords : array_like, shape (n_parcels, n_dims), optional
        Parcel centroid coordinates (e.g. mm in MNI space). Given: the folds are the
        ``n_folds`` clusters of k-means on the coordinates (scikit-learn ``KMeans``,
        ``n_init=10``, ``random_state`` from ``seed``), i.e. spatially compact blocks.
        Not given: contiguous blocks of the parcel index (``numpy.array_split``),
        which are spatial blocks in atlases ordered by hemisphere/lobe/network
        (Schaefer, Desikan-Killiany, ...), but not in arbitrarily ordered ones.
    seed : int, numpy.random.Generator or None
        Seed of k-means (only used with ``coords``).

    Returns
    -------
    list of (train, test) tuples of int arrays
        The test sets partition ``range(n_parcels)``; each train set is the rest.

    References
    ----------
    Roberts et al. (2017), https://doi.org/10.1111/ecog.02881
    """
    if not isinstance(n_parcels, (int, np.integer)) or n_parcels < 2:
        raise InputError(f"n_parcels: expected an int >= 2; got {n_parcels!r}.")
    if not isinstance(n_folds, (int, np.integer)) or isinstance(n_folds, bool) \
            or not 2 <= n_folds <= n_parcels:
        raise InputError(f"n_folds (cv): expected an int between 2 and n_parcels = "
                         f"{n_parcels}; got {n_folds!r}.")
    if coords is None:
        labels = np.repeat(np.arange(n_folds),
                           [len(b) for b in np.array_split(np.arange(n_parcels), n_folds)])
    else:
        from sklearn.cluster import KMeans

        coords = np.asarray(coords, dtype=np.float64)
        if coords.ndim != 2 or coords.shape[0] != n_parcels or not np.isfinite(coords).all():
            raise InputError(f"coords: expected finite parcel coordinates of shape "
                             f"({n_parcels}, n_dims); got shape {coords.shape}"
                             + ("" if coords.ndim != 2 or coords.shape[0] != n_parcels
                                else " with non-finite values") + ".")
        labels = KMeans(n_clusters=int(n_folds), n_init=10,
                        random_state=_random_state(seed)).fit_predict(coords)
    index = np.arange(n_parcels)
    return [(index[labels != k], index[labels == k]) for k in np.unique(labels)]


def _resolve_cv(cv, n_parcels: int, coords, seed) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds over all parcels from ``cv`` (int or explicit (train, test) pairs)."""
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        return spatial_cv_folds(n_parcels, int(cv), coords=coords, seed=seed)
    try:
        folds = [(np.asarray(tr, dtype=int).ravel(), np.asarray(te, dtype=int).ravel())
                 for tr, te in cv]
    except (TypeError, ValueError):
        raise InputError(f"cv: expected an int (number of spatial folds) or a sequence of "
                         f"(train_indices, test_indices) pairs; got {cv!r}.") from None
    for tr, te in folds:
        for part in (tr, te):
            if part.size and (part.min() < 0 or part.max() >= n_parcels):
                raise InputError(f"cv: fold indices must lie in [0, {n_parcels}); got values "
                                 f"from {part.min()} to {part.max()}.")
    if len(folds) < 2:
        raise InputError(f"cv: expected at least 2 folds; got {len(folds)}.")
    return folds


def _folds_in_mask(folds, mask: np.ndarray, min_train: int):
    """Restrict folds over all parcels to the parcels in ``mask`` (renumbered)."""
    position = np.full(mask.size, -1)
    position[mask] = np.arange(int(mask.sum()))
    out = []
    for tr, te in folds:
        tr_m, te_m = position[tr], position[te]
        tr_m, te_m = tr_m[tr_m >= 0], te_m[te_m >= 0]
        if te_m.size >= 1 and tr_m.size >= min_train:
            out.append((tr_m, te_m))
    if len(out) < 2:
        raise DataError(f"cv: fewer than 2 folds keep a test parcel and at least {min_train} "
                        f"training parcels after dropping NaN parcels ({int(mask.sum())} of "
                        f"{mask.size} parcels left); use fewer folds or fewer NaNs.")
    return out


def _cv_r2(make_model, xs_t: np.ndarray, ys_t: np.ndarray, folds) -> np.ndarray:
    """Pooled held-out R² ``(n_t,)`` of ``make_model()`` refitted in every fold.

    ``1 - sum_folds sum_test (y - y_hat)² / sum_folds sum_test (y - mean(y))²``; for
    folds that partition the parcels this is the R² of the out-of-fold predictions.
    """
    ys_t = ys_t.reshape(ys_t.shape[0], -1)
    ss_res = np.zeros(ys_t.shape[1])
    ss_tot = np.zeros(ys_t.shape[1])
    mean = ys_t.mean(axis=0)
    for tr, te in folds:
        model = make_model().fit(xs_t[tr], ys_t[tr] if ys_t.shape[1] > 1 else ys_t[tr, 0])
        pred = np.asarray(model.predict(xs_t[te])).reshape(te.size, -1)
        ss_res += ((ys_t[te] - pred) ** 2).sum(axis=0)
        ss_tot += ((ys_t[te] - mean) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - ss_res / ss_tot
    r2[~(ss_tot > 0)] = np.nan
    return r2


def _signed_score_r(scores: np.ndarray, xs: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Correlation of component scores with y and the sign that orients them.

    Median-vote convention (NiSpace): the returned correlation is positive iff the
    median correlation of the X maps with y is positive. Returns ``(score_r, flip)``.
    """
    r = _corr_rows(scores[None, :], y[None, :])[0, 0]
    votes = _corr_rows(xs, y[None, :])[0]
    median = np.nanmedian(votes) if np.isfinite(votes).any() else np.nan
    if not np.isfinite(r) or not np.isfinite(median) or median == 0 or r == 0:
        return r, 1.0
    flip = float(np.sign(median) * np.sign(r))
    return r * flip, flip


# --------------------------------------------------------------------------------------
# latent-variable and regularised regression


_CV_PARAM_DOC = """cv : int or sequence of (train, test) index pairs, default 5
        Number of spatial folds (see :func:`spatial_cv_folds`) or explicit folds over
        all ``n_parcels`` parcels (indices refer to columns of X/Y).
    coords : array_like, shape (n_parcels, n_dims), optional
        Parcel centroids for k-means spatial folds.
    seed : int, numpy.random.Generator or None
        Seed for k-means folds and scikit-learn estimators."""


def pls(X, Y, Z=None, *, zy_matched: bool = False, n_components: int = 1,
        scale: bool = True, cv=5, coords=None, seed=None) -> dict[str, np.ndarray]:
    """Partial least squares regression (PLS1) of every Y map on all X maps.

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Reference maps (predictors).
    Y : array_like, shape (n_y, n_parcels)
        Target maps, one model each.
    Z : array_like, shape (n_z, n_parcels), optional
        Covariates regressed out first (see module docstring).
    zy_matched : bool, default False
        Pair Z maps with Y maps.
    n_components : int, default 1
        Number of PLS components (NiSpace's default is 1).
    scale : bool, default True
        Standardise X and y inside the model (scikit-learn's default).
    {cv_doc}

    Returns
    -------
    dict
        ``"r2"`` (n_y,) in-sample R² (NiSpace), ``"r2_cv"`` (n_y,) spatially
        cross-validated R², ``"intercept"`` (n_y,), ``"beta"`` (n_y, n_x) regression
        coefficients in data units, ``"score_r"`` (n_y,) correlation of the first
        component's scores with Y and ``"weight"`` (n_y, n_x) first-component X
        weights (unit norm). ``score_r`` and ``weight`` are oriented so that
        ``score_r`` is positive iff the median correlation of the X maps with Y is
        positive (NiSpace's median-vote convention).

    Notes
    -----
    :class:`sklearn.cross_decomposition.PLSRegression`, fitted per Y map on its
    non-NaN parcels (list-wise).

    References
    ----------
    Wold, S., Sjöström, M., & Eriksson, L. (2001). PLS-regression: a basic tool of
    chemometrics. Chemometr. Intell. Lab. Syst., 58(2), 109-130.
    https://doi.org/10.1016/S0169-7439(01)00155-1
    """
    from sklearn.cross_decomposition import PLSRegression

    X, Y, Z = _validate(X, Y, Z, zy_matched)
    n_y, n_x = Y.shape[0], X.shape[0]
    n_components = _check_components(n_components, n_x)
    folds_all = _resolve_cv(cv, X.shape[1], coords, seed)
    out = {k: np.full(n_y, np.nan) for k in ("r2", "r2_cv", "intercept", "score_r")}
    out["beta"] = np.full((n_y, n_x), np.nan)
    out["weight"] = np.full((n_y, n_x), np.nan)

    def make():
        return PLSRegression(n_components=n_components, scale=scale)

    for y_rows, mask, xs, ys in _model_blocks(X, Y, Z, zy_matched):
        folds = _folds_in_mask(folds_all, mask, min_train=n_components + 2)
        for a, i in enumerate(y_rows):
            y = ys[a]
            if not np.any(_center(y[None, :])):
                continue                      # constant target: nothing to explain
            model = make().fit(xs.T, y)
            out["r2"][i] = model.score(xs.T, y)
            out["beta"][i] = np.ravel(model.coef_)
            out["intercept"][i] = np.ravel(model.intercept_)[0]
            score_r, flip = _signed_score_r(model.x_scores_[:, 0], xs, y)
            out["score_r"][i] = score_r
            out["weight"][i] = flip * model.x_weights_[:, 0]
            out["r2_cv"][i] = _cv_r2(make, xs.T, y[:, None], folds)[0]
    return out


def pcr(X, Y, Z=None, *, zy_matched: bool = False, n_components: int = 1,
        r2_adjusted: bool = True, cv=5, coords=None, seed=None) -> dict[str, np.ndarray]:
    """Principal component regression of every Y map on the leading PCs of the X maps.

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Reference maps; PCA treats parcels as samples and X maps as features.
    Y : array_like, shape (n_y, n_parcels)
        Target maps, one model each.
    Z : array_like, shape (n_z, n_parcels), optional
        Covariates regressed out first (see module docstring).
    zy_matched : bool, default False
        Pair Z maps with Y maps.
    n_components : int, default 1
        Number of principal components (NiSpace's default is 1).
    r2_adjusted : bool, default True
        ``"r2"`` is adjusted for ``n_components`` predictors (NiSpace) or plain.
    {cv_doc}

    Returns
    -------
    dict
        ``"r2"``, ``"r2_adj"``, ``"r2_raw"`` (n_y,) in-sample R², ``"r2_cv"`` (n_y,)
        spatially cross-validated R², ``"intercept"`` (n_y,), ``"beta"`` (n_y, n_x)
        coefficients mapped back to the X maps (``components_.T @ coef``) and
        ``"score_r"`` (n_y,) correlation of the first PC's scores with Y (median-vote
        sign, see :func:`pls`).

    Notes
    -----
    ``make_pipeline(PCA(n_components), LinearRegression())`` from scikit-learn, one
    fit for all Y maps sharing their non-NaN parcels (list-wise); in each CV fold
    the PCA is refitted on the training parcels.

    References
    ----------
    Jolliffe, I. T. (1982). A note on the use of principal components in regression.
    J. R. Stat. Soc. C, 31(3), 300-303. https://doi.org/10.2307/2348005
    """
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline

    X, Y, Z = _validate(X, Y, Z, zy_matched)
    _check_bool("r2_adjusted", r2_adjusted)
    n_y, n_x = Y.shape[0], X.shape[0]
    n_components = _check_components(n_components, n_x)
    folds_all = _resolve_cv(cv, X.shape[1], coords, seed)
    state = _random_state(seed)
    r2 = np.full(n_y, np.nan)
    n_obs = np.zeros(n_y)
    out = {k: np.full(n_y, np.nan) for k in ("r2_cv", "intercept", "score_r")}
    out["beta"] = np.full((n_y, n_x), np.nan)

    def make():
        return make_pipeline(PCA(n_components=n_components, random_state=state),
                             LinearRegression())

    for y_rows, mask, xs, ys in _model_blocks(X, Y, Z, zy_matched):
        folds = _folds_in_mask(folds_all, mask, min_train=n_components + 2)
        model = make().fit(xs.T, ys.T)
        pca, lin = model[0], model[1]
        coef = np.atleast_2d(lin.coef_)                              # (n_rows, n_comp)
        pred = np.asarray(model.predict(xs.T)).reshape(xs.shape[1], -1)
        resid = ys.T - pred
        tot = ys.T - ys.T.mean(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            rr = 1.0 - (resid**2).sum(axis=0) / (tot**2).sum(axis=0)
        const = ~np.any(_center(ys), axis=1)
        rr[const] = np.nan
        r2[y_rows] = rr
        n_obs[y_rows] = xs.shape[1]
        beta = coef @ pca.components_                                # (n_rows, n_x)
        out["beta"][y_rows] = beta
        out["intercept"][y_rows] = np.ravel(lin.intercept_) - beta @ pca.mean_
        scores = pca.transform(xs.T)[:, 0]
        for a, i in enumerate(y_rows):
            if not const[a]:
                out["score_r"][i] = _signed_score_r(scores, xs, ys[a])[0]
        cv_r2 = _cv_r2(make, xs.T, ys.T, folds)
        cv_r2[const] = np.nan
        out["r2_cv"][y_rows] = cv_r2
    out["beta"][np.isnan(r2)] = np.nan
    out["intercept"][np.isnan(r2)] = np.nan
    return _r2_stats(r2, n_obs, n_components, r2_adjusted) | out


def _regularized(kind: str, X, Y, Z, zy_matched, cv, coords, seed, estimator_cv, make_final):
    X, Y, Z = _validate(X, Y, Z, zy_matched)
    n_y, n_x = Y.shape[0], X.shape[0]
    folds_all = _resolve_cv(cv, X.shape[1], coords, seed)
    names = ["r2", "r2_cv", "intercept", "alpha"] + (["l1ratio"] if kind == "elasticnet" else [])
    out = {k: np.full(n_y, np.nan) for k in names}
    out["beta"] = np.full((n_y, n_x), np.nan)
    for y_rows, mask, xs, ys in _model_blocks(X, Y, Z, zy_matched):
        folds = _folds_in_mask(folds_all, mask, min_train=2)
        for a, i in enumerate(y_rows):
            y = ys[a]
            if not np.any(_center(y[None, :])):
                continue
            search = estimator_cv(folds).fit(xs.T, y)
            out["r2"][i] = search.score(xs.T, y)
            out["beta"][i] = search.coef_
            out["intercept"][i] = search.intercept_
            out["alpha"][i] = search.alpha_
            if kind == "elasticnet":
                out["l1ratio"][i] = search.l1_ratio_
            out["r2_cv"][i] = _cv_r2(lambda: make_final(search), xs.T, y[:, None], folds)[0]
    return out


_REG_RETURNS = """Returns
    -------
    dict
        ``"r2"`` (n_y,) in-sample R² of the model refitted on all parcels with the
        selected hyper-parameters (NiSpace's ``r2``), ``"r2_cv"`` (n_y,) pooled
        held-out R² of that setting over the spatial folds (the folds also chose it,
        so it is mildly optimistic), ``"intercept"`` (n_y,), ``"alpha"`` (n_y,),
        {extra}and ``"beta"`` (n_y, n_x) coefficients.

    Notes
    -----
    One model per Y map on its non-NaN parcels (list-wise; NiSpace drops parcels with
    NaN in any map). X is not standardised: pass z-scored maps (NiSpace's
    ``standardize``) for comparable penalties across X maps."""


def lasso(X, Y, Z=None, *, zy_matched: bool = False, alphas=20, max_iter: int = 5000,
          cv=5, coords=None, seed=None) -> dict[str, np.ndarray]:
    """L1-penalised regression of every Y map on all X maps, penalty chosen by spatial CV.

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Reference maps (predictors).
    Y : array_like, shape (n_y, n_parcels)
        Target maps, one model each.
    Z : array_like, shape (n_z, n_parcels), optional
        Covariates regressed out first (see module docstring).
    zy_matched : bool, default False
        Pair Z maps with Y maps.
    alphas : int or array_like, default 20
        Candidate penalties, or their number on scikit-learn's automatic grid.
    max_iter : int, default 5000
        Coordinate-descent iterations.
    {cv_doc}

    {returns}

    References
    ----------
    Tibshirani, R. (1996). Regression shrinkage and selection via the lasso. J. R.
    Stat. Soc. B, 58(1), 267-288. https://doi.org/10.1111/j.2517-6161.1996.tb02080.x
    """
    from sklearn.linear_model import Lasso, LassoCV

    state = _random_state(seed)
    return _regularized(
        "lasso", X, Y, Z, zy_matched, cv, coords, seed,
        lambda folds: LassoCV(alphas=alphas, cv=folds, max_iter=max_iter, random_state=state),
        lambda s: Lasso(alpha=s.alpha_, max_iter=max_iter, random_state=state))


def ridge(X, Y, Z=None, *, zy_matched: bool = False,
          alphas=(1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3), cv=5, coords=None, seed=None
          ) -> dict[str, np.ndarray]:
    """L2-penalised regression of every Y map on all X maps, penalty chosen by spatial CV.

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Reference maps (predictors).
    Y : array_like, shape (n_y, n_parcels)
        Target maps, one model each.
    Z : array_like, shape (n_z, n_parcels), optional
        Covariates regressed out first (see module docstring).
    zy_matched : bool, default False
        Pair Z maps with Y maps.
    alphas : array_like, default (1e-3, ..., 1e3)
        Candidate penalties (scored by mean squared error over the folds).
    {cv_doc}

    {returns}

    References
    ----------
    Hoerl, A. E., & Kennard, R. W. (1970). Ridge regression: biased estimation for
    nonorthogonal problems. Technometrics, 12(1), 55-67.
    https://doi.org/10.1080/00401706.1970.10488634
    """
    from sklearn.linear_model import Ridge, RidgeCV

    return _regularized(
        "ridge", X, Y, Z, zy_matched, cv, coords, seed,
        lambda folds: RidgeCV(alphas=np.asarray(alphas, dtype=float), cv=folds,
                              scoring="neg_mean_squared_error"),
        lambda s: Ridge(alpha=s.alpha_))


def elasticnet(X, Y, Z=None, *, zy_matched: bool = False, l1_ratio=(0.1, 0.5, 0.9),
               alphas=20, max_iter: int = 5000, cv=5, coords=None, seed=None
               ) -> dict[str, np.ndarray]:
    """Elastic-net regression of every Y map on all X maps, penalties chosen by spatial CV.

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Reference maps (predictors).
    Y : array_like, shape (n_y, n_parcels)
        Target maps, one model each.
    Z : array_like, shape (n_z, n_parcels), optional
        Covariates regressed out first (see module docstring).
    zy_matched : bool, default False
        Pair Z maps with Y maps.
    l1_ratio : float or sequence of float, default (0.1, 0.5, 0.9)
        Candidate mixing parameters (1 = lasso).
    alphas : int or array_like, default 20
        Candidate penalties, or their number on scikit-learn's automatic grid.
    max_iter : int, default 5000
        Coordinate-descent iterations.
    {cv_doc}

    {returns}

    References
    ----------
    Zou, H., & Hastie, T. (2005). Regularization and variable selection via the
    elastic net. J. R. Stat. Soc. B, 67(2), 301-320.
    https://doi.org/10.1111/j.1467-9868.2005.00503.x
    """
    from sklearn.linear_model import ElasticNet, ElasticNetCV

    state = _random_state(seed)
    ratios = list(np.atleast_1d(np.asarray(l1_ratio, dtype=float)))
    return _regularized(
        "elasticnet", X, Y, Z, zy_matched, cv, coords, seed,
        lambda folds: ElasticNetCV(l1_ratio=ratios, alphas=alphas, cv=folds,
                                   max_iter=max_iter, random_state=state),
        lambda s: ElasticNet(alpha=s.alpha_, l1_ratio=s.l1_ratio_, max_iter=max_iter,
                             random_state=state))


for _f in (pls, pcr):
    _f.__doc__ = _f.__doc__.replace("{cv_doc}", _CV_PARAM_DOC)
for _f, _extra in ((lasso, ""), (ridge, ""), (elasticnet, '``"l1ratio"`` (n_y,) ')):
    _f.__doc__ = (_f.__doc__.replace("{cv_doc}", _CV_PARAM_DOC)
                  .replace("{returns}", _REG_RETURNS.replace("{extra}", _extra)))
del _f, _extra


# --------------------------------------------------------------------------------------
# distance-dependent cross-validation of the multiple regression


def _distance_cv_stats(X, Y, Z, zy_matched: bool, dist_mat, test_fraction, seed_set
                       ) -> dict[str, np.ndarray]:
    """``cv_*`` statistics of :func:`~nispace.stats.crossval.distance_cv` for each Y map.

    Z is regressed out as for the model itself, over all parcels before the splits
    are drawn; NaN parcels are dropped list-wise per Y map, and the distances
    restricted to the parcels that are left.
    """
    X, Y, Z = _validate(X, Y, Z, zy_matched)
    n_y, n = Y.shape
    dist = _check_dist_mat(dist_mat, n)
    out = {f"cv_{key}": np.full((n_y, n), np.nan) for key in _SPLIT_KEYS}
    out |= {f"cv_{key}": np.full(n_y, np.nan) for key in _SUMMARY_KEYS}
    for y_rows, mask, xs, ys in _model_blocks(X, Y, Z, zy_matched):
        res = distance_cv(xs, ys, dist[np.ix_(mask, mask)], test_fraction=test_fraction,
                          seed_set=seed_set, y_names=[int(i) for i in np.atleast_1d(y_rows)])
        for key in _SPLIT_KEYS:
            out[f"cv_{key}"][np.ix_(y_rows, np.flatnonzero(mask))] = res[key]
        for key in _SUMMARY_KEYS:
            out[f"cv_{key}"][y_rows] = res[key]
    return out


# --------------------------------------------------------------------------------------
# dispatcher

_FUNCTIONS = {
    "pearson": pearson,
    "spearman": spearman,
    "partialpearson": partialpearson,
    "partialspearman": partialspearman,
    "mi": mutual_info,
    "slr": slr,
    "mlr": mlr,
    "dominance": dominance,
    "pls": pls,
    "pcr": pcr,
    "lasso": lasso,
    "ridge": ridge,
    "elasticnet": elasticnet,
}


def colocalize(X, Y, method: str, Z=None, *, fisher_z: bool = False, zy_matched: bool = False,
               r2_adjusted: bool = True, cv: int | Sequence | str = 5, seed=None,
               dist_mat=None, cv_test_fraction: float = 0.25, cv_seed_set: str = "test",
               **method_kwargs) -> dict[str, np.ndarray]:
    """Colocalize target maps with reference maps by one of NiSpace's methods.

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Reference maps (e.g. PET receptor maps).
    Y : array_like, shape (n_y, n_parcels)
        Target maps (e.g. effect-size maps).
    method : str
        One of :data:`COLOC_METHODS`: ``"pearson"``, ``"spearman"``,
        ``"partialpearson"``, ``"partialspearman"``, ``"mi"``, ``"slr"``, ``"mlr"``,
        ``"dominance"``, ``"pls"``, ``"pcr"``, ``"lasso"``, ``"ridge"``,
        ``"elasticnet"``.
    Z : array_like, shape (n_z, n_parcels), optional
        Covariate maps: required by ``partial*``; regressed out of X and Y for the
        other methods. With ``zy_matched``: shape (n_y, n_parcels).
    fisher_z : bool, default False
        Fisher-z (``arctanh``) the ``rho`` of the correlation methods; ignored by the
        others. (NiSpace's ``r_to_z`` defaults to True; the facade may pass it.)
    zy_matched : bool, default False
        ``Z[i]`` belongs to ``Y[i]`` and is regressed out of ``Y[i]`` only.
    r2_adjusted : bool, default True
        Adjusted R² in ``"r2"`` of ``slr``, ``mlr``, ``dominance`` and ``pcr``
        (NiSpace's ``adj_r2=True``); ignored by the others.
    cv : int, sequence of (train, test) index pairs or "distance", default 5
        Spatial cross-validation of ``pls``, ``pcr``, ``lasso``, ``ridge``,
        ``elasticnet`` (see :func:`spatial_cv_folds`); ignored by the others.
        ``"distance"``: distance-dependent cross-validation (Hansen et al., 2022) of
        the multiple regression of ``mlr`` and ``dominance`` (the full model), see
        :func:`~nispace.stats.crossval.distance_cv`; needs ``dist_mat`` and adds the
        ``cv_*`` statistics listed under Returns. Z (if given) is regressed out over
        all parcels before the splits are drawn. The ``cv_*`` statistics describe
        the observed model only; permutations do not recompute them.
    seed : int, numpy.random.Generator or None
        Randomness of ``mi``, k-means CV folds and scikit-learn estimators; ignored by
        deterministic methods.
    dist_mat : array_like, shape (n_parcels, n_parcels), optional
        Parcel distance matrix for ``cv="distance"`` (required there, refused
        otherwise).
    cv_test_fraction : float, default 0.25
        Fraction of parcels in each test set of ``cv="distance"``.
    cv_seed_set : {"test", "train"}, default "test"
        With ``cv="distance"``: each parcel and its nearest parcels form the test set
        (``"test"``) or the training set (``"train"``, the published code of Hansen et
        al., 2022); see :mod:`nispace.stats.crossval`.
    **method_kwargs
        Passed to the method's function, e.g. ``coords=`` (n_parcels, 3) parcel
        centroids for k-means folds, ``n_components=`` (``pls``, ``pcr``),
        ``alphas=`` (regularised), ``n_neighbors=`` (``mi``), ``individual=True``
        (``mlr``).

    Returns
    -------
    dict of str to numpy.ndarray
        Statistics named as in NiSpace (see the module docstring): ``(n_y, n_x)``
        arrays for X-Y pairs, ``(n_y,)`` arrays for whole models. With
        ``cv="distance"`` also ``"cv_train_r"``, ``"cv_test_r"``, ``"cv_train_r2"``,
        ``"cv_test_r2"`` of shape ``(n_y, n_parcels)`` (column ``i``: the split seeded
        at parcel ``i``) and ``"cv_train_r_mean"``, ``"cv_train_r_median"``,
        ``"cv_test_r_mean"``, ``"cv_test_r_median"`` of shape ``(n_y,)``.

    Raises
    ------
    ValueError
        Unknown method (with the closest name), maps with different numbers of
        parcels, all-NaN or infinite maps, missing Z for ``partial*``, Z rows not
        matching Y rows with ``zy_matched``, more than
        :data:`~nispace.stats.dominance.MAX_PREDICTORS` X maps for ``dominance``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.normal(size=(3, 50)), rng.normal(size=(2, 50))
    >>> colocalize(X, Y, "spearman")["rho"].shape
    (2, 3)
    >>> sorted(colocalize(X, Y, "mlr"))
    ['beta', 'intercept', 'r2', 'r2_adj', 'r2_raw']
    """
    if not isinstance(method, str) or method not in _FUNCTIONS:
        raise InputError(f"method: expected one of {list(_FUNCTIONS)}; got {method!r}."
                         + (suggest(method, _FUNCTIONS) if isinstance(method, str) else ""))
    distance = isinstance(cv, str)
    if distance:
        if cv != "distance":
            raise InputError(f"cv: expected an int, a sequence of (train, test) index pairs "
                             f"or 'distance'; got {cv!r}.")
        if method not in _DISTANCE_CV_METHODS:
            raise InputError(f"cv: cv='distance' cross-validates the multiple regression of "
                             f"methods {list(_DISTANCE_CV_METHODS)}; got method {method!r}. "
                             "For 'pls' or 'pcr' call nispace.stats.crossval.distance_cv(X, "
                             "Y, dist_mat, method=...).")
        if dist_mat is None:
            raise InputError("dist_mat: cv='distance' needs the parcel distance matrix of "
                             "shape (n_parcels, n_parcels); got None.")
        # validate before the model runs
        _check_dist_mat(dist_mat, np.shape(X)[-1] if np.ndim(X) else None)
        try:
            _n_test(2, cv_test_fraction)
        except InputError as err:
            raise InputError(f"cv_{err}") from None
        if cv_seed_set not in _SEED_SETS:
            raise InputError(f"cv_seed_set: expected one of {list(_SEED_SETS)}; got "
                             f"{cv_seed_set!r}.")
    else:
        if dist_mat is not None:
            raise InputError(f"dist_mat: the distance matrix is only used with "
                             f"cv='distance'; got cv={cv!r}.")
        for name, value, default in (("cv_test_fraction", cv_test_fraction, 0.25),
                                     ("cv_seed_set", cv_seed_set, "test")):
            if not (isinstance(value, type(default)) and value == default):
                raise InputError(f"{name}: only used with cv='distance'; got {name}="
                                 f"{value!r} with cv={cv!r}. Pass cv='distance' (with "
                                 f"dist_mat=) or leave {name} at its default.")
    kwargs: dict[str, Any] = dict(Z=Z, zy_matched=zy_matched)
    if method in _RHO_METHODS:
        kwargs["fisher_z"] = fisher_z
    if method in _R2_METHODS:
        kwargs["r2_adjusted"] = r2_adjusted
    if method in _CV_METHODS:
        kwargs.update(cv=cv, seed=seed)
    if method == "mi":
        kwargs["seed"] = seed
    func = _FUNCTIONS[method]
    accepted = [name for name in inspect.signature(func).parameters
                if name not in ("X", "Y", "Z", "zy_matched", "fisher_z", "r2_adjusted", "cv",
                                "seed")]
    unknown = sorted(set(method_kwargs) - set(accepted))
    if unknown:
        raise InputError(f"method_kwargs: method {method!r} accepts {accepted or 'none'}; got "
                         f"unexpected {unknown}.")
    out = func(X, Y, **kwargs, **method_kwargs)
    if distance:
        out.update(_distance_cv_stats(X, Y, Z, zy_matched, dist_mat, cv_test_fraction,
                                      cv_seed_set))
    return out
