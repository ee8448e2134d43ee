"""parcellate_images and read_input on the real data mirror (served over 127.0.0.1).

Independent references: nilearn's ``NiftiLabelsMasker`` (volumes, labels resampled
to the data) and the mirror's own pre-parcellated PET tables (images resampled to
the parcellation); loops over parcels for surfaces.
"""

from __future__ import annotations

import warnings

import nibabel as nib
import numpy as np
import pytest

from nispace.datasets import fetch_parcellation, fetch_reference
from nispace.io import parcellate_images, read_input

SPACE = "MNI152NLin6Asym"
#: float32 maps with 0 outside the brain and int32 maps with scl_slope and a constant
#: negative border (-0.003, -20.7)
MAPS = ["5HT1a_tracer-cumi101", "5HT1b_tracer-p943", "mGluR5_tracer-abp688_n-28",
        "D23_tracer-raclopride"]


@pytest.fixture
def pet_paths(data_url):
    paths = fetch_reference("pet", space=SPACE, print_references=False, verbose=False)
    chosen = [next(p for p in paths if m in p.name) for m in MAPS]
    assert len(set(chosen)) == len(MAPS)
    return chosen


def test_agrees_with_nilearn_labels_masker(pet_paths):
    """Same settings as nilearn's defaults: labels resampled to the 3 mm data grid with
    nearest neighbour, mean over all voxels of a parcel (nilearn excludes no background
    value and would count NaN as 0; these maps have no NaN)."""
    from nilearn.image import concat_imgs
    from nilearn.maskers import NiftiLabelsMasker

    parc = fetch_parcellation("Schaefer200", verbose=False)
    labels_img = parc.get_img(SPACE)
    ours = parcellate_images(pet_paths, parc, space=SPACE, background=None, verbose=False)
    assert ours.shape == (len(MAPS), 200) and np.isfinite(ours).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nilearn's notes about resampling at transform time
        masker = NiftiLabelsMasker(labels_img)
        per_map = np.array([np.ravel(masker.fit_transform(p)) for p in pet_paths])
        ids = [masker.region_ids_[i] for i in range(200)]
        all_4d = NiftiLabelsMasker(labels_img).fit_transform(
            concat_imgs(pet_paths, dtype=np.float64))
    np.testing.assert_array_equal(ids, np.arange(1, 201))
    assert np.max(np.abs(ours - per_map)) <= 1e-5
    assert np.max(np.abs(ours - all_4d)) <= 1e-5
    # the 4D image gives the same as the files
    four_d = parcellate_images(concat_imgs(pet_paths, dtype=np.float64), parc, space=SPACE,
                               background=None, verbose=False)
    np.testing.assert_allclose(four_d, ours, rtol=1e-12)
    # with background="auto", the constant border of the int32 maps (-0.003, -20.7) no
    # longer pulls edge parcels down: every changed parcel goes up
    auto = parcellate_images(pet_paths, parc, space=SPACE, verbose=False)
    changed = ~np.isclose(auto, ours)
    assert changed[[0, 2]].any() and (auto[changed] > ours[changed]).all()


def test_reproduces_the_mirror_pet_tables(pet_paths):
    """The mirror's tables: background (border value, zeros) set to 0, map resampled to
    the 1 mm parcellation with nilearn's spline ("continuous"), support mask with nearest,
    mean of the finite non-zero voxels inside the support."""
    parc = fetch_parcellation("Schaefer200", verbose=False)
    table = fetch_reference("pet", parcellation="Schaefer200", standardize_parcellated=False,
                            print_references=False, verbose=False)
    paths = pet_paths[:2]  # one int32 map with a -0.003 border, one float32 map
    ours = parcellate_images(paths, parc, space=SPACE, resampling_target="parcellation",
                             interpolation="continuous", verbose=False)
    expected = table.loc[[p.parent.name for p in paths]].to_numpy()
    np.testing.assert_allclose(ours, expected, rtol=2e-5)


@pytest.mark.parametrize("space, n_vertices", [("fsaverage", 10242), ("fsLR", 32492)])
def test_surfaces_on_library_parcellations(data_url, space, n_vertices):
    parc = fetch_parcellation("Schaefer200", verbose=False)
    labels = parc.get_data(space)
    assert labels.size == 2 * n_vertices
    rng = np.random.default_rng(0)
    maps = labels * 0.5 + rng.normal(0, 1, size=(3, labels.size))
    maps[0, rng.choice(labels.size, 500, replace=False)] = np.nan
    pair = tuple(nib.GiftiImage(darrays=[
        nib.gifti.GiftiDataArray(m[h * n_vertices:(h + 1) * n_vertices].astype(np.float32),
                                 intent="NIFTI_INTENT_SHAPE", datatype="NIFTI_TYPE_FLOAT32")
        for m in maps]) for h in range(2))
    got = parcellate_images(pair, parc, verbose=False)  # the space is found from the counts
    stored = maps.astype(np.float32).astype(np.float64)
    expected = np.array([[np.nanmean(m[labels == v]) for v in range(1, 201)] for m in stored])
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    np.testing.assert_allclose(parcellate_images(pair, parc, space=space, strategy="median",
                                                 verbose=False)[1],
                               [np.median(stored[1][labels == v]) for v in range(1, 201)])
    other = "fsLR" if space == "fsaverage" else "fsaverage"
    with pytest.raises(ValueError, match=rf"images: expected surface data with the vertex "
                                         rf"counts of the parcellation's surface space\(s\) "
                                         rf"\({other}: .*got {n_vertices} \+ {n_vertices}"):
        parcellate_images(pair, parc, space=other, verbose=False)
    with pytest.raises(ValueError, match=r"images: expected surface data with the vertex "
                                         r"counts .*got 5000 \+ 5000"):
        parcellate_images(tuple(nib.GiftiImage(darrays=[nib.gifti.GiftiDataArray(
            np.ones(5000, np.float32))]) for _ in range(2)), parc, verbose=False)


def test_parcellate_images_does_not_project_volumes_to_surfaces(pet_paths):
    glasser = fetch_parcellation("Glasser", verbose=False)
    assert all(glasser.is_surface(s) for s in glasser.spaces)
    with pytest.raises(ValueError, match=r"images: the images are volumes but parcellation "
                                         r"'Glasser' has only surface spaces .*parcellate_images "
                                         r"does not project volumes to surfaces: use "
                                         r"nispace.io.read_input or NiSpace"):
        parcellate_images(pet_paths[0], glasser, verbose=False)
    schaefer = fetch_parcellation("Schaefer200", verbose=False)
    with pytest.raises(ValueError, match=r"space: 'fsLR' is a surface space but the images "
                                         r"are volumes; parcellate_images does not project"):
        parcellate_images(pet_paths[0], schaefer, space="fsLR", verbose=False)


def test_read_input_on_real_maps_and_tables(pet_paths):
    parc = fetch_parcellation("Schaefer200TianS1", verbose=False)
    df = read_input(pet_paths, parc, space=SPACE, verbose=False)
    assert list(df.index) == [p.name.replace(".nii.gz", "") for p in pet_paths]
    assert list(df.columns) == parc.labels and df.shape == (len(MAPS), 216)
    table = fetch_reference("pet", parcellation="Schaefer200TianS1",
                            collection="UniqueTracers", print_references=False, verbose=False)
    out = read_input(table, parc, verbose=False)
    assert out.index.equals(table.index) and list(out.columns) == parc.labels
    np.testing.assert_array_equal(out.to_numpy(), table.to_numpy())
