"""read_input: every supported input becomes a maps x parcels DataFrame."""

from __future__ import annotations

import copy

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from nispace.io import parcellate_images, read_input
from nispace.parcellation import Parcellation

NAMES = ["L_a", "R_a", "L_b", "R_b"]


def label_image() -> nib.Nifti1Image:
    """12 x 12 x 8 labels at 4 mm with 4 box-shaped parcels (values 1, 2, 5, 6)."""
    data = np.zeros((12, 12, 8), dtype=np.int16)
    for i, v in enumerate([1, 2, 5, 6]):
        x0, y0 = (1 if i % 2 == 0 else 7), (1 if i < 2 else 7)
        data[x0:x0 + 4, y0:y0 + 4, 2:6] = v
    affine = np.diag([4.0, 4.0, 4.0, 1.0])
    affine[:3, 3] = [-24, -24, -16]
    return nib.Nifti1Image(data, affine)


@pytest.fixture
def parc() -> Parcellation:
    return Parcellation.from_image(label_image(), labels=NAMES, name="boxes")


def volume(value_per_parcel, n=1) -> nib.Nifti1Image:
    """A map on the label grid with a known constant value in each parcel (map k: +k)."""
    labels = np.asarray(label_image().dataobj)
    maps = []
    for k in range(n):
        vol = np.zeros(labels.shape)
        for v, value in zip([1, 2, 5, 6], value_per_parcel):
            vol[labels == v] = value + k
        maps.append(vol)
    data = maps[0] if n == 1 else np.stack(maps, axis=-1)
    return nib.Nifti1Image(data, label_image().affine)


def surface_parcellation():
    rng = np.random.default_rng(0)
    hemis = [nib.GiftiImage(darrays=[nib.gifti.GiftiDataArray(
        (rng.integers(1, 3, 2562) + off).astype(np.int32), intent="NIFTI_INTENT_LABEL",
        datatype="NIFTI_TYPE_INT32")]) for off in (0, 2)]
    return Parcellation.from_image(tuple(hemis), labels=NAMES, name="surf")


def shape_gii(values) -> nib.GiftiImage:
    return nib.GiftiImage(darrays=[nib.gifti.GiftiDataArray(
        np.asarray(values, np.float32), intent="NIFTI_INTENT_SHAPE",
        datatype="NIFTI_TYPE_FLOAT32")])


# --------------------------------------------------------------------------------------
# images

def test_images_3d_4d_and_paths(parc, tmp_path):
    one = read_input(volume([1, 2, 3, 4]), parc)
    assert list(one.index) == ["x0"] and list(one.columns) == NAMES
    np.testing.assert_array_equal(one.to_numpy(), [[1, 2, 3, 4]])

    four_d = read_input(volume([1, 2, 3, 4], n=3), parc, name="y")
    assert list(four_d.index) == ["y0", "y1", "y2"]
    np.testing.assert_array_equal(four_d["R_b"], [4, 5, 6])

    nib.save(volume([5, 6, 7, 8]), tmp_path / "pain.nii.gz")
    nib.save(volume([0.5, 1, 1, 1], n=2), tmp_path / "series.nii")
    df = read_input([tmp_path / "pain.nii.gz", str(tmp_path / "series.nii")], parc)
    assert list(df.index) == ["pain", "series_0", "series_1"]
    np.testing.assert_array_equal(df.loc["series_1"], [1.5, 2, 2, 2])
    # a single path, and labels= overriding the file name
    assert list(read_input(tmp_path / "pain.nii.gz", parc, labels="Pain").index) == ["Pain"]


def test_dict_of_images_and_of_parcellated_maps(parc):
    images = {"Pain": volume([1, 2, 3, 4]), "Reward": volume([4, 3, 2, 1])}
    df = read_input(images, parc, name="y")
    assert list(df.index) == ["Pain", "Reward"]
    np.testing.assert_array_equal(df.to_numpy(), [[1, 2, 3, 4], [4, 3, 2, 1]])
    mixed = read_input({"a": np.arange(4.0), "b": pd.Series([9.0, 8, 7, 6], index=NAMES),
                        "c": volume([1, 1, 1, 1])}, parc)
    assert list(mixed.index) == ["a", "b", "c"]
    np.testing.assert_array_equal(mixed.loc["b"], [9, 8, 7, 6])


