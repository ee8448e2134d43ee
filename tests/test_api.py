"""The NiSpace object on real reference data served from the mirror."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nispace.api import NiSpace
from nispace.datasets import fetch_example, fetch_reference
from nispace.stats.effectsize import hedges_g


@pytest.fixture
def pet(data_url) -> pd.DataFrame:
    return fetch_reference("pet", parcellation="Schaefer200", standardize_parcellated=False,
                           print_references=False, verbose=False)


@pytest.fixture
def pain(data_url) -> pd.DataFrame:
    return fetch_example("painmeta", parcellation="Schaefer200", verbose=False)


def spearman_dropping_nan(x, y) -> float:
    ok = np.isfinite(x) & np.isfinite(y)
    return stats.spearmanr(x[ok], y[ok]).statistic


def test_spearman_colocalization_matches_scipy(pet, pain):
    nsp = NiSpace(x=pet, y=pain, parcellation="Schaefer200", verbose=False).fit()
    nsp.colocalize("spearman")
    rho = nsp.get_colocalizations("spearman")
    assert rho.shape == (1, 28) and list(rho.columns) == list(pet.index)
    y = pain.to_numpy()[0]
    expected = [spearman_dropping_nan(x, y) for x in pet.to_numpy()]
    np.testing.assert_allclose(rho.to_numpy()[0], expected, atol=1e-12)
    # the user's tables are untouched
    assert not pet.equals(nsp.get_x())  # X was z-scored inside (standardize="xz")
    assert pet.isna().sum().sum() == fetch_reference(
        "pet", parcellation="Schaefer200", standardize_parcellated=False,
        print_references=False, verbose=False).isna().sum().sum()


def test_x_against_itself_sets_self_pairs_to_nan(pet):
    nsp = NiSpace(x=pet.iloc[:4], parcellation="Schaefer200", verbose=False).fit()
    rho = nsp.colocalize("pearson").get_colocalizations()
    assert rho.shape == (4, 4) and np.isnan(np.diag(rho)).all()
    a, b = nsp.get_x().to_numpy()[[0, 1]]
    ok = np.isfinite(a) & np.isfinite(b)
    np.testing.assert_allclose(rho.iloc[0, 1], stats.pearsonr(a[ok], b[ok]).statistic)


def test_group_comparison_with_hedges_g(data_url, pet):
    an = fetch_example("anorexianervosa", parcellation="Schaefer200", verbose=False)
    groups = an.index.str[-2:]
    nsp = NiSpace(x=pet, y=an, parcellation="Schaefer200", verbose=False).fit()
    nsp.transform_y("hedges(a,b)", groups=groups)
    g = nsp.get_y()
    assert g.shape == (1, 200)
    # textbook: a = "AN" (first sorted level), pooled SD, exact small-sample factor J
    a, b = an[groups == "AN"].to_numpy(), an[groups == "HC"].to_numpy()
    n1, n2 = len(a), len(b)
    sd = np.sqrt(((n1 - 1) * a.var(0, ddof=1) + (n2 - 1) * b.var(0, ddof=1)) / (n1 + n2 - 2))
    df = n1 + n2 - 2
    j = math.exp(math.lgamma(df / 2) - math.lgamma((df - 1) / 2)) / math.sqrt(df / 2)
    np.testing.assert_allclose(g.to_numpy()[0], j * (a.mean(0) - b.mean(0)) / sd, rtol=1e-10)
    np.testing.assert_allclose(g.to_numpy()[0], hedges_g(a, b))
    rho = nsp.colocalize("spearman").get_colocalizations("spearman")
    assert rho.shape == (1, 28)


def test_xsea_aggregates_sets(data_url):
    x = fetch_reference("pet", parcellation="Schaefer200", collection="UniqueTracers",
                        print_references=False, verbose=False)
    y = fetch_example("painmeta", parcellation="Schaefer200", verbose=False)
    nsp = NiSpace(x=x, y=y, parcellation="Schaefer200", verbose=False).fit()
    nsp.colocalize("spearman", xsea=True)
    sets = nsp.get_colocalizations("spearman_xsea")
    assert list(sets.columns) == list(dict.fromkeys(x.index.get_level_values("set")))
    nsp.colocalize("spearman")
    per_map = nsp.get_colocalizations("spearman").iloc[0]
    glutamate = per_map[per_map.index.get_level_values("set") == "Glutamate"].to_numpy()
    np.testing.assert_allclose(sets.loc[:, "Glutamate"].iloc[0],
                               np.tanh(np.arctanh(glutamate).mean()))


def test_model_statistics_and_named_results(pet, pain):
    nsp = NiSpace(x=pet.iloc[:3], y=pain, parcellation="Schaefer200", verbose=False).fit()
    with pytest.raises(RuntimeError, match="colocalize"):
        nsp.get_colocalizations()
    nsp.colocalize("mlr")
    r2 = nsp.get_colocalizations("mlr", stat="r2")
    assert list(r2.columns) == ["r2"] and 0 <= r2.iloc[0, 0] <= 1
    nsp.colocalize("spearman")
    with pytest.raises(ValueError, match="several methods"):
        nsp.get_colocalizations()
    # getters return one type: a method with several statistics needs stat=
    with pytest.raises(ValueError, match="several statistics"):
        nsp.get_colocalizations("mlr")
    assert set(nsp.get_colocalization_result("mlr").stats) >= {"r2", "beta", "intercept"}


def test_save_and_load(pet, pain, tmp_path):
    nsp = NiSpace(x=pet.iloc[:5], y=pain, parcellation="Schaefer200", verbose=False).fit()
    nsp.colocalize("pearson")
    path = nsp.save(tmp_path / "analysis.nsp")
    back = NiSpace.load(path)
    pd.testing.assert_frame_equal(back.get_colocalizations("pearson"),
                                  nsp.get_colocalizations("pearson"))
    assert (path / "manifest.json").is_file()  # the open format: a folder, no pickle
    (tmp_path / "other.pkl").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="allow_pickle=True"):
        NiSpace.load(tmp_path / "other.pkl")
    with pytest.raises(ValueError, match="not a NiSpace object"):
        NiSpace.load(tmp_path / "other.pkl", allow_pickle=True)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="not a folder or zip saved by NiSpace.save"):
        NiSpace.load(tmp_path / "notes.txt")


def test_clean_y_between_keeps_protected_effects(data_url, pet):
    thick, info = fetch_example("enigma", parcellation="DesikanKilliany", return_info=True,
                                verbose=False)
    x = fetch_reference("pet", parcellation="DesikanKilliany", print_references=False,
                        verbose=False)
    nsp = NiSpace(x=x, y=thick, parcellation="DesikanKilliany", standardize="x",
                  verbose=False).fit()
    nsp.clean_y(covariates_between=info[["age", "sex", "dx"]], protect="dx")
    import statsmodels.api as sm

    design = sm.add_constant(info[["age", "sex", "dx"]].astype(float).to_numpy())
    fit = sm.OLS(thick.iloc[:, 0].to_numpy(), design).fit()
    expected = fit.resid + fit.params[0] + fit.params[3] * info["dx"].to_numpy()
    np.testing.assert_allclose(nsp.get_y().iloc[:, 0].to_numpy(), expected, rtol=1e-8)


@pytest.mark.parametrize("kwargs, match", [
    (dict(x=None), "x: expected reference maps"),
    (dict(standardize="xw"), "standardize: expected"),
    (dict(n_proc=0), "n_proc: expected a positive integer"),
    (dict(resampling_target="nearest"), "resampling_target: expected one of"),
    (dict(parcellation=None, parcellation_hemi="L"), "parcellation_hemi: selecting a hemi"),
    (dict(y=np.zeros((1, 100))), "y: expected 200 parcels"),
])
def test_bad_constructor_arguments(pet, kwargs, match):
    args = dict(x=pet, parcellation="Schaefer200", verbose=False) | kwargs
    with pytest.raises(ValueError, match=match):
        NiSpace(**args).fit()


def test_methods_need_a_fitted_object_and_valid_names(pet, pain):
    nsp = NiSpace(x=pet, y=pain, parcellation="Schaefer200", verbose=False)
    with pytest.raises(RuntimeError, match="fit"):
        nsp.colocalize("spearman")
    nsp.fit()
    with pytest.raises(ValueError, match="spearmann|Did you mean 'spearman'"):
        nsp.colocalize("spearmann")
    with pytest.raises(ValueError, match="needs Z"):
        nsp.colocalize("partialspearman")
    with pytest.raises(ValueError, match="how: expected one of"):
        nsp.clean_y(how="across")
    with pytest.raises(ValueError, match="groups: expected one value per Y map"):
        nsp.transform_y("hedges(a,b)", groups=["a", "b"])


def test_reduce_x_per_set_and_clean_y_within(data_url, pain):
    x = fetch_reference("pet", parcellation="Schaefer200", collection="UniqueTracers",
                        print_references=False, verbose=False)
    nsp = NiSpace(x=x, y=pain, z=x.iloc[:1].to_numpy(), parcellation="Schaefer200",
                  verbose=False).fit()
    raw = nsp.get_x()
    nsp.reduce_x("mean", mean_by_set=True)
    reduced = nsp.get_x()
    sets = list(dict.fromkeys(raw.index.get_level_values("set")))
    assert list(reduced.index) == sets
    np.testing.assert_allclose(reduced.loc["Glutamate"].to_numpy(),
                               raw.loc["Glutamate"].mean(axis=0).to_numpy())
    # regress the first PET map out of Y across parcels: residuals are orthogonal to it
    nsp.clean_y(how="within")
    resid, zmap = nsp.get_y().to_numpy()[0], nsp.get_z().to_numpy()[0]
    ok = np.isfinite(resid) & np.isfinite(zmap)
    assert abs(np.corrcoef(resid[ok], zmap[ok])[0, 1]) < 1e-10
