"""Brain annotations: the neuromaps catalogue, listed, described and fetched.

Listing and descriptions run on the real catalogue of the data mirror (the
``data_url`` fixture) and are checked against neuromaps itself, which bundles
the same osf.json/meta.json.

Fetching cannot use the real annotation files (they live on OSF). The
``osf_site`` fixture therefore serves, over 127.0.0.1, a small site with

* ``mirror/``: a data source holding the real ``osf.json`` and ``meta.json`` and
  a ``file_hashes.json`` made for them, where only the MD5 ``checksum`` of a few
  chosen entries is rewritten to the MD5 of the stand-in files below (every
  other field, in particular ``rel_path``, ``fname`` and ``url``, is real);
* ``osf/<project>/<file_id>``: tiny GIfTI/NIfTI stand-ins made with nibabel for
  those entries, at the catalogue's own project and file ids,

and points ``NISPACE_DATA_URL`` at ``mirror/`` and ``NISPACE_ANNOTATIONS_URL``
at ``osf/{project}/{file_id}``. No test hook exists in the package: the fetcher
runs exactly as it would against OSF.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from nispace.datasets import annotations
from nispace.datasets.annotations import (available_annotations, available_tags,
                                          describe_annotations, fetch_annotation)
from nispace.datasets.download import DataFetchError

pytestmark = pytest.mark.network

CATALOGUE = "annotations/neuromaps/osf.json"
META = "annotations/neuromaps/meta.json"
ABAGEN = ("abagen", "genepc1", "fsaverage", "10k")
NEUROSYNTH = ("neurosynth", "cogpc1", "MNI152", "2mm")
XU = ("xu2020", "FChomology", "fsLR", "32k")  # the catalogue lists hemi R before L
SPRENG = ("spreng", "feobv", "MNI152", "1mm")  # restricted (private OSF project)


@pytest.fixture(autouse=True)
def fresh_catalogue_memo():
    annotations.clear_memo()
    yield
    annotations.clear_memo()


# --------------------------------------------------------------------------------------
# listing: the same answers as neuromaps

FILTERS = [
    {},
    {"source": "abagen"}, {"source": "neurosynth"}, {"source": "margulies2016"},
    {"source": "hill2010"}, {"source": "xu2020"}, {"source": "spreng"},
    {"space": "fsaverage"}, {"space": "fsLR"}, {"space": "MNI152"}, {"space": "civet"},
    {"den": "10k"}, {"den": "32k"}, {"den": "164k"}, {"res": "1mm"}, {"res": "2mm"},
    {"den": "2mm"},  # den and res are pooled, as in neuromaps
    {"den": "10k", "res": "2mm"}, {"den": ["4k", "41k"], "res": ["3mm"]},
    {"tags": "PET"}, {"tags": ["PET"]}, {"tags": ["PET", "receptors"]},
    {"tags": ["fMRI", "functional"]}, {"tags": ["genetics", "PET"]}, {"tags": []},
    {"source": ["abagen", "neurosynth"]}, {"space": ["fsLR", "civet"], "format": "surface"},
    {"desc": ["fcgradient01", "cogpc1", "genepc1"]},
    {"format": "surface"}, {"format": "volume"}, {"format": ["volume", "surface"]},
    {"hemi": "L"}, {"hemi": "R", "space": "fsLR"}, {"hemi": ["L", "R"], "den": "164k"},
    {"source": "all"}, {"space": "all", "tags": "MEG"}, {"hemi": "all"},
    {"format": "all", "res": "1mm"},
    {"source": "abagen", "space": "MNI152"}, {"source": "nonexistent"},
]


def test_listing_and_tags_match_neuromaps(data_url):
    nm = pytest.importorskip("neuromaps.datasets")
    for filters in FILTERS:
        for restricted in (False, True):
            ours = available_annotations(**filters, return_restricted=restricted)
            theirs = nm.available_annotations(**filters, return_restricted=restricted)
            assert ours == theirs, (filters, restricted)
    for restricted in (False, True):
        assert available_tags(restricted) == nm.available_tags(restricted)
    # the restricted annotation only shows up on request
    assert SPRENG not in available_annotations()
    assert available_annotations(source="spreng", return_restricted=True) == [SPRENG]
    assert len(available_annotations(return_restricted=True)) == len(available_annotations()) + 1


def test_all_matches_everything_for_every_key(data_url):
    # neuromaps' documentation says "set any of the parameters to 'all'", but its
    # tags/den/res="all" match nothing; here they match every annotation
    everything = available_annotations()
    assert available_annotations(tags="all") == everything
    assert available_annotations(den="all") == everything
    assert available_annotations(res="all", den="10k") == everything
    # a list is compared value by value (neuromaps would match substrings here)
    assert available_annotations(source=["abag"]) == []
    assert available_annotations(source=["abagen"]) == [ABAGEN]


def test_filters_must_be_strings(data_url):
    with pytest.raises(TypeError, match=r"space: expected a string, a list of strings"):
        available_annotations(space=3)
    with pytest.raises(TypeError, match="tags"):
        available_annotations(tags={"PET": 1})


# --------------------------------------------------------------------------------------
# descriptions and citations

def test_describe_gives_description_and_citations(data_url):
    table = describe_annotations(ABAGEN)
    assert list(table.index) == [ABAGEN]
    row = table.loc[ABAGEN]
    assert row["full_desc"] == "PC1 of genes in the Allen Human Brain Atlas"
    assert row["format"] == "surface" and row["hemis"] == ("L", "R")
    assert row["tags"] == ["genetics"] and row["n"] == 6 and row["age"] == "24-55"
    assert [r["bibkey"] for r in row["primary_refs"]] == ["hawrylycz2012nature",
                                                          "markello2021elife"]
    assert row["primary_refs"][0]["citation"].startswith("Michael J Hawrylycz")
    assert row["secondary_refs"] == []  # the empty placeholder of meta.json is dropped
    assert "abagen toolbox" in row["citation"] and not row["restricted"]

    # filters instead of tuples; volumes have no hemispheres; meta warnings and licences
    beliveau = describe_annotations(source="beliveau2017", space="MNI152")
    assert len(beliveau) == 5 and set(beliveau["hemis"]) == {()}
    assert beliveau["warning"].str.contains("fsaverage").all()
    assert set(beliveau["license"]) == {"CC BY-NC-SA 4.0"}
    # DOIs are read from the citation text where it gives one
    kim = describe_annotations(source="kim2020")
    dois = [r["doi"] for refs in kim["primary_refs"] for r in refs]
    assert "10.18112/openneuro.ds004401.v1.0.1" in dois
    assert describe_annotations(SPRENG).loc[SPRENG, "restricted"]


def test_describe_agrees_with_neuromaps(data_url):
    nm = pytest.importorskip("neuromaps.datasets")
    keys = available_annotations()
    ours = describe_annotations(keys)
    theirs = nm.describe_annotations(keys, format="dataframe").set_index("annot.key")
    assert list(ours.index) == keys
    assert ours["full_desc"].tolist() == theirs.loc[keys, "full_desc"].tolist()
    for key, refs in zip(keys, theirs.loc[keys, "refs.primary"]):
        expected = [r["citation"] for r in refs if r["citation"] or r["bibkey"]]
        assert [r["citation"] for r in ours.loc[key, "primary_refs"]] == expected, key


def test_describe_rejects_unknown_annotations(data_url):
    with pytest.raises(ValueError, match=r"unknown \[\('abagen', 'genepc1', 'fsaverage', "
                                         r"'41k'\)\]"):
        describe_annotations([("abagen", "genepc1", "fsaverage", "41k")])
    with pytest.raises(TypeError, match="either annotations or filters"):
        describe_annotations([ABAGEN], source="abagen")


# --------------------------------------------------------------------------------------
# fetching from a local stand-in for OSF

def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def gifti_bytes(values) -> bytes:
    darray = nib.gifti.GiftiDataArray(np.asarray(values, dtype=np.float32),
                                      intent="NIFTI_INTENT_NONE")
    return nib.GiftiImage(darrays=[darray]).to_xml()


def nifti_gz_bytes(values) -> bytes:
    img = nib.Nifti1Image(np.asarray(values, dtype=np.float32), np.eye(4))
    return gzip.compress(img.to_bytes(), mtime=0)


def stand_in(fname: str, i: int) -> bytes:
    """A tiny file of the catalogue entry's format; ``i`` makes each one distinct."""
    if fname.endswith(".func.gii"):
        return gifti_bytes(np.arange(12) + 100 * i)
    return nifti_gz_bytes(np.arange(27).reshape(3, 3, 3) + 100 * i)


