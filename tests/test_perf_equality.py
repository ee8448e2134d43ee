"""The optimised paths give the same p-values as the straightforward ones.

Each optimisation is compared with a plain recomputation on small synthetic data
with ties, several maps and NaN parcels: correlations agree to rounding and the
exact permutation p-values are identical.
"""

from __future__ import annotations

import numpy as np
import pytest

from nispace.nulls import gather
from nispace.permute.maps import null_colocalizations_maps
from nispace.permute.nullmaps import ArrayNulls, NullMaps
from nispace.permute.spec import ColocSpec, SetSpec
from scipy.stats import rankdata

from nispace.stats.batch import (colocalize_batch, colocalize_index_nulls, dense_keys,
                                 permutation_rows, rank_rows)
from nispace.stats.pvalues import null_to_p


def _maps(rng, n_maps, n, ties=True):
    a = rng.normal(size=(n_maps, n))
    return np.round(a, 1) if ties else a      # rounding makes many ties


def _spins(rng, n_perm, n, n_broken=0):
    """Permutations of the parcels; the first ``n_broken`` rows repeat a parcel (as
    nearest-centroid spins do) and one of them has a -1 (a NaN parcel)."""
    idx = np.stack([rng.permutation(n) for _ in range(n_perm)])
    for k in range(n_broken):
        idx[k, 0] = idx[k, 1]
    if n_broken:
        idx[0, 2] = -1
    return idx


def _gathered(data, idx):
    return np.stack([gather(row, idx) for row in data]).transpose(1, 0, 2)  # (B, n_maps, n)


def test_permutation_rows_flags_duplicates_and_nan_parcels():
    assert permutation_rows([[2, 0, 1], [0, 0, 1], [2, -1, 1]]).tolist() == [True, False, False]


@pytest.mark.parametrize("method", ["spearman", "pearson"])
@pytest.mark.parametrize("permuted", ["X", "Y"])
def test_index_nulls_equal_ranking_every_null(method, permuted):
    rng = np.random.default_rng(1)
    X, Y, idx = _maps(rng, 6, 40), _maps(rng, 3, 40), _spins(rng, 300, 40)
    X[4] = 1.0                                   # a constant map: NaN correlations
    fast = colocalize_index_nulls(X, Y, idx, method, permuted=permuted)["rho"]
    if permuted == "X":
        plain = colocalize_batch(_gathered(X, idx), Y, method)["rho"]
        observed = colocalize_batch(X, Y, method)["rho"][0]
    else:
        plain = colocalize_batch(X, _gathered(Y, idx), method)["rho"]
        observed = colocalize_batch(X, Y, method)["rho"][0]
    np.testing.assert_allclose(fast, plain, rtol=0, atol=1e-12)
    assert np.array_equal(np.isnan(fast), np.isnan(plain))
    for tail in ("two", "upper", "lower"):
        np.testing.assert_array_equal(null_to_p(observed, fast, tail=tail),
                                      null_to_p(observed, plain, tail=tail))


def test_index_nulls_decline_what_they_cannot_do_exactly():
    rng = np.random.default_rng(2)
    X, Y, idx = _maps(rng, 3, 30), _maps(rng, 1, 30), _spins(rng, 10, 30)
    with_nan = X.copy()
    with_nan[0, 3] = np.nan
    assert colocalize_index_nulls(with_nan, Y, idx, "pearson") is None
    assert colocalize_index_nulls(X, Y, _spins(rng, 10, 30, n_broken=2), "pearson") is None
    two_patterns = X.copy()
    two_patterns[0, 3], two_patterns[1, 4] = np.nan, np.nan
    assert colocalize_index_nulls(two_patterns, Y, idx, "spearman") is None
    assert colocalize_index_nulls(X, Y, idx, "slr") is None


def test_rank_rows_counts_dense_keys_exactly():
    """Rows of dense keys are ranked by counting: the same average ranks as scipy."""
    rng = np.random.default_rng(4)
    values = np.round(rng.normal(size=(30, 60)), 1)
    values[rng.random(values.shape) < 0.1] = np.nan
    keys = dense_keys(values)
    expected = rankdata(values, axis=1, nan_policy="omit")
    np.testing.assert_array_equal(rank_rows(keys), expected)
    np.testing.assert_array_equal(rank_rows(values), expected)
    gathered = keys[:, rng.integers(0, 60, size=60)]          # repeated parcels too
    np.testing.assert_array_equal(rank_rows(gathered),
                                  rankdata(gathered, axis=1, nan_policy="omit"))


