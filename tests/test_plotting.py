"""Figures: their structure (ticks, marks, legend entries, panels, data passed to
nilearn), checked on real NiSpace results from the data mirror; no pixel tests."""

from __future__ import annotations

import copy

import matplotlib
import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from nispace.api import NiSpace
from nispace.datasets import fetch_example, fetch_parcellation, fetch_reference
from nispace.datasets.templates import fetch_template
from nispace.plotting import (coloc_title, method_label, permutation_label, plot_brain,
                              plot_colocalizations, plot_null_distributions, plot_parcellation,
                              transform_label)
from nispace.plotting.brain import _vertex_values, _volume_image
from nispace.plotting.labels import _column_labels
from nispace.stats.coloc import COLOC_METHODS
from nispace.stats.transforms import ACCEPTED_FORMS

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def served(mirror_server, tmp_path_factory):
    """Environment pointing at the mirror, for module-scoped fixtures (the autouse
    isolation fixture is function-scoped)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NISPACE_DATA_URL", mirror_server)
        mp.setenv("NISPACE_DATA_DIR", str(tmp_path_factory.mktemp("nispace-data")))
        mp.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        yield


@pytest.fixture(scope="module")
def pet_pain(served) -> dict:
    """14 PET maps (Schaefer200) colocalized with a pain meta-analysis map."""
    pet = fetch_reference("pet", parcellation="Schaefer200", collection="UniqueTracers",
                          print_references=False, verbose=False)
    pain = fetch_example("painmeta", parcellation="Schaefer200", verbose=False)
    nsp = NiSpace(x=pet, y=pain, parcellation="Schaefer200", verbose=False).fit()
    nsp.colocalize("spearman").permute(n_perm=200, seed=1).correct_p("fdr_bh")
    return {"obs": nsp.get_colocalizations(), "nulls": nsp.get_nulls(),
            "p": nsp.get_p_values(), "q": nsp.get_p_values(mc_method="fdr_bh")}


@pytest.fixture(scope="module")
def enigma_pet(served) -> NiSpace:
    """5 ENIGMA cortical thickness maps (Y) against 6 PET maps (X), Desikan-Killiany."""
    enigma = fetch_reference("enigmathick", parcellation="DesikanKilliany",
                             print_references=False, verbose=False)
    pet = fetch_reference("pet", parcellation="DesikanKilliany", collection="UniqueTracers",
                          print_references=False, verbose=False)
    nsp = NiSpace(x=pet.iloc[:6], y=enigma.iloc[:5], parcellation="DesikanKilliany",
                  verbose=False).fit()
    return nsp.colocalize("spearman").permute(n_perm=200, seed=1).correct_p("fdr_bh")


def tick_labels(ax) -> list[str]:
    """Category labels as shown, without the line breaks and spaces (wrapping may turn
    a space into a line break)."""
    return [_squeeze(t.get_text()) for t in ax.get_yticklabels()]


def _squeeze(text: str) -> str:
    return text.replace("\n", "").replace(" ", "")


def full_labels(columns) -> list[str]:
    """Labels are shown in full (wrapped), never cut."""
    return [_squeeze(lab) for lab in _column_labels(columns, max_len=10**6)]


def marks(ax, gid: str) -> list:
    return [t for t in ax.texts if t.get_gid() == gid]


def n_dots(ax) -> int:
    return sum(len(c.get_offsets()) for c in ax.collections if c.get_gid() == "observed")


# ---------------------------------------------------------------------------------------
# labels


def test_titles_read_like_sentences():
    assert (coloc_title("spearman", transform="hedges(a,b)", what="groups")
            == "Spearman's rho colocalization after Hedges' g transform (permutation of groups)")
    assert (coloc_title("spearman", what="maps")
            == "Spearman's rho colocalization (permutation of X maps)")
    assert (coloc_title("pearson", what="maps", maps_which="xy")
            == "Pearson's r colocalization (permutation of X and Y maps)")
    assert coloc_title("mlr", "beta") == "MLR β colocalization"


def test_method_labels():
    assert method_label("spearman") == "Spearman's rho"
    assert method_label("pearson", "rho") == "Pearson's r"
    assert method_label("partialspearman") == "partial Spearman's rho"
    assert method_label("partialpearson") == "partial Pearson's r"
    assert method_label("slr") == "R²"
    assert method_label("mlr", "beta") == "MLR β" and method_label("mlr") == "MLR R²"
    assert method_label("dominance", "total") == "dominance (total)"
    assert method_label("mi") == "mutual information"
    assert method_label("spearman_xsea") == "Spearman's rho (set mean)"
    for method, stats in COLOC_METHODS.items():  # every statistic has a label
        for stat in stats:
            assert method_label(method, stat).strip()
    with pytest.raises(ValueError, match="method"):
        method_label("kendall")


@pytest.mark.parametrize("formula, label", [
    ("hedges(a,b)", "Hedges' g"), ("cohen(a,b)", "Cohen's d"), ("zscore(a,b)", "z-score"),
    ("pairedcohen(a,b)", "paired Cohen's d"), ("mean(a)-mean(b)", "mean difference"),
    ("meandiff(a,b)", "mean difference"), ("prc(a,b)", "percent change"),
    ("Hedges( b , a )", "Hedges' g"), ("not a formula", "not a formula"),
])
def test_transform_labels(formula, label):
    assert transform_label(formula) == label


def test_every_accepted_transform_has_a_label():
    assert all(transform_label(f) for f in ACCEPTED_FORMS)


def test_permutation_labels():
    assert permutation_label("maps") == "permutation of X maps"
    assert permutation_label("maps", "Y") == "permutation of Y maps"
    assert permutation_label("maps", "XY") == "permutation of X and Y maps"
    assert [permutation_label(w) for w in ("groups", "sets", "pairs")] == [
        "permutation of groups", "permutation of sets", "permutation of pairs"]
    with pytest.raises(ValueError, match="what"):
        permutation_label("subjects")


def test_set_map_column_labels_are_prefixed_and_truncated():
    cols = pd.MultiIndex.from_tuples([("Serotonin", "target-5HT1a_" + "x" * 60),
                                      ("GABA", "short")], names=["set", "map"])
    long, short = _column_labels(cols)
    assert short == "GABA · short"
    assert long.startswith("Serotonin · target-5HT1a_") and long.endswith("…")
    assert len(long) == 50


# ---------------------------------------------------------------------------------------
# plot_colocalizations


def test_categories_follow_the_sort_and_are_cut_to_n_categories(pet_pain):
    obs = pet_pain["obs"]
    fig, ax = plot_colocalizations(obs, pet_pain["nulls"], n_categories=8)
    expected = obs.mean(axis=0).sort_values(ascending=False, kind="stable").index[:8]
    assert tick_labels(ax) == full_labels(expected)
    assert n_dots(ax) == 8
    # top of the plot = first category
    ticks = ax.get_yticks()
    assert ax.transData.transform((0, ticks[0]))[1] > ax.transData.transform((0, ticks[-1]))[1]


def test_other_sort_orders(pet_pain):
    obs, nulls, p = pet_pain["obs"], pet_pain["nulls"], pet_pain["p"]
    z = (obs.to_numpy() - nulls.mean(axis=0)) / nulls.std(axis=0, ddof=1)
    references = {
        "abs_coloc": obs.mean(axis=0).abs().sort_values(ascending=False, kind="stable").index,
        "z": obs.columns[np.argsort(-z.mean(axis=0), kind="stable")],
        "p": p.min(axis=0).sort_values(kind="stable").index,
        None: obs.columns,
    }
    for sort_by, order in references.items():
        _, ax = plot_colocalizations(obs, nulls, p, sort_by=sort_by)
        assert tick_labels(ax) == full_labels(order), sort_by


def test_significance_marks_match_p_and_q(pet_pain):
    obs, p, q = pet_pain["obs"], pet_pain["p"], pet_pain["q"]
    corrected = int((q < 0.05).to_numpy().sum())
    uncorrected = int(((p < 0.05) & ~(q < 0.05)).to_numpy().sum())
    assert corrected > 0 and uncorrected > 0  # the data exercise both kinds of marks
    _, ax = plot_colocalizations(obs, pet_pain["nulls"], p, q)
    assert len(marks(ax, "sig-corrected")) == corrected
    assert len(marks(ax, "sig-uncorrected")) == uncorrected
    assert {t.get_text() for t in marks(ax, "sig-corrected")} == {"**"}
    assert {t.get_text() for t in marks(ax, "sig-uncorrected")} == {"*"}
    note = next(t for t in ax.texts if t.get_gid() == "note").get_text()
    assert "uncorrected" in note and "corrected" in note
    # without q every p < alpha gets one "*"
    _, ax = plot_colocalizations(obs, p=p, alpha=0.2)
    assert len(marks(ax, "sig-uncorrected")) == int((p < 0.2).to_numpy().sum())
    assert not marks(ax, "sig-corrected")


def test_null_ranges_span_the_requested_percentiles(pet_pain):
    obs, nulls = pet_pain["obs"], pet_pain["nulls"]
    _, ax = plot_colocalizations(obs, nulls, sort_by=None, percentiles=(5, 95))
    outer = next(c for c in ax.collections if c.get_gid() == "null-range")
    segments = np.array([seg[:, 0] for seg in outer.get_segments()])
    expected = np.percentile(nulls[:, 0], [5, 95], axis=0).T
    np.testing.assert_allclose(segments, expected)
    assert any(line.get_gid() == "zero-line" and line.get_xdata()[0] == 0 for line in ax.lines)


def test_several_y_maps_get_one_colour_and_legend_entry_each(enigma_pet):
    obs = enigma_pet.get_colocalizations()
    p = enigma_pet.get_p_values()
    q = enigma_pet.get_p_values(mc_method="fdr_bh")
    fig, ax = plot_colocalizations(obs, enigma_pet.get_nulls(), p, q, sort_by="z")
    n_y, n_x = obs.shape
    assert [t.get_text() for t in ax.get_legend().get_texts()] == _column_labels(obs.index)
    assert n_dots(ax) == n_y * n_x
    assert len(tick_labels(ax)) == n_x
    colors = {tuple(c.get_facecolor()[0]) for c in ax.collections if c.get_gid() == "observed"}
    assert len(colors) == n_y
    assert len(marks(ax, "sig-corrected")) == int((q < 0.05).to_numpy().sum())
    # dots of one category stay inside its row
    for c in ax.collections:
        if c.get_gid() == "observed":
            y = c.get_offsets()[:, 1]
            assert np.all(np.abs(y - np.round(y)) < 0.5)


def test_pooled_p_values_give_one_row(enigma_pet):
    nsp = copy.deepcopy(enigma_pet)
    nsp.permute(n_perm=100, seed=2, pooled_p="mean")
    perm = nsp.get_permutation_result("spearman")
    obs = perm.observed["rho"]
    assert obs.shape[0] == 1
    fig, ax = plot_colocalizations(obs, nsp.get_nulls(), nsp.get_p_values(),
                                   title=coloc_title("spearman", what=perm.kind))
    assert n_dots(ax) == obs.shape[1]
    assert len(ax.get_legend().get_texts()) == 1
    assert fig._suptitle.get_text().startswith("Spearman's rho colocalization")


def test_draws_into_the_given_axes(pet_pain):
    fig, ax = plt.subplots()
    out_fig, out_ax = plot_colocalizations(pet_pain["obs"], title="mine")
    assert out_ax is not ax
    out_fig, out_ax = plot_colocalizations(pet_pain["obs"], ax=ax, title="mine")
    assert out_ax is ax and out_fig is fig and ax.get_title() == "mine"


def test_bad_arguments_raise(pet_pain):
    obs, nulls = pet_pain["obs"], pet_pain["nulls"]
    with pytest.raises(ValueError, match="sort_by.*coloc.*abs_coloc"):
        plot_colocalizations(obs, sort_by="median")
    with pytest.raises(ValueError, match="sort_by: 'z' needs null"):
        plot_colocalizations(obs, sort_by="z")
    with pytest.raises(ValueError, match="sort_by: 'p' needs p"):
        plot_colocalizations(obs, sort_by="p")
    with pytest.raises(ValueError, match="nulls: expected shape"):
        plot_colocalizations(obs, nulls[:, :, :3])
    with pytest.raises(ValueError, match="p: expected shape"):
        plot_colocalizations(obs, p=pet_pain["p"].iloc[:, :3])
    with pytest.raises(ValueError, match="n_categories"):
        plot_colocalizations(obs, n_categories=0)


def test_p_tables_are_aligned_by_label(pet_pain):
    obs, p = pet_pain["obs"], pet_pain["p"]
    _, ax1 = plot_colocalizations(obs, p=p, sort_by="p")
    _, ax2 = plot_colocalizations(obs, p=p.iloc[:, ::-1], sort_by="p")
    assert tick_labels(ax1) == tick_labels(ax2)


# ---------------------------------------------------------------------------------------
# plot_null_distributions


def test_null_distribution_panels(pet_pain):
    obs, nulls, p = pet_pain["obs"], pet_pain["nulls"], pet_pain["p"]
    fig, axes = plot_null_distributions(obs, nulls, p, columns=[0, 2, 5], ncols=2)
    assert axes.shape == (2, 2)
    visible = [ax for ax in axes.flat if ax.get_visible()]
    assert len(visible) == 3
    for ax, col in zip(visible, [0, 2, 5]):
        lines = [line for line in ax.lines if line.get_gid() == "observed"]
        assert len(lines) == 1
        assert lines[0].get_xdata()[0] == pytest.approx(obs.iloc[0, col])
        text = next(t for t in ax.texts if t.get_gid() == "p-value").get_text()
        assert text == f"p = {p.iloc[0, col]:.3f}"
        hist = next(patch for patch in ax.patches if patch.get_gid() == "null")
        heights, edges = hist.get_data()[:2]
        assert np.sum(heights * np.diff(edges)) == pytest.approx(1.0)  # a density
    # by label, and all columns by default
    fig, axes = plot_null_distributions(obs, nulls, columns=[obs.columns[3]])
    assert sum(ax.get_visible() for ax in axes.flat) == 1
    fig, axes = plot_null_distributions(obs, nulls)
    assert sum(ax.get_visible() for ax in axes.flat) == obs.shape[1]
    with pytest.raises(ValueError, match="columns"):
        plot_null_distributions(obs, nulls, columns=["nope"])
    with pytest.raises(ValueError, match="row"):
        plot_null_distributions(obs, nulls, row=1)


# ---------------------------------------------------------------------------------------
# brain maps


class SurfRecorder:
    """Wraps the drawing of one surface view and keeps what it was given."""

    def __init__(self, monkeypatch):
        from nispace.plotting import brain

        self.calls = []
        original = brain._surface_view

        def record(*args, **kwargs):
            self.calls.append(kwargs)
            return original(*args, **kwargs)

        monkeypatch.setattr(brain, "_surface_view", record)

    def data(self) -> np.ndarray:
        """Vertex values drawn in the lateral views: L then R vertices, map after map."""
        return np.concatenate([c["surf_map"] for c in self.calls if c["view"] == "lateral"])


def surface_axes(fig) -> list:
    return [ax for ax in fig.axes if ax.get_label().startswith("surface:")]


def colorbars(fig) -> list:
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def test_vertex_values_follow_the_surface_labels(data_url):
    parc = fetch_parcellation("Schaefer100", verbose=False)
    values = np.random.default_rng(0).normal(size=(2, 100))
    vertex = _vertex_values(values, parc, "fsLR")
    labels = parc.get_data("fsLR")
    assert vertex.shape == (2, labels.size)
    labelled = labels > 0
    np.testing.assert_array_equal(vertex[:, labelled], values[:, labels[labelled] - 1])
    assert np.isnan(vertex[:, ~labelled]).all()
    # the unlabelled vertices lie on the medial wall of the template
    cortex = np.concatenate([np.asarray(nib.load(f).agg_data()).ravel() > 0
                             for f in fetch_template("fsLR", desc="medial", verbose=False)])
    assert not (cortex & ~labelled).any()
    np.testing.assert_allclose(np.nanmin(vertex, axis=1), values.min(axis=1))
    np.testing.assert_allclose(np.nanmax(vertex, axis=1), values.max(axis=1))


def test_surface_parcellation_gives_four_views_per_map(data_url, monkeypatch):
    recorder = SurfRecorder(monkeypatch)
    parc = fetch_parcellation("Schaefer100", verbose=False)
    values = np.random.default_rng(1).normal(size=(2, 100))  # both signs
    fig = plot_brain(values, parc, titles=["first", "second"])
    non_colorbar = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(non_colorbar) == 8 and all(ax.name == "rectilinear" for ax in non_colorbar)
    assert [ax.get_label() for ax in surface_axes(fig)[:4]] == [
        "surface:left:lateral", "surface:left:medial", "surface:right:lateral",
        "surface:right:medial"]
    assert len(colorbars(fig)) == 2
    # what reached nilearn: per map, the L and R vertex values of the parcels
    assert len(recorder.calls) == 8
    for m in range(2):
        calls = recorder.calls[4 * m: 4 * m + 4]
        lh, rh = calls[0]["surf_map"], calls[2]["surf_map"]
        expected = _vertex_values(values[m], parc, "fsLR")[0]
        np.testing.assert_array_equal(np.concatenate([lh, rh]), expected)
        assert np.nanmin(expected) == values[m].min() and np.nanmax(expected) == values[m].max()
        # symmetric scale: both signs in the values
        limit = np.abs(values[m]).max()
        assert {(c["vmin"], c["vmax"]) for c in calls} == {(-limit, limit)}
        assert colorbars(fig)[m].get_ylim() == pytest.approx((-limit, limit))
    assert [t.get_text() for t in fig.texts if t.get_gid() == "map-title"] == ["first",
                                                                              "second"]


def test_colour_scale_of_positive_values_is_not_symmetric(data_url, monkeypatch):
    recorder = SurfRecorder(monkeypatch)
    parc = fetch_parcellation("Schaefer100", verbose=False)
    values = np.linspace(1, 2, 100)
    fig = plot_brain(values, parc)
    assert {(c["vmin"], c["vmax"]) for c in recorder.calls} == {(1.0, 2.0)}
    fig = plot_brain(values, parc, symmetric_cmap=True)
    assert colorbars(fig)[0].get_ylim() == pytest.approx((-2, 2))
    with pytest.raises(ValueError, match="values: expected shape"):
        plot_brain(values[:50], parc)


def test_tables_are_aligned_by_parcel_label(data_url, monkeypatch):
    recorder = SurfRecorder(monkeypatch)
    parc = fetch_parcellation("Schaefer100", verbose=False)
    values = np.linspace(1, 2, 100)
    plot_brain(values, parc)
    expected = recorder.data().copy()
    recorder.calls.clear()
    table = pd.DataFrame([values[::-1]], columns=parc.labels[::-1], index=["reversed"])
    fig = plot_brain(table, parc)
    np.testing.assert_array_equal(recorder.data(), expected)
    assert [t.get_text() for t in fig.texts if t.get_gid() == "map-title"] == ["reversed"]
    # parcels missing from the table are drawn empty
    recorder.calls.clear()
    plot_brain(table.iloc[:, 10:], parc)
    labels = parc.get_data("fsLR")
    assert np.isnan(recorder.data()[np.isin(labels, np.arange(91, 101))]).all()
    with pytest.raises(ValueError, match="not parcels of"):
        plot_brain(table.rename(columns={parc.labels[0]: "elsewhere"}), parc)


def test_volumetric_parcellation_gives_axial_slices(data_url):
    parc = fetch_parcellation("TianS1", verbose=False)
    values = np.arange(1.0, 17.0)
    fig = plot_brain(values, parc)
    slices = [ax for ax in fig.axes if ax.get_label().startswith("volume:z=")]
    assert len(slices) >= 3 and not surface_axes(fig)
    assert colorbars(fig)[0].get_ylim() == pytest.approx((1, 16))
    # the image holds each parcel's value; the mask marks the parcels
    img, mask = _volume_image(values, parc, parc.active_space)
    labels = parc.get_data(parc.active_space)
    data = np.asarray(img.dataobj)
    np.testing.assert_array_equal(data[labels > 0], values[labels[labels > 0] - 1])
    np.testing.assert_array_equal(np.asarray(mask.dataobj) > 0, labels > 0)


def test_combined_parcellation_gives_surfaces_and_slices(data_url, monkeypatch):
    recorder = SurfRecorder(monkeypatch)
    parc = fetch_parcellation("Schaefer100TianS1", verbose=False)
    values = np.concatenate([np.full(100, 1.0), np.full(16, -3.0)])
    values[:50] = 2.0
    fig = plot_brain(values, parc)
    assert len(surface_axes(fig)) == 4
    assert any(ax.get_label().startswith("volume:z=") for ax in fig.axes)
    # the cortex values go to the surface, the subcortex values to the slices
    assert set(np.unique(recorder.data()[~np.isnan(recorder.data())])) == {1.0, 2.0}
    assert colorbars(fig)[0].get_ylim() == pytest.approx((-3, 3))


def test_parcellation_in_qualitative_colours(data_url, monkeypatch):
    recorder = SurfRecorder(monkeypatch)
    fig = plot_parcellation("Schaefer100")
    assert len(surface_axes(fig)) == 4 and not colorbars(fig)
    codes = recorder.data()
    assert set(np.unique(codes[~np.isnan(codes)])) == set(range(1, 101))
    first = recorder.data().copy()
    recorder.calls.clear()
    plot_parcellation("Schaefer100")
    np.testing.assert_array_equal(recorder.data(), first)  # deterministic


# ---------------------------------------------------------------------------------------
# figures a reviewer accepts: style, names, scatter, rasterized surfaces, report figures


@pytest.fixture(scope="module")
def pet_pain_nsp(served) -> NiSpace:
    """The PET maps named as a reference dataset (x="pet"), so map_info gives names."""
    pain = fetch_example("painmeta", parcellation="Schaefer200", verbose=False)
    nsp = NiSpace(x="pet", x_collection="UniqueTracers", y=pain, parcellation="Schaefer200",
                  verbose=False).fit()
    return nsp.colocalize("spearman").permute(n_perm=100, seed=1)


def test_wrap_label_keeps_every_character():
    from nispace.plotting import wrap_label

    label = "Serotonin · target-5HT1a_tracer-way100635_n-35_dx-hc_pub-savli2012"
    wrapped = wrap_label(label, 20)
    assert "\n" in wrapped
    assert all(len(line) <= 21 for line in wrapped.split("\n"))
    assert wrapped.replace("\n", "").replace(" ", "") == label.replace(" ", "")
    assert wrap_label("short") == "short"


def test_display_names_come_from_map_info():
    from nispace.plotting import display_names

    info = pd.DataFrame({"target": ["5HT1a", None], "tracer": ["[11C]WAY-100635", "x"],
                         "publication": ["savli2012", "p"], "sample_size": [35, np.nan]},
                        index=["target-5HT1a_tracer-way", "no-target"])
    assert display_names(info) == {
        "target-5HT1a_tracer-way": "5HT1a · [11C]WAY-100635 (savli2012, n=35)"}
    assert display_names(None) == {}
    assert _column_labels(pd.Index(["target-5HT1a_tracer-way", "other"]),
                          names=display_names(info)) == [
        "5HT1a · [11C]WAY-100635 (savli2012, n=35)", "other"]


def test_null_figure_shows_every_map_with_full_names_and_labelled_axes(pet_pain_nsp, data_url):
    fig, axes = pet_pain_nsp.plot_nulls()
    visible = [ax for ax in axes.flat if ax.get_visible()]
    n_maps = pet_pain_nsp.get_colocalizations().shape[1]
    assert len(visible) == n_maps == 14
    titles = [ax.get_title().replace("\n", "") for ax in visible]
    assert not any(t.endswith("…") for t in titles)
    assert any("[11C]WAY-100635" in t for t in titles)  # tracer names from map_info
    assert all(ax.get_ylabel() == "density" for ax in axes[:, 0] if ax.get_visible())
    assert {ax.get_xlabel() for ax in visible if ax.get_xlabel()} == {"Spearman's rho"}
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["null (100 permutations)", "observed"]


def test_scatter_line_is_the_least_squares_fit_and_title_gives_p():
    from scipy.stats import linregress

    from nispace.plotting import plot_scatter

    rng = np.random.default_rng(3)
    x = rng.normal(size=80)
    y = 0.6 * x + rng.normal(size=80)
    y[:3] = np.nan
    fig, ax = plot_scatter(y, x, y_label="my map", x_label="receptor", coloc=0.5,
                           coloc_label="Pearson's r", p=0.0123)
    fit = next(line for line in ax.lines if line.get_gid() == "fit")
    ref = linregress(x[3:], y[3:])  # independent reference, NaN parcels left out
    xs, ys = fit.get_data()
    np.testing.assert_allclose(ys, ref.intercept + ref.slope * np.asarray(xs))
    points = next(c for c in ax.collections if c.get_gid() == "parcels")
    assert len(points.get_offsets()) == 77
    assert ax.get_title() == "Pearson's r = 0.500\np (null) = 0.012"
    assert ax.get_xlabel() == "receptor" and ax.get_ylabel() == "my map"
    assert "3 without values left out" in ax.get_legend().get_texts()[0].get_text()
    with pytest.raises(nispace_errors().InputError, match="y, x"):
        plot_scatter(y[:10], x)


def nispace_errors():
    import nispace.errors

    return nispace.errors


def test_nispace_scatter_reads_the_permutation_result(pet_pain_nsp, data_url):
    nsp = pet_pain_nsp
    perm = nsp.get_permutation_result()
    x_name = nsp.get_x().index[4]
    fig, ax = nsp.plot_scatter(y_map=0, x_map=4)
    rho = nsp.get_colocalizations().iloc[0, 4]
    p = perm.p["rho"].iloc[0, 4]
    assert ax.get_title().startswith(f"Spearman's rho = {rho:.3f}\np (")
    assert f"{p:.3f}" in ax.get_title() or f"{p:.1e}" in ax.get_title()
    assert "100 perm." in ax.get_title()
    assert ax.get_xlabel().startswith("rank of ")  # Spearman: ranks
    assert str(x_name) not in ax.get_xlabel().replace("\n", "")  # display name instead


def test_surfaces_are_rasterized_opaque_and_mark_nan_parcels(data_url, tmp_path):
    from matplotlib.colors import to_rgba

    from nispace.plotting import save_figure
    from nispace.plotting.style import DPI, MEDIAL_WALL_COLOR, NO_DATA_COLOR

    parc = fetch_parcellation("Schaefer100", verbose=False)
    values = np.random.default_rng(0).normal(size=100)
    values[:5] = np.nan
    fig = plot_brain(values, parc, colorbar_label="Hedges' g")
    surfaces = surface_axes(fig)
    for ax in surfaces:
        image = next(im for im in ax.images if im.get_gid() == "surface")
        assert (image.face_colors[:, 3] == 1).all()  # the medial wall is not see-through
    all_colors = {tuple(np.round(c, 3)) for ax in surfaces
                  for c in next(iter(ax.images)).face_colors}
    assert tuple(np.round(to_rgba(MEDIAL_WALL_COLOR), 3)) in all_colors
    assert tuple(np.round(to_rgba(NO_DATA_COLOR), 3)) in all_colors
    legend = next(lg for lg in fig.legends if lg.get_gid() == "surface-legend")
    assert [t.get_text() for t in legend.get_texts()] == [
        "medial wall (no parcel)", "parcel without value (NaN)"]
    assert colorbars(fig)[0].get_ylabel() == "Hedges' g"
    png, svg = save_figure(fig, tmp_path / "brain", ("png", "svg"))
    assert svg.stat().st_size <= 2_000_000
    assert svg.read_text().count("<path") < 2000  # not one path per triangle
    from PIL import Image

    with Image.open(png) as img:
        assert round(img.info["dpi"][0]) == DPI
        pixels = np.asarray(img.convert("RGB")).reshape(-1, 3)
    # the drawn image holds opaque medial-wall and NaN-parcel pixels in their colours
    for color in (MEDIAL_WALL_COLOR, NO_DATA_COLOR):
        rgb = np.round(np.array(to_rgba(color)[:3]) * 255)
        assert (np.abs(pixels - rgb).max(axis=1) <= 1).sum() > 1000


def test_report_figures_show_all_maps_at_300_dpi(pet_pain_nsp, data_url, tmp_path):
    from PIL import Image

    from nispace.report.results import make_figures

    plt.close("all")
    figs = make_figures(pet_pain_nsp, ["spearman"], tmp_path)
    names = [f["name"] for f in figs]
    assert {"colocalizations_spearman", "nulls_spearman", "scatter_spearman",
            "brain_y"} <= set(names)
    caption = next(f["caption"] for f in figs if f["name"] == "nulls_spearman")
    assert "all 14 maps" in caption
    for name in names:
        with Image.open(tmp_path / f"{name}.png") as img:
            assert round(img.info["dpi"][0]) == 300
    assert (tmp_path / "brain_y.svg").stat().st_size <= 2_000_000
    assert plt.get_fignums() == []  # figures are closed after saving
    # the scatter shows the X map with the smallest p; among equal p the strongest
    p = pet_pain_nsp.get_p_values().iloc[0]
    rho = pet_pain_nsp.get_colocalizations().iloc[0]
    best = rho[p == p.min()].abs().idxmax()
    caption = next(f["caption"] for f in figs if f["name"] == "scatter_spearman")
    assert pet_pain_nsp._x_display_names()[best[-1]] in caption  # (set, map) columns


def test_report_figures_fit_their_canvas(pet_pain_nsp, data_url):
    """Nothing is drawn outside the page (the colorbar label, a long scatter title):
    the PNG is then cut from the one Agg draw instead of drawn again on a larger page."""
    from nispace.plotting.style import DPI, figure_style

    y = pet_pain_nsp.get_y()
    effect = (y - y.mean(axis=1).iloc[0]) / y.abs().max(axis=1).iloc[0] * 0.8  # like a g map
    with figure_style():
        figures = {"brain": pet_pain_nsp.plot_brain(effect, colorbar_label="Hedges' g"),
                   "scatter": pet_pain_nsp.plot_scatter(y_map=0, x_map=3)[0],
                   "nulls": pet_pain_nsp.plot_nulls()[0]}
        for name, fig in figures.items():
            fig.set_dpi(DPI)
            fig.canvas.draw()
            tight, page = fig.get_tightbbox(), fig.bbox_inches
            assert page.x0 <= tight.x0 and tight.x1 <= page.x1, name
            assert page.y0 <= tight.y0 and tight.y1 <= page.y1, name


def test_null_panels_share_one_x_scale(pet_pain_nsp, data_url):
    _, axes = pet_pain_nsp.plot_nulls()
    visible = [ax for ax in axes.flat if ax.get_visible()]
    assert len({ax.get_xlim() for ax in visible}) == 1
    # tick labels under the bottom panel of each column only
    labelled = [ax for ax in visible if any(t.get_visible() and t.get_text()
                                            for t in ax.get_xticklabels())]
    assert labelled == [ax for ax in visible if ax.get_xlabel()]


def test_nispace_plot_heatmap_shows_every_colocalization(pet_pain_nsp, data_url):
    fig, ax = pet_pain_nsp.plot(kind="heatmap")
    image = next(im for im in ax.images if im.get_gid() == "coloc-heatmap")
    np.testing.assert_array_equal(image.get_array(),
                                  pet_pain_nsp.get_colocalizations().to_numpy())
    assert "Spearman's rho" in fig._suptitle.get_text()
    with pytest.raises(nispace_errors().InputError, match="kind"):
        pet_pain_nsp.plot(kind="violin")