def stored_values(path) -> np.ndarray:
    img = nib.load(path)
    if isinstance(img, nib.GiftiImage):
        return img.darrays[0].data
    return np.asarray(img.dataobj).ravel()


def part_files(folder: Path) -> list[str]:
    return [name for _, _, names in os.walk(folder) for name in names if name.endswith(".part")]


class OsfSite:
    """The served site: stand-in bytes per fname, their URL path, and a request log."""

    def __init__(self, root: Path, url: str, server, requests: list[str]):
        self.root, self.url, self.server, self.requests = root, url, server, requests
        self.entries = {}  # fname -> catalogue entry
        self.data = {}  # fname -> stand-in bytes

    def path_of(self, fname: str) -> Path:
        project, file_id = self.entries[fname]["url"]
        return self.root / "osf" / project / file_id

    def hits(self, fname: str) -> int:
        project, file_id = self.entries[fname]["url"]
        return self.requests.count(f"/osf/{project}/{file_id}")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def osf_site(mirror, tmp_path, monkeypatch) -> OsfSite:
    from conftest import QuietHandler, serve_directory

    root = tmp_path / "site"
    catalogue = json.loads((mirror / CATALOGUE).read_text(encoding="utf-8"))
    chosen = [e for e in catalogue["annotations"] if annotations._annotation_key(e)
              in (ABAGEN, NEUROSYNTH, XU, SPRENG)]
    assert len(chosen) == 6
    requests: list[str] = []

    class LoggingHandler(QuietHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

    server, url = serve_directory(root, LoggingHandler)
    site = OsfSite(root, url, server, requests)
    for i, entry in enumerate(chosen):
        data = stand_in(entry["fname"], i)
        entry["checksum"] = md5(data)  # the only change made to the real catalogue
        site.entries[entry["fname"]], site.data[entry["fname"]] = entry, data
        if annotations._annotation_key(entry) != SPRENG:  # not downloadable
            site.path_of(entry["fname"]).parent.mkdir(parents=True, exist_ok=True)
            site.path_of(entry["fname"]).write_bytes(data)

    mirror_dir = root / "mirror"
    (mirror_dir / CATALOGUE).parent.mkdir(parents=True)
    (mirror_dir / CATALOGUE).write_text(json.dumps(catalogue), encoding="utf-8")
    shutil.copyfile(mirror / META, mirror_dir / META)
    hashes = {rel: hashlib.sha256((mirror_dir / rel).read_bytes()).hexdigest()
              for rel in (CATALOGUE, META)}
    (mirror_dir / "file_hashes.json").write_text(json.dumps(hashes), encoding="utf-8")

    monkeypatch.setenv("NISPACE_DATA_URL", url + "mirror/")
    monkeypatch.setenv("NISPACE_ANNOTATIONS_URL", url + "osf/{project}/{file_id}")
    yield site
    site.stop()


def fname_of(key: tuple, hemi: str | None = None) -> str:
    source, desc, space, denres = key
    kind = "res" if denres.endswith("mm") else "den"
    stem = f"source-{source}_desc-{desc}_space-{space}_{kind}-{denres}"
    return f"{stem}_feature.nii.gz" if hemi is None else f"{stem}_hemi-{hemi}_feature.func.gii"


def test_fetch_returns_neuromaps_shapes(osf_site, isolated_env):
    cache = isolated_env / "annotations"  # default: <NISPACE_DATA_DIR>/annotations
    volume = fetch_annotation(source="neurosynth")
    assert volume == cache / "neurosynth/cogpc1/MNI152" / fname_of(NEUROSYNTH)
    assert volume.read_bytes() == osf_site.data[volume.name]
    np.testing.assert_array_equal(stored_values(volume), np.arange(27) + 100 * 2)

    left, right = fetch_annotation(source="abagen")  # a surface: [L, R]
    assert (left.name, right.name) == (fname_of(ABAGEN, "L"), fname_of(ABAGEN, "R"))
    assert left.parent == cache / "abagen/genepc1/fsaverage"
    assert stored_values(left).shape == (12,)

    # [L, R] even where the catalogue lists the right hemisphere first
    xu = fetch_annotation(source="xu2020", desc="FChomology")
    assert [p.name for p in xu] == [fname_of(XU, "L"), fname_of(XU, "R")]
    # one hemisphere of a surface is a single file
    assert fetch_annotation(source="abagen", hemi="L") == left

    several = fetch_annotation(source=["abagen", "neurosynth"])
    assert list(several) == [ABAGEN, NEUROSYNTH]  # catalogue order
    assert several == {ABAGEN: [left, right], NEUROSYNTH: volume}
    assert fetch_annotation(source="neurosynth", return_single=False) == {NEUROSYNTH: volume}
    # every file was downloaded exactly once, then served from the cache
    assert all(osf_site.hits(f) == 1 for f in [fname_of(ABAGEN, "L"), fname_of(NEUROSYNTH)])


def test_cached_files_are_verified_and_work_offline(osf_site):
    name = fname_of(NEUROSYNTH)
    path = fetch_annotation(source="neurosynth")
    path.write_bytes(path.read_bytes()[:-5] + b"oops!")  # same size, corrupted
    assert fetch_annotation(source="neurosynth") == path
    assert path.read_bytes() == osf_site.data[name] and osf_site.hits(name) == 2

    osf_site.stop()  # offline: the verified cache is enough
    assert fetch_annotation(source="neurosynth") == path
    path.unlink()
    with pytest.raises(DataFetchError, match=r"Could not obtain annotation \('neurosynth'"):
        fetch_annotation(source="neurosynth")
    assert not path.exists() and part_files(path.parent) == []


def test_concurrent_fetches_download_once(osf_site):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: fetch_annotation(source="abagen"), range(4)))
    assert all(r == results[0] for r in results)
    assert osf_site.hits(fname_of(ABAGEN, "L")) == 1 == osf_site.hits(fname_of(ABAGEN, "R"))


