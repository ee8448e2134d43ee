"""Every NiSpace call form of the API inventory, one row per (call, parameter).

The table transcribes ``shared/spec/nispace-api-inventory.md`` (sections 1.2-1.10,
2, 4 and 5): each row either runs with NiSpace's meaning (asserted on small synthetic
data: 20 parcels, 3 X maps, 4 Y maps) or raises the documented error, whose text
names the nispace way. Every refused parameter is listed in docs/differences.rst.

The workflows (section 2) have their own rows: NiSpace's workflow parameters
(``mc_method`` lists, ``data_space``, ``fit_kwargs``, ...) and deprecated names.
"""

from __future__ import annotations

import logging

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nispace.api import NiSpace
from nispace.errors import InputError, InputTypeError, StateError
from nispace.parcellation import Parcellation

N_PARCELS = 20
PARCELS = [f"p{i:02d}" for i in range(N_PARCELS)]
N_PERM = 40


def _frame(seed: int, names: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(len(names), N_PARCELS)), index=names,
                        columns=PARCELS)


X = _frame(0, ["xa", "xb", "xc"])
Y = _frame(1, ["y1", "y2", "y3", "y4"])
Z = _frame(2, ["z"])
COORDS = np.random.default_rng(3).uniform(0, 50, size=(N_PARCELS, 3))
DIST = np.sqrt(((COORDS[:, None] - COORDS[None]) ** 2).sum(-1))


def nsp(**kwargs) -> NiSpace:
    """A fitted NiSpace on the synthetic tables (no parcellation)."""
    kwargs = {"x": X, "y": Y, **kwargs}
    return NiSpace(**kwargs).fit()


def permuted(**kwargs) -> NiSpace:
    """Spearman colocalization with random-permutation nulls."""
    obj = nsp()
    obj.colocalize("spearman")
    kwargs = {"null_method": "random", "n_perm": N_PERM, "seed": 1, "pooled_p": False,
              **kwargs}
    return obj.permute(**kwargs)


def rho(obj: NiSpace, method: str = "spearman") -> np.ndarray:
    return obj.get_colocalizations(method).to_numpy()


def same(a, b) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), equal_nan=True)


def zscored(frame: pd.DataFrame) -> np.ndarray:
    values = frame.to_numpy()
    return (values - values.mean(1, keepdims=True)) / values.std(1, keepdims=True)


# ---------------------------------------------------------------------------------------
# a tiny image + parcellation, for fit(background_value=, min_*=) (6 parcels, 2 voxels
# wide, on the data's own grid)

def _label_image() -> nib.Nifti1Image:
    data = np.zeros((12, 4, 4), np.int16)
    for i in range(6):
        data[2 * i:2 * i + 2, :, :] = i + 1
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    return nib.Nifti1Image(data, affine)


def _data_image() -> nib.Nifti1Image:
    vol = np.repeat(np.arange(1.0, 7.0), 2)[:, None, None] * np.ones((12, 4, 4))
    vol[0, :, :] = 0.0  # half of parcel 1 is 0 (background under "auto")
    return nib.Nifti1Image(vol.astype(np.float32), _label_image().affine)


def image_nispace(**fit_kwargs) -> pd.DataFrame:
    parc = Parcellation.from_image(_label_image(), labels=["a", "b", "c", "d", "e", "f"], name="toy",
                                   space="MNI152NLin6Asym")
    obj = NiSpace(x=[_data_image()], x_labels=["img"], parcellation=parc,
                  data_space="MNI152NLin6Asym", standardize=False)
    return obj.fit(**fit_kwargs).get_x()


# ---------------------------------------------------------------------------------------
# accepted: the row's function asserts NiSpace's meaning

def _x_labels():
    obj = NiSpace(x=X.to_numpy(), y=Y, x_labels=["a", "b", "c"]).fit()
    assert list(obj.get_x().index) == ["a", "b", "c"]


def _y_none():
    obj = NiSpace(x=X).fit()
    obj.colocalize("spearman")
    assert np.isnan(np.diag(rho(obj))).all()  # self-pairs are NaN, as in NiSpace


def _z_labels():
    obj = NiSpace(x=X, y=Y, z=Z.to_numpy(), z_labels=["gm"]).fit()
    assert list(obj.get_z().index) == ["gm"]


def _data_space():
    same(nsp(data_space="MNI152NLin6Asym").get_x(), nsp().get_x())  # tables: no effect


def _data_space_list():
    same(nsp(data_space=["MNI152NLin6Asym"] * 3).get_x(), nsp().get_x())


def _standardize_default():
    same(nsp(standardize="xz").get_x(), nsp().get_x())
    same(nsp().get_x(), zscored(X))
    same(nsp().get_y(), Y)


def _standardize_true():
    same(nsp(standardize=True).get_y(), zscored(Y))


def _drop_nan():
    x = X.copy()
    x.iloc[0, 3] = np.nan
    assert nsp(x=x, drop_nan=True).get_x().shape == (3, N_PARCELS - 1)


def _parcellation_none():
    assert nsp(parcellation=None).parcellation_ is None


def _parc_alias():
    assert NiSpace(x=X, parc="Schaefer200").parcellation == "Schaefer200"


def _parcellation_hemi_both():
    assert NiSpace(x=X, parcellation_hemi=["L", "R"]).parcellation_hemi is None


def _parcellation_l2rmap(caplog):
    with caplog.at_level(logging.WARNING, logger="nispace"):
        NiSpace(x=X, parcellation_l2rmap="map.csv")
    assert "parcellation_l2rmap is deprecated" in caplog.text


def _parcellation_dist_mat():
    obj = NiSpace(x=X, y=Y, parcellation_dist_mat=DIST).fit()
    obj.colocalize("spearman").permute(null_method="moran", n_perm=N_PERM, seed=1,
                                       pooled_p=False)
    assert obj.get_p_values().shape == (4, 3)


def _nispace_defaults_of_refused():
    same(nsp(parcellation_symmetric=False, parcellation_idc_lh=None, parcellation_idc_rh=None,
             parcellation_idc_sc=None, parcellation_spin_mat=None, load_dist_mat=True,
             load_spin_mat=True, return_self=True).get_x(), nsp().get_x())


def _resampling_target():
    same(nsp(resampling_target="data").get_x(), nsp().get_x())


def _n_proc_seed():
    a = permuted(n_proc=1).get_p_values()
    b = permuted(n_proc=2).get_p_values()
    same(a, b)  # results do not depend on n_proc; the seed fixes them