@pytest.mark.parametrize("method", ["spearman", "pearson"])
@pytest.mark.parametrize("side", ["X", "Y"])
@pytest.mark.parametrize("options,sets,nan", [({}, None, False), ({"fisher_z": True}, None,
                                                                  False),
                                              ({}, "sets", False), ({}, None, True)])
def test_engine_index_shortcut_equals_null_maps_path(tmp_path, side, options, sets, nan,
                                                     method, monkeypatch):
    """The engine with index nulls (shortcut for permutation rows, general path for
    rows with repeated or NaN parcels) equals colocalizing the gathered null maps.
    Pearson without NaN stitches both: only the broken rows are gathered."""
    rng = np.random.default_rng(3)
    n, n_perm = 50, 600
    X, Y = _maps(rng, 8, n), _maps(rng, 2, n)
    if nan:                                  # NaN parcels: the masked (varying NaN) path
        (X if side == "X" else Y)[:, [5, 17]] = np.nan
    idx = _spins(rng, n_perm, n, n_broken=40).astype(np.int32)
    np.save(tmp_path / "idx.npy", idx)
    data = X if side == "X" else Y
    nulls = NullMaps(labels=list(range(len(data))), n_perm=n_perm, kind="index",
                     files=[tmp_path / "idx.npy"], data=data, standardize=True)
    plain_nulls = ArrayNulls(nulls.to_array())
    set_spec = None if sets is None else SetSpec(np.array(list("aabbbccc")))
    spec = ColocSpec(method, options=options, sets=set_spec)
    gathered_rows = []
    resolve = NullMaps.resolve
    monkeypatch.setattr(NullMaps, "resolve",
                        lambda self, rows: gathered_rows.append(len(rows)) or resolve(self, rows))
    args = (nulls, None) if side == "X" else (None, nulls)
    plain_args = (plain_nulls, None) if side == "X" else (None, plain_nulls)
    fast = null_colocalizations_maps(spec, X, Y, *args, verbose=False)["rho"]
    if method == "pearson" and not nan:              # mixed: 40 broken rows gathered
        assert sum(gathered_rows) == 40
    plain = null_colocalizations_maps(spec, X, Y, *plain_args, verbose=False)["rho"]
    np.testing.assert_allclose(fast, plain, rtol=0, atol=1e-10)
    observed = spec(X, Y)["rho"][0]
    np.testing.assert_array_equal(null_to_p(observed, fast), null_to_p(observed, plain))


def test_masked_path_with_shared_nan_parcels_equals_a_loop():
    """Spun maps with NaN at varying parcels (the same for all maps of a null, so the
    target is ranked once per null) give the p-values of one colocalize() per null."""
    from nispace.stats.coloc import colocalize

    rng = np.random.default_rng(5)
    n, n_perm = 40, 200
    X, Y = _maps(rng, 5, n), _maps(rng, 2, n)
    X[:, [3, 11]] = np.nan
    idx = _spins(rng, n_perm, n, n_broken=30)
    nulls = _gathered(X, idx)                                   # (B, 5, n), NaN varies
    fast = colocalize_batch(nulls, Y, "spearman")["rho"]
    plain = np.full_like(fast, np.nan)
    for k in range(n_perm):
        for j in range(5):
            plain[k, :, j] = colocalize(nulls[k, j:j + 1], Y, "spearman")["rho"][:, 0]
    np.testing.assert_allclose(fast, plain, rtol=0, atol=1e-12)
    observed = colocalize(X, Y, "spearman")["rho"]
    np.testing.assert_array_equal(null_to_p(observed, fast), null_to_p(observed, plain))


