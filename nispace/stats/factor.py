"""Exploratory factor analysis on a correlation matrix: extraction, rotation, scores.

Pure NumPy/SciPy functions, the factor analysis behind ``reduce_x("fa")``.
They follow the conventions of R's ``psych::fa`` and of the Python package
``factor_analyzer`` (NiSpace's FA backend), so results agree with both up to
optimizer tolerance:

- extraction (:func:`extract_factors`): ``"minres"`` (minimum residuals, the
  default) [1]_ or ``"principal"`` (principal components of the correlation
  matrix, loadings scaled by the square root of the eigenvalues);
- rotation (:func:`rotate_factors`): ``"varimax"`` [2]_ (Kaiser-normalised),
  ``"promax"`` [3]_ (varimax, then an oblique target rotation with power 4),
  and the gradient-projection rotations [4]_ ``"quartimax"``, ``"oblimax"``,
  ``"equamax"``, ``"geomin_ort"`` (orthogonal) and ``"oblimin"``,
  ``"quartimin"``, ``"geomin_obl"`` (oblique);
- factor scores (:func:`factor_scores`): the regression (Thurstone) method.

Data are ``(n_samples, n_variables)``; in nispace the samples are parcels and
the variables are reference maps.

References
----------
.. [1] Harman, H. H., & Jones, W. H. (1966). Factor analysis by minimizing
   residuals (minres). Psychometrika, 31(3), 351-368.
   https://doi.org/10.1007/BF02289468
.. [2] Kaiser, H. F. (1958). The varimax criterion for analytic rotation in
   factor analysis. Psychometrika, 23(3), 187-200.
   https://doi.org/10.1007/BF02289233
.. [3] Hendrickson, A. E., & White, P. O. (1964). Promax: a quick method for
   rotation to oblique simple structure. British Journal of Statistical
   Psychology, 17(1), 65-70. https://doi.org/10.1111/j.2044-8317.1964.tb00244.x
.. [4] Bernaards, C. A., & Jennrich, R. I. (2005). Gradient projection
   algorithms and software for arbitrary rotation criteria in factor analysis.
   Educational and Psychological Measurement, 65(5), 676-696.
   https://doi.org/10.1177/0013164404272507
"""

from __future__ import annotations

import logging
from typing import Callable, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize

from ..errors import DataError, InputError

__all__ = ["EXTRACTIONS", "ROTATIONS", "OBLIQUE_ROTATIONS", "FactorSolution",
           "factor_analysis", "extract_factors", "rotate_factors", "factor_scores",
           "count_factors"]

logger = logging.getLogger("nispace.stats")

#: Factor extraction methods of :func:`extract_factors`.
EXTRACTIONS: tuple[str, ...] = ("minres", "principal")
#: Rotations of :func:`rotate_factors` (None: unrotated).
ROTATIONS: tuple[str | None, ...] = (None, "varimax", "promax", "oblimin", "oblimax",
                                     "quartimin", "quartimax", "equamax", "geomin_obl",
                                     "geomin_ort")
#: Rotations that let factors correlate (a factor correlation matrix ``phi``).
OBLIQUE_ROTATIONS: tuple[str, ...] = ("promax", "oblimin", "quartimin", "geomin_obl")

#: Bounds of the uniquenesses in the minres optimisation (as factor_analyzer).
_PSI_BOUNDS = (0.005, 1.0)


class FactorSolution(NamedTuple):
    """Result of :func:`factor_analysis`.

    Attributes
    ----------
    loadings : numpy.ndarray of shape (n_variables, n_factors)
        Factor loadings (pattern coefficients for oblique rotations), each
        column signed so that it sums to a positive value, columns ordered by
        decreasing sum of squared loadings.
    uniquenesses : numpy.ndarray of shape (n_variables,)
        ``1 - communality`` of every variable (from the unrotated loadings;
        rotations do not change communalities).
    explained_variance : numpy.ndarray of shape (n_factors,)
        Sum of squared loadings of each factor divided by the number of
        variables (factor_analyzer's "proportion variance"; for oblique
        rotations the squared pattern coefficients, so the values no longer
        add up to the explained total).
    scores : numpy.ndarray of shape (n_samples, n_factors)
        Factor scores (regression method, see :func:`factor_scores`).
    phi : numpy.ndarray of shape (n_factors, n_factors) or None
        Factor correlations of an oblique rotation; None otherwise.
    converged : bool
        Whether the minres optimizer reported convergence (True for
        ``"principal"``).
    """

    loadings: np.ndarray
    uniquenesses: np.ndarray
    explained_variance: np.ndarray
    scores: np.ndarray
    phi: np.ndarray | None
    converged: bool


