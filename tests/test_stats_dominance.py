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
    # beyond the limit the error names the argument, the limit and the cost of the request
    message = (rf"X: .*at most MAX_PREDICTORS = {MAX_PREDICTORS} predictors; got n_x = "
               rf"{MAX_PREDICTORS + 1}\. For 1 target map\(s\) the 2\*\*{MAX_PREDICTORS + 1} "
               r"= [\d,]+ subsets would need about [\d.]+ (s|minutes|hours|days) .* and "
               r"[\d.]+ (kB|MB|GB|TB) for their R² values")
    with pytest.raises(ValueError, match=message):
        dominance_analysis(X, y)
    with pytest.raises(ValueError, match=rf"at most MAX_PREDICTORS = {MAX_PREDICTORS}"):
        colocalize(X, y[None], "dominance")
    with pytest.raises(ValueError, match=r"X and Y must have the same number of parcels"):
        dominance_analysis(X[:3], y[:30])
    with pytest.raises(ValueError, match=r"y: expected one map"):
        dominance_analysis(X[:3], np.stack([y, y]))
    Y = np.stack([y, np.full(40, np.nan)])
    with pytest.raises(ValueError, match=r"Y: map\(s\) \[1\] contain only NaN"):
        dominance_analysis_batch(X[:3], Y)


def test_limit_supports_the_hansen_2022_design():
    # 19 PET receptor maps explaining ENIGMA maps (Hansen et al., 2022) fit in the limit
    assert MAX_PREDICTORS >= 20


# --------------------------------------------------------------------------------------
# independent references for many predictors


def lstsq_subsets_r2(X, y):
    """Plain R² of every subset model by one least-squares fit each (a plain loop)."""
    p, n = X.shape
    r2 = np.zeros(2**p)
    tss = np.sum((y - y.mean()) ** 2)
    for m in range(1, 2**p):
        cols = [j for j in range(p) if m >> j & 1]
        design = np.column_stack([np.ones(n), X[cols].T])
        coef = np.linalg.lstsq(design, y, rcond=None)[0]
        r2[m] = 1.0 - np.sum((y - design @ coef) ** 2) / tss
    return r2