@pytest.mark.parametrize("permuted", ["X", "Y"])
@pytest.mark.parametrize("ties", [True, False])
def test_index_spearman_with_nan_and_repeated_parcels_equals_ranking_every_null(permuted,
                                                                                  ties):
    """Counting ranks from source multiplicities = ranking each gathered null."""
    rng = np.random.default_rng(6)
    n = 45
    # the permuted side has the more maps (else the shortcut declines, see below)
    P, O = _maps(rng, 7, n, ties), _maps(rng, 2, n, ties)
    X, Y = (P, O) if permuted == "X" else (O, P)
    X[:, [2, 9]] = np.nan
    Y[:, [30]] = np.nan
    P[5] = np.where(np.isnan(P[5]), np.nan, 0.5)                 # constant: NaN rho
    idx = _spins(rng, 250, n, n_broken=120)
    idx[7, :40] = -1                                               # too few parcels left
    fast = colocalize_index_nulls(X, Y, idx, "spearman", permuted=permuted)["rho"]
    if permuted == "X":
        plain = colocalize_batch(_gathered(X, idx), Y, "spearman")["rho"]
    else:
        plain = colocalize_batch(X, _gathered(Y, idx), "spearman")["rho"]
    np.testing.assert_allclose(fast, plain, rtol=0, atol=1e-12)
    assert np.array_equal(np.isnan(fast), np.isnan(plain))
    observed = colocalize_batch(X, Y, "spearman")["rho"][0]
    for tail in ("two", "upper", "lower"):
        np.testing.assert_array_equal(null_to_p(observed, fast, tail=tail),
                                      null_to_p(observed, plain, tail=tail))


@pytest.mark.parametrize("ties", [True, False])
@pytest.mark.parametrize("y_nan", [True, False])
def test_y_nulls_against_many_x_maps_with_nan_count_ranks_of_x(tmp_path, ties, y_nan):
    """Index nulls of one target against many X maps with NaN parcels: with NaN in the
    target every null keeps other parcels and the ranks of every X map over them are
    counted (no re-sort per null, X maps in blocks); without, the nulls share a few
    parcel sets, X is ranked once per set and one product per set gives all nulls.
    Either way the engine's result equals colocalizing the gathered null maps: the
    same p-values, and rho bit for bit equal to scipy's ranks of every pair."""
    rng = np.random.default_rng(7)
    n, n_perm = 40, 120
    X, Y = _maps(rng, 12, n, ties), _maps(rng, 1, n, ties)
    X[:, [4]] = np.nan
    X[3] = np.where(np.isnan(X[3]), np.nan, 2.0)                 # constant: NaN rho
    if y_nan:
        Y[:, [1, 20]] = np.nan
    idx = _spins(rng, n_perm, n, n_broken=20).astype(np.int32)
    direct = colocalize_index_nulls(X, Y, idx, "spearman", permuted="Y")["rho"]
    ref = np.full(direct.shape, np.nan)
    for k in range(n_perm):
        y = gather(Y[0], idx[k:k + 1])[0]
        for j, x in enumerate(X):
            w = ~np.isnan(x) & ~np.isnan(y)
            rx, ry = rankdata(x[w]) - (w.sum() + 1) / 2, rankdata(y[w]) - (w.sum() + 1) / 2
            s_xx, s_yy = np.sum(rx * rx), np.sum(ry * ry)
            if s_xx > 0 and s_yy > 0:
                ref[k, 0, j] = np.clip(np.sum(rx * ry) / np.sqrt(s_xx * s_yy), -1, 1)
    np.testing.assert_array_equal(direct, ref)
    np.save(tmp_path / "idx.npy", idx)
    nulls = NullMaps(labels=[0], n_perm=n_perm, kind="index", files=[tmp_path / "idx.npy"],
                     data=Y, standardize=True)
    spec = ColocSpec("spearman")
    fast = null_colocalizations_maps(spec, X, Y, None, nulls, verbose=False)["rho"]
    plain = colocalize_batch(X, _gathered(Y, idx), "spearman")["rho"]
    np.testing.assert_allclose(fast, plain, rtol=0, atol=1e-10)
    observed = spec(X, Y)["rho"][0]
    for tail in ("two", "upper", "lower"):
        np.testing.assert_array_equal(null_to_p(observed, fast, tail=tail),
                                      null_to_p(observed, plain, tail=tail))


