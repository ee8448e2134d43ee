"""Space transforms: registration fusion MNI152 -> fsaverage/fsLR and fsaverage <-> fsLR.

References: the ``regfusion`` package's own projection (Wu et al. 2018), round trips of
smooth maps, and parcellating a PET map in volume vs. projected onto the surface.
"""

import importlib.util
import logging
import sys

import nibabel as nib
import numpy as np
import pytest

from nispace.datasets import fetch_parcellation, files_used
from nispace.errors import InputError
from nispace.io import read_input
from nispace.transforms import (fsaverage_to_fsaverage, fsaverage_to_fslr, fslr_to_fsaverage, mni152_to_fsaverage,
                                resample_surface)
from nispace.transforms.surface import _mesh

if importlib.util.find_spec("regfusion") is None:  # pragma: no cover
    pytest.skip("needs the transforms extra: pip install 'nispace[transforms]'",
                allow_module_level=True)

#: MNI152 2 mm grid (FSL)
MNI_AFFINE = np.array([[-2.0, 0, 0, 90], [0, 2, 0, -126], [0, 0, 2, -72], [0, 0, 0, 1]])


def smooth_volume() -> nib.Nifti1Image:
    i, j, k = np.meshgrid(*(np.arange(n) for n in (91, 109, 91)), indexing="ij")
    data = np.sin(i / 9.0) + np.cos(j / 13.0) + k / 50.0
    return nib.Nifti1Image(data.astype(np.float32), MNI_AFFINE)


def smooth_surface(space, density):
    coords = [_mesh(space, density, h)[0] for h in "LR"]
    return [np.sin(c[:, 0] / 30) + np.cos(c[:, 1] / 40) + c[:, 2] / 100 for c in coords]


def _regfusion_module(monkeypatch):
    """regfusion 0.1.0 imports ``nilearn._utils.check_niimg``, gone from nilearn >= 0.12;
    give it nilearn's public loader so its own code runs unchanged."""
    import nilearn._utils
    import nilearn.image

    monkeypatch.setattr(nilearn._utils, "check_niimg", nilearn.image.load_img, raising=False)
    monkeypatch.delitem(sys.modules, "regfusion", raising=False)
    monkeypatch.delitem(sys.modules, "regfusion.main", raising=False)
    import regfusion

    return regfusion


def test_mni152_to_fsaverage_equals_regfusion(tmp_path, monkeypatch):
    regfusion = _regfusion_module(monkeypatch)
    img = smooth_volume()
    path = tmp_path / "smooth.nii.gz"
    nib.save(img, path)
    ref_l, ref_r = regfusion.vol_to_fsaverage(str(path), str(tmp_path / "rf"),
                                              interp="linear", out_type="func.gii")
    lh, rh = mni152_to_fsaverage(img, as_arrays=True)
    for ours, ref in ((lh, ref_l), (rh, ref_r)):
        expected = nib.load(ref).agg_data()  # regfusion writes float32
        assert ours.shape == (163842, 1)
        np.testing.assert_allclose(ours[:, 0].astype(np.float32), expected, atol=1e-6)


def test_fsaverage5_fslr_round_trip_keeps_a_smooth_map(data_url):
    x = smooth_surface("fsaverage", "10k")
    fslr = fsaverage_to_fslr(x, source_density="10k", as_arrays=True)
    assert [a.shape for a in fslr] == [(32492,), (32492,)]
    back = fslr_to_fsaverage(fslr, target_density="10k", as_arrays=True)
    for a, b in zip(x, back):
        assert np.corrcoef(a, b)[0, 1] >= 0.99
    used = files_used()
    assert any("fs_LR-deformed_to-fsaverage.L" in k for k in used)


def test_label_transforms_keep_every_parcel(data_url):
    parc = fetch_parcellation("Schaefer200", verbose=False)
    lh, rh = (np.asarray(g.darrays[0].data) for g in parc.get_img("fsLR"))
    for density in ("10k", "164k"):
        out = fslr_to_fsaverage((lh, rh), target_density=density, method="nearest",
                                as_arrays=True)
        for before, after in zip((lh, rh), out):
            assert set(np.unique(after)) == set(np.unique(before))
            assert after.dtype.kind in "iu"