def test_papers_to_cite_are_logged(osf_site, caplog):
    fetch_annotation(source="abagen", verbose=True)
    cite = [r.getMessage() for r in caplog.records if "Please cite" in r.getMessage()]
    assert len(cite) == 1 and "Hawrylycz" in cite[0] and "abagen toolbox" in cite[0]


def test_a_corrupt_download_leaves_nothing_in_the_cache(osf_site, isolated_env):
    name = fname_of(NEUROSYNTH)
    osf_site.path_of(name).write_bytes(nifti_gz_bytes(np.zeros((3, 3, 3))))  # wrong bytes
    with pytest.raises(DataFetchError, match="MD5 checksum mismatch") as info:
        fetch_annotation(source="neurosynth")
    assert "Nothing was written to the cache" in str(info.value)
    assert osf_site.hits(name) == 5  # retried
    target = isolated_env / "annotations/neurosynth/cogpc1/MNI152" / name
    assert not target.exists() and part_files(isolated_env) == []

    osf_site.path_of(name).unlink()  # gone from the source
    with pytest.raises(DataFetchError, match="not found"):
        fetch_annotation(source="neurosynth")
    assert not target.exists() and part_files(isolated_env) == []


def test_restricted_annotations_need_an_osf_token(osf_site, isolated_env):
    with pytest.raises(DataFetchError, match=r"\('spreng', 'feobv', 'MNI152', '1mm'\)"
                                             r".*restricted.*OSF access token") as info:
        fetch_annotation(source="spreng")
    assert "return_restricted=True" in str(info.value)
    with pytest.raises(DataFetchError, match="not in the cache"):
        fetch_annotation(source="spreng", return_restricted=True)
    # without return_restricted they are left out of broader requests
    assert list(fetch_annotation(source=["spreng", "neurosynth"], return_single=False)) == [
        NEUROSYNTH]
    assert not any("grh4d" in r for r in osf_site.requests)

    # a copy put into the cache by hand (e.g. from neuromaps) is used once verified
    name = fname_of(SPRENG)
    target = isolated_env / "annotations/spreng/feobv/MNI152" / name
    target.parent.mkdir(parents=True)
    target.write_bytes(osf_site.data[name])
    assert fetch_annotation(source="spreng", return_restricted=True) == target