@pytest.mark.parametrize("later_row", [
    [0.0, np.inf, 1.0, 2.0, 1.0],            # inf: not a key
    [0.0, 1e300, 1.0, 2.0, 1.0],             # too large to be a key
    [0.0, 2.5, 1.0, 2.0, 1.0],               # not an integer
    [0.0, -1.0, 1.0, 2.0, np.nan],           # negative
])
def test_rank_rows_falls_back_to_sorting_when_a_later_row_is_not_keys(later_row):
    """Counting applies to rows of small non-negative integers only; a later row that
    is not such (the first row passes the cheap check) falls back to sorting, exactly
    and without a cast warning."""
    import warnings

    from nispace.stats.batch import _rank_by_counting

    values = np.array([[0.0, 3.0, 1.0, 1.0, 2.0], later_row])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _rank_by_counting(values) is None
        ranks = rank_rows(values)
    np.testing.assert_array_equal(ranks, rankdata(values, axis=1, nan_policy="omit"))
    # rows of keys alone are counted, with scipy's ranks
    np.testing.assert_array_equal(_rank_by_counting(values[:1]), rankdata(values[:1], axis=1))


def _split_model(rng, subcortex="moran"):
    """Spins on 40 cortical parcels (two hemispheres on the unit sphere) + a distance
    model on 10 subcortical parcels, the cortex parcels first."""
    from nispace.nulls import SplitNullModel, make_null_model

    xyz = rng.normal(size=(40, 3))
    coords = xyz / np.linalg.norm(xyz, axis=1, keepdims=True)
    coords[:20, 0], coords[20:, 0] = -np.abs(coords[:20, 0]), np.abs(coords[20:, 0])
    hemiid = np.repeat([0, 1], 20)
    pts = rng.normal(size=(10, 3)) * 20
    dist = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    return SplitNullModel(make_null_model("alexander_bloch", coords=coords, hemiid=hemiid),
                          make_null_model(subcortex, dist_mat=dist),
                          np.arange(40), np.arange(40, 50))


