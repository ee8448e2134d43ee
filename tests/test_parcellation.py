"""Custom parcellations: your own NIfTI volume or GIfTI surfaces as a Parcellation."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

from nispace.datasets import fetch_parcellation, fetch_template, template_source
from nispace.parcellation import Parcellation


def small_label_volume(rng) -> nib.Nifti1Image:
    """A 20 x 24 x 20 volume (4 mm voxels, MNI-like origin) with 6 box-shaped parcels."""
    data = np.zeros((20, 24, 20), dtype=np.int16)
    values = [3, 7, 11, 12, 40, 41]  # not consecutive, like AAL's
    for i, v in enumerate(values):
        x0 = 2 if i % 2 == 0 else 11  # even: left hemisphere, odd: right
        y0 = 2 + 6 * (i // 2)
        data[x0:x0 + 7, y0:y0 + 5, 5:12] = v
    affine = np.diag([4.0, 4.0, 4.0, 1.0])
    affine[:3, 3] = [-40, -48, -40]
    return nib.Nifti1Image(data, affine)


def test_custom_volume_with_labels(tmp_path):
    img = small_label_volume(np.random.default_rng(0))
    path = tmp_path / "my_atlas.nii.gz"
    nib.save(img, path)
    before = path.read_bytes()
    names = ["L_a", "R_a", "L_b", "R_b", "L_c", "R_c"]

    parc = fetch_parcellation(path, labels=names)
    assert parc.spaces == ["MNI152NLin6Asym"] and parc.library_names == ()
    assert parc.labels == names and parc.n_parcels == 6
    np.testing.assert_array_equal(parc.get_label_values(), [3, 7, 11, 12, 40, 41])

    # centroids: scipy's center of mass, mapped to mm with nibabel
    data = np.asarray(img.dataobj)
    com = ndimage.center_of_mass(np.ones_like(data), data, [3, 7, 11, 12, 40, 41])
    expected = nib.affines.apply_affine(img.affine, np.array(com))
    np.testing.assert_allclose(parc.get_centroids(), expected)
    np.testing.assert_allclose(parc.get_dist_mat()[0, 5],
                               np.linalg.norm(expected[0] - expected[5]))
    # no hemi- tags in the names: hemispheres from the sign of the centroid's x
    np.testing.assert_array_equal(parc.get_hemi_indices("L"), [0, 2, 4])
    with pytest.raises(ValueError, match="level"):
        parc.cortex_indices
    assert path.read_bytes() == before  # the user's file is untouched


def test_label_count_must_match_the_image():
    with pytest.raises(ValueError, match="labels: 3 names given but the MNI152NLin6Asym image "
                                         "has 6 parcels"):
        Parcellation.from_image(small_label_volume(None), labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="img: expected one volume or an \\(L, R\\) pair"):
        Parcellation.from_image([small_label_volume(None)] * 3)


def test_custom_surface_parcellation(data_url):
    # random parcels on the real fsaverage5 sphere, numbered 1..5 in each hemisphere
    lh_sphere, rh_sphere = fetch_template("fsaverage", desc="sphere")
    rng = np.random.default_rng(1)
    pairs = []
    for sphere in (lh_sphere, rh_sphere):
        xyz = nib.load(sphere).agg_data("pointset")
        seeds = xyz[rng.choice(len(xyz), 5, replace=False)]
        lab = np.argmin(((xyz[:, None] - seeds[None]) ** 2).sum(-1), axis=1) + 1
        pairs.append(nib.GiftiImage(darrays=[nib.gifti.GiftiDataArray(
            lab.astype(np.int32), intent="NIFTI_INTENT_LABEL", datatype="NIFTI_TYPE_INT32")]))
    with pytest.raises(ValueError, match=r"templates: Parcellation None has no source of "
                                         r"template meshes.*fetch_parcellation"):
        Parcellation.from_image(tuple(pairs)).get_centroids()  # no mesh source given
    parc = Parcellation.from_image(tuple(pairs), templates=template_source())
    assert parc.spaces == ["fsaverage"] and parc.n_parcels == 10
    np.testing.assert_array_equal(parc.get_label_values(), np.arange(1, 11))  # R renumbered
    np.testing.assert_array_equal(parc.get_hemi_indices("R"), np.arange(5, 10))
    centroids = parc.get_centroids()
    np.testing.assert_allclose(np.linalg.norm(centroids, axis=1), 100, rtol=1e-3)  # on sphere
    dist = parc.get_dist_mat()
    assert np.isfinite(dist[:5, :5]).all() and np.isinf(dist[:5, 5:]).all()
    assert parc.level == "cortex" and len(parc.cortex_indices) == 10


def test_library_labels_agree_across_spaces(data_url):
    parc = fetch_parcellation("DesikanKilliany")
    assert parc.spaces == ["MNI152NLin2009cAsym", "fsaverage", "fsLR"]
    for space in parc.spaces:
        assert parc.get_labels(space) == parc.labels
        values = np.unique(parc.get_data(space))
        assert set(values[values > 0]) == set(range(1, 69))
    with pytest.raises(ValueError, match="labels: library parcellations carry"):
        fetch_parcellation("Schaefer200", labels=["a"])


def test_data_url_is_still_accepted_and_not_kept():
    img = nib.Nifti1Image(np.arange(8, dtype=np.int16).reshape(2, 2, 2) % 3, np.eye(4))
    parc = Parcellation.from_image(img, data_url="http://127.0.0.1:1/unused")
    assert parc.n_parcels == 2
    assert not hasattr(parc, "_data_url")
