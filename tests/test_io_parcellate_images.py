"""parcellate_images and load_img on small synthetic volumes and surfaces.

The expected values are computed the long way in each test: nilearn's
``resample_to_img`` for the resampling, then a loop over parcels.
"""

from __future__ import annotations

import importlib
import logging

import nibabel as nib
import numpy as np
import pytest
from nilearn.image import resample_to_img

from nispace.io import load_img, parcellate_images
from nispace.io.parcellate import border_background
from nispace.parcellation import Parcellation

parcellate_module = importlib.import_module("nispace.io.parcellate")

VALUES = [3, 7, 11, 12, 40, 41]  # not consecutive, like AAL's
NAMES = ["L_a", "R_a", "L_b", "R_b", "L_c", "R_c"]
BORDER = -2.5  # constant outside-brain value, as in maps stored as integers with an offset
RESAMPLE = dict(force_resample=True, copy_header=True)


def label_image() -> nib.Nifti1Image:
    """20 x 24 x 20 labels at 4 mm (MNI-like origin), 6 box-shaped parcels."""
    data = np.zeros((20, 24, 20), dtype=np.int16)
    for i, v in enumerate(VALUES):
        x0 = 2 if i % 2 == 0 else 11
        y0 = 2 + 6 * (i // 2)
        data[x0:x0 + 7, y0:y0 + 5, 5:12] = v
    affine = np.diag([4.0, 4.0, 4.0, 1.0])
    affine[:3, 3] = [-40, -48, -40]
    return nib.Nifti1Image(data, affine)


@pytest.fixture
def parc() -> Parcellation:
    return Parcellation.from_image(label_image(), labels=NAMES, name="boxes")


def data_image(seed: int = 0, n_maps: int = 1, shape=(30, 36, 30)) -> nib.Nifti1Image:
    """Maps on a 3 mm grid with flipped x (like the PET maps): smooth signal inside an
    ellipsoid 'brain', a constant border value outside, a few zeros and NaNs inside."""
    rng = np.random.default_rng(seed)
    affine = np.diag([-3.0, 3.0, 3.0, 1.0])
    affine[:3, 3] = [45, -54, -45]
    ijk = np.indices(shape).reshape(3, -1).T
    xyz = nib.affines.apply_affine(affine, ijk).reshape(*shape, 3)
    brain = ((xyz / [38, 46, 30]) ** 2).sum(-1) < 1
    maps = []
    for m in range(n_maps):
        vol = 10 + xyz[..., 0] * 0.2 * (m + 1) + xyz[..., 1] * 0.1 + rng.normal(0, 1, shape)
        vol[~brain] = BORDER
        inside = np.flatnonzero(brain)
        vol.flat[rng.choice(inside, 40, replace=False)] = 0.0
        vol.flat[rng.choice(inside, 10, replace=False)] = np.nan
        maps.append(vol)
    data = maps[0] if n_maps == 1 else np.stack(maps, axis=-1)
    return nib.Nifti1Image(data.astype(np.float32), affine)


def loop_means(data: np.ndarray, labels: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Mean of the valid voxels of each parcel, one parcel at a time."""
    out = []
    for v in VALUES:
        sel = (labels == v) & valid
        out.append(data[sel].mean() if sel.any() else np.nan)
    return np.array(out)


def auto_valid(vol: np.ndarray) -> np.ndarray:
    return np.isfinite(vol) & (vol != 0) & (vol != BORDER)


# --------------------------------------------------------------------------------------
# volumes

def test_labels_resampled_to_the_data_grid_like_nilearn(parc):
    img = data_image()
    labels = np.asarray(resample_to_img(label_image(), img, interpolation="nearest",
                                        **RESAMPLE).dataobj)
    vol = img.get_fdata()
    expected = loop_means(vol, labels, auto_valid(vol))
    got = parcellate_images(img, parc, background="auto")
    assert got.shape == (1, 6)
    np.testing.assert_allclose(got[0], expected, rtol=1e-12)
    # background=None keeps the border value and the zeros (only NaN is dropped)
    np.testing.assert_allclose(parcellate_images(img, parc, background=None)[0],
                               loop_means(vol, labels, np.isfinite(vol)), rtol=1e-12)
    # the border value given by hand: zeros now count
    np.testing.assert_allclose(parcellate_images(img, parc, background=BORDER)[0],
                               loop_means(vol, labels, np.isfinite(vol) & (vol != BORDER)),
                               rtol=1e-12)
    np.testing.assert_allclose(parcellate_images(img, parc, background=[0, BORDER])[0],
                               expected, rtol=1e-12)


def test_images_resampled_to_the_parcellation_grid_like_nilearn(parc):
    img = data_image(seed=1)
    vol = img.get_fdata()
    valid = auto_valid(vol)
    filled = nib.Nifti1Image(np.where(valid, vol, 0), img.affine)
    resampled = resample_to_img(filled, label_image(), interpolation="linear",
                                **RESAMPLE).get_fdata()
    support = resample_to_img(nib.Nifti1Image(valid.astype(np.uint8), img.affine),
                              label_image(), interpolation="nearest", **RESAMPLE).get_fdata()
    labels = np.asarray(label_image().dataobj)
    expected = loop_means(resampled, labels, (support > 0) & (resampled != 0))
    got = parcellate_images(img, parc, resampling_target="parcellation")
    np.testing.assert_allclose(got[0], expected, rtol=1e-10)
    # the spline variant is nilearn's "continuous" interpolation
    resampled = resample_to_img(filled, label_image(), interpolation="continuous",
                                **RESAMPLE).get_fdata()
    expected = loop_means(resampled, labels, (support > 0) & (resampled != 0))
    got = parcellate_images(img, parc, resampling_target="parcellation",
                            interpolation="continuous")
    np.testing.assert_allclose(got[0], expected, rtol=1e-10)


def test_same_grid_needs_no_resampling(parc):
    labels = label_image()
    rng = np.random.default_rng(2)
    vol = rng.normal(5, 1, labels.shape)
    img = nib.Nifti1Image(vol, labels.affine)
    expected = loop_means(vol, np.asarray(labels.dataobj), np.ones(vol.shape, bool))
    for target in ("data", "parcellation", None):
        np.testing.assert_allclose(
            parcellate_images(img, parc, resampling_target=target, background=None)[0],
            expected, rtol=1e-12)


def test_4d_image_list_and_paths_give_the_same_maps_in_order(parc, tmp_path):
    img4d = data_image(seed=4, n_maps=3)
    vols = [nib.Nifti1Image(img4d.get_fdata()[..., i], img4d.affine) for i in range(3)]
    paths = []
    for i, v in enumerate(vols):
        paths.append(tmp_path / f"map{i}.nii.gz")
        nib.save(v, paths[-1])
    from_4d = parcellate_images(img4d, parc)
    assert from_4d.shape == (3, 6)
    np.testing.assert_allclose(parcellate_images(vols, parc), from_4d)
    np.testing.assert_allclose(parcellate_images([str(p) for p in paths], parc), from_4d)
    np.testing.assert_allclose(parcellate_images(vols[1], parc)[0], from_4d[1])
    # a 4D image inside a list: its volumes in place
    mixed = parcellate_images([vols[2], img4d, vols[0]], parc)
    np.testing.assert_allclose(mixed, from_4d[[2, 0, 1, 2, 0]])


def test_labels_are_resampled_once_per_distinct_grid(parc, monkeypatch):
    calls = []
    original = parcellate_module._resample

    def counting(img, target_affine, target_shape, interpolation):
        calls.append((tuple(target_shape), interpolation))
        return original(img, target_affine, target_shape, interpolation)

    monkeypatch.setattr(parcellate_module, "_resample", counting)
    a = [data_image(seed=s) for s in range(4)]  # one 3 mm grid
    b = [data_image(seed=s, shape=(32, 38, 32)) for s in range(2)]  # a larger grid
    together = parcellate_images([a[0], b[0], a[1], a[2], b[1], a[3]], parc)
    assert calls == [((30, 36, 30), "nearest"), ((32, 38, 32), "nearest")]
    np.testing.assert_allclose(together[[0, 2, 3, 5]], parcellate_images(a, parc))
    np.testing.assert_allclose(together[[1, 4]], parcellate_images(b, parc))


def test_int_maps_with_scale_factor_and_constant_border(parc, tmp_path):
    """Maps stored as int32 with scl_slope: the border is a constant like -0.003."""
    img = data_image(seed=5)
    vol = np.nan_to_num(img.get_fdata(), nan=0.0)
    vol[vol == BORDER] = -0.003
    raw = np.round(vol / 0.001).astype(np.int32)
    stored = nib.Nifti1Image(raw, img.affine)
    stored.header.set_slope_inter(0.001, 0.0)
    path = tmp_path / "int_map.nii.gz"
    nib.save(stored, path)
    loaded = nib.load(path).get_fdata()
    assert border_background(loaded) == pytest.approx(-0.003)
    labels = np.asarray(resample_to_img(label_image(), img, interpolation="nearest",
                                        **RESAMPLE).dataobj)
    valid = (loaded != 0) & (loaded != border_background(loaded))
    expected = loop_means(loaded, labels, valid)
    np.testing.assert_allclose(parcellate_images(path, parc)[0], expected, rtol=1e-12)
    # -0.003 typed by hand matches the stored value (-0.0030000000000000001 vs float32 slope)
    np.testing.assert_allclose(parcellate_images(path, parc, background=[-0.003, 0])[0],
                               expected, rtol=1e-12)


def test_border_background_needs_more_than_half_of_the_volume():
    vol = np.ones((10, 10, 10))
    vol[:6] = 0.0  # 60 % zeros, corners included
    assert border_background(vol) == 0.0
    vol[:6] = 1.0
    vol[[0, -1]] = 7.0  # corners 7 but only 20 % of the volume
    assert border_background(vol) is None


def test_nan_parcels_one_warning_and_min_valid(parc, caplog):
    img = data_image(seed=6)
    vol = img.get_fdata()
    labels = np.asarray(resample_to_img(label_image(), img, interpolation="nearest",
                                        **RESAMPLE).dataobj)
    vol[labels == 12] = BORDER  # parcel R_b: only background
    vol[labels == 40] = np.where(np.arange((labels == 40).sum()) < 5, 1.0, 0.0)  # 5 valid
    img = nib.Nifti1Image(vol, img.affine)
    with caplog.at_level(logging.WARNING, logger="nispace"):
        values, nan_parcels = parcellate_images(img, parc, min_valid=6,
                                                return_nan_parcels=True)
    assert nan_parcels == ["R_b", "L_c"]
    assert np.isnan(values[0, [3, 4]]).all() and np.isfinite(values[0, [0, 1, 2, 5]]).all()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "2 of 6 parcels are NaN" in warnings[0].getMessage()
    assert "min_valid=6" in warnings[0].getMessage() and "R_b, L_c" in warnings[0].getMessage()
    # 5 valid voxels are enough with the default min_valid=1
    assert np.isfinite(parcellate_images(img, parc)[0, 4])
    # a fraction: parcel L_c has far less than half of its voxels valid
    assert np.isnan(parcellate_images(img, parc, min_valid=0.5)[0, 4])


def test_parcels_lost_on_a_small_data_grid_are_named(parc, caplog):
    # a data grid that covers only the first two rows of boxes (y < 0 mm)
    small = nib.Nifti1Image(np.ones((20, 12, 20)), label_image().affine)
    with caplog.at_level(logging.WARNING, logger="nispace"):
        values = parcellate_images(small, parc, background=None)
    assert np.isfinite(values[0, :4]).all() and np.isnan(values[0, 4:]).all()
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "no voxel on the data grid after resampling the labels" in record.getMessage()
    assert "L_c, R_c" in record.getMessage()
    # resampled onto the parcellation, voxels outside the image are not counted as zeros
    values = parcellate_images(small, parc, background=None, resampling_target="parcellation")
    np.testing.assert_allclose(values[0, :4], 1.0)


@pytest.mark.parametrize("strategy", ["median", "max", "std"])
def test_other_strategies_on_images(parc, strategy):
    img = data_image(seed=7)
    vol = img.get_fdata()
    labels = np.asarray(resample_to_img(label_image(), img, interpolation="nearest",
                                        **RESAMPLE).dataobj)
    valid = auto_valid(vol)
    reduce = {"median": np.median, "max": np.max, "std": np.std}[strategy]
    expected = [reduce(vol[(labels == v) & valid]) for v in VALUES]
    np.testing.assert_allclose(parcellate_images(img, parc, strategy=strategy)[0], expected,
                               rtol=1e-12)


def test_float32_output(parc):
    out = parcellate_images(data_image(), parc, dtype=np.float32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, parcellate_images(data_image(), parc), rtol=1e-5)


# --------------------------------------------------------------------------------------
# surfaces (a small custom fsaverage 3k parcellation: 2562 vertices per hemisphere)

def gifti(*arrays, hemi=None, intent="NIFTI_INTENT_SHAPE"):
    meta = {"AnatomicalStructurePrimary": {"L": "CortexLeft", "R": "CortexRight"}[hemi]} \
        if hemi else None
    dtype = "NIFTI_TYPE_INT32" if intent == "NIFTI_INTENT_LABEL" else "NIFTI_TYPE_FLOAT32"
    kind = np.int32 if intent == "NIFTI_INTENT_LABEL" else np.float32
    return nib.GiftiImage(meta=nib.gifti.GiftiMetaData(meta) if meta else None, darrays=[
        nib.gifti.GiftiDataArray(np.asarray(a, dtype=kind), intent=intent, datatype=dtype)
        for a in arrays])


@pytest.fixture
def surf_parc():
    """5 parcels per hemisphere on 2562 vertices; vertices 0..199 are medial wall (0)."""
    rng = np.random.default_rng(8)
    hemis = []
    for offset in (0, 5):
        lab = rng.integers(1, 6, 2562) + offset
        lab[:200] = 0
        hemis.append(gifti(lab, intent="NIFTI_INTENT_LABEL"))
    return Parcellation.from_image(tuple(hemis), name="patches")


def test_surface_pairs(surf_parc, tmp_path):
    labels = surf_parc.get_data("fsaverage")
    rng = np.random.default_rng(9)
    maps = rng.normal(3, 1, size=(2, 2 * 2562))
    maps[0, 5] = 0.0  # a zero in the medial wall and one in a parcel
    maps[0, 300] = 0.0
    pair = (gifti(*maps[:, :2562], hemi="L"), gifti(*maps[:, 2562:], hemi="R"))
    got = parcellate_images(pair, surf_parc)
    assert got.shape == (2, 10)
    for m in range(2):
        valid = maps[m] != 0
        expected = [maps[m][(labels == v) & valid].mean() for v in range(1, 11)]
        np.testing.assert_allclose(got[m], expected, rtol=1e-6)  # float32 storage
    # files, including gzipped GIfTI
    files = (tmp_path / "map_hemi-L.shape.gii", tmp_path / "map_hemi-R.shape.gii.gz")
    nib.save(pair[0], files[0])
    files[1].write_bytes(__import__("gzip").compress(pair[1].to_bytes()))
    np.testing.assert_allclose(parcellate_images(files, surf_parc), got)
    np.testing.assert_allclose(parcellate_images([files, pair], surf_parc), np.vstack([got, got]))


def test_surface_errors(surf_parc):
    lh, rh = gifti(np.ones(2562)), gifti(np.ones(2562))
    with pytest.raises(ValueError, match=r"images: expected surface data with the vertex counts "
                                         r".*fsaverage: 2562 \+ 2562.*got 10242 \+ 10242"):
        parcellate_images((gifti(np.ones(10242)), gifti(np.ones(10242))), surf_parc)
    with pytest.raises(ValueError, match=r"images: expected the left hemisphere first; the "
                                         r"GIfTI tags say \(R, L\)"):
        parcellate_images((gifti(np.ones(2562), hemi="R"), gifti(np.ones(2562), hemi="L")),
                          surf_parc)
    with pytest.raises(ValueError, match=r"images: got a single GIfTI hemisphere"):
        parcellate_images(lh, surf_parc)
    with pytest.raises(ValueError, match=r"images: the left hemisphere holds 2 map\(s\), the "
                                         r"right 1"):
        parcellate_images((gifti(np.ones(2562), np.ones(2562)), rh), surf_parc)
    with pytest.raises(ValueError, match=r"parcellate_images does not project volumes to "
                                         r"surfaces: .* use a parcellation with an MNI space "
                                         r"such as 'Schaefer200'"):
        parcellate_images(data_image(), surf_parc)
    with pytest.raises(ValueError, match=r"images: got both volumes and \(L, R\) surface pairs"):
        parcellate_images([data_image(), (lh, rh)], surf_parc)


def test_swapped_hemispheres_detected_from_vertex_counts():
    rng = np.random.default_rng(10)
    lh = gifti(rng.integers(1, 4, 2562), intent="NIFTI_INTENT_LABEL")
    rh = gifti(rng.integers(4, 7, 2000), intent="NIFTI_INTENT_LABEL")  # an unequal right
    parc = Parcellation.from_image((lh, rh))
    ok = parcellate_images((gifti(np.ones(2562)), gifti(np.ones(2000))), parc)
    np.testing.assert_allclose(ok, 1.0)
    with pytest.raises(ValueError, match=r"images: the hemispheres look swapped: the pair has "
                                         r"2000 \(L\) and 2562 \(R\) vertices"):
        parcellate_images((gifti(np.ones(2000)), gifti(np.ones(2562))), parc)


def test_surface_data_onto_a_volume_only_parcellation(parc):
    pair = (gifti(np.ones(2562)), gifti(np.ones(2562)))
    with pytest.raises(ValueError, match=r"has only volumetric spaces .* projection from "
                                         r"surface to volume is not supported"):
        parcellate_images(pair, parc)


# --------------------------------------------------------------------------------------
# more bad input

def test_bad_arguments(parc, tmp_path):
    img = data_image()
    with pytest.raises(ValueError, match=r"resampling_target: None requires the images to be "
                                         r"on the grid of the parcellation .*shape \(20, 24, "
                                         r"20\), voxel size \(4.0, 4.0, 4.0\) mm.*\(30, 36, 30\)"):
        parcellate_images(img, parc, resampling_target=None)
    with pytest.raises(ValueError, match=r"resampling_target: expected one of \['data', "
                                         r"'parcellation', None\]; got 'labels'"):
        parcellate_images(img, parc, resampling_target="labels")
    with pytest.raises(ValueError, match=r"strategy: .*got 'average'"):
        parcellate_images(img, parc, strategy="average")
    with pytest.raises(ValueError, match=r"background: expected 'auto'.*got 'zero'"):
        parcellate_images(img, parc, background="zero")
    with pytest.raises(ValueError, match=r"background: expected .*got True"):
        parcellate_images(img, parc, background=True)
    with pytest.raises(ValueError, match=r"space: expected one of \['MNI152NLin6Asym'\]; got "
                                         r"'MNI152NLin6ASym'. Did you mean 'MNI152NLin6Asym'"):
        parcellate_images(img, parc, space="MNI152NLin6ASym")
    five_d = nib.Nifti1Image(np.zeros((4, 4, 4, 2, 2), np.float32), np.eye(4))
    with pytest.raises(ValueError, match=r"images\[1\]: expected a 3D or 4D image; got a 5D "
                                         r"image of shape \(4, 4, 4, 2, 2\)"):
        parcellate_images([img, five_d], parc)
    with pytest.raises(FileNotFoundError, match=r"images\[0\]: file not found: .*nope.nii.gz"):
        parcellate_images([tmp_path / "nope.nii.gz"], parc)
    with pytest.raises(TypeError, match=r"images: expected a NIfTI path or image, an \(L, R\) "
                                        r"pair of GIfTI files/images, or a list of them; got "
                                        r"ndarray"):
        parcellate_images(np.zeros((4, 4, 4)), parc)
    with pytest.raises(TypeError, match=r"parcellation: expected a nispace Parcellation"):
        parcellate_images(img, "Schaefer200")


# --------------------------------------------------------------------------------------
# load_img

def test_load_img(tmp_path):
    img = data_image()
    nib.save(img, tmp_path / "a.nii")
    nib.save(img, tmp_path / "b.nii.gz")
    for path in (tmp_path / "a.nii", str(tmp_path / "b.nii.gz")):
        loaded = load_img(path)
        assert isinstance(loaded, nib.Nifti1Image)
        np.testing.assert_array_equal(loaded.get_fdata(), img.get_fdata())
    assert load_img(img) is img  # loaded images are passed through
    lh, rh = gifti(np.zeros(5), hemi="L"), gifti(np.ones(5), hemi="R")
    nib.save(lh, tmp_path / "lh.func.gii")
    nib.save(rh, tmp_path / "rh.func.gii")
    pair = load_img([tmp_path / "lh.func.gii", tmp_path / "rh.func.gii"])
    assert isinstance(pair, tuple) and len(pair) == 2
    np.testing.assert_array_equal(pair[1].darrays[0].data, 1)
    assert load_img((lh, rh)) == (lh, rh)


@pytest.mark.parametrize("make, error, match", [
    (lambda p: p / "missing.nii.gz", FileNotFoundError, r"img: file not found: .*missing"),
    (lambda p: p / "table.csv", ValueError, r"img: expected a file ending in .nii, .nii.gz, "
                                            r".gii or .gii.gz; got .*table.csv"),
    (lambda p: 42, TypeError, r"img: expected a path, a nibabel image or an \(L, R\) pair"),
    (lambda p: gifti(np.ones(3)), ValueError, r"img: got a single GiftiImage"),
    (lambda p: (data_image(), data_image()), ValueError,
     r"img: expected an \(L, R\) pair of GIfTI files or images; got a tuple of 2 item\(s\): "
     r"\['Nifti1Image', 'Nifti1Image'\]"),
    (lambda p: (gifti(np.ones(3), hemi="R"), gifti(np.ones(3), hemi="L")), ValueError,
     r"img: expected the left hemisphere first"),
])
def test_load_img_errors(tmp_path, make, error, match):
    (tmp_path / "table.csv").write_text("a,b\n1,2\n")
    with pytest.raises(error, match=match):
        load_img(make(tmp_path))


def test_broken_file(tmp_path):
    path = tmp_path / "broken.nii.gz"
    path.write_bytes(b"not a nifti")
    with pytest.raises(ValueError, match=r"img: could not read .*broken.nii.gz"):
        load_img(path)
