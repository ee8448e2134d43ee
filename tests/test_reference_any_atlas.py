"""Reference datasets on any parcellation, and the tissue covariates z="gm"/"wm".

Real data from the mirror (served over 127.0.0.1). Independent references:
nilearn's ``NiftiLabelsMasker`` on the PET files for a custom atlas (the mirror's
Harvard-Oxford label image), and the mirror's own tables read with pandas
(``tpm`` for z="gm"; ``pet`` made by spline resampling onto the parcellation grid).
"""

from __future__ import annotations

import json
import logging
import warnings

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from nispace.api import NiSpace
from nispace.datasets import fetch_file, fetch_parcellation, fetch_reference
from nispace.errors import DataError, InputError
from nispace.io import parcellate_reference
from nispace.io import references as io_references
from nispace.io.references import SOURCE_IMAGES, SOURCE_TABLE

HO = "parcellation/HarvardOxfordCortical/MNI152NLin6Asym/" \
     "parc-HarvardOxfordCortical_space-MNI152NLin6Asym.label"
#: a float32 map with 0 outside the brain, an int32 map with scl_slope and a constant
#: negative border, and a third one (both background kinds are exercised)
PET_MAPS = ["target-D1_tracer-sch23390_n-13_dx-hc_pub-kaller2017",
            "target-5HT1b_tracer-p943_n-23_dx-hc_pub-savli2012",
            "target-mGluR5_tracer-abp688_n-28_dx-hc_pub-dubois2015"]


@pytest.fixture
def ho_atlas(data_url):
    """The mirror's Harvard-Oxford label image and names, used as *your own* atlas."""
    return fetch_file(HO + ".nii.gz"), fetch_file(HO + ".txt")


@pytest.fixture
def pet_collection(tmp_path):
    """A collection file with three PET maps, so that tests parcellate only those."""
    path = tmp_path / "three_pet_maps.txt"
    path.write_text("\n".join(PET_MAPS) + "\n")
    return path


def nilearn_means(image_path, labels_img) -> tuple[np.ndarray, np.ndarray]:
    """Parcel means with nilearn: labels resampled to the data grid (nearest), mean
    over the voxels that are not background (exact zeros and, when it fills more than
    half of the volume, the constant corner value), given as nilearn's mask."""
    from nilearn.maskers import NiftiLabelsMasker

    img = nib.load(image_path)
    data = np.asarray(img.dataobj, dtype=np.float64)
    corner = data[0, 0, 0]
    valid = np.isfinite(data) & (data != 0)
    if np.mean(data == corner) > 0.5:
        valid &= data != corner
    mask = nib.Nifti1Image(valid.astype(np.uint8), img.affine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nilearn's notes about resampling
        masker = NiftiLabelsMasker(labels_img, mask_img=mask, resampling_target="data",
                                   strategy="mean")
        values = np.ravel(masker.fit_transform(img))
    return values, np.asarray([masker.region_ids_[i] for i in range(len(values))])


def test_pet_with_your_own_atlas_equals_nilearn(ho_atlas, pet_collection):
    """x="pet" with a custom atlas parcellates the PET images on the fly; the values are
    nilearn's means over the same voxels (labels resampled to the 3 mm PET grid)."""
    atlas, names = ho_atlas
    nsp = NiSpace(x="pet", x_collection=str(pet_collection), parcellation=str(atlas),
                  parcellation_labels=str(names), standardize=False, verbose=False).fit()
    x = nsp.get_x()
    assert list(x.index) == PET_MAPS and x.shape == (3, 96)
    record = nsp.fit_record_
    assert record["reference"]["x"]["source"] == SOURCE_IMAGES
    assert record["reference"]["x"]["cache"] == "written"
    assert record["data_space"]["x"] == "MNI152NLin6Asym"
    assert record["data_space_source"]["x"] == SOURCE_IMAGES
    json.dumps(record)  # goes into every result's provenance as is

    paths = {p.name.split("_space-")[0]: p for p in
             fetch_reference("pet", maps=PET_MAPS, print_references=False)}
    labels_img = nib.load(atlas)
    label_values = np.unique(np.asarray(labels_img.dataobj))[1:]
    assert len(label_values) == 96
    for name in PET_MAPS:
        expected, ids = nilearn_means(paths[name], labels_img)
        np.testing.assert_array_equal(ids, label_values)
        # float32/int32 data averaged in float64 by both: agreement to rounding
        np.testing.assert_allclose(x.loc[name].to_numpy(), expected, rtol=1e-6, atol=1e-9)


def test_second_call_reads_the_cache_and_a_damaged_cache_is_rebuilt(ho_atlas, isolated_env,
                                                                     monkeypatch, caplog):
    atlas, names = ho_atlas
    parc = fetch_parcellation(str(atlas), labels=str(names), verbose=False)
    record: dict = {}
    first = parcellate_reference("pet", parc, maps=PET_MAPS[:2], record=record,
                                 standardize_parcellated=False)
    assert record["cache"] == "written"
    folder = isolated_env / "cache" / "references"
    (values_file,) = folder.glob("*.npy")

    def no_parcellation(*args, **kwargs):
        raise AssertionError("a cache hit must not parcellate again")

    with monkeypatch.context() as m:  # the second call cannot parcellate: it must read
        m.setattr(io_references, "read_input", no_parcellation)
        record = {}
        again = parcellate_reference("pet", parc, maps=PET_MAPS[:2], record=record,
                                     standardize_parcellated=False)
    assert record["cache"] == "hit"
    pd.testing.assert_frame_equal(again, first, check_exact=True)

    # another parcel name is another parcellation: not the cached entry
    renamed = fetch_parcellation(str(atlas), labels=[f"p{i}" for i in range(96)],
                                 verbose=False)
    record = {}
    parcellate_reference("pet", renamed, maps=PET_MAPS[:2], record=record)
    assert record["cache"] == "written" and len(list(folder.glob("*.npy"))) == 2

    # one flipped byte in the cached values: detected (WARNING), computed again
    raw = bytearray(values_file.read_bytes())
    raw[-3] ^= 0xFF
    values_file.write_bytes(bytes(raw))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="nispace"):
        record = {}
        rebuilt = parcellate_reference("pet", parc, maps=PET_MAPS[:2], record=record,
                                       standardize_parcellated=False)
    assert record["cache"] == "written"
    assert any("computed again" in r.getMessage() and str(values_file) in r.getMessage()
               for r in caplog.records)
    pd.testing.assert_frame_equal(rebuilt, first, check_exact=True)

    # a truncated record file: detected and rebuilt too
    (record_file,) = [p for p in folder.glob("*.record.json")
                      if p.name.startswith(values_file.stem)]
    record_file.write_text(record_file.read_text()[:10])
    record = {}
    rebuilt = parcellate_reference("pet", parc, maps=PET_MAPS[:2], record=record,
                                   standardize_parcellated=False)
    assert record["cache"] == "written"
    pd.testing.assert_frame_equal(rebuilt, first, check_exact=True)