def test_cache_location_argument_and_environment(osf_site, tmp_path, monkeypatch):
    rel = Path("annotations/neurosynth/cogpc1/MNI152") / fname_of(NEUROSYNTH)
    assert fetch_annotation(source="neurosynth", data_dir=tmp_path / "a") == tmp_path / "a" / rel
    monkeypatch.setenv("NISPACE_ANNOTATIONS_DIR", str(tmp_path / "b"))
    assert fetch_annotation(source="neurosynth") == tmp_path / "b" / rel
    assert fetch_annotation(source="neurosynth", data_dir=tmp_path / "c") == tmp_path / "c" / rel


def test_url_template_argument(osf_site, tmp_path):
    other = tmp_path / "copy"  # a local folder laid out as {project}/{file_id}
    shutil.copytree(osf_site.root / "osf", other)
    path = fetch_annotation(source="abagen", hemi="R", url_template=str(other) +
                            "/{project}/{file_id}")
    assert path.read_bytes() == osf_site.data[path.name]
    assert osf_site.hits(path.name) == 0  # the argument wins over NISPACE_ANNOTATIONS_URL
    with pytest.raises(ValueError, match=r"url_template: expected a string with the fields"):
        fetch_annotation(source="abagen", url_template="http://x/{project}/{name}")


