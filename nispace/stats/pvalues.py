"""Permutation p-values, null z-scores and null summaries: pure functions on arrays.

Array convention
----------------
The observed statistics ``obs`` have any shape ``S`` (for colocalizations
``(n_y, n_x)``); the null statistics ``null`` have shape ``(n_perm, *S)``: the same
statistic computed on each permutation (null map or permuted group labels).

* A NaN in ``obs`` gives a NaN p-value and z-score.
* NaN entries of ``null`` are ignored element by element: the effective number of
  permutations of an element, ``m``, is the number of its non-NaN null values (an
  element without any gives NaN).

Exact p-values
--------------
:func:`null_to_p` follows Phipson & Smyth (2010) [1]_: with ``b`` the number of null
values at least as extreme as the observed one,

.. math:: p = \\frac{1 + b}{1 + m},

which counts the observed statistic as one draw of the null, is never 0 and is a
valid (exact, slightly conservative) p-value for random permutations. ``tail``
decides what "at least as extreme" means:

``"upper"``  ``null >= obs`` (large values are evidence, e.g. R², mutual information)
``"lower"``  ``null <= obs``
``"two"``    ``|null| >= |obs|`` (for statistics whose null is centred at 0, such as
             correlations and regression coefficients; the convention of neuromaps'
             ``permtest_metric``/``compare_images`` and of NiSpace's exact p-values)

Ties count as extreme. Two statistics that are equal but for floating-point rounding
(for example the observed correlation and the same correlation computed through the
vectorised null path) must tie, so the comparison allows a relative tolerance
:data:`TIE_RTOL` ``= 1e-12``: with ``T = |obs|``, ``obs`` or ``-obs`` for tails
"two", "upper" and "lower", a null value ``t`` (transformed the same way) is extreme
when ``t >= T - 1e-12 * |obs|``. The tolerance is relative, so rescaling ``obs`` and
``null`` by the same factor never changes a p-value.

Streaming
---------
Nulls can be consumed chunk by chunk with :class:`PValueAccumulator`, which keeps
exceedance counts and running moments (Chan et al. merging [2]_) and returns the same
p-values as :func:`null_to_p` and the same z-scores as :func:`null_zscore` on the
concatenated nulls.

References
----------
.. [1] Phipson, B., & Smyth, G. K. (2010). Permutation p-values should never be zero:
   calculating exact p-values when permutations are randomly drawn. Statistical
   Applications in Genetics and Molecular Biology, 9(1), 39.
   https://doi.org/10.2202/1544-6115.1585
.. [2] Chan, T. F., Golub, G. H., & LeVeque, R. J. (1983). Algorithms for computing
   the sample variance: analysis and recommendations. The American Statistician,
   37(3), 242-247. https://doi.org/10.1080/00031305.1983.10483115
.. [3] Markello, R. D., et al. (2022). neuromaps: structural and functional
   interpretation of brain maps. Nature Methods, 19, 1472-1479.
   https://doi.org/10.1038/s41592-022-01625-w
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from .._errors import check_option, suggest
from ..errors import InputError, InputTypeError

__all__ = [
    "DEFAULT_TAILS",
    "TAILS",
    "TIE_RTOL",
    "PValueAccumulator",
    "null_summary",
    "null_to_p",
    "null_zscore",
    "pool_colocalizations",
    "resolve_pooled_p",
    "resolve_tails",
]

#: The accepted values of ``tail``.
TAILS = ("two", "upper", "lower")

#: Relative tolerance under which a null value equal to the observed one up to
#: floating-point rounding counts as a tie (and therefore as extreme).
TIE_RTOL = 1e-12

#: Default tail of each statistic returned by :func:`nispace.stats.colocalize`:
#: correlation-like and coefficient statistics are tested two-sided, variance-explained
#: and information statistics (never negative under the null) one-sided, upper.
#: Statistics not listed default to ``"two"``.
DEFAULT_TAILS: dict[str, str] = {
    **dict.fromkeys(("rho", "r", "beta", "intercept", "weight", "score_r", "z"), "two"),
    **dict.fromkeys(("r2", "r2_adj", "r2_raw", "r2_cv", "mi", "total", "individual",
                     "relative", "sum"), "upper"),
}


# --------------------------------------------------------------------------
# helpers shared with nispace.stats.correction
# --------------------------------------------------------------------------

def _check_tail(tail: object, name: str = "tail") -> str:
    check_option(name, tail, TAILS)
    return tail  # type: ignore[return-value]


def _oriented(x: np.ndarray, tail: str) -> np.ndarray:
    """The statistic turned so that larger is more extreme (NaN stays NaN)."""
    if tail == "two":
        return np.abs(x)
    return x if tail == "upper" else -x


def _threshold(obs: np.ndarray, tail: str) -> np.ndarray:
    """Oriented observed statistic minus the tie tolerance: ``t >= threshold`` is extreme."""
    return _oriented(obs, tail) - TIE_RTOL * np.abs(obs)


def _count_extreme(null: np.ndarray, thr: np.ndarray, tail: str) -> np.ndarray:
    """Per element, how many null values are extreme (``_oriented(null) >= thr``).

    Same comparison as ``_oriented(null, tail) >= thr`` (NaN compares False) without a
    float copy of the null for one-sided tails.
    """
    if tail == "upper":
        hits = null >= thr
    elif tail == "lower":
        hits = null <= -thr
    else:
        hits = np.abs(null) >= thr
    return hits.sum(axis=0)


def _as_obs_null(obs: ArrayLike, null: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    obs = np.asarray(obs, dtype=np.float64)
    null = np.asarray(null, dtype=np.float64)
    if null.ndim != obs.ndim + 1 or null.shape[1:] != obs.shape:
        raise InputError(f"null: expected shape (n_perm, *obs.shape) = (n_perm, "
                         f"{', '.join(map(str, obs.shape))}); got {null.shape}.")
    return obs, null


def _moments(null: np.ndarray):
    """Per-element count, mean, sum of squared deviations, min and max, ignoring NaN.

    Two-pass (mean first, then squared deviations) for accuracy, and the mean is
    summed as deviations from each element's first value, so a null far from 0 (say
    ``1e8 + N(0, 1)``) keeps its digits; no warnings. Elements without values have
    mean 0, M2 0, min +inf and max -inf (neutral for merging).
    """
    valid = ~np.isnan(null)
    n = valid.sum(axis=0)
    if null.shape[0] == 0:
        shape = null.shape[1:]
        return n, np.zeros(shape), np.zeros(shape), np.full(shape, np.inf), np.full(shape, -np.inf)
    shift = np.take_along_axis(null, valid.argmax(axis=0)[None], axis=0)[0]
    shift = np.where(n > 0, shift, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = shift + np.where(valid, null - shift, 0.0).sum(axis=0) / np.maximum(n, 1)
        m2 = np.where(valid, (null - mean) ** 2, 0.0).sum(axis=0)
    lo = np.where(valid, null, np.inf).min(axis=0)
    hi = np.where(valid, null, -np.inf).max(axis=0)
    return n, mean, m2, lo, hi


def _zscore_from_moments(obs, n, mean, m2, lo, hi) -> np.ndarray:
    """``(obs - mean) / sd`` with ``sd`` on ``n - 1``; NaN where ``n < 2`` or the null is constant.

    "Constant" is decided exactly (``min == max``), not by a rounding-prone variance.
    """
    bad = (n < 2) | (lo == hi) | ~np.isfinite(m2)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(m2 / np.where(bad, 1, n - 1))
        z = (obs - mean) / np.where(bad, 1.0, sd)
    return np.where(bad, np.nan, z)


def _p_from_counts(b: np.ndarray, m: np.ndarray, obs: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        p = (1.0 + b) / (1.0 + m)
    return np.where((m > 0) & ~np.isnan(obs), p, np.nan)


# --------------------------------------------------------------------------
# p-values and z-scores
# --------------------------------------------------------------------------

def null_to_p(obs: ArrayLike, null: ArrayLike, tail: str = "two") -> np.ndarray:
    """Exact permutation p-values that are never 0 (Phipson & Smyth, 2010).

    Parameters
    ----------
    obs : array_like, shape S
        Observed statistics, e.g. ``(n_y, n_x)`` colocalizations. A scalar is fine.
    null : array_like, shape ``(n_perm, *S)``
        The same statistics on each permutation. NaN values are ignored per element.
    tail : {"two", "upper", "lower"}, default "two"
        ``"upper"``: ``null >= obs`` is extreme; ``"lower"``: ``null <= obs``;
        ``"two"``: ``|null| >= |obs|`` (for statistics centred at 0 under the null,
        as in neuromaps and NiSpace). Ties (up to a relative :data:`TIE_RTOL`) count.

    Returns
    -------
    numpy.ndarray, shape S
        ``(1 + b) / (1 + m)`` with ``b`` the number of extreme null values and ``m``
        the number of non-NaN null values of the element; in ``(0, 1]``. NaN where
        ``obs`` is NaN or the element has no non-NaN null value.

    Raises
    ------
    ValueError
        ``tail`` not one of ``"two"``, ``"upper"``, ``"lower"``; ``null`` not of shape
        ``(n_perm, *obs.shape)``.

    References
    ----------
    Phipson, B., & Smyth, G. K. (2010). https://doi.org/10.2202/1544-6115.1585

    Examples
    --------
    >>> null_to_p(0.5, [0.1, -0.6, 0.2, 0.5], tail="two").item()  # |-0.6|, 0.5 tie
    0.6
    """
    tail = _check_tail(tail)
    obs, null = _as_obs_null(obs, null)
    b = _count_extreme(null, _threshold(obs, tail), tail)
    m = (~np.isnan(null)).sum(axis=0)
    return _p_from_counts(b, m, obs)


def null_zscore(obs: ArrayLike, null: ArrayLike) -> np.ndarray:
    """Standardise observed statistics by their null distribution (NiSpace's ``norm``).

    Parameters
    ----------
    obs : array_like, shape S
        Observed statistics.
    null : array_like, shape ``(n_perm, *S)``
        Null statistics; NaN values are ignored per element.

    Returns
    -------
    numpy.ndarray, shape S
        ``(obs - mean(null)) / std(null, ddof=1)`` per element; NaN where ``obs`` is
        NaN, fewer than two null values are not NaN, or the null is constant.
    """
    obs, null = _as_obs_null(obs, null)
    return _zscore_from_moments(obs, *_moments(null))


def null_summary(null: ArrayLike, percentiles: Sequence[float] = (2.5, 50, 97.5)
                 ) -> dict[str, np.ndarray]:
    """NaN-aware summary of null statistics, for plots and reports.

    Parameters
    ----------
    null : array_like, shape ``(n_perm, *S)``
        Null statistics.
    percentiles : sequence of float, default (2.5, 50, 97.5)
        Percentiles in [0, 100] (linear interpolation, as :func:`numpy.nanpercentile`).

    Returns
    -------
    dict
        ``"n"`` (S, int): non-NaN null values per element; ``"mean"`` (S) and
        ``"std"`` (S, ``ddof=1``; NaN with fewer than two values); ``"q"``
        (n_q,): the percentiles; ``"percentiles"`` (n_q, *S): their values. Elements
        without null values are NaN.
    """
    null = np.asarray(null, dtype=np.float64)
    if null.ndim < 1:
        raise InputError("null: expected an array of shape (n_perm, ...); got a scalar.")
    q = np.atleast_1d(np.asarray(percentiles, dtype=np.float64))
    if q.ndim != 1 or np.any(~np.isfinite(q)) or np.any((q < 0) | (q > 100)):
        raise InputError(f"percentiles: expected values in [0, 100]; got {percentiles!r}.")
    n, mean, m2, _, _ = _moments(null)
    with np.errstate(invalid="ignore", divide="ignore"):
        std = np.sqrt(m2 / (n - 1))
    if null.shape[0] == 0:
        values = np.full((q.size, *null.shape[1:]), np.nan)
    else:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
            values = np.nanpercentile(null, q, axis=0)
    return {"n": n, "mean": np.where(n > 0, mean, np.nan), "std": np.where(n > 1, std, np.nan),
            "q": q, "percentiles": values}


class PValueAccumulator:
    """Exact permutation p-values and null z-scores from nulls arriving in chunks.

    Keeps, per element, the number of extreme null values, the number of non-NaN
    null values and the running mean / sum of squared deviations (merged chunk by
    chunk with the pairwise update of Chan, Golub & LeVeque, 1983), so memory does
    not grow with ``n_perm``. The results equal :func:`null_to_p` (exactly) and
    :func:`null_zscore` (to rounding) on the concatenated nulls.

    Parameters
    ----------
    obs : array_like, shape S
        Observed statistics.
    tail : {"two", "upper", "lower"}, default "two"
        As in :func:`null_to_p`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> obs, null = rng.normal(size=3), rng.normal(size=(100, 3))
    >>> acc = PValueAccumulator(obs, "two")
    >>> for chunk in np.array_split(null, 4):
    ...     _ = acc.update(chunk)
    >>> bool(np.array_equal(acc.p(), null_to_p(obs, null, "two")))
    True
    """

    def __init__(self, obs: ArrayLike, tail: str = "two") -> None:
        self.tail = _check_tail(tail)
        self.obs = np.asarray(obs, dtype=np.float64)
        self._thr = _threshold(self.obs, tail)
        shape = self.obs.shape
        self._b = np.zeros(shape, dtype=np.int64)
        self._n = np.zeros(shape, dtype=np.int64)
        self._mean = np.zeros(shape)
        self._m2 = np.zeros(shape)
        self._lo = np.full(shape, np.inf)
        self._hi = np.full(shape, -np.inf)

    @property
    def n(self) -> np.ndarray:
        """Non-NaN null values seen so far per element, shape S."""
        return self._n.copy()

    def update(self, null_chunk: ArrayLike) -> PValueAccumulator:
        """Add a chunk of null statistics of shape ``(k, *S)``; returns ``self``."""
        _, chunk = _as_obs_null(self.obs, null_chunk)
        self._b += _count_extreme(chunk, self._thr, self.tail)
        n_b, mean_b, m2_b, lo_b, hi_b = _moments(chunk)
        n_a = self._n
        n = n_a + n_b
        with np.errstate(invalid="ignore", divide="ignore"):
            frac_b = np.where(n > 0, n_b / np.maximum(n, 1), 0.0)
            delta = mean_b - self._mean
            self._mean = self._mean + delta * frac_b
            self._m2 = self._m2 + m2_b + delta ** 2 * n_a * frac_b
        self._n = n
        self._lo = np.minimum(self._lo, lo_b)
        self._hi = np.maximum(self._hi, hi_b)
        return self

    def p(self) -> np.ndarray:
        """Exact p-values ``(1 + b) / (1 + m)`` so far, shape S (see :func:`null_to_p`)."""
        return _p_from_counts(self._b, self._n, self.obs)

    def z(self) -> np.ndarray:
        """Null z-scores so far, shape S (see :func:`null_zscore`)."""
        return _zscore_from_moments(self.obs, self._n, self._mean, self._m2, self._lo,
                                    self._hi)


# --------------------------------------------------------------------------
# options: tails and pooling
# --------------------------------------------------------------------------

def resolve_tails(p_tails: str | Mapping[str, str] | None, stats: Sequence[str],
                  default_tails: Mapping[str, str] = DEFAULT_TAILS) -> dict[str, str]:
    """The tail of each statistic from NiSpace's ``p_tails`` argument.

    Parameters
    ----------
    p_tails : str, dict or None
        A tail (``"two"``, ``"upper"``, ``"lower"``) for every statistic; a dict
        ``{stat: tail}`` for some statistics (the others take their default); or None
        for the defaults.
    stats : sequence of str
        The statistics that get p-values (e.g. ``["rho"]`` or ``["beta", "r2"]``).
    default_tails : mapping, default :data:`DEFAULT_TAILS`
        Default tail per statistic; statistics missing here default to ``"two"``.

    Returns
    -------
    dict of str to str
        ``{stat: tail}`` for every statistic in ``stats``, in order.

    Raises
    ------
    ValueError
        A tail that is not one of :data:`TAILS`, or a dict naming a statistic that is
        not in ``stats``.
    TypeError
        ``p_tails`` of another type.
    """
    stats = list(stats)
    out = {s: default_tails.get(s, "two") for s in stats}
    if p_tails is None:
        return out
    if isinstance(p_tails, str):
        _check_tail(p_tails, "p_tails")
        return dict.fromkeys(stats, p_tails)
    if isinstance(p_tails, Mapping):
        for stat, tail in p_tails.items():
            if stat not in out:
                hint = suggest(stat, stats) if isinstance(stat, str) else ""
                raise InputError(f"p_tails: got a tail for statistic {stat!r}, which is not "
                                 f"tested here; the statistics are {stats}.{hint}")
            out[stat] = _check_tail(tail, f"p_tails[{stat!r}]")
        return out
    raise InputTypeError(f"p_tails: expected None, one of {list(TAILS)} or a dict "
                         f"{{statistic: tail}}; got {type(p_tails).__name__}.")


def resolve_pooled_p(pooled_p: bool | str | None, n_y: int) -> bool | str:
    """NiSpace's ``pooled_p`` semantics: ``False``, ``"mean"`` or ``"median"``.

    Parameters
    ----------
    pooled_p : bool, {"mean", "median", "auto"} or None
        ``False``/``None``: one p-value per (Y map, X map) pair; ``True``: same as
        ``"mean"``; ``"mean"``/``"median"``: pool the colocalizations over the Y maps
        (see :func:`pool_colocalizations`) and get one p-value per X map; ``"auto"``:
        ``False`` for a single Y map, ``"mean"`` otherwise.
    n_y : int
        Number of Y maps.

    Returns
    -------
    False, "mean" or "median"

    Raises
    ------
    ValueError
        Any other value of ``pooled_p``.
    """
    if pooled_p is None or pooled_p is False or pooled_p is np.False_:
        return False
    if pooled_p is True or pooled_p is np.True_:
        return "mean"
    if isinstance(pooled_p, str):
        if pooled_p == "auto":
            return False if n_y == 1 else "mean"
        if pooled_p in ("mean", "median"):
            return pooled_p
    hint = suggest(pooled_p, ("mean", "median", "auto")) if isinstance(pooled_p, str) else ""
    raise InputError(f"pooled_p: expected False, None, True, 'mean', 'median' or 'auto'; "
                     f"got {pooled_p!r}.{hint}")


def pool_colocalizations(values: ArrayLike, how: str) -> np.ndarray:
    """Pool colocalizations over the Y maps (NiSpace's ``pooled_p``).

    Parameters
    ----------
    values : array_like, shape (..., n_y, n_x)
        Observed ``(n_y, n_x)`` or null ``(n_perm, n_y, n_x)`` colocalizations.
        Statistics of shape ``(n_y,)`` (whole models) go in as ``(n_y, 1)``.
    how : {"mean", "median"}
        Pooling function; NaN values are ignored (a column without values gives NaN).

    Returns
    -------
    numpy.ndarray, shape (..., 1, n_x)
        The pooled values, keeping the Y axis so that the result is again a
        ``(..., n_y, n_x)`` array, with ``n_y = 1``.
    """
    check_option("how", how, ("mean", "median"))
    values = np.asarray(values, dtype=np.float64)
    if values.ndim < 2:
        raise InputError(f"values: expected shape (..., n_y, n_x); got {values.shape}.")
    func = np.nanmean if how == "mean" else np.nanmedian
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "(Mean of empty slice|All-NaN slice)",
                                RuntimeWarning)
        return func(values, axis=-2, keepdims=True)