def test_gifti_pairs(tmp_path):
    parc = surface_parcellation()
    labels = parc.get_data()
    maps = np.where(labels > 0, labels * 10.0, 0.0)
    pair = (shape_gii(maps[:2562]), shape_gii(maps[2562:]))
    files = (tmp_path / "thick_hemi-L.shape.gii", tmp_path / "thick_hemi-R.shape.gii")
    for g, f in zip(pair, files):
        nib.save(g, f)
    df = read_input([pair, files], parc)
    assert list(df.index) == ["x0", "thick"]
    np.testing.assert_allclose(df.to_numpy(), [[10, 20, 30, 40]] * 2)


def test_image_options_are_passed_on(parc):
    img = volume([1, 2, 3, 4])
    df = read_input(img, parc, strategy="max", background=None, min_valid=1)
    np.testing.assert_array_equal(df.to_numpy(), parcellate_images(img, parc, strategy="max",
                                                                   background=None))


# --------------------------------------------------------------------------------------
# tables

def test_dataframes(parc):
    df = pd.DataFrame([[1.0, 2, 3, 4], [5, 6, 7, 8]], columns=NAMES,
                      index=pd.Index(["m1", "m2"], name="map"))
    out = read_input(df, parc)
    pd.testing.assert_frame_equal(out, df.astype(float))
    assert out is not df
    # label columns in another order are put in the parcellation's order
    shuffled = df[NAMES[::-1]]
    pd.testing.assert_frame_equal(read_input(shuffled, parc), df.astype(float))
    # positional (integer) columns take the parcellation's labels; a RangeIndex becomes x0..
    plain = pd.DataFrame(df.to_numpy())
    out = read_input(plain, parc, name="z")
    assert list(out.index) == ["z0", "z1"] and list(out.columns) == NAMES
    # a MultiIndex (set, map) as from fetch_reference(..., collection=...) is kept
    multi = df.set_axis(pd.MultiIndex.from_tuples([("S", "m1"), ("S", "m2")],
                                                  names=["set", "map"]))
    assert read_input(multi, parc).index.equals(multi.index)
    # without a parcellation the columns are kept as they are
    assert list(read_input(df.rename(columns=str.upper), None).columns) == \
        [n.upper() for n in NAMES]


def test_series_arrays_and_lists(parc):
    s = pd.Series([1.0, 2, 3, 4], index=NAMES, name="thickness")
    out = read_input(s, parc)
    assert list(out.index) == ["thickness"]
    np.testing.assert_array_equal(out.to_numpy(), [[1, 2, 3, 4]])
    arr = np.arange(8.0).reshape(2, 4)
    out = read_input(arr, parc, labels=["a", "b"])
    assert list(out.index) == ["a", "b"]
    np.testing.assert_array_equal(out.to_numpy(), arr)
    assert list(read_input(np.arange(4), parc).index) == ["x0"]
    assert read_input([1.0, 2.0, 3.0, 4.0], parc).shape == (1, 4)
    both = read_input([arr, s], parc)
    assert list(both.index) == ["x0", "x1", "thickness"]


def test_csv_and_tsv_tables(parc, tmp_path):
    df = pd.DataFrame([[1.0, 2, 3, 4], [5, 6, 7, 8]], columns=NAMES,
                      index=pd.Index(["m1", "m2"], name="map"))
    df.to_csv(tmp_path / "maps.csv")
    df.to_csv(tmp_path / "maps.tsv.gz", sep="\t")
    for name in ("maps.csv", "maps.tsv.gz"):
        pd.testing.assert_frame_equal(read_input(tmp_path / name, parc), df.astype(float))
    # no index column: numbers only
    df.to_csv(tmp_path / "plain.csv", index=False)
    out = read_input(str(tmp_path / "plain.csv"), parc)
    assert list(out.index) == ["x0", "x1"]


def test_user_objects_are_not_modified(parc):
    df = pd.DataFrame([[1.0, 2, 3, 4]], columns=NAMES[::-1], index=["m"])
    arr = np.array([[1.0, 2, 3, 4]])
    img = volume([1, 2, 3, 4])
    data = {"a": arr[0], "b": img}
    before = (df.copy(), arr.copy(), img.get_fdata().copy(), copy.copy(data))
    out = read_input(df, parc)
    out.iloc[0, 0] = -1
    out2 = read_input(arr, parc)
    out2.iloc[0, 0] = -1
    read_input(data, parc)
    pd.testing.assert_frame_equal(df, before[0])
    np.testing.assert_array_equal(arr, before[1])
    np.testing.assert_array_equal(img.get_fdata(), before[2])
    assert data.keys() == before[3].keys() and data["b"] is before[3]["b"]


