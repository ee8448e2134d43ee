"""Meta-analyses from peak coordinates as Y: nimare_colocalization and nimare_xsea.

The coordinates are a small synthetic set (10 experiments x 5 foci) made in the
tests; the parcellation is Schaefer100 from the mirror. The NiMARE-dependent tests
are skipped where NiMARE is not installed (it is an optional dependency).
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from nispace import coordinates as coords
from nispace.errors import InputError

SPACE = "MNI152NLin6Asym"


def synthetic_foci(seed: int = 0, n_experiments: int = 10, n_foci: int = 5) -> pd.DataFrame:
    """One row per focus: experiments of 5 foci in the left and right frontal lobes."""
    rng = np.random.default_rng(seed)
    rows = []
    for e in range(n_experiments):
        for _ in range(n_foci):
            rows.append({"experiment": f"study{e}", "x": rng.choice([-40.0, 40.0]) +
                         rng.normal(0, 6), "y": rng.normal(30, 8), "z": rng.normal(25, 8),
                         "sample_size": 12 + 2 * e, "space": "MNI"})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# random foci: pure numpy, no NiMARE

def test_random_foci_lie_in_the_mask_at_voxel_centres():
    mask = np.zeros((6, 7, 8), bool)
    mask[1:3, 2:5, 4:6] = True
    affine = np.array([[2.0, 0, 0, -6], [0, 2, 0, -7], [0, 0, 2, -8], [0, 0, 0, 1]])
    xyz = coords.random_foci(mask, affine, n_foci=50, n_perm=30, seed=1)
    assert xyz.shape == (30, 50, 3)
    ijk = np.linalg.solve(affine, np.c_[xyz.reshape(-1, 3), np.ones(1500)].T)[:3].T
    assert np.allclose(ijk, np.round(ijk))
    assert mask[tuple(np.round(ijk).astype(int).T)].all()


def test_random_foci_are_uniform_over_the_mask_and_seeded():
    mask = np.zeros((4, 4, 4), bool)
    mask[0, 0, :] = True  # 4 voxels
    xyz = coords.random_foci(mask, np.eye(4), n_foci=1000, n_perm=8, seed=7)
    counts = np.bincount(xyz[..., 2].astype(int).ravel(), minlength=4)
    # 8000 draws on 4 voxels: each 2000 +- 3 sd (sd = sqrt(8000 * 1/4 * 3/4) ~ 39)
    assert np.all(np.abs(counts - 2000) < 120)
    assert np.array_equal(xyz, coords.random_foci(mask, np.eye(4), 1000, 8, seed=7))
    assert not np.array_equal(xyz, coords.random_foci(mask, np.eye(4), 1000, 8, seed=8))


def test_random_foci_refuse_an_empty_mask():
    with pytest.raises(InputError, match="mask"):
        coords.random_foci(np.zeros((3, 3, 3), bool), np.eye(4), 5, 2, seed=0)


def test_missing_nimare_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "nimare", None)
    with pytest.raises(ImportError, match="pip install nimare"):
        coords.read_coordinates(synthetic_foci())


def test_coordinates_are_recognised_without_nimare():
    assert coords.is_coordinates(synthetic_foci())
    assert coords.is_coordinates("meta/sleuth_foci.txt")
    assert not coords.is_coordinates(pd.DataFrame({"a": [1.0]}))
    assert not coords.is_coordinates("map.nii.gz")


def test_nimare_nulls_must_name_every_y_map():
    from nispace.workflows import _check_nimare_nulls

    with pytest.raises(InputError, match="nimare_nulls.*y_label"):
        _check_nimare_nulls({"other": np.zeros((3, 4))}, pd.Index(["ALE"]))
    nulls = _check_nimare_nulls({"ALE": [[1, 2], [3, 4]]}, pd.Index(["ALE"]))
    assert nulls["ALE"].shape == (2, 2)


# --------------------------------------------------------------------------------------
# with NiMARE

def _quiet():
    import contextlib
    import warnings

    @contextlib.contextmanager
    def ctx():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NiMARE's nilearn-version notice
            yield
    return ctx()


@pytest.fixture
def nimare():
    with _quiet():
        try:
            return coords._nimare()  # imported the way nispace does (rcParams kept)
        except ImportError:
            if os.environ.get("CI", "").lower() == "true":  # CI installs NiMARE
                raise
            pytest.skip("NiMARE is not installed (optional: pip install nimare)")


def test_importing_nimare_through_nispace_keeps_matplotlib_settings(nimare):
    """NiMARE sets savefig.bbox="tight" and savefig.dpi=100 for the whole process when
    it is first imported; nispace imports it inside matplotlib.rc_context."""
    import matplotlib

    assert matplotlib.rcParams["savefig.bbox"] in (None, "standard")
    assert matplotlib.rcParams["savefig.dpi"] == "figure"


@pytest.fixture
def schaefer100(data_url):
    from nispace.datasets import fetch_parcellation

    return fetch_parcellation("Schaefer100", verbose=False)


@pytest.fixture
def x_maps(schaefer100):
    """Three synthetic reference maps; the first follows the frontal foci."""
    labels = schaefer100.get_labels(SPACE)
    rng = np.random.default_rng(5)
    front = np.array([("PFC" in lab or "FEF" in lab) for lab in labels], float)
    values = np.vstack([front + rng.normal(0, 0.3, len(labels)),
                        rng.normal(size=len(labels)), rng.normal(size=len(labels))])
    return pd.DataFrame(values, index=["frontal", "noise1", "noise2"], columns=labels)


def _nimare_ale_by_hand(table: pd.DataFrame, parcellation):
    """Independent reference: NiMARE's own Dataset and ALE, parcel means by numpy."""
    from nilearn.image import resample_to_img
    from nimare.dataset import Dataset
    from nimare.meta.cbma import ALE

    source = {}
    for exp, rows in table.groupby("experiment", sort=False):
        source[exp] = {"contrasts": {"1": {
            "coords": {"space": "MNI", "x": list(rows.x), "y": list(rows.y), "z": list(rows.z)},
            "metadata": {"sample_sizes": [int(rows.sample_size.iloc[0])]}}}}
    with _quiet():
        ale = ALE().fit(Dataset(source)).get_map("stat")
        labels_img = resample_to_img(parcellation.get_img(SPACE), ale, interpolation="nearest",
                                     force_resample=True, copy_header=True)
    lab, val = np.asarray(labels_img.dataobj).ravel(), ale.get_fdata().ravel()
    return np.array([val[lab == v].mean() for v in parcellation.get_label_values(SPACE)])