def _verbose_dtype():
    assert nsp(verbose=True, dtype=np.float32).get_x().dtypes.iloc[0] == np.float32


def _binary_y(caplog):
    with caplog.at_level(logging.WARNING, logger="nispace"):
        obj = nsp(standardize="xyz", binary_y=True)
    same(obj.get_y(), Y)  # Y is not z-scored
    assert obj.fit_record_["binary_y"] is True
    assert "binary_y=True" in caplog.text


def _fit_background_auto():
    auto = image_nispace().to_numpy()[0]
    explicit = image_nispace(background_value="auto").to_numpy()[0]
    same(auto, explicit)
    same(auto, [1, 2, 3, 4, 5, 6])  # the zeros of parcel a are background


def _fit_background_false():
    kept = image_nispace(background_value=False).to_numpy()[0]
    same(kept, [0.5, 2, 3, 4, 5, 6])  # zeros kept: mean of (0, 1) in parcel a


def _fit_background_dict():
    same(image_nispace(background_value={"x": False}).to_numpy()[0], [0.5, 2, 3, 4, 5, 6])


def _fit_min_num():
    x = image_nispace(min_num_valid_datapoints=20).to_numpy()[0]
    assert np.isnan(x[0]) and np.isfinite(x[1:]).all()  # parcel a: 16 valid voxels


def _fit_min_fraction():
    x = image_nispace(min_fraction_valid_datapoints=0.6).to_numpy()[0]
    assert np.isnan(x[0]) and np.isfinite(x[1:]).all()  # parcel a: half valid


def _clean_y_within():
    obj = nsp(z=Z)
    obj.clean_y("within")
    for row in obj.get_y().to_numpy():  # residuals are uncorrelated with Z
        assert abs(np.corrcoef(row, Z.to_numpy()[0])[0, 1]) < 1e-8


def _clean_y_within_y_specific():
    cov = _frame(5, list(Y.index))
    obj = nsp()
    obj.clean_y("within", covariates_within=cov, within_y_specific=True)
    for label, row in obj.get_y().iterrows():
        assert abs(np.corrcoef(row, cov.loc[label])[0, 1]) < 1e-8
        other = cov.drop(index=label).iloc[0]
        assert abs(np.corrcoef(row, other)[0, 1]) > 1e-6


def _clean_y_between_protect():
    cov = pd.DataFrame({"age": [20.0, 30, 40, 55], "group": ["a", "a", "b", "b"]},
                       index=Y.index)
    obj = nsp()
    obj.clean_y("between", covariates_between=cov, protect="group")
    # age is removed, the group effect kept: each parcel is orthogonal to the part of
    # age that the group (and the intercept) do not explain
    design = np.column_stack([np.ones(4), cov["group"] == "b"]).astype(float)
    age = cov["age"].to_numpy()
    age_resid = age - design @ np.linalg.lstsq(design, age, rcond=None)[0]
    for parcel in obj.get_y().to_numpy().T:
        assert abs(parcel @ age_resid) < 1e-8


def _clean_y_defaults():
    a = nsp().clean_y("within", covariates_within=Z, combat_protect=None, combat_train=None,
                      combat_model=None, plot_design_between=False, replace=True,
                      n_proc=None, verbose=None, combat_kwargs=None).get_y()
    same(a, nsp().clean_y("within", covariates_within=Z).get_y())


def _colocalize_spearman():
    obj = nsp().colocalize("spearman")
    expected = stats.spearmanr(obj.get_x().iloc[0], obj.get_y().iloc[0])[0]
    assert rho(obj)[0, 0] == pytest.approx(expected)


def _colocalize_r_to_z():
    r = rho(nsp().colocalize("pearson"), "pearson")
    same(rho(nsp().colocalize("pearson", r_to_z=True), "pearson"), np.arctanh(r))
    same(rho(nsp().colocalize("pearson", r_to_z=False), "pearson"), r)


def _colocalize_regress_z():
    with_z = rho(nsp(z=Z).colocalize("pearson", regress_z=True), "pearson")
    without = rho(nsp(z=Z).colocalize("pearson", regress_z=False), "pearson")
    same(without, rho(nsp().colocalize("pearson"), "pearson"))
    same(with_z, rho(nsp(z=Z).colocalize("pearson"), "pearson"))  # NiSpace's default: True
    assert not np.allclose(with_z, without)


def _colocalize_xsea_aggregation_method():
    x = X.copy()
    x.index = pd.MultiIndex.from_tuples([("s1", "xa"), ("s1", "xb"), ("s2", "xc")],
                                        names=["set", "map"])
    obj = NiSpace(x=x, y=Y).fit()
    obj.colocalize("pearson", xsea=True, xsea_aggregation_method="median",
                   r_to_z=True)
    full = np.arctanh(rho(nsp().colocalize("pearson"), "pearson"))
    same(obj.get_colocalizations("pearson_xsea")["s2"], full[:, 2])
    same(obj.get_colocalizations("pearson_xsea")["s1"], np.median(full[:, :2], axis=1))


def _colocalize_adj_r2():
    a = nsp().colocalize("slr", adj_r2=False).get_colocalizations("slr", "r2")
    b = nsp().colocalize("slr", r2_adjusted=False).get_colocalizations("slr", "r2")
    c = nsp().colocalize("slr").get_colocalizations("slr", "r2")
    same(a, b)
    same(a, rho(nsp().colocalize("pearson"), "pearson") ** 2)  # unadjusted: r squared
    assert (c.to_numpy() < a.to_numpy()).all()  # NiSpace's default adjusts


def _colocalize_seed():
    same(rho(nsp().colocalize("spearman", seed=3)), rho(nsp().colocalize("spearman")))


def _colocalize_defaults():
    obj = nsp().colocalize("spearman", X_reduction=None, Y_transform=None, X=None, Y=None,
                           Z=None, store=True, force_dict=False, dist_mat_kwargs=None,
                           n_proc=None, verbose=None, groups=None, subjects=None)
    same(rho(obj), rho(nsp().colocalize("spearman")))


def _permute_what_list():
    same(permuted(what=["maps"]).get_p_values(), permuted(what="maps").get_p_values())


def _permute_maps_method():
    same(permuted(null_method=None, maps_method="random").get_p_values(),
         permuted().get_p_values())


