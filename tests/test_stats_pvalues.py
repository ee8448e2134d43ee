"""Permutation p-values, null z-scores and option helpers, checked against plain loops."""

from __future__ import annotations

import numpy as np
import pytest

from nispace.stats.pvalues import (
    DEFAULT_TAILS,
    PValueAccumulator,
    null_summary,
    null_to_p,
    null_zscore,
    pool_colocalizations,
    resolve_pooled_p,
    resolve_tails,
)

TAILS = ("two", "upper", "lower")


def loop_p(obs, null, tail):
    """Phipson & Smyth (2010) written out element by element (exact comparisons)."""
    p = np.full(obs.shape, np.nan)
    for idx in np.ndindex(obs.shape):
        o = obs[idx]
        values = [v for v in null[(slice(None), *idx)] if not np.isnan(v)]
        if np.isnan(o) or not values:
            continue
        if tail == "upper":
            b = sum(v >= o for v in values)
        elif tail == "lower":
            b = sum(v <= o for v in values)
        else:
            b = sum(abs(v) >= abs(o) for v in values)
        p[idx] = (1 + b) / (1 + len(values))
    return p


def loop_z(obs, null):
    z = np.full(obs.shape, np.nan)
    for idx in np.ndindex(obs.shape):
        values = np.array([v for v in null[(slice(None), *idx)] if not np.isnan(v)])
        if len(values) > 1 and values.max() > values.min():
            z[idx] = (obs[idx] - values.mean()) / values.std(ddof=1)
    return z


@pytest.fixture
def data():
    """Observed (3, 4) statistics and 199 nulls with some NaN scattered in both."""
    rng = np.random.default_rng(0)
    obs = rng.normal(scale=1.5, size=(3, 4))
    null = rng.normal(size=(199, 3, 4))
    null[rng.random(null.shape) < 0.05] = np.nan
    obs[2, 3] = np.nan
    null[:, 1, 1] = np.nan  # an element without any null value
    return obs, null


@pytest.mark.parametrize("tail", TAILS)
def test_null_to_p_matches_loop(data, tail):
    obs, null = data
    p = null_to_p(obs, null, tail)
    np.testing.assert_array_equal(p, loop_p(obs, null, tail))
    assert np.isnan(p[2, 3]) and np.isnan(p[1, 1])
    finite = p[~np.isnan(p)]
    assert np.all((finite > 0) & (finite <= 1))


def test_null_to_p_never_zero_and_ties_count():
    null = np.array([0.1, -0.6, 0.2, 0.5])
    assert null_to_p(10.0, null, "upper") == pytest.approx(1 / 5)  # beyond all nulls
    assert null_to_p(0.5, null, "upper") == pytest.approx(2 / 5)  # the tie counts
    assert null_to_p(-0.6, null, "lower") == pytest.approx(2 / 5)
    assert null_to_p(0.5, null, "two") == pytest.approx(3 / 5)  # |-0.6| and 0.5
    assert null_to_p(0.0, null, "two") == 1.0


def test_rounding_ties_count_and_scale_does_not_matter():
    obs = 0.1 + 0.2  # 0.30000000000000004
    null = np.array([0.3, 0.3, 0.1])  # equal to obs up to rounding
    assert null_to_p(obs, null, "upper") == pytest.approx(3 / 4)
    assert null_to_p(-obs, -null, "lower") == pytest.approx(3 / 4)
    assert null_to_p(obs, null, "two") == pytest.approx(3 / 4)
    # clearly smaller values are not ties, even for tiny statistics
    assert null_to_p(3e-20, np.array([2.9e-20, 1e-20]), "upper") == pytest.approx(1 / 3)
    rng = np.random.default_rng(1)
    obs, null = rng.normal(size=5), rng.normal(size=(50, 5))
    for tail in TAILS:
        np.testing.assert_array_equal(null_to_p(obs, null, tail),
                                      null_to_p(1e-9 * obs, 1e-9 * null, tail))


def test_null_to_p_errors():
    with pytest.raises(ValueError, match="tail"):
        null_to_p(0.5, np.zeros(3), tail="both")
    with pytest.raises(ValueError, match="null: expected shape"):
        null_to_p(np.zeros((2, 3)), np.zeros((10, 3, 2)))


def test_neuromaps_permtest_metric_agrees():
    """neuromaps' two-sided permutation p equals ours on its own null correlations."""
    stats = pytest.importorskip("neuromaps.stats")
    rng = np.random.default_rng(2)
    a = rng.normal(size=60)
    b = 0.3 * a + rng.normal(size=60)
    r, p, nulls = stats.permtest_metric(a, b, "pearsonr", n_perm=500, seed=0,
                                        return_nulls=True)
    assert null_to_p(r, nulls, "two") == pytest.approx(p, abs=1e-15)


@pytest.mark.parametrize("tail", TAILS)
def test_p_values_of_a_true_null_are_calibrated(tail):
    """With obs exchangeable with its nulls, P(p <= 0.05) is exactly 0.05."""
    rng = np.random.default_rng(3)
    draws = rng.normal(size=(200, 2000))  # 2000 cases: 1 observed + 199 nulls each
    p = null_to_p(draws[0], draws[1:], tail)
    assert 0.035 <= np.mean(p <= 0.05) <= 0.065
    # and roughly uniform overall
    assert np.histogram(p, bins=5, range=(0, 1))[0].min() > 300


