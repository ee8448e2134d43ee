"""Distance-dependent cross-validation (Hansen et al., 2022) checked against plain loops."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from scipy.stats import pearsonr
from sklearn.cross_decomposition import PLSRegression
from sklearn.decomposition import PCA
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline

from nispace.stats.coloc import colocalize
from nispace.stats.crossval import distance_cv, distance_cv_splits


def parcels_on_a_sphere(rng, n_parcels):
    """Centroids of parcels spread over a sphere of 70 mm and their distance matrix."""
    coords = rng.normal(size=(n_parcels, 3))
    coords *= 70 / np.linalg.norm(coords, axis=1, keepdims=True)
    return coords, cdist(coords, coords)


def smooth_maps(rng, coords, n_maps, scale=40.0):
    """Spatially autocorrelated maps: random mixtures of Gaussian bumps."""
    centres = coords[rng.choice(len(coords), size=6, replace=False)]
    bumps = np.exp(-cdist(coords, centres) ** 2 / (2 * scale**2))        # (n, 6)
    return (bumps @ rng.normal(size=(6, n_maps))).T + 0.3 * rng.normal(size=(n_maps, len(coords)))


def loop_reference_all(X, Y, dist, test_fraction, seed_set, model=LinearRegression):
    """One scikit-learn fit per split and map, sets chosen by sorting each distance row;
    Pearson r (scipy) and R² (around each set's own mean) in both sets."""
    n = X.shape[1]
    n_train = int(np.floor((1 - test_fraction) * n))
    out = {key: np.zeros((Y.shape[0], n)) for key in ("train_r", "test_r", "train_r2",
                                                       "test_r2")}
    for i in range(n):
        d = dist[i].copy()
        d[i] = -1.0                                   # the seed first
        near = np.argsort(d, kind="stable")
        if seed_set == "test":
            test_idx, train_idx = near[: n - n_train], near[n - n_train:]
        else:
            train_idx, test_idx = near[:n_train], near[n_train:]
        for t, y in enumerate(Y):
            fit = model().fit(X[:, train_idx].T, y[train_idx])
            for part, idx in (("train", train_idx), ("test", test_idx)):
                pred = np.ravel(fit.predict(X[:, idx].T))
                out[f"{part}_r"][t, i] = pearsonr(pred, y[idx])[0]
                ss_res = np.sum((y[idx] - pred) ** 2)
                out[f"{part}_r2"][t, i] = 1 - ss_res / np.sum((y[idx] - y[idx].mean()) ** 2)
    return out


def loop_reference(X, Y, dist, test_fraction, seed_set, model=LinearRegression):
    """``(train_r, test_r, test_r2)`` of :func:`loop_reference_all`."""
    ref = loop_reference_all(X, Y, dist, test_fraction, seed_set, model)
    return ref["train_r"], ref["test_r"], ref["test_r2"]


@pytest.mark.parametrize("seed_set", ["test", "train"])
def test_distance_cv_of_mlr_matches_a_loop_of_linear_regressions(seed_set):
    rng = np.random.default_rng(22)
    coords, dist = parcels_on_a_sphere(rng, 68)
    X = smooth_maps(rng, coords, 5)
    Y = X.T @ rng.normal(size=(5, 3)) + smooth_maps(rng, coords, 3).T
    Y = Y.T
    res = distance_cv(X, Y, dist, seed_set=seed_set)
    train_r, test_r, test_r2 = loop_reference(X, Y, dist, 0.25, seed_set)
    np.testing.assert_allclose(res["train_r"], train_r, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res["test_r"], test_r, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res["test_r2"], test_r2, rtol=0, atol=1e-9)
    np.testing.assert_allclose(res["test_r_mean"], test_r.mean(axis=1), atol=1e-10)
    np.testing.assert_allclose(res["test_r_median"], np.median(test_r, axis=1), atol=1e-10)
    np.testing.assert_allclose(res["train_r_median"], np.median(train_r, axis=1), atol=1e-10)
    ref = loop_reference_all(X, Y, dist, 0.25, seed_set)
    for key in ("train_r", "test_r", "train_r2", "test_r2"):
        np.testing.assert_allclose(res[key], ref[key], rtol=0, atol=1e-9, err_msg=key)


def test_splits_hold_the_nearest_quarter_of_regions_around_each_seed():
    rng = np.random.default_rng(0)
    _, dist = parcels_on_a_sphere(rng, 68)
    train, test = distance_cv_splits(dist)
    assert train.shape == (68, 51) and test.shape == (68, 17)   # Desikan-Killiany sizes
    assert (test[:, 0] == np.arange(68)).all()                   # the seed is tested
    for i in range(68):
        assert set(train[i]) | set(test[i]) == set(range(68))
        assert dist[i, test[i]].max() <= dist[i, train[i]].min()
    train_h, test_h = distance_cv_splits(dist, seed_set="train")
    assert train_h.shape == (68, 51) and (train_h[:, 0] == np.arange(68)).all()
    for i in range(68):
        assert dist[i, train_h[i]].max() <= dist[i, test_h[i]].min()
    # geodesic distances are infinite across hemispheres: those parcels come last
    hemi = np.arange(68) < 34
    geodesic = np.where(hemi[:, None] == hemi[None, :], dist, np.inf)
    train, test = distance_cv_splits(geodesic)
    assert all((hemi[test[i]] == hemi[i]).all() for i in range(68))


def test_pls_and_pcr_match_loops_and_nans_drop_parcels_per_map():
    rng = np.random.default_rng(5)
    coords, dist = parcels_on_a_sphere(rng, 40)
    X = smooth_maps(rng, coords, 4)
    Y = (X.T @ rng.normal(size=(4, 2))).T + 0.5 * rng.normal(size=(2, 40))
    res = distance_cv(X, Y, dist, method="pls", n_components=2)
    train_r, test_r, _ = loop_reference(X, Y, dist, 0.25, "test",
                                        model=lambda: PLSRegression(n_components=2))
    np.testing.assert_allclose(res["test_r"], test_r, atol=1e-8)
    np.testing.assert_allclose(res["train_r"], train_r, atol=1e-8)
    assert np.isfinite(distance_cv(X, Y, dist, method="pcr", n_components=2)["test_r"]).all()
    pcr = distance_cv(X, Y, dist, method="pcr", n_components=2)
    ref = loop_reference_all(X, Y, dist, 0.25, "test",
                             model=lambda: make_pipeline(PCA(2), LinearRegression()))
    for key in ("train_r", "test_r", "train_r2", "test_r2"):
        np.testing.assert_allclose(pcr[key], ref[key], rtol=0, atol=1e-8, err_msg=key)
    pls = distance_cv(X, Y, dist, method="pls", n_components=2)
    ref = loop_reference_all(X, Y, dist, 0.25, "test",
                             model=lambda: PLSRegression(n_components=2))
    for key in ("train_r2", "test_r2"):
        np.testing.assert_allclose(pls[key], ref[key], rtol=0, atol=1e-8, err_msg=key)
    # a NaN parcel in Y[1] is dropped for Y[1] only, and its split is NaN
    Y_nan = Y.copy()
    Y_nan[1, 7] = np.nan
    res = distance_cv(X, Y_nan, dist)
    keep = np.flatnonzero(~np.isnan(Y_nan[1]))
    _, test_r, _ = loop_reference(X[:, keep], Y[1:, keep], dist[np.ix_(keep, keep)], 0.25,
                                  "test")
    assert np.isnan(res["test_r"][1, 7]) and np.isfinite(res["test_r"][0]).all()
    np.testing.assert_allclose(res["test_r"][1, keep], test_r[0], atol=1e-10)
    np.testing.assert_allclose(res["test_r_mean"][1], test_r.mean(), atol=1e-10)


def test_colocalize_mlr_with_distance_cv_returns_cv_statistics():
    rng = np.random.default_rng(3)
    coords, dist = parcels_on_a_sphere(rng, 50)
    X = smooth_maps(rng, coords, 3)
    Y = (X.T @ rng.normal(size=(3, 2))).T + rng.normal(size=(2, 50))
    out = colocalize(X, Y, "mlr", cv="distance", dist_mat=dist)
    ref = distance_cv(X, Y, dist)
    assert out["cv_test_r"].shape == (2, 50)
    for key in ("train_r", "test_r", "train_r2", "test_r2", "test_r_mean", "test_r_median"):
        np.testing.assert_array_equal(out[f"cv_{key}"], ref[key])
    np.testing.assert_array_equal(out["r2"], colocalize(X, Y, "mlr")["r2"])
    dom = colocalize(X, Y, "dominance", cv="distance", dist_mat=dist, cv_seed_set="train",
                     cv_test_fraction=0.2)
    np.testing.assert_array_equal(
        dom["cv_test_r"], distance_cv(X, Y, dist, test_fraction=0.2, seed_set="train")["test_r"])


def test_errors_name_the_argument():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(3, 30)), rng.normal(size=(2, 30))
    dist = cdist(*(2 * [rng.normal(size=(30, 3))]))
    with pytest.raises(ValueError, match=r"dist_mat: expected shape \(30, 30\)"):
        distance_cv(X, Y, dist[:20, :20])
    bad = dist.copy()
    bad[2, 5] = np.nan
    with pytest.raises(ValueError, match=r"dist_mat: .*NaN at dist_mat\[2, 5\]"):
        distance_cv(X, Y, bad)
    with pytest.raises(ValueError, match=r"test_fraction: expected a number between 0 and 1"):
        distance_cv(X, Y, dist, test_fraction=1.5)
    with pytest.raises(ValueError, match=r"method: expected one of \['mlr', 'pls', 'pcr'\]"):
        distance_cv(X, Y, dist, method="lasso")
    with pytest.raises(ValueError, match=r"seed_set: expected one of"):
        distance_cv_splits(dist, seed_set="seed")
    with pytest.raises(ValueError, match=r"dist_mat: cv='distance' needs"):
        colocalize(X, Y, "mlr", cv="distance")
    with pytest.raises(ValueError, match=r"cv: cv='distance' .*\['mlr', 'dominance'\]; got method 'pearson'"):
        colocalize(X, Y, "pearson", cv="distance", dist_mat=dist)
    with pytest.raises(ValueError, match=r"dist_mat: .*only used with cv='distance'"):
        colocalize(X, Y, "mlr", dist_mat=dist)
    # the cv='distance' options are refused without it, and checked before any fit
    with pytest.raises(ValueError, match=r"cv_test_fraction: only used with cv='distance'"):
        colocalize(X, Y, "mlr", cv_test_fraction=0.3)
    with pytest.raises(ValueError, match=r"cv_seed_set: only used with cv='distance'"):
        colocalize(X, Y, "pls", cv_seed_set="train")
    with pytest.raises(ValueError, match=r"dist_mat: expected shape \(30, 30\)"):
        colocalize(X, Y, "mlr", cv="distance", dist_mat=dist[:20, :20])
    with pytest.raises(ValueError, match=r"cv_test_fraction: expected a number"):
        colocalize(X, Y, "mlr", cv="distance", dist_mat=dist, cv_test_fraction=0)
    with pytest.raises(ValueError, match=r"cv_seed_set: expected one of \['test', 'train'\]"):
        colocalize(X, Y, "mlr", cv="distance", dist_mat=dist, cv_seed_set="seed")
    # distances are distances: non-negative and symmetric (inf allowed, see the splits)
    with pytest.raises(ValueError, match=r"dist_mat: expected non-negative"):
        distance_cv(X, Y, -dist)
    skew = dist.copy()
    skew[0, 1] += 5.0
    with pytest.raises(ValueError, match=r"dist_mat: expected a symmetric matrix"):
        distance_cv(X, Y, skew)
    with pytest.raises(ValueError, match=r"n_components: expected an int between 1 and n_x"):
        distance_cv(X, Y, dist, method="pcr", n_components=4)


def test_maps_with_too_few_parcels_are_named_in_a_warning(caplog):
    rng = np.random.default_rng(2)
    coords, dist = parcels_on_a_sphere(rng, 30)
    X, Y = smooth_maps(rng, coords, 3), smooth_maps(rng, coords, 3)
    Y[1, 6:] = np.nan                                  # 6 parcels: too few for 3 + 1
    given = dist.copy()
    with caplog.at_level("WARNING", logger="nispace"):
        res = distance_cv(X, Y, dist, y_names=["a", "b", "c"])
    assert np.isnan(res["test_r"][1]).all() and np.isfinite(res["test_r"][0]).all()
    assert "['b']" in caplog.text and "too few usable parcels" in caplog.text
    np.testing.assert_array_equal(dist, given)         # the user's matrix is not modified
    caplog.clear()
    with caplog.at_level("WARNING", logger="nispace"):
        colocalize(X, Y, "mlr", cv="distance", dist_mat=dist)
    assert "[1]" in caplog.text
