"""Distance-based surrogate nulls: Moran spectral randomisation, variogram-selected MSR,
Burt et al. 2020 (variogram matching), Burt et al. 2018 (SAR) and plain permutation.

Every test builds a small synthetic problem: parcels at random 3-D positions,
Euclidean distances, and a map drawn from a Gaussian process with exponential
covariance (so it is spatially autocorrelated). Peer packages (BrainSpace,
BrainSMASH, neuromaps) serve as independent references where they are installed.
"""

from __future__ import annotations

import copy
import sys

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from nispace._random import chunk_seeds
from nispace.nulls.burt import (Burt2018Sampler, Burt2020Sampler, Variogram, burt2018,
                                burt2020, variogram)
from nispace.nulls.moran import (MoranSampler, VarioMoranSampler, moran, moran_weights,
                                 morans_i, variomoran)
from nispace.nulls.shuffle import RandomSampler, random


def make_problem(n: int = 200, seed: int = 0, scale: float = 25.0):
    """Distances (n, n) between random points in a 100 mm cube and an autocorrelated map."""
    rng = np.random.default_rng(seed)
    coords = rng.uniform(0, 100, size=(n, 3))
    dist = cdist(coords, coords)
    cov = np.exp(-dist / scale)
    data = np.linalg.cholesky(cov + 1e-8 * np.eye(n)) @ rng.standard_normal(n)
    return dist, data


def make_two_hemispheres(n_half: int = 80, seed: int = 1):
    """Two independent blocks with ``inf`` distances between them (like fsLR geodesics)."""
    d_l, x_l = make_problem(n_half, seed)
    d_r, x_r = make_problem(n_half, seed + 100)
    dist = np.full((2 * n_half, 2 * n_half), np.inf)
    dist[:n_half, :n_half], dist[n_half:, n_half:] = d_l, d_r
    return dist, np.concatenate([x_l, x_r])


@pytest.fixture(scope="module")
def problem():
    return make_problem()


# all public null functions with small, fast settings
NULLS = {
    "random": lambda x, d, n, seed: random(x, n, seed),
    "moran": lambda x, d, n, seed: moran(x, d, n, seed),
    "moran_pair": lambda x, d, n, seed: moran(x, d, n, seed, procedure="pair"),
    "variomoran": lambda x, d, n, seed: variomoran(x, d, n, seed, pool_factor=3),
    "burt2020": lambda x, d, n, seed: burt2020(x, d, n, seed),
    "burt2018": lambda x, d, n, seed: burt2018(x, d, n, seed),
}


# --------------------------------------------------------------------------------------
# plain permutation
# --------------------------------------------------------------------------------------

def test_random_rows_are_permutations_of_the_valid_values(problem):
    _, x = problem
    x = x.copy()
    x[[3, 50]] = np.nan
    nulls = random(x, n_perm=20, seed=0)
    assert nulls.shape == (20, x.size)
    assert np.isnan(nulls[:, [3, 50]]).all()
    valid = ~np.isnan(x)
    expected = np.sort(x[valid])
    for row in nulls:
        np.testing.assert_array_equal(np.sort(row[valid]), expected)
    assert not np.array_equal(nulls[0], nulls[1])


# --------------------------------------------------------------------------------------
# Moran spectral randomisation
# --------------------------------------------------------------------------------------

def test_morans_i_matches_the_textbook_double_sum():
    dist, x = make_problem(30, seed=3)
    w = moran_weights(dist)
    z = x - x.mean()
    num = sum(w[i, j] * z[i] * z[j] for i in range(30) for j in range(30))
    expected = 30 / w.sum() * num / np.sum(z**2)
    assert morans_i(x, w) == pytest.approx(expected, rel=1e-12)
    rows = np.stack([x, -x, x[::-1]])
    np.testing.assert_allclose(morans_i(rows, w), [morans_i(r, w) for r in rows])


def test_moran_weights_are_symmetric_with_zero_diagonal(problem):
    dist, _ = problem
    for kind in ("inverse", "inverse_squared"):
        w = moran_weights(dist, kind)
        np.testing.assert_allclose(w, w.T)
        assert np.all(np.diag(w) == 0)
    knn = moran_weights(dist, "binary_knn", n_neighbors=5)
    np.testing.assert_array_equal(knn, knn.T)
    assert set(np.unique(knn)) == {0.0, 1.0}
    assert (knn.sum(axis=1) >= 5).all() and np.all(np.diag(knn) == 0)
    with pytest.raises(ValueError, match="n_neighbors"):
        moran_weights(dist, "binary_knn")