def test_pet_projected_to_schaefer_fslr_matches_volume(data_url, caplog):
    parc = fetch_parcellation("Schaefer200", verbose=False)
    pet = sorted(p for p in _pet_files(data_url))[:1]
    volume = read_input(pet, parc, name="x", verbose=False)
    record = {}
    with caplog.at_level(logging.WARNING, logger="nispace"):
        surface = read_input(pet, parc, name="x", record=record, space="fsLR")
    assert "projected to the surface" in caplog.text
    assert record["transforms"].startswith("MNI152NLin6Asym -> fsLR 32k")
    assert record["parcellation_space"] == "fsLR"
    assert list(surface.columns) == list(volume.columns)
    ok = surface.notna().to_numpy()[0] & volume.notna().to_numpy()[0]
    r = np.corrcoef(surface.to_numpy()[0, ok], volume.to_numpy()[0, ok])[0, 1]
    assert r >= 0.9


def _pet_files(data_url):
    from nispace.datasets import fetch_file, fetch_manifest

    names = [k for k in fetch_manifest() if k.startswith("reference/pet/map/")
             and k.endswith(".nii.gz") and "5HT1a_tracer-way100635" in k]
    return [str(fetch_file(n)) for n in names]


def test_surface_only_parcellation_projects_volumes_automatically(data_url, caplog):
    glasser = fetch_parcellation("Glasser", verbose=False)
    record = {}
    with caplog.at_level(logging.WARNING, logger="nispace"):
        df = read_input(smooth_volume(), glasser, name="y", record=record,
                        data_space="MNI152NLin6Asym")
    assert df.shape == (1, 360)
    assert "has no volumetric space" in caplog.text
    assert "fsLR 32k" in record["transforms"]


def test_unknown_density_is_refused():
    with pytest.raises(InputError, match="target: expected one of"):
        resample_surface((np.zeros(10242), np.zeros(10242)), ("fsaverage", "10k"),
                         ("fsLR", "164k"))


def test_nispace_records_the_transform(data_url, caplog):
    from nispace.api import NiSpace

    vol = smooth_volume()
    other = nib.Nifti1Image(np.asarray(vol.dataobj)[::-1].copy(), MNI_AFFINE)
    nsp = NiSpace(x={"a": vol, "b": other}, y={"c": other}, parcellation="Glasser",
                  data_space="MNI152NLin6Asym", verbose=False)
    with caplog.at_level(logging.WARNING, logger="nispace"):
        nsp.fit()
    assert nsp.fit_record_["transforms"]["x"].startswith("MNI152NLin6Asym -> fsLR 32k "
                                                         "(registration fusion")
    assert nsp.fit_record_["parcellation_space"]["y"] == "fsLR"
    assert nsp.get_x().shape == (2, 360)


def test_fsaverage_data_meet_an_fslr_parcellation(data_url, caplog):
    """fsaverage 164k data with Glasser (fsLR 32k and fsaverage5 only) are resampled."""
    glasser = fetch_parcellation("Glasser", verbose=False)
    x = smooth_surface("fsaverage", "164k")
    pair = tuple(nib.GiftiImage(darrays=[nib.gifti.GiftiDataArray(a.astype(np.float32))])
                 for a in x)
    record = {}
    with caplog.at_level(logging.WARNING, logger="nispace"):
        df = read_input([pair], glasser, name="y", record=record)
    assert df.shape == (1, 360) and df.notna().all().all()
    assert "resampled to space 'fsaverage'" in caplog.text
    assert record["transforms"].startswith("fsaverage 164k -> fsaverage 10k")
    # the reference: resample explicitly, then parcellate on the parcellation's own mesh
    fsavg5 = fsaverage_to_fsaverage(pair, target_density="10k")
    np.testing.assert_allclose(read_input([fsavg5], glasser, name="y").to_numpy(),
                               df.to_numpy())


def test_surface_files_named_by_their_space_are_resampled_too(data_url, tmp_path):
    """A ``space-fsaverage`` file name names the mesh before resampling; the resampled
    data are parcellated like unnamed ones."""
    glasser = fetch_parcellation("Glasser", verbose=False)
    x = smooth_surface("fsaverage", "164k")
    paths = []
    for hemi, arr in zip("LR", x):
        path = tmp_path / f"m_space-fsaverage_hemi-{hemi}.func.gii"
        nib.save(nib.GiftiImage(darrays=[nib.gifti.GiftiDataArray(arr.astype(np.float32))]),
                 path)
        paths.append(str(path))
    unnamed = tuple(nib.load(p) for p in paths)
    np.testing.assert_allclose(read_input([tuple(paths)], glasser, name="y").to_numpy(),
                               read_input([unnamed], glasser, name="y").to_numpy())


