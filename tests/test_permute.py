"""Permutation tests through the NiSpace object, on real reference data from the mirror.

Every p-value here is checked against a plain loop: scipy's correlations on each null,
then the exact permutation p-value (1 + #{|null| >= |observed|}) / (1 + n_perm).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from nispace._random import chunk_seeds, as_generator
from nispace.api import NiSpace
from nispace.datasets import fetch_example, fetch_parcellation, fetch_reference
from nispace.permute.engine import CHUNK_SIZE
from nispace.permute.groups import permute_labels
from nispace.permute.models import null_model_for
from nispace.permute.nullmaps import prepare_null_maps
from nispace.stats.correction import meff
from nispace.stats.effectsize import hedges_g


@pytest.fixture
def pet(data_url) -> pd.DataFrame:
    return fetch_reference("pet", parcellation="Schaefer200", collection="UniqueTracers",
                           print_references=False, verbose=False)


@pytest.fixture
def pain(data_url) -> pd.DataFrame:
    return fetch_example("painmeta", parcellation="Schaefer200", verbose=False)


def exact_p(obs, null, tail="two"):
    if tail == "two":
        b = np.sum(np.abs(null) >= abs(obs) - 1e-12)
    elif tail == "upper":
        b = np.sum(null >= obs - 1e-12)
    else:
        b = np.sum(null <= obs + 1e-12)
    return (1 + b) / (1 + len(null))


def spearman_loop(x_nulls, y):
    """rho of every null of x (n_perm, n) with y, dropping NaN pairs, via scipy."""
    out = []
    for row in x_nulls:
        ok = np.isfinite(row) & np.isfinite(y)
        out.append(stats.spearmanr(row[ok], y[ok]).statistic)
    return np.array(out)


def test_spin_p_values_equal_a_scipy_loop_over_the_same_nulls(pet, pain):
    nsp = NiSpace(x=pet.iloc[:4], y=pain, parcellation="Schaefer200", seed=3,
                  verbose=False).fit()
    nsp.colocalize("spearman").permute(n_perm=300)
    perm = nsp.get_permutation_result("spearman")
    assert perm.permute_what == "xmaps" and perm.null_model.startswith("alexander_bloch (fsLR)")
    p = nsp.get_p_values()
    assert p.shape == (1, 4) and ((p > 0) & (p <= 1)).all().all()

    # the same null maps, rebuilt from the documented seeding, tested with scipy
    model, _ = null_model_for(nsp.get_parcellation())
    nulls = prepare_null_maps(model, nsp.get_x().to_numpy(), list(range(4)), 300, 3,
                              standardize=True, verbose=False).to_array()
    y = nsp.get_y().to_numpy()[0]
    rho = nsp.get_colocalizations().to_numpy()[0]
    for j in range(4):
        null = spearman_loop(nulls[j], y)
        np.testing.assert_allclose(nsp.get_nulls()[:, 0, j], null, atol=1e-10)
        assert p.iloc[0, j] == pytest.approx(exact_p(rho[j], null), abs=1e-12)
    z = nsp.get_colocalizations(normalized=True)
    null = nsp.get_nulls()[:, 0, :]
    np.testing.assert_allclose(z.to_numpy()[0], (rho - null.mean(0)) / null.std(0, ddof=1))


def test_user_null_maps_and_tails(pet, pain):
    nsp = NiSpace(x=pet.iloc[:3], y=pain, parcellation="Schaefer200", verbose=False).fit()
    nsp.colocalize("pearson")
    rng = np.random.default_rng(0)
    y = nsp.get_y().to_numpy()[0]
    y_nulls = np.stack([rng.permutation(y) for _ in range(199)])
    nsp.permute(maps_which="Y", null_maps={nsp.get_y().index[0]: y_nulls}, n_perm=199,
                p_tails="upper")
    x = nsp.get_x().to_numpy()
    r = nsp.get_colocalizations().to_numpy()[0]
    for j in range(3):
        null = np.array([stats.pearsonr(x[j][ok], row[ok]).statistic
                         for row in y_nulls for ok in [np.isfinite(row) & np.isfinite(x[j])]])
        assert nsp.get_p_values().iloc[0, j] == pytest.approx(exact_p(r[j], null, "upper"))
    with pytest.raises(ValueError, match="null_maps: expected shape"):
        nsp.permute(maps_which="Y", null_maps=y_nulls[None, :10], n_perm=199)


@pytest.mark.parametrize("null_method", ["alexander_bloch", "moran"])
def test_results_identical_for_any_n_proc(pet, pain, null_method):
    def run(n_proc):
        nsp = NiSpace(x=pet.iloc[:3], y=pain, parcellation="Schaefer200", verbose=False).fit()
        nsp.colocalize("spearman").permute(null_method=null_method, n_perm=4 * CHUNK_SIZE,
                                           seed=11, n_proc=n_proc, use_cache=False)
        return nsp.get_nulls(), nsp.get_p_values()

    nulls1, p1 = run(1)
    for n_proc in (2, 4):
        nulls, p = run(n_proc)
        np.testing.assert_array_equal(nulls, nulls1)
        pd.testing.assert_frame_equal(p, p1)


def test_a_dask_backend_is_honoured(pet, pain):
    distributed = pytest.importorskip("distributed")
    import joblib

    def run(**kwargs):
        nsp = NiSpace(x=pet.iloc[:2], y=pain, parcellation="Schaefer200", verbose=False).fit()
        return nsp.colocalize("spearman").permute(n_perm=600, seed=5, **kwargs).get_p_values()

    p_local = run(n_proc=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with joblib.parallel_config(backend="dask"), \
                distributed.get_task_stream(client) as stream:
            p_dask = run(n_proc=2)
        assert len(stream.data) > 0  # the chunks ran as tasks on the Dask cluster
    pd.testing.assert_frame_equal(p_dask, p_local)


def test_null_maps_are_cached_and_reused(pet, pain, tmp_path, caplog):
    def run():
        nsp = NiSpace(x=pet.iloc[:2], y=pain, parcellation="Schaefer200", verbose=True).fit()
        return nsp.colocalize("spearman").permute(null_method="moran", n_perm=300,
                                                  seed=2).get_p_values()

    p1 = run()
    with caplog.at_level(logging.INFO, logger="nispace"):
        p2 = run()
    assert "Using cached null maps" in caplog.text
    pd.testing.assert_frame_equal(p1, p2)
    from nispace.datasets.config import get_data_dir

    files = list((get_data_dir(None) / "cache" / "nulls").rglob("*.npy"))
    assert len(files) == 2 and not list((get_data_dir(None) / "cache").rglob("*.part"))


def test_pooled_p_averages_observed_and_null_colocalizations(data_url):
    enigma = fetch_reference("enigmathick", parcellation="DesikanKilliany",
                             print_references=False, verbose=False).iloc[:5]
    pet = fetch_reference("pet", parcellation="DesikanKilliany", collection="UniqueTracers",
                          print_references=False, verbose=False).iloc[:3]
    nsp = NiSpace(x=pet, y=enigma, parcellation="DesikanKilliany", verbose=False).fit()
    nsp.colocalize("spearman")
    nsp.permute(n_perm=200, seed=1, pooled_p=False)
    per_map, nulls = nsp.get_p_values(), nsp.get_nulls()
    assert per_map.shape == (5, 3)
    nsp.permute(n_perm=200, seed=1, pooled_p="mean")
    pooled = nsp.get_p_values()
    assert pooled.shape == (1, 3)
    obs = nsp.get_colocalizations().to_numpy().mean(0)
    for j in range(3):
        assert pooled.iloc[0, j] == pytest.approx(exact_p(obs[j], nulls[:, :, j].mean(1)))
    nsp.permute(n_perm=200, seed=1, pooled_p="auto")
    assert nsp.get_p_values().shape == (1, 3)


def test_group_permutation_replays_cleaning_and_transform(data_url, pet):
    an = fetch_example("anorexianervosa", parcellation="Schaefer200", verbose=False)
    groups = an.index.str[-2:].to_numpy()
    rng = np.random.default_rng(42)
    age = np.concatenate([rng.normal(25, 5, 50), rng.normal(30, 5, 50)])
    design = pd.DataFrame({"groups": groups, "age": age}, index=an.index)
    nsp = NiSpace(x=pet.iloc[:3], y=an, parcellation="Schaefer200", standardize="x",
                  verbose=False).fit()
    nsp.clean_y(covariates_between=design, protect="groups")
    nsp.transform_y("hedges(a,b)", groups=groups)
    nsp.colocalize("spearman").permute(what="groups", n_perm=260, seed=9)

    # brute force with the same label permutations (documented seeding: one child
    # seed per chunk of CHUNK_SIZE permutations)
    from nispace.stats import cleaning

    y_raw, x = nsp.get_y(raw=True).to_numpy(), nsp.get_x().to_numpy()
    age_design = (age - 0)[:, None]
    seeds = chunk_seeds(9, 2)
    perms = []
    for c, n in zip(seeds, (CHUNK_SIZE, 260 - CHUNK_SIZE)):
        gen = as_generator(c)
        perms += [permute_labels(100, gen) for _ in range(n)]
    null = np.empty((260, 3))
    for k, perm in enumerate(perms):
        g = groups[perm]
        prot = (g == "HC").astype(float)[:, None]
        clean = cleaning.regress_between(y_raw, age_design, prot)
        d = hedges_g(clean[g == "AN"], clean[g == "HC"])
        null[k] = [stats.spearmanr(xi, d).statistic for xi in x]
    np.testing.assert_allclose(nsp.get_nulls()[:, 0, :], null, atol=1e-9)
    rho = nsp.get_colocalizations().to_numpy()[0]
    expected = [exact_p(rho[j], null[:, j]) for j in range(3)]
    np.testing.assert_allclose(nsp.get_p_values().to_numpy()[0], expected)


def test_sets_and_pairs(data_url, pain):
    genes = fetch_reference("mrna", parcellation="Schaefer200",
                            collection="CellTypesPsychEncodeTPM", print_references=False,
                            verbose=False)
    nsp = NiSpace(x=genes, y=pain, parcellation="Schaefer200", verbose=False).fit()
    nsp.colocalize("spearman", xsea=True).permute(what="sets", n_perm=400, seed=4)
    p = nsp.get_p_values()
    assert p.shape == (1, genes.index.get_level_values("set").nunique())
    assert ((p > 0) & (p <= 1)).all().all()

    x = fetch_reference("pet", parcellation="Schaefer200", print_references=False,
                        verbose=False).iloc[:6]
    noisy = x + np.random.default_rng(0).normal(0, 0.5, x.shape) * x.std(axis=1).mean()
    pairs = NiSpace(x=x, y=noisy.set_axis([f"y{i}" for i in range(6)]),
                    parcellation="Schaefer200", verbose=False).fit()
    pairs.colocalize("spearman").permute(what="pairs", n_perm=999, seed=1)
    assert pairs.get_p_values().iloc[0, 0] < 0.01
    summary = pairs.get_permutation_result().extra["pair_summary"]
    assert summary["within"] > summary["between"]


def test_corrections_through_the_object(pet, pain):
    nsp = NiSpace(x=pet, y=pain, parcellation="Schaefer200", verbose=False).fit()
    nsp.colocalize("spearman").permute(n_perm=300, seed=8)
    p = nsp.get_p_values().to_numpy()[0]
    ranks = stats.rankdata(nsp.get_x().to_numpy(), axis=1)
    m = meff(np.corrcoef(ranks), "galwey")
    for mc_method in ("meff", "fdr_bh"):
        nsp.correct_p(mc_method)
    np.testing.assert_allclose(nsp.get_p_values(mc_method="meff").to_numpy()[0],
                               np.maximum(p, 1 - (1 - p) ** m))
    np.testing.assert_allclose(nsp.get_p_values(mc_method="fdr_bh").to_numpy()[0],
                               multipletests(p, method="fdr_bh")[1])
    np.testing.assert_allclose(nsp.get_p_values(mc_method="fdrbh").to_numpy()[0],
                               multipletests(p, method="fdr_bh")[1])
    nsp.correct_p("maxT")
    maxt = nsp.get_corrected_p_values().to_numpy()[0]
    assert (maxt >= p - 1e-12).all() and (maxt <= 1).all()


def test_combined_parcellations_need_a_split_method(data_url):
    parc = fetch_parcellation("Schaefer200TianS1", verbose=False)
    with pytest.raises(ValueError, match="spin\\+moran"):
        null_model_for(parc, "alexander_bloch")
    model, desc = null_model_for(parc, "spin+moran")
    assert "cortex" in desc and "subcortex" in desc
    x = fetch_reference("pet", parcellation=parc, print_references=False,
                        verbose=False).to_numpy()[:1]
    nulls = prepare_null_maps(model, x, ["a"], 50, 0, verbose=False).to_array()[0]
    cx, sc = parc.cortex_indices, parc.subcortex_indices
    values = set(np.round(x[0, cx], 12))
    assert set(np.round(nulls[:, cx][np.isfinite(nulls[:, cx])], 12)) <= values
    assert not np.allclose(np.sort(nulls[0, sc]), np.sort(x[0, sc]))  # Moran, not spun
    assert null_model_for(parc)[1] == "moran (Euclidean centroid distances, MNI152NLin2009cAsym)"


def test_permute_errors(pet, pain):
    nsp = NiSpace(x=pet.iloc[:2], y=pain, parcellation="Schaefer200", verbose=False).fit()
    with pytest.raises(RuntimeError, match="colocalize"):
        nsp.permute()
    nsp.colocalize("spearman")
    with pytest.raises(ValueError, match="what"):
        nsp.permute(what="subjects")
    with pytest.raises(ValueError, match="n_perm"):
        nsp.permute(n_perm=0)
    with pytest.raises(ValueError, match="maps_which"):
        nsp.permute(maps_which="Z", n_perm=10)
    with pytest.raises(ValueError, match="null_method"):
        nsp.permute(null_method="spinn", n_perm=10)
    with pytest.raises(ValueError, match="groups"):
        nsp.permute(what="groups", n_perm=10)
    with pytest.raises(RuntimeError, match="permute"):
        nsp.get_p_values()


def test_paired_workflows(data_url):
    from nispace.workflows import group_colocalization, paired_colocalization

    pet = fetch_reference("pet", parcellation="Schaefer200", collection="UniqueTracers",
                          print_references=False, verbose=False).iloc[:3]
    an = fetch_example("anorexianervosa", parcellation="Schaefer200", verbose=False)
    # a paired design: subject i measured twice ("pre" = an HC row, "post" = an AN row)
    design = pd.DataFrame({"groups": np.repeat(["post", "pre"], 50),
                           "subjects": np.tile(np.arange(50), 2)}, index=an.index)
    colocs, p, q, nsp = group_colocalization(
        an, design, x=pet, comparison_method="pairedcohen(a,b)", paired=True, n_perm=200,
        seed=1, plot=False, verbose=False, return_nispace_only=False)
    assert nsp.get_permutation_result().paired and p.shape == (1, 3)
    assert ((p > 0) & (p <= 1)).all().all() and (q >= p - 1e-12).all().all()

    # SPICE: each noisy copy is closest to its own original
    x = fetch_reference("pet", parcellation="Schaefer200", print_references=False,
                        verbose=False).iloc[:5]
    y = (x + np.random.default_rng(1).normal(0, 1, x.shape)).set_axis(list("abcde"))
    nsp = paired_colocalization(y, x, n_perm=500, seed=2, verbose=False)
    assert nsp.get_p_values().iloc[0, 0] <= 0.05


@pytest.mark.parametrize("formula", ["hedges(a,b)", "cohen(b,a)", "mean(a)-mean(b)",
                                     "zscore(a,b)"])
@pytest.mark.parametrize("covariates", [False, True])
def test_batched_replay_equals_the_loop(formula, covariates):
    """The chunk-level fast paths (batched regression, batched two-group effect sizes)
    give what replaying every step per permutation gives."""
    from nispace.permute.groups import _replay_batch, replay_steps
    from nispace.stats.cleaning import one_hot

    rng = np.random.default_rng(3)
    y = rng.normal(5, 2, (30, 12))
    groups = np.array(["ctrl"] * 14 + ["pat"] * 16)
    steps = []
    if covariates:
        age = rng.normal(40, 10, 30)
        steps.append({"kind": "clean", "between": age[:, None],
                      "protect": one_hot(pd.DataFrame({"g": groups}))[0]})
    steps.append({"kind": "transform", "formula": formula, "groups": groups,
                  "subjects": None})
    perms = np.stack([rng.permutation(30) for _ in range(7)])
    fast = _replay_batch(y, steps, perms)
    slow = np.stack([replay_steps(y, steps, perm) for perm in perms])
    np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-12)


def test_set_and_pair_nulls_against_exhaustive_enumeration():
    """Random sets and random re-pairings converge to the exact permutation p-values
    obtained by enumerating every subset / every pairing."""
    from itertools import combinations, permutations

    from nispace.permute.pairs import null_colocalizations_pairs
    from nispace.permute.sets import null_colocalizations_sets
    from nispace.stats.pvalues import null_to_p

    rng = np.random.default_rng(0)
    pool = np.tanh(rng.normal(0, 0.4, (1, 9)))  # rho of one Y map with 9 X maps
    obs = np.tanh(np.arctanh(pool[0, [0, 1, 2]]).mean())  # a set of the first three
    exact = [np.tanh(np.arctanh(pool[0, list(c)]).mean()) for c in combinations(range(9), 3)]
    p_exact = np.mean(np.abs(exact) >= abs(obs) - 1e-12)
    null = null_colocalizations_sets({"rho": pool}, [3], 20000, 1, how="mean",
                                     rho_scale={"rho": True})["rho"]
    p = null_to_p(np.array([[obs]]), null, "two")[0, 0]
    assert p == pytest.approx(p_exact, abs=4 * np.sqrt(p_exact * (1 - p_exact) / 20000) + 1e-4)

    colocs = rng.normal(0, 0.3, (5, 5)) + np.eye(5) * 0.4  # Y_i vs X_j, pairs on the diagonal
    within = np.diag(colocs).mean()
    exact = [colocs[list(perm), range(5)].mean() for perm in permutations(range(5))]
    p_exact = np.mean(np.abs(exact) >= abs(within) - 1e-12)
    null = null_colocalizations_pairs(colocs, 20000, 2)["within"][:, 0, 0]
    p = (1 + np.sum(np.abs(null) >= abs(within) - 1e-12)) / 20001
    assert p == pytest.approx(p_exact, abs=4 * np.sqrt(p_exact * (1 - p_exact) / 20000) + 1e-4)


def test_distance_nulls_on_a_surface_only_parcellation_raise_an_input_error():
    from types import SimpleNamespace

    from nispace.errors import InputError
    from nispace.permute.models import _volume_space

    surface_only = SimpleNamespace(name="surf", spaces=["fsLR"], active_space="fsLR",
                                   is_surface=lambda space: True)
    with pytest.raises(InputError, match="parcellation_dist_mat"):
        _volume_space(surface_only, None)


def test_permuting_a_distance_cross_validated_mlr():
    """colocalize("mlr", cv="distance", dist_mat=D) then permute: the cv_* statistics
    describe the observed model only, the model statistics get p-values."""
    rng = np.random.default_rng(0)
    n = 60
    coords = rng.normal(size=(n, 3))
    dist = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    parcels = [f"p{i}" for i in range(n)]
    x = pd.DataFrame(rng.normal(size=(3, n)), index=["a", "b", "c"], columns=parcels)
    y = pd.DataFrame(rng.normal(size=(2, n)), index=["y1", "y2"], columns=parcels)
    nsp = NiSpace(x=x, y=y, parcellation=None, parcellation_dist_mat=dist, verbose=False).fit()
    nsp.colocalize("mlr", cv="distance", dist_mat=dist)
    nsp.permute("maps", method="mlr", null_method="moran", n_perm=20, seed=1)
    frame = nsp.to_frame()
    assert {"r2", "beta"} <= set(frame["stat"])
    assert not frame["stat"].str.startswith("cv_").any()
    assert "cv_test_r_mean" in nsp.colocalizations_["mlr"].stats
    permuted = [r.stat_names for by_what in nsp.permutations_.values()
                for r in by_what.values()]
    assert permuted and all("r2" in names and not any(s.startswith("cv_") for s in names)
                            for names in permuted)
