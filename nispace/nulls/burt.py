"""Surrogate maps from generative models of spatial autocorrelation (Burt et al.).

* :func:`burt2020` -- variogram-matched surrogates (Burt et al. 2020, BrainSMASH):
  randomly permute the map, smooth it with a distance kernel over its nearest
  neighbours, and keep the smoothing scale whose variogram best matches the
  map's own. Vectorised across surrogates.
* :func:`burt2018` -- spatial autoregressive (SAR) surrogates (Burt et al. 2018):
  fit ``y = rho W y + e`` with ``W_ij = exp(-D_ij / d0)``, simulate
  ``(I - rho W)^-1 u`` and rank-match to the map's values.
* :func:`variogram` -- the smoothed variogram used for fitting and evaluation.

Array convention: ``data`` (n_parcels,), ``dist_mat`` (n_parcels, n_parcels) in mm
(``inf`` = no path, e.g. between hemispheres), nulls (n_perm, n_parcels). See
:mod:`nispace.nulls.shuffle` for the sampler protocol (``Sampler(dist_mat).fit(data)
.draw(n, seed)``) and NaN handling.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .._errors import check_option
from ..errors import InputError
from .shuffle import (apply_on_valid, check_complete, check_dist_mat, check_n_perm,
                      check_sampler_dist, fill_doc, start_draw)

__all__ = ["Variogram", "variogram", "Burt2020Sampler", "burt2020", "Burt2018Sampler",
           "burt2018"]

_KERNELS = ("exp", "gaussian", "invdist", "uniform")
# Dense smoothing operators (one (n, n) matrix per delta) up to this many elements in
# total; beyond it, sparse operators (gather + weighted sum over the k neighbours).
_DENSE_MAX_ELEMENTS = 2**24
_BLOCK_ELEMENTS = 2**20  # rows x pairs per block when computing variograms


def _row_blocks(n_rows: int, row_size: int):
    """Slices over ``n_rows`` so that each block holds about ``_BLOCK_ELEMENTS``."""
    step = max(1, _BLOCK_ELEMENTS // max(row_size, 1))
    return [slice(s, min(s + step, n_rows)) for s in range(0, n_rows, step)]


# --------------------------------------------------------------------------------------
# smoothed variogram
# --------------------------------------------------------------------------------------

class Variogram:
    """Smoothed variogram of maps on a fixed set of parcels (as in BrainSMASH).

    For parcel pairs ``(i, j)`` closer than the ``pv``-th percentile of all finite
    pairwise distances, the semivariance ``0.5 (x_i - x_j)^2`` is averaged with
    Gaussian weights ``exp(-(2.68 |D_ij - h| / b)^2 / 2)`` at ``nh`` distances ``h``
    spaced evenly between the smallest and largest retained distance. This is the
    variogram estimator of Burt et al. (2020), Eq. 3, with BrainSMASH's defaults.

    Parameters
    ----------
    dist_mat : (n_parcels, n_parcels) np.ndarray
        Symmetric distances; ``inf`` pairs are ignored.
    nh : int
        Number of distances at which the variogram is evaluated.
    pv : float
        Percentile (0, 100] of the finite pairwise distances below which pairs are used.
    b : float, optional
        Bandwidth of the Gaussian smoothing kernel; default three times the
        spacing of ``h``.

    Attributes
    ----------
    h : (nh,) np.ndarray
        Distances at which the variogram is evaluated.
    b : float
        Kernel bandwidth used.

    References
    ----------
    Burt, J. B., Helmer, M., Shinn, M., Anticevic, A., & Murray, J. D. (2020).
    Generative modeling of brain maps with spatial autocorrelation. NeuroImage,
    220, 117038. https://doi.org/10.1016/j.neuroimage.2020.117038
    """

    def __init__(self, dist_mat: np.ndarray, nh: int = 25, pv: float = 25,
                 b: float | None = None):
        if isinstance(nh, bool) or not isinstance(nh, (int, np.integer)) or nh < 2:
            raise InputError(f"nh: expected an integer >= 2; got {nh!r}.")
        if not 0 < pv <= 100:
            raise InputError(f"pv: expected a percentile in (0, 100]; got {pv!r}.")
        dist = np.asarray(dist_mat, dtype=float)
        iu, ju = np.triu_indices(dist.shape[0], k=1)
        u = dist[iu, ju]
        finite = np.isfinite(u)
        if not finite.any():
            raise InputError("dist_mat: expected at least one finite off-diagonal distance.")
        keep = finite & (u < np.percentile(u[finite], pv))
        if keep.sum() < 2:
            raise InputError(f"pv: only {int(keep.sum())} pair(s) of parcels are closer than the "
                             f"{pv}th distance percentile; increase pv.")
        self.i, self.j, u = iu[keep], ju[keep], u[keep]
        self.h = np.linspace(u.min(), u.max(), int(nh))
        self.b = 3.0 * (self.h[1] - self.h[0]) if b is None else float(b)
        if not self.b > 0:
            raise InputError(f"b: expected a positive bandwidth; got {self.b!r}.")
        w = np.exp(-0.5 * np.square(2.68 * np.abs(u[None, :] - self.h[:, None]) / self.b))
        # (n_pairs, nh) weights, each column normalised; 0.5 of the semivariance folded in
        self._weights = np.ascontiguousarray((0.5 * w / w.sum(axis=1, keepdims=True)).T)

    def __call__(self, maps: np.ndarray) -> np.ndarray:
        """Variogram of one map (n_parcels,) -> (nh,) or of rows (m, n_parcels) -> (m, nh)."""
        maps = np.asarray(maps, dtype=float)
        x = np.atleast_2d(maps)
        out = np.empty((x.shape[0], self.h.size))
        for rows in _row_blocks(x.shape[0], self.i.size):
            block = x[rows]
            diff = np.take(block, self.i, axis=1)
            diff -= np.take(block, self.j, axis=1)
            np.square(diff, out=diff)
            out[rows] = diff @ self._weights
        return out[0] if maps.ndim == 1 else out


def variogram(data, dist_mat, *, nh: int = 25, pv: float = 25, b: float | None = None,
              return_h: bool = False):
    """Smoothed variogram of one or several maps (Burt et al. 2020; BrainSMASH).

    Parameters
    ----------
    data : (n_parcels,) or (n_maps, n_parcels) array_like
        Complete maps (no NaN).
    dist_mat : (n_parcels, n_parcels) array_like
        Distances in mm; ``inf`` pairs are ignored.
    nh, pv, b
        See :class:`Variogram`.
    return_h : bool
        Also return the distances at which the variogram is evaluated.

    Returns
    -------
    gamma : (nh,) or (n_maps, nh) np.ndarray
        Smoothed semivariance.
    h : (nh,) np.ndarray
        Only if ``return_h``.

    References
    ----------
    Burt, J. B., et al. (2020). Generative modeling of brain maps with spatial
    autocorrelation. NeuroImage, 220, 117038.
    https://doi.org/10.1016/j.neuroimage.2020.117038
    """
    x = np.asarray(data, dtype=float)
    if x.ndim not in (1, 2):
        raise InputError(f"data: expected shape (n_parcels,) or (n_maps, n_parcels); got "
                         f"{x.shape}.")
    if np.isnan(x).any():
        raise InputError("data: expected no NaN; drop NaN parcels (and their rows and columns "
                         "of dist_mat) first.")
    vario = Variogram(check_dist_mat(dist_mat, x.shape[-1]), nh=nh, pv=pv, b=b)
    gamma = vario(x)
    return (gamma, vario.h) if return_h else gamma


# --------------------------------------------------------------------------------------
# Burt et al. (2020): variogram matching
# --------------------------------------------------------------------------------------

def _kernel_weights(kernel: str, d: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """BrainSMASH smoothing kernels on neighbour distances ``d`` (n, k), masked by ``valid``.

    The characteristic length is each row's largest (valid) neighbour distance.
    """
    d = np.where(valid, d, 0.0)
    scale = d.max(axis=1, keepdims=True)
    scale[scale == 0] = 1.0
    if kernel == "exp":
        w = np.exp(-d / scale)
    elif kernel == "gaussian":
        w = np.exp(-1.25 * np.square(d / scale))
    elif kernel == "invdist":
        if (valid & (d == 0)).any():
            raise InputError("kernel: 'invdist' needs positive distances between neighbouring "
                             "parcels; dist_mat has zero off-diagonal distances.")
        with np.errstate(divide="ignore"):
            w = 1.0 / d
    else:  # uniform
        w = np.ones_like(d)
    w = np.where(valid, w, 0.0)
    return w / w.sum(axis=1, keepdims=True)


def _regress(x: np.ndarray, y: np.ndarray):
    """Least squares ``y ~ alpha + beta x`` along the last axis of ``x``; ``y`` is (nh,)."""
    xm = x.mean(axis=-1, keepdims=True)
    ym = y.mean()
    xc = x - xm
    beta = (xc @ (y - ym)) / np.einsum("...i,...i->...", xc, xc)
    alpha = ym - beta * xm[..., 0]
    resid = y - (alpha[..., None] + beta[..., None] * x)
    return alpha, beta, np.einsum("...i,...i->...", resid, resid)


class Burt2020Sampler:
    """Variogram-matched surrogate maps (Burt et al. 2020), vectorised across surrogates.

    For a batch of surrogates at once: randomly permute the map; for each
    neighbourhood size ``delta``, smooth every permuted map with a distance kernel
    over each parcel's ``k = int(delta * min(n, knn))`` nearest neighbours (one
    matrix product, or a sparse gather + weighted sum for large maps); compute all
    smoothed variograms; regress each onto the map's variogram
    (``gamma_map ~ alpha + beta gamma_smooth``) and keep, per surrogate, the
    ``delta`` with the smallest residual sum of squares. The surrogate is
    ``sqrt(|beta|) x_smooth + sqrt(|alpha|) z`` with ``z`` white noise; it is then
    de-meaned (``resample=False``) or rank-matched to the map's values
    (``resample=True``). This is BrainSMASH's ``Base`` algorithm with its defaults
    (``knn`` only matters for maps with more than ``knn`` parcels, where it caps the
    neighbourhood like BrainSMASH's ``Sampled``).

    Parameters
    ----------
    dist_mat : (n_parcels, n_parcels) array_like
        Distances in mm. ``inf`` means "not a neighbour": each parcel's
        neighbourhood is ``int(delta * min(f, knn))`` of its ``f - 1`` reachable
        parcels (``f`` counts the parcel itself), and ``inf`` pairs are left out of
        the variogram, so a two-hemisphere matrix with ``inf`` between hemispheres
        smooths within hemispheres; the variogram fit is shared by both.
    deltas : sequence of float
        Proportions of neighbours in (0, 1] tried for smoothing. Default
        ``0.1, 0.2, ..., 0.9`` (BrainSMASH).
    kernel : {"exp", "gaussian", "invdist", "uniform"}
        Smoothing kernel (BrainSMASH's kernels; length scale = the distance to the
        farthest neighbour used).
    pv, nh, b
        Variogram settings, see :class:`Variogram`.
    knn : int
        Largest neighbourhood considered.
    resample : bool
        If True, surrogates take the map's values (rank-matched, each row is a
        permutation of ``data``); if False (BrainSMASH default), surrogates are
        de-meaned and keep their generated values.
    batch_size : int
        Surrogates generated per vectorised batch (memory vs. speed); results
        depend on it for a given seed.

    Attributes
    ----------
    variogram : Variogram
        The variogram operator on these parcels.
    target_ : (nh,) np.ndarray
        Variogram of the fitted map.

    Notes
    -----
    Memory grows with ``n_parcels**2`` (the variogram uses every pair of parcels
    below the ``pv``-th distance percentile), which suits parcellated maps up to a
    few thousand parcels; dense vertex or voxel maps need BrainSMASH's sampled
    variant, which is not implemented here.

    References
    ----------
    Burt, J. B., Helmer, M., Shinn, M., Anticevic, A., & Murray, J. D. (2020).
    Generative modeling of brain maps with spatial autocorrelation. NeuroImage,
    220, 117038. https://doi.org/10.1016/j.neuroimage.2020.117038
    """

    def __init__(self, dist_mat, *, deltas=np.linspace(0.1, 0.9, 9),
                 kernel: Literal["exp", "gaussian", "invdist", "uniform"] = "exp",
                 pv: float = 25, nh: int = 25, b: float | None = None, knn: int = 1000,
                 resample: bool = False, batch_size: int = 100):
        check_option("kernel", kernel, _KERNELS)
        deltas = np.atleast_1d(np.asarray(deltas, dtype=float))
        if deltas.ndim != 1 or deltas.size == 0 or ((deltas <= 0) | (deltas > 1)).any():
            raise InputError(f"deltas: expected proportions in (0, 1]; got {deltas.tolist()}.")
        if isinstance(knn, bool) or not isinstance(knn, (int, np.integer)) or knn < 2:
            raise InputError(f"knn: expected an integer >= 2; got {knn!r}.")
        if not isinstance(resample, (bool, np.bool_)):
            raise InputError(f"resample: expected True or False; got {resample!r}.")
        self.deltas, self.kernel, self.knn = deltas, kernel, int(knn)
        self.resample = bool(resample)
        self.batch_size = check_n_perm(batch_size, "batch_size")
        dist = check_sampler_dist(dist_mat)
        self.n_parcels = dist.shape[0]
        self.variogram = Variogram(dist, nh=nh, pv=pv, b=b)
        self._smoothers = self._build_smoothers(dist)

    def _build_smoothers(self, dist: np.ndarray):
        n = self.n_parcels
        off = dist.copy()
        np.fill_diagonal(off, np.inf)  # never a neighbour of itself
        reachable = np.isfinite(off).sum(axis=1)  # f - 1
        # neighbours nearest first; k_max <= the most reachable parcels of any row
        k_rows = [np.clip((d * np.minimum(reachable + 1, self.knn)).astype(int), 1, reachable)
                  for d in self.deltas]
        k_all = max(int(k.max()) for k in k_rows)
        order = np.argsort(off, axis=1, kind="stable")[:, :k_all]
        dsorted = np.take_along_axis(off, order, axis=1)
        dense = self.deltas.size * n * n <= _DENSE_MAX_ELEMENTS
        smoothers = []
        for k in k_rows:
            kmax = int(k.max())
            valid = np.arange(kmax)[None, :] < k[:, None]
            w = _kernel_weights(self.kernel, dsorted[:, :kmax], valid)
            if dense:
                s = np.zeros((n, n))
                np.put_along_axis(s, order[:, :kmax], w, axis=1)
                smoothers.append(s)
            else:
                from scipy import sparse
                rows = np.repeat(np.arange(n), k)
                smoothers.append(sparse.csr_array(
                    (w[valid], (rows, order[:, :kmax][valid])), shape=(n, n)))
        if dense:  # one (n_deltas * n, n) operator: a single matrix product per batch
            return np.concatenate(smoothers, axis=0)
        return smoothers

    def _smooth(self, x: np.ndarray) -> np.ndarray:
        """Smooth rows of ``x`` (B, n) at every delta -> (B, n_deltas, n)."""
        if isinstance(self._smoothers, np.ndarray):
            out = x @ self._smoothers.T
            return out.reshape(x.shape[0], self.deltas.size, self.n_parcels)
        return np.stack([(s @ x.T).T for s in self._smoothers], axis=1)

    def fit(self, data) -> Burt2020Sampler:
        """Store the complete map ``data`` (n_parcels,) and its variogram ``target_``."""
        x = check_complete(data, self.n_parcels)
        self.data_ = x
        self.target_ = self.variogram(x)
        return self

    def draw(self, n: int, seed=None) -> np.ndarray:
        """``n`` surrogate maps, shape (n, n_parcels); depends only on the fit, n and seed."""
        n, rng = start_draw(self, n, seed, "target_")
        out = np.empty((n, self.n_parcels))
        for start in range(0, n, self.batch_size):
            stop = min(start + self.batch_size, n)
            out[start:stop] = self._draw_batch(stop - start, rng)
        return out

    def _draw_batch(self, m: int, rng: np.random.Generator) -> np.ndarray:
        nd, npar = self.deltas.size, self.n_parcels
        perm = rng.permuted(np.tile(self.data_, (m, 1)), axis=1)
        smooth = self._smooth(perm)  # (m, nd, n)
        gamma = self.variogram(smooth.reshape(m * nd, npar)).reshape(m, nd, -1)
        alpha, beta, sse = _regress(gamma, self.target_)  # (m, nd) each
        sse[~np.isfinite(sse)] = np.inf  # a flat smoothed variogram cannot be fitted
        best = np.argmin(sse, axis=1)
        rows = np.arange(m)
        surr = (np.sqrt(np.abs(beta[rows, best]))[:, None] * smooth[rows, best]
                + np.sqrt(np.abs(alpha[rows, best]))[:, None] * rng.standard_normal((m, npar)))
        if self.resample:
            return _rank_match(surr, self.data_)
        return surr - surr.mean(axis=1, keepdims=True)


def _rank_match(surr: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Give each row of ``surr`` the sorted ``values`` in the order of its ranks."""
    out = np.empty_like(surr)
    order = np.argsort(surr, axis=1)
    np.put_along_axis(out, order, np.broadcast_to(np.sort(values), surr.shape), axis=1)
    return out


