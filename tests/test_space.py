"""The data's space is explicit: from the user, the file name, or a stated default.

Images are parcellated with the parcellation's version in the data's space; null
models use the geometry of that space; the user's Parcellation is never changed.
Real data from the mirror (the pain meta-analysis, an ALE map in MNI152NLin6Asym).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from nispace.api import NiSpace
from nispace.datasets import fetch_example, fetch_parcellation
from nispace.io import load_img, parcellate_images

NLIN6, NLIN2009C = "MNI152NLin6Asym", "MNI152NLin2009cAsym"


@pytest.fixture
def pain(data_url):
    """The pain meta-analysis map; its file name says ``space-MNI152NLin6Asym``."""
    path = fetch_example("painmeta", verbose=False)
    assert f"space-{NLIN6}" in path.name
    return path


@pytest.fixture
def schaefer(data_url):
    return fetch_parcellation("Schaefer200", verbose=False)


def parcellate_in(path, parc, space) -> np.ndarray:
    """Reference: parcellate with the parcellation's image of one named space."""
    return parcellate_images(path, parc, space=space, verbose=False)[0]


def test_a_map_named_space_mni152nlin6asym_is_parcellated_in_that_space(pain, schaefer):
    nsp = NiSpace(x={"pain": pain}, parcellation="Schaefer200", standardize=False,
                  verbose=False).fit()
    values = nsp.get_x().to_numpy()[0]
    np.testing.assert_array_equal(values, parcellate_in(pain, schaefer, NLIN6))
    # the other MNI152 template gives visibly different parcel values (up to ~0.36)
    assert np.nanmax(np.abs(values - parcellate_in(pain, schaefer, NLIN2009C))) > 0.1
    record = nsp.fit_record_
    assert record["data_space"] == {"x": NLIN6}
    assert record["data_space_source"] == {"x": "filename"}
    assert record["parcellation"] == "Schaefer200Parcels7Networks"
    assert record["parcellation_space"] == {"x": NLIN6}
    assert record["geometry_space"] == NLIN6


def test_space_in_the_workflow_overrides_the_file_name(pain, schaefer):
    nsp = colocalize_quickly(pain, space=NLIN2009C)
    y = nsp.get_y(raw=True).to_numpy()[0]
    np.testing.assert_array_equal(y, parcellate_in(pain, schaefer, NLIN2009C))
    assert nsp.fit_record_["data_space"]["y"] == NLIN2009C
    assert nsp.fit_record_["data_space_source"]["y"] == "user"
    assert nsp.fit_record_["data_space_source"]["x"] == "parcellated table"
    assert nsp.fit_record_["data_space"]["x"] is None


def colocalize_quickly(y, **kwargs):
    from nispace.workflows import colocalization

    return colocalization(y, x="pet", x_collection="UniqueTracers", parcellation="Schaefer200",
                          standardize=False, n_perm=20, seed=0, mc_method=None, plot=False,
                          verbose=False, **kwargs)


def test_a_volume_without_a_space_assumes_mni152nlin6asym_and_says_so(pain, schaefer, caplog):
    image = load_img(pain)  # an image object: no file name to read a space from
    with caplog.at_level(logging.WARNING, logger="nispace"):
        nsp = NiSpace(x={"pain": image}, parcellation="Schaefer200", standardize=False,
                      verbose=False).fit()
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
              and "space of the volumes is not known" in r.getMessage()]
    assert len(warned) == 1 and NLIN6 in warned[0] and "data_space=" in warned[0]
    assert nsp.fit_record_["data_space"] == {"x": NLIN6}
    assert nsp.fit_record_["data_space_source"] == {"x": "default"}
    np.testing.assert_array_equal(nsp.get_x().to_numpy()[0],
                                  parcellate_in(pain, schaefer, NLIN6))


