"""File formats: CIFTI-2 dscalar/dlabel, FreeSurfer annot/morph/mgh, as data and atlases.

Every file is built in the test from the fsLR GIfTI version of Schaefer200, and the
reference is the same data read as a GIfTI pair.
"""

import logging

import nibabel as nib
import numpy as np
import pytest

from nispace.datasets import fetch_parcellation
from nispace.errors import InputError
from nispace.io import read_input
from nispace.parcellation import Parcellation


@pytest.fixture
def schaefer_fslr(data_url):
    parc = fetch_parcellation("Schaefer200", verbose=False)
    lh, rh = (np.asarray(g.darrays[0].data).astype(np.int32) for g in parc.get_img("fsLR"))
    return parc, lh, rh


def gifti(arr, structure, intent="NIFTI_INTENT_NONE"):
    img = nib.GiftiImage(meta=nib.gifti.GiftiMetaData({"AnatomicalStructurePrimary":
                                                       structure}))
    for col in np.asarray(arr).reshape(len(arr), -1).T:
        dtype = "int32" if intent == "NIFTI_INTENT_LABEL" else "float32"
        img.add_gifti_data_array(nib.gifti.GiftiDataArray(col.astype(dtype), intent=intent,
                                                          datatype=dtype))
    return img


def maps(n_vertices, n_maps, seed):
    return np.random.default_rng(seed).normal(size=(n_vertices, n_maps)).astype(np.float32)


def cortex_axis(lh_mask, rh_mask):
    return (nib.cifti2.BrainModelAxis.from_surface(np.flatnonzero(lh_mask), lh_mask.size,
                                                   "CortexLeft")
            + nib.cifti2.BrainModelAxis.from_surface(np.flatnonzero(rh_mask), rh_mask.size,
                                                     "CortexRight"))


def test_cifti_dscalar_parcellates_like_the_gifti_pair(schaefer_fslr, tmp_path):
    parc, lh_lab, rh_lab = schaefer_fslr
    lh, rh = maps(lh_lab.size, 3, 0), maps(rh_lab.size, 3, 1)
    pair = (gifti(lh, "CortexLeft"), gifti(rh, "CortexRight"))
    # the CIFTI leaves out the medial wall (label 0), as HCP files do
    keep_l, keep_r = lh_lab > 0, rh_lab > 0
    models = cortex_axis(keep_l, keep_r)
    scalars = nib.cifti2.ScalarAxis(["a", "b", "c"])
    data = np.concatenate([lh[keep_l], rh[keep_r]], axis=0).T
    path = tmp_path / "maps.dscalar.nii"
    nib.save(nib.Cifti2Image(data, header=(scalars, models)), path)

    from_cifti = read_input(str(path), parc, name="y", verbose=False)
    from_gifti = read_input([pair], parc, name="y", verbose=False)
    assert from_cifti.shape == (3, 200)
    np.testing.assert_array_equal(from_cifti.to_numpy(), from_gifti.to_numpy())
    assert list(from_cifti.index) == ["maps_0", "maps_1", "maps_2"]


def test_cifti_with_subcortex_reads_the_cortex_and_says_so(schaefer_fslr, tmp_path, caplog):
    parc, lh_lab, rh_lab = schaefer_fslr
    models = cortex_axis(lh_lab > 0, rh_lab > 0) + nib.cifti2.BrainModelAxis.from_mask(
        np.ones((2, 2, 2)), name="thalamus_left", affine=np.eye(4))
    data = np.ones((1, len(models)), dtype=np.float32)
    path = tmp_path / "with_subcortex.dscalar.nii"
    nib.save(nib.Cifti2Image(data, header=(nib.cifti2.ScalarAxis(["m"]), models)), path)
    with caplog.at_level(logging.WARNING, logger="nispace"):
        df = read_input(str(path), parc, name="y")
    assert "THALAMUS_LEFT" in caplog.text
    assert np.allclose(df.to_numpy(), 1.0)


def test_dlabel_as_data_is_refused(schaefer_fslr, tmp_path):
    with pytest.raises(InputError, match="CIFTI label file"):
        read_input(str(tmp_path / "atlas.dlabel.nii"), schaefer_fslr[0], name="y")