def _permute_maps_nulls():
    rng = np.random.default_rng(4)
    nulls = {label: np.stack([rng.permutation(row) for _ in range(N_PERM)])
             for label, row in nsp().get_x().iterrows()}
    a = permuted(null_method=None, maps_nulls=nulls).get_p_values()
    b = permuted(null_method=None, null_maps=nulls).get_p_values()
    same(a, b)


def _permute_p_from_average_y_coloc():
    a = permuted(pooled_p=None, p_from_average_y_coloc="mean").get_p_values()
    assert a.shape == (1, 3)
    same(a, permuted(pooled_p="mean").get_p_values())


def _permute_pooled_auto():
    assert permuted(pooled_p="auto").get_p_values().shape == (1, 3)  # 4 Y maps: mean


def _permute_pooled_default_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="nispace"):
        p = permuted(pooled_p=None).get_p_values()
    assert p.shape == (4, 3) and "pooled_p not given" in caplog.text


def _permute_p_tails():
    upper = permuted(p_tails="upper").get_p_values()
    two = permuted(p_tails="two").get_p_values()
    assert (upper.to_numpy() <= two.to_numpy() + 1e-12).any()


def _permute_defaults():
    same(permuted(X_reduction=None, Y_transform=None, xsea=None, store=True, force_dict=False,
                  verbose=None, sets_X_background=None).get_p_values(),
         permuted().get_p_values())


def _correct_p_mc_method_aliases():
    obj = permuted()
    obj.correct_p("fdr", mc_dimension="x")
    obj.correct_p("fdr_bh", mc_dimension="x")
    same(obj.get_p_values(mc_method="fdr"), obj.get_p_values(mc_method="fdr_bh"))


def _correct_p_mc_dimension_aliases():
    obj = permuted()
    for alias, ours in (("columns", "x"), ("rows", "y"), ("array", "array")):
        obj.correct_p("bonferroni", mc_dimension=alias)
        p = obj.get_p_values().to_numpy()
        q = obj.get_p_values(mc_method="bonferroni", mc_dimension=ours).to_numpy()
        n = {"x": p.shape[1], "y": p.shape[0], "array": p.size}[ours]
        same(q, np.minimum(p * n, 1))


def _correct_p_default_dimension_warns(caplog):
    obj = permuted()
    with caplog.at_level(logging.WARNING, logger="nispace"):
        obj.correct_p("bonferroni")
    assert "mc_dimension not given" in caplog.text


def _correct_p_mc_alpha():
    from statsmodels.stats.multitest import multipletests

    obj = permuted()
    obj.correct_p("fdr_tsbh", mc_dimension="array", mc_alpha=0.2)
    p = obj.get_p_values().to_numpy()
    expected = multipletests(p.ravel(), alpha=0.2, method="fdr_tsbh")[1].reshape(p.shape)
    same(obj.get_p_values(mc_method="fdr_tsbh"), expected)


def _correct_p_coloc_method():
    obj = permuted()
    obj.correct_p("holm", coloc_method="spearman", mc_dimension="x", store=True, verbose=None)
    assert obj.get_p_values(mc_method="holm").shape == (4, 3)


def _normalize_robust():
    obj = permuted().normalize_colocalizations()
    null = obj.get_nulls()[:, 0, 0]
    med = np.median(null)
    mad = np.median(np.abs(null - med))
    expected = (rho(obj)[0, 0] - med) / (1.4826 * mad)
    assert obj.get_colocalizations(normalized=True).iloc[0, 0] == pytest.approx(expected)
    same(obj.get_normalized_colocalizations(), obj.get_colocalizations(normalized=True))


def _normalize_zscore():
    obj = permuted().normalize_colocalizations(z_method="zscore")
    null = obj.get_nulls()[:, 0, 0]
    expected = (rho(obj)[0, 0] - null.mean()) / null.std(ddof=1)
    assert obj.get_colocalizations(normalized=True).iloc[0, 0] == pytest.approx(expected)


def _get_colocalizations_get_nulls():
    colocs, nulls = permuted().get_colocalizations(get_nulls=True)
    assert nulls.shape == (N_PERM, *colocs.shape)


def _to_pickle_from_pickle(tmp_path):
    obj = permuted()
    path = obj.to_pickle(tmp_path / "result", save_nulls=True, verbose=None)
    same(NiSpace.from_pickle(path, verbose=True).get_p_values(), obj.get_p_values())


def _plot_values():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    obj = permuted()
    for values in ("coloc", "z", "p"):
        fig, _ = obj.plot(kind="categorical", values=values, plot_nulls=True, annot_p=True)
        plt.close(fig)
    fig, _ = obj.plot(plot_nulls=False, annot_p=False, X_maps=["xa"], Y_maps=["y1"])
    plt.close(fig)


def _plot_brain_n_max():
    obj = nsp()
    obj.parcellation_ = None  # the check on n_max comes first
    with pytest.raises(InputError, match="n_max=3"):
        obj.plot_brain("Y", n_max=3)


def _io_parcellate():
    from nispace.io import parcellate
    from nispace.io.extract import parcellate as function

    assert parcellate is function


def _null_aliases():
    from nispace.nulls import parse_null_method

    assert parse_null_method("brainsmash") == ("burt2020", None)
    assert parse_null_method("variogram") == ("burt2020", None)
    assert parse_null_method("brainspace") == ("moran", None)
    assert parse_null_method("msr") == ("moran", None)
    assert parse_null_method("variomsr") == ("variomoran", None)
    assert parse_null_method("spin") == ("alexander_bloch", None)
    assert parse_null_method("spin+moran") == ("alexander_bloch", "moran")