def test_data_space_per_input_and_its_checks(pain):
    nsp = NiSpace(x={"pain": pain}, y={"pain": pain}, data_space=[NLIN2009C, NLIN6, None],
                  parcellation="Schaefer200", standardize=False, verbose=False).fit()
    assert nsp.fit_record_["data_space"] == {"x": NLIN2009C, "y": NLIN6}
    assert nsp.fit_record_["geometry_space"] == NLIN6  # the space of Y
    with pytest.raises(ValueError, match="data_space: expected a space name"):
        NiSpace(x=pain, data_space=[NLIN6, NLIN6], parcellation="Schaefer200").fit()
    with pytest.raises(ValueError, match="surface space but the images in 'x' are volumes"):
        NiSpace(x=pain, data_space="fsLR", parcellation="Schaefer200", verbose=False).fit()


def test_another_mni152_variant_uses_the_nearest_space_with_a_warning(pain, caplog):
    with caplog.at_level(logging.WARNING, logger="nispace"):
        nsp = NiSpace(x={"pain": pain}, data_space="MNI152NLin2009aSym",
                      parcellation="Schaefer200", verbose=False).fit()
    assert any("not available in it; using its nearest volumetric space 'MNI152NLin6Asym'"
               in r.getMessage() for r in caplog.records)
    assert nsp.fit_record_["data_space"] == {"x": "MNI152NLin2009aSym"}
    assert nsp.fit_record_["parcellation_space"] == {"x": NLIN6}


def test_images_that_name_different_spaces_are_refused(pain, tmp_path):
    other = tmp_path / f"pain_space-{NLIN2009C}.nii.gz"
    other.write_bytes(pain.read_bytes())
    with pytest.raises(ValueError, match="name different spaces"):
        NiSpace(x=[pain, other], parcellation="Schaefer200", verbose=False).fit()


def spy_on(monkeypatch, module, name: str) -> list:
    """Wrap ``module.name`` so that every value it returns is appended to the list
    returned here."""
    returned = []
    original = getattr(module, name)

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        returned.append(out)
        return out

    monkeypatch.setattr(module, name, spy)
    return returned


def test_cli_space_option(pain, tmp_path, monkeypatch):
    from nispace import workflows
    from nispace.cli import main

    fitted = spy_on(monkeypatch, workflows, "colocalization")
    code = main(["colocalize", "--y", str(pain), "--space", NLIN2009C, "--x-collection",
                 "UniqueTracers", "--n-perm", "20", "--seed", "1", "--mc-method", "none",
                 "--out", str(tmp_path / "o"), "--no-figures", "--no-report", "--quiet"])
    assert code == 0
    record = fitted[0].fit_record_
    assert record["data_space"]["y"] == NLIN2009C and record["data_space_source"]["y"] == "user"
    assert (tmp_path / "o" / "results.csv").is_file()


def volume_centroid_distances(parc, space) -> np.ndarray:
    """Independent reference: mean voxel position (mm) of each label, then Euclidean."""
    img = parc.get_img(space)
    data = np.asarray(img.dataobj).round().astype(int)
    centroids = []
    for value in range(1, parc.n_parcels + 1):
        ijk = np.argwhere(data == value)
        centroids.append((img.affine[:3, :3] @ ijk.T).T.mean(axis=0) + img.affine[:3, 3])
    c = np.asarray(centroids)
    return np.sqrt(((c[:, None, :] - c[None, :, :]) ** 2).sum(axis=-1))


def test_moran_nulls_use_the_distances_of_the_datas_space(pain, monkeypatch):
    from nispace.permute import models

    parc = fetch_parcellation("Schaefer200TianS1", verbose=False)
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(2, parc.n_parcels)), index=["a", "b"],
                     columns=parc.labels)
    built = spy_on(monkeypatch, models, "null_model_for")
    nsp = NiSpace(x=x, y={"pain": pain}, parcellation=parc, drop_nan=False, verbose=False)
    nsp.fit().colocalize("spearman").permute("maps", null_method="moran", n_perm=5, seed=0)
    model, desc = built[0]
    assert desc == f"moran (Euclidean centroid distances, {NLIN6})"
    dist = getattr(model, "model", model).dist_mat
    np.testing.assert_allclose(dist, volume_centroid_distances(parc, NLIN6), atol=1e-6)
    assert not np.allclose(dist, volume_centroid_distances(parc, NLIN2009C), atol=0.5)
    assert nsp.fit_record_["geometry_space"] == NLIN6