# --------------------------------------------------------------------------------------
# bad input: every error names the argument, what was expected and what came

@pytest.mark.parametrize("data, kwargs, error, match", [
    (np.ones((2, 3)), {}, ValueError,
     r"y: expected 4 parcels \(columns\) to match parcellation 'boxes'; got an array of "
     r"shape \(2, 3\)"),
    (np.ones((4, 2)), {}, ValueError, r"got an array of shape \(4, 2\) \(transposed\? maps "
                                      r"are rows\)"),
    (pd.DataFrame(np.ones((1, 4)), columns=["L_a", "R_a", "L_b", "R_x"]), {}, ValueError,
     r"y: the columns do not match the parcel labels of parcellation 'boxes' \(4 parcels\); "
     r"got 4 columns, 1 not in the parcellation \(e.g. \['R_x'\]\) and 1 parcel\(s\) missing "
     r"\(e.g. \['R_b'\]\)"),
    (pd.DataFrame(np.ones((1, 5))), {}, ValueError,
     r"y: expected 4 parcels \(columns\) to match parcellation 'boxes'; got 5"),
    (np.array([[1.0, 2, 3, 4], [np.nan] * 4]), {"labels": ["ok", "empty"]}, ValueError,
     r"y: 1 map\(s\) contain only NaN values \(e.g. \['empty'\]\)"),
    (pd.DataFrame(np.ones((2, 4)), index=["a", "a"]), {}, ValueError,
     r"y: map labels must be unique; duplicated: \['a'\]"),
    (np.ones((2, 4)), {"labels": ["a", "b", "c"]}, ValueError,
     r"labels: expected 2 label\(s\), one per map of 'y'; got 3"),
    ({"pain": volume([1, 2, 3, 4], n=2)}, {}, ValueError,
     r"y\['pain'\]: expected one map per dict key; the image holds 2 maps"),
    ({"pain": np.ones((2, 4))}, {}, ValueError,
     r"y\['pain'\]: expected one map per dict key; got 2 maps"),
    ("pet", {}, ValueError, r"y: 'pet' is neither an image \(.nii, .nii.gz, .gii, .gii.gz\) "
                            r"nor a table \(.csv, .tsv\) path"),
    (42, {}, TypeError, r"y: expected images .* got int"),
    (np.ones((2, 2, 4)), {}, ValueError, r"y: expected a 1D \(one map\) or 2D .*got a 3D array"),
    (pd.DataFrame([["a", "b", "c", "d"]], columns=NAMES), {}, TypeError,
     r"y: expected numeric values"),
    ([], {}, ValueError, r"y: got an empty list"),
    ("missing.csv", {}, FileNotFoundError, r"y: file not found: .*missing.csv"),
    ([volume([1, 2, 3, 4]), "missing.nii.gz"], {}, FileNotFoundError,
     r"y\[1\]: file not found: .*missing.nii.gz"),
    (volume([1, 2, 3, 4]), {"strategy": "mode"}, ValueError, r"strategy: expected one of"),
])
def test_bad_inputs(parc, data, kwargs, error, match):
    with pytest.raises(error, match=match):
        read_input(data, parc, name="y", **kwargs)


def test_images_need_a_parcellation():
    with pytest.raises(ValueError, match=r"parcellation: needed to parcellate the images in "
                                         r"'x'"):
        read_input(volume([1, 2, 3, 4]), None)


def test_surface_pair_with_the_wrong_vertex_count():
    pair = (shape_gii(np.ones(100)), shape_gii(np.ones(100)))
    with pytest.raises(ValueError, match=r"images: expected surface data with the vertex "
                                         r"counts .* got 100 \+ 100"):
        read_input(pair, surface_parcellation())


def test_volume_onto_a_surface_only_parcellation_of_an_unknown_density():
    with pytest.raises(ValueError, match=r"parcellation: space 'fsaverage' of 'surf' has 2562 "
                                         r"vertices per hemisphere; volumes in 'x' can be "
                                         r"projected to"):
        read_input(volume([1, 2, 3, 4]), surface_parcellation())