def test_annot_atlas_gives_the_gifti_parcels(schaefer_fslr, tmp_path):
    parc, lh_lab, rh_lab = schaefer_fslr
    names = list(parc.get_labels("fsLR"))
    paths = []
    for hemi, lab, offset in (("lh", lh_lab, 0), ("rh", rh_lab, 100)):
        values = np.where(lab > 0, lab - offset, 0)  # annot: index into the colour table
        hemi_names = ["unknown"] + names[offset:offset + 100]
        ctab = np.zeros((101, 5), dtype=np.int32)
        ctab[:, :3] = np.random.default_rng(2).integers(0, 255, size=(101, 3))
        path = tmp_path / f"{hemi}.schaefer.annot"
        nib.freesurfer.write_annot(str(path), values, ctab, hemi_names, fill_ctab=True)
        paths.append(path)

    from_annot = Parcellation.from_image(tuple(paths), space="fsLR")
    from_gifti = Parcellation.from_image(
        (gifti(lh_lab, "CortexLeft", "NIFTI_INTENT_LABEL"),
         gifti(rh_lab, "CortexRight", "NIFTI_INTENT_LABEL")), labels=names, space="fsLR")
    assert from_annot.labels == from_gifti.labels == names
    np.testing.assert_array_equal(from_annot.get_data("fsLR"), from_gifti.get_data("fsLR"))


def test_dlabel_atlas_gives_the_gifti_parcels(schaefer_fslr, tmp_path):
    parc, lh_lab, rh_lab = schaefer_fslr
    names = list(parc.get_labels("fsLR"))
    keep_l, keep_r = lh_lab > 0, rh_lab > 0
    table = {0: ("???", (0, 0, 0, 0))}
    table.update({i + 1: (n, (0.5, 0.5, 0.5, 1.0)) for i, n in enumerate(names)})
    axis = nib.cifti2.LabelAxis(["schaefer"], [table])
    data = np.concatenate([lh_lab[keep_l], rh_lab[keep_r]])[None, :].astype(np.float32)
    path = tmp_path / "schaefer.dlabel.nii"
    nib.save(nib.Cifti2Image(data, header=(axis, cortex_axis(keep_l, keep_r))), path)

    from_dlabel = fetch_parcellation(str(path), verbose=False)
    assert from_dlabel.labels == names
    np.testing.assert_array_equal(from_dlabel.get_data("fsLR"),
                                  np.concatenate([lh_lab, rh_lab]))


def test_freesurfer_morph_and_mgh_pairs_read_like_gifti(schaefer_fslr, tmp_path):
    parc, lh_lab, rh_lab = schaefer_fslr
    lh, rh = maps(lh_lab.size, 1, 3)[:, 0], maps(rh_lab.size, 1, 4)[:, 0]
    for hemi, arr in (("lh", lh), ("rh", rh)):
        nib.freesurfer.write_morph_data(str(tmp_path / f"{hemi}.thickness"), arr)
        nib.save(nib.MGHImage(arr.reshape(-1, 1, 1), np.eye(4)),
                 str(tmp_path / f"{hemi}.thickness.mgh"))
    reference = read_input([(gifti(lh, "CortexLeft"), gifti(rh, "CortexRight"))], parc,
                           name="y", verbose=False).to_numpy()
    for suffix in ("", ".mgh"):
        pair = (str(tmp_path / f"lh.thickness{suffix}"), str(tmp_path / f"rh.thickness{suffix}"))
        df = read_input([pair], parc, name="y", verbose=False)
        np.testing.assert_allclose(df.to_numpy(), reference, rtol=1e-6)


def test_annot_names_shared_by_both_hemispheres_get_a_hemisphere_prefix(tmp_path):
    """FreeSurfer's aparc uses the same region names on both sides; parcel labels must
    stay unique (else tables cannot be matched by label)."""
    rng = np.random.default_rng(5)
    paths = []
    for hemi in ("lh", "rh"):
        values = rng.integers(0, 3, size=50)  # 0 = unknown, 1 = bankssts, 2 = cuneus
        ctab = np.zeros((3, 5), dtype=np.int32)
        ctab[:, :3] = rng.integers(0, 255, size=(3, 3))
        path = tmp_path / f"{hemi}.aparc.annot"
        nib.freesurfer.write_annot(str(path), values, ctab, ["unknown", "bankssts", "cuneus"],
                                   fill_ctab=True)
        paths.append(path)
    parc = Parcellation.from_image(tuple(paths), space="fsaverage")
    assert parc.labels == ["L_bankssts", "L_cuneus", "R_bankssts", "R_cuneus"]


def test_duplicated_parcel_names_are_refused(schaefer_fslr):
    parc, lh_lab, rh_lab = schaefer_fslr
    names = ["same"] * 200
    with pytest.raises(ValueError, match="labels: parcel names must be unique"):
        Parcellation.from_image((gifti(lh_lab, "CortexLeft", "NIFTI_INTENT_LABEL"),
                                 gifti(rh_lab, "CortexRight", "NIFTI_INTENT_LABEL")),
                                labels=names, space="fsLR")