def _split_values(model, data, n_perm, seed):
    """The straightforward path: SplitNullModel.values per chunk and map, as stored
    before split models were stored by part."""
    from nispace._random import chunk_bounds, chunk_seeds
    from nispace.permute.engine import CHUNK_SIZE
    from nispace.permute.nullmaps import _map_seed, map_digest

    root = np.random.SeedSequence(seed)
    bounds = chunk_bounds(n_perm, CHUNK_SIZE)
    seeds = chunk_seeds(seed, len(bounds))
    model.prepare(data)
    return np.stack([np.concatenate([
        model.values(row, b - a, _map_seed(root, map_digest(row), a // CHUNK_SIZE), s)
        for (a, b), s in zip(bounds, seeds)]) for row in data])


@pytest.mark.parametrize("cheap", [True, False])
@pytest.mark.parametrize("n_proc", [1, 2])
def test_split_nulls_stored_by_part_equal_the_stitched_values(isolated_env, cheap, n_proc):
    """Spin+Moran nulls stored as shared cortex indices (+ subcortex values, or drawn
    again when cheap) read back bit for bit as the stitched values of
    SplitNullModel.values, for any n_proc, from a cold and a warm cache; the cache
    holds no full value maps."""
    from nispace.permute.nullmaps import prepare_null_maps

    rng = np.random.default_rng(5)
    data = _maps(rng, 3, 50)
    data[1, [3, 45]] = np.nan                       # a NaN parcel in each part
    model = _split_model(rng)
    model.subcortex.cheap = cheap
    n_perm = 600                                     # 3 chunks, the last one partial
    expected = _split_values(model, data, n_perm, 7)
    for run in ("cold", "warm"):
        nulls = prepare_null_maps(model, data, ["a", "b", "c"], n_perm, 7, n_proc=n_proc,
                                  verbose=False)
        np.testing.assert_array_equal(nulls.to_array(), expected, err_msg=run)
        np.testing.assert_array_equal(nulls.chunk(250, 500), expected[:, 250:500])
    stored = sorted(p.name.split("_v3")[0] for p in (isolated_env / "cache" / "nulls")
                    .rglob("*.npy"))
    digests = sorted(f"{d}_subcortex" for d in nulls.split.digests)
    assert stored == sorted(["cortex_indices"] + ([] if cheap else digests))
    sizes = {p.name.split("_v3")[0]: np.load(p, mmap_mode="r").shape
             for p in (isolated_env / "cache" / "nulls").rglob("*.npy")}
    assert sizes["cortex_indices"] == (n_perm, 40)
    # the p-values of a colocalization with these nulls are those of the stitched values
    spec = ColocSpec("spearman")
    Y = _maps(rng, 1, 50)
    fast = null_colocalizations_maps(spec, data, Y, nulls, None, verbose=False)["rho"]
    plain = null_colocalizations_maps(spec, data, Y, ArrayNulls(expected), None,
                                      verbose=False)["rho"]
    observed = spec(data, Y)["rho"][0]
    np.testing.assert_array_equal(null_to_p(observed, fast), null_to_p(observed, plain))


@pytest.mark.parametrize("ties", [True, False])
def test_index_spearman_sums_are_exact_and_equal_ranking_each_null_bit_for_bit(ties):
    """The closed forms of the masked index shortcut (S_rr from the copies of each
    source, S_ro from cumulative counts) are exact: rho equals, bit for bit, the
    same ratio computed from scipy's ranks of every gathered null."""
    rng = np.random.default_rng(11)
    n = 60
    P, O = _maps(rng, 6, n, ties), _maps(rng, 1, n, ties)
    P[:, [4, 50]] = np.nan
    idx = _spins(rng, 120, n, n_broken=80)
    fast = colocalize_index_nulls(P, O, idx, "spearman")["rho"]
    ref = np.full(fast.shape, np.nan)
    for k in range(idx.shape[0]):
        nulls = _gathered(P, idx[k:k + 1])[0]
        for j, x in enumerate(nulls):
            w = ~np.isnan(x) & ~np.isnan(O[0])
            rx, ro = rankdata(x[w]), rankdata(O[0, w])
            rx, ro = rx - (w.sum() + 1) / 2, ro - (w.sum() + 1) / 2
            s_rr, s_oo = np.sum(rx * rx), np.sum(ro * ro)
            if s_rr > 0 and s_oo > 0:
                ref[k, 0, j] = np.clip(np.sum(rx * ro) / np.sqrt(s_rr * s_oo), -1, 1)
    np.testing.assert_array_equal(fast, ref)


@pytest.mark.parametrize("side", ["X", "Y"])
@pytest.mark.parametrize("nan", [False, True])
def test_maps_pass_identical_for_any_n_proc_and_chunk_size(tmp_path, monkeypatch, side, nan):
    """The colocalization pass reads its null maps (nothing is drawn), so threads
    (n_proc=2) and any chunk size give the same nulls bit for bit: index nulls that
    are permutations (one product per null), with repeated and NaN parcels (counted
    ranks), of X or of Y."""
    from nispace.permute import maps

    rng = np.random.default_rng(12)
    n, n_perm = 50, 530
    X, Y = _maps(rng, 5, n), _maps(rng, 2, n)
    if nan:
        X[:, [3, 17]] = np.nan
        Y[:, [40]] = np.nan
    idx = _spins(rng, n_perm, n, n_broken=100 if nan else 0).astype(np.int32)
    np.save(tmp_path / "idx.npy", idx)
    data = X if side == "X" else Y
    spec = ColocSpec("spearman")

    def run(n_proc):
        nulls = NullMaps(labels=list(range(len(data))), n_perm=n_perm, kind="index",
                         files=[tmp_path / "idx.npy"], data=data, standardize=True)
        x_nulls, y_nulls = (nulls, None) if side == "X" else (None, nulls)
        return null_colocalizations_maps(spec, X, Y, x_nulls, y_nulls, n_proc=n_proc,
                                         verbose=False)["rho"]

    reference = run(1)
    np.testing.assert_array_equal(run(2), reference)
    for size in (64, 1000):
        monkeypatch.setattr(maps, "MAPS_CHUNK_SIZE", size)
        np.testing.assert_array_equal(run(1), reference)


def test_null_maps_of_a_longer_run_start_with_those_of_a_shorter_one(isolated_env):
    """Chunk c draws from child c of the seed: the first 250 nulls of a 1,000-null run
    are those of a 250-null run with the same seed, so 100,000 permutations extend
    10,000 rather than replace them."""
    from nispace.nulls import make_null_model
    from nispace.permute.nullmaps import prepare_null_maps

    rng = np.random.default_rng(13)
    data = _maps(rng, 2, 30)
    model = make_null_model("random", n_parcels=30)
    short = prepare_null_maps(model, data, ["a", "b"], 250, 3, verbose=False).to_array()
    long = prepare_null_maps(model, data, ["a", "b"], 1000, 3, verbose=False).to_array()
    np.testing.assert_array_equal(long[:, :250], short)