@fill_doc
def burt2020(data, dist_mat, n_perm: int = 1000, seed=None, *,
             deltas=np.linspace(0.1, 0.9, 9),
             kernel: Literal["exp", "gaussian", "invdist", "uniform"] = "exp",
             pv: float = 25, nh: int = 25, b: float | None = None, knn: int = 1000,
             resample: bool = False, batch_size: int = 100) -> np.ndarray:
    """Variogram-matched surrogate maps (Burt et al. 2020, BrainSMASH ``Base``).

    Parameters
    ----------
    %(null_params)s
    deltas, kernel, pv, nh, b, knn, resample, batch_size
        See :class:`Burt2020Sampler` (defaults as BrainSMASH).

    Returns
    -------
    nulls : (n_perm, n_parcels) np.ndarray
        Surrogates; de-meaned (``resample=False``) or permutations of the
        non-NaN values of ``data`` (``resample=True``).

    References
    ----------
    Burt, J. B., Helmer, M., Shinn, M., Anticevic, A., & Murray, J. D. (2020).
    Generative modeling of brain maps with spatial autocorrelation. NeuroImage,
    220, 117038. https://doi.org/10.1016/j.neuroimage.2020.117038
    """
    def run(x, d):
        sampler = Burt2020Sampler(d, deltas=deltas, kernel=kernel, pv=pv, nh=nh, b=b,
                                  knn=knn, resample=resample, batch_size=batch_size)
        return sampler.fit(x).draw(n_perm, seed)

    return apply_on_valid(data, dist_mat, n_perm, run)