def test_y_is_nimares_ale_map_parcellated(nimare, schaefer100, x_maps):
    from nispace.workflows import nimare_colocalization

    table = synthetic_foci()
    with _quiet():
        nsp = nimare_colocalization(table, x=x_maps, parcellation=schaefer100, n_perm=20,
                                    seed=1, plot=False, mc_method=None)
    y = nsp.get_y(raw=True)
    assert list(y.index) == ["ALE"]
    np.testing.assert_allclose(y.to_numpy()[0], _nimare_ale_by_hand(table, schaefer100),
                               rtol=1e-5, atol=1e-9)
    record = nsp.fit_record_["y_meta_analysis"]
    assert record["estimator"] == "ALE" and record["n_experiments"] == 10
    assert record["n_foci"] == 50 and record["data_space"] == SPACE
    # the frontal reference map follows the frontal foci
    rho = nsp.get_colocalizations("spearman")
    expected = [spearmanr(y.to_numpy()[0], x_maps.loc[m]).statistic for m in x_maps.index]
    np.testing.assert_allclose(rho.to_numpy()[0], expected, rtol=1e-10)
    # and the user's table is untouched
    pd.testing.assert_frame_equal(table, synthetic_foci())


def test_p_values_come_from_the_coordinate_null_maps(nimare, schaefer100, x_maps):
    from nispace.stats.pvalues import null_to_p
    from nispace.workflows import nimare_colocalization

    with _quiet():
        nsp = nimare_colocalization(synthetic_foci(), x=x_maps, parcellation=schaefer100,
                                    n_perm=20, seed=2, plot=False, mc_method=None)
        nulls = coords.coordinate_null_maps(coords.read_coordinates(synthetic_foci()),
                                            schaefer100, n_perm=20, seed=2)
    y = nsp.get_y(raw=True).to_numpy()[0]
    obs = np.array([spearmanr(y, x_maps.loc[m]).statistic for m in x_maps.index])
    null_rho = np.array([[spearmanr(n, x_maps.loc[m]).statistic for m in x_maps.index]
                         for n in nulls])
    np.testing.assert_allclose(nsp.get_p_values("spearman").to_numpy()[0],
                               null_to_p(obs, null_rho, "two"))