def _minres_objective(psi: np.ndarray, corr: np.ndarray, n_factors: int) -> float:
    """Sum of squared residuals of ``corr`` with ``1 - psi`` on its diagonal."""
    reduced = corr.copy()
    np.fill_diagonal(reduced, 1 - psi)
    loadings = _leading_loadings(reduced, n_factors, floor=np.finfo(float).eps * 100)
    return float(((reduced - loadings @ loadings.T) ** 2).sum())


def _leading_loadings(matrix: np.ndarray, n_factors: int, floor: float = 0.0) -> np.ndarray:
    """Eigenvectors of the ``n_factors`` largest eigenvalues times their square roots."""
    values, vectors = np.linalg.eigh(matrix)
    values, vectors = values[::-1][:n_factors], vectors[:, ::-1][:, :n_factors]
    return vectors * np.sqrt(np.maximum(values, floor))


def extract_factors(corr: ArrayLike, n_factors: int,
                    method: str = "minres") -> tuple[np.ndarray, bool]:
    """Unrotated factor loadings of a correlation matrix.

    Parameters
    ----------
    corr : array-like of shape (n_variables, n_variables)
        Correlation matrix (symmetric, unit diagonal).
    n_factors : int
        Number of factors, 1 to ``n_variables``.
    method : {"minres", "principal"}
        ``"minres"``: the uniquenesses ``psi`` minimise the sum of squared
        residuals of ``corr - L L'`` (diagonal included, with ``1 - psi`` on
        the diagonal of ``corr``), by L-BFGS-B within ``[0.005, 1]`` started at
        ``1 - SMC`` (squared multiple correlations; pseudo-inverse for a
        singular ``corr``); ``L`` are the leading eigenvectors of the reduced
        correlation matrix times the square roots of their eigenvalues.
        ``"principal"``: the same eigen-decomposition of ``corr`` itself.

    Returns
    -------
    loadings : numpy.ndarray of shape (n_variables, n_factors)
        Unrotated loadings (column signs as returned by the eigensolver).
    converged : bool
        Whether the optimizer reported success (always True for principal).
    """
    corr = np.asarray(corr, dtype=np.float64)
    if method not in EXTRACTIONS:
        raise InputError(f"method: expected one of {list(EXTRACTIONS)}; got {method!r}.")
    if method == "principal":
        return _leading_loadings(corr, n_factors), True
    try:
        inverse = np.linalg.inv(corr)
    except np.linalg.LinAlgError:
        inverse = np.linalg.pinv(corr)
    start = 1 / np.diag(inverse)  # 1 - squared multiple correlations
    res = minimize(_minres_objective, start, args=(corr, n_factors), method="L-BFGS-B",
                   bounds=[_PSI_BOUNDS] * corr.shape[0], options={"maxiter": 1000})
    reduced = corr.copy()
    np.fill_diagonal(reduced, 1 - res.x)
    return _leading_loadings(reduced, n_factors), bool(res.success)


def count_factors(loadings: ArrayLike) -> int:
    """Number of factors with non-zero loadings (sum of squares above 1e-12).

    A minres solution with more factors than its reduced correlation matrix
    has positive eigenvalues has all-zero columns for the extra factors;
    they cannot be rotated.

    Parameters
    ----------
    loadings : array-like of shape (n_variables, n_factors)

    Returns
    -------
    int
    """
    return int(((np.asarray(loadings, dtype=np.float64) ** 2).sum(axis=0) > 1e-12).sum())


# --- rotations -------------------------------------------------------------------------

def _varimax(loadings: np.ndarray, max_iter: int = 500, tol: float = 1e-5) -> np.ndarray:
    """Kaiser-normalised varimax; returns the rotated loadings."""
    h = np.sqrt((loadings ** 2).sum(axis=1, keepdims=True))
    x = loadings / h
    n_rows, n_cols = x.shape
    rot = np.eye(n_cols)
    d = 0.0
    for _ in range(max_iter):
        basis = x @ rot
        target = x.T @ (basis ** 3 - basis * (basis ** 2).sum(axis=0) / n_rows)
        u, s, vt = np.linalg.svd(target)
        rot = u @ vt
        d_old, d = d, s.sum()
        if d < d_old * (1 + tol):
            break
    return x @ rot * h


