"""Distance-dependent cross-validation of regression models on parcellated maps.

Neighbouring parcels are autocorrelated, so a model tested on parcels next to its
training parcels looks better than it is. Hansen et al. (2022) therefore split the
parcels by distance: each parcel in turn *seeds* a split, the quarter of parcels
closest to it forms one set and the rest the other; the model is fitted on the
training set, and the correlation between predicted and observed values is reported
in the training and in the test set of every split. The distribution of test
correlations over the ``n_parcels`` splits shows how well the model generalises to
unseen, spatially separate regions.

Two conventions for which set the seed's neighbourhood forms (``seed_set``):

* ``"test"`` (default): the test set is the seed and its nearest
  ``test_fraction`` of parcels; the model is fitted on the remaining, more distant
  parcels and must predict a spatially compact region it has not seen.
* ``"train"``: the training set is the seed and its nearest ``1 - test_fraction``
  of parcels, the test set the ``test_fraction`` farthest parcels, as in the
  ``cv_slr_distance_dependent`` function of the code published with Hansen et al.
  (2022) (``train_pct=0.75``; not re-checked against that code offline).

In both, the test set has ``n_parcels - floor((1 - test_fraction) * n_parcels)``
parcels (17 of the 68 Desikan-Killiany regions for 0.25). Ties in distance are
broken by parcel index; the seed is always in the seed's set.

References
----------
Hansen, J. Y., Shafiei, G., Markello, R. D., et al. (2022). Mapping neurotransmitter
systems to the structural and functional organization of the human neocortex. Nature
Neuroscience, 25, 1569-1581. https://doi.org/10.1038/s41593-022-01186-3
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from .._validate import check_dist_mat
from ..errors import InputError
from .dominance import _as_maps, _check_components, _row_groups

__all__ = ["DISTANCE_CV_METHODS", "distance_cv", "distance_cv_splits"]

logger = logging.getLogger("nispace.stats")

#: Regression models :func:`distance_cv` can cross-validate.
DISTANCE_CV_METHODS: tuple[str, ...] = ("mlr", "pls", "pcr")

_SEED_SETS = ("test", "train")
# statistics per split (n_y, n_parcels) and their summaries over splits (n_y,)
_SPLIT_KEYS = ("train_r", "test_r", "train_r2", "test_r2")
_SUMMARY_KEYS = ("train_r_mean", "train_r_median", "test_r_mean", "test_r_median")
#: relative size below which a centred set of values counts as constant
_DEGENERATE_TOL = 1e-10


def _check_dist_mat(dist_mat, n_parcels: int | None = None) -> np.ndarray:
    """A copy of ``dist_mat`` checked by :func:`nispace._validate.check_dist_mat`
    (square, symmetric, non-negative, ``inf`` allowed, NaN not), at least 2 x 2."""
    dist = check_dist_mat(dist_mat, n_parcels).copy()
    if dist.shape[0] < 2:
        raise InputError(f"dist_mat: expected at least 2 parcels; got shape {dist.shape}.")
    return dist


def _n_test(n_parcels: int, test_fraction) -> int:
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (float, int)) \
            or not 0 < test_fraction < 1:
        raise InputError(f"test_fraction: expected a number between 0 and 1 (exclusive); got "
                         f"{test_fraction!r}.")
    n_train = int(np.floor((1.0 - test_fraction) * n_parcels + 1e-9))
    return n_parcels - n_train


def distance_cv_splits(dist_mat, test_fraction: float = 0.25, *, seed_set: str = "test"
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Training and test parcels of the distance-dependent splits, one per seed parcel.

    Parameters
    ----------
    dist_mat : array_like, shape (n_parcels, n_parcels)
        Parcel distances (e.g. geodesic or Euclidean between centroids); row ``i`` is
        used for seed ``i``. ``inf`` is allowed (farthest), NaN is not.
    test_fraction : float, default 0.25
        Fraction of parcels in each test set (Hansen et al., 2022: 0.25).
    seed_set : {"test", "train"}, default "test"
        Whether the seed's nearest parcels form the test set or the training set
        (see the module docstring).

    Returns
    -------
    train : numpy.ndarray of int, shape (n_parcels, n_train)
        Row ``i``: the training parcels of the split seeded at parcel ``i``.
    test : numpy.ndarray of int, shape (n_parcels, n_test)
        Row ``i``: its test parcels (with ``seed_set="test"``, ``test[i, 0] == i``).

    References
    ----------
    Hansen et al. (2022), https://doi.org/10.1038/s41593-022-01186-3
    """
    dist = _check_dist_mat(dist_mat)
    if seed_set not in _SEED_SETS:
        raise InputError(f"seed_set: expected one of {list(_SEED_SETS)}; got {seed_set!r}.")
    n = dist.shape[0]
    n_test = _n_test(n, test_fraction)
    if n_test >= n:
        raise InputError(f"test_fraction: {test_fraction} leaves no training parcels among "
                         f"{n} parcels; use a smaller fraction.")
    np.fill_diagonal(dist, -np.inf)                   # the seed comes first in its row
    order = np.argsort(dist, axis=1, kind="stable")   # nearest first, ties by index
    if seed_set == "test":
        return np.sort(order[:, n_test:], axis=1), order[:, :n_test]
    return order[:, :n - n_test], np.sort(order[:, n - n_test:], axis=1)