def test_null_foci_keep_experiments_counts_and_sample_sizes(nimare, schaefer100,
                                                            monkeypatch):
    dataset = coords.read_coordinates(synthetic_foci())
    seen = []
    real = coords.meta_analysis_map

    def spy(ds, estimator="ALE", map_name="stat"):
        seen.append(ds)
        return real(ds, estimator, map_name)

    monkeypatch.setattr(coords, "meta_analysis_map", spy)
    with _quiet():
        coords.coordinate_null_maps(dataset, schaefer100, n_perm=4, seed=3, n_proc=1)
    assert len(seen) == 4
    mask_img = dataset.masker.mask_img
    mask = np.asarray(mask_img.dataobj).astype(bool)
    observed = dataset.coordinates
    for null in seen:
        c = null.coordinates
        assert c.groupby("id").size().to_dict() == observed.groupby("id").size().to_dict()
        assert null.metadata["sample_sizes"].tolist() == dataset.metadata["sample_sizes"].tolist()
        ijk = np.linalg.solve(mask_img.affine, np.c_[c[["x", "y", "z"]], np.ones(len(c))].T)
        assert mask[tuple(np.round(ijk[:3]).astype(int))].all()
        assert not np.allclose(c[["x", "y", "z"]], observed[["x", "y", "z"]])


def test_same_seed_same_p_for_any_n_proc(nimare, schaefer100, x_maps):
    from nispace.workflows import nimare_colocalization

    def p(seed, n_proc):
        with _quiet():
            nsp = nimare_colocalization(synthetic_foci(), x=x_maps, parcellation=schaefer100,
                                        n_perm=20, seed=seed, n_proc=n_proc, plot=False,
                                        mc_method=None)
        return nsp.get_nulls("spearman"), nsp.get_p_values("spearman")

    null1, p1 = p(4, 1)
    null2, p2 = p(4, 2)
    pd.testing.assert_frame_equal(p1, p2)
    assert np.array_equal(np.asarray(null1), np.asarray(null2))
    null3, _ = p(5, 1)
    assert not np.array_equal(np.asarray(null1), np.asarray(null3))


def test_own_nulls_and_a_given_estimator(nimare, schaefer100, x_maps):
    from nimare.meta.cbma import MKDADensity

    from nispace.workflows import nimare_colocalization

    estimator = MKDADensity()
    with _quiet():
        nsp = nimare_colocalization(synthetic_foci(), x=x_maps, parcellation=schaefer100,
                                    estimator=estimator, y_label="MKDA", n_perm=10,
                                    nimare_nulls={"MKDA": np.random.default_rng(0).normal(
                                        size=(10, 100))}, plot=False, mc_method=None)
    assert list(nsp.get_y().index) == ["MKDA"]
    assert nsp.fit_record_["y_meta_analysis"]["null"] == "nimare_nulls given by the user"
    assert not hasattr(estimator, "results") or estimator.results is None  # not fitted


def test_coordinates_refuse_another_space(nimare, schaefer100, x_maps):
    from nispace.workflows import nimare_colocalization

    with pytest.raises(InputError, match="space"):
        nimare_colocalization(synthetic_foci(), x=x_maps, parcellation=schaefer100,
                              space="MNI152NLin2009cAsym", n_perm=10, plot=False)


def test_nimare_xsea_aggregates_sets_and_tests_them_on_the_coordinate_nulls(
        nimare, schaefer100, x_maps):
    from nispace.stats.pvalues import null_to_p
    from nispace.workflows import nimare_xsea

    rng = np.random.default_rng(9)
    x = pd.concat([x_maps, x_maps + rng.normal(0, 0.5, x_maps.shape)])
    x.index = pd.MultiIndex.from_tuples(
        [("frontal", "f1"), ("noise", "n1"), ("noise", "n2"),
         ("frontal", "f2"), ("noise", "n3"), ("noise", "n4")], names=["set", "map"])
    with _quiet():
        nsp = nimare_xsea(synthetic_foci(), x=x, parcellation=schaefer100, n_perm=20, seed=6,
                          plot=False, mc_method=None)
        nulls = coords.coordinate_null_maps(coords.read_coordinates(synthetic_foci()),
                                            schaefer100, n_perm=20, seed=6)
    y = nsp.get_y(raw=True).to_numpy()[0]

    def set_rho(v):
        rho = np.array([spearmanr(v, x.iloc[i]).statistic for i in range(len(x))])
        sets = x.index.get_level_values("set")
        return np.array([np.tanh(np.arctanh(rho[sets == s]).mean())
                         for s in ("frontal", "noise")])

    obs = set_rho(y)
    np.testing.assert_allclose(nsp.get_colocalizations("spearman_xsea").to_numpy()[0], obs,
                               rtol=1e-10)
    null = np.array([set_rho(n) for n in nulls])
    p = nsp.get_p_values("spearman_xsea").to_numpy()[0]
    np.testing.assert_allclose(p, null_to_p(obs, null, "two"))  # rho: two-sided
