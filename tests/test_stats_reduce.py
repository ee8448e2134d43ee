"""reduce_x (nispace.stats.reduce) against NumPy and scikit-learn called directly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA, FactorAnalysis, FastICA

from nispace.stats.factor import count_factors, factor_analysis
from nispace.stats.reduce import REDUCE_METHODS, ReducedX, reduce_x


@pytest.fixture
def X():
    """8 maps x 50 parcels built from 3 spatial patterns plus noise."""
    rng = np.random.default_rng(123)
    patterns = rng.laplace(size=(3, 50))  # non-Gaussian sources, so ICA converges
    mixing = rng.normal(size=(8, 3))
    return mixing @ patterns + 0.1 * rng.normal(size=(8, 50))


def assert_same_up_to_sign(a, b, **kw):
    """Compare component maps row by row, allowing each row to flip sign."""
    assert a.shape == b.shape
    for r1, r2 in zip(a, b):
        sign = np.sign(np.dot(r1, r2)) or 1.0
        np.testing.assert_allclose(r1, sign * r2, **kw)


# ---------------------------------------------------------------------------
# averages
# ---------------------------------------------------------------------------

def test_mean_and_median(X):
    maps, labels, ev, loadings, sets = reduce_x(X, "mean")
    np.testing.assert_allclose(maps, X.mean(0, keepdims=True))
    assert labels == ["mean"] and ev is None and loadings is None and sets is None
    maps, labels, *_ = reduce_x(X, "MEDIAN")
    np.testing.assert_allclose(maps, np.median(X, 0, keepdims=True))
    assert labels == ["median"]


def test_per_set_in_order_of_first_appearance(X):
    sets = np.array(["glia", "neuron", "glia", "vasc", "neuron", "neuron", "glia", "vasc"])
    maps, labels, *_ = reduce_x(X, "mean", sets=sets)
    assert labels == ["glia", "neuron", "vasc"]
    for row, s in zip(maps, labels):
        np.testing.assert_allclose(row, X[sets == s].mean(0))
    maps, labels, *_ = reduce_x(X, "median", sets=list(sets))
    for row, s in zip(maps, labels):
        np.testing.assert_allclose(row, np.median(X[sets == s], 0))


def test_weighted_mean(X):
    w = np.arange(1, 9, dtype=float)
    maps, *_ = reduce_x(X, "mean", weights=w)
    np.testing.assert_allclose(maps[0], np.average(X, axis=0, weights=w))
    sets = [1, 1, 2, 2, 2, 1, 3, 3]
    maps, labels, *_ = reduce_x(X, "mean", sets=sets, weights=w)
    assert labels == ["1", "2", "3"]
    for row, s in zip(maps, (1, 2, 3)):
        idx = np.array(sets) == s
        np.testing.assert_allclose(row, np.average(X[idx], axis=0, weights=w[idx]))


def test_mean_ignores_nan_per_parcel(X):
    Xn = X.copy()
    Xn[2, 5] = np.nan
    Xn[:, 7] = np.nan
    maps, *_ = reduce_x(Xn, "mean", weights=np.ones(8))
    assert maps[0, 5] == pytest.approx(np.delete(X[:, 5], 2).mean())
    assert np.isnan(maps[0, 7])
    maps, *_ = reduce_x(Xn, "median")
    assert maps[0, 5] == pytest.approx(np.median(np.delete(X[:, 5], 2)))
    assert np.isnan(maps[0, 7])


# ---------------------------------------------------------------------------
# components: all maps
# ---------------------------------------------------------------------------

def standardized(X):
    """Maps z-scored across parcels (population SD), as columns of a parcels x maps array."""
    data = X.T
    return (data - data.mean(0)) / data.std(0)


def test_pca_against_numpy_svd_of_the_standardized_maps(X):
    Z = standardized(X)
    U, S, Vt = np.linalg.svd(Z, full_matrices=False)
    res = reduce_x(Z.T, "pca", n_components=3)
    assert isinstance(res, ReducedX) and res.labels == ["c0", "c1", "c2"]
    np.testing.assert_allclose(res.explained_variance, (S ** 2 / (S ** 2).sum())[:3])
    assert_same_up_to_sign(res.maps, (U * S)[:, :3].T, rtol=1e-8, atol=1e-10)
    # loadings: correlation of map j with component k = V[j, k] * S[k] / sqrt(n_parcels)
    expected = Vt.T[:, :3] * S[:3] / np.sqrt(Z.shape[0])
    assert_same_up_to_sign(res.loadings.T, expected.T, rtol=1e-8, atol=1e-10)
    assert res.explained_variance.sum() > 0.95  # three patterns generated the data
    full = reduce_x(Z.T, "pca")
    assert full.maps.shape == (8, 50) and full.loadings.shape == (8, 8)
    np.testing.assert_allclose(full.explained_variance.sum(), 1.0)


def test_pca_min_ev_keeps_the_fewest_components_reaching_it(X):
    Z = standardized(X)
    S = np.linalg.svd(Z, compute_uv=False)
    cum = np.cumsum(S ** 2 / (S ** 2).sum())
    for min_ev in (0.5, cum[1], 0.99, 1.0):
        res = reduce_x(Z.T, "pca", min_ev=min_ev)
        n = int(np.argmax(cum >= min_ev - 1e-12)) + 1
        assert len(res.labels) == n and res.explained_variance.sum() >= min_ev - 1e-12
        np.testing.assert_allclose(res.explained_variance, (S ** 2 / (S ** 2).sum())[:n])


def test_pca_drops_nan_parcels_and_restores_them(X):
    Xn = X.copy()
    Xn[1, [4, 20]] = np.nan
    maps = reduce_x(Xn, "pca", n_components=2).maps
    keep = np.ones(50, bool)
    keep[[4, 20]] = False
    ref = PCA(n_components=2).fit_transform(X[:, keep].T).T
    assert np.isnan(maps[:, ~keep]).all()
    assert_same_up_to_sign(maps[:, keep], ref, rtol=1e-8, atol=1e-10)


def test_ica_reproducible_with_a_seed_and_matches_sklearn(X):
    a = reduce_x(X, "ica", n_components=3, seed=0)
    b = reduce_x(X, "ica", n_components=3, seed=0)
    assert a.maps.shape == (3, 50) and a.labels == ["c0", "c1", "c2"]
    assert a.explained_variance is None
    np.testing.assert_array_equal(a.maps, b.maps)
    ref = FastICA(n_components=3, random_state=0, max_iter=1000).fit_transform(X.T)
    np.testing.assert_allclose(a.maps, ref.T)
    r = np.corrcoef(X, ref.T)[:8, 8:]  # loadings: Pearson r of each map with each source
    np.testing.assert_allclose(a.loadings, r, atol=1e-12)
    # generator seeds are accepted and reproducible too
    g1 = reduce_x(X, "ica", n_components=3, seed=np.random.default_rng(5))
    g2 = reduce_x(X, "ica", n_components=3, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(g1.maps, g2.maps)


@pytest.mark.parametrize("rotation", [None, "varimax", "quartimax"])
def test_ml_fa_against_sklearn(X, rotation):
    a = reduce_x(X, "fa", n_components=3, seed=1, fa_method="ml", fa_rotation=rotation)
    b = reduce_x(X, "fa", n_components=3, seed=1, fa_method="ml", fa_rotation=rotation)
    assert a.maps.shape == (3, 50) and a.labels == ["c0", "c1", "c2"]
    np.testing.assert_array_equal(a.maps, b.maps)
    ref = FactorAnalysis(n_components=3, rotation=rotation, random_state=1).fit(X.T)
    np.testing.assert_allclose(a.maps, ref.transform(X.T).T)
    np.testing.assert_allclose(a.loadings, ref.components_.T)
    total = X.T.var(axis=0).sum()
    np.testing.assert_allclose(a.explained_variance, (ref.components_ ** 2).sum(1) / total)
    assert 0.9 < a.explained_variance.sum() <= 1.0


def test_ml_fa_min_ev_is_judged_on_the_unrotated_solution(X):
    full = FactorAnalysis(n_components=8, random_state=1).fit(X.T)
    ev = (full.components_ ** 2).sum(1) / X.T.var(axis=0).sum()
    n = int(np.argmax(np.cumsum(ev) >= 0.8)) + 1
    res = reduce_x(X, "fa", min_ev=0.8, seed=1, fa_method="ml", fa_rotation="varimax")
    assert len(res.labels) == n


def test_default_fa_is_minres_with_promax_and_needs_no_optional_package(X):
    res = reduce_x(X, "fa", n_components=2)  # NiSpace's defaults
    ref = factor_analysis(X.T, 2, method="minres", rotation="promax")
    tol = dict(rtol=0, atol=1e-6)  # the optimizer's tolerance; X.T is not contiguous
    np.testing.assert_allclose(res.loadings, ref.loadings, **tol)
    np.testing.assert_allclose(res.maps, ref.scores.T, **tol)
    np.testing.assert_allclose(res.explained_variance, ref.explained_variance, **tol)
    assert res.labels == ["c0", "c1"]


def test_default_fa_keeps_the_factors_that_can_be_rotated(X):
    # 8 maps from 3 patterns: minres with 8 factors leaves some factors without loadings
    full = factor_analysis(X.T, 8, rotation=None)
    n_real = count_factors(full.loadings)
    assert 3 <= n_real < 8
    res = reduce_x(X, "fa")  # no n_components: every factor that can be rotated
    assert res.labels == [f"c{i}" for i in range(n_real)]
    with pytest.raises(ValueError, match=rf"only {n_real} factor\(s\) with non-zero .*"
                                         rf"n_components={n_real}"):
        reduce_x(X, "fa", n_components=8)
    assert len(reduce_x(X, "fa", n_components=8, fa_rotation=None).labels) == 8


def test_ml_fa_rotates_only_as_scikit_learn_does(X):
    with pytest.raises(ValueError, match="fa_rotation: fa_method='ml'.*got 'promax'.*minres"):
        reduce_x(X, "fa", n_components=2, fa_method="ml", fa_rotation="promax")
    with pytest.raises(ValueError, match="estimator_kwargs: not used by fa_method='minres'"):
        reduce_x(X, "fa", n_components=2, estimator_kwargs={"tol": 1e-3})


# ---------------------------------------------------------------------------
# components: per set
# ---------------------------------------------------------------------------

SETS = np.array(["glia", "neuron", "glia", "vasc", "neuron", "neuron", "glia", "vasc"])


def test_per_set_pca_reduces_every_set_on_its_own(X):
    res = reduce_x(X, "pca", sets=SETS, n_components=2)
    assert res.sets == ["glia"] * 2 + ["neuron"] * 2 + ["vasc"] * 2
    assert res.labels == ["c0", "c1"] * 3
    assert res.loadings.shape == (8, 6)
    for i, s in enumerate(["glia", "neuron", "vasc"]):
        own = reduce_x(X[SETS == s], "pca", n_components=2)
        np.testing.assert_allclose(res.maps[2 * i:2 * i + 2], own.maps)
        np.testing.assert_allclose(res.explained_variance[2 * i:2 * i + 2],
                                   own.explained_variance)
        np.testing.assert_allclose(res.loadings[SETS == s, 2 * i:2 * i + 2], own.loadings)
        assert np.isnan(res.loadings[SETS != s, 2 * i:2 * i + 2]).all()


def test_per_set_min_ev_and_default_components_differ_by_set(X):
    res = reduce_x(X, "pca", sets=SETS)  # as many components as each set has maps
    assert res.sets == ["glia"] * 3 + ["neuron"] * 3 + ["vasc"] * 2
    res = reduce_x(X, "pca", sets=SETS, min_ev=0.9)
    for s in ("glia", "neuron", "vasc"):
        ev = res.explained_variance[np.array(res.sets) == s]
        assert ev.sum() >= 0.9 and (len(ev) == 1 or ev[:-1].sum() < 0.9)
    ica = reduce_x(X, "ica", sets=SETS, n_components=1, seed=4)
    assert ica.explained_variance is None and ica.maps.shape == (3, 50)
    np.testing.assert_array_equal(ica.maps, reduce_x(X, "ica", sets=SETS, n_components=1,
                                                     seed=4).maps)


def test_per_set_too_many_components_names_the_set(X):
    with pytest.raises(ValueError, match=r"n_components: expected an integer between 1 and 2 "
                                         r".*got 3, in set 'vasc' \(2 maps\)"):
        reduce_x(X, "pca", sets=SETS, n_components=3)


# ---------------------------------------------------------------------------
# bad inputs
# ---------------------------------------------------------------------------

def test_unknown_method_lists_valid_ones(X):
    with pytest.raises(ValueError, match=r"method: expected one of \['mean', 'median', 'pca', "
                                         r"'ica', 'fa'\]; got 'svd'"):
        reduce_x(X, "svd")
    assert REDUCE_METHODS == ("mean", "median", "pca", "ica", "fa")


def test_bad_arguments(X):
    with pytest.raises(ValueError, match=r"X: expected a 2-D array .*got shape \(50,\)"):
        reduce_x(X[0], "mean")
    with pytest.raises(ValueError, match=r"sets: expected one set label per map \(8\); got 3"):
        reduce_x(X, "mean", sets=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"weights: expected one weight per map \(8\); got 2"):
        reduce_x(X, "mean", weights=[1, 2])
    with pytest.raises(ValueError, match="weights: expected finite, non-negative"):
        reduce_x(X, "mean", weights=-np.ones(8))
    with pytest.raises(ValueError, match="weights: only supported with method='mean'"):
        reduce_x(X, "median", weights=np.ones(8))
    with pytest.raises(ValueError, match="weights: all weights of set 'a' are zero"):
        reduce_x(X, "mean", sets=["a"] * 4 + ["b"] * 4, weights=[0] * 4 + [1] * 4)
    with pytest.raises(ValueError, match="weights: not used by method='pca'"):
        reduce_x(X, "pca", weights=np.ones(8))
    with pytest.raises(ValueError, match=r"n_components: expected an integer between 1 and 8 "
                                         r"for method='pca' .*got 9"):
        reduce_x(X, "pca", n_components=9)
    with pytest.raises(ValueError, match="n_components: .*got 0"):
        reduce_x(X, "fa", n_components=0)
    with pytest.raises(ValueError, match="n_components: only used by"):
        reduce_x(X, "mean", n_components=2)
    with pytest.raises(ValueError, match="min_ev: only used by 'pca' and 'fa'"):
        reduce_x(X, "ica", min_ev=0.5)
    with pytest.raises(ValueError, match=r"min_ev: expected a fraction of variance in \(0, 1\]"):
        reduce_x(X, "pca", min_ev=1.5)
    with pytest.raises(ValueError, match="n_components, min_ev: give one of them"):
        reduce_x(X, "pca", n_components=2, min_ev=0.5)
    with pytest.raises(ValueError, match=r"fa_method: expected one of \['minres', 'ml', "):
        reduce_x(X, "fa", fa_method="pa")
    with pytest.raises(ValueError, match="fa_rotation: expected one of"):
        reduce_x(X, "fa", fa_method="ml", fa_rotation="spin")
    with pytest.raises(TypeError, match="seed: expected None, an int or a numpy Generator"):
        reduce_x(X, "ica", n_components=2, seed="zero")