ACCEPTED = [
    ("NiSpace", "x_labels/y_labels", _x_labels),
    ("NiSpace", "y=None", _y_none),
    ("NiSpace", "z/z_labels", _z_labels),
    ("NiSpace", "data_space", _data_space),
    ("NiSpace", "data_space=[x, y, z]", _data_space_list),
    ("NiSpace", "standardize='xz'", _standardize_default),
    ("NiSpace", "standardize=True", _standardize_true),
    ("NiSpace", "drop_nan", _drop_nan),
    ("NiSpace", "parcellation=None", _parcellation_none),
    ("NiSpace", "parc", _parc_alias),
    ("NiSpace", "parcellation_hemi=['L', 'R']", _parcellation_hemi_both),
    ("NiSpace", "parcellation_l2rmap", _parcellation_l2rmap),
    ("NiSpace", "parcellation_dist_mat", _parcellation_dist_mat),
    ("NiSpace", "NiSpace defaults of refused parameters", _nispace_defaults_of_refused),
    ("NiSpace", "resampling_target", _resampling_target),
    ("NiSpace", "n_proc/seed", _n_proc_seed),
    ("NiSpace", "verbose/dtype", _verbose_dtype),
    ("NiSpace", "binary_y", _binary_y),
    ("fit", "background_value='auto'", _fit_background_auto),
    ("fit", "background_value=False", _fit_background_false),
    ("fit", "background_value={'x': ...}", _fit_background_dict),
    ("fit", "min_num_valid_datapoints", _fit_min_num),
    ("fit", "min_fraction_valid_datapoints", _fit_min_fraction),
    ("clean_y", "how='within' (Z)", _clean_y_within),
    ("clean_y", "within_y_specific", _clean_y_within_y_specific),
    ("clean_y", "covariates_between/protect", _clean_y_between_protect),
    ("clean_y", "NiSpace defaults", _clean_y_defaults),
    ("colocalize", "method", _colocalize_spearman),
    ("colocalize", "r_to_z", _colocalize_r_to_z),
    ("colocalize", "regress_z", _colocalize_regress_z),
    ("colocalize", "xsea/xsea_aggregation_method", _colocalize_xsea_aggregation_method),
    ("colocalize", "adj_r2", _colocalize_adj_r2),
    ("colocalize", "seed", _colocalize_seed),
    ("colocalize", "NiSpace defaults", _colocalize_defaults),
    ("permute", "what=[...]", _permute_what_list),
    ("permute", "maps_method", _permute_maps_method),
    ("permute", "maps_nulls", _permute_maps_nulls),
    ("permute", "p_from_average_y_coloc", _permute_p_from_average_y_coloc),
    ("permute", "pooled_p='auto'", _permute_pooled_auto),
    ("permute", "pooled_p default", _permute_pooled_default_warns),
    ("permute", "p_tails", _permute_p_tails),
    ("permute", "NiSpace defaults", _permute_defaults),
    ("correct_p", "mc_method aliases", _correct_p_mc_method_aliases),
    ("correct_p", "mc_dimension aliases", _correct_p_mc_dimension_aliases),
    ("correct_p", "mc_dimension default", _correct_p_default_dimension_warns),
    ("correct_p", "mc_alpha", _correct_p_mc_alpha),
    ("correct_p", "coloc_method/store/verbose", _correct_p_coloc_method),
    ("normalize_colocalizations", "z_method='robust'", _normalize_robust),
    ("normalize_colocalizations", "z_method='zscore'", _normalize_zscore),
    ("get_colocalizations", "get_nulls", _get_colocalizations_get_nulls),
    ("to_pickle/from_pickle", "filepath/save_nulls/verbose", _to_pickle_from_pickle),
    ("plot", "kind/values/plot_nulls/annot_p/X_maps/Y_maps", _plot_values),
    ("plot_brain", "n_max", _plot_brain_n_max),
    ("nispace.io", "parcellate", _io_parcellate),
    ("permute", "null-method aliases", _null_aliases),
]


# ---------------------------------------------------------------------------------------
# workflows (section 2): small tables, no parcellation, random-permutation nulls

SUBJECTS = _frame(6, [f"s{i}" for i in range(8)])
GROUPS = pd.Series(["a", "b"] * 4, index=SUBJECTS.index)
X_SETS = X.set_axis(pd.MultiIndex.from_tuples([("s1", "xa"), ("s1", "xb"), ("s2", "xc")],
                                              names=["set", "map"]))


def wf(function: str = "colocalization", *args, **kwargs):
    """A workflow of nispace.workflows on the synthetic tables."""
    from nispace import workflows

    args = args or ((SUBJECTS, GROUPS) if "group" in function else (Y,))
    kwargs = {"x": X, "parcellation": None, "n_perm": N_PERM, "seed": 1, "plot": False,
              "mc_dimension": "x", **kwargs}
    kwargs["correct_p_kwargs"] = {"mc_dimension": kwargs.pop("mc_dimension"),
                                  **(kwargs.get("correct_p_kwargs") or {})}
    if "group" not in function and "paired" not in function:
        kwargs.setdefault("null_method", "random")
    return getattr(workflows, function)(*args, **kwargs)


def _wf_mc_method_list():
    both = wf(mc_method=["fdr_bh", "bonferroni"])
    for mc in ("fdr_bh", "bonferroni"):  # each stored, as if run alone
        same(both.get_p_values(mc_method=mc), wf(mc_method=mc).get_p_values(mc_method=mc))
    p = both.get_p_values().to_numpy()
    same(both.get_p_values(mc_method="bonferroni"), np.minimum(p * p.shape[1], 1))
    _, _, q, _ = wf(mc_method=["fdr_bh", "bonferroni"], return_nispace_only=False)
    assert sorted(q) == ["bonferroni", "fdr_bh"]


def _wf_correct_p_kwargs_mc_method():
    obj = wf(mc_method="meff", correct_p_kwargs={"mc_method": "holm"})
    assert obj.get_correction_result().mc_method == "holm"  # the dict wins, as in NiSpace


def _wf_data_space():
    assert wf(data_space="MNI152NLin6Asym").data_space == "MNI152NLin6Asym"
    assert wf(data_space="MNI152NLin6Asym", space="MNI152NLin6Asym").data_space \
        == "MNI152NLin6Asym"


def _wf_parcellation_params():
    obj = wf(parcellation_space="MNI152NLin6Asym", parcellation_hemi=["L", "R"])
    assert obj.parcellation_space == "MNI152NLin6Asym" and obj.parcellation_hemi is None


def _wf_fit_kwargs():
    parc = Parcellation.from_image(_label_image(), labels=list("abcdef"), name="toy",
                                   space="MNI152NLin6Asym")
    kwargs = dict(x=[_data_image()], parcellation=parc, data_space="MNI152NLin6Asym",
                  standardize=False, null_method="random", mc_method=None)
    kept = wf("colocalization", _data_image(), fit_kwargs={"background_value": False},
              **kwargs)
    same(kept.get_y().to_numpy()[0], [0.5, 2, 3, 4, 5, 6])  # zeros kept, as fit(...)
    same(wf("colocalization", _data_image(), **kwargs).get_y().to_numpy()[0],
         [1, 2, 3, 4, 5, 6])


