"""Moran spectral randomisation (MSR) and its variogram-selected variant.

MSR (Wagner & Dray 2015) writes a centred map in the basis of Moran eigenvector
maps (MEMs; Dray et al. 2006), the eigenvectors of the doubly centred spatial
weight matrix, and randomises the coefficients: "singleton" flips the sign of each
coefficient at random, "pair" rotates random pairs of coefficients by a random
angle. Both keep the map's mean and its norm; "singleton" also keeps its Moran's I
exactly (with all MEMs kept).

Array convention: ``data`` (n_parcels,), ``dist_mat`` (n_parcels, n_parcels) in mm
(``inf`` = no path, weight 0), nulls (n_perm, n_parcels). See
:mod:`nispace.nulls.shuffle` for the sampler protocol and NaN handling.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .._errors import check_option
from ..errors import InputError
from .burt import Variogram
from .shuffle import (apply_on_valid, check_complete, check_n_perm, check_sampler_dist,
                      fill_doc, start_draw)

__all__ = ["moran_weights", "morans_i", "MoranSampler", "moran", "VarioMoranSampler",
           "variomoran"]

_WEIGHTS = ("inverse", "inverse_squared", "binary_knn")


def moran_weights(dist_mat, weights: Literal["inverse", "inverse_squared", "binary_knn"]
                  = "inverse", n_neighbors: int | None = None) -> np.ndarray:
    """Symmetric spatial weight matrix with zero diagonal from distances.

    Parameters
    ----------
    dist_mat : (n_parcels, n_parcels) array_like
        Distances; ``inf`` gives weight 0.
    weights : {"inverse", "inverse_squared", "binary_knn"}
        ``1 / D`` (BrainSpace and neuromaps default), ``1 / D**2``, or 1 between
        each parcel and its ``n_neighbors`` nearest parcels (made symmetric: 1 if
        either is among the other's nearest).
    n_neighbors : int, optional
        Neighbours per parcel for ``"binary_knn"`` (required there).

    Returns
    -------
    w : (n_parcels, n_parcels) np.ndarray
    """
    check_option("weights", weights, _WEIGHTS)
    dist = check_sampler_dist(dist_mat)
    n = dist.shape[0]
    off = dist.copy()
    np.fill_diagonal(off, np.inf)
    if weights == "binary_knn":
        if (isinstance(n_neighbors, bool) or not isinstance(n_neighbors, (int, np.integer))
                or not 1 <= n_neighbors < n):
            raise InputError(f"n_neighbors: expected an integer in [1, {n - 1}] for "
                             f"weights='binary_knn'; got {n_neighbors!r}.")
        nearest = np.argsort(off, axis=1, kind="stable")[:, :n_neighbors]
        w = np.zeros((n, n))
        np.put_along_axis(w, nearest, 1.0, axis=1)
        w[~np.isfinite(off)] = 0.0
        return np.maximum(w, w.T)
    if (off == 0).any():
        raise InputError(f"dist_mat: weights={weights!r} needs positive distances between "
                         f"different parcels; got {int((off == 0).sum()) // 2} pair(s) at "
                         f"distance 0.")
    w = 1.0 / off if weights == "inverse" else 1.0 / np.square(off)
    return w


def morans_i(data, weights) -> float | np.ndarray:
    """Moran's I of one map or of each row of several maps.

    ``I = n / S0 * (z' W z) / (z' z)`` with ``z`` the centred map and ``S0`` the
    sum of all weights (Moran 1950).

    Parameters
    ----------
    data : (n_parcels,) or (n_maps, n_parcels) array_like
        Complete maps (no NaN).
    weights : (n_parcels, n_parcels) array_like
        Spatial weights, e.g. from :func:`moran_weights`.

    Returns
    -------
    float or (n_maps,) np.ndarray
    """
    x = np.asarray(data, dtype=float)
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2 or w.shape != (x.shape[-1], x.shape[-1]):
        raise InputError(f"weights: expected shape ({x.shape[-1]}, {x.shape[-1]}) to match data; "
                         f"got {w.shape}.")
    z = x - x.mean(axis=-1, keepdims=True)
    num = np.einsum("...i,...i->...", z @ w, z)
    i = x.shape[-1] / w.sum() * num / np.einsum("...i,...i->...", z, z)
    return float(i) if x.ndim == 1 else i


def _moran_eigenvectors(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MEMs of ``w``: eigenpairs of ``w`` on the subspace orthogonal to the constant.

    Equivalent to the eigenvectors of the doubly centred ``w`` without its
    constant eigenvector: ``w`` is projected onto an orthonormal basis ``Q`` of
    the complement of ``1`` (a Householder reflection sending ``e_1`` to
    ``1 / sqrt(n)``), so the constant direction is removed exactly rather than by
    an eigenvalue tolerance. Returns eigenvalues (descending) and MEMs (columns).
    """
    n = w.shape[0]
    v = np.full(n, 1.0 / np.sqrt(n))
    v[0] -= 1.0
    c = 2.0 / (v @ v)  # reflection H = I - c v v', H e_1 = 1 / sqrt(n)
    a = w - c * np.outer(v, v @ w)
    a -= c * np.outer(a @ v, v)  # a = H w H
    lam, u = np.linalg.eigh(a[1:, 1:])
    lam, u = lam[::-1], u[:, ::-1]
    emb = np.vstack([np.zeros((1, u.shape[1])), u])  # Q u = H [0; u]
    return lam, emb - c * np.outer(v, v @ emb)


class MoranSampler:
    """Moran spectral randomisation (Wagner & Dray 2015), as BrainSpace's MoranRandomization.

    Preparation (once per parcel set): the spatial weight matrix and its Moran
    eigenvector maps (MEMs). Fitting (once per map): the map's coefficients in the
    MEM basis. Drawing: random signs ("singleton") or random rotations of random
    pairs of coefficients ("pair"), all surrogates of a call in one matrix product.

    Parameters
    ----------
    dist_mat : (n_parcels, n_parcels) array_like
        Distances in mm; ``inf`` = weight 0.
    procedure : {"singleton", "pair"}
        Coefficient randomisation.
    weights, n_neighbors
        Spatial weights, see :func:`moran_weights` (default inverse distance, as
        BrainSpace/neuromaps).
    tol : float
        MEMs whose eigenvalue is at most ``tol * max|eigenvalue|`` in magnitude
        are dropped (BrainSpace's ``spectrum="nonzero"``, with a relative instead
        of an absolute tolerance). The constant direction is always removed.

    Attributes
    ----------
    weights_ : (n_parcels, n_parcels) np.ndarray
        Spatial weight matrix.
    eigenvalues_ : (n_components,) np.ndarray
        MEM eigenvalues, descending.
    mem_ : (n_parcels, n_components) np.ndarray
        Orthonormal MEMs, each orthogonal to the constant map.
    coef_ : (n_components,) np.ndarray
        Coefficients of the fitted centred map (after :meth:`fit`).

    Notes
    -----
    What is preserved (``z`` = centred map, ``c = mem_.T z``): every surrogate has
    the map's mean exactly and norm ``||c||``, which equals ``||z||`` when no MEM
    was dropped (``n_components = n_parcels - 1``). "singleton" keeps every
    ``c_k^2`` and hence Moran's I exactly (then); "pair" only keeps
    ``c_a^2 + c_b^2`` per pair, so Moran's I varies slightly. BrainSpace's
    ``joint`` option only matters when several maps are randomised together; here
    each map is randomised on its own.

    References
    ----------
    Wagner, H. H., & Dray, S. (2015). Generating spatially constrained null models
    for irregularly spaced data using Moran spectral randomization methods. Methods
    in Ecology and Evolution, 6(10), 1169-1178. https://doi.org/10.1111/2041-210X.12407
    Dray, S., Legendre, P., & Peres-Neto, P. R. (2006). Spatial modelling: a
    comprehensive framework for principal coordinate analysis of neighbour matrices
    (PCNM). Ecological Modelling, 196(3-4), 483-493.
    https://doi.org/10.1016/j.ecolmodel.2006.02.015
    Vos de Wael, R., et al. (2020). BrainSpace: a toolbox for the analysis of
    macroscale gradients in neuroimaging and connectomics datasets. Communications
    Biology, 3, 103. https://doi.org/10.1038/s42003-020-0794-7
    """

    def __init__(self, dist_mat, *, procedure: Literal["singleton", "pair"] = "singleton",
                 weights: Literal["inverse", "inverse_squared", "binary_knn"] = "inverse",
                 n_neighbors: int | None = None, tol: float = 1e-6):
        check_option("procedure", procedure, ("singleton", "pair"))
        if not 0 <= tol < 1:
            raise InputError(f"tol: expected a relative tolerance in [0, 1); got {tol!r}.")
        self.procedure, self.tol = procedure, tol
        self.weights_ = moran_weights(dist_mat, weights, n_neighbors)
        lam, mem = _moran_eigenvectors(self.weights_)
        keep = np.abs(lam) > tol * np.abs(lam).max()
        self.eigenvalues_, self.mem_ = lam[keep], np.ascontiguousarray(mem[:, keep])

    def fit(self, data) -> MoranSampler:
        """Store the complete map ``data`` (n_parcels,): its mean and MEM coefficients."""
        x = check_complete(data, self.mem_.shape[0])
        self.mean_ = float(x.mean())
        self.coef_ = self.mem_.T @ (x - self.mean_)
        return self

    def _random_coefs(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, n_components) randomised coefficients."""
        c = self.coef_
        k = c.size
        if self.procedure == "singleton" or k < 2:
            return c * rng.choice([-1.0, 1.0], size=(n, k))
        half = k // 2
        perm = rng.permuted(np.tile(np.arange(k), (n, 1)), axis=1)
        a, b = perm[:, :half], perm[:, half:2 * half]
        radius = np.hypot(c[a], c[b])
        phi = rng.uniform(0.0, 2.0 * np.pi, size=(n, half))
        out = np.empty((n, k))
        np.put_along_axis(out, a, radius * np.cos(phi), axis=1)
        np.put_along_axis(out, b, radius * np.sin(phi), axis=1)
        if k % 2:  # the unpaired MEM gets a random sign
            last = perm[:, -1]
            out[np.arange(n), last] = c[last] * rng.choice([-1.0, 1.0], size=n)
        return out

    def draw(self, n: int, seed=None) -> np.ndarray:
        """``n`` surrogate maps, shape (n, n_parcels); depends only on the fit, n and seed."""
        n, rng = start_draw(self, n, seed, "coef_")
        return self.mean_ + self._random_coefs(n, rng) @ self.mem_.T


@fill_doc
def moran(data, dist_mat, n_perm: int = 1000, seed=None, *,
          procedure: Literal["singleton", "pair"] = "singleton",
          weights: Literal["inverse", "inverse_squared", "binary_knn"] = "inverse",
          n_neighbors: int | None = None, tol: float = 1e-6) -> np.ndarray:
    """Moran spectral randomisation null maps (Wagner & Dray 2015).

    Parameters
    ----------
    %(null_params)s
    procedure, weights, n_neighbors, tol
        See :class:`MoranSampler`.

    Returns
    -------
    nulls : (n_perm, n_parcels) np.ndarray

    References
    ----------
    Wagner, H. H., & Dray, S. (2015). Generating spatially constrained null models
    for irregularly spaced data using Moran spectral randomization methods. Methods
    in Ecology and Evolution, 6(10), 1169-1178. https://doi.org/10.1111/2041-210X.12407
    """
    def run(x, d):
        sampler = MoranSampler(d, procedure=procedure, weights=weights,
                               n_neighbors=n_neighbors, tol=tol)
        return sampler.fit(x).draw(n_perm, seed)

    return apply_on_valid(data, dist_mat, n_perm, run)


class VarioMoranSampler(MoranSampler):
    """MSR surrogates selected for the best variogram match ("variomoran").

    For every requested surrogate, ``pool_factor`` MSR surrogates are drawn (see
    :class:`MoranSampler`); the smoothed variogram of each (:class:`Variogram`,
    BrainSMASH's estimator; Burt et al. 2020) is compared with the map's by mean
    squared error over the ``nh`` distances, and the ``n`` surrogates with the
    smallest error are returned, in the order they were drawn. MSR keeps Moran's I
    (a single global summary of autocorrelation); the selection additionally
    favours surrogates whose distance-resolved autocorrelation (the variogram up to
    the ``pv``-th distance percentile) resembles the map's.

    Parameters
    ----------
    dist_mat : (n_parcels, n_parcels) array_like
        Distances in mm.
    pool_factor : int
        Candidates drawn per returned surrogate.
    nh, pv, b
        Variogram settings, see :class:`Variogram`.
    **moran_kw
        ``procedure``, ``weights``, ``n_neighbors``, ``tol`` of :class:`MoranSampler`.

    Attributes
    ----------
    variogram : Variogram
    target_ : (nh,) np.ndarray
        Variogram of the fitted map.

    Notes
    -----
    A chunk of ``n`` surrogates is selected from its own pool of
    ``pool_factor * n`` candidates, so results depend on the chunk size for a
    given seed. The upstream NiSpace toolbox uses the name "variomoran" for a
    different idea (MEMs of a covariance kernel fitted to the variogram); this
    class implements selection from an MSR pool.

    References
    ----------
    Wagner, H. H., & Dray, S. (2015). Methods in Ecology and Evolution, 6(10),
    1169-1178. https://doi.org/10.1111/2041-210X.12407
    Burt, J. B., et al. (2020). Generative modeling of brain maps with spatial
    autocorrelation. NeuroImage, 220, 117038.
    https://doi.org/10.1016/j.neuroimage.2020.117038
    """

    def __init__(self, dist_mat, *, pool_factor: int = 10, nh: int = 25, pv: float = 25,
                 b: float | None = None, **moran_kw):
        super().__init__(dist_mat, **moran_kw)
        self.pool_factor = check_n_perm(pool_factor, "pool_factor")
        self.variogram = Variogram(check_sampler_dist(dist_mat), nh=nh, pv=pv, b=b)

    def fit(self, data) -> VarioMoranSampler:
        """Store the complete map ``data`` (n_parcels,) and its variogram ``target_``."""
        super().fit(data)
        self.target_ = self.variogram(np.asarray(data, dtype=float))
        return self

    def draw(self, n: int, seed=None) -> np.ndarray:
        """``n`` selected surrogates, shape (n, n_parcels)."""
        n = check_n_perm(n, "n")
        pool = super().draw(n * self.pool_factor, seed)
        err = np.mean(np.square(self.variogram(pool) - self.target_), axis=1)
        best = np.sort(np.argpartition(err, n - 1)[:n])
        return pool[best]


@fill_doc
def variomoran(data, dist_mat, n_perm: int = 1000, seed=None, *, pool_factor: int = 10,
               nh: int = 25, pv: float = 25, b: float | None = None,
               procedure: Literal["singleton", "pair"] = "singleton",
               weights: Literal["inverse", "inverse_squared", "binary_knn"] = "inverse",
               n_neighbors: int | None = None, tol: float = 1e-6) -> np.ndarray:
    """MSR null maps selected to match the map's variogram (see :class:`VarioMoranSampler`).

    Parameters
    ----------
    %(null_params)s
    pool_factor, nh, pv, b
        Selection settings, see :class:`VarioMoranSampler`.
    procedure, weights, n_neighbors, tol
        MSR settings, see :class:`MoranSampler`.

    Returns
    -------
    nulls : (n_perm, n_parcels) np.ndarray

    References
    ----------
    Wagner, H. H., & Dray, S. (2015). Methods in Ecology and Evolution, 6(10),
    1169-1178. https://doi.org/10.1111/2041-210X.12407
    Burt, J. B., et al. (2020). NeuroImage, 220, 117038.
    https://doi.org/10.1016/j.neuroimage.2020.117038
    """
    def run(x, d):
        sampler = VarioMoranSampler(d, pool_factor=pool_factor, nh=nh, pv=pv, b=b,
                                    procedure=procedure, weights=weights,
                                    n_neighbors=n_neighbors, tol=tol)
        return sampler.fit(x).draw(n_perm, seed)

    return apply_on_valid(data, dist_mat, n_perm, run)