def test_no_match_errors_say_what_to_change(data_url):
    with pytest.raises(ValueError, match=r"source='abagn' matches no annotation.*"
                                         r"Did you mean 'abagen'\?"):
        fetch_annotation(source="abagn")
    with pytest.raises(ValueError, match=r"den='3k' matches no annotation\. Known values: "):
        fetch_annotation(den="3k", tags=["PET"])
    with pytest.raises(ValueError, match=r"not in this combination \(source='abagen' alone "
                                         r"matches \[\('abagen', 'genepc1'"):
        fetch_annotation(source="abagen", space="MNI152")
    with pytest.raises(ValueError, match="expected at least one of"):
        fetch_annotation()


# --------------------------------------------------------------------------------------
# a catalogue cannot send the fetcher anywhere, nor skip verification

def rewrite_entry(site: OsfSite, fname: str, **changes) -> dict:
    """Change one entry of the served catalogue (and its manifest hash), as a hostile
    or broken data source would; returns the new entry."""
    mirror_dir = site.root / "mirror"
    catalogue = json.loads((mirror_dir / CATALOGUE).read_text(encoding="utf-8"))
    (entry,) = [e for e in catalogue["annotations"] if e["fname"] == fname]
    entry.update(changes)
    (mirror_dir / CATALOGUE).write_text(json.dumps(catalogue), encoding="utf-8")
    hashes = {rel: hashlib.sha256((mirror_dir / rel).read_bytes()).hexdigest()
              for rel in (CATALOGUE, META)}
    (mirror_dir / "file_hashes.json").write_text(json.dumps(hashes), encoding="utf-8")
    return entry