def _pearson_along(pred: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """Pearson r over axis 1 of ``(n_splits, n, n_y)`` arrays; NaN for constant data."""
    a = pred - pred.mean(axis=1, keepdims=True)
    b = obs - obs.mean(axis=1, keepdims=True)
    norm_a = np.sqrt(np.einsum("snt,snt->st", a, a))
    norm_b = np.sqrt(np.einsum("snt,snt->st", b, b))
    ok = ((norm_a > _DEGENERATE_TOL * np.sqrt(np.einsum("snt,snt->st", pred, pred)))
          & (norm_b > _DEGENERATE_TOL * np.sqrt(np.einsum("snt,snt->st", obs, obs))))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.einsum("snt,snt->st", a, b) / (norm_a * norm_b)
    return np.where(ok, np.clip(r, -1.0, 1.0), np.nan)


def _r2_along(pred: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """``1 - SS_res / SS_tot`` over axis 1 (SS_tot around the set's own mean)."""
    ss_res = ((obs - pred) ** 2).sum(axis=1)
    ss_tot = ((obs - obs.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - ss_res / ss_tot
    return np.where(ss_tot > _DEGENERATE_TOL**2 * (obs**2).sum(axis=1), r2, np.nan)


def _mlr_predictions(xs, ys, train, test):
    """Least-squares fits of all splits at once; predictions ``(s, n_tr|n_te, n_y)``."""
    # standardising first changes no prediction up to an affine map (OLS with an
    # intercept is equivariant), so correlations and R² are unchanged; it keeps the
    # batched pseudo-inverse well conditioned
    xz = (xs - xs.mean(axis=1, keepdims=True))
    scale = np.linalg.norm(xz, axis=1, keepdims=True)
    xz = np.where(scale > 0, xz / np.where(scale > 0, scale, 1.0), 0.0)
    design = np.column_stack([np.ones(xs.shape[1]), xz.T])           # (n, p + 1)
    d_train = design[train]                                          # (s, n_tr, p + 1)
    rcond = max(d_train.shape[-2:]) * np.finfo(np.float64).eps       # as lstsq's default
    coef = np.linalg.pinv(d_train, rcond) @ ys.T[train]             # (s, p + 1, n_y)
    return d_train @ coef, design[test] @ coef


def _sklearn_predictions(method, xs, ys, train, test, n_components):
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline

    n_y = ys.shape[0]
    pred_train = np.empty(train.shape + (n_y,))
    pred_test = np.empty(test.shape + (n_y,))
    for s, (tr, te) in enumerate(zip(train, test)):
        if method == "pcr":        # one multi-output fit (the PCA does not see y)
            model = make_pipeline(PCA(n_components=n_components), LinearRegression())
            model.fit(xs[:, tr].T, ys[:, tr].T)
            pred_train[s] = model.predict(xs[:, tr].T).reshape(tr.size, n_y)
            pred_test[s] = model.predict(xs[:, te].T).reshape(te.size, n_y)
            continue
        for t in range(n_y):       # PLS1 per target, as colocalize("pls")
            model = PLSRegression(n_components=n_components).fit(xs[:, tr].T, ys[t, tr])
            pred_train[s, :, t] = np.ravel(model.predict(xs[:, tr].T))
            pred_test[s, :, t] = np.ravel(model.predict(xs[:, te].T))
    return pred_train, pred_test


def distance_cv(X, Y, dist_mat, *, test_fraction: float = 0.25, method: str = "mlr",
                seed_set: str = "test", n_components: int = 1,
                y_names: Sequence | None = None) -> dict[str, np.ndarray]:
    """Distance-dependent cross-validation of a regression of Y maps on X maps.

    Each parcel in turn seeds a split (:func:`distance_cv_splits`): the model is
    fitted on the training parcels and the Pearson correlation between predicted and
    observed values is computed in the training and the test set (Hansen et al.,
    2022), for every Y map.

    Parameters
    ----------
    X : array_like, shape (n_x, n_parcels)
        Predictor maps (e.g. PET receptor maps).
    Y : array_like, shape (n_y, n_parcels)
        Target maps, one model each.
    dist_mat : array_like, shape (n_parcels, n_parcels)
        Parcel distance matrix (e.g. a parcellation's geodesic or centroid distances);
        ``inf`` allowed, NaN not.
    test_fraction : float, default 0.25
        Fraction of parcels in each test set.
    method : {"mlr", "pls", "pcr"}, default "mlr"
        Multiple linear regression (least squares with intercept, minimum-norm for
        collinear X; all splits solved at once), or scikit-learn's PLS1 / PCA +
        linear regression with ``n_components`` as in :func:`~nispace.stats.coloc.pls`
        and :func:`~nispace.stats.coloc.pcr` (a loop over splits).
    seed_set : {"test", "train"}, default "test"
        The seed and its nearest parcels form the test set (default) or the training
        set (the published code of Hansen et al., 2022); see the module docstring.
    n_components : int, default 1
        Components of ``pls`` and ``pcr``; ignored by ``mlr``.
    y_names : sequence, optional
        Names of the Y maps in the WARNING about maps with too few parcels (default:
        their row indices).

    Returns
    -------
    dict of str to numpy.ndarray
        ``"train_r"``, ``"test_r"`` (n_y, n_parcels): Pearson r of predicted and
        observed values in the training and test set of the split seeded at each
        parcel; ``"train_r2"``, ``"test_r2"`` (n_y, n_parcels): ``1 - SS_res /
        SS_tot`` in each set (around that set's mean); ``"train_r_mean"``,
        ``"train_r_median"``, ``"test_r_mean"``, ``"test_r_median"`` (n_y,): their
        distribution over the splits. NaN where the seed parcel is NaN for that Y
        map, for a constant set, or for Y maps with too few usable parcels.

    Notes
    -----
    Parcels with NaN in ``Y[i]`` or in any X map are dropped for ``Y[i]`` before the
    splits are drawn (list-wise, as the other multivariate methods), so its splits
    use the distances among its usable parcels only; Y maps sharing a NaN pattern
    are computed together. A Y map needs more than ``n_x + 1`` training parcels per
    split for ``mlr`` (``n_components + 1`` for ``pls``/``pcr``) and a test set of at
    least 2 parcels, else NaN (with a WARNING naming those maps).

    Covariates are not handled here. Through ``colocalize(..., Z=..., cv="distance")``
    Z is regressed out of X and Y over **all** parcels before the splits are drawn
    (as for the model itself), so the test parcels take part in that regression and
    the test correlations can be slightly optimistic.

    References
    ----------
    Hansen et al. (2022), https://doi.org/10.1038/s41593-022-01186-3
    """
    X = _as_maps(X, "X")
    Y = _as_maps(Y, "Y")
    n = X.shape[1]
    if Y.shape[1] != n:
        raise InputError(f"X and Y must have the same number of parcels (columns); got X "
                         f"{X.shape} and Y {Y.shape}.")
    dist = _check_dist_mat(dist_mat, n)
    if method not in DISTANCE_CV_METHODS:
        raise InputError(f"method: expected one of {list(DISTANCE_CV_METHODS)}; got "
                         f"{method!r}.")
    if seed_set not in _SEED_SETS:
        raise InputError(f"seed_set: expected one of {list(_SEED_SETS)}; got {seed_set!r}.")
    n_x = X.shape[0]
    if method != "mlr":
        n_components = _check_components(n_components, n_x)
    _n_test(n, test_fraction)                          # validate before any work
    n_params = n_x + 1 if method == "mlr" else int(n_components) + 1
    out = {key: np.full((Y.shape[0], n), np.nan) for key in _SPLIT_KEYS}
    valid = ~np.isnan(Y) & ~np.isnan(X).any(axis=0)
    too_few = []
    for mask, rows in _row_groups(valid):
        m = int(mask.sum())
        n_test = _n_test(m, test_fraction) if m >= 2 else m
        if m - n_test <= n_params or n_test < 2:
            too_few.extend((int(r), m) for r in rows)
            continue
        train, test = distance_cv_splits(dist[np.ix_(mask, mask)], test_fraction,
                                         seed_set=seed_set)
        xs, ys = X[:, mask], Y[np.ix_(rows, mask)]
        if method == "mlr":
            pred_train, pred_test = _mlr_predictions(xs, ys, train, test)
        else:
            pred_train, pred_test = _sklearn_predictions(method, xs, ys, train, test,
                                                         int(n_components))
        obs_train, obs_test = ys.T[train], ys.T[test]
        cols = np.flatnonzero(mask)
        for key, value in (("train_r", _pearson_along(pred_train, obs_train)),
                           ("test_r", _pearson_along(pred_test, obs_test)),
                           ("train_r2", _r2_along(pred_train, obs_train)),
                           ("test_r2", _r2_along(pred_test, obs_test))):
            out[key][np.ix_(rows, cols)] = value.T
    if too_few:
        names = list(range(Y.shape[0])) if y_names is None else list(y_names)
        logger.warning(
            "distance_cv: Y map(s) %s have too few usable parcels (%s; NaN in Y or any X "
            "map dropped) for splits with more than %d training and at least 2 test "
            "parcels (test_fraction = %s); their cross-validation statistics are NaN.",
            [names[r] for r, _ in too_few], sorted({m for _, m in too_few}), n_params,
            test_fraction)
    for key in ("train_r", "test_r"):
        finite = np.isfinite(out[key])
        some = finite.any(axis=1)
        for stat, func in (("mean", np.nanmean), ("median", np.nanmedian)):
            summary = np.full(Y.shape[0], np.nan)
            if some.any():
                summary[some] = func(out[key][some], axis=1)
            out[f"{key}_{stat}"] = summary
    return out