# --------------------------------------------------------------------------------------
# Burt et al. (2018): spatial autoregressive model
# --------------------------------------------------------------------------------------

def _sar_weights(dist: np.ndarray, d0: float) -> np.ndarray:
    """Row-normalised ``W_ij = exp(-D_ij / d0)``, zero diagonal and zero at ``inf``.

    Each row is shifted by its smallest off-diagonal distance before exponentiating
    (the row normalisation cancels the factor), so small ``d0`` never underflows.
    """
    off = dist.copy()
    np.fill_diagonal(off, np.inf)
    off -= off.min(axis=1, keepdims=True)
    w = np.exp(-off / d0)
    return w / w.sum(axis=1, keepdims=True)


def _sar_eigenvalues(dist: np.ndarray, d0: float) -> np.ndarray:
    """Eigenvalues of the row-normalised SAR weights (real: similar to a symmetric matrix)."""
    off = dist.copy()
    np.fill_diagonal(off, np.inf)
    e = np.exp(-(off - off.min()) / d0)
    s = np.sqrt(e.sum(axis=1))
    if not (s > 0).all():  # extreme d0: the shared shift underflows a whole row
        return np.linalg.eigvals(_sar_weights(dist, d0)).real
    return np.linalg.eigvalsh(e / s[:, None] / s[None, :])