def test_moran_eigenvectors_match_brainspace(problem):
    brainspace = pytest.importorskip("brainspace.null_models.moran")
    dist, _ = problem
    ours = MoranSampler(dist)
    mem, ev = brainspace.compute_mem(moran_weights(dist), tol=1e-6)
    # same spectrum (BrainSpace decomposes in float32) and MEMs orthogonal to the constant
    assert ours.mem_.shape == (dist.shape[0], dist.shape[0] - 1) == mem.shape
    np.testing.assert_allclose(ours.eigenvalues_, ev, atol=1e-5 * np.abs(ev).max())
    np.testing.assert_allclose(ours.mem_.T @ ours.mem_, np.eye(ours.mem_.shape[1]), atol=1e-10)
    np.testing.assert_allclose(ours.mem_.sum(axis=0), 0, atol=1e-10)


def test_moran_singleton_keeps_mean_norm_and_morans_i_exactly(problem):
    dist, x = problem
    nulls = moran(x, dist, n_perm=50, seed=0)
    w = moran_weights(dist)
    np.testing.assert_allclose(nulls.mean(axis=1), x.mean(), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(nulls - nulls.mean(axis=1, keepdims=True), axis=1),
                               np.linalg.norm(x - x.mean()), rtol=1e-12)
    np.testing.assert_allclose(morans_i(nulls, w), morans_i(x, w), rtol=1e-9)
    assert np.abs(np.corrcoef(nulls)[0, 1:]).max() < 0.9  # but the maps differ


def test_moran_pair_keeps_mean_and_norm(problem):
    dist, x = problem
    nulls = moran(x, dist, n_perm=50, seed=0, procedure="pair")
    np.testing.assert_allclose(nulls.mean(axis=1), x.mean(), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(nulls - nulls.mean(axis=1, keepdims=True), axis=1),
                               np.linalg.norm(x - x.mean()), rtol=1e-12)


@pytest.mark.parametrize("procedure", ["singleton", "pair"])
def test_moran_keeps_morans_i_as_well_as_brainspace(problem, procedure):
    brainspace = pytest.importorskip("brainspace.null_models.moran")
    dist, x = problem
    w = moran_weights(dist)
    ours = moran(x, dist, n_perm=200, seed=0, procedure=procedure)
    theirs = brainspace.MoranRandomization(procedure=procedure, n_rep=200, tol=1e-6,
                                           random_state=0).fit(w).randomize(x)
    dev_ours = np.abs(morans_i(ours, w) - morans_i(x, w)).mean()
    dev_theirs = np.abs(morans_i(theirs, w) - morans_i(x, w)).mean()
    assert dev_ours <= 1.5 * dev_theirs + 1e-8


def test_variomoran_selects_msr_surrogates_with_closer_variograms(problem):
    dist, x = problem
    target = variogram(x, dist)
    msr = moran(x, dist, n_perm=100, seed=0)
    selected = variomoran(x, dist, n_perm=100, seed=0, pool_factor=10)
    mse = lambda s: np.mean((variogram(s, dist) - target) ** 2, axis=1)  # noqa: E731
    assert np.median(mse(selected)) < 0.5 * np.median(mse(msr))
    # still MSR surrogates: same mean and Moran's I as the map
    w = moran_weights(dist)
    np.testing.assert_allclose(selected.mean(axis=1), x.mean(), atol=1e-12)
    np.testing.assert_allclose(morans_i(selected, w), morans_i(x, w), rtol=1e-9)


# --------------------------------------------------------------------------------------
# Burt et al. (2020): variogram matching
# --------------------------------------------------------------------------------------

def test_variogram_matches_brainsmash(problem):
    mapgen = pytest.importorskip("brainsmash.mapgen")
    dist, x = problem
    ref = mapgen.Base(x, dist, seed=0)
    gamma, h = variogram(x, dist, return_h=True)
    np.testing.assert_allclose(gamma, ref.compute_smooth_variogram(x), rtol=1e-10)
    np.testing.assert_allclose(h, ref.h)
    rows = np.stack([x, x**2, -x])
    np.testing.assert_allclose(variogram(rows, dist),
                               [ref.compute_smooth_variogram(r) for r in rows], rtol=1e-10)


def test_burt2020_smoothing_matches_brainsmash(problem):
    mapgen = pytest.importorskip("brainsmash.mapgen")
    dist, x = problem
    ref = mapgen.Base(x, dist, seed=0)
    ours = Burt2020Sampler(dist).fit(x)
    perm = np.random.default_rng(0).permuted(np.tile(x, (4, 1)), axis=1)
    smooth = ours._smooth(perm)  # (4, n_deltas, n_parcels)
    for k, delta in enumerate(ref.deltas):
        np.testing.assert_allclose(smooth[:, k], ref.smooth_map(perm.T, delta).T, atol=1e-12)


