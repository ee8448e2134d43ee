"""Reduce reference maps X to fewer maps: averages, per-set averages, components.

Pure function on NumPy arrays (no pandas, no I/O, no logging), the core of
NiSpace's ``reduce_x``.

- ``"mean"`` / ``"median"``: one map averaging all maps, or one map per set
  when ``sets`` labels are given (e.g. genes grouped by cell type), in the
  order the sets first appear. ``weights`` gives a weighted mean.
- ``"pca"``, ``"ica"``, ``"fa"``: principal component analysis [1]_,
  independent component analysis (FastICA) [2]_ or factor analysis [3]_ from
  scikit-learn, with parcels as samples and maps as features (the estimator
  is fitted on ``X.T``). The returned component maps are the component
  scores of every parcel, ``(n_components, n_parcels)``, i.e. new maps that
  summarise the spatial patterns shared by the input maps.

References
----------
.. [1] Jolliffe, I. T. (2002). Principal Component Analysis (2nd ed.).
   Springer. https://doi.org/10.1007/b98835
.. [2] Hyvarinen, A., & Oja, E. (2000). Independent component analysis:
   algorithms and applications. Neural Networks, 13(4-5), 411-430.
   https://doi.org/10.1016/S0893-6080(00)00026-5
.. [3] Bishop, C. M. (2006). Pattern Recognition and Machine Learning.
   Springer, section 12.2.4 (factor analysis).
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ..errors import DataError, InputError, InputTypeError

__all__ = ["reduce_x", "ReducedX", "REDUCE_METHODS"]

#: Valid values of ``method``.
REDUCE_METHODS: tuple[str, ...] = ("mean", "median", "pca", "ica", "fa")


class ReducedX(NamedTuple):
    """Result of :func:`reduce_x`; unpacks as ``maps, labels, explained_variance``.

    Attributes
    ----------
    maps : numpy.ndarray of shape (n_out, n_parcels)
        Reduced maps (averages, or component scores across parcels).
    labels : list of str, length n_out
        ``["mean"]`` / ``["median"]``, the set labels, or ``"pca1"``,
        ``"pca2"``, ... / ``"ica1"``, ... / ``"fa1"``, ...
    explained_variance : numpy.ndarray of shape (n_out,) or None
        Fraction of the total variance of the (valid-parcel) input maps
        explained by each component: ``explained_variance_ratio_`` for PCA;
        for FA the sum of squared loadings of each factor divided by the
        total variance. ``None`` for ``"ica"`` (components are not ordered by
        variance), ``"mean"`` and ``"median"``.
    """

    maps: np.ndarray
    labels: list[str]
    explained_variance: np.ndarray | None


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
             seed: int | np.random.Generator | None = None, *,
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
        Set label of each map; with ``"mean"``/``"median"`` gives one output
        map per set, in order of first appearance. Not used by the component
        methods.
    weights : array-like of shape (n_maps,), optional
        Non-negative weight of each map for ``"mean"`` (a weighted mean, per
        set if `sets` is given). Not used by the other methods.
    n_components : int, optional
        Number of components for ``"pca"``, ``"ica"``, ``"fa"``. Default: as
        many as the data allow (``min(n_maps, n_valid_parcels)`` for PCA,
        ``n_maps`` for ICA and FA).
    seed : int or numpy.random.Generator, optional
        Seed for the ``random_state`` of ICA and FA (and PCA's randomized
        solver, if chosen); fixed seeds give identical results.
    estimator_kwargs : dict, optional
        Extra arguments for the scikit-learn estimator (``PCA``,
        ``FastICA``, ``FactorAnalysis``), e.g. ``{"rotation": "varimax"}``
        for FA.

    Returns
    -------
    ReducedX
        ``(maps, labels, explained_variance)`` as a named tuple:
        ``maps`` is ``(n_out, n_parcels)``; see :class:`ReducedX`.

    Notes
    -----
    NaN handling: ``"mean"``/``"median"`` ignore NaN per parcel (a parcel
    that is NaN in every map of a set is NaN). The component methods drop
    every parcel that is NaN in any map before fitting and put NaN back at
    those parcels. Component signs are arbitrary (PCA follows scikit-learn's
    deterministic sign convention).

    Raises
    ------
    ValueError
        For an unknown `method`, mismatched `sets`/`weights` lengths,
        negative or all-zero weights, arguments that do not apply to the
        method, or an invalid `n_components`.
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

    if method in ("mean", "median"):
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
        if sets is None:
            if w is not None and w.sum() == 0:
                raise InputError("weights: all weights are zero.")
            return ReducedX(_average(X, method, w)[None, :], [method], None)
        labels_in = np.asarray(sets, dtype=object).ravel().tolist()
        if len(labels_in) != n_maps:
            raise InputError(f"sets: expected one set label per map ({n_maps}); "
                             f"got {len(labels_in)}.")
        order = list(dict.fromkeys(labels_in))
        rows, names = [], []
        for s in order:
            idx = np.array([lab == s for lab in labels_in])
            ws = None if w is None else w[idx]
            if ws is not None and ws.sum() == 0:
                raise InputError(f"weights: all weights of set {s!r} are zero.")
            rows.append(_average(X[idx], method, ws))
            names.append(str(s))
        return ReducedX(np.vstack(rows), names, None)

    # component methods
    for name, value in (("sets", sets), ("weights", weights)):
        if value is not None:
            raise InputError(f"{name}: not used by method={method!r}; pass None "
                             f"(sets/weights apply to 'mean'/'median').")
    valid = ~np.isnan(X).any(axis=0)
    data = X[:, valid].T  # (n_valid_parcels, n_maps): parcels are samples
    n_valid = data.shape[0]
    max_comp = min(n_maps, n_valid) if method == "pca" else n_maps
    if n_components is None:
        n_components = max_comp
    if (not isinstance(n_components, (int, np.integer)) or isinstance(n_components, bool)
            or not 1 <= n_components <= max_comp):
        raise InputError(f"n_components: expected an integer between 1 and {max_comp} for "
                         f"method={method!r} with {n_maps} maps and {n_valid} valid "
                         f"parcels; got {n_components!r}.")
    if n_valid < 2:
        raise DataError(f"X: {method} needs at least 2 parcels without NaN; got {n_valid}.")
    random_state = _seed_int(seed)
    kwargs = dict(estimator_kwargs or {})

    from sklearn.decomposition import PCA, FactorAnalysis, FastICA

    explained: np.ndarray | None
    if method == "pca":
        est = PCA(n_components=int(n_components), random_state=random_state, **kwargs)
        scores = est.fit_transform(data)
        explained = np.asarray(est.explained_variance_ratio_, dtype=np.float64)
    elif method == "ica":
        kwargs.setdefault("max_iter", 1000)
        est = FastICA(n_components=int(n_components), random_state=random_state, **kwargs)
        scores = est.fit_transform(data)
        explained = None
    else:
        est = FactorAnalysis(n_components=int(n_components), random_state=random_state,
                             **kwargs)
        scores = est.fit_transform(data)
        total = np.var(data, axis=0, ddof=0).sum()
        explained = (est.components_ ** 2).sum(axis=1) / total

    maps = np.full((int(n_components), n_parcels), np.nan)
    maps[:, valid] = scores.T
    labels = [f"{method}{i + 1}" for i in range(int(n_components))]
    return ReducedX(maps, labels, explained)