def test_null_model_for_takes_the_space(data_url):
    from nispace.permute import null_model_for

    parc = fetch_parcellation("Schaefer200TianS1", verbose=False)
    _, desc9 = null_model_for(parc, "moran", space=NLIN2009C)
    _, desc6 = null_model_for(parc, "moran", space=NLIN6)
    assert desc9 == f"moran (Euclidean centroid distances, {NLIN2009C})"
    assert desc6 == f"moran (Euclidean centroid distances, {NLIN6})"
    _, split = null_model_for(parc, "spin+moran", space=NLIN6)
    assert split == (f"alexander_bloch (fsLR) (cortex) + moran (Euclidean centroid "
                     f"distances, {NLIN6}) (subcortex)")
    _, user = null_model_for(parc, "moran", dist_mat=np.ones((216, 216)))
    assert user == "moran (user-provided distance matrix)"


def snapshot(parc) -> dict:
    return {"active_space": parc.active_space, "spaces": parc.spaces, "name": parc.name,
            "level": parc.level, "labels": parc.labels, "meta": dict(parc.meta),
            "library_names": parc.library_names, "components": parc.components,
            "space_entries": dict(parc._spaces), "cache_keys": sorted(parc._cache, key=str),
            "attributes": sorted(vars(parc))}


@pytest.mark.parametrize("parcellation_space", [None, NLIN6])
def test_the_users_parcellation_is_not_changed(pain, parcellation_space):
    parc = fetch_parcellation("Schaefer200TianS1", verbose=False)
    assert parc.active_space == NLIN2009C
    before = snapshot(parc)
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.normal(size=(2, parc.n_parcels)), index=["a", "b"],
                     columns=parc.labels)
    nsp = NiSpace(x=x, y={"pain": pain}, parcellation=parc,
                  parcellation_space=parcellation_space, verbose=False)
    nsp.fit().colocalize("spearman").permute("maps", null_method="moran", n_perm=5, seed=0)
    assert snapshot(parc) == before
    assert nsp.get_parcellation() is not parc
    assert nsp.get_parcellation().active_space == NLIN6  # the data's space, on a copy


def test_copy_and_with_space_leave_the_original_alone(schaefer):
    active = schaefer.active_space
    other = schaefer.with_space(NLIN6)
    assert other.active_space == NLIN6 and schaefer.active_space == active
    twin = schaefer.copy()
    twin.set_active_space("fsLR")
    assert schaefer.active_space == active and twin.labels == schaefer.labels
    with pytest.raises(ValueError, match="space"):
        schaefer.with_space("MNI305")


def test_surface_data_record_the_space_from_vertex_counts(schaefer):
    import nibabel as nib

    n = 32492  # fsLR 32k vertices per hemisphere
    rng = np.random.default_rng(2)
    pair = tuple(nib.GiftiImage(darrays=[nib.gifti.GiftiDataArray(
        rng.normal(size=n).astype(np.float32), intent="NIFTI_INTENT_SHAPE",
        datatype="NIFTI_TYPE_FLOAT32")]) for _ in range(2))
    nsp = NiSpace(x={"s": pair}, parcellation=schaefer, standardize=False, verbose=False).fit()
    assert nsp.fit_record_["data_space"] == {"x": "fsLR"}
    assert nsp.fit_record_["data_space_source"] == {"x": "surface vertex counts"}
    assert nsp.fit_record_["parcellation_space"] == {"x": "fsLR"}
    assert nsp.fit_record_["geometry_space"] == "fsLR"
    with pytest.raises(ValueError, match="are in 'fsaverage5' but parcellation"):
        NiSpace(x={"s": pair}, data_space="fsaverage5", parcellation=schaefer,
                verbose=False).fit()
    with pytest.raises(ValueError, match="expected surface data with the vertex counts"):
        NiSpace(x={"s": pair}, data_space="fsaverage", parcellation=schaefer,
                verbose=False).fit()
    with pytest.raises(ValueError, match="has only volumetric spaces"):
        NiSpace(x={"s": pair}, parcellation="TianS1", verbose=False).fit()