def _wf_fetch_x_kwargs_collection():
    from nispace.workflows import _init_kwargs

    assert _init_kwargs(None, None, None, None, {"collection": "UniqueTracers"})[1] \
        == "UniqueTracers"  # = x_collection="UniqueTracers"


def _wf_normalize_colocalizations():
    obj = wf(normalize_colocalizations=True)
    null = obj.get_nulls()[:, 0, 0]
    med = np.median(null)
    expected = (rho(obj)[0, 0] - med) / (1.4826 * np.median(np.abs(null - med)))
    assert obj.get_colocalizations(normalized=True).iloc[0, 0] == pytest.approx(expected)


def _wf_binary_y():
    obj = wf(binary_y=True, colocalization_method=None)
    assert list(obj.colocalizations_) == ["pearson"]  # NiSpace's default for binary Y
    assert obj.fit_record_["binary_y"] is True
    same(obj.get_y(), Y)  # never z-scored
    assert list(wf(colocalization_method=None).colocalizations_) == ["spearman"]


def _wf_y_covariates():
    cov = pd.DataFrame({"age": [20.0, 30, 45, 50]}, index=Y.index)
    obj = wf(y_covariates=cov)
    same(obj.get_y(), nsp().clean_y("between", covariates_between=cov).get_y())


def _wf_p_from_average_y(caplog):
    with caplog.at_level(logging.WARNING, logger="nispace"):
        a = wf(p_from_average_y="mean").get_p_values()
    assert "p_from_average_y is deprecated" in caplog.text
    same(a, wf(pooled_p="mean").get_p_values())
    assert a.shape == (1, 3)


def _wf_deprecated_names(caplog):
    with caplog.at_level(logging.WARNING, logger="nispace"):
        a = wf("simple_colocalization").get_p_values()
        b = wf("group_comparison").get_p_values()
        c = wf("simple_xsea", x=X_SETS).get_p_values()
    for old in ("simple_colocalization", "group_comparison", "simple_xsea"):
        assert f"{old} is deprecated" in caplog.text
    same(a, wf().get_p_values())
    same(b, wf("group_colocalization").get_p_values())
    same(c, wf("xsea", x=X_SETS).get_p_values())


def _wf_group_transform_y_kwargs():
    obj = wf("group_colocalization", comparison_method="cohen(a,b)",
             transform_y_kwargs={"groups": GROUPS})
    a, b = SUBJECTS[GROUPS == "a"], SUBJECTS[GROUPS == "b"]
    pooled = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    same(obj.get_y().iloc[0], (a.mean() - b.mean()) / pooled)  # Cohen's d, a - b


def _wf_xsea_aggregation_method():
    obj = wf("xsea", x=X_SETS, xsea_aggregation_method="median", colocalization_method=None)
    full = rho(nsp().colocalize("spearman"))  # Spearman's rho: aggregated as is
    same(obj.get_colocalizations("spearman_xsea")["s1"], np.median(full[:, :2], axis=1))


def _wf_xsea_permute_sets():
    obj = wf("xsea", x=X_SETS, permute_sets=True)
    assert obj.get_permutation_result("spearman_xsea").permute_what == "sets"


def _wf_group_xsea():
    obj = wf("group_xsea", x=X_SETS)
    assert obj.get_p_values("spearman_xsea").shape == (1, 2)


def _wf_paired_colocalization():
    from nispace.workflows import paired_colocalization

    obj = paired_colocalization(Y.iloc[:3], X, parcellation=None, n_perm=N_PERM, seed=1)
    assert obj.get_p_values().shape == (1, 1)  # SPICE: one p for the mean pair similarity


WORKFLOW_ACCEPTED = [
    ("colocalization", "mc_method=[...]", _wf_mc_method_list),
    ("colocalization", "correct_p_kwargs['mc_method']", _wf_correct_p_kwargs_mc_method),
    ("colocalization", "data_space", _wf_data_space),
    ("colocalization", "parcellation_space/parcellation_hemi", _wf_parcellation_params),
    ("colocalization", "fit_kwargs", _wf_fit_kwargs),
    ("colocalization", "fetch_x_kwargs={'collection': ...}", _wf_fetch_x_kwargs_collection),
    ("colocalization", "normalize_colocalizations", _wf_normalize_colocalizations),
    ("colocalization", "binary_y/colocalization_method=None", _wf_binary_y),
    ("colocalization", "y_covariates", _wf_y_covariates),
    ("colocalization", "p_from_average_y", _wf_p_from_average_y),
    ("workflows", "simple_colocalization/group_comparison/simple_xsea", _wf_deprecated_names),
    ("group_colocalization", "comparison_method/transform_y_kwargs",
     _wf_group_transform_y_kwargs),
    ("xsea", "xsea_aggregation_method", _wf_xsea_aggregation_method),
    ("xsea", "permute_sets", _wf_xsea_permute_sets),
    ("group_xsea", "x with sets", _wf_group_xsea),
    ("paired_colocalization", "y/x", _wf_paired_colocalization),
]
ACCEPTED += WORKFLOW_ACCEPTED


# ---------------------------------------------------------------------------------------
# other methods (section 1.10) and colocalize's remaining options

def _get_x_maps_squeeze():
    obj = nsp()
    same(obj.get_x(maps=["xa", "xc"]), obj.get_x().loc[["xa", "xc"]])
    assert obj.get_x(maps="xb", squeeze=True).name == "xb"  # one map: a Series
    same(obj.get_y(maps="y", copy=True), obj.get_y())  # a part of the labels
    sets = NiSpace(x=X_SETS, y=Y).fit()
    same(sets.get_x(maps="s1"), sets.get_x().iloc[:2])  # an index level


def _copy():
    obj = permuted()
    twin = obj.copy(deep=True, verbose=True)
    twin.correct_p("fdr_bh", mc_dimension="x")
    assert twin.corrections_ and not obj.corrections_  # the original is unchanged
    same(twin.get_p_values(), obj.get_p_values())


def _fit_report_background_parcels():
    same(image_nispace(report_background_parcels=True), image_nispace())
    same(image_nispace(report_background_parcels=False), image_nispace())


def _colocalize_mlr_individual():
    a = nsp().colocalize("mlr", mlr_individual=True).get_colocalizations("mlr", "individual")
    b = nsp().colocalize("mlr", individual=True).get_colocalizations("mlr", "individual")
    same(a, b)
    nsp().colocalize("spearman", mlr_individual=False, r_equal_one="raise")  # defaults