def test_space_chosen_for_surfaces_does_not_leak_to_volumes(data_url):
    """Surface pairs and volumes in one input with space='fsLR': the volumes are projected
    (their own space is NiSpace's default), not refused as 'fsLR volumes'."""
    glasser = fetch_parcellation("Glasser", verbose=False)
    surf = smooth_surface("fsLR", "32k")
    pair = tuple(nib.GiftiImage(darrays=[nib.gifti.GiftiDataArray(a.astype(np.float32))])
                 for a in surf)
    record = {}
    df = read_input([pair, smooth_volume()], glasser, name="x", record=record,
                    space="fsLR")
    assert df.shape == (2, 360) and df.notna().all().all()
    assert "registration fusion" in record["transforms"]


def test_projected_images_can_be_saved_with_the_documented_call(tmp_path):
    """The GIfTI images keep float64 data; ``to_filename(path, mode="compat")`` writes them
    (as float32), as the Returns sections say."""
    lh, rh = mni152_to_fsaverage(smooth_volume())
    assert lh.darrays[0].data.dtype == np.float64
    path = tmp_path / "lh.func.gii"
    lh.to_filename(path, mode="compat")
    back = nib.load(path).agg_data()
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, lh.agg_data().astype(np.float32), equal_nan=True)


def test_4d_projection_equals_one_projection_per_volume():
    """One interpolator over all maps gives what one ``interpn`` per map gives."""
    from scipy.interpolate import interpn

    from nispace.transforms.volume import _mapping, project_volume

    vol = smooth_volume().get_fdata()
    data = np.stack([vol, vol ** 2, -vol], axis=-1)
    inv = np.linalg.inv(MNI_AFFINE)
    for method in ("linear", "nearest"):
        lh, rh = project_volume(data, MNI_AFFINE, method)
        assert lh.shape == (163842, 3) and rh.shape == (163842, 3)
        for hemi, ours in zip("LR", (lh, rh)):
            vox = (inv[:3, :3] @ _mapping(hemi) + inv[:3, [3]]).T
            grid = tuple(np.arange(n) for n in vol.shape)
            for i in range(3):
                ref = interpn(grid, data[..., i], vox, method=method, bounds_error=False,
                              fill_value=np.nan)
                np.testing.assert_array_equal(ours[:, i], ref)


def test_transform_record_names_the_real_source_space():
    from nispace.transforms.volume import describe

    assert describe("fsLR", "32k").startswith("MNI152NLin6Asym -> fsLR 32k (")
    assert describe("fsLR", "32k", "MNI152NLin6Asym").startswith("MNI152NLin6Asym -> fsLR")
    assert describe("fsLR", "32k", "MNI152NLin2009cAsym").startswith(
        "MNI152NLin2009cAsym (as MNI152NLin6Asym) -> fsLR 32k (registration fusion")


def test_volume_in_another_mni_space_is_recorded_as_such(data_url, tmp_path):
    glasser = fetch_parcellation("Glasser", verbose=False)
    record = {}
    read_input([smooth_volume()], glasser, name="x", record=record,
               data_space="MNI152NLin2009cAsym")
    assert record["transforms"].startswith("MNI152NLin2009cAsym (as MNI152NLin6Asym) -> fsLR")


def test_surface_data_with_a_volumetric_space_are_refused_before_resampling(data_url, caplog):
    """space= names a volumetric space but the data are surfaces: the clear error, and no
    resampling first."""
    schaefer = fetch_parcellation("Schaefer200", verbose=False)
    vol_space = next(s for s in schaefer.spaces if not schaefer.is_surface(s))
    pair = tuple(nib.GiftiImage(darrays=[nib.gifti.GiftiDataArray(a.astype(np.float32))])
                 for a in smooth_surface("fsaverage", "164k"))
    with caplog.at_level(logging.WARNING, logger="nispace"), \
            pytest.raises(InputError, match="volumetric space"):
        read_input([pair], schaefer, name="x", space=vol_space)
    assert "resampled" not in caplog.text


def test_mixed_array_and_gifti_pairs_are_refused():
    with pytest.raises(TypeError, match="two arrays or two GIfTI"):
        resample_surface((np.zeros(10242), nib.GiftiImage()), ("fsaverage", "10k"),
                         ("fsLR", "32k"))
