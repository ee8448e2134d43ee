"""Covariate cleaning (nispace.stats.cleaning) against statsmodels OLS and
neuroHarmonize called directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from nispace.stats.cleaning import combat, one_hot, regress_between, regress_within


@pytest.fixture
def subjects_design():
    """40 subjects, 7 parcels; age and sex as covariates, group as protected."""
    rng = np.random.default_rng(42)
    n, p = 40, 7
    age = rng.normal(30, 6, n)
    sex = rng.integers(0, 2, n).astype(float)
    group = np.repeat([0.0, 1.0], n // 2)
    Y = (2.0 + 0.05 * age[:, None] * rng.normal(1, 0.2, p) + 0.4 * sex[:, None]
         + 0.8 * group[:, None] + rng.normal(0, 0.5, (n, p)))
    return Y, np.column_stack([age, sex]), group[:, None]


def sm_partial_residuals(y, C, P):
    """Reference: statsmodels fit of y ~ 1 + C + P, then y minus the covariate part."""
    design = sm.add_constant(np.column_stack([C, P]), has_constant="add")
    fit = sm.OLS(y, design).fit()
    k = C.shape[1]
    beta0, beta_c, beta_p = fit.params[0], fit.params[1:1 + k], fit.params[1 + k:]
    # residuals + intercept + protected effects, assembled from the fitted parameters
    return fit.resid + beta0 + P @ beta_p, y - C @ beta_c


def test_regress_between_against_statsmodels(subjects_design):
    Y, C, P = subjects_design
    out = regress_between(Y, C, protect=P)
    for j in range(Y.shape[1]):
        expected, same = sm_partial_residuals(Y[:, j], C, P)
        np.testing.assert_allclose(expected, same, atol=1e-10)  # the two readings agree
        np.testing.assert_allclose(out[:, j], expected, rtol=1e-9, atol=1e-10)


def test_regress_between_keeps_group_effect(subjects_design):
    Y, C, P = subjects_design
    group = P[:, 0].astype(bool)
    out = regress_between(Y, C, protect=P)
    # covariates are uncorrelated with the cleaned data (given the group)
    for j in range(Y.shape[1]):
        fit = sm.OLS(out[:, j], sm.add_constant(np.column_stack([C, P]))).fit()
        np.testing.assert_allclose(fit.params[1:3], 0, atol=1e-9)
    # the group difference survives (true effect 0.8)
    diff = out[group].mean(0) - out[~group].mean(0)
    assert np.all(diff > 0.3)


def test_regress_between_without_protect(subjects_design):
    Y, C, _ = subjects_design
    out = regress_between(Y, C)
    for j in range(Y.shape[1]):
        fit = sm.OLS(Y[:, j], sm.add_constant(C)).fit()
        np.testing.assert_allclose(out[:, j], fit.resid + fit.params[0], rtol=1e-9)
    # 1-D covariate is one column
    np.testing.assert_allclose(regress_between(Y, C[:, 0]), regress_between(Y, C[:, :1]))


def test_regress_between_nan_per_parcel(subjects_design):
    Y, C, P = subjects_design
    Y = Y.copy()
    Y[[3, 10], 2] = np.nan
    Y[5, 4] = np.nan
    Y[:, 6] = np.nan  # an all-NaN parcel
    out = regress_between(Y, C, protect=P)
    for j in (0, 1, 3, 5):
        np.testing.assert_allclose(out[:, j], sm_partial_residuals(Y[:, j], C, P)[0], rtol=1e-9)
    for j in (2, 4):
        ok = ~np.isnan(Y[:, j])
        expected = sm_partial_residuals(Y[ok, j], C[ok], P[ok])[0]
        np.testing.assert_allclose(out[ok, j], expected, rtol=1e-9)
        assert np.isnan(out[~ok, j]).all()
    assert np.isnan(out[:, 6]).all()


def test_regress_between_errors(subjects_design):
    Y, C, P = subjects_design
    with pytest.raises(ValueError, match=r"covariates: expected 40 rows .*got 39"):
        regress_between(Y, C[:-1])
    C_nan = C.copy()
    C_nan[4, 0] = np.nan
    with pytest.raises(ValueError, match=r"covariates: contains NaN/inf in row\(s\) \[4\]"):
        regress_between(Y, C_nan)
    with pytest.raises(ValueError, match=r"protect: expected 40 rows"):
        regress_between(Y, C, protect=P[:10])
    with pytest.raises(ValueError, match=r"full column rank .*rank 3 of 4"):
        regress_between(Y, np.column_stack([C, C[:, 0]]))
    with pytest.raises(ValueError, match="full column rank"):
        regress_between(Y, np.ones((40, 1)))  # constant covariate = intercept
    with pytest.raises(ValueError, match=r"Y: expected an array of shape \(n_subjects, n_parcels\)"):
        regress_between(Y[:, 0], C)
    with pytest.raises(TypeError, match="covariates: .*one_hot"):
        regress_between(Y, np.array([["m"], ["f"]] * 20))


@pytest.fixture
def maps_design():
    rng = np.random.default_rng(5)
    n_maps, k, p = 4, 2, 60
    Z = rng.normal(size=(k, p))
    Y = 1.5 + rng.normal(size=(n_maps, k)) @ Z + rng.normal(0, 0.3, (n_maps, p))
    return Y, Z


def test_regress_within_against_statsmodels(maps_design):
    Y, Z = maps_design
    out = regress_within(Y, Z)
    for i in range(Y.shape[0]):
        fit = sm.OLS(Y[i], sm.add_constant(Z.T)).fit()
        np.testing.assert_allclose(out[i], fit.resid, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)  # residuals, no intercept


def test_regress_within_single_map_and_nan(maps_design):
    Y, Z = maps_design
    Y = Y.copy()
    Z = Z.copy()
    Y[1, [3, 7]] = np.nan
    Z[0, 11] = np.nan
    out = regress_within(Y, Z)
    for i in range(Y.shape[0]):
        ok = ~np.isnan(Y[i]) & ~np.isnan(Z).any(0)
        fit = sm.OLS(Y[i, ok], sm.add_constant(Z[:, ok].T)).fit()
        np.testing.assert_allclose(out[i, ok], fit.resid, rtol=1e-9, atol=1e-12)
        assert np.isnan(out[i, ~ok]).all()
    single = regress_within(Y[:1], Z[1])  # one covariate map, 1-D
    fit = sm.OLS(Y[0, ~np.isnan(Y[0])], sm.add_constant(Z[1])).fit()
    np.testing.assert_allclose(single[0], fit.resid, rtol=1e-9, atol=1e-12)


def test_regress_within_map_specific(maps_design):
    Y, Z = maps_design
    rng = np.random.default_rng(0)
    Zs = rng.normal(size=(Y.shape[0], 1, Y.shape[1]))
    out = regress_within(Y, Zs)
    for i in range(Y.shape[0]):
        fit = sm.OLS(Y[i], sm.add_constant(Zs[i].T)).fit()
        np.testing.assert_allclose(out[i], fit.resid, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match=r"covariate_maps: a 3-D array needs one .* \(4\); got 2"):
        regress_within(Y, Zs[:2])
    with pytest.raises(ValueError, match=r"covariate_maps: expected 60 parcels .*got 59"):
        regress_within(Y, Z[:, :-1])


def test_one_hot_categoricals():
    df = pd.DataFrame({
        "age": [20.0, 31.0, 42.0, 25.0, 37.0],
        "groups": ["HC", "AN", "HC", "AN", "AN"],
        "site": [2, 1, 3, 1, 2],
        "scanner": pd.Categorical(["b", "a", "b", "b", "a"], categories=["b", "a"]),
        "smoker": [True, False, False, True, False],
    })
    X, names = one_hot(df, categorical=["site"])
    assert names == ["age", "groups_HC", "site_2", "site_3", "scanner_a", "smoker"]
    expected = np.array([
        [20, 1, 1, 0, 0, 1],
        [31, 0, 0, 0, 1, 0],
        [42, 1, 0, 1, 0, 0],
        [25, 0, 0, 0, 0, 1],
        [37, 0, 1, 0, 1, 0],
    ], dtype=float)
    np.testing.assert_array_equal(X, expected)
    # same indicator columns as pandas.get_dummies(drop_first=True)
    dummies = pd.get_dummies(df[["groups"]], drop_first=True, dtype=float)
    np.testing.assert_array_equal(X[:, [1]], dummies.to_numpy())
    X_all, names_all = one_hot({"groups": df["groups"]}, drop_first=False)
    assert names_all == ["groups_AN", "groups_HC"]
    np.testing.assert_array_equal(X_all.sum(1), 1)


def test_one_hot_errors():
    with pytest.raises(ValueError, match=r"categorical: column\(s\) \['sitee'\] not found"):
        one_hot({"site": [1, 2]}, categorical=["sitee"])
    with pytest.raises(ValueError, match="categorical column 'g' has missing values"):
        one_hot(pd.DataFrame({"g": ["a", None, "b"]}))
    with pytest.raises(ValueError, match="one value per subject"):
        one_hot({"a": [1, 2], "b": [1, 2, 3]})
    with pytest.raises(TypeError, match="covariates: expected a pandas DataFrame or a mapping"):
        one_hot(np.zeros((3, 2)))


def test_one_hot_feeds_regress_between(subjects_design):
    Y, C, P = subjects_design
    design = pd.DataFrame({"age": C[:, 0], "sex": np.where(C[:, 1] == 1, "m", "f")})
    X, names = one_hot(design)
    assert names == ["age", "sex_m"]
    np.testing.assert_allclose(regress_between(Y, X, P), regress_between(Y, C, P))


# ---------------------------------------------------------------------------
# ComBat
# ---------------------------------------------------------------------------

@pytest.fixture
def sites_design():
    rng = np.random.default_rng(9)
    n_per, p = 15, 6
    site = np.repeat(["siteA", "siteB", "siteC"], n_per)
    age = rng.normal(40, 10, 3 * n_per)
    shift = {"siteA": 0.0, "siteB": 1.5, "siteC": -1.0}
    scale = {"siteA": 1.0, "siteB": 2.0, "siteC": 0.6}
    Y = np.array([[3 + 0.05 * a + shift[s] + scale[s] * rng.normal() for _ in range(p)]
                  for s, a in zip(site, age)])
    return Y, site, age


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_combat_against_neuroharmonize(sites_design):
    nh = pytest.importorskip(
        "neuroHarmonize",
        reason="neuroHarmonize is not installed (pip install --no-deps neuroHarmonize==2.5.2 "
               "neuroCombat==0.2.12)")
    Y, site, age = sites_design
    out = combat(Y, site, covariates=age)
    covars = pd.DataFrame({"SITE": site, "AGE": age})
    _, expected = nh.harmonizationLearn(Y.copy(), covars)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)
    # site means are pulled together
    before = np.ptp([Y[site == s].mean() for s in np.unique(site)])
    after = np.ptp([out[site == s].mean() for s in np.unique(site)])
    assert after < 0.25 * before
    # no covariates, no empirical Bayes, passed through
    _, expected = nh.harmonizationLearn(Y.copy(), covars[["SITE"]], eb=False)
    np.testing.assert_allclose(combat(Y, site, eb=False), expected, rtol=1e-10, atol=1e-10)


def test_combat_nan_parcels(sites_design):
    pytest.importorskip(
        "neuroHarmonize",
        reason="neuroHarmonize is not installed (pip install --no-deps neuroHarmonize==2.5.2 "
               "neuroCombat==0.2.12)")
    Y, site, age = sites_design
    Y_nan = Y.copy()
    Y_nan[:, 2] = np.nan
    out = combat(Y_nan, site, covariates=age)
    assert np.isnan(out[:, 2]).all()
    np.testing.assert_allclose(out[:, [0, 1, 3, 4, 5]],
                               combat(np.delete(Y, 2, axis=1), site, covariates=age),
                               rtol=1e-10)
    Y_nan[4, 0] = np.nan
    with pytest.raises(ValueError, match=r"Y: ComBat needs complete data; parcel\(s\) \[0\]"):
        combat(Y_nan, site)


def test_combat_input_errors(sites_design):
    Y, site, _ = sites_design
    with pytest.raises(ValueError, match=r"site: expected one label per row of Y \(45\); got 44"):
        combat(Y, site[:-1])
    with pytest.raises(ValueError, match="at least two sites"):
        combat(Y, ["one"] * len(Y))
    with pytest.raises(ValueError, match=r"site\(s\) \['siteD'\] have one"):
        combat(Y, np.r_[site[:-1], ["siteD"]])


def test_combat_import_error_gives_an_install_command_that_keeps_numpy(sites_design, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_neuroharmonize(name, *args, **kwargs):
        if name.startswith("neuroHarmonize"):
            raise ImportError("No module named 'neuroHarmonize'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_neuroharmonize)
    Y, site, _ = sites_design
    with pytest.raises(ImportError, match=r"pip install --no-deps neuroHarmonize==2\.5\.2"):
        combat(Y, site)