def _reduce_x_store_verbose():
    same(nsp().reduce_x("pca", store=True, verbose=None).get_x(),
         nsp().reduce_x("pca").get_x())


OTHER_ACCEPTED = [
    ("get_x/get_y", "maps/squeeze/copy", _get_x_maps_squeeze),
    ("copy", "deep/verbose", _copy),
    ("fit", "report_background_parcels", _fit_report_background_parcels),
    ("colocalize", "mlr_individual/r_equal_one", _colocalize_mlr_individual),
    ("reduce_x", "store/verbose", _reduce_x_store_verbose),
]


def _plot_brain_views(data_url):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from nispace.datasets import fetch_parcellation

    parc = fetch_parcellation("Schaefer100", verbose=False)
    table = pd.DataFrame(np.random.default_rng(7).normal(size=(1, 100)), index=["m"],
                         columns=parc.labels)
    obj = NiSpace(x=table, parcellation=parc).fit()
    fig = obj.plot_brain("X", views=["lateral"])
    assert [ax.get_label() for ax in fig.axes if ax.get_label().startswith("surface:")] \
        == ["surface:left:lateral", "surface:right:lateral"]
    plt.close(fig)
    with pytest.raises(InputError, match=r"views: expected one or more of \['lateral', "
                                         r"'medial'\]"):
        obj.plot_brain("X", views="dorsal")


OTHER_ACCEPTED.append(("plot_brain", "views", _plot_brain_views))

# correlate_within_region: 12 subjects, correlations across subjects in each parcel
SUB_X = _frame(10, [f"s{i:02d}" for i in range(12)])
SUB_Y = _frame(11, [f"s{i:02d}" for i in range(12)])


def within(**kwargs) -> NiSpace:
    from nispace.workflows import correlate_within_region

    kwargs = {"x": SUB_X, "y": SUB_Y, "parcellation": None, "n_perm": 200, "seed": 1,
              **kwargs}
    return correlate_within_region(**kwargs)


def _within_region_pearson():
    obj = within()
    res = obj.get_within_region_correlations(mc_method="maxT")
    r = np.array([stats.pearsonr(SUB_X[c], SUB_Y[c])[0] for c in PARCELS])
    same(res["stat"], np.arctanh(r))  # r_to_z=True, as in NiSpace
    assert res["stat_type"] == "z"
    null = obj.within_region_["null"]  # (n_perm, n_parcels): one re-pairing per row
    same(res["p"], (1 + (np.abs(null) >= np.abs(r)).sum(0)) / (len(null) + 1))
    max_null = np.abs(null).max(axis=1)
    same(res["p_corr"], (1 + (max_null[:, None] >= np.abs(r)).sum(0)) / (len(null) + 1))
    step = obj.get_within_region_correlations()["p_corr"]  # step_maxT, the default
    assert (step.to_numpy() <= res["p_corr"].to_numpy() + 1e-12).all()


def _within_region_spearman_shuffled_labels():
    obj = within(y=SUB_Y.sample(frac=1, random_state=0), method="spearman",
                 correlate_kwargs={"r_to_z": False})
    r = [stats.spearmanr(SUB_X[c], SUB_Y[c])[0] for c in PARCELS]  # matched by label
    same(obj.get_within_region_correlations(mc_method=None)["stat"], r)


def _within_region_group_covariate():
    groups = pd.Series([0.0, 1.0] * 6, index=SUB_X.index)
    obj = within(y=groups, correlate_kwargs={"r_to_z": False})
    r = obj.get_within_region_correlations(mc_method="fdr_bh")["stat"].to_numpy()
    t = stats.ttest_ind(SUB_X[groups == 1], SUB_X[groups == 0]).statistic
    same(r * np.sqrt(10 / (1 - r ** 2)), t)  # point-biserial r is the t-test


def _within_region_omnibus():
    obj = within()
    r = obj.within_region_["r"].to_numpy()
    null = obj.within_region_["null"]
    res = obj.get_within_region_correlations_omnibus("absrho")
    assert res["stat"] == pytest.approx(np.abs(r).mean())
    n_ge = (np.abs(null).mean(axis=1) >= np.abs(r).mean() - 1e-12).sum()
    assert res["p"] == pytest.approx((1 + n_ge) / (len(null) + 1))
    z = obj.get_within_region_correlations_omnibus("rho")["stat"]
    assert z == pytest.approx(np.arctanh(r).mean())


OTHER_ACCEPTED += [
    ("correlate_within_region", "method='pearson'/mc_method", _within_region_pearson),
    ("correlate_within_region", "method='spearman'/r_to_z",
     _within_region_spearman_shuffled_labels),
    ("correlate_within_region", "1D covariate", _within_region_group_covariate),
    ("get_within_region_correlations_omnibus", "omnibus_stat", _within_region_omnibus),
]

# ---------------------------------------------------------------------------------------
# added by other branches today: reduce_x, the nimare workflows, fetch_neurovault,
# reference datasets on any parcellation and the tissue covariates (their own test
# files check them on real data; these rows pin NiSpace's call forms)

def _reduce_x_mean_by_set_weighted_mean():
    obj = NiSpace(x=X_SETS, y=Y).fit()
    x = obj.get_x()
    same(obj.reduce_x("mean", mean_by_set=True).get_x(), [x.iloc[:2].mean(), x.iloc[2]])
    weighted = X_SETS.set_axis(pd.MultiIndex.from_tuples(
        [("s1", "xa", 1.0), ("s1", "xb", 3.0), ("s2", "xc", 1.0)],
        names=["set", "map", "weight"]))
    obj = NiSpace(x=weighted, y=Y).fit()
    x = obj.get_x().to_numpy()
    same(obj.reduce_x("mean", mean_by_set=True, weighted_mean=True).get_x().iloc[0],
         (x[0] + 3 * x[1]) / 4)


def _reduce_x_min_ev():
    from sklearn.decomposition import PCA

    obj = nsp().reduce_x("pca", min_ev=0.5)
    ratio = PCA().fit(nsp().get_x().to_numpy().T).explained_variance_ratio_
    assert obj.get_x().shape[0] == np.searchsorted(np.cumsum(ratio), 0.5) + 1


def _reduce_x_fa_ml_seed():
    from sklearn.decomposition import FactorAnalysis

    obj = nsp().reduce_x("fa", n_components=1, fa_method="ml", fa_rotation=None, seed=3)
    ref = FactorAnalysis(n_components=1, random_state=3).fit(nsp().get_x().to_numpy().T)
    same(np.abs(obj.get_x_reduction().loadings.to_numpy().ravel()),
         np.abs(ref.components_.ravel()))


