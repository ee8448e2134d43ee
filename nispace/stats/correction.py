"""Multiple-comparison corrections of colocalization p-values: pure functions on arrays.

:func:`correct_p` corrects a ``(n_y, n_x)`` array of p-values over families chosen by
``mc_dimension`` (NiSpace's semantics):

``"x"`` (default)  across the X (reference) maps within each Y map: a family is a row
``"y"``            across the Y (target) maps within each X map: a family is a column
``"array"``        all elements together: one family

NaN p-values stay NaN and are left out of their family (a family of 3 valid p-values
is corrected as 3 tests). The methods (:data:`MC_METHODS`, case-insensitive, with the
aliases of :func:`canonical_mc_method`) are

* every p-value adjustment of :func:`statsmodels.stats.multitest.multipletests`
  (``bonferroni``, ``sidak``, ``holm-sidak``, ``holm``, ``simes-hochberg``,
  ``hommel``, ``fdr_bh``, ``fdr_by``, ``fdr_tsbh``, ``fdr_tsbky``, ``fdr_gbs``),
  called on each family and identical to it;
* ``meffgalwey`` / ``meffliji`` (``meff`` is Galwey): the Šidák correction with the
  *effective* number of tests ``Meff`` of the family, estimated from the eigenvalues
  of the correlation matrix of the tested maps ([1]_, [2]_, see :func:`meff`):
  ``p_corr = 1 - (1 - p) ** Meff``, never below ``p``. ``Meff`` belongs to the tested
  *maps*, so the caller passes the correlation matrix among the X maps (``corr_x``,
  for ``"x"``), among the Y maps (``corr_y``, for ``"y"``) or both (``"array"``).
  For ``"array"`` the family of ``n_y * n_x`` tests is given the separable correlation
  ``corr_y ⊗ corr_x`` (Kronecker product), whose eigenvalues are the products
  ``λ_i μ_j``; for Galwey's estimator this makes ``Meff = Meff(corr_y) * Meff(corr_x)``
  exactly, the effective number of tests of a product family;
* ``maxt`` / ``step_maxt``: Westfall & Young's (1993) [3]_ permutation
  family-wise error control from the null statistics, single-step max-T or step-down
  (see :func:`westfall_young`). They need the observed statistics ``obs``, the null
  statistics ``null`` and the ``tail`` used for the raw p-values.

References
----------
.. [1] Galwey, N. W. (2009). A new measure of the effective number of tests, a
   practical tool for comparing families of non-independent significance tests.
   Genetic Epidemiology, 33(7), 559-568. https://doi.org/10.1002/gepi.20408
.. [2] Li, J., & Ji, L. (2005). Adjusting multiple testing in multilocus analyses
   using the eigenvalues of a correlation matrix. Heredity, 95(3), 221-227.
   https://doi.org/10.1038/sj.hdy.6800717
.. [3] Westfall, P. H., & Young, S. S. (1993). Resampling-Based Multiple Testing:
   Examples and Methods for p-Value Adjustment. Wiley. Algorithms 2.5 (single-step)
   and 2.8 (step-down max-T).
.. [4] Šidák, Z. (1967). Rectangular confidence regions for the means of multivariate
   normal distributions. Journal of the American Statistical Association, 62(318),
   626-633. https://doi.org/10.1080/01621459.1967.10482935
.. [5] Seabold, S., & Perktold, J. (2010). statsmodels: econometric and statistical
   modeling with Python. Proceedings of the 9th Python in Science Conference.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._errors import check_option, suggest
from ..errors import InputError
from .pvalues import _as_obs_null, _check_tail, _oriented, _threshold

__all__ = [
    "MC_DIMENSIONS",
    "MC_METHODS",
    "canonical_mc_method",
    "correct_p",
    "meff",
    "meff_sidak",
    "westfall_young",
]

#: p-value adjustments delegated to :func:`statsmodels.stats.multitest.multipletests`.
_MULTIPLETESTS = ("bonferroni", "sidak", "holm-sidak", "holm", "simes-hochberg", "hommel",
                  "fdr_bh", "fdr_by", "fdr_tsbh", "fdr_tsbky", "fdr_gbs")

#: Canonical names of the multiple-comparison methods of :func:`correct_p`.
MC_METHODS = (*_MULTIPLETESTS, "meffgalwey", "meffliji", "maxt", "step_maxt")

#: Families of :func:`correct_p`: rows (``"x"``), columns (``"y"``) or everything.
MC_DIMENSIONS = ("x", "y", "array")

_ALIASES = {
    "bonferroni": ("b", "bonf"),
    "sidak": ("s",),
    "holm-sidak": ("hs",),
    "holm": ("h",),
    "simes-hochberg": ("sh", "hochberg"),
    "hommel": ("ho",),
    "fdr_bh": ("fdr", "bh", "fdr_i", "fdr_p"),
    "fdr_by": ("by", "fdr_n", "fdr_c", "fdrcorr"),
    "fdr_tsbh": ("fdr_2sbh",),
    "fdr_tsbky": ("fdr_2sbky", "fdr_twostage"),
    "fdr_gbs": (),
    "meffgalwey": ("meff",),
    "meffliji": (),
    "maxt": (),
    "step_maxt": (),
}


def _alias_key(name: str) -> str:
    """Case, ``_``, ``-`` and blanks do not matter: ``"FDR-BH"`` is ``"fdrbh"``."""
    return "".join(c for c in name.lower() if c not in "_- ")


_LOOKUP = {_alias_key(a): canon for canon, aliases in _ALIASES.items()
           for a in (canon, *aliases)}


def canonical_mc_method(name: str, argname: str = "method") -> str:
    """The canonical name (one of :data:`MC_METHODS`) of a multiple-comparison method.

    Matching ignores case, underscores, hyphens and blanks, so ``"fdr_bh"``,
    ``"FDR-BH"``, ``"fdrbh"`` are the same, as are ``"maxT"``/``"maxt"`` and
    ``"step_maxT"``/``"stepmaxt"``. Aliases: ``"bonf"``, ``"b"`` (bonferroni); ``"s"``
    (sidak); ``"hs"`` (holm-sidak); ``"h"`` (holm); ``"sh"``, ``"hochberg"``
    (simes-hochberg); ``"ho"`` (hommel); ``"fdr"``, ``"bh"``, ``"fdr_i"``, ``"fdr_p"``
    (fdr_bh); ``"by"``, ``"fdr_n"``, ``"fdr_c"``, ``"fdrcorr"`` (fdr_by); ``"fdr_2sbh"``
    (fdr_tsbh); ``"fdr_2sbky"``, ``"fdr_twostage"`` (fdr_tsbky); ``"meff"``,
    ``"meff_galwey"`` (meffgalwey); ``"meff_li_ji"`` (meffliji). The statsmodels
    aliases are all accepted.

    Parameters
    ----------
    name : str
        A method name or alias.
    argname : str, default "method"
        The argument name used in the error message (e.g. ``"mc_method"``).

    Raises
    ------
    ValueError
        Unknown name; the message lists :data:`MC_METHODS` and the closest name.
    """
    if isinstance(name, str) and _alias_key(name) in _LOOKUP:
        return _LOOKUP[_alias_key(name)]
    hint = suggest(name, [*MC_METHODS, *_ALIASES["meffgalwey"]]) if isinstance(name, str) else ""
    raise InputError(f"{argname}: expected one of {list(MC_METHODS)} or an alias ('fdr', "
                     f"'bonf', 'meff', 'maxT', ...); got {name!r}.{hint}")


# --------------------------------------------------------------------------
# effective number of tests
# --------------------------------------------------------------------------

def _eigenvalues(corr: ArrayLike, name: str = "corr") -> np.ndarray:
    """Eigenvalues of a validated correlation matrix, negative rounding noise set to 0."""
    c = np.asarray(corr, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c.shape[0] == 0:
        raise InputError(f"{name}: expected a square (n, n) correlation matrix; got shape "
                         f"{c.shape}.")
    if not np.all(np.isfinite(c)):
        raise InputError(f"{name}: expected finite correlations among the tested maps; got "
                         f"NaN or inf (maps with a NaN p-value may have NaN rows).")
    if not np.allclose(c, c.T, rtol=0, atol=1e-8):
        raise InputError(f"{name}: expected a symmetric correlation matrix; got an "
                         f"asymmetric one (max |C - C.T| = {np.abs(c - c.T).max():.3g}).")
    if not np.allclose(np.diag(c), 1.0, rtol=0, atol=1e-6):
        raise InputError(f"{name}: expected a correlation matrix with a unit diagonal; got "
                         f"diagonal values in [{np.diag(c).min():.3g}, "
                         f"{np.diag(c).max():.3g}] (a covariance matrix?).")
    return np.clip(np.linalg.eigvalsh((c + c.T) / 2), 0.0, None)


def _meff_from_eigenvalues(lam: np.ndarray, method: str) -> float:
    """Galwey or Li & Ji ``Meff`` from eigenvalues, robust to eigensolver rounding.

    Eigenvalues within ``64 * eps * M * max(1, λ_max)`` of an integer are snapped to
    it: rounding noise on zero eigenvalues would otherwise enter Galwey's ``Σ sqrt(λ)``
    amplified (``sqrt(1e-16) = 1e-8``), and Li & Ji's ``f`` jumps at every integer
    ``>= 2`` (``f(2) = 1`` but ``f(2 - 1e-15) ≈ 2``). So an all-ones matrix
    (eigenvalues ``M, 0, ..., 0``) gives exactly 1 with both.
    """
    lam = np.clip(np.asarray(lam, dtype=np.float64).ravel(), 0.0, None)
    tol = 64 * np.finfo(np.float64).eps * lam.size * max(1.0, float(lam.max()))
    nearest = np.round(lam)
    lam = np.where(np.abs(lam - nearest) <= tol, nearest, lam)
    if method == "galwey":
        return float(np.sum(np.sqrt(lam)) ** 2 / np.sum(lam))
    return float(np.sum((lam >= 1) + (lam - np.floor(lam))))


def meff(corr: ArrayLike, method: str = "galwey") -> float:
    """Effective number of independent tests from a correlation matrix.

    Parameters
    ----------
    corr : array_like, shape (M, M)
        Correlation matrix of the M tested variables (e.g. the X maps across parcels).
    method : {"galwey", "liji"}, default "galwey"
        With ``λ`` the eigenvalues of ``corr`` (negative rounding noise set to 0):
        ``"galwey"`` (Galwey, 2009): ``Meff = (Σ sqrt(λ))² / Σ λ``;
        ``"liji"`` (Li & Ji, 2005): ``Meff = Σ f(λ)`` with
        ``f(x) = I(x >= 1) + (x - floor(x))``.

    Returns
    -------
    float
        ``Meff`` in ``[1, M]``: ``M`` for independent tests (identity), 1 for
        perfectly correlated ones (all ones).

    Raises
    ------
    ValueError
        Unknown ``method``; ``corr`` not square, not finite, not symmetric or without
        a unit diagonal.

    References
    ----------
    Galwey (2009), https://doi.org/10.1002/gepi.20408; Li & Ji (2005),
    https://doi.org/10.1038/sj.hdy.6800717

    Examples
    --------
    >>> meff(np.eye(4)), meff(np.ones((4, 4)))
    (4.0, 1.0)
    """
    check_option("method", method, ("galwey", "liji"))
    return _meff_from_eigenvalues(_eigenvalues(corr), method)


def meff_sidak(p: ArrayLike, m_eff: float | ArrayLike) -> np.ndarray:
    """Šidák correction with an effective number of tests: ``1 - (1 - p) ** m_eff``.

    Computed as ``-expm1(m_eff * log1p(-p))`` for accuracy at small ``p`` and clipped
    to ``[p, 1]``; NaN stays NaN.

    Parameters
    ----------
    p : array_like
        Uncorrected p-values in [0, 1].
    m_eff : float or array_like broadcastable to ``p``
        Effective number of tests (see :func:`meff`), at least 1.

    Returns
    -------
    numpy.ndarray
        Corrected p-values, same shape as ``p``.

    References
    ----------
    Šidák (1967), https://doi.org/10.1080/01621459.1967.10482935
    """
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -np.expm1(np.asarray(m_eff, dtype=np.float64) * np.log1p(-p))
    return np.clip(out, p, 1.0)


# --------------------------------------------------------------------------
# Westfall-Young max-T
# --------------------------------------------------------------------------

def westfall_young(obs: ArrayLike, null: ArrayLike, tail: str = "two", *,
                   step_down: bool = False) -> np.ndarray:
    """Family-wise error adjusted permutation p-values by max-T (Westfall & Young, 1993).

    Each family lies along the **last** axis. With ``T`` the observed statistic
    oriented by ``tail`` (``|stat|``, ``stat`` or ``-stat`` for ``"two"``, ``"upper"``,
    ``"lower"``) and ``T*_k`` the same for permutation ``k``:

    * single step: ``p_i = (1 + #{k : max_j T*_kj >= T_i}) / (1 + m)``;
    * step-down (``step_down=True``): hypotheses are ordered by ``T`` descending,
      hypothesis ``(r)`` is compared with the maximum over the hypotheses not yet
      stepped past (``(r), (r+1), ...``), and the adjusted p-values are made
      monotone (``p_(r) = max(p_(r-1), p_(r))``).

    Ties (up to the relative tolerance of :func:`~nispace.stats.pvalues.null_to_p`)
    count as exceedances, so adjusted p-values are at least the raw
    :func:`~nispace.stats.pvalues.null_to_p` values (for elements whose nulls have no
    NaN), and step-down never exceeds single step.

    Parameters
    ----------
    obs : array_like, shape (..., M)
        Observed statistics; NaN elements are left out of their family (NaN result).
    null : array_like, shape (n_perm, ..., M)
        Null statistics. A NaN null value is ignored in its permutation's maximum;
        ``m`` is, per family, the number of permutations with at least one non-NaN
        value among the family's members.
    tail : {"two", "upper", "lower"}, default "two"
    step_down : bool, default False

    Returns
    -------
    numpy.ndarray, shape (..., M)
        Adjusted p-values in ``(0, 1]``.

    References
    ----------
    Westfall, P. H., & Young, S. S. (1993). Resampling-Based Multiple Testing. Wiley.
    """
    tail = _check_tail(tail)
    obs, null = _as_obs_null(obs, null)
    if obs.ndim == 0:
        raise InputError("obs: expected at least one axis (the family); got a scalar.")
    member = ~np.isnan(obs)
    t_null = _oriented(null, tail)
    defined = member & ~np.isnan(t_null)
    t_null = np.where(defined, t_null, -np.inf)
    m = defined.any(axis=-1).sum(axis=0)[..., None]  # (..., 1)
    thr = np.where(member, _threshold(obs, tail), np.nan)
    if not step_down:
        b = (t_null.max(axis=-1)[..., None] >= thr).sum(axis=0)
        return np.where(member & (m > 0), (1.0 + b) / (1.0 + m), np.nan)
    # order by oriented observed statistic, descending; non-members (NaN) last
    key = np.where(member, _oriented(obs, tail), np.nan)
    order = np.argsort(-key, axis=-1, kind="stable")
    t_sorted = np.take_along_axis(t_null, order[None], axis=-1)
    successive_max = np.flip(np.maximum.accumulate(np.flip(t_sorted, -1), axis=-1), -1)
    b = (successive_max >= np.take_along_axis(thr, order, axis=-1)).sum(axis=0)
    p_sorted = np.maximum.accumulate((1.0 + b) / (1.0 + m), axis=-1)
    p = np.empty_like(p_sorted)
    np.put_along_axis(p, order, p_sorted, axis=-1)
    return np.where(member & (m > 0), p, np.nan)


# --------------------------------------------------------------------------
# families and the dispatcher
# --------------------------------------------------------------------------

def _to_families(a: np.ndarray, mc_dimension: str) -> np.ndarray:
    """``(..., n_y, n_x)`` to ``(..., n_families, family_size)`` (a view when possible)."""
    if mc_dimension == "x":
        return a
    if mc_dimension == "y":
        return np.swapaxes(a, -1, -2)
    return a.reshape(*a.shape[:a.ndim - 2], 1, -1)


def _from_families(f: np.ndarray, shape: tuple[int, ...], mc_dimension: str) -> np.ndarray:
    if mc_dimension == "y":
        return np.ascontiguousarray(np.swapaxes(f, -1, -2))
    return f.reshape(shape)


def _multipletests_families(fam: np.ndarray, method: str, alpha: float) -> np.ndarray:
    from statsmodels.stats.multitest import multipletests

    out = np.full(fam.shape, np.nan)
    for row, p_row in zip(out, fam):
        valid = ~np.isnan(p_row)
        if valid.any():
            row[valid] = multipletests(p_row[valid], alpha=alpha, method=method)[1]
    return out


def _corr_for(corr: ArrayLike | None, name: str, n: int, what: str, needed_by: str):
    if corr is None:
        if n == 1:
            return np.ones((1, 1))
        raise InputError(f"{name}: {needed_by} needs the ({n}, {n}) correlation matrix of the "
                         f"{what} maps; got None.")
    c = np.asarray(corr, dtype=np.float64)
    if c.shape != (n, n):
        raise InputError(f"{name}: expected the ({n}, {n}) correlation matrix of the {what} "
                         f"maps; got shape {c.shape}.")
    return c


def _meff_families(fam: np.ndarray, corr: np.ndarray, name: str, method: str) -> np.ndarray:
    """``Meff`` of each family (row of ``fam``) over its non-NaN members."""
    cache: dict[bytes, float] = {}
    out = np.ones(fam.shape[0])
    for i, p_row in enumerate(fam):
        valid = ~np.isnan(p_row)
        key = valid.tobytes()
        if key not in cache:
            cache[key] = (_meff_from_eigenvalues(_eigenvalues(corr[np.ix_(valid, valid)], name),
                                                 method) if valid.any() else 1.0)
        out[i] = cache[key]
    return out


def _meff_array(p: np.ndarray, corr_y: np.ndarray, corr_x: np.ndarray, method: str) -> float:
    """``Meff`` of all non-NaN elements of ``p`` under the correlation ``corr_y ⊗ corr_x``."""
    valid = ~np.isnan(p)
    rows, cols = valid.any(axis=1), valid.any(axis=0)
    if not valid.any():
        return 1.0
    cy, cx = corr_y[np.ix_(rows, rows)], corr_x[np.ix_(cols, cols)]
    lam_y, lam_x = _eigenvalues(cy, "corr_y"), _eigenvalues(cx, "corr_x")  # also validates
    if np.array_equal(valid, np.outer(rows, cols)):  # only whole rows / columns missing
        lam = np.outer(lam_y, lam_x)
    else:  # scattered NaNs: the Kronecker matrix restricted to the valid elements
        keep = valid[np.ix_(rows, cols)].ravel()
        lam = np.linalg.eigvalsh(np.kron(cy, cx)[np.ix_(keep, keep)])
    return _meff_from_eigenvalues(lam, method)


def correct_p(p: ArrayLike, method: str, *, mc_dimension: str = "x",
              corr_x: ArrayLike | None = None, corr_y: ArrayLike | None = None,
              null: ArrayLike | None = None, obs: ArrayLike | None = None,
              tail: str = "two", alpha: float = 0.05) -> np.ndarray:
    """Correct p-values for multiple comparisons within families (NiSpace's ``mc_method``).

    Parameters
    ----------
    p : array_like, shape (n_y, n_x)
        Uncorrected p-values in [0, 1]; NaN is left out and stays NaN. With
        ``mc_dimension="array"`` and a method other than Meff any shape is accepted.
    method : str
        One of :data:`MC_METHODS` or an alias (see :func:`canonical_mc_method`).
    mc_dimension : {"x", "y", "array"}, default "x"
        The families: ``"x"`` each row (across X maps within a Y map), ``"y"`` each
        column (across Y maps within an X map), ``"array"`` all elements.
    corr_x : array_like, shape (n_x, n_x), optional
        Correlation matrix among the X maps: Meff methods with ``"x"`` or ``"array"``
        (may be omitted when ``n_x == 1``).
    corr_y : array_like, shape (n_y, n_y), optional
        Correlation matrix among the Y maps: Meff methods with ``"y"`` or ``"array"``
        (may be omitted when ``n_y == 1``).
    null : array_like, shape (n_perm, n_y, n_x), optional
        Null statistics: required by ``maxt`` and ``step_maxt``.
    obs : array_like, shape (n_y, n_x), optional
        Observed statistics: required by ``maxt`` and ``step_maxt``.
    tail : {"two", "upper", "lower"}, default "two"
        Tail of the test (``maxt``, ``step_maxt``): use the one of the raw p-values.
    alpha : float, default 0.05
        Passed to :func:`~statsmodels.stats.multitest.multipletests`; only the
        two-stage FDR methods (``fdr_tsbh``, ``fdr_tsbky``) depend on it.

    Returns
    -------
    numpy.ndarray, same shape as ``p``
        Corrected p-values.

    Raises
    ------
    ValueError
        Unknown ``method`` or ``mc_dimension``; ``p`` outside [0, 1] or not 2-D;
        a missing or mis-shaped ``corr_x``/``corr_y`` (Meff) or ``null``/``obs``
        (max-T).

    Notes
    -----
    Meff with ``"array"`` uses the separable correlation ``corr_y ⊗ corr_x`` of the
    ``n_y * n_x`` tests; with Galwey's estimator its ``Meff`` is the product of the
    two ``Meff`` values. The max-T methods take their adjusted p-values from ``obs``
    and ``null`` alone; ``p`` only says which elements are tested (non-NaN).

    Examples
    --------
    >>> p = np.array([[0.01, 0.04, 0.30]])
    >>> correct_p(p, "bonf")
    array([[0.03, 0.12, 0.9 ]])
    >>> correct_p(p, "meff", corr_x=np.eye(3)).round(4)  # independent maps: Sidak
    array([[0.0297, 0.1153, 0.657 ]])
    """
    method = canonical_mc_method(method)
    check_option("mc_dimension", mc_dimension, MC_DIMENSIONS)
    p = np.asarray(p, dtype=np.float64)
    needs_2d = mc_dimension != "array" or method.startswith("meff")
    if needs_2d and p.ndim != 2:
        raise InputError(f"p: expected shape (n_y, n_x) for method {method!r} with "
                         f"mc_dimension {mc_dimension!r}; got {p.shape}.")
    finite = p[~np.isnan(p)]
    if np.any((finite < 0) | (finite > 1)):
        raise InputError(f"p: expected p-values in [0, 1] (or NaN); got values in "
                         f"[{finite.min():.3g}, {finite.max():.3g}].")
    p2 = p if p.ndim == 2 else p.reshape(1, -1)
    fam = _to_families(p2, mc_dimension)

    if method in _MULTIPLETESTS:
        out = _multipletests_families(fam, method, alpha)
    elif method.startswith("meff"):
        kind = "galwey" if method == "meffgalwey" else "liji"
        n_y, n_x = p.shape
        if mc_dimension == "array":
            cy = _corr_for(corr_y, "corr_y", n_y, "Y", f"method {method!r} with 'array'")
            cx = _corr_for(corr_x, "corr_x", n_x, "X", f"method {method!r} with 'array'")
            m_eff = np.array([_meff_array(p, cy, cx, kind)])
        elif mc_dimension == "x":
            cx = _corr_for(corr_x, "corr_x", n_x, "X", f"method {method!r} with 'x'")
            m_eff = _meff_families(fam, cx, "corr_x", kind)
        else:
            cy = _corr_for(corr_y, "corr_y", n_y, "Y", f"method {method!r} with 'y'")
            m_eff = _meff_families(fam, cy, "corr_y", kind)
        out = meff_sidak(fam, m_eff[:, None])
    else:
        if obs is None or null is None:
            raise InputError(f"{'obs' if obs is None else 'null'}: method {method!r} needs "
                             f"the observed statistics obs {p.shape} and their null "
                             f"statistics null (n_perm, *{p.shape}); got None.")
        obs_a, null_a = _as_obs_null(obs, null)
        if obs_a.shape != p.shape:
            raise InputError(f"obs: expected the shape of p {p.shape}; got {obs_a.shape}.")
        obs_f = _to_families(np.where(np.isnan(p), np.nan, obs_a).reshape(p2.shape),
                             mc_dimension)
        null_f = _to_families(null_a.reshape(null_a.shape[0], *p2.shape), mc_dimension)
        out = westfall_young(obs_f, null_f, tail, step_down=method == "step_maxt")
    return _from_families(out, p2.shape, mc_dimension).reshape(p.shape)