def normal_equations_subsets_r2(X, y):
    """Plain R² of every subset model from the raw normal equations ``D'D b = D'y``.

    Vectorised over the subsets of each size with ``numpy.linalg.solve``, on the
    uncentred design with an intercept column (no correlations, no sweeps).
    """
    p, n = X.shape
    design = np.vstack([np.ones(n), X])
    moments, dy = design @ design.T, design @ y
    tss = np.sum((y - y.mean()) ** 2)
    masks = np.arange(2**p)
    member = (masks[:, None] >> np.arange(p)) & 1
    sizes = member.sum(axis=1)
    r2 = np.zeros(2**p)
    for k in range(1, p + 1):
        sel = masks[sizes == k]
        cols = np.nonzero(member[sel])[1].reshape(-1, k) + 1
        cols = np.column_stack([np.zeros(sel.size, dtype=int), cols])  # intercept first
        for part in np.array_split(np.arange(sel.size), max(1, sel.size // 20000)):
            c = cols[part]
            coef = np.linalg.solve(moments[c[:, :, None], c[:, None, :]], dy[c][..., None])
            explained = np.einsum("sk,sk->s", coef[..., 0], dy[c]) - n * y.mean() ** 2
            r2[sel[part]] = explained / tss
    return r2


def dominance_table_from_subsets(r2, p, n, adjusted):
    """Dominance table from a subset R² vector, written from the definitions."""
    masks = np.arange(2**p)
    sizes = np.array([bin(m).count("1") for m in masks])
    if adjusted:
        r2 = np.where(masks > 0, 1 - (1 - r2) * (n - 1) / (n - sizes - 1), 0.0)
    conditional = np.zeros((p, p))
    for j in range(p):
        without = masks[(masks >> j) & 1 == 0]
        gain = r2[without | (1 << j)] - r2[without]
        conditional[j] = (np.bincount(sizes[without], weights=gain, minlength=p)
                          / np.bincount(sizes[without], minlength=p))
    total = conditional.mean(axis=1)
    return {"sum": r2[-1], "total": total, "individual": r2[1 << np.arange(p)],
            "relative": total / r2[-1], "conditional": conditional}


def loop_dominance_table(r2_by_mask, p):
    """Conditional dominance with explicit loops over subsets (Azen & Budescu, 2003)."""
    def r2(subset):
        return r2_by_mask[sum(1 << j for j in subset)]

    conditional = np.zeros((p, p))
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for k in range(p):
            conditional[j, k] = np.mean([r2(s + (j,)) - r2(s) for s in combinations(others, k)])
    return conditional


def receptor_like_maps(rng, n_x, n_y, n_parcels):
    """Correlated predictors (shared gradients) and targets built from them plus noise."""
    gradients = rng.normal(size=(3, n_parcels))
    X = rng.normal(size=(n_x, 3)) @ gradients + rng.normal(size=(n_x, n_parcels))
    Y = rng.normal(size=(n_y, n_x)) @ X / n_x + rng.normal(scale=1.5, size=(n_y, n_parcels))
    return X, Y


@pytest.mark.parametrize("adjusted", [True, False])
def test_dominance_table_12_predictors_matches_lstsq_loop(adjusted):
    rng = np.random.default_rng(12)
    X, Y = receptor_like_maps(rng, 12, 2, 30)
    res = dominance_analysis_batch(X, Y, adjusted=adjusted)
    for i in range(2):
        plain = lstsq_subsets_r2(X, Y[i])
        ref = dominance_table_from_subsets(plain, 12, 30, adjusted)
        np.testing.assert_allclose(all_subsets_r2(X, Y[i], adjusted=False)[:, 0], plain,
                                   rtol=0, atol=1e-12)
        sizes = np.array([bin(m).count("1") for m in range(2**12)])
        subset_r2 = np.where(sizes > 0, adjusted_r2(plain, 30, sizes), 0.0) if adjusted else plain
        np.testing.assert_allclose(res["conditional"][i], loop_dominance_table(subset_r2, 12),
                                   rtol=0, atol=1e-12)
        for name, value in ref.items():
            np.testing.assert_allclose(res[name][i], value, rtol=1e-10, atol=1e-12,
                                       err_msg=name)


def test_dominance_table_19_predictors_matches_normal_equations():
    # the Hansen et al. (2022) design: 19 receptor maps; fewer parcels keep it quick
    rng = np.random.default_rng(19)
    p, n = 19, 40
    X, Y = receptor_like_maps(rng, p, 2, n)
    plain = normal_equations_subsets_r2(X, Y[0])
    for adjusted in (True, False):
        res = dominance_analysis_batch(X, Y, adjusted=adjusted)
        ref = dominance_table_from_subsets(plain, p, n, adjusted)
        for name, value in ref.items():
            np.testing.assert_allclose(res[name][0], value, rtol=1e-10, atol=1e-10,
                                       err_msg=name)
        assert np.isclose(res["total"][0].sum(), res["sum"][0], rtol=1e-12)
        assert np.isclose(res["relative"][0].sum(), 1.0, rtol=1e-12)
    # the second target map through the public colocalize entry point
    out = colocalize(X, Y, "dominance", r2_adjusted=False)
    ref = dominance_table_from_subsets(normal_equations_subsets_r2(X, Y[1]), p, n, False)
    for name in ("sum", "total", "individual", "relative"):
        np.testing.assert_allclose(out[name][1], ref[name], rtol=1e-10, atol=1e-10)


def test_collinear_predictors_follow_minimum_norm_least_squares():
    rng = np.random.default_rng(4)
    X, Y = receptor_like_maps(rng, 6, 2, 35)
    X[4] = X[1] - 2.0 * X[2]          # exactly collinear with two others
    X[5] = X[0]                       # duplicate map
    for i in range(2):
        plain = lstsq_subsets_r2(X, Y[i])
        np.testing.assert_allclose(all_subsets_r2(X, Y[i], adjusted=False)[:, 0], plain,
                                   rtol=0, atol=1e-10)
        ref = dominance_table_from_subsets(plain, 6, 35, True)
        res = dominance_analysis(X, Y[i])
        for name in ("sum", "total", "individual", "conditional"):
            np.testing.assert_allclose(res[name], ref[name], rtol=1e-9, atol=1e-10)
    # a duplicated map shares its dominance with its twin
    res = dominance_analysis(X, Y[0], adjusted=False)
    assert np.isclose(res["total"][0], res["total"][5])
