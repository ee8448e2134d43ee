"""reduce_x (nispace.stats.reduce) against NumPy and scikit-learn called directly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA, FactorAnalysis, FastICA

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
    maps, labels, ev = reduce_x(X, "mean")
    np.testing.assert_allclose(maps, X.mean(0, keepdims=True))
    assert labels == ["mean"] and ev is None
    maps, labels, _ = reduce_x(X, "MEDIAN")
    np.testing.assert_allclose(maps, np.median(X, 0, keepdims=True))
    assert labels == ["median"]


def test_per_set_in_order_of_first_appearance(X):
    sets = np.array(["glia", "neuron", "glia", "vasc", "neuron", "neuron", "glia", "vasc"])
    maps, labels, _ = reduce_x(X, "mean", sets=sets)
    assert labels == ["glia", "neuron", "vasc"]
    for row, s in zip(maps, labels):
        np.testing.assert_allclose(row, X[sets == s].mean(0))
    maps, labels, _ = reduce_x(X, "median", sets=list(sets))
    for row, s in zip(maps, labels):
        np.testing.assert_allclose(row, np.median(X[sets == s], 0))


def test_weighted_mean(X):
    w = np.arange(1, 9, dtype=float)
    maps, _, _ = reduce_x(X, "mean", weights=w)
    np.testing.assert_allclose(maps[0], np.average(X, axis=0, weights=w))
    sets = [1, 1, 2, 2, 2, 1, 3, 3]
    maps, labels, _ = reduce_x(X, "mean", sets=sets, weights=w)
    assert labels == ["1", "2", "3"]
    for row, s in zip(maps, (1, 2, 3)):
        idx = np.array(sets) == s
        np.testing.assert_allclose(row, np.average(X[idx], axis=0, weights=w[idx]))


def test_mean_ignores_nan_per_parcel(X):
    Xn = X.copy()
    Xn[2, 5] = np.nan
    Xn[:, 7] = np.nan
    maps, _, _ = reduce_x(Xn, "mean", weights=np.ones(8))
    assert maps[0, 5] == pytest.approx(np.delete(X[:, 5], 2).mean())
    assert np.isnan(maps[0, 7])
    maps, _, _ = reduce_x(Xn, "median")
    assert maps[0, 5] == pytest.approx(np.median(np.delete(X[:, 5], 2)))
    assert np.isnan(maps[0, 7])


# ---------------------------------------------------------------------------
# components
# ---------------------------------------------------------------------------

def test_pca_against_sklearn(X):
    res = reduce_x(X, "pca", n_components=3)
    assert isinstance(res, ReducedX)
    ref = PCA(n_components=3).fit(X.T)
    assert_same_up_to_sign(res.maps, ref.transform(X.T).T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res.explained_variance, ref.explained_variance_ratio_)
    assert res.labels == ["pca1", "pca2", "pca3"]
    assert res.explained_variance.sum() > 0.95  # three patterns generated the data
    full = reduce_x(X, "pca")
    assert full.maps.shape == (8, 50)
    np.testing.assert_allclose(full.explained_variance.sum(), 1.0)


def test_pca_drops_nan_parcels_and_restores_them(X):
    Xn = X.copy()
    Xn[1, [4, 20]] = np.nan
    maps, _, _ = reduce_x(Xn, "pca", n_components=2)
    keep = np.ones(50, bool)
    keep[[4, 20]] = False
    ref = PCA(n_components=2).fit_transform(X[:, keep].T).T
    assert np.isnan(maps[:, ~keep]).all()
    assert_same_up_to_sign(maps[:, keep], ref, rtol=1e-8, atol=1e-10)


def test_ica_shape_reproducible_and_matches_sklearn(X):
    a = reduce_x(X, "ica", n_components=3, seed=0)
    b = reduce_x(X, "ica", n_components=3, seed=0)
    assert a.maps.shape == (3, 50) and a.labels == ["ica1", "ica2", "ica3"]
    assert a.explained_variance is None
    np.testing.assert_array_equal(a.maps, b.maps)
    ref = FastICA(n_components=3, random_state=0, max_iter=1000).fit_transform(X.T).T
    np.testing.assert_allclose(a.maps, ref)
    # generator seeds are accepted and reproducible too
    g1 = reduce_x(X, "ica", n_components=3, seed=np.random.default_rng(5))
    g2 = reduce_x(X, "ica", n_components=3, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(g1.maps, g2.maps)


def test_fa_shape_reproducible_and_explained_variance(X):
    a = reduce_x(X, "fa", n_components=3, seed=1)
    b = reduce_x(X, "fa", n_components=3, seed=1)
    assert a.maps.shape == (3, 50) and a.labels == ["fa1", "fa2", "fa3"]
    np.testing.assert_array_equal(a.maps, b.maps)
    ref = FactorAnalysis(n_components=3, random_state=1).fit(X.T)
    np.testing.assert_allclose(a.maps, ref.transform(X.T).T)
    total = X.T.var(axis=0).sum()
    np.testing.assert_allclose(a.explained_variance, (ref.components_ ** 2).sum(1) / total)
    assert 0.9 < a.explained_variance.sum() <= 1.0
    rot = reduce_x(X, "fa", n_components=2, seed=1, estimator_kwargs={"rotation": "varimax"})
    assert rot.maps.shape == (2, 50)


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
    with pytest.raises(ValueError, match="sets: not used by method='pca'"):
        reduce_x(X, "pca", sets=["a"] * 8)
    with pytest.raises(ValueError, match=r"n_components: expected an integer between 1 and 8 "
                                         r"for method='pca' .*got 9"):
        reduce_x(X, "pca", n_components=9)
    with pytest.raises(ValueError, match="n_components: .*got 0"):
        reduce_x(X, "fa", n_components=0)
    with pytest.raises(ValueError, match="n_components: only used by"):
        reduce_x(X, "mean", n_components=2)
    with pytest.raises(TypeError, match="seed: expected None, an int or a numpy Generator"):
        reduce_x(X, "ica", n_components=2, seed="zero")