@pytest.fixture
def secret(tmp_path) -> Path:
    """A local file no catalogue may copy into the cache."""
    path = tmp_path / "secret.txt"
    path.write_text("password")
    return path


@pytest.mark.parametrize("kind", ["file_url", "bare_path", "foreign_http", "escaping_ids",
                                  "other_scheme"])
@pytest.mark.parametrize("checksum", ["real", None])
def test_catalogue_urls_outside_the_allowed_hosts_are_refused(osf_site, isolated_env, secret,
                                                              kind, checksum):
    from conftest import closed_port_url

    name = fname_of(NEUROSYNTH)
    url = {"file_url": secret.as_uri(), "bare_path": str(secret),
           "foreign_http": closed_port_url() + "internal/admin",
           "escaping_ids": ["..", "..%2F..%2Fsecret.txt"],
           "other_scheme": "ftp://127.0.0.1/x"}[kind]
    real = osf_site.entries[name]["checksum"]
    rewrite_entry(osf_site, name, url=url, checksum=real if checksum else None)
    with pytest.raises(DataFetchError, match=r"\('neurosynth', 'cogpc1', 'MNI152', '2mm'\)"
                                             r".*Nothing was downloaded") as info:
        fetch_annotation(source="neurosynth", allow_unverified=True)

    assert "url" in str(info.value).lower()
    assert not any(r.startswith("/osf/") for r in osf_site.requests)  # no file was asked for
    assert not (isolated_env / "annotations/neurosynth").exists()
    assert part_files(isolated_env) == []


def test_a_missing_checksum_is_an_error_unless_allowed(osf_site, isolated_env, monkeypatch,
                                                       caplog):
    name = fname_of(NEUROSYNTH)
    rewrite_entry(osf_site, name, checksum=None)

    with pytest.raises(DataFetchError, match=r"no valid MD5 checksum.*allow_unverified=True.*"
                                             r"NISPACE_ALLOW_UNVERIFIED=1"):
        fetch_annotation(source="neurosynth")
    assert osf_site.hits(name) == 0 and not (isolated_env / "annotations/neurosynth").exists()
    with pytest.raises(TypeError, match="allow_unverified: expected True, False or None"):
        fetch_annotation(source="neurosynth", allow_unverified="yes")

    # the user opts in: by argument ...
    path = fetch_annotation(source="neurosynth", allow_unverified=True)
    assert path.read_bytes() == osf_site.data[name]
    assert any("used unverified" in r.getMessage() for r in caplog.records
               if r.levelno == logging.WARNING)
    # ... or by environment variable; an explicit False wins over it
    monkeypatch.setenv("NISPACE_ALLOW_UNVERIFIED", "1")
    assert fetch_annotation(source="neurosynth") == path
    with pytest.raises(DataFetchError, match="no valid MD5 checksum"):
        fetch_annotation(source="neurosynth", allow_unverified=False)


def test_full_urls_under_the_configured_source_are_accepted(osf_site):
    name = fname_of(NEUROSYNTH)
    project, file_id = osf_site.entries[name]["url"]
    rewrite_entry(osf_site, name, url=f"{osf_site.url}osf/{project}/{file_id}")
    path = fetch_annotation(source="neurosynth")
    assert path.read_bytes() == osf_site.data[name] and osf_site.hits(name) == 1


def test_an_upper_case_md5_checksum_is_accepted(osf_site, isolated_env):
    """MD5 hex digits in upper case are the same checksum: the file is downloaded and
    verified (and a second call uses the cached copy)."""
    name = fname_of(NEUROSYNTH)
    rewrite_entry(osf_site, name, checksum=osf_site.entries[name]["checksum"].upper())
    path = fetch_annotation(source="neurosynth")
    assert path.read_bytes() == osf_site.data[name]
    assert fetch_annotation(source="neurosynth") == path
    assert osf_site.hits(name) == 1
