"""Matching by label, never by position silently.

Subjects (designs, groups, covariates) are matched to the Y maps by their IDs, and
parcels to the parcellation (or to X) by their labels; inputs without labels are
taken in order only with a WARNING that is recorded in ``nsp.fit_record_``. Without
a parcellation, already-parcellated tables still work.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import gammaln

from nispace.api import NiSpace
from nispace.cli import main
from nispace.datasets import fetch_example, fetch_parcellation
from nispace.workflows import group_colocalization


def subject_data(n_subjects=16, n_parcels=40, n_x=3, seed=0):
    """X (reference maps) and Y (one map per subject, group B shifted along X[0])."""
    rng = np.random.default_rng(seed)
    parcels = [f"parcel{i:02d}" for i in range(n_parcels)]
    x = pd.DataFrame(rng.normal(size=(n_x, n_parcels)), columns=parcels,
                     index=[f"ref{i}" for i in range(n_x)])
    subjects = [f"sub-{i:02d}" for i in range(n_subjects)]
    groups = np.array(["A", "B"] * (n_subjects // 2))
    y = rng.normal(size=(n_subjects, n_parcels)) + np.outer(groups == "B", x.iloc[0])
    return x, pd.DataFrame(y, index=subjects, columns=parcels), pd.Series(groups,
                                                                           index=subjects)


# --------------------------------------------------------------------------------------
# subjects: designs, groups, covariates


@pytest.fixture
def anorexia(data_url):
    an = fetch_example("anorexianervosa", parcellation="Schaefer200", verbose=False)
    design = pd.DataFrame({"groups": an.index.str[-2:],
                           "age": np.linspace(20, 40, len(an))}, index=an.index)
    return an, design


def test_group_colocalization_matches_the_design_by_subject_id(anorexia):
    an, design = anorexia
    kwargs = dict(x="pet", x_collection="UniqueTracers", n_perm=200, seed=5, plot=False,
                  verbose=False, return_nispace_only=False)
    shuffled = design.sample(frac=1, random_state=1)
    misspelled = shuffled.rename(index={"sub-042AN": "sub-42AN"})
    with pytest.raises(ValueError, match=r"design: .*sub-042AN.*sub-42AN"):
        group_colocalization(an, misspelled, **kwargs)

    rho, p, _, _ = group_colocalization(an, design, **kwargs)
    rho_s, p_s, _, nsp = group_colocalization(an, shuffled, **kwargs)
    pd.testing.assert_frame_equal(rho, rho_s)
    pd.testing.assert_frame_equal(p, p_s)
    assert design.index.equals(an.index)  # the user's design is untouched
    assert nsp.fit_record_["alignment"][0] == {"argument": "design", "matched_by": "label",
                                               "n": 100, "reordered": True}


def test_a_design_without_labels_is_taken_in_y_order_with_a_warning(caplog):
    x, y, groups = subject_data()
    kwargs = dict(x=x, parcellation=None, n_perm=50, seed=1, plot=False, verbose=False)
    by_label = group_colocalization(y, groups, **kwargs)
    with caplog.at_level(logging.WARNING, logger="nispace"):
        by_position = group_colocalization(y, groups.to_numpy(), **kwargs)
    assert "design: has no labels" in caplog.text and "'sub-00' ... 'sub-15'" in caplog.text
    assert by_position.fit_record_["alignment"][0] == {
        "argument": "design", "matched_by": "position", "n": 16,
        "assumed_order_first": "sub-00", "assumed_order_last": "sub-15"}
    pd.testing.assert_frame_equal(by_label.get_colocalizations(),
                                  by_position.get_colocalizations())
    # the labelled run: groups passed on internally as a labelled Series, no warning
    assert [r["matched_by"] for r in by_label.fit_record_["alignment"]] == ["label", "label"]


def test_numeric_and_text_ids_are_the_same_id_but_zero_padding_is_not_guessed():
    from nispace._alignment import align_to_index

    target = pd.Index([3, 1, 2])
    values = pd.Series(["a", "b", "c"], index=["1", "2.0", 3.0])
    with pytest.raises(ValueError, match="only as numbers"):
        align_to_index(values, target, argument="groups")  # "2.0" is text, not 2
    values.index = ["1", "2", 3.0]
    assert align_to_index(values, target, argument="groups").tolist() == ["c", "a", "b"]
    with pytest.raises(ValueError, match=r"only as numbers.*\('001', '1'\)"):
        align_to_index(pd.Series([1, 2, 3], index=["001", "002", "003"]), target,
                       argument="design")
    with pytest.raises(ValueError, match=r"design: each Y map must appear once; "
                                         r"duplicated IDs: 1 \['1'\]"):
        align_to_index(pd.Series([1, 2, 3], index=[1, "1", 2]), target, argument="design")
    with pytest.raises(ValueError, match=r"1 \['3'\] Y map\(s\) without a row.*1 \['4'\]"):
        align_to_index(pd.Series([1, 2, 3], index=[1, 2, 4]), target, argument="design")


def test_cli_matches_numeric_subject_ids_of_design_and_y(anorexia, tmp_path):
    an, design = anorexia
    ids = np.arange(1, len(an) + 1)
    y = an.set_axis(pd.Index(ids, name="subject"), axis=0)
    y.to_csv(tmp_path / "y.csv")
    design = design.set_axis(pd.Index(ids, name="subject"), axis=0)
    design.to_csv(tmp_path / "ordered.csv")
    design.sample(frac=1, random_state=3).to_csv(tmp_path / "shuffled.csv")
    results = {}
    for name in ("ordered", "shuffled"):
        out = tmp_path / name
        assert main(["group-colocalize", "--y", str(tmp_path / "y.csv"), "--design",
                     str(tmp_path / f"{name}.csv"), "--x", "pet", "--x-collection",
                     "UniqueTracers", "--n-perm", "100", "--seed", "2", "--out", str(out),
                     "--no-figures", "--no-report", "--quiet"]) == 0
        results[name] = pd.read_csv(out / "results.csv")
    pd.testing.assert_frame_equal(results["ordered"], results["shuffled"])


def test_transform_y_matches_groups_by_label():
    x, y, groups = subject_data()
    aligned = NiSpace(x=x, y=y, parcellation=None, verbose=False).fit()
    aligned.transform_y("hedges(A,B)", groups=groups)
    shuffled = NiSpace(x=x, y=y, parcellation=None, verbose=False).fit()
    shuffled.transform_y("hedges(A,B)", groups=groups.sample(frac=1, random_state=0))
    pd.testing.assert_frame_equal(aligned.get_y(), shuffled.get_y())
    # Hedges' g of the first parcel by hand (exact small-sample correction J(df))
    a, b = y.loc[groups == "A"].iloc[:, 0], y.loc[groups == "B"].iloc[:, 0]
    df = len(a) + len(b) - 2
    sd = np.sqrt(((len(a) - 1) * a.var() + (len(b) - 1) * b.var()) / df)
    j = np.exp(gammaln(df / 2) - np.log(df / 2) / 2 - gammaln((df - 1) / 2))
    g = (a.mean() - b.mean()) / sd * j
    assert aligned.get_y().iloc[0, 0] == pytest.approx(g, rel=1e-10)

    foreign = groups.set_axis([f"other-{i}" for i in range(len(groups))])
    with pytest.raises(ValueError, match=r"groups: .*16, e\.g\. \['sub-00'"):
        NiSpace(x=x, y=y, parcellation=None, verbose=False).fit().transform_y(
            "hedges(A,B)", groups=foreign)


def test_clean_y_matches_covariates_by_label():
    x, y, groups = subject_data()
    age = pd.DataFrame({"age": np.arange(16.0) ** 1.5}, index=y.index)
    ordered = NiSpace(x=x, y=y, parcellation=None, verbose=False).fit()
    ordered.clean_y(covariates_between=age)
    shuffled = NiSpace(x=x, y=y, parcellation=None, verbose=False).fit()
    shuffled.clean_y(covariates_between=age.iloc[::-1])
    pd.testing.assert_frame_equal(ordered.get_y(), shuffled.get_y())
    # independent reference: the age slope of an OLS fit per parcel (scipy) removed
    slopes = np.array([stats.linregress(age["age"], y[c]).slope for c in y.columns])
    np.testing.assert_allclose(ordered.get_y().to_numpy(),
                               y.to_numpy() - np.outer(age["age"], slopes), atol=1e-10)


# --------------------------------------------------------------------------------------
# parcels


@pytest.fixture
def dk_maps(data_url):
    parc = fetch_parcellation("DesikanKilliany", verbose=False)
    rng = np.random.default_rng(7)
    labels = [str(v) for v in parc.labels]
    x = pd.DataFrame(rng.normal(size=(3, len(labels))), columns=labels,
                     index=["ref0", "ref1", "ref2"])
    y = pd.DataFrame(x.iloc[[0]].to_numpy() + rng.normal(size=(1, len(labels))),
                     columns=labels, index=["mine"])
    return x, y


def test_parcels_are_matched_by_label_and_unlabelled_tables_warn(dk_maps, caplog):
    x, y = dk_maps

    def spin(y_data, x_data=x):
        nsp = NiSpace(x=x_data, y=y_data, parcellation="DesikanKilliany", seed=4,
                      verbose=False).fit()
        return nsp.colocalize("spearman").permute(n_perm=200)

    ordered = spin(y)
    assert ordered.get_permutation_result("spearman").null_model.startswith("alexander_bloch")
    rho = stats.spearmanr(y.iloc[0], x.iloc[0]).statistic  # X standardized: same ranks
    assert ordered.get_colocalizations().iloc[0, 0] == pytest.approx(rho, abs=1e-12)
    assert "parcel_order_assumed" not in ordered.fit_record_

    reversed_ = spin(y.iloc[:, ::-1], x.iloc[:, ::-1])
    pd.testing.assert_frame_equal(ordered.get_colocalizations(),
                                  reversed_.get_colocalizations())
    pd.testing.assert_frame_equal(ordered.get_p_values(), reversed_.get_p_values())

    with caplog.at_level(logging.WARNING, logger="nispace"):
        unlabelled = spin(y.to_numpy())
    assert ("y: y has no parcel labels; taken in the parcel order of parcellation "
            "'DesikanKilliany' (68 parcels: 'hemi-L_lab-bankssts' ... "
            "'hemi-R_lab-insula')") in caplog.text
    assert unlabelled.fit_record_["parcel_order_assumed"] == {"y": {
        "parcellation": "DesikanKilliany", "n_parcels": 68, "first": "hemi-L_lab-bankssts",
        "last": "hemi-R_lab-insula", "inputs": ["y"]}}
    np.testing.assert_array_equal(ordered.get_p_values().to_numpy(),
                                  unlabelled.get_p_values().to_numpy())

    with pytest.raises(ValueError, match="hemi-L_lab-insula"):
        spin(y.rename(columns={"hemi-L_lab-insula": "hemi-L_lab-insular"}))


# --------------------------------------------------------------------------------------
# parcellation=None


def test_parcellated_tables_need_no_parcellation():
    x, y, groups = subject_data()
    nsp = NiSpace(x=x, y=y, parcellation=None, seed=2, verbose=False).fit()
    nsp.colocalize("pearson")
    r = nsp.get_colocalizations()
    xs = stats.zscore(x.to_numpy(), axis=1, ddof=1)
    assert r.loc["sub-03", "ref1"] == pytest.approx(
        stats.pearsonr(y.loc["sub-03"], xs[1]).statistic, abs=1e-12)

    # Y in another parcel order is matched to X by label
    other = NiSpace(x=x, y=y.iloc[:, ::-1], parcellation=None, verbose=False).fit()
    pd.testing.assert_frame_equal(other.colocalize("pearson").get_colocalizations(), r)

    nsp.clean_y(covariates_between=pd.DataFrame({"age": np.arange(16.0)}, index=y.index),
                protect=None)
    nsp.transform_y("hedges(A,B)", groups=groups)
    nsp.colocalize("spearman").permute("groups", method="spearman", n_perm=100)
    p = nsp.get_p_values("spearman")
    assert p.shape == (1, 3) and p.iloc[0, 0] < 0.05  # the planted effect along ref0
    nsp.reduce_x("pca", n_components=2)
    assert nsp.get_x().shape == (2, 40)
    assert "no parcellation" in repr(nsp)
    nsp.colocalize("spearman")  # X changed: the colocalization is computed again

    with pytest.raises(ValueError, match="parcellation=.*parcellation_dist_mat"):
        nsp.permute("maps", method="spearman", n_perm=10)
    with pytest.raises(ValueError, match="null_method: 'spin' needs a parcellation"):
        nsp.permute("maps", method="spearman", null_method="spin", n_perm=10)
    with pytest.raises(ValueError, match="plot_brain: .*parcellation=None"):
        nsp.plot_brain()
    with pytest.raises(ValueError, match=r"parcellation: x is the reference dataset 'pet'"):
        NiSpace(x="pet", y=y, parcellation=None, verbose=False).fit()


def test_moran_nulls_from_a_distance_matrix_without_parcellation():
    x, y, _ = subject_data(n_parcels=30)
    rng = np.random.default_rng(3)
    coords = rng.normal(size=(30, 3))
    dist = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    nsp = NiSpace(x=x, y=y.iloc[:2], parcellation=None, parcellation_dist_mat=dist, seed=1,
                  verbose=False).fit()
    nsp.colocalize("spearman").permute("maps", n_perm=99)
    assert nsp.get_permutation_result("spearman").null_model == "moran"
    rho, null = nsp.get_colocalizations(get_nulls=True)
    assert null.shape == (99, 2, 3)
    expected = (1 + (np.abs(null) >= np.abs(rho.to_numpy()) - 1e-12).sum(0)) / 100
    np.testing.assert_allclose(nsp.get_p_values().to_numpy(), expected)
    with pytest.raises(ValueError, match=r"parcellation_dist_mat: expected a \(30, 30\)"):
        nsp.permute("maps", dist_mat=dist[:10, :10], n_perm=9)


def test_a_categorical_groups_order_decides_a_and_b():
    """Categories (HC, AN) make HC group a, as stats.transforms does on its own."""
    from nispace.stats.transforms import apply_transform

    x, y, groups = subject_data()
    cat = pd.Series(pd.Categorical(groups.map({"A": "HC", "B": "AN"}),
                                   categories=["HC", "AN"]), index=groups.index)
    nsp = NiSpace(x=x, y=y, parcellation=None, verbose=False).fit()
    nsp.transform_y("hedges(a,b)", groups=cat)
    expected, _ = apply_transform(y.to_numpy(), "hedges(a,b)", groups=cat.array)
    np.testing.assert_allclose(nsp.get_y().to_numpy(), expected)
    assert list(nsp.transforms_[-1]["group_sizes"]) == ["HC", "AN"]


def test_covariate_maps_are_matched_to_the_parcels_by_label(caplog):
    from nispace.stats.cleaning import regress_within

    x, y, _ = subject_data()
    cov = pd.DataFrame(np.random.default_rng(1).normal(size=(1, y.shape[1])),
                       columns=y.columns, index=["age_map"])
    ordered = NiSpace(x=x, y=y, parcellation=None, verbose=False).fit()
    ordered.clean_y("within", covariates_within=cov)
    np.testing.assert_allclose(ordered.get_y().to_numpy(),
                               regress_within(y.to_numpy(), cov.to_numpy()))
    shuffled = NiSpace(x=x, y=y, parcellation=None, verbose=False).fit()
    shuffled.clean_y("within", covariates_within=cov[cov.columns[::-1]])
    pd.testing.assert_frame_equal(shuffled.get_y(), ordered.get_y())
    with caplog.at_level(logging.WARNING, logger="nispace"):
        unlabelled = NiSpace(x=x, y=y, parcellation=None, verbose=False).fit()
        unlabelled.clean_y("within", covariates_within=cov.to_numpy())
    assert "covariates_within: has no labels" in caplog.text
    assert unlabelled.fit_record_["alignment"][-1]["matched_by"] == "position"


def test_null_maps_as_an_array_are_taken_in_the_maps_order_with_a_warning(caplog):
    x, y, _ = subject_data()
    null = np.random.default_rng(2).normal(size=(3, 20, x.shape[1]))
    nsp = NiSpace(x=x, y=y.iloc[:2], parcellation=None, verbose=False).fit()
    nsp.colocalize("spearman")
    with caplog.at_level(logging.WARNING, logger="nispace"):
        nsp.permute("maps", null_maps=null, n_perm=20)
    assert "null_maps: an array has no map labels" in caplog.text
    assert "array" in nsp.get_permutation_result().null_model
    by_label = NiSpace(x=x, y=y.iloc[:2], parcellation=None, verbose=False).fit()
    by_label.colocalize("spearman").permute(
        "maps", null_maps={lab: null[i] for i, lab in enumerate(x.index[::-1][::-1])},
        n_perm=20)
    pd.testing.assert_frame_equal(by_label.get_p_values(), nsp.get_p_values())


def test_a_workflow_refuses_data_beside_a_nispace_object():
    from nispace.errors import InputError
    from nispace.workflows import colocalization

    x, y, _ = subject_data()
    nsp = NiSpace(x=x, y=y, parcellation=None, verbose=False).fit()
    with pytest.raises(InputError, match="y: nispace_object already holds its data"):
        colocalization(y, nispace_object=nsp, n_perm=10)
