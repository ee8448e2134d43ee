"""Writing figures: one Agg draw gives the PNG (the same pixels matplotlib writes), the
PNG encoder is lossless, the null grid keeps a fixed layout inside its canvas, many Y
maps get a heatmap and pages instead of one metres-tall figure, and the key-results
table shows display names beside the ids."""

from __future__ import annotations

import io
import json

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from nispace.plotting import plot_colocalization_heatmap, plot_null_distributions
from nispace.plotting.style import (DPI, figure_style, is_fixed_layout, png_bytes,
                                    write_formats)

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGBA"))


def small_figure(layout: str | None = None):
    """A figure with text, lines and an image, like the nispace figures."""
    rng = np.random.default_rng(0)
    with figure_style():
        fig, ax = plt.subplots(figsize=(3.0, 2.2), layout=layout)
        ax.imshow(rng.random((6, 8)), cmap="viridis")
        ax.plot([0, 7], [0, 5], color="k")
        ax.set_title("Serotonin · 5HT1a · [11C]WAY-100635")
        ax.set_xlabel("Spearman's rho")
    return fig


def test_png_encoder_is_lossless_and_records_the_resolution():
    rng = np.random.default_rng(1)
    rgba = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)
    with Image.open(io.BytesIO(png_bytes(rgba))) as img:
        assert img.mode == "RGBA"
        assert np.array_equal(np.asarray(img), rgba)
        assert round(img.info["dpi"][0]) == DPI
    opaque = rgba.copy()
    opaque[..., 3] = 255
    with Image.open(io.BytesIO(png_bytes(opaque))) as img:
        assert img.mode == "RGB"  # the same pixels, a quarter less data
        assert np.array_equal(np.asarray(img.convert("RGBA")), opaque)
    with pytest.raises(ValueError, match="image: expected uint8"):
        png_bytes(rgba.astype(float))


@pytest.mark.parametrize("layout", [None, "constrained"])
def test_one_draw_gives_the_pixels_matplotlib_writes(layout):
    """The PNG cut from the Agg draw equals matplotlib's savefig with the same
    bounding box (same size, same pixels), and the figure is left as it was."""
    fig = small_figure(layout)
    dpi_before, engine_before = fig.get_dpi(), type(fig.get_layout_engine())
    png, svg = io.BytesIO(), io.StringIO()
    write_formats(fig, [(png, "png"), (svg, "svg")])
    assert fig.get_dpi() == dpi_before and type(fig.get_layout_engine()) is engine_before
    ours = pixels(png.getvalue())
    # matplotlib's own writer at the bounding box recorded in the SVG (whole pixels)
    width_pt = float(svg.getvalue().split('width="')[1].split("pt")[0])
    height_pt = float(svg.getvalue().split('height="')[1].split("pt")[0])
    assert ours.shape[:2] == (round(height_pt / 72 * DPI), round(width_pt / 72 * DPI))
    fig2 = small_figure(layout)
    fig2.set_dpi(DPI)
    fig2.draw_without_rendering()
    from nispace.plotting.style import _pixel_bbox

    bbox = _pixel_bbox(fig2.get_tightbbox(fig2._get_renderer()))
    if layout:
        fig2.set_layout_engine("none")
    ref = io.BytesIO()
    fig2.savefig(ref, format="png", dpi=DPI, bbox_inches=bbox)
    theirs = pixels(ref.getvalue())
    assert theirs.shape == ours.shape
    assert np.array_equal(theirs, ours)


def test_null_grid_has_a_fixed_layout_inside_its_canvas():
    rng = np.random.default_rng(2)
    obs = pd.DataFrame(rng.normal(0, 0.2, (1, 7)), index=["hedges"],
                       columns=[f"target-{i}_tracer-long-tracer-name-{i}_pub-someone2020"
                                for i in range(7)])
    nulls = rng.normal(0, 0.1, (500, 1, 7))
    with figure_style():
        fig, axes = plot_null_distributions(obs, nulls, obs * 0 + 0.04)
    assert is_fixed_layout(fig) and fig.get_layout_engine() is None
    fig.set_dpi(DPI)
    fig.draw_without_rendering()
    canvas = fig.bbox
    for ax in axes.flat:
        if ax.get_visible():
            box = ax.get_tightbbox()
            assert canvas.x0 <= box.x0 and box.x1 <= canvas.x1
            assert canvas.y0 <= box.y0 and box.y1 <= canvas.y1
    # titles (wrapped full labels) never reach into the panel above
    boxes = [ax.get_tightbbox() for ax in axes.flat if ax.get_visible()]
    for upper, lower in zip(boxes[:4], boxes[4:]):
        assert lower.y1 <= upper.y0 + 1  # pixels


