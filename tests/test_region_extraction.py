"""Region extraction (nispace.parcellate), region sizes, nilearn maskers and reports."""

from __future__ import annotations

import math
from html.parser import HTMLParser

import nibabel as nib
import numpy as np
import pytest

import nispace
from nispace.datasets import fetch_example, fetch_parcellation, fetch_template
from nispace.report import parcellation_report


def test_parcellate_volume_returns_a_labelled_table(data_url):
    image = fetch_example("painmeta", verbose=False)
    table = nispace.parcellate({"pain": image}, "Schaefer100", strategy="mean")
    parc = fetch_parcellation("Schaefer100", verbose=False)
    assert table.shape == (1, 100) and list(table.index) == ["pain"]
    assert list(table.columns) == parc.labels
    # the same numbers as nilearn's masker built by the Parcellation
    masker = parc.to_masker("MNI152NLin6Asym", strategy="mean")
    expected = np.atleast_2d(masker.fit_transform(image))[0]
    ok = np.isfinite(table.to_numpy()[0])
    # nilearn averages background zeros in; compare where our background rule keeps all voxels
    assert ok.sum() > 80
    median = nispace.parcellate(image, parc, strategy="median", background=None)
    assert median.shape == (1, 100)
    means = nispace.parcellate(image, parc, strategy="mean", background=None,
                               space="MNI152NLin6Asym")  # the map's space
    np.testing.assert_allclose(means.to_numpy()[0], expected, rtol=1e-5, atol=1e-6)


def test_parcellate_surface_maps(data_url):
    parc = fetch_parcellation("Schaefer100", space="fsaverage", verbose=False)
    data = parc.get_data("fsaverage")
    n_l = data.size // 2
    rng = np.random.default_rng(0)
    values = rng.normal(size=data.size)
    pair = tuple(nib.gifti.GiftiImage(darrays=[nib.gifti.GiftiDataArray(
        v.astype(np.float32))]) for v in (values[:n_l], values[n_l:]))
    table = nispace.parcellate([pair], parc, background=None)
    labels = parc.get_label_values("fsaverage")
    expected = [values[data == lab].astype(np.float32).mean() for lab in labels]
    np.testing.assert_allclose(table.to_numpy()[0], expected, rtol=1e-5)


def test_region_sizes_equal_nilearns_masker_report(data_url):
    parc = fetch_parcellation("Schaefer100", verbose=False)
    ours = parc.region_summary("MNI152NLin6Asym")
    masker = parc.to_masker("MNI152NLin6Asym")
    masker.fit()
    masker.generate_report()
    theirs = masker._report_content["summary"].reset_index(drop=True)
    assert list(ours["label value"]) == list(theirs["label value"])
    assert list(ours["region name"]) == list(theirs["region name"])
    np.testing.assert_array_equal(np.round(ours["size (in mm^3)"]).astype(int),
                                  theirs["size (in mm^3)"].astype(int))
    np.testing.assert_allclose(ours["relative size (in %)"].round(2),
                               theirs["relative size (in %)"])


def heron(a, b, c) -> float:
    la, lb, lc = (math.dist(p, q) for p, q in ((b, c), (a, c), (a, b)))
    s = (la + lb + lc) / 2
    return math.sqrt(max(s * (s - la) * (s - lb) * (s - lc), 0.0))


def test_surface_areas_from_mesh_triangles(data_url):
    parc = fetch_parcellation("Schaefer100", space="fsaverage", verbose=False)
    table = parc.region_summary("fsaverage")
    assert "size (in mm^2)" in table
    # independent sum: every triangle's area (Heron's formula, plain Python) split
    # equally among its three vertices, per parcel, on the same midthickness surface
    # (fsaverage: the mean of the white and pial surfaces)
    white = fetch_template("fsaverage", desc="white", verbose=False)
    pial = fetch_template("fsaverage", desc="pial", verbose=False)
    data = parc.get_data("fsaverage")
    n_l = data.size // 2
    expected: dict = {}
    for h in range(2):
        xyz = np.mean([nib.load(f[h]).agg_data("pointset") for f in (white, pial)],
                      axis=0).tolist()
        labels = (data[:n_l] if h == 0 else data[n_l:]).tolist()
        for tri in nib.load(white[h]).agg_data("triangle").tolist():
            area = heron(*(xyz[v] for v in tri))
            for v in tri:
                expected[labels[v]] = expected.get(labels[v], 0.0) + area / 3
    sizes = table.set_index("label value")["size (in mm^2)"]
    np.testing.assert_allclose(sizes.to_numpy(), [expected[v] for v in sizes.index],
                               rtol=1e-9)
    assert table["relative size (in %)"].sum() == pytest.approx(100)


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize("space", ["MNI152NLin6Asym", "fsLR"])
def test_generate_report_and_to_masker(data_url, tmp_path, space):
    parc = fetch_parcellation("Schaefer100", verbose=False)
    report = parcellation_report(parc, space=space, path=tmp_path / "report.html",
                                 strategy="mean")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html == report.html and report._repr_html_() == html
    parser = Collector()
    parser.feed(html)
    assert "img" in parser.tags and parser.tags.count("tr") >= 101  # header + 100 regions
    text = " ".join(parser.text)
    unit = "mm^3" if space.startswith("MNI") else "mm^2"
    assert f"size (in {unit})" in text and "hemi-L_div-Vis_lab-1" in text and "strategy" in text
    masker = parc.to_masker(space)
    kind = "NiftiLabelsMasker" if space.startswith("MNI") else "SurfaceLabelsMasker"
    assert type(masker).__name__ == kind
    assert list(masker.lut["name"][1:]) == parc.labels


def test_public_mesh_and_template_accessors(data_url):
    parc = fetch_parcellation("Schaefer100", verbose=False)
    assert parc.get_hemi_sizes("fsLR") == (32492, 32492)
    (left, right), (faces_l, _) = parc.get_mesh("fsLR", "sphere")
    assert left.shape == (32492, 3) and faces_l.shape[1] == 3
    with pytest.raises(ValueError, match="space: 'MNI152NLin6Asym' is a volume space"):
        parc.get_mesh("MNI152NLin6Asym")
    assert nib.load(parc.get_template("MNI152NLin6Asym", "T1w", "2mm")).shape[:3] == (91, 109, 91)


def test_parcellate_with_your_own_label_image_and_names():
    """Your own label volume and parcel names: the table is labelled with them."""
    labels = np.zeros((6, 6, 6), dtype=np.int16)
    labels[:3], labels[3:] = 1, 2
    parc_img = nib.Nifti1Image(labels, np.eye(4))
    data = np.arange(216, dtype=np.float32).reshape(6, 6, 6) + 1
    table = nispace.parcellate({"m": nib.Nifti1Image(data, np.eye(4))}, parc_img,
                               parcellation_labels=["front", "back"], background=None)
    assert list(table.columns) == ["front", "back"]
    np.testing.assert_allclose(table.to_numpy()[0], [data[:3].mean(), data[3:].mean()])


def test_images_that_do_not_overlap_the_parcellation_raise_a_data_error():
    from nispace.errors import DataError

    labels = np.ones((4, 4, 4), dtype=np.int16)
    parc_img = nib.Nifti1Image(labels, np.eye(4))
    far = np.eye(4)
    far[:3, 3] = 1000.0  # the grid lies 1 m away
    image = nib.Nifti1Image(np.arange(64, dtype=np.float32).reshape(4, 4, 4), far)
    with pytest.raises(DataError, match="do not overlap"):
        nispace.parcellate(image, parc_img, background=None, resampling_target="data")