def _promax(loadings: np.ndarray, power: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Promax on Kaiser-normalised loadings; returns pattern loadings and phi."""
    h = np.sqrt((loadings ** 2).sum(axis=1, keepdims=True))
    x = _varimax(loadings / h)
    target = x * np.abs(x) ** (power - 1)
    coef = np.linalg.solve(x.T @ x, x.T @ target)
    coef = coef * np.sqrt(np.diag(np.linalg.pinv(coef.T @ coef)))
    coef_inv = np.linalg.inv(coef)
    return x @ coef * h, coef_inv @ coef_inv.T


def _criterion(name: str) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """Criterion value and gradient of a gradient-projection rotation."""
    def quartimax(lam):
        return -((lam ** 2) ** 2).sum() / 4, -(lam ** 3)

    def quartimin(lam):  # oblimin with gamma = 0
        off = (lam ** 2) @ (1 - np.eye(lam.shape[1]))
        return (lam ** 2 * off).sum() / 4, lam * off

    def oblimax(lam):
        s4, s2 = (lam ** 4).sum(), (lam ** 2).sum()
        return np.log(s4) - 2 * np.log(s2), -(4 * lam ** 3 / s4 - 4 * lam / s2)

    def geomin(lam, delta=0.01):
        k = lam.shape[1]
        sq = lam ** 2 + delta
        pro = np.exp(np.log(sq).sum(axis=1) / k)
        return pro.sum(), (2 / k) * (lam / sq) * pro[:, None]

    return {"quartimax": quartimax, "equamax": quartimin, "oblimax": oblimax,
            "geomin_ort": geomin, "oblimin": quartimin, "quartimin": quartimin,
            "geomin_obl": geomin}[name]


def _gpa(loadings: np.ndarray, rotation: str, max_iter: int = 500,
         tol: float = 1e-5) -> tuple[np.ndarray, np.ndarray | None]:
    """Gradient projection rotation (Bernaards & Jennrich, 2005)."""
    crit = _criterion(rotation)
    oblique = rotation in OBLIQUE_ROTATIONS
    k = loadings.shape[1]
    rot = np.eye(k)

    def rotated(t):
        return loadings @ np.linalg.inv(t).T if oblique else loadings @ t

    def gradient(t, lam, g):
        return -(lam.T @ g @ np.linalg.inv(t)).T if oblique else loadings.T @ g

    lam = rotated(rot)
    value, g = crit(lam)
    grad = gradient(rot, lam, g)
    alpha = 1.0
    for _ in range(max_iter + 1):
        if oblique:
            projected = grad - rot * (rot * grad).sum(axis=0)
        else:
            m = rot.T @ grad
            projected = grad - rot @ ((m + m.T) / 2)
        s = np.sqrt((projected ** 2).sum())
        if s < tol:
            break
        alpha *= 2
        for _ in range(11):
            step = rot - alpha * projected
            if oblique:
                new = step / np.sqrt((step ** 2).sum(axis=0))
            else:
                u, _, vt = np.linalg.svd(step)
                new = u @ vt
            lam = rotated(new)
            new_value, g = crit(lam)
            if value - new_value > 0.5 * s ** 2 * alpha:
                break
            alpha /= 2
        rot, value = new, new_value
        grad = gradient(rot, lam, g)
    return lam, (rot.T @ rot if oblique else None)


def rotate_factors(loadings: ArrayLike,
                   rotation: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Rotate factor loadings.

    Parameters
    ----------
    loadings : array-like of shape (n_variables, n_factors)
        Unrotated loadings.
    rotation : str or None
        One of :data:`ROTATIONS`. ``"varimax"`` and ``"promax"`` (power 4)
        work on Kaiser-normalised rows; the others run the gradient projection
        algorithm [4]_ (``"oblimin"`` with gamma 0, i.e. ``"quartimin"``;
        ``"equamax"`` with kappa 0 and ``"geomin"`` with delta 0.01, the
        defaults of factor_analyzer). One factor, or None, is left unrotated.

    Returns
    -------
    loadings : numpy.ndarray of shape (n_variables, n_factors)
        Rotated loadings (pattern coefficients for oblique rotations).
    phi : numpy.ndarray of shape (n_factors, n_factors) or None
        Factor correlations for oblique rotations, else None.
    """
    loadings = np.array(loadings, dtype=np.float64)
    if rotation not in ROTATIONS:
        raise InputError(f"rotation: expected one of {list(ROTATIONS)}; got {rotation!r}.")
    if rotation is None or loadings.shape[1] < 2:
        return loadings, None
    if rotation == "varimax":
        return _varimax(loadings), None
    if rotation == "promax":
        return _promax(loadings)
    return _gpa(loadings, rotation)


def factor_scores(data: ArrayLike, loadings: ArrayLike,
                  phi: ArrayLike | None = None) -> np.ndarray:
    """Factor scores by the regression (Thurstone) method.

    ``scores = Z @ inv(R) @ S`` with ``Z`` the z-scored data (population
    standard deviation), ``R`` their correlation matrix and ``S`` the
    structure matrix (``loadings @ phi`` for oblique factors, else the
    loadings), as factor_analyzer's ``transform``.

    Parameters
    ----------
    data : array-like of shape (n_samples, n_variables)
        The data the factors were fitted on (no NaN).
    loadings : array-like of shape (n_variables, n_factors)
        Loadings (pattern coefficients).
    phi : array-like of shape (n_factors, n_factors), optional
        Factor correlations of an oblique rotation.

    Returns
    -------
    numpy.ndarray of shape (n_samples, n_factors)
    """
    data = np.asarray(data, dtype=np.float64)
    z = (data - data.mean(axis=0)) / data.std(axis=0)
    structure = np.asarray(loadings) if phi is None else np.asarray(loadings) @ phi
    corr = np.corrcoef(data, rowvar=False)
    try:
        weights = np.linalg.solve(corr, structure)
    except np.linalg.LinAlgError:
        weights = np.linalg.pinv(corr) @ structure
    return z @ weights


def factor_analysis(data: ArrayLike, n_factors: int, method: str = "minres",
                    rotation: str | None = "promax") -> FactorSolution:
    """Exploratory factor analysis of the columns of `data`.

    Parameters
    ----------
    data : array-like of shape (n_samples, n_variables)
        Observations in rows, variables in columns; no NaN, no constant
        column.
    n_factors : int
        Number of factors, 1 to ``n_variables``.
    method : {"minres", "principal"}
        Extraction, see :func:`extract_factors` (default ``"minres"``, as
        NiSpace and R's ``psych::fa``).
    rotation : str or None
        Rotation, see :func:`rotate_factors` (default ``"promax"``, as
        NiSpace).

    Returns
    -------
    FactorSolution
        Loadings, uniquenesses, explained variance, scores, factor
        correlations and the optimizer's convergence. A minres optimisation
        that does not converge is logged as a WARNING on ``"nispace.stats"``.

    Raises
    ------
    InputError
        For an invalid `n_factors`, `method` or `rotation`.
    DataError
        For data with NaN, fewer than 2 samples or a constant column, or when
        a rotation is asked for more factors than have non-zero loadings.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> latent = rng.standard_normal((60, 2))
    >>> data = latent @ rng.uniform(0.5, 1, (2, 6)) + 0.5 * rng.standard_normal((60, 6))
    >>> fa = factor_analysis(data, 2)
    >>> fa.loadings.shape, fa.scores.shape
    ((6, 2), (60, 2))
    """
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] < 2:
        raise DataError(f"data: expected a 2-D array (n_samples >= 2, n_variables); "
                        f"got shape {data.shape}.")
    n_vars = data.shape[1]
    if isinstance(n_factors, bool) or not isinstance(n_factors, (int, np.integer)) \
            or not 1 <= n_factors <= n_vars:
        raise InputError(f"n_factors: expected an integer between 1 and {n_vars}; "
                         f"got {n_factors!r}.")
    if np.isnan(data).any():
        raise DataError("data: expected no NaN; drop or impute the rows with NaN first.")
    constant = np.nonzero(data.std(axis=0) == 0)[0]
    if constant.size:
        raise DataError(f"data: columns {constant.tolist()} are constant; a factor "
                        f"analysis needs variables with variance.")
    if rotation not in ROTATIONS:  # checked before the (slow) extraction
        raise InputError(f"rotation: expected one of {list(ROTATIONS)}; got {rotation!r}.")
    corr = np.corrcoef(data, rowvar=False)
    unrotated, converged = extract_factors(corr, int(n_factors), method)
    if not converged:
        logger.warning("factor analysis: the minres optimisation of %d factors did not "
                       "converge; the loadings may be inaccurate.", n_factors)
    uniquenesses = 1 - (unrotated ** 2).sum(axis=1)
    n_real = count_factors(unrotated)
    if rotation is not None and 1 < n_factors and n_real < n_factors:
        raise DataError(f"n_factors: the {method} solution has only {n_real} factor(s) with "
                        f"non-zero loadings (the other eigenvalues of the reduced "
                        f"correlation matrix are not positive), so {n_factors} factors "
                        f"cannot be rotated ({rotation!r}); ask for at most {n_real} "
                        f"(reduce_x: n_components={n_real}) or pass rotation=None.")
    loadings, phi = rotate_factors(unrotated, rotation)
    signs = np.where(loadings.sum(axis=0) < 0, -1.0, 1.0)
    loadings = loadings * signs
    ssl = (loadings ** 2).sum(axis=0)
    order = np.argsort(-ssl, kind="stable")
    loadings, ssl = loadings[:, order], ssl[order]
    if phi is not None:
        phi = (phi * np.outer(signs, signs))[np.ix_(order, order)]
    return FactorSolution(loadings, uniquenesses, ssl / n_vars,
                          factor_scores(data, loadings, phi), phi, converged)