def test_heatmap_shows_every_cell_and_marks_significance():
    rng = np.random.default_rng(3)
    obs = pd.DataFrame(rng.normal(0, 0.3, (30, 4)), index=[f"sub-{i:02d}" for i in range(30)],
                       columns=["a", "b", "c", "d"])
    p = pd.DataFrame(np.full(obs.shape, 0.5), index=obs.index, columns=obs.columns)
    q = p.copy()
    p.iloc[2, 1] = 0.01        # uncorrected only
    p.iloc[5, 3] = q.iloc[5, 3] = 0.001  # corrected
    fig, ax = plot_colocalization_heatmap(obs, p, q, label="Spearman's rho",
                                          names={"a": "5HT1a · [11C]WAY (savli2012)"})
    image = next(im for im in ax.images if im.get_gid() == "coloc-heatmap")
    assert np.allclose(image.get_array(), obs.to_numpy())
    lo, hi = image.get_clim()
    assert lo == -hi == -np.abs(obs.to_numpy()).max()
    marks = {c.get_gid(): c.get_offsets().tolist() for c in ax.collections}
    assert marks == {"sig-uncorrected": [[1, 2]], "sig-corrected": [[3, 5]]}
    assert [t.get_text() for t in ax.get_yticklabels()] == list(obs.index)
    assert ax.get_xticklabels()[0].get_text().replace("\n", " ") == "5HT1a · [11C]WAY (savli2012)"
    assert fig.axes[1].get_ylabel() == "Spearman's rho"
    with pytest.raises(ValueError, match="p: expected shape"):
        plot_colocalization_heatmap(obs, p.iloc[:3])


@pytest.fixture
def many_y(data_url):
    """25 simulated Y maps (Schaefer100) against the PET maps, random nulls, FDR."""
    from nispace.api import NiSpace
    from nispace.datasets import fetch_parcellation

    rng = np.random.default_rng(4)
    labels = fetch_parcellation("Schaefer100", verbose=False).labels
    y = pd.DataFrame(rng.normal(size=(25, 100)), columns=labels,
                     index=[f"sub-{i:02d}" for i in range(25)])
    nsp = NiSpace(x="pet", y=y, parcellation="Schaefer100", seed=1, verbose=False).fit()
    nsp.colocalize("spearman")
    nsp.permute("maps", method="spearman", null_method="random", n_perm=20, seed=3,
                pooled_p=False)
    nsp.correct_p("fdr_bh", method="spearman", mc_dimension="x")
    return nsp


def test_many_y_maps_get_a_heatmap_and_pages_of_20(many_y, tmp_path):
    from nispace.report.results import Y_PER_PAGE, make_figures

    figs = make_figures(many_y, ["spearman"], tmp_path)
    names = [f["name"] for f in figs]
    assert names[:3] == ["colocalizations_spearman", "colocalizations_spearman_page1",
                         "colocalizations_spearman_page2"]
    captions = json.loads((tmp_path / "captions.json").read_text())
    assert "all 25 Y maps" in captions["colocalizations_spearman"]
    assert "Y maps 21-25 of 25, page 2 of 2" in captions["colocalizations_spearman_page2"]
    with Image.open(tmp_path / "colocalizations_spearman.png") as img:
        assert round(img.info["dpi"][0]) == DPI
        assert img.size[1] < 12 * DPI  # one row per Y map, not one band per X map
    plt.close("all")
    fig, _ = many_y.plot(y_maps=list(range(Y_PER_PAGE)))  # a page: 20 Y maps at most
    assert len(fig.axes[0].collections) >= Y_PER_PAGE


def test_key_results_show_display_names_beside_ids():
    from nispace.report.context import key_results

    table = pd.DataFrame({"y": ["pain"] * 3, "x": ["id-a", "id-b", "id-c"],
                          "value": [0.1, -0.5, 0.3], "p": [0.2, 0.01, 0.04]})
    out = key_results(table, names={"id-b": "D1 · [11C]SCH23390 (kaller2017)"})
    assert out.columns.tolist() == ["X map", "value", "p", "x"]  # numbers before ids
    assert out["X map"].tolist() == ["D1 · [11C]SCH23390 (kaller2017)", "id-c", "id-a"]
    assert out["x"].tolist() == ["id-b", "id-c", "id-a"]
    assert "X map" not in key_results(table, names={"other": "name"}).columns
    named = key_results(table, names={"id-b": "D1"}, value_label="Spearman's rho")
    assert named.columns.tolist() == ["X map", "Spearman's rho", "p", "x"]


def test_spearman_ranks_equal_scipys_rankdata():
    """Colocalization, meff correction and the scatter plot rank with NumPy (no
    scipy.stats import on the main job's path); the ranks are scipy's exactly."""
    from scipy.stats import rankdata

    from nispace.stats.coloc import _average_ranks

    rng = np.random.default_rng(5)
    for values in (rng.normal(size=(4, 60)), np.round(rng.normal(size=(3, 40)))):
        assert np.array_equal(_average_ranks(values), rankdata(values, axis=1))
    with_nan = rng.normal(size=(2, 9))
    with_nan[1, 3] = np.nan
    ranks = _average_ranks(with_nan)
    assert np.array_equal(ranks[0], rankdata(with_nan[0])) and np.isnan(ranks[1]).all()
