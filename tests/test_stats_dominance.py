"""Dominance analysis checked against a plain all-subsets implementation with statsmodels."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
import statsmodels.api as sm

from nispace.stats.coloc import colocalize
from nispace.stats.dominance import (
    MAX_PREDICTORS,
    adjusted_r2,
    all_subsets_r2,
    dominance_analysis,
    dominance_analysis_batch,
)


def brute_force_dominance(X, y, adjusted):
    """General dominance written out loop by loop, as in Azen & Budescu (2003)."""
    p = X.shape[0]

    def r2(subset):
        if not subset:
            return 0.0
        fit = sm.OLS(y, sm.add_constant(X[list(subset)].T)).fit()
        return fit.rsquared_adj if adjusted else fit.rsquared

    fits = {s: r2(s) for k in range(p + 1) for s in combinations(range(p), k)}
    general = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        per_size = []
        for k in range(p):
            gains = [fits[tuple(sorted(s + (j,)))] - fits[s] for s in combinations(others, k)]
            per_size.append(np.mean(gains))
        general[j] = np.mean(per_size)
    individual = np.array([fits[(j,)] for j in range(p)])
    return fits[tuple(range(p))], general, individual


def correlated_maps(rng, n_x, n_parcels):
    base = rng.normal(size=(1, n_parcels))
    X = 0.6 * base + rng.normal(size=(n_x, n_parcels))
    y = X.T @ rng.normal(size=n_x) + rng.normal(scale=2.0, size=n_parcels)
    return X, y


@pytest.mark.parametrize("adjusted", [True, False])
def test_dominance_matches_brute_force(adjusted):
    rng = np.random.default_rng(7)
    X, y = correlated_maps(rng, 4, 40)
    full, general, individual = brute_force_dominance(X, y, adjusted)
    res = dominance_analysis(X, y, adjusted=adjusted)
    np.testing.assert_allclose(res["sum"], full, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res["total"], general, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res["individual"], individual, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res["relative"], general / full, rtol=1e-9)
    # general dominances add up to the full model's R² (plain and adjusted)
    assert np.isclose(res["total"].sum(), res["sum"])
    assert np.isclose(res["relative"].sum(), 1.0)
    # conditional dominance at size 0 is the R² alone; its mean over sizes is general
    np.testing.assert_allclose(res["conditional"][:, 0], individual, rtol=1e-9)
    np.testing.assert_allclose(res["conditional"].mean(axis=1), general, rtol=1e-9)


def test_plain_general_dominance_sums_to_full_r2_from_statsmodels():
    rng = np.random.default_rng(3)
    X, y = correlated_maps(rng, 5, 60)
    res = dominance_analysis(X, y, adjusted=False)
    full = sm.OLS(y, sm.add_constant(X.T)).fit().rsquared
    assert np.isclose(res["total"].sum(), full, rtol=1e-10)


def test_all_subsets_r2_indexing_and_adjustment():
    rng = np.random.default_rng(11)
    X, y = correlated_maps(rng, 3, 30)
    plain = all_subsets_r2(X, y, adjusted=False)[:, 0]
    adj = all_subsets_r2(X, y, adjusted=True)[:, 0]
    assert plain[0] == 0 and adj[0] == 0
    for m in range(1, 8):
        cols = [j for j in range(3) if m >> j & 1]
        fit = sm.OLS(y, sm.add_constant(X[cols].T)).fit()
        assert np.isclose(plain[m], fit.rsquared, rtol=1e-10)
        assert np.isclose(adj[m], fit.rsquared_adj, rtol=1e-10)
    np.testing.assert_allclose(adjusted_r2(0.5, 30, 2), 1 - 0.5 * 29 / 27)
    assert np.isnan(adjusted_r2(0.5, 3, 2))


def test_batch_equals_single_and_handles_nans_per_map():
    rng = np.random.default_rng(5)
    X, _ = correlated_maps(rng, 4, 50)
    Y = np.stack([correlated_maps(rng, 4, 50)[1] for _ in range(4)])
    Y[1, [2, 9, 30]] = np.nan
    X[2, 17] = np.nan
    batch = dominance_analysis_batch(X, Y, adjusted=True)
    for i in range(4):
        keep = ~np.isnan(Y[i]) & ~np.isnan(X).any(axis=0)
        single = dominance_analysis(X[:, keep], Y[i, keep], adjusted=True)
        full, general, _ = brute_force_dominance(X[:, keep], Y[i, keep], True)
        for name in ("sum", "total", "individual", "relative"):
            np.testing.assert_allclose(batch[name][i], single[name], rtol=1e-10)
        np.testing.assert_allclose(batch["total"][i], general, rtol=1e-9, atol=1e-12)


def test_colocalize_dominance_uses_nispace_names_and_adjusted_default():
    rng = np.random.default_rng(2)
    X, _ = correlated_maps(rng, 3, 40)
    Y = np.stack([correlated_maps(rng, 3, 40)[1] for _ in range(2)])
    out = colocalize(X, Y, "dominance")
    assert set(out) == {"sum", "total", "individual", "relative"}
    assert out["sum"].shape == (2,) and out["total"].shape == (2, 3)
    expected = dominance_analysis_batch(X, Y, adjusted=True)
    np.testing.assert_allclose(out["total"], expected["total"])
    plain = colocalize(X, Y, "dominance", r2_adjusted=False)
    for i in range(2):
        np.testing.assert_allclose(plain["sum"][i],
                                   sm.OLS(Y[i], sm.add_constant(X.T)).fit().rsquared)


def test_constant_target_and_constant_predictor():
    rng = np.random.default_rng(1)
    X, y = correlated_maps(rng, 3, 30)
    res = dominance_analysis_batch(X, np.stack([y, np.full(30, 2.0)]), adjusted=False)
    assert np.isnan(res["sum"][1]) and np.isnan(res["total"][1]).all()
    X[1] = 4.0                                   # a constant predictor explains nothing
    res = dominance_analysis(X, y, adjusted=False)
    assert np.isclose(res["total"][1], 0.0, atol=1e-12)
    assert np.isclose(res["total"].sum(), res["sum"])


def test_too_many_predictors_and_bad_shapes():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(MAX_PREDICTORS + 1, 40))
    y = rng.normal(size=40)
    with pytest.raises(ValueError, match=r"X: .*at most 15 predictors; got n_x = 16"):
        dominance_analysis(X, y)
    with pytest.raises(ValueError, match=r"at most 15 predictors"):
        colocalize(X, y[None], "dominance")
    with pytest.raises(ValueError, match=r"X and Y must have the same number of parcels"):
        dominance_analysis(X[:3], y[:30])
    with pytest.raises(ValueError, match=r"y: expected one map"):
        dominance_analysis(X[:3], np.stack([y, y]))
    Y = np.stack([y, np.full(40, np.nan)])
    with pytest.raises(ValueError, match=r"Y: map\(s\) \[1\] contain only NaN"):
        dominance_analysis_batch(X[:3], Y)