def test_null_zscore_matches_loop(data):
    obs, null = data
    null = null.copy()
    null[:, 0, 0] = 0.1  # constant null: no z
    z = null_zscore(obs, null)
    np.testing.assert_allclose(z, loop_z(obs, null), rtol=1e-12)
    assert np.isnan(z[0, 0]) and np.isnan(z[1, 1]) and np.isnan(z[2, 3])


def test_null_summary():
    rng = np.random.default_rng(4)
    null = rng.normal(size=(101, 2, 3))
    null[0, 0, 0] = np.nan
    s = null_summary(null, percentiles=(5, 50, 95))
    assert s["n"][0, 0] == 100 and s["n"][1, 2] == 101
    np.testing.assert_allclose(s["mean"], np.nanmean(null, axis=0), rtol=1e-12)
    np.testing.assert_allclose(s["std"], np.nanstd(null, axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(s["percentiles"], np.nanpercentile(null, [5, 50, 95], axis=0))
    assert s["percentiles"].shape == (3, 2, 3)
    with pytest.raises(ValueError, match="percentiles"):
        null_summary(null, percentiles=(50, 101))


@pytest.mark.parametrize("tail", TAILS)
def test_accumulator_equals_whole_array(data, tail):
    obs, null = data
    acc = PValueAccumulator(obs, tail)
    for chunk in np.array_split(null, [7, 8, 60, 150]):  # uneven chunks, one of size 1
        acc.update(chunk)
    np.testing.assert_array_equal(acc.p(), null_to_p(obs, null, tail))
    np.testing.assert_allclose(acc.z(), null_zscore(obs, null), rtol=1e-12)
    np.testing.assert_array_equal(acc.n, (~np.isnan(null)).sum(axis=0))


def test_accumulator_is_stable_with_a_large_offset():
    """Chunked moments stay accurate when the null sits far from 0 (no sum-of-squares loss)."""
    rng = np.random.default_rng(5)
    null = 1e8 + rng.normal(size=(10_000, 3))
    obs = np.full(3, 1e8 + 2.0)
    acc = PValueAccumulator(obs)
    for chunk in np.array_split(null, 13):
        acc.update(chunk)
    centred = null - 1e8  # exact: the reference works on small numbers
    expected = (2.0 - centred.mean(axis=0)) / centred.std(axis=0, ddof=1)
    # limited only by the spacing of doubles near 1e8 (1.5e-8) in the mean
    np.testing.assert_allclose(acc.z(), expected, rtol=2e-8)
    np.testing.assert_allclose(null_zscore(obs, null), expected, rtol=2e-8)


def test_resolve_tails():
    stats = ["beta", "r2", "alpha"]
    assert resolve_tails(None, stats) == {"beta": "two", "r2": "upper", "alpha": "two"}
    assert resolve_tails("upper", stats) == dict.fromkeys(stats, "upper")
    assert resolve_tails({"beta": "lower"}, stats) == {"beta": "lower", "r2": "upper",
                                                       "alpha": "two"}
    assert resolve_tails(None, ["rho"], {"rho": "upper"}) == {"rho": "upper"}
    assert DEFAULT_TAILS["mi"] == "upper" and DEFAULT_TAILS["rho"] == "two"
    with pytest.raises(ValueError, match="p_tails.*'rho2'.*Did you mean 'rho'"):
        resolve_tails({"rho2": "upper"}, ["rho"])
    with pytest.raises(ValueError, match=r"p_tails\['rho'\]"):
        resolve_tails({"rho": "greater"}, ["rho"])
    with pytest.raises(ValueError, match="p_tails"):
        resolve_tails("one", ["rho"])
    with pytest.raises(TypeError, match="p_tails"):
        resolve_tails(1, ["rho"])


def test_resolve_pooled_p():
    assert resolve_pooled_p(None, 3) is False
    assert resolve_pooled_p(False, 3) is False
    assert resolve_pooled_p(True, 3) == "mean"
    assert resolve_pooled_p("median", 1) == "median"
    assert resolve_pooled_p("auto", 1) is False
    assert resolve_pooled_p("auto", 5) == "mean"
    for bad in ("max", 1, "Mean"):
        with pytest.raises(ValueError, match="pooled_p"):
            resolve_pooled_p(bad, 2)


def test_pool_colocalizations():
    rng = np.random.default_rng(6)
    null = rng.normal(size=(10, 4, 3))
    null[0, 1, 2] = np.nan
    pooled = pool_colocalizations(null, "mean")
    assert pooled.shape == (10, 1, 3)
    np.testing.assert_allclose(pooled[:, 0], np.nanmean(null, axis=1))
    np.testing.assert_allclose(pool_colocalizations(null[0], "median")[0],
                               np.nanmedian(null[0], axis=0))
    with pytest.raises(ValueError, match="how"):
        pool_colocalizations(null, "max")
    with pytest.raises(ValueError, match="values"):
        pool_colocalizations(np.zeros(3), "mean")
