"""Reduce reference maps X to fewer maps: averages, per-set averages, components.

Pure function on NumPy arrays (no pandas, no I/O, no logging), the core of
NiSpace's ``reduce_x``.

- ``"mean"`` / ``"median"``: one map averaging all maps, or one map per set
  when ``sets`` labels are given (e.g. genes grouped by cell type), in the
  order the sets first appear. ``weights`` gives a weighted mean.
- ``"pca"``, ``"ica"``, ``"fa"``: principal component analysis [1]_,
  independent component analysis (FastICA) [2]_ or factor analysis [3]_, with
  parcels as samples and maps as features (the estimator is fitted on
  ``X.T``), on all maps or, with ``sets``, on the maps of each set separately.
  The returned component maps are the component scores of every parcel,
  ``(n_components, n_parcels)``, i.e. new maps that summarise the spatial
  patterns shared by the input maps; the loadings say how much each input map
  contributes to each component.

References
----------
.. [1] Jolliffe, I. T. (2002). Principal Component Analysis (2nd ed.).
   Springer. https://doi.org/10.1007/b98835
.. [2] Hyvarinen, A., & Oja, E. (2000). Independent component analysis:
   algorithms and applications. Neural Networks, 13(4-5), 411-430.
   https://doi.org/10.1016/S0893-6080(00)00026-5
.. [3] Harman, H. H., & Jones, W. H. (1966). Factor analysis by minimizing
   residuals (minres). Psychometrika, 31(3), 351-368.
   https://doi.org/10.1007/BF02289468 (NiSpace's default extraction; see
   :mod:`nispace.stats.factor`).
.. [4] Hendrickson, A. E., & White, P. O. (1964). Promax: a quick method for
   rotation to oblique simple structure. British Journal of Statistical
   Psychology, 17(1), 65-70. https://doi.org/10.1111/j.2044-8317.1964.tb00244.x
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ..errors import DataError, InputError, InputTypeError
from .factor import ROTATIONS, count_factors, factor_analysis

__all__ = ["reduce_x", "ReducedX", "REDUCE_METHODS", "FA_METHODS", "FA_ROTATIONS"]

#: Valid values of ``method``.
REDUCE_METHODS: tuple[str, ...] = ("mean", "median", "pca", "ica", "fa")
#: Valid values of ``fa_method`` (factor extraction, as in the factor_analyzer package).
FA_METHODS: tuple[str, ...] = ("minres", "ml", "principal")
#: Valid values of ``fa_rotation`` (None: unrotated).
FA_ROTATIONS: tuple[str | None, ...] = ROTATIONS
#: Rotations of ``fa_method="ml"`` (scikit-learn's FactorAnalysis).
_ML_ROTATIONS: tuple[str | None, ...] = (None, "varimax", "quartimax")


class ReducedX(NamedTuple):
    """Result of :func:`reduce_x`; unpacks as ``maps, labels, explained_variance,
    loadings, sets``.

    Attributes
    ----------
    maps : numpy.ndarray of shape (n_out, n_parcels)
        Reduced maps (averages, or component scores across parcels).
    labels : list of str, length n_out
        ``["mean"]`` / ``["median"]``, the set labels, or the component names
        ``"c0"``, ``"c1"``, ... (NiSpace's names; per set they restart at
        ``"c0"`` in every set).
    explained_variance : numpy.ndarray of shape (n_out,) or None
        Fraction of the total variance of the (valid-parcel) input maps (of
        the set) explained by each component: PCA's explained variance ratio;
        for FA the sum of squared loadings of each factor divided by the total
        variance (the number of maps for minres/principal on z-scored maps:
        factor_analyzer's "proportion variance"). ``None`` for
        ``"ica"`` (components are not ordered by variance), ``"mean"`` and
        ``"median"``.
    loadings : numpy.ndarray of shape (n_maps, n_out) or None
        PCA and ICA: Pearson correlation of each input map with each component
        map (over the valid parcels); FA: the factor loadings of the
        estimator. Per set, entries of maps outside a component's set are NaN.
        ``None`` for ``"mean"`` and ``"median"``.
    sets : list or None
        Per-set component results: the set of each output map; else None.
    """

    maps: np.ndarray
    labels: list[str]
    explained_variance: np.ndarray | None
    loadings: np.ndarray | None = None
    sets: list | None = None


def _check_method(method: str) -> str:
    if not isinstance(method, str) or method.lower() not in REDUCE_METHODS:
        raise InputError(f"method: expected one of {list(REDUCE_METHODS)}; got {method!r}.")
    return method.lower()


def _weighted_nanmean(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    valid = ~np.isnan(X)
    wv = np.where(valid, w[:, None], 0.0)
    den = wv.sum(axis=0)
    num = (np.where(valid, X, 0.0) * wv).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)


def _average(X: np.ndarray, method: str, w: np.ndarray | None) -> np.ndarray:
    if method == "median":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
            return np.nanmedian(X, axis=0)
    return _weighted_nanmean(X, np.ones(X.shape[0]) if w is None else w)


def _seed_int(seed: int | np.random.Generator | None) -> int | None:
    if seed is None or isinstance(seed, (int, np.integer)):
        return None if seed is None else int(seed)
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**31 - 1))
    raise InputTypeError(f"seed: expected None, an int or a numpy Generator; "
                         f"got {type(seed).__name__}.")


def reduce_x(X: ArrayLike, method: str, sets: ArrayLike | None = None,
             weights: ArrayLike | None = None, n_components: int | None = None,
             seed: int | np.random.Generator | None = None, *, min_ev: float | None = None,
             fa_method: str = "minres", fa_rotation: str | None = "promax",
             estimator_kwargs: dict[str, Any] | None = None) -> ReducedX:
    """Reduce reference maps to averaged maps or component maps.

    Parameters
    ----------
    X : array-like of shape (n_maps, n_parcels)
        Reference maps, maps in rows. For ``"pca"``/``"fa"`` the maps are
        usually z-scored first (NiSpace z-scores X at ``fit``) so that no map
        dominates through its scale.
    method : {"mean", "median", "pca", "ica", "fa"}
        Reduction.
    sets : array-like of shape (n_maps,), optional
        Set label of each map. ``"mean"``/``"median"`` give one output map per
        set; ``"pca"``/``"ica"``/``"fa"`` reduce the maps of every set on their
        own (``n_components`` or ``min_ev`` per set). Sets keep the order of
        their first appearance.
    weights : array-like of shape (n_maps,), optional
        Non-negative weight of each map for ``"mean"`` (a weighted mean, per
        set if `sets` is given). Not used by the other methods.
    n_components : int, optional
        Number of components (per set) for ``"pca"``, ``"ica"``, ``"fa"``.
        Default: as many as the data allow (``min(n_maps, n_valid_parcels)``
        for PCA, ``n_maps`` for ICA and ML factor analysis; for minres and
        principal FA the factors with non-zero loadings in the unrotated
        solution with ``n_maps`` factors, at most ``n_maps``), unless `min_ev`
        is given.
    seed : int or numpy.random.Generator, optional
        Seed for the ``random_state`` of ICA and of scikit-learn's ML factor
        analysis (PCA and the minres/principal FA are deterministic and need
        none); fixed seeds give identical results.
    min_ev : float in (0, 1], optional
        ``"pca"``/``"fa"`` only, instead of `n_components`: keep the smallest
        number of components whose explained variances add up to at least
        `min_ev` (for FA judged on the unrotated solution with all factors;
        for minres/principal only the factors with non-zero loadings count).
        When even all components explain less, all are kept.
    fa_method : {"minres", "ml", "principal"}
        Factor extraction of ``"fa"``: minimum residuals, maximum likelihood or
        principal factors (NiSpace's default ``"minres"``).
    fa_rotation : str or None
        Rotation of the ``"fa"`` factors, one of :data:`FA_ROTATIONS` (default
        ``"promax"``, oblique [4]_; None: unrotated). ``"minres"`` and
        ``"principal"`` run nispace's own factor analysis
        (:func:`nispace.stats.factor.factor_analysis`, which reproduces the
        ``factor_analyzer`` package and R's ``psych::fa``) with any rotation;
        their loadings are on the correlation scale, their explained variance
        is the sum of squared loadings over the number of maps and the maps
        are regression factor scores. ``fa_method="ml"`` runs scikit-learn's
        ``FactorAnalysis`` and rotates only with None, ``"varimax"`` or
        ``"quartimax"``.
    estimator_kwargs : dict, optional
        Extra arguments for the estimator (``PCA``, ``FastICA`` or, for
        ``fa_method="ml"``, ``FactorAnalysis``); not accepted by
        ``"minres"``/``"principal"``.

    Returns
    -------
    ReducedX
        ``(maps, labels, explained_variance, loadings, sets)`` as a named
        tuple: ``maps`` is ``(n_out, n_parcels)``; see :class:`ReducedX`.

    Notes
    -----
    NaN handling: ``"mean"``/``"median"`` ignore NaN per parcel (a parcel
    that is NaN in every map of a set is NaN). The component methods drop
    every parcel that is NaN in any map (of the set) before fitting and put NaN
    back at those parcels. Component signs are arbitrary (PCA follows
    scikit-learn's deterministic sign convention).

    Raises
    ------
    ValueError
        For an unknown `method`, mismatched `sets`/`weights` lengths,
        negative or all-zero weights, arguments that do not apply to the
        method, or an invalid `n_components`/`min_ev`.
    nispace.errors.DataError
        For fewer than 2 parcels without NaN, or a constant map in an FA.
    """
    method = _check_method(method)
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputTypeError(f"X: expected a numeric array of shape (n_maps, n_parcels); "
                             f"got {type(X).__name__}.") from None
    if X.ndim != 2:
        raise InputError(f"X: expected a 2-D array of shape (n_maps, n_parcels); "
                         f"got shape {X.shape}.")
    n_maps, n_parcels = X.shape
    if n_maps == 0:
        raise InputError("X: expected at least one map (row); got 0.")
    labels_in = None
    if sets is not None:
        labels_in = np.asarray(sets, dtype=object).ravel().tolist()
        if len(labels_in) != n_maps:
            raise InputError(f"sets: expected one set label per map ({n_maps}); "
                             f"got {len(labels_in)}.")
    if min_ev is not None and method not in ("pca", "fa"):
        raise InputError(f"min_ev: only used by 'pca' and 'fa'; got {min_ev!r} with "
                         f"method={method!r}.")

    if method in ("mean", "median"):
        return _averages(X, method, labels_in, weights, n_components)

    if weights is not None:
        raise InputError(f"weights: not used by method={method!r}; pass None "
                         f"(weights apply to 'mean').")
    if min_ev is not None:
        if n_components is not None:
            raise InputError(f"n_components, min_ev: give one of them; got "
                             f"n_components={n_components!r} and min_ev={min_ev!r}.")
        if isinstance(min_ev, bool) or not isinstance(min_ev, (int, float, np.number)) \
                or not 0 < float(min_ev) <= 1:
            raise InputError(f"min_ev: expected a fraction of variance in (0, 1]; "
                             f"got {min_ev!r}.")
    if method == "fa":
        fa_method = _check_fa(fa_method, fa_rotation)
    options = dict(n_components=n_components, min_ev=min_ev, seed=_seed_int(seed),
                   fa_method=fa_method, fa_rotation=fa_rotation,
                   kwargs=dict(estimator_kwargs or {}))
    if labels_in is None:
        maps, ev, loadings = _components(X, method, **options)
        return ReducedX(maps, [f"c{i}" for i in range(len(maps))], ev, loadings, None)

    maps_l, ev_l, names, out_sets = [], [], [], []
    loadings = np.full((n_maps, 0), np.nan)
    for s in dict.fromkeys(labels_in):
        idx = np.array([lab == s for lab in labels_in])
        try:
            maps, ev, load = _components(X[idx], method, **options)
        except (InputError, DataError) as err:
            raise type(err)(f"{str(err).rstrip('.')}, in set {s!r} ({int(idx.sum())} "
                            f"maps).") from err
        block = np.full((n_maps, len(maps)), np.nan)
        block[idx] = load
        loadings = np.hstack([loadings, block])
        maps_l.append(maps)
        ev_l.append(ev)
        names += [f"c{i}" for i in range(len(maps))]
        out_sets += [s] * len(maps)
    explained = None if method == "ica" else np.concatenate(ev_l)
    return ReducedX(np.vstack(maps_l), names, explained, loadings, out_sets)


def _averages(X: np.ndarray, method: str, labels_in: list | None, weights,
              n_components) -> ReducedX:
    n_maps = X.shape[0]
    if n_components is not None:
        raise InputError(f"n_components: only used by 'pca', 'ica' and 'fa'; got "
                         f"{n_components!r} with method={method!r}.")
    w = None
    if weights is not None:
        if method != "mean":
            raise InputError(f"weights: only supported with method='mean'; got "
                             f"method={method!r}.")
        w = np.asarray(weights, dtype=np.float64).ravel()
        if w.size != n_maps:
            raise InputError(f"weights: expected one weight per map ({n_maps}); "
                             f"got {w.size}.")
        if not np.all(np.isfinite(w)) or (w < 0).any():
            raise InputError("weights: expected finite, non-negative weights; got "
                             f"min {np.nanmin(w)!r} and {int((~np.isfinite(w)).sum())} "
                             f"non-finite.")
    if labels_in is None:
        if w is not None and w.sum() == 0:
            raise InputError("weights: all weights are zero.")
        return ReducedX(_average(X, method, w)[None, :], [method], None)
    rows, names = [], []
    for s in dict.fromkeys(labels_in):
        idx = np.array([lab == s for lab in labels_in])
        ws = None if w is None else w[idx]
        if ws is not None and ws.sum() == 0:
            raise InputError(f"weights: all weights of set {s!r} are zero.")
        rows.append(_average(X[idx], method, ws))
        names.append(str(s))
    return ReducedX(np.vstack(rows), names, None)


def _check_fa(fa_method, fa_rotation) -> str:
    if not isinstance(fa_method, str) or fa_method.lower() not in FA_METHODS:
        raise InputError(f"fa_method: expected one of {list(FA_METHODS)}; got {fa_method!r}.")
    if fa_rotation not in FA_ROTATIONS:
        raise InputError(f"fa_rotation: expected one of {list(FA_ROTATIONS)}; "
                         f"got {fa_rotation!r}.")
    if fa_method.lower() == "ml" and fa_rotation not in _ML_ROTATIONS:
        raise InputError(f"fa_rotation: fa_method='ml' (scikit-learn's FactorAnalysis) "
                         f"rotates with one of {list(_ML_ROTATIONS)}; got {fa_rotation!r}. "
                         f"For an oblique rotation use fa_method='minres' or 'principal'.")
    return fa_method.lower()


def _correlations(data: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Pearson correlations (n_maps, n_components) of data columns with score columns."""
    def z(a):
        sd = a.std(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (a - a.mean(axis=0)) / np.where(sd > 0, sd, np.nan)

    return z(data).T @ z(scores) / data.shape[0]


def _n_for_min_ev(ev: np.ndarray, min_ev: float) -> int:
    """Smallest number of leading components with a cumulative variance >= min_ev (all
    when none reaches it)."""
    reached = np.nonzero(np.cumsum(ev) >= min_ev - 1e-12)[0]
    return int(reached[0]) + 1 if reached.size else len(ev)


def _components(X: np.ndarray, method: str, n_components, min_ev, seed, fa_method,
                fa_rotation, kwargs) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Component maps (k, n_parcels), explained variance (k,) or None, loadings
    (n_maps, k) of one block of maps."""
    n_maps, n_parcels = X.shape
    valid = ~np.isnan(X).any(axis=0)
    data = X[:, valid].T  # (n_valid_parcels, n_maps): parcels are samples
    n_valid = data.shape[0]
    max_comp = min(n_maps, n_valid) if method == "pca" else n_maps
    if n_components is not None and (
            not isinstance(n_components, (int, np.integer)) or isinstance(n_components, bool)
            or not 1 <= n_components <= max_comp):
        raise InputError(f"n_components: expected an integer between 1 and {max_comp} for "
                         f"method={method!r} with {n_maps} maps and {n_valid} valid "
                         f"parcels; got {n_components!r}.")
    if n_valid < 2:
        raise DataError(f"X: {method} needs at least 2 parcels without NaN; got {n_valid}.")
    k = max_comp if n_components is None else int(n_components)

    from sklearn.decomposition import PCA, FastICA

    ev: np.ndarray | None
    if method == "pca":
        est = PCA(n_components=max_comp, svd_solver="full", **kwargs)
        scores = est.fit_transform(data)
        ev = np.asarray(est.explained_variance_ratio_, dtype=np.float64)
        if min_ev is not None:
            k = _n_for_min_ev(ev, min_ev)
        scores, ev = scores[:, :k], ev[:k]
        loadings = _correlations(data, scores)
    elif method == "ica":
        kw = {"max_iter": 1000, **kwargs}
        scores = FastICA(n_components=k, random_state=seed, **kw).fit_transform(data)
        ev, loadings = None, _correlations(data, scores)
    else:
        if min_ev is not None or (n_components is None and fa_method != "ml"):
            # judged on the unrotated solution with all factors; minres/principal keep at
            # most the factors with non-zero loadings (the others cannot be rotated)
            _, ev_all, full = _factor_analysis(data, max_comp, seed, fa_method, None, kwargs)
            if fa_method != "ml":
                ev_all = ev_all[:count_factors(full)]
            k = len(ev_all) if min_ev is None else _n_for_min_ev(ev_all, min_ev)
        scores, ev, loadings = _factor_analysis(data, k, seed, fa_method, fa_rotation, kwargs)

    maps = np.full((scores.shape[1], n_parcels), np.nan)
    maps[:, valid] = scores.T
    return maps, ev, loadings


def _factor_analysis(data: np.ndarray, k: int, seed, fa_method: str, fa_rotation,
                     kwargs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores (n_samples, k), proportion of variance (k,), loadings (n_maps, k)."""
    if fa_method == "ml":
        from sklearn.decomposition import FactorAnalysis

        est = FactorAnalysis(n_components=k, rotation=fa_rotation, random_state=seed,
                             **kwargs)
        scores = est.fit_transform(data)
        loadings = est.components_.T
        return scores, (loadings ** 2).sum(axis=0) / np.var(data, axis=0).sum(), loadings
    if kwargs:
        raise InputError(f"estimator_kwargs: not used by fa_method={fa_method!r} (nispace's "
                         f"own factor analysis); got {sorted(kwargs)}.")
    if np.any(np.ptp(data, axis=0) == 0):
        raise DataError("X: factor analysis needs maps that vary across the valid parcels; "
                        "got a constant map.")
    fa = factor_analysis(data, k, method=fa_method, rotation=fa_rotation)
    return fa.scores, fa.explained_variance, fa.loadings