def _reduce_x_fa_minres():
    from nispace.stats.factor import factor_analysis

    # NiSpace's defaults (minres, promax) run with nispace's own factor analysis
    obj = nsp().reduce_x("fa", n_components=2)
    data = nsp().get_x().to_numpy().T  # parcels x maps
    ref = factor_analysis(data, 2, method="minres", rotation="promax")
    same(obj.get_x_reduction().loadings.to_numpy(), ref.loadings)
    assert obj.get_x().shape == (2, N_PARCELS)


def _nimare_signatures():
    import inspect

    from nispace.workflows import nimare_colocalization, nimare_xsea

    for function in (nimare_colocalization, nimare_xsea):
        params = inspect.signature(function).parameters
        assert params["nimare_nulls"].default is None
        assert params["colocalization_method"].default == "spearman"
        assert params["return_nispace_only"].default is True
        assert params["binary_y"].default is False
        assert {"estimator", "nimare_map", "y_label"} <= set(params)


def _fetch_neurovault_resample_timeout():
    import inspect

    from nispace.datasets.neurovault import fetch_neurovault

    params = inspect.signature(fetch_neurovault).parameters  # run in test_neurovault.py
    assert params["resample"].default is False and params["timeout"].default == 10.0


def _x_pet_custom_parcellation_z_gm(data_url, tmp_path):
    from nispace.datasets import fetch_file
    from nispace.io.references import SOURCE_IMAGES

    ho = "parcellation/HarvardOxfordCortical/MNI152NLin6Asym/" \
         "parc-HarvardOxfordCortical_space-MNI152NLin6Asym.label"
    collection = tmp_path / "one_map.txt"
    collection.write_text("target-D1_tracer-sch23390_n-13_dx-hc_pub-kaller2017\n")
    obj = NiSpace(x="pet", x_collection=str(collection), z="gm",
                  parcellation=fetch_file(ho + ".nii.gz"),
                  parcellation_labels=fetch_file(ho + ".txt"), verbose=False).fit()
    assert obj.fit_record_["reference"]["x"]["source"] == SOURCE_IMAGES
    assert list(obj.get_z().index) == ["gm"] and obj.get_x().shape[0] == 1


OTHER_ACCEPTED += [
    ("reduce_x", "mean_by_set/weighted_mean", _reduce_x_mean_by_set_weighted_mean),
    ("reduce_x", "min_ev", _reduce_x_min_ev),
    ("reduce_x", "fa_method='ml'/fa_rotation=None/seed", _reduce_x_fa_ml_seed),
    ("reduce_x", "fa_method='minres' (default)", _reduce_x_fa_minres),
    ("nimare_colocalization/nimare_xsea", "signature", _nimare_signatures),
    ("fetch_neurovault", "resample/timeout", _fetch_neurovault_resample_timeout),
    ("NiSpace", "x='pet' + own parcellation, z='gm'", _x_pet_custom_parcellation_z_gm),
]

ACCEPTED += OTHER_ACCEPTED


@pytest.mark.parametrize("call, parameter, check", ACCEPTED,
                         ids=[f"{c}-{p}" for c, p, _ in ACCEPTED])
def test_accepted_with_nispace_meaning(call, parameter, check, request):
    fixtures = {name: request.getfixturevalue(name)
                for name in check.__code__.co_varnames[:check.__code__.co_argcount]}
    check(**fixtures)


# ---------------------------------------------------------------------------------------
# refused: (call, parameter, the call, error type, text naming the replacement)

def _fitted_call(method: str, **kwargs):
    def run():
        obj = permuted() if method in ("correct_p", "plot") else nsp()
        if method == "colocalize_after":
            obj.colocalize("spearman")
            return obj.permute(null_method="random", n_perm=N_PERM, **kwargs)
        if method == "plot_brain":
            return obj.plot_brain(**kwargs)
        return getattr(obj, method)(**kwargs)
    return run


def _nimare_binary_y():
    from nispace.workflows import nimare_colocalization

    return nimare_colocalization("foci.txt", binary_y=True)