def test_images_on_a_library_parcellation_reproduce_its_table(data_url):
    """The mirror's PET tables were made by resampling the images onto the parcellation
    grid with 3rd-order splines; parcellating the images that way gives the table.
    NiSpace's default (labels resampled to the 3 mm data grid) differs: measured here
    at up to 32% of a parcel's value for small parcels, r >= 0.98 per map."""
    parc = fetch_parcellation("HarvardOxfordCortical", verbose=False)
    record: dict = {}
    table = parcellate_reference("pet", parc, maps=PET_MAPS, record=record,
                                 standardize_parcellated=False)
    assert record == {"dataset": "pet", "source": SOURCE_TABLE,
                      "tables": ["HarvardOxfordCortical"]}
    # the table as stored in the mirror, read with pandas
    stored = pd.read_csv(fetch_file("reference/pet/tab/dset-pet_parc-HarvardOxfordCortical"
                                    ".csv.gz"), index_col=0)
    assert sorted(table.index) == sorted(PET_MAPS)  # in the dataset's order
    np.testing.assert_allclose(table.to_numpy(), stored.loc[table.index].to_numpy(),
                               rtol=1e-12)

    spline = parcellate_reference("pet", parc, maps=PET_MAPS, source="images",
                                  resampling_target="parcellation",
                                  interpolation="continuous", standardize_parcellated=False)
    assert spline.columns.equals(table.columns) and spline.index.equals(table.index)
    np.testing.assert_allclose(spline.to_numpy(), table.to_numpy(), rtol=1e-5)

    default = parcellate_reference("pet", parc, maps=PET_MAPS, source="images",
                                   standardize_parcellated=False)
    rel = np.abs(default.to_numpy() - table.to_numpy()) / np.abs(table.to_numpy())
    assert np.nanmax(rel) < 0.4
    assert all(np.corrcoef(a, b)[0, 1] > 0.97 for a, b in zip(default.to_numpy(),
                                                               table.to_numpy()))
    # standardized like fetch_reference's tables: z-scores of the same values
    z = parcellate_reference("pet", parc, maps=PET_MAPS, source="images")
    expected = default.sub(default.mean(axis=1), axis=0).div(default.std(axis=1, ddof=0),
                                                             axis=0)
    np.testing.assert_allclose(z.to_numpy(), expected.to_numpy(), atol=1e-12)


@pytest.mark.parametrize("z, rows", [("gm", ["gm"]), (["gm", "wm"], ["gm", "wm"]),
                                     (["WM", "gm"], ["wm", "gm"])])
