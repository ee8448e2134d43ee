"""Batched colocalization against a loop of ``colocalize`` over the permutations.

Each vectorised kernel of :mod:`nispace.stats.batch` must give, for every null map,
what :func:`nispace.stats.coloc.colocalize` gives for that null alone (itself
checked against scipy/statsmodels/pingouin in ``test_stats_coloc.py``), NaN at the
same places. Null maps are "spin-like": ``x[idx]`` with random ``idx`` drawn with
replacement, so they are full of ties, as spin nulls are.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from nispace.stats import batch
from nispace.stats.batch import BATCHED_METHODS, colocalize_batch, rank_rows
from nispace.stats.coloc import COLOC_METHODS, colocalize

N_PARCELS = 40
B = 5


def loop_reference(X, Y, method, Z=None, **kwargs):
    """``colocalize`` once per batch element, stacked: the reference of every test."""
    n_batch = max(X.shape[0] if X.ndim == 3 else 1, Y.shape[0] if Y.ndim == 3 else 1)
    results = [colocalize(X[k] if X.ndim == 3 else X, Y[k] if Y.ndim == 3 else Y, method, Z,
                          **kwargs) for k in range(n_batch)]
    return {name: np.stack([r[name] for r in results]) for name in results[0]}


def assert_matches_loop(X, Y, method, Z=None, **kwargs):
    got = colocalize_batch(X, Y, method, Z, **kwargs)
    expected = loop_reference(X, Y, method, Z, **kwargs)
    assert sorted(got) == sorted(expected)
    for name, exp in expected.items():
        assert got[name].shape == exp.shape, name
        np.testing.assert_allclose(got[name], exp, rtol=1e-9, atol=1e-12, err_msg=name)
    return got


def spin_like(maps, n_batch, rng, nan_fraction=0.0):
    """Nulls ``maps[:, idx]`` with idx drawn with replacement (many ties)."""
    idx = rng.integers(0, maps.shape[1], size=(n_batch, maps.shape[1]))
    nulls = maps[:, idx].transpose(1, 0, 2).copy()
    if nan_fraction:
        nulls[rng.random(nulls.shape) < nan_fraction] = np.nan
    return nulls


@pytest.fixture
def maps():
    """Correlated X (3 maps), Y (2 maps) and Z (2 maps), rounded for extra ties."""
    rng = np.random.default_rng(7)
    Z = rng.normal(size=(2, N_PARCELS))
    X = np.round(rng.normal(size=(3, N_PARCELS)) + 0.4 * Z[0], 1)
    Y = np.round(0.6 * X[:2] + rng.normal(size=(2, N_PARCELS)) + 0.3 * Z[1], 1)
    return X, Y, Z


# --------------------------------------------------------------------------------------
# rank_rows


def test_rank_rows_equals_scipy_rankdata_with_ties_and_nans():
    rng = np.random.default_rng(0)
    a = np.round(rng.normal(size=(4, 6, 25)), 0)            # heavy ties
    a[rng.random(a.shape) < 0.2] = np.nan
    a[1, 2] = np.nan                                        # an all-NaN row
    a[2, 3] = 4.0                                           # a constant row
    for axis in (0, 1, 2, -1):
        np.testing.assert_array_equal(rank_rows(a, axis=axis),
                                      stats.rankdata(a, axis=axis, nan_policy="omit"))
    assert rank_rows([3.0, np.nan, 1.0, 3.0]).tolist()[::2] == [2.5, 1.0]


def test_rank_rows_rejects_scalars():
    with pytest.raises(ValueError, match="a: expected an array"):
        rank_rows(3.0)


# --------------------------------------------------------------------------------------
# vectorised methods: every layout against the loop


LAYOUTS = ["x_batched", "y_batched", "both_batched"]
Z_MODES = [None, "shared", "zy_matched"]
NAN_MODES = ["none", "x_nulls", "y"]


def make_inputs(maps, layout, nan_mode, seed=0):
    X, Y, _ = maps
    rng = np.random.default_rng(seed)
    nan_fraction = 0.08 if nan_mode == "x_nulls" else 0.0
    Xin = spin_like(X, B, rng, nan_fraction) if layout != "y_batched" else X.copy()
    Yin = spin_like(Y, B, rng) if layout != "x_batched" else Y.copy()
    if nan_mode == "x_nulls" and layout == "y_batched":
        Xin[0, [2, 9]] = np.nan                              # shared X: fixed NaN parcels
        Xin[2, 30] = np.nan
    if nan_mode == "y":
        Yin[..., 0, [4, 5]] = np.nan                         # same parcels in every null
    return Xin, Yin


@pytest.mark.parametrize("method, z_mode", [
    (method, z_mode) for method in BATCHED_METHODS for z_mode in Z_MODES
    if z_mode is not None or not method.startswith("partial")])     # partial* require Z
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("nan_mode", NAN_MODES)
def test_vectorised_methods_match_loop(maps, method, layout, z_mode, nan_mode):
    X, Y = make_inputs(maps, layout, nan_mode)
    Z = {None: None, "shared": maps[2],
         "zy_matched": np.random.default_rng(3).normal(size=(2, N_PARCELS))}[z_mode]
    got = assert_matches_loop(X, Y, method, Z, zy_matched=z_mode == "zy_matched")
    main = COLOC_METHODS[method][0]
    assert got[main].shape[0] == B
    assert np.isfinite(got[main]).any()


@pytest.mark.parametrize("method", ["spearman", "partialpearson", "slr", "mlr", "dominance"])
@pytest.mark.parametrize("zy_matched", [False, True])
def test_nan_parcels_in_z(maps, method, zy_matched):
    X, Y, Z = maps
    rng = np.random.default_rng(12)
    Z = rng.normal(size=(2, N_PARCELS)) if zy_matched else Z.copy()
    Z[0, 3] = np.nan                                  # dropped for every pair (or Y[0])
    assert_matches_loop(spin_like(X, B, rng), Y, method, Z, zy_matched=zy_matched)
    assert_matches_loop(X, spin_like(Y, B, rng, 0.05), method, Z, zy_matched=zy_matched)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_fisher_z(maps, method):
    X, Y = make_inputs(maps, "x_batched", "x_nulls")
    got = assert_matches_loop(X, Y, method, fisher_z=True)
    rho = colocalize_batch(X, Y, method)["rho"]
    np.testing.assert_allclose(got["rho"], np.arctanh(rho))


@pytest.mark.parametrize("method", ["slr", "mlr", "dominance"])
def test_plain_r2(maps, method):
    X, Y = make_inputs(maps, "both_batched", "none")
    got = assert_matches_loop(X, Y, method, r2_adjusted=False)
    key = "sum" if method == "dominance" else "r2"
    assert np.all(got[key][np.isfinite(got[key])] >= 0)


# --------------------------------------------------------------------------------------
# NaN parcels that vary between nulls, constant nulls, too few parcels


@pytest.mark.parametrize("method", ["pearson", "spearman", "slr"])
def test_varying_nans_with_constant_and_degenerate_nulls(maps, method):
    X, Y, _ = maps
    rng = np.random.default_rng(11)
    nulls = spin_like(X, 8, rng)
    nulls[nulls > 0.8] = np.nan                                  # NaN where a null is high
    nulls[2, 1] = 3.0                                            # a constant null
    nulls[3, 0] = np.nan
    nulls[3, 0, :2] = [1.0, 2.0]                                 # two parcels only: NaN
    Y = Y.copy()
    Y[1, :20] = 7.0                                              # constant on one half ...
    nulls[5, 1, 20:] = np.nan                                    # ... all that null keeps
    got = assert_matches_loop(nulls, Y, method)
    main = "rho" if method != "slr" else "r2"
    assert np.isnan(got[main][2, :, 1]).all()
    assert np.isnan(got[main][3, :, 0]).all()
    assert np.isnan(got[main][5, 1, 1])
    # the same with the roles swapped: Y nulls with NaN against fixed X maps
    assert_matches_loop(X, nulls[:, :2], method)


@pytest.mark.parametrize("method", ["pearson", "spearman", "slr"])
def test_varying_nans_against_batched_maps(maps, method):
    """Both sides batched, one with NaN parcels varying between permutations."""
    X, Y, _ = maps
    rng = np.random.default_rng(5)
    assert_matches_loop(spin_like(X, B, rng, 0.1), spin_like(Y, B, rng), method)
    assert_matches_loop(spin_like(X, B, rng), spin_like(Y, B, rng, 0.1), method)


@pytest.mark.parametrize("method", ["pearson", "slr"])
def test_masked_sums_keep_precision_for_large_means(maps, method):
    X, Y, _ = maps
    rng = np.random.default_rng(2)
    nulls = spin_like(X, B, rng, 0.1) + 1e6
    assert_matches_loop(nulls, Y * 1e-9 + 1.0, method)


@pytest.mark.parametrize("method", ["pearson", "spearman", "slr"])
def test_both_sides_varying_falls_back_exactly(maps, method):
    X, Y, Z = maps
    rng = np.random.default_rng(4)
    assert_matches_loop(spin_like(X, 3, rng, 0.1), spin_like(Y, 3, rng, 0.1), method)
    assert_matches_loop(spin_like(X, 3, rng, 0.1), Y, method, Z)       # Z with varying NaN


@pytest.mark.parametrize("method", ["mlr", "dominance"])
def test_multivariate_nans_and_constant_predictors(maps, method):
    X, Y, Z = maps
    rng = np.random.default_rng(9)
    nulls = spin_like(X, 6, rng)
    nulls[1, 0] = 4.0                                # constant predictor: lstsq min-norm
    nulls[4, 2] = nulls[4, 1]                        # collinear predictors
    assert_matches_loop(nulls, Y, method)
    nan_nulls = spin_like(X, 6, rng, 0.03)
    assert_matches_loop(nan_nulls, Y, method)
    y_nulls = spin_like(Y, 6, rng, 0.05)
    assert_matches_loop(X, y_nulls[:, :1], method)   # one mask per permutation
    assert_matches_loop(X, y_nulls, method)          # masks differ within a permutation
    assert_matches_loop(nan_nulls, Y, method, Z)


def test_mlr_individual(maps):
    X, Y, Z = maps
    rng = np.random.default_rng(1)
    nulls = spin_like(X, B, rng)
    nulls[2, 1] = 1.5
    for adjusted in (True, False):
        got = assert_matches_loop(nulls, Y, "mlr", individual=True, r2_adjusted=adjusted)
        assert got["individual"].shape == (B, 2, 3)
    assert_matches_loop(spin_like(X[:1], B, rng, 0.05), Y, "mlr", individual=True)
    assert_matches_loop(X, spin_like(Y, B, rng), "mlr", Z, individual=True)
    # asking for the statistic is enough to compute it
    only = colocalize_batch(nulls, Y, "mlr", stats=["individual"])
    np.testing.assert_allclose(only["individual"],
                               colocalize_batch(nulls, Y, "mlr", individual=True)["individual"])


def test_small_chunks_give_the_same_result(maps, monkeypatch):
    """Sub-chunking (memory bound) of every kernel does not change the numbers."""
    X, Y, _ = maps
    rng = np.random.default_rng(8)
    x_nan, y_nulls = spin_like(X, B, rng, 0.1), spin_like(Y, B, rng)
    full = {m: colocalize_batch(x_nan, y_nulls, m) for m in ("spearman", "pearson")}
    full["spearman_shared"] = colocalize_batch(x_nan, Y, "spearman")
    full["dominance"] = colocalize_batch(spin_like(X, B, rng), Y, "dominance")
    monkeypatch.setattr(batch, "CHUNK_BYTES", 8 * N_PARCELS * 3)
    for m in ("spearman", "pearson"):
        np.testing.assert_allclose(colocalize_batch(x_nan, y_nulls, m)["rho"], full[m]["rho"],
                                   rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(colocalize_batch(x_nan, Y, "spearman")["rho"],
                               full["spearman_shared"]["rho"], rtol=1e-12, atol=1e-14)
    assert_matches_loop(x_nan, Y, "spearman")
    assert_matches_loop(spin_like(X, B, rng), Y, "dominance")


def test_shared_nan_masks_ranked_in_chunks(maps, monkeypatch):
    """Nulls whose maps share one NaN mask per permutation rank the other side once
    per distinct mask, chunk by chunk of masks: the same as one colocalize per null."""
    X, Y, _ = maps
    rng = np.random.default_rng(10)
    nulls = spin_like(X, 24, rng)
    patterns = [rng.choice(N_PARCELS, size, replace=False) for size in (1, 2, 3)]
    for k in range(nulls.shape[0]):                    # 3 masks, shared by all maps
        nulls[k][:, patterns[k % 3]] = np.nan
    used = []
    original = batch._rank_sums_unique_masks

    def spy(*args):
        result = original(*args)
        used.append(result is not None)
        return result

    monkeypatch.setattr(batch, "_rank_sums_unique_masks", spy)
    full = assert_matches_loop(nulls, Y, "spearman")
    monkeypatch.setattr(batch, "CHUNK_BYTES", 8 * N_PARCELS * 2)   # one mask per chunk
    small = assert_matches_loop(nulls, Y, "spearman")
    assert used and all(used)
    np.testing.assert_allclose(small["rho"], full["rho"], rtol=1e-12, atol=1e-14)


def test_dominance_targets_chunked_under_the_memory_budget(maps, monkeypatch):
    """A budget of one target map per chunk (as for many predictors) changes nothing."""
    X, _, _ = maps
    rng = np.random.default_rng(9)
    Y = rng.normal(size=(5, N_PARCELS))
    Y[1, 3] = np.nan                                   # its own list-wise mask
    nulls = spin_like(X, B, rng)
    full = colocalize_batch(nulls, Y, "dominance")
    monkeypatch.setattr(batch, "_MEMORY_BUDGET", 1)
    small = assert_matches_loop(nulls, Y, "dominance")
    for name in full:
        np.testing.assert_allclose(small[name], full[name], rtol=1e-12, atol=1e-14)
    assert_matches_loop(nulls, Y, "dominance", r2_adjusted=False)


def test_dominance_cost_message_is_per_permutation():
    with pytest.raises(ValueError, match=r"per fit, i\.e\. per permutation \(4 fits: about"):
        colocalize_batch(np.zeros((4, 23, 40)), np.zeros((1, 40)), "dominance")


# --------------------------------------------------------------------------------------
# fallback methods: a loop over colocalize


@pytest.mark.parametrize("method, kwargs", [
    ("mi", {"seed": 0}),
    ("pls", {"seed": 0}),
    ("pcr", {"seed": 0}),
    ("lasso", {"seed": 0, "alphas": 5}),
    ("ridge", {}),
    ("elasticnet", {"seed": 0, "alphas": 5, "l1_ratio": 0.5}),
])
def test_fallback_methods_loop_over_the_batch(maps, method, kwargs):
    X, Y, _ = maps
    nulls = spin_like(X, 3, np.random.default_rng(6))
    got = assert_matches_loop(nulls, Y, method, **kwargs)
    assert method not in BATCHED_METHODS
    assert all(arr.shape[0] == 3 for arr in got.values())


# --------------------------------------------------------------------------------------
# API: shapes, stats selection, errors


def test_shapes_and_stats_selection(maps):
    X, Y, _ = maps
    nulls = spin_like(X, B, np.random.default_rng(0))
    out = colocalize_batch(nulls, Y, "slr", stats=["beta"])
    assert list(out) == ["beta"] and out["beta"].shape == (B, 2, 3)
    out = colocalize_batch(X, spin_like(Y, B, np.random.default_rng(1)), "mlr")
    assert out["r2"].shape == (B, 2) and out["beta"].shape == (B, 2, 3)
    # neither batched: a batch of one
    np.testing.assert_allclose(colocalize_batch(X, Y, "pearson")["rho"][0],
                               colocalize(X, Y, "pearson")["rho"])


@pytest.mark.parametrize("method", ["mlr", "dominance"])
def test_distance_cv_options_are_accepted_and_not_permuted(maps, method):
    """The options of colocalize(..., cv="distance") reach the permutations (the
    facade replays them): accepted, and the cv_* statistics are not permuted."""
    X, Y, _ = maps
    coords = np.random.default_rng(3).normal(size=(N_PARCELS, 3))
    dist = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    observed = colocalize(X, Y, method, cv="distance", dist_mat=dist, cv_test_fraction=0.3,
                          cv_seed_set="train")
    assert "cv_test_r_mean" in observed
    nulls = spin_like(X, B, np.random.default_rng(4))
    got = colocalize_batch(nulls, Y, method, cv="distance", dist_mat=dist,
                           cv_test_fraction=0.3, cv_seed_set="train")
    expected = loop_reference(nulls, Y, method)
    assert sorted(got) == sorted(expected) and not any(k.startswith("cv_") for k in got)
    for name, exp in expected.items():
        np.testing.assert_allclose(got[name], exp, rtol=1e-9, atol=1e-12, err_msg=name)
    with pytest.raises(ValueError, match="stats"):
        colocalize_batch(nulls, Y, method, stats=["cv_test_r_mean"], dist_mat=dist)


@pytest.mark.parametrize("args, kwargs, match", [
    ((np.zeros((3, 2, 10)), np.zeros((4, 1, 10)), "pearson"), {}, "batch sizes must match"),
    ((np.zeros((2, 10)), np.zeros((1, 11)), "pearson"), {}, "same number of parcels"),
    ((np.full((2, 2, 10), np.nan), np.zeros((1, 10)), "pearson"), {}, "only NaN"),
    ((np.full((2, 10), np.inf), np.zeros((1, 10)), "pearson"), {}, "finite"),
    ((np.zeros((2, 10)), np.zeros((1, 10)), "pearsn"), {}, "method"),
    ((np.zeros((2, 10)), np.zeros((1, 10)), "partialpearson"), {}, "Z"),
    ((np.zeros((2, 10)), np.zeros((1, 10)), "pearson"), {"stats": ["r2"]}, "stats"),
    ((np.zeros((2, 10)), np.zeros((1, 10)), "pearson"), {"alpha": 1}, "unexpected"),
    ((np.zeros((23, 40)), np.zeros((1, 40)), "dominance"), {}, "at most MAX_PREDICTORS = 22"),
    ((np.zeros((2, 10)), np.zeros((1, 10)), "pearson"), {"fisher_z": 1}, "fisher_z"),
])
def test_errors_name_the_argument(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        colocalize_batch(*args, **kwargs)

