"""NiSpace.reduce_x on set-indexed reference maps: averages and components, with the
explained variance and loadings kept on the object (and in saved results)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import FactorAnalysis

from nispace.api import NiSpace
from nispace.datasets import fetch_example, fetch_reference
from nispace.results.objects import MissingResultError


@pytest.fixture
def pet_sets(data_url) -> pd.DataFrame:
    """PET maps in a ['set', 'map'] index (one set per molecular target)."""
    return fetch_reference("pet", parcellation="Schaefer200", collection="UniqueTracers",
                           print_references=False, verbose=False)


@pytest.fixture
def nsp(pet_sets) -> NiSpace:
    pain = fetch_example("painmeta", parcellation="Schaefer200", verbose=False)
    return NiSpace(x=pet_sets, y=pain, parcellation="Schaefer200", seed=7,
                   verbose=False).fit()


def complete(frame: pd.DataFrame) -> np.ndarray:
    """Maps x parcels without the parcels that are NaN in any map."""
    values = frame.to_numpy()
    return values[:, ~np.isnan(values).any(axis=0)]


def test_mean_of_all_maps_and_per_set(nsp):
    raw = nsp.get_x()
    nsp.reduce_x("mean")
    assert list(nsp.get_x().index) == ["mean"]
    np.testing.assert_allclose(nsp.get_x().to_numpy()[0], raw.mean(axis=0).to_numpy())
    nsp.reduce_x("median", mean_by_set=True)  # always from X as fitted
    expected = raw.groupby(level="set", sort=False).median()
    assert list(nsp.get_x().index) == list(expected.index)
    np.testing.assert_allclose(nsp.get_x().to_numpy(), expected.to_numpy())
    record = nsp.get_x_reduction()
    assert record.method == "median" and record.loadings is None
    assert record.explained_variance is None and record.n_components == len(expected)
    pd.testing.assert_frame_equal(nsp.get_x(raw=True), raw)


def test_weighted_mean_uses_the_weight_level():
    rng = np.random.default_rng(0)
    index = pd.MultiIndex.from_tuples(
        [("a", "g1", 1.0), ("a", "g2", 3.0), ("b", "g3", 0.5), ("b", "g4", 2.0),
         ("b", "g5", 1.5)], names=["set", "map", "weight"])
    x = pd.DataFrame(rng.normal(size=(5, 30)), index=index)
    before = x.copy()
    nsp = NiSpace(x=x, y=rng.normal(size=(2, 30)), parcellation=None, standardize=False,
                  verbose=False).fit()
    nsp.reduce_x("mean", mean_by_set=True, weighted_mean=True)
    w = index.get_level_values("weight").to_numpy()
    for name, rows in (("a", slice(0, 2)), ("b", slice(2, 5))):
        np.testing.assert_allclose(nsp.get_x().loc[name].to_numpy(),
                                   np.average(x.to_numpy()[rows], axis=0, weights=w[rows]))
    nsp.reduce_x("mean", weighted_mean=True)
    np.testing.assert_allclose(nsp.get_x().to_numpy()[0],
                               np.average(x.to_numpy(), axis=0, weights=w))
    pd.testing.assert_frame_equal(x, before)  # the user's table is untouched
    with pytest.raises(ValueError, match="weighted_mean: only used by reduction='mean'"):
        nsp.reduce_x("pca", weighted_mean=True)


def test_pca_on_all_set_indexed_maps_against_numpy(nsp, pet_sets):
    before = pet_sets.copy()
    raw = nsp.get_x()
    nsp.reduce_x("pca", n_components=3)
    x = nsp.get_x()
    assert list(x.index) == ["c0", "c1", "c2"]
    record = nsp.get_x_reduction()
    Z = complete(raw).T
    Z = (Z - Z.mean(0)) / Z.std(0)  # fit z-scored the maps; the valid parcels again
    U, S, Vt = np.linalg.svd(Z, full_matrices=False)
    np.testing.assert_allclose(record.explained_variance.to_numpy(),
                               (S ** 2 / (S ** 2).sum())[:3], rtol=1e-6)
    loadings = record.loadings
    assert loadings.index.equals(raw.index) and list(loadings.columns) == ["c0", "c1", "c2"]
    expected = Vt.T[:, :3] * S[:3] / np.sqrt(len(Z))
    signs = np.sign((loadings.to_numpy() * expected).sum(axis=0))
    np.testing.assert_allclose(loadings.to_numpy() * signs, expected, atol=1e-6)
    pd.testing.assert_frame_equal(pet_sets, before)
    # the record is read-only: what it hands out are copies
    handed_out = record.loadings
    handed_out.iloc[0, 0] = 99.0
    assert nsp.get_x_reduction().loadings.iloc[0, 0] != 99.0
    with pytest.raises(AttributeError, match="read-only"):
        record.method = "ica"


def test_pca_per_set_gives_components_per_set_for_xsea(nsp):
    raw = nsp.get_x()
    nsp.reduce_x("pca", mean_by_set=True, n_components=1)
    x = nsp.get_x()
    sets = list(dict.fromkeys(raw.index.get_level_values("set")))
    assert x.index.names == ["set", "map"] and list(x.index) == [(s, "c0") for s in sets]
    ev = nsp.get_x_reduction().explained_variance
    single = [s for s in sets if (raw.index.get_level_values("set") == s).sum() == 1]
    assert np.allclose(ev.loc[single].to_numpy(), 1.0)  # one map: all of its variance
    nsp.colocalize("spearman", xsea=True)
    assert list(nsp.get_colocalizations("spearman_xsea").columns) == sets


def test_pca_min_ev_and_its_warning(nsp, caplog):
    nsp.reduce_x("pca", min_ev=0.6)
    ev = nsp.get_x_reduction().explained_variance
    assert ev.sum() >= 0.6 and ev.iloc[:-1].sum() < 0.6
    assert nsp.get_x_reduction().options["min_ev"] == 0.6
    nsp.reduce_x("pca", min_ev=1.0)  # reached only by every component (up to rounding)
    assert len(nsp.get_x()) == len(nsp.get_x(raw=True))


def test_ica_is_reproducible_with_the_seed(nsp):
    a = nsp.reduce_x("ica", n_components=3).get_x()
    b = nsp.reduce_x("ica", n_components=3, seed=7).get_x()
    pd.testing.assert_frame_equal(a, b)  # seed=None uses the object's seed (7)
    c = nsp.reduce_x("ica", n_components=3, seed=8).get_x()
    assert not np.allclose(a.to_numpy(), c.to_numpy(), equal_nan=True)
    assert nsp.get_x_reduction().explained_variance is None


def test_fa_with_sklearn_and_with_the_nispace_defaults(nsp):
    raw = nsp.get_x()
    nsp.reduce_x("fa", n_components=2, fa_method="ml", fa_rotation="varimax")
    ref = FactorAnalysis(n_components=2, rotation="varimax", random_state=7)
    data = complete(raw).T
    np.testing.assert_allclose(nsp.get_x_reduction().loadings.to_numpy(),
                               ref.fit(data).components_.T, rtol=1e-6, atol=1e-9)
    options = nsp.get_x_reduction().options
    assert options["fa_method"] == "ml" and options["fa_rotation"] == "varimax"
    nsp.reduce_x("fa")  # NiSpace's defaults: minres with promax rotation, no extra package
    reduction = nsp.get_x_reduction()
    assert reduction.options["fa_method"] == "minres"
    assert reduction.options["fa_rotation"] == "promax"
    assert 1 <= nsp.get_x().shape[0] <= raw.shape[0]
    assert np.all(np.diff(reduction.explained_variance.to_numpy()) <= 1e-12)


def test_reduction_is_saved_and_loaded(nsp, tmp_path):
    nsp.reduce_x("pca", mean_by_set=True, n_components=1)
    nsp.save(tmp_path / "saved")
    loaded = NiSpace.load(tmp_path / "saved")
    a, b = nsp.get_x_reduction(), loaded.get_x_reduction()
    assert b.method == "pca" and b.options == a.options
    pd.testing.assert_series_equal(a.explained_variance, b.explained_variance,
                                   check_dtype=False)
    pd.testing.assert_frame_equal(a.loadings, b.loadings, check_dtype=False)


def test_errors_name_the_argument(nsp):
    with pytest.raises(MissingResultError, match=r"call nsp.reduce_x\('pca'\)"):
        nsp.get_x_reduction()
    with pytest.raises(ValueError, match="weighted_mean: X has no 'weight' index level"):
        nsp.reduce_x("mean", weighted_mean=True)
    with pytest.raises(ValueError, match="method: expected one of"):
        nsp.reduce_x("svd")
    with pytest.raises(ValueError, match="n_components, min_ev: give one of them"):
        nsp.reduce_x("pca", n_components=2, min_ev=0.5)
    rng = np.random.default_rng(1)
    flat = NiSpace(x=rng.normal(size=(3, 10)), y=rng.normal(size=(1, 10)),
                   parcellation=None, verbose=False).fit()
    with pytest.raises(ValueError, match="mean_by_set: X has no 'set' index level"):
        flat.reduce_x("mean", mean_by_set=True)