def _boxcox_centred(x: np.ndarray) -> np.ndarray:
    """Box-Cox transform after neuromaps' shift (``x + |min(x)| + 0.1``), then centred."""
    from scipy.stats import boxcox

    y, _ = boxcox(x + np.abs(x.min()) + 0.1)
    return y - y.mean()


class Burt2018Sampler:
    """Spatial autoregressive (SAR) surrogate maps (Burt et al. 2018).

    The map ``y`` is modelled as ``y = rho W y + e`` with row-normalised weights
    ``W_ij = exp(-D_ij / d0)`` (zero diagonal; zero for ``inf`` distances). After
    estimating ``rho`` and ``d0``, surrogates are ``(I - rho W)^-1 u`` with white
    noise ``u``, and each is rank-matched to the map's values (so each row is a
    permutation of ``data``), as in Burt et al. (2018) and neuromaps.

    Parameters
    ----------
    dist_mat : (n_parcels, n_parcels) array_like
        Distances in mm; ``inf`` = not a neighbour.
    fit : {"ml", "least_squares"}
        ``"ml"``: maximum likelihood of the spatial lag model with an intercept,
        with the concentrated log-likelihood
        ``log|I - rho W| - n/2 log(RSS / n)`` (Anselin 1988), profiled over ``rho``
        for each ``d0`` and maximised over ``log d0`` (grid + bounded refinement).
        ``"least_squares"``: minimise ``||y - rho W y||^2`` (the objective of
        neuromaps' ``estimate_rho_d0``; Levenberg-Marquardt from ``rho = 1`` and
        ``d0`` = median nearest-neighbour distance). Not constrained to
        ``|rho| < 1``; least squares is a biased estimator for this model, which is
        why ``"ml"`` is the default.
    boxcox : bool
        Fit on the Box-Cox transform of the map shifted by ``|min| + 0.1`` (as
        neuromaps does) instead of the centred map.
    rho, d0 : float, optional
        Fixed parameters: give both to skip estimation, or neither.

    Attributes
    ----------
    rho_, d0_ : float
        Estimated (or given) parameters.
    weights_ : (n_parcels, n_parcels) np.ndarray
        ``W`` at ``d0_``.

    References
    ----------
    Burt, J. B., Demirtas, M., Eckner, W. J., et al. (2018). Hierarchy of
    transcriptomic specialization across human cortex captured by structural
    neuroimaging topography. Nature Neuroscience, 21(9), 1251-1259.
    https://doi.org/10.1038/s41593-018-0195-0
    Anselin, L. (1988). Spatial Econometrics: Methods and Models. Kluwer.
    """

    def __init__(self, dist_mat, *, fit: Literal["ml", "least_squares"] = "ml",
                 boxcox: bool = True, rho: float | None = None, d0: float | None = None):
        check_option("fit", fit, ("ml", "least_squares"))
        self.dist_mat = check_sampler_dist(dist_mat)
        if (rho is None) != (d0 is None):
            raise InputError(f"rho, d0: expected both (fixed parameters) or neither (estimated); "
                             f"got rho={rho!r}, d0={d0!r}.")
        if d0 is not None and not d0 > 0:
            raise InputError(f"d0: expected a positive distance; got {d0!r}.")
        self.fit_method, self.boxcox, self.rho, self.d0 = fit, bool(boxcox), rho, d0

    # -- estimation -------------------------------------------------------------------
    def _d0_bounds(self) -> tuple[float, float]:
        off = self.dist_mat.copy()
        np.fill_diagonal(off, np.inf)
        finite = off[np.isfinite(off)]
        positive = finite[finite > 0]
        lo = np.min(off, axis=1)
        lo = lo[lo > 0].min() if (lo > 0).any() else positive.min()
        return 0.1 * lo, 10.0 * positive.max()

    def _profile_rho(self, y: np.ndarray, d0: float):
        """Best ``rho`` for a given ``d0``: (-loglik, rho)."""
        from scipy.optimize import minimize_scalar

        lam = _sar_eigenvalues(self.dist_mat, d0)
        wy = _sar_weights(self.dist_mat, d0) @ y
        n = y.size
        lo = max(1.0 / lam.min(), -1.0) + 1e-6 if lam.min() < 0 else -1.0 + 1e-6
        hi = 1.0 - 1e-6

        def negloglik(rho):
            e = y - rho * wy
            e = e - e.mean()
            return -(np.sum(np.log1p(-rho * lam)) - 0.5 * n * np.log(e @ e / n))

        res = minimize_scalar(negloglik, bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-6})
        return float(res.fun), float(res.x)

    def _fit_ml(self, y: np.ndarray) -> tuple[float, float]:
        from scipy.optimize import minimize_scalar

        lo, hi = np.log(self._d0_bounds())
        grid = np.linspace(lo, hi, 16)
        values = [self._profile_rho(y, np.exp(t))[0] for t in grid]
        i = int(np.argmin(values))
        a, c = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        res = minimize_scalar(lambda t: self._profile_rho(y, np.exp(t))[0], bounds=(a, c),
                              method="bounded", options={"xatol": 1e-3})
        t = res.x if res.fun <= values[i] else grid[i]
        return self._profile_rho(y, np.exp(t))[1], float(np.exp(t))

    def _fit_least_squares(self, y: np.ndarray) -> tuple[float, float]:
        from scipy.optimize import least_squares

        off = self.dist_mat.copy()
        np.fill_diagonal(off, np.inf)
        nearest = off.min(axis=1)
        rho0, d00 = 1.0, float(np.median(nearest[nearest > 0]))  # neuromaps: (1, 1 mm)

        def resid(p):
            rho, d0 = p
            return y - rho * (_sar_weights(self.dist_mat, max(abs(d0), 1e-12)) @ y)

        rho, d0 = least_squares(resid, [rho0, d00], method="lm").x
        return float(rho), float(abs(d0))

    def fit(self, data) -> Burt2018Sampler:
        """Estimate ``rho_`` and ``d0_`` from the complete map ``data`` (n_parcels,)."""
        n = self.dist_mat.shape[0]
        x = check_complete(data, n)
        if self.rho is not None and self.d0 is not None:
            rho, d0 = float(self.rho), float(self.d0)
        else:
            y = _boxcox_centred(x) if self.boxcox else x - x.mean()
            rho, d0 = (self._fit_ml(y) if self.fit_method == "ml"
                       else self._fit_least_squares(y))
        self.rho_, self.d0_ = rho, d0
        self.weights_ = _sar_weights(self.dist_mat, d0)
        # surrogates are rows of U @ A.T with A = (I - rho W)^-1
        self._transform = np.linalg.inv(np.eye(n) - rho * self.weights_).T
        self.data_ = x
        return self

    def draw(self, n: int, seed=None) -> np.ndarray:
        """``n`` surrogate maps, shape (n, n_parcels), rank-matched to the fitted map."""
        n, rng = start_draw(self, n, seed, "rho_")
        surr = rng.standard_normal((n, self.data_.size)) @ self._transform
        return _rank_match(surr, self.data_)


@fill_doc
def burt2018(data, dist_mat, n_perm: int = 1000, seed=None, *,
             fit: Literal["ml", "least_squares"] = "ml", boxcox: bool = True,
             rho: float | None = None, d0: float | None = None) -> np.ndarray:
    """Spatial autoregressive surrogate maps (Burt et al. 2018).

    Parameters
    ----------
    %(null_params)s
    fit, boxcox, rho, d0
        See :class:`Burt2018Sampler`.

    Returns
    -------
    nulls : (n_perm, n_parcels) np.ndarray
        Each row is a permutation of the non-NaN values of ``data``.

    References
    ----------
    Burt, J. B., et al. (2018). Hierarchy of transcriptomic specialization across
    human cortex captured by structural neuroimaging topography. Nature
    Neuroscience, 21(9), 1251-1259. https://doi.org/10.1038/s41593-018-0195-0
    """
    def run(x, d):
        return Burt2018Sampler(d, fit=fit, boxcox=boxcox, rho=rho, d0=d0).fit(x).draw(
            n_perm, seed)

    return apply_on_valid(data, dist_mat, n_perm, run)