REFUSED = [
    ("NiSpace", "parcellation_symmetric",
     lambda: NiSpace(x=X, parcellation_symmetric=True), InputError, "parcellation_dist_mat="),
    ("NiSpace", "parcellation_idc_lh",
     lambda: NiSpace(x=X, parcellation_idc_lh=[0, 1]), InputError, "parcellation_hemi="),
    ("NiSpace", "parcellation_idc_rh",
     lambda: NiSpace(x=X, parcellation_idc_rh=[2, 3]), InputError, "parcellation_hemi="),
    ("NiSpace", "parcellation_idc_sc",
     lambda: NiSpace(x=X, parcellation_idc_sc=[4]), InputError, "Schaefer200TianS1"),
    ("NiSpace", "parcellation_spin_mat",
     lambda: NiSpace(x=X, parcellation_spin_mat=np.zeros((2, 2))), InputError, "null_maps="),
    ("NiSpace", "load_dist_mat", lambda: NiSpace(x=X, load_dist_mat=False), InputError,
     "parcellation_dist_mat="),
    ("NiSpace", "load_spin_mat", lambda: NiSpace(x=X, load_spin_mat=False), InputError,
     "null_maps="),
    ("NiSpace", "return_self", lambda: NiSpace(x=X, return_self=False), InputError,
     "nsp.get_colocalizations()"),
    ("NiSpace", "unknown", lambda: NiSpace(x=X, colour="red"), InputTypeError,
     "unexpected keyword"),
    ("fit", "ignore_background_data", _fitted_call("fit", ignore_background_data=True),
     InputError, "background_value="),
    ("fit", "drop_background_parcels", _fitted_call("fit", drop_background_parcels=True),
     InputError, "min_fraction_valid_datapoints="),
    ("fit", "min_num + min_fraction",
     _fitted_call("fit", min_num_valid_datapoints=3, min_fraction_valid_datapoints=0.5),
     InputError, "give one threshold"),
    ("clean_y", "combat_protect", _fitted_call("clean_y", combat_protect=["age"]),
     InputError, "covariates_between"),
    ("clean_y", "combat_keep", _fitted_call("clean_y", combat_keep=["age"]), InputError,
     "leave it out"),
    ("clean_y", "combat_train", _fitted_call("clean_y", combat_train=[True] * 4), InputError,
     "nispace.stats.cleaning.combat"),
    ("clean_y", "combat_model", _fitted_call("clean_y", combat_model={}), InputError,
     "clean_y(combat=True)"),
    ("clean_y", "plot_design_between", _fitted_call("clean_y", plot_design_between=True),
     InputError, "plot_design_matrix"),
    ("clean_y", "replace", _fitted_call("clean_y", replace=False), InputError,
     "get_y(raw=True)"),
    ("colocalize", "X_reduction", _fitted_call("colocalize", X_reduction="pca"), InputError,
     "nsp.reduce_x("),
    ("colocalize", "Y_transform", _fitted_call("colocalize", Y_transform="hedges(a,b)"),
     InputError, "nsp.transform_y("),
    ("colocalize", "X", _fitted_call("colocalize", X=X), InputError, "NiSpace(x=...)"),
    ("colocalize", "store", _fitted_call("colocalize", store=False), InputError,
     "get_colocalizations"),
    ("colocalize", "force_dict", _fitted_call("colocalize", force_dict=True), InputError,
     "get_colocalization_result"),
    ("colocalize", "dist_mat_kwargs", _fitted_call("colocalize", dist_mat_kwargs={}),
     InputError, "coords="),
    ("colocalize", "r_to_z + fisher_z",
     _fitted_call("colocalize", r_to_z=False, fisher_z=True), InputError, "give one"),
    ("permute", "what=['maps', 'groups']",
     _fitted_call("colocalize_after", what=["maps", "groups"]), InputError,
     "once for each"),
    ("permute", "sets_X_background",
     _fitted_call("colocalize_after", sets_X_background=X), InputError, "x="),
    ("permute", "maps_n_components",
     _fitted_call("colocalize_after", maps_n_components=10), InputError, "null_kwargs="),
    ("permute", "Y_transform", _fitted_call("colocalize_after", Y_transform="hedges(a,b)"),
     InputError, "nsp.transform_y("),
    ("permute", "xsea", _fitted_call("colocalize_after", xsea=True), InputError,
     "method='spearman_xsea'"),
    ("permute", "binary_y + what='groups'",
     lambda: nsp(binary_y=True).colocalize("spearman").permute("groups"), InputError,
     "what='maps'"),
    ("correct_p", "store", _fitted_call("correct_p", mc_method="fdr_bh", store=False),
     InputError, "get_p_values(mc_method"),
    ("correct_p", "mc_alpha", _fitted_call("correct_p", mc_method="fdr_bh", mc_alpha=2),
     InputError, "mc_alpha"),
    ("plot", "kind='nullhist'", _fitted_call("plot", kind="nullhist"), InputError,
     "nsp.plot_nulls()"),
    ("plot", "kind='correlation'", _fitted_call("plot", kind="correlation"), InputError,
     "nsp.plot_scatter("),
    ("plot", "colocalizations_dict", _fitted_call("plot", colocalizations_dict={}),
     InputError, "plot_colocalizations"),
    ("plot", "sort_colocs", _fitted_call("plot", sort_colocs=True), InputError,
     "sort_by='coloc'"),
    ("plot", "show", _fitted_call("plot", show=False), InputError, "pyplot.show()"),
    ("plot_brain", "shared_colorscale", _fitted_call("plot_brain", shared_colorscale=True),
     InputError, "vmin= and vmax="),
    ("plot_brain", "kind", _fitted_call("plot_brain", kind="glass"), InputError,
     "follows the parcellation"),
    ("colocalization", "data_space + space", lambda: wf(data_space="MNI152NLin6Asym",
     space="MNI152NLin2009cAsym"), InputError, "give one"),
    ("colocalization", "fetch_x_kwargs", lambda: wf(fetch_x_kwargs={"maps": ["xa"]}),
     InputError, "nispace.datasets.fetch_reference"),
    ("colocalization", "p_from_average_y + pooled_p",
     lambda: wf(p_from_average_y="mean", pooled_p="median"), InputError, "pooled_p only"),
    ("colocalization", "mc_method=[]", lambda: wf(mc_method=[]), InputError, "mc_method"),
    ("colocalization", "unknown", lambda: wf(colour="red"), InputTypeError,
     "unexpected keyword"),
    ("colocalization", "fit_kwargs + fitted nispace_object",
     lambda: wf("colocalization", None, nispace_object=nsp(),
                fit_kwargs={"background_value": False}), InputError,
     "nsp.fit(...)"),
    ("colocalize", "r_equal_one", _fitted_call("colocalize", r_equal_one=np.nan),
     InputError, "nsp.get_colocalizations()"),
    ("get_x", "copy=False", _fitted_call("get_x", copy=False), InputError, "copies"),
    ("get_y", "maps (no match)", _fitted_call("get_y", maps="nope"), InputError,
     "matches no map"),
    ("copy", "deep=False", _fitted_call("copy", deep=False), InputError, "nsp.copy()"),
    ("reduce_x", "store=False", _fitted_call("reduce_x", reduction="pca", store=False),
     InputError, "get_x(raw=True)"),
    ("get_within_region_correlations", "mc_method='meff'",
     lambda: within().get_within_region_correlations(mc_method="meff"), InputError,
     "step_maxT"),
    ("get_within_region_correlations", "before correlate_within_region",
     _fitted_call("get_within_region_correlations"), StateError,
     "nsp.correlate_within_region()"),
    ("correlate_within_region", "store=False",
     _fitted_call("correlate_within_region", store=False), InputError,
     "get_within_region_correlations"),
    ("correlate_within_region", "subjects differ",
     _fitted_call("correlate_within_region"), InputError, "same subjects"),
    ("nimare_colocalization", "binary_y=True", _nimare_binary_y, InputError,
     "colocalization(mask, binary_y=True)"),
    ("reduce_x", "n_components + min_ev",
     _fitted_call("reduce_x", reduction="pca", n_components=1, min_ev=0.5), InputError,
     "min_ev"),
    ("xsea", "x_background", lambda: wf("xsea", x=X_SETS, x_background=X), InputError,
     "as x="),
]


@pytest.mark.parametrize("call, parameter, run, error, text", REFUSED,
                         ids=[f"{c}-{p}" for c, p, *_ in REFUSED])
def test_refused_names_the_replacement(call, parameter, run, error, text):
    with pytest.raises(error) as info:
        run()
    assert text in str(info.value)