def test_burt2020_fits_the_variogram_no_worse_than_brainsmash():
    mapgen = pytest.importorskip("brainsmash.mapgen")
    dist, x = make_problem(150, seed=0)
    ref = mapgen.Base(x, dist, seed=1)
    target = ref.compute_smooth_variogram(x)

    def mse(surrogates):  # one evaluator (BrainSMASH's variogram) for both
        return np.array([np.mean((ref.compute_smooth_variogram(s) - target) ** 2)
                         for s in surrogates])

    ours = mse(burt2020(x, dist, n_perm=500, seed=1))
    theirs = mse(ref(500, 50))
    assert np.median(ours) <= 1.15 * np.median(theirs)


def test_burt2020_resample_semantics_follow_brainsmash(problem):
    dist, x = problem
    # resample=True: the map's values, rank-matched to the surrogate
    kept = burt2020(x, dist, n_perm=20, seed=0, resample=True)
    for row in kept:
        np.testing.assert_array_equal(np.sort(row), np.sort(x))
    # resample=False (default): generated values, de-meaned
    demeaned = burt2020(x, dist, n_perm=20, seed=0)
    np.testing.assert_allclose(demeaned.mean(axis=1), 0, atol=1e-12)
    assert not np.allclose(np.sort(demeaned[0]), np.sort(x - x.mean()))


def test_burt2020_dense_and_sparse_smoothing_agree(problem, monkeypatch):
    # the module, not the function of the same name re-exported by nispace.nulls
    burt_module = sys.modules[Burt2020Sampler.__module__]
    dist, x = problem
    dense = burt2020(x, dist, n_perm=10, seed=4)
    monkeypatch.setattr(burt_module, "_DENSE_MAX_ELEMENTS", 0)
    sparse = burt2020(x, dist, n_perm=10, seed=4)
    np.testing.assert_allclose(dense, sparse, atol=1e-10)


def test_burt2020_smooths_only_within_reachable_parcels():
    dist, x = make_two_hemispheres()
    sampler = Burt2020Sampler(dist).fit(x)
    # smoothing the unit maps gives the smoothing weights: weights[delta, i, j]
    weights = sampler._smooth(np.eye(dist.shape[0])).transpose(1, 2, 0)
    half = dist.shape[0] // 2
    assert np.all(weights[:, :half, half:] == 0) and np.all(weights[:, half:, :half] == 0)
    # each parcel uses int(delta * 80) of its hemisphere's parcels, as BrainSMASH would on
    # one hemisphere of 80 parcels
    for k, delta in enumerate(sampler.deltas):
        assert (np.count_nonzero(weights[k], axis=1) == int(delta * half)).all()
    np.testing.assert_allclose(weights.sum(axis=2), 1)


# --------------------------------------------------------------------------------------
# Burt et al. (2018): spatial autoregressive model
# --------------------------------------------------------------------------------------

def _sar_loglik(y, dist, rho, d0):
    """Concentrated log-likelihood of y = rho W y + alpha + e, written out directly."""
    w = np.exp(-dist / d0)
    np.fill_diagonal(w, 0)
    w /= w.sum(axis=1, keepdims=True)
    a = np.eye(y.size) - rho * w
    e = a @ y
    e -= e.mean()
    return np.linalg.slogdet(a)[1] - 0.5 * y.size * np.log(e @ e / y.size)


def test_burt2018_surrogates_are_rank_matched_permutations(problem):
    dist, x = problem
    nulls = burt2018(x, dist, n_perm=30, seed=0)
    for row in nulls:
        np.testing.assert_array_equal(np.sort(row), np.sort(x))


def test_burt2018_ml_fit_beats_a_brute_force_grid():
    dist, x = make_problem(120, seed=2)
    sampler = Burt2018Sampler(dist, boxcox=False).fit(x)
    y = x - x.mean()
    best = _sar_loglik(y, dist, sampler.rho_, sampler.d0_)
    grid = max(_sar_loglik(y, dist, r, d) for r in np.linspace(0.05, 0.95, 10)
               for d in np.geomspace(1, 60, 12))
    assert 0 < sampler.rho_ < 1
    assert best >= grid - 1e-6


def test_burt2018_is_close_to_neuromaps_and_keeps_autocorrelation(problem):
    nm_burt = pytest.importorskip("neuromaps.nulls.burt")
    dist, x = problem
    rho_nm, d0_nm = nm_burt.estimate_rho_d0(dist, x + np.abs(x.min()) + 0.1)
    # least squares: neuromaps' objective (neuromaps normalises W by column sums, we by
    # row sums as in Burt et al. 2018, so only loose agreement is expected)
    ls = Burt2018Sampler(dist, fit="least_squares").fit(x)
    assert abs(ls.rho_ - rho_nm) < 0.25 and 0.5 < ls.d0_ / d0_nm < 2
    # maximum likelihood: similar length scale, and surrogates as autocorrelated as the map
    ml = Burt2018Sampler(dist).fit(x)
    assert 0.5 < ml.d0_ / d0_nm < 2
    w = moran_weights(dist)
    assert morans_i(ml.draw(300, seed=0), w).mean() == pytest.approx(morans_i(x, w), rel=0.3)