def test_tissue_covariates_are_the_tpm_table(data_url, z, rows):
    stored = pd.read_csv(fetch_file("reference/tpm/tab/dset-tpm_parc-Schaefer100Parcels7"
                                    "Networks.csv.gz"), index_col=0)
    nsp = NiSpace(x="pet", x_collection="UniqueTracers", z=z, parcellation="Schaefer100",
                  standardize=False, verbose=False).fit()
    got = nsp.get_z()
    assert list(got.index) == rows
    np.testing.assert_allclose(got.to_numpy(),
                               stored.loc[[f"tissue-{t}_pub-spm" for t in rows]].to_numpy(),
                               rtol=1e-12)
    assert list(got.columns) == list(stored.columns)
    assert nsp.fit_record_["reference"]["z"]["source"] == SOURCE_TABLE


def test_tissue_covariates_on_your_own_atlas(ho_atlas, pet_collection):
    """Without a table, the tpm images are parcellated (all voxels: a probability of 0 is
    a value, not background); nilearn's plain mean is the reference."""
    from nilearn.maskers import NiftiLabelsMasker

    atlas, names = ho_atlas
    nsp = NiSpace(x="pet", x_collection=str(pet_collection), z=["gm", "wm"],
                  parcellation=str(atlas), parcellation_labels=str(names),
                  standardize=False, verbose=False).fit()
    z = nsp.get_z()
    assert list(z.index) == ["gm", "wm"]
    reference = nsp.fit_record_["reference"]["z"]
    assert reference["source"] == SOURCE_IMAGES and reference["background"] is None
    # the tpm maps are in MNI152NLin2009aSym: used in the atlas' space, recorded
    assert nsp.fit_record_["data_space"]["z"] == "MNI152NLin2009aSym"
    assert nsp.fit_record_["parcellation_space"]["z"] == "MNI152NLin6Asym"
    for tissue in ("gm", "wm"):
        (path,) = fetch_reference("tpm", maps={"tissue": tissue}, print_references=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = NiftiLabelsMasker(nib.load(atlas)).fit_transform(path).ravel()
        np.testing.assert_allclose(z.loc[tissue].to_numpy(), expected, rtol=1e-6)


def test_table_only_datasets_name_the_parcellations_with_tables(ho_atlas):
    atlas, names = ho_atlas
    with pytest.raises(InputError, match=r"source images would be needed.*DesikanKilliany"):
        NiSpace(x="mrna", parcellation=str(atlas), parcellation_labels=str(names),
                verbose=False).fit()
    with pytest.raises(InputError, match=r"'enigmathick'.*source images would be needed"):
        parcellate_reference("enigmathick", fetch_parcellation(str(atlas), verbose=False))
    with pytest.raises(InputError, match=r"'pet' has no table for this custom parcellation"):
        parcellate_reference("pet", str(atlas), source="table")
    # fetch_reference reads tables only and points to parcellate_reference for images
    with pytest.raises(InputError, match=r"Tables exist for .*parcellate_reference"):
        fetch_reference("pet", parcellation=fetch_parcellation(str(atlas), verbose=False),
                        print_references=False)


def test_tissue_shortcuts_refuse_what_they_cannot_give(data_url):
    with pytest.raises(DataError, match=r"no tissue map for \['csf'\].*\['gm', 'wm'\]"):
        NiSpace(x="pet", x_collection="UniqueTracers", z=["gm", "csf"],
                parcellation="Schaefer100", verbose=False).fit()
    with pytest.raises(InputError, match=r"z: the tissue shortcuts \['gm'\] .*only surface"):
        NiSpace(x=np.random.default_rng(0).normal(size=(2, 360)), z="gm",
                parcellation="Glasser", verbose=False).fit()
    with pytest.raises(InputError, match=r"parcellation: z is the tissue shortcut"):
        NiSpace(x=np.ones((2, 5)), z=["gm"], parcellation=None, verbose=False).fit()


def test_a_library_parcellation_without_a_table_parcellates_the_images(data_url, tmp_path):
    """The PET dataset has no table for the surface-only Glasser atlas: its volumes are
    projected to fsLR (registration fusion) and parcellated there, as your own volumes
    would be; what was done is recorded."""
    from nispace import parcellate

    collection = tmp_path / "one_map.txt"
    collection.write_text(PET_MAPS[0] + "\n")
    nsp = NiSpace(x="pet", x_collection=str(collection), parcellation="Glasser",
                  standardize=False, verbose=False).fit()
    reference = nsp.fit_record_["reference"]["x"]
    assert reference["source"] == SOURCE_IMAGES and reference["parcellation_space"] == "fsLR"
    assert "-> fsLR" in reference["transforms"]
    assert "-> fsLR" in nsp.fit_record_["transforms"]["x"]
    (path,) = fetch_reference("pet", maps=PET_MAPS[0], print_references=False)
    yourself = parcellate({PET_MAPS[0]: path}, "Glasser")
    np.testing.assert_allclose(nsp.get_x().to_numpy(), yourself.to_numpy(), rtol=1e-12)
