"""Annotations as X or Y of NiSpace and the workflows.

The annotation files live on OSF, which cannot be reached here. The test serves a
copy of the mirror in which the catalogue lists, for two real entries (abagen's
gene PC1 on fsaverage 10k and Neurosynth's cognitive PC1 in MNI152 2 mm), the MD5
of full-size stand-in maps made in the test, and serves those maps at the entries'
OSF project/file ids from 127.0.0.1. Everything else of the mirror is unchanged.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json

import nibabel as nib
import numpy as np
import pytest

from nispace.api import NiSpace
from nispace.datasets import fetch_example

CATALOGUE = "annotations/neuromaps/osf.json"
ABAGEN = ("abagen", "genepc1", "fsaverage", "10k")
NEUROSYNTH = ("neurosynth", "cogpc1", "MNI152", "2mm")


def gifti_bytes(values: np.ndarray) -> bytes:
    img = nib.gifti.GiftiImage(darrays=[nib.gifti.GiftiDataArray(values.astype(np.float32))])
    return img.to_bytes()


def nifti_gz_bytes(values: np.ndarray, affine: np.ndarray) -> bytes:
    img = nib.Nifti1Image(values.astype(np.float32), affine)
    raw = io.BytesIO()
    raw.write(img.to_bytes())
    return gzip.compress(raw.getvalue(), mtime=0)


@pytest.fixture
def annotation_site(mirror, tmp_path, monkeypatch):
    from conftest import serve_directory

    rng = np.random.default_rng(0)
    root = tmp_path / "site"
    copy = root / "mirror"
    copy.mkdir(parents=True)
    for item in mirror.iterdir():  # the real mirror, by symlink, except the catalogue
        if item.name not in ("annotations", "file_hashes.json"):
            (copy / item.name).symlink_to(item)
    catalogue = json.loads((mirror / CATALOGUE).read_text(encoding="utf-8"))
    t1 = nib.load(next((mirror / "template/MNI152NLin6Asym/map/T1w").glob("*2mm*")))
    affine, shape = t1.affine, t1.shape[:3]  # the 2 mm MNI grid
    truth = {}
    for entry in catalogue["annotations"]:
        key = (entry["source"], entry["desc"], entry["space"],
               entry.get("den") or entry.get("res"))
        if key == ABAGEN:
            values = rng.normal(size=10242)
            data = gifti_bytes(values)
        elif key == NEUROSYNTH:
            values = rng.normal(size=shape)
            data = nifti_gz_bytes(values, affine)
        else:
            continue
        truth[(key, entry.get("hemi"))] = values
        entry["checksum"] = hashlib.md5(data).hexdigest()
        target = root / "osf" / entry["url"][0] / entry["url"][1]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (copy / "annotations/neuromaps").mkdir(parents=True)
    (copy / CATALOGUE).write_text(json.dumps(catalogue), encoding="utf-8")
    meta = (mirror / "annotations/neuromaps/meta.json").read_bytes()
    (copy / "annotations/neuromaps/meta.json").write_bytes(meta)
    hashes = json.loads((mirror / "file_hashes.json").read_text())
    hashes[CATALOGUE] = hashlib.sha256((copy / CATALOGUE).read_bytes()).hexdigest()
    (copy / "file_hashes.json").write_text(json.dumps(hashes))
    server, url = serve_directory(root)
    monkeypatch.setenv("NISPACE_DATA_URL", url + "mirror/")
    monkeypatch.setenv("NISPACE_ANNOTATIONS_URL", url + "osf/{project}/{file_id}")
    yield truth
    server.shutdown()
    server.server_close()


def test_annotation_tuples_as_x_and_y(annotation_site):
    pain = fetch_example("painmeta", parcellation="Schaefer200", verbose=False)
    nsp = NiSpace(x=[ABAGEN, NEUROSYNTH], y=pain, parcellation="Schaefer200",
                  standardize=False, verbose=False).fit()
    x = nsp.get_x()
    assert list(x.index) == ["abagen_genepc1_fsaverage_10k", "neurosynth_cogpc1_MNI152_2mm"]
    # the surface annotation is parcellated on fsaverage: parcel means of the vertices
    parc = nsp.get_parcellation()
    labels = parc.get_data("fsaverage")
    values = np.concatenate([annotation_site[(ABAGEN, "L")], annotation_site[(ABAGEN, "R")]])
    expected = [values[labels == v].astype(np.float32).astype(np.float64).mean()
                for v in parc.get_label_values("fsaverage")]
    np.testing.assert_allclose(x.iloc[0].to_numpy(), expected, rtol=1e-6, atol=1e-7)
    assert np.isfinite(x.iloc[1].to_numpy()).sum() > 180

    # an annotation as Y of a workflow
    from nispace.workflows import colocalization

    res = colocalization(y=ABAGEN, x=pain, parcellation="Schaefer200", n_perm=100, seed=1,
                         plot=False, verbose=False)
    assert list(res.get_y().index) == ["abagen_genepc1_fsaverage_10k"]
    p = res.get_p_values()
    assert ((p > 0) & (p <= 1)).all().all()