# --------------------------------------------------------------------------------------
# shared behaviour of all null functions
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NULLS)
def test_nan_parcels_stay_nan(problem, name):
    dist, x = problem
    x = x.copy()
    x[[0, 17, 150]] = np.nan
    nulls = NULLS[name](x, dist, 8, 0)
    assert nulls.shape == (8, x.size)
    assert np.isnan(nulls[:, [0, 17, 150]]).all()
    assert np.isfinite(np.delete(nulls, [0, 17, 150], axis=1)).all()


@pytest.mark.parametrize("name", NULLS)
def test_inf_distances_between_hemispheres_are_accepted(name):
    dist, x = make_two_hemispheres()
    nulls = NULLS[name](x, dist, 8, 0)
    assert nulls.shape == (8, x.size) and np.isfinite(nulls).all()


@pytest.mark.parametrize("name", NULLS)
def test_same_seed_same_nulls(problem, name):
    dist, x = problem
    a = NULLS[name](x, dist, 6, 42)
    b = NULLS[name](x, dist, 6, np.random.SeedSequence(42))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, NULLS[name](x, dist, 6, 43))


SAMPLERS = {
    "random": lambda d: RandomSampler(),
    "moran": lambda d: MoranSampler(d),
    "moran_pair": lambda d: MoranSampler(d, procedure="pair"),
    "variomoran": lambda d: VarioMoranSampler(d, pool_factor=3),
    "burt2020": lambda d: Burt2020Sampler(d),
    "burt2018": lambda d: Burt2018Sampler(d),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_chunked_draws_are_deterministic(problem, name):
    dist, x = problem
    prepared = SAMPLERS[name](dist)
    seeds = chunk_seeds(7, 2)

    def run(sampler):
        return np.vstack([sampler.draw(5, s) for s in seeds])

    first = run(copy.copy(prepared).fit(x))
    again = run(copy.copy(prepared).fit(x))  # prepared once, fitted twice (as the engine does)
    fresh = run(SAMPLERS[name](dist).fit(x))
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, fresh)
    assert not np.array_equal(first[:5], first[5:])


@pytest.mark.parametrize("name", [n for n in SAMPLERS if n != "random"])
def test_draw_before_fit_raises(problem, name):
    dist, _ = problem
    with pytest.raises(RuntimeError, match="fit"):
        SAMPLERS[name](dist).draw(3, 0)


@pytest.mark.parametrize("name", [n for n in NULLS if n != "random"])
def test_bad_distance_matrices_are_rejected(problem, name):
    dist, x = problem
    with pytest.raises(ValueError, match="dist_mat.*shape"):
        NULLS[name](x, dist[:-1, :-1], 5, 0)
    with pytest.raises(ValueError, match="dist_mat.*square"):
        NULLS[name](x, dist[:, :-1], 5, 0)
    with pytest.raises(ValueError, match="dist_mat.*symmetric"):
        NULLS[name](x, dist + np.triu(np.ones_like(dist)), 5, 0)
    isolated = dist.copy()
    isolated[0, 1:] = isolated[1:, 0] = np.inf
    with pytest.raises(ValueError, match="dist_mat.*finite distance"):
        NULLS[name](x, isolated, 5, 0)


@pytest.mark.parametrize("name", NULLS)
@pytest.mark.parametrize("n_perm", [0, -3, 2.5])
def test_bad_n_perm_is_rejected(problem, name, n_perm):
    dist, x = problem
    with pytest.raises(ValueError, match="n_perm"):
        NULLS[name](x, dist, n_perm, 0)


@pytest.mark.parametrize("name", [n for n in NULLS if n != "random"])
def test_constant_map_is_rejected(problem, name):
    dist, _ = problem
    with pytest.raises(ValueError, match="data.*non-constant"):
        NULLS[name](np.ones(dist.shape[0]), dist, 5, 0)


def test_option_errors_name_the_argument(problem):
    dist, x = problem
    with pytest.raises(ValueError, match="procedure"):
        moran(x, dist, 5, procedure="triplet")
    with pytest.raises(ValueError, match="kernel"):
        burt2020(x, dist, 5, kernel="box")
    with pytest.raises(ValueError, match="deltas"):
        burt2020(x, dist, 5, deltas=[0.5, 1.5])
    with pytest.raises(ValueError, match="fit"):
        burt2018(x, dist, 5, fit="bayes")
    with pytest.raises(ValueError, match="rho, d0"):
        burt2018(x, dist, 5, rho=0.5)
    with pytest.raises(ValueError, match="pv"):
        Variogram(dist, pv=0)
