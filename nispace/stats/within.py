"""Correlations across subjects within each parcel (NiSpace's ``correlate_within_region``).

For subject data ``x`` and ``y`` (``(n_subjects, n_parcels)``; one side may be a
covariate, ``(n_subjects,)``), the statistic of parcel ``p`` is the correlation of
``x[:, p]`` and ``y[:, p]`` across subjects. The null re-pairs the subjects: one
permutation of the rows of ``x`` is applied to all parcels, which keeps the spatial
dependence among parcels for max-T corrections and the omnibus statistics.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError
from .pvalues import null_to_p

__all__ = ["WITHIN_REGION_METHODS", "OMNIBUS_STATS", "within_region_correlations",
           "within_region_omnibus"]

#: correlation methods of :func:`within_region_correlations`
WITHIN_REGION_METHODS = ("pearson", "spearman")
#: omnibus statistics of :func:`within_region_omnibus`
OMNIBUS_STATS = ("rho", "absrho", "rho2")


def _standardized(a: np.ndarray, method: str) -> np.ndarray:
    from scipy.stats import rankdata

    if method == "spearman":
        a = np.where(np.isnan(a), np.nan, rankdata(a, axis=0, nan_policy="omit"))
    sd = a.std(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a - a.mean(axis=0)) / np.where(sd > 0, sd, np.nan)


def within_region_correlations(x: ArrayLike, y: ArrayLike, method: str = "pearson",
                               n_perm: int = 1000,
                               rng: np.random.Generator | None = None
                               ) -> tuple[np.ndarray, np.ndarray]:
    """Per-parcel correlation across subjects and its subject re-pairing null.

    Parameters
    ----------
    x, y : array_like, shape (n_subjects, n_parcels) or (n_subjects,)
        Subject data, rows paired; a 1D side is a covariate (e.g. age, or a 0/1
        group vector: the point-biserial r, equivalent to a t-test), correlated with
        every parcel of the other side. A parcel with a NaN or without variance
        gives NaN.
    method : {"pearson", "spearman"}
        Spearman ranks each parcel across subjects first.
    n_perm : int
        Number of re-pairings.
    rng : numpy.random.Generator, optional
        Source of the permutations.

    Returns
    -------
    r : numpy.ndarray, shape (n_parcels,)
        Observed correlations.
    null : numpy.ndarray, shape (n_perm, n_parcels)
        The correlations after each permutation of the rows of ``x`` (the same for
        every parcel).
    """
    if method not in WITHIN_REGION_METHODS:
        raise InputError(f"method: expected one of {list(WITHIN_REGION_METHODS)}; got "
                         f"{method!r}.")
    x, y = np.asarray(x, float), np.asarray(y, float)
    x, y = (x[:, None] if x.ndim == 1 else x), (y[:, None] if y.ndim == 1 else y)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise InputError(f"x, y: expected (n_subjects, n_parcels) or (n_subjects,) with the "
                         f"same subjects; got shapes {x.shape} and {y.shape}.")
    if len(x) < 3:
        raise InputError(f"x, y: expected at least 3 subjects; got {len(x)}.")
    zx, zy = _standardized(x, method), _standardized(y, method)
    rng = np.random.default_rng() if rng is None else rng
    r = (zx * zy).mean(axis=0)
    null = np.stack([(zx[rng.permutation(len(zx))] * zy).mean(axis=0)
                     for _ in range(n_perm)])
    return r, null


def _omnibus_stat(r: np.ndarray, stat: str) -> np.ndarray:
    if stat == "rho":  # mean on Fisher's z scale
        return np.nanmean(np.arctanh(np.clip(r, -1 + 1e-12, 1 - 1e-12)), axis=-1)
    return np.nanmean(np.abs(r) if stat == "absrho" else r ** 2, axis=-1)


def within_region_omnibus(r: ArrayLike, null: ArrayLike, stat: str = "absrho"
                          ) -> tuple[float, float]:
    """One statistic over all parcels and its permutation p-value.

    Parameters
    ----------
    r : array_like, shape (n_parcels,)
        Observed per-parcel correlations.
    null : array_like, shape (n_perm, n_parcels)
        Their null (from :func:`within_region_correlations`).
    stat : {"rho", "absrho", "rho2"}
        ``"rho"``: mean Fisher z (two-sided test); ``"absrho"``: mean ``|r|``;
        ``"rho2"``: mean ``r**2`` (both upper-tailed).

    Returns
    -------
    stat : float
    p : float
    """
    if stat not in OMNIBUS_STATS:
        raise InputError(f"omnibus_stat: expected one of {list(OMNIBUS_STATS)}; got "
                         f"{stat!r}.")
    obs = _omnibus_stat(np.asarray(r, float), stat)
    dist = _omnibus_stat(np.asarray(null, float), stat)
    p = null_to_p(obs, dist, tail="two" if stat == "rho" else "upper")
    return float(obs), float(p)
