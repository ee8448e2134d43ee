"""Colocalization methods and XSEA aggregation against independent references.

Every statistic is recomputed here with scipy, statsmodels, pingouin, scikit-learn or
pandas on small random maps generated in the test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from nispace.stats.coloc import COLOC_METHODS, colocalize, spatial_cv_folds
from nispace.stats.xsea import aggregate_sets

N_PARCELS = 60


@pytest.fixture
def maps():
    """Correlated X, Y and Z maps (n_maps, n_parcels) without NaNs."""
    rng = np.random.default_rng(42)
    Z = rng.normal(size=(2, N_PARCELS))
    X = rng.normal(size=(4, N_PARCELS)) + 0.5 * Z[0]
    Y = 0.7 * X[:3] + rng.normal(size=(3, N_PARCELS)) + 0.3 * Z[1]
    return X, Y, Z


def with_nans(X, Y):
    X, Y = X.copy(), Y.copy()
    X[1, [3, 4, 40]] = np.nan
    X[3, 10] = np.nan
    Y[0, [5, 6]] = np.nan
    Y[2, 40] = np.nan
    return X, Y


def pair_mask(*arrays):
    return ~np.any(np.isnan(np.vstack(arrays)), axis=0)


def residual(a, covariates):
    return sm.OLS(a, sm.add_constant(np.atleast_2d(covariates).T)).fit().resid


# --------------------------------------------------------------------------------------
# correlations


@pytest.mark.parametrize("nans", [False, True])
def test_pearson_and_spearman_match_scipy(maps, nans):
    X, Y, _ = maps
    X = np.round(X, 1)                                    # ties for Spearman
    if nans:
        X, Y = with_nans(X, Y)
    rp = colocalize(X, Y, "pearson")["rho"]
    rs = colocalize(X, Y, "spearman")["rho"]
    assert rp.shape == rs.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            m = pair_mask(X[j], Y[i])
            assert np.isclose(rp[i, j], stats.pearsonr(X[j, m], Y[i, m])[0], atol=1e-12)
            assert np.isclose(rs[i, j], stats.spearmanr(X[j, m], Y[i, m])[0], atol=1e-12)


def test_fisher_z(maps):
    X, Y, Z = maps
    for method, z in (("pearson", None), ("spearman", None), ("partialpearson", Z)):
        rho = colocalize(X, Y, method, Z=z)["rho"]
        np.testing.assert_allclose(colocalize(X, Y, method, Z=z, fisher_z=True)["rho"],
                                   np.arctanh(rho))
    # r2 statistics are not affected
    np.testing.assert_allclose(colocalize(X, Y, "slr", fisher_z=True)["r2"],
                               colocalize(X, Y, "slr")["r2"])


def test_constant_maps_give_nan_without_warnings(maps):
    X, Y, _ = maps
    X, Y = X.copy(), Y.copy()
    X[2] = 0.1                                        # constant up to rounding of the mean
    Y[1, :] = 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in ("pearson", "spearman"):
            rho = colocalize(X, Y, method)["rho"]
            assert np.isnan(rho[:, 2]).all() and np.isnan(rho[1]).all()
            assert np.isfinite(np.delete(np.delete(rho, 2, axis=1), 1, axis=0)).all()
        out = colocalize(X, Y, "slr")
        assert np.isnan(out["r2"][:, 2]).all() and np.isnan(out["beta"][:, 2]).all()
        assert np.isnan(colocalize(X, Y, "mlr")["r2"][1])


# --------------------------------------------------------------------------------------
# partial correlations


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_partial_correlation_matches_pingouin(maps, method):
    pg = pytest.importorskip(
        "pingouin", reason="pingouin is not installed (pip install pingouin); the "
                           "statsmodels-based partial correlation test still runs")
    X, Y, Z = maps
    X, Y = with_nans(X, Y)
    rho = colocalize(X, Y, "partial" + method, Z=Z)["rho"]
    for i in range(3):
        for j in range(4):
            data = pd.DataFrame({"x": X[j], "y": Y[i], "z0": Z[0], "z1": Z[1]})
            ref = pg.partial_corr(data, x="x", y="y", covar=["z0", "z1"], method=method)
            assert np.isclose(rho[i, j], ref["r"].iloc[0], atol=1e-10)


def test_partial_correlation_matches_ols_residuals(maps):
    X, Y, Z = maps
    X, Y = with_nans(X, Y)
    rp = colocalize(X, Y, "partialpearson", Z=Z)["rho"]
    rs = colocalize(X, Y, "partialspearman", Z=Z)["rho"]
    for i in range(3):
        for j in range(4):
            m = pair_mask(X[j], Y[i], Z)
            ref_p = stats.pearsonr(residual(X[j, m], Z[:, m]), residual(Y[i, m], Z[:, m]))[0]
            ranks = [stats.rankdata(a) for a in (X[j, m], Y[i, m], *Z[:, m])]
            ref_s = stats.pearsonr(residual(ranks[0], np.vstack(ranks[2:])),
                                   residual(ranks[1], np.vstack(ranks[2:])))[0]
            assert np.isclose(rp[i, j], ref_p, atol=1e-12)
            assert np.isclose(rs[i, j], ref_s, atol=1e-12)


def test_z_with_plain_method_is_regressed_out_like_nispace(maps):
    X, Y, Z = maps
    np.testing.assert_allclose(colocalize(X, Y, "pearson", Z=Z)["rho"],
                               colocalize(X, Y, "partialpearson", Z=Z)["rho"])
    np.testing.assert_allclose(colocalize(X, Y, "spearman", Z=Z[:1])["rho"],
                               colocalize(X, Y, "partialspearman", Z=Z[:1])["rho"])


@pytest.mark.parametrize("method", ["partialpearson", "partialspearman"])
def test_zy_matched_regresses_each_z_from_its_y_only(maps, method):
    X, Y, _ = maps
    rng = np.random.default_rng(0)
    Zm = Y + rng.normal(size=Y.shape)                 # one covariate map per Y map
    Zm[1, 7] = np.nan
    rho = colocalize(X, Y, method, Z=Zm, zy_matched=True)["rho"]
    for i in range(3):
        for j in range(4):
            m = pair_mask(X[j], Y[i], Zm[i])
            x, y, z = X[j, m], Y[i, m], Zm[i, m]
            if method == "partialspearman":
                x, y, z = stats.rankdata(x), stats.rankdata(y), stats.rankdata(z)
            assert np.isclose(rho[i, j], stats.pearsonr(x, residual(y, z))[0], atol=1e-12)


# --------------------------------------------------------------------------------------
# mutual information and regression


def test_mutual_information_matches_sklearn(maps):
    from sklearn.feature_selection import mutual_info_regression

    X, Y, _ = maps
    X, Y = with_nans(X, Y)
    mi = colocalize(X, Y, "mi", seed=3)["mi"]
    for i in range(3):
        for j in range(4):
            m = pair_mask(X[j], Y[i])
            ref = mutual_info_regression(X[j, m][:, None], Y[i, m], discrete_features=False,
                                         n_neighbors=3, random_state=3)[0]
            assert np.isclose(mi[i, j], ref)
    np.testing.assert_array_equal(mi, colocalize(X, Y, "mi", seed=3)["mi"])


@pytest.mark.parametrize("nans", [False, True])
def test_slr_matches_statsmodels(maps, nans):
    X, Y, _ = maps
    if nans:
        X, Y = with_nans(X, Y)
    out = colocalize(X, Y, "slr")
    plain = colocalize(X, Y, "slr", r2_adjusted=False)
    for i in range(3):
        for j in range(4):
            m = pair_mask(X[j], Y[i])
            fit = sm.OLS(Y[i, m], sm.add_constant(X[j, m])).fit()
            assert np.isclose(out["intercept"][i, j], fit.params[0])
            assert np.isclose(out["beta"][i, j], fit.params[1])
            assert np.isclose(out["r2"][i, j], fit.rsquared_adj)
            assert np.isclose(out["r2_adj"][i, j], fit.rsquared_adj)
            assert np.isclose(out["r2_raw"][i, j], fit.rsquared)
            assert np.isclose(plain["r2"][i, j], fit.rsquared)


@pytest.mark.parametrize("nans", [False, True])
def test_mlr_matches_statsmodels(maps, nans):
    X, Y, _ = maps
    if nans:
        X, Y = with_nans(X, Y)
    out = colocalize(X, Y, "mlr", individual=True)
    plain = colocalize(X, Y, "mlr", r2_adjusted=False, individual=True)
    assert out["r2"].shape == out["intercept"].shape == (3,)
    assert out["beta"].shape == out["individual"].shape == (3, 4)
    for i in range(3):
        m = pair_mask(X, Y[i])
        fit = sm.OLS(Y[i, m], sm.add_constant(X[:, m].T)).fit()
        np.testing.assert_allclose(out["intercept"][i], fit.params[0])
        np.testing.assert_allclose(out["beta"][i], fit.params[1:])
        np.testing.assert_allclose(out["r2"][i], fit.rsquared_adj)
        np.testing.assert_allclose(out["r2_raw"][i], fit.rsquared)
        np.testing.assert_allclose(plain["r2"][i], fit.rsquared)
        for j in range(4):
            reduced = sm.OLS(Y[i, m], sm.add_constant(np.delete(X[:, m], j, 0).T)).fit()
            assert np.isclose(out["individual"][i, j], fit.rsquared_adj - reduced.rsquared_adj)
            assert np.isclose(plain["individual"][i, j], fit.rsquared - reduced.rsquared)


def test_mlr_with_shared_z_regresses_it_out(maps):
    X, Y, Z = maps
    out = colocalize(X, Y, "mlr", Z=Z, r2_adjusted=False)
    for i in range(3):
        xr = np.stack([residual(x, Z) for x in X])
        fit = sm.OLS(residual(Y[i], Z), sm.add_constant(xr.T)).fit()
        np.testing.assert_allclose(out["beta"][i], fit.params[1:])
        np.testing.assert_allclose(out["r2"][i], fit.rsquared)


# --------------------------------------------------------------------------------------
# cross-validated models


def test_spatial_cv_folds():
    folds = spatial_cv_folds(10, 3)
    tests = [te for _, te in folds]
    np.testing.assert_array_equal(np.concatenate(tests), np.arange(10))      # a partition
    assert all(np.all(np.diff(te) == 1) for te in tests)                     # contiguous
    for tr, te in folds:
        np.testing.assert_array_equal(np.sort(np.concatenate([tr, te])), np.arange(10))
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0, 0], [50, 0, 0], [0, 50, 0]])
    coords = np.repeat(centres, 8, axis=0) + rng.normal(size=(24, 3))
    folds = spatial_cv_folds(24, 3, coords=coords, seed=0)
    assert sorted(len(te) for _, te in folds) == [8, 8, 8]
    for _, te in folds:                                # each fold is one spatial cluster
        assert len(set(te // 8)) == 1


def sklearn_folds(X, seed=None, coords=None, n_folds=5):
    return spatial_cv_folds(X.shape[1], n_folds, coords=coords, seed=seed)


def pooled_cv_r2(estimator, x, y, folds):
    from sklearn.model_selection import cross_val_predict

    pred = cross_val_predict(estimator, x, y, cv=folds)
    return 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)


def test_pls_matches_sklearn(maps):
    from sklearn.cross_decomposition import PLSRegression

    X, Y, _ = maps
    out = colocalize(X, Y, "pls", n_components=2)
    folds = sklearn_folds(X)
    for i in range(3):
        ref = PLSRegression(n_components=2).fit(X.T, Y[i])
        np.testing.assert_allclose(out["r2"][i], ref.score(X.T, Y[i]))
        np.testing.assert_allclose(out["beta"][i], ref.coef_.ravel(), rtol=1e-6, atol=1e-10)
        np.testing.assert_allclose(out["intercept"][i], ref.intercept_[0], rtol=1e-6)
        np.testing.assert_allclose(out["r2_cv"][i],
                                   pooled_cv_r2(PLSRegression(n_components=2), X.T, Y[i],
                                                folds), rtol=1e-6)
        # first-component weight and score correlation up to the median-vote sign
        w = ref.x_weights_[:, 0]
        r = stats.pearsonr(ref.x_scores_[:, 0], Y[i])[0]
        sign = np.sign(np.median([stats.pearsonr(x, Y[i])[0] for x in X]))
        assert np.isclose(out["score_r"][i], sign * abs(r))
        np.testing.assert_allclose(out["weight"][i], np.sign(r) * sign * w, atol=1e-10)


def test_pcr_matches_sklearn_pipeline(maps):
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline

    X, Y, _ = maps
    Y = Y.copy()
    Y[1, 4] = np.nan
    out = colocalize(X, Y, "pcr", n_components=2, seed=0)
    for i in range(3):
        m = pair_mask(X, Y[i])
        x, y = X[:, m].T, Y[i, m]
        pipe = make_pipeline(PCA(n_components=2), LinearRegression()).fit(x, y)
        r2 = pipe.score(x, y)
        np.testing.assert_allclose(out["r2_raw"][i], r2)
        np.testing.assert_allclose(out["r2"][i], 1 - (1 - r2) * (m.sum() - 1) / (m.sum() - 3))
        # coefficients mapped back to the X maps reproduce the pipeline's predictions
        np.testing.assert_allclose(x @ out["beta"][i] + out["intercept"][i], pipe.predict(x))
        folds = [(tr[np.isin(tr, np.flatnonzero(m))], te[np.isin(te, np.flatnonzero(m))])
                 for tr, te in sklearn_folds(X)]
        position = np.cumsum(m) - 1
        folds = [(position[tr], position[te]) for tr, te in folds]
        np.testing.assert_allclose(
            out["r2_cv"][i],
            pooled_cv_r2(make_pipeline(PCA(n_components=2), LinearRegression()), x, y, folds))


@pytest.mark.parametrize("method", ["lasso", "ridge", "elasticnet"])
def test_regularized_regression_matches_sklearn(maps, method):
    from sklearn import linear_model as lm

    X, Y, _ = maps
    rng = np.random.default_rng(1)
    coords = rng.uniform(-60, 60, size=(N_PARCELS, 3))
    out = colocalize(X, Y, method, coords=coords, seed=4)
    folds = sklearn_folds(X, seed=4, coords=coords)
    for i in range(3):
        if method == "lasso":
            search = lm.LassoCV(alphas=20, cv=folds, max_iter=5000, random_state=4)
        elif method == "ridge":
            search = lm.RidgeCV(alphas=np.logspace(-3, 3, 7), cv=folds,
                                scoring="neg_mean_squared_error")
        else:
            search = lm.ElasticNetCV(l1_ratio=[0.1, 0.5, 0.9], alphas=20, cv=folds,
                                     max_iter=5000, random_state=4)
        search.fit(X.T, Y[i])
        np.testing.assert_allclose(out["alpha"][i], search.alpha_)
        np.testing.assert_allclose(out["beta"][i], search.coef_, rtol=1e-7, atol=1e-10)
        np.testing.assert_allclose(out["intercept"][i], search.intercept_, rtol=1e-7)
        np.testing.assert_allclose(out["r2"][i], search.score(X.T, Y[i]))
        if method == "elasticnet":
            np.testing.assert_allclose(out["l1ratio"][i], search.l1_ratio_)
            final = lm.ElasticNet(alpha=search.alpha_, l1_ratio=search.l1_ratio_,
                                  max_iter=5000, random_state=4)
        elif method == "lasso":
            final = lm.Lasso(alpha=search.alpha_, max_iter=5000, random_state=4)
        else:
            final = lm.Ridge(alpha=search.alpha_)
        np.testing.assert_allclose(out["r2_cv"][i], pooled_cv_r2(final, X.T, Y[i], folds),
                                   rtol=1e-7)


def test_explicit_cv_folds_and_nan_parcels(maps):
    X, Y, _ = maps
    Y = Y.copy()
    Y[0, :3] = np.nan
    folds = spatial_cv_folds(N_PARCELS, 4)
    a = colocalize(X, Y, "ridge", cv=folds)
    b = colocalize(X, Y, "ridge", cv=4)
    np.testing.assert_allclose(a["r2_cv"], b["r2_cv"])
    assert np.isfinite(a["r2_cv"]).all()
    with pytest.raises(ValueError, match=r"cv: expected an int"):
        colocalize(X, Y, "ridge", cv="spatial")
    with pytest.raises(ValueError, match=r"n_folds \(cv\): expected an int between 2"):
        colocalize(X, Y, "lasso", cv=1)
    with pytest.raises(ValueError, match=r"coords: expected finite parcel coordinates of "
                                         r"shape \(60, n_dims\); got shape \(10, 3\)"):
        colocalize(X, Y, "lasso", coords=np.zeros((10, 3)))


def test_every_method_returns_documented_stats(maps):
    X, Y, Z = maps
    for method, names in COLOC_METHODS.items():
        out = colocalize(X, Y, method, Z=Z if method.startswith("partial") else None, seed=0)
        assert set(out) == set(names), method
        for name, arr in out.items():
            assert arr.shape in {(3, 4), (3,)}, (method, name, arr.shape)


# --------------------------------------------------------------------------------------
# XSEA aggregation


@pytest.mark.parametrize("how", ["mean", "median", "absmean", "absmedian"])
def test_aggregate_sets_matches_pandas_groupby(how):
    rng = np.random.default_rng(8)
    values = rng.normal(size=(4, 9))
    values[1, 2] = np.nan
    values[3, [0, 2, 4]] = np.nan                      # set "b" of row 3 is all NaN
    sets = ["b", "a", "b", "c", "b", "a", "c", "c", "a"]
    out, names = aggregate_sets(values, sets, how=how)
    assert names == ["b", "a", "c"]
    frame = pd.DataFrame(np.abs(values) if "abs" in how else values).T
    ref = getattr(frame.groupby(np.array(sets), sort=False), how.replace("abs", ""))().T
    np.testing.assert_allclose(out, ref[names].to_numpy())
    assert np.isnan(out[3, 0])


@pytest.mark.parametrize("how", ["weightedmean", "weightedabsmean"])
def test_weighted_aggregation_matches_pandas(how):
    rng = np.random.default_rng(9)
    values = rng.normal(size=(3, 8))
    values[0, 5] = np.nan
    weights = rng.uniform(0.1, 2.0, size=8)
    sets = np.array(["x", "x", "y", "z", "y", "x", "z", "y"])
    out, names = aggregate_sets(values, sets, how=how, weights=weights)
    v = pd.DataFrame(np.abs(values) if "abs" in how else values).T
    num = v.mul(weights, axis=0).groupby(sets, sort=False).sum()
    den = v.notna().mul(weights, axis=0).groupby(sets, sort=False).sum()
    np.testing.assert_allclose(out, (num / den).T[names].to_numpy())


def test_aggregation_on_rho_scale_and_errors():
    rho = np.array([[0.9, 0.1, 0.5, -0.2]])
    out, names = aggregate_sets(rho, ["a", "a", "b", "b"], rho_scale=True)
    np.testing.assert_allclose(out[0], [np.tanh(np.arctanh([0.9, 0.1]).mean()),
                                        np.tanh(np.arctanh([0.5, -0.2]).mean())])
    one, _ = aggregate_sets(rho[0], ["a", "a", "b", "b"], how="median")
    assert one.shape == (2,)
    with pytest.raises(ValueError, match=r"how: expected one of .*got 'avg'"):
        aggregate_sets(rho, ["a"] * 4, how="avg")
    with pytest.raises(ValueError, match=r"Did you mean 'weightedmean'"):
        aggregate_sets(rho, ["a"] * 4, how="weightedmaen")
    with pytest.raises(ValueError, match=r"weights: how='weightedmean' needs one weight"):
        aggregate_sets(rho, ["a"] * 4, how="weightedmean")
    with pytest.raises(ValueError, match=r"sets: expected one set label per X map .* 4; got 3"):
        aggregate_sets(rho, ["a"] * 3)


# --------------------------------------------------------------------------------------
# bad inputs


def test_bad_inputs(maps):
    X, Y, Z = maps
    with pytest.raises(ValueError, match=r"method: expected one of .*got 'spearmen'\. "
                                         r"Did you mean 'spearman'\?"):
        colocalize(X, Y, "spearmen")
    with pytest.raises(ValueError, match=r"Did you mean 'elasticnet'"):
        colocalize(X, Y, "elastic_net")
    with pytest.raises(ValueError, match=r"same number of parcels .*X \(4, 60\), Y \(3, 50\)"):
        colocalize(X, Y[:, :50], "pearson")
    with pytest.raises(ValueError, match=r"Z \(2, 59\)"):
        colocalize(X, Y, "partialpearson", Z=Z[:, :59])
    with pytest.raises(ValueError, match=r"Z: method 'partialspearman' needs covariate maps"):
        colocalize(X, Y, "partialspearman")
    with pytest.raises(ValueError, match=r"Z: zy_matched=True needs one Z map per Y map, "
                                         r"i\.e\. 3 rows; got Z with shape \(2, 60\)"):
        colocalize(X, Y, "partialpearson", Z=Z, zy_matched=True)
    with pytest.raises(ValueError, match=r"zy_matched=True needs one Z map per Y map; got "
                                         r"Z=None"):
        colocalize(X, Y, "pearson", zy_matched=True)
    Yn = Y.copy()
    Yn[2] = np.nan
    with pytest.raises(ValueError, match=r"Y: map\(s\) \[2\] contain only NaN values"):
        colocalize(X, Yn, "spearman")
    Xi = X.copy()
    Xi[0, 3] = np.inf
    with pytest.raises(ValueError, match=r"X: expected finite values .*X\[0, 3\]"):
        colocalize(Xi, Y, "pearson")
    with pytest.raises(ValueError, match=r"X: expected a non-empty 2-D array"):
        colocalize(np.zeros((2, 3, 4)), Y, "pearson")
    with pytest.raises(ValueError, match=r"n_components: expected an int between 1 and "
                                         r"n_x = 4; got 5"):
        colocalize(X, Y, "pls", n_components=5)
    with pytest.raises(ValueError, match=r"method_kwargs: method 'pearson' accepts none; "
                                         r"got unexpected \['coords'\]"):
        colocalize(X, Y, "pearson", coords=np.zeros((60, 3)))
    with pytest.raises(ValueError, match=r"method 'mlr' accepts \['individual'\]; got "
                                         r"unexpected \['n_components'\]"):
        colocalize(X, Y, "mlr", n_components=2)
    with pytest.raises(ValueError, match=r"fisher_z: expected True or False"):
        colocalize(X, Y, "pearson", fisher_z="yes")
    with pytest.raises(ValueError, match=r"seed: expected None, an int"):
        colocalize(X, Y, "mi", seed="abc")
