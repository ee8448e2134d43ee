"""Neurovault maps as nispace inputs, against a small Neurovault emulator on 127.0.0.1.

The emulator answers the endpoints nilearn's fetchers call (collection lists and
pages of images with ``limit``/``offset`` paging, single collections and images,
image files, the Neurosynth decoder) and records every request. A guard fails
the test if anything tries to reach a host other than 127.0.0.1, and the
default server URLs point at a closed port.
"""

from __future__ import annotations

import gzip
import http.server
import json
import re
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import requests
from conftest import closed_port_url

from nispace.api import NiSpace
from nispace.datasets import neurovault
from nispace.datasets.neurovault import (
    Contains,
    GreaterOrEqual,
    GreaterThan,
    IsIn,
    IsNull,
    LessOrEqual,
    LessThan,
    NotContains,
    NotEqual,
    NotIn,
    NotNull,
    Pattern,
    ResultFilter,
    fetch_neurovault,
    fetch_neurovault_ids,
    neurovault_maps,
)
from nispace.errors import InputError, InputTypeError
from nispace.parcellation import Parcellation

SHAPE = (10, 12, 10)  # 2 mm voxels, MNI-like origin
AFFINE = np.array([[2.0, 0, 0, -10], [0, 2.0, 0, -12], [0, 0, 2.0, -10], [0, 0, 0, 1]])
PARCELS = [f"box{i}" for i in range(1, 9)]
KEPT_BY_DEFAULT = {101, 102, 103, 201, 203, 204}


def _collection(cid, name, doi, n_images):
    return {"id": cid, "name": name, "DOI": doi, "owner": cid - 10,
            "number_of_images": n_images, "url": f"https://neurovault.org/collections/{cid}/"}


def _image(iid, cid, name, map_type="T map", modality="fMRI-BOLD", contrast="", n=20, **extra):
    meta = {"id": iid, "collection_id": cid, "name": name, "map_type": map_type,
            "image_type": "statistic_map", "modality": modality,
            "contrast_definition": contrast, "number_of_subjects": n, "not_mni": False,
            "is_valid": True, "is_thresholded": False, "analysis_level": "group",
            "url": f"https://neurovault.org/images/{iid}/",
            "collection": f"https://neurovault.org/collections/{cid}/",
            "file": f"https://neurovault.org/media/images/{cid}/{iid}_{name[:4]}.nii.gz"}
    meta.update(extra)
    return meta


COLLECTIONS = [_collection(11, "Pain studies", "10.1000/pain", 6),
               _collection(12, "Language", None, 4),
               _collection(13, "Empty", "10.1000/empty", 0)]
IMAGES = [
    _image(101, 11, "Pain", contrast="pain > rest", n=20),
    _image(102, 11, "Heat", "Z map", "fMRI-CBF", "heat > warm", n=35),
    _image(103, 11, "Touch", n=12, is_valid=False),  # nilearn's code keeps it
    _image(104, 11, "Pain thresholded", is_thresholded=True),  # dropped by default
    _image(105, 11, "Pain ROI", "ROI/mask", n=8),  # dropped by default
    _image(106, 11, "Pain native space", n=9, not_mni=True),  # dropped by default
    _image(201, 12, "Reading", "Z map", contrast="words > rest", n=40),
    _image(202, 12, "Language atlas", "parcellation", None, n=None, image_type="atlas"),  # dropped
    _image(203, 12, "Listening", "F map", None, "speech > noise", n=None),
    _image(204, 12, "Reading", "Z map", contrast="words > rest", n=18),  # second session
]
WORDS = {101: {"pain": 0.5, "heat": 0.1}, 102: {"heat": 0.4, "touch": 0.2}}


def map_data(image_id: int) -> np.ndarray:
    """A map with values around 5 + image_id % 7 (never 0, so no voxel is background)."""
    rng = np.random.default_rng(image_id)
    return (5.0 + image_id % 7 + rng.normal(size=SHAPE)).astype(np.float32)


def label_volume() -> np.ndarray:
    """8 boxes of 5 x 6 x 5 voxels filling the grid (labels 1..8)."""
    labels = np.zeros(SHAPE, dtype=np.int16)
    for k, (i, j, m) in enumerate(np.ndindex(2, 2, 2), start=1):
        labels[i * 5:(i + 1) * 5, j * 6:(j + 1) * 6, m * 5:(m + 1) * 5] = k
    return labels


class NeurovaultEmulator:
    """Threaded HTTP server answering nilearn's Neurovault and Neurosynth requests.

    Lists are paged by at most ``page_size`` results (like a server-side cap on
    ``limit``), so a handful of images already spans several pages.
    """

    def __init__(self, collections, images, words, page_size=2):
        self.collections = {c["id"]: c for c in collections}
        self.images = {m["id"]: m for m in images}
        self.files = {urlsplit(m["file"]).path: gzip.compress(
            nib.Nifti1Image(map_data(m["id"]), AFFINE).to_bytes()) for m in images}
        self.words, self.page_size = words, page_size
        self.requests: list[str] = []  # path?query of every request, in order
        self._lock = threading.Lock()
        emulator = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with emulator._lock:
                    emulator.requests.append(self.path)
                status, body, ctype = emulator.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.api = self.root + "api/"
        self.neurosynth = self.root + "neurosynth/api/decode/"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def paths(self, pattern: str) -> list[str]:
        return [r for r in self.requests if re.search(pattern, r)]

    # -- responses
    def _page(self, path, items, query):
        for key, values in query.items():  # server-side terms (e.g. ?DOI=...)
            if key not in ("limit", "offset"):
                items = [it for it in items if str(it.get(key)) == values[0]]
        limit = min(int(query.get("limit", ["100"])[0]), self.page_size)
        offset = int(query.get("offset", ["0"])[0])

        def link(start):
            return f"{self.root.rstrip('/')}{path}?limit={limit}&offset={start}"

        return {"count": len(items),
                "next": link(offset + limit) if offset + limit < len(items) else None,
                "previous": link(max(offset - limit, 0)) if offset > 0 else None,
                "results": items[offset:offset + limit]}

    def answer(self, raw_path):
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query)
        if path in self.files:
            return 200, self.files[path], "application/gzip"
        if path == "/neurosynth/api/decode/":
            values = self.words.get(int(query["neurovault"][0]), {})
            return 200, json.dumps({"data": {"values": values}}).encode(), "application/json"
        payload = None
        if path == "/api/collections/":
            payload = self._page(path, list(self.collections.values()), query)
        elif m := re.fullmatch(r"/api/collections/(\d+)/?", path):
            payload = self.collections.get(int(m[1]))
        elif m := re.fullmatch(r"/api/collections/(\d+)/images/?", path):
            cid = int(m[1])
            payload = self._page(path, [im for im in self.images.values()
                                        if im["collection_id"] == cid], query)
        elif m := re.fullmatch(r"/api/images/(\d+)/?", path):
            payload = self.images.get(int(m[1]))
        if payload is None:
            return 404, b'{"detail": "Not found."}', "application/json"
        return 200, json.dumps(payload).encode(), "application/json"


@pytest.fixture(autouse=True)
def only_local_requests(monkeypatch):
    """Record every HTTP request; refuse (and fail the test on) any non-local host.

    The default server URLs point at a closed port, so a call that forgets the
    emulator fails fast instead of reaching neurovault.org.
    """
    monkeypatch.setenv("NISPACE_NEUROVAULT_URL", closed_port_url() + "api/")
    monkeypatch.setenv("NISPACE_NEUROSYNTH_URL", closed_port_url())
    monkeypatch.delenv("NISPACE_NEUROVAULT_DIR", raising=False)
    sent, refused = [], []
    send = requests.Session.send

    def guarded_send(session, request, **kwargs):
        sent.append(request.url)
        if urlsplit(request.url).hostname != "127.0.0.1":
            refused.append(request.url)
            raise requests.ConnectionError(f"test guard: {request.url} is not local")
        return send(session, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", guarded_send)
    yield sent
    assert refused == [], f"requests left 127.0.0.1: {refused}"


@pytest.fixture
def emulator():
    emu = NeurovaultEmulator(COLLECTIONS, IMAGES, WORDS)
    yield emu
    emu.stop()


def ids(result) -> set[int]:
    return {m["id"] for m in result["images_meta"]}


# --------------------------------------------------------------------------------------
# explicit ids

def test_fetch_by_collection_and_image_ids(emulator, isolated_env):
    res = fetch_neurovault_ids(collection_ids=[12], base_url=emulator.api)
    assert ids(res) == {201, 202, 203, 204}  # explicit ids: no metadata filter
    assert {c["id"] for c in res["collections_meta"]} == {12}
    for path, meta in zip(res["images"], res["images_meta"]):
        assert path.startswith(str(isolated_env / "neurovault" / "collection_12"))
        np.testing.assert_array_equal(nib.load(path).get_fdata(), map_data(meta["id"]))
        assert meta["file"].startswith("https://neurovault.org/media/")  # metadata untouched

    res = fetch_neurovault_ids(image_ids=[101, 105], base_url=emulator.api)
    assert ids(res) == {101, 105} and {c["id"] for c in res["collections_meta"]} == {11}
    assert emulator.paths(r"^/api/images/101") and emulator.paths(r"^/api/collections/11")

    # everything is cached now: the same calls make no request at all
    n = len(emulator.requests)
    again = fetch_neurovault_ids(collection_ids=[12], image_ids=[101, 105],
                                 base_url=emulator.api)
    assert ids(again) == {201, 202, 203, 204, 101, 105} and len(emulator.requests) == n


# --------------------------------------------------------------------------------------
# filters

def test_default_filters_and_paging(emulator):
    res = fetch_neurovault(max_images=None, base_url=emulator.api)
    # not in MNI space, thresholded, ROI/mask and atlas images are dropped; the
    # is_valid=False image is kept (nilearn dropped that default, nilearn#2168)
    assert ids(res) == KEPT_BY_DEFAULT
    assert len(res["images"]) == len(res["images_meta"]) == len(res["collections_meta"])
    # 3 collections and 6 images of collection 11 at <= 2 per page: 2 and 3 pages
    assert len(emulator.paths(r"^/api/collections/\?limit=\d+&offset=")) == 2
    offsets = [parse_qs(urlsplit(p).query)["offset"][0]
               for p in emulator.paths(r"^/api/collections/11/images/")]
    assert offsets == ["0", "2", "4"]
    assert not emulator.paths(r"^/api/collections/13/images/")  # empty: skipped
    # only the images that passed the filters were downloaded
    assert len(emulator.paths(r"^/media/")) == len(KEPT_BY_DEFAULT)

    strict = fetch_neurovault(max_images=None, base_url=emulator.api, is_valid=True)
    assert ids(strict) == KEPT_BY_DEFAULT - {103}


@pytest.mark.parametrize(("terms", "expected"), [
    ({"modality": "fMRI-BOLD"}, {101, 103, 201, 204}),
    ({"modality": IsIn("fMRI-BOLD", "fMRI-CBF")}, {101, 102, 103, 201, 204}),
    ({"modality": NotIn("fMRI-BOLD")}, {102, 203}),
    ({"modality": IsNull()}, {203}),
    ({"number_of_subjects": NotNull()}, {101, 102, 103, 201, 204}),
    ({"name": Contains("ain")}, {101}),
    ({"name": NotContains("ing")}, {101, 102, 103}),
    ({"name": Pattern(r"(pain|heat)$", re.IGNORECASE)}, {101, 102}),
    ({"number_of_subjects": GreaterThan(20)}, {102, 201}),
    ({"number_of_subjects": GreaterOrEqual(20)}, {101, 102, 201}),
    ({"number_of_subjects": LessThan(20)}, {103, 204}),
    ({"number_of_subjects": LessOrEqual(20)}, {101, 103, 204}),
    ({"modality": NotEqual("fMRI-BOLD")}, {102, 203}),
    # a keyword on a field of the defaults replaces that default: ROI/mask 105 is back
    ({"map_type": NotEqual("T map")}, {102, 105, 201, 203, 204}),
    ({"collection_id": 12}, {201, 203, 204}),
])
def test_keyword_filters_add_to_the_defaults(emulator, terms, expected):
    res = fetch_neurovault(max_images=None, base_url=emulator.api, **terms)
    assert ids(res) == expected


def test_terms_replace_the_defaults_and_server_side_terms(emulator):
    rois = fetch_neurovault(max_images=None, image_terms={"map_type": "ROI/mask"},
                            base_url=emulator.api)
    assert ids(rois) == {105}
    # DOI is one of the fields the server filters: it goes into the query
    pain = fetch_neurovault(max_images=None, collection_terms={"DOI": "10.1000/pain"},
                            base_url=emulator.api)
    assert ids(pain) == {101, 102, 103}
    assert emulator.paths(r"^/api/collections/\?DOI=10.1000%2Fpain&limit=")


def test_result_filter_and_callable_filters(emulator, tmp_path):
    bold_not_t = ResultFilter(modality="fMRI-BOLD").AND(ResultFilter(map_type="T map").NOT())
    with pytest.warns(UserWarning, match="default filters in `image_terms` still apply"):
        res = fetch_neurovault(max_images=None, image_filter=bold_not_t, base_url=emulator.api)
        either = ResultFilter(map_type="F map").OR(ResultFilter(name="Heat"))
        res_or = fetch_neurovault(max_images=None, image_filter=either, base_url=emulator.api)
    assert ids(res) == {201, 204}
    assert ids(res_or) == {102, 203}

    # image_terms={} switches the defaults off: the thresholded image 104 passes
    twenty = fetch_neurovault(max_images=None, image_terms={},
                              image_filter=lambda m: m.get("number_of_subjects") == 20,
                              base_url=emulator.api)
    assert ids(twenty) == {101, 104}

    with pytest.warns(UserWarning, match="default filters in `collection_terms`"):
        with_doi = fetch_neurovault(max_images=None, base_url=emulator.api,
                                    collection_filter=lambda c: c.get("DOI") is not None,
                                    data_dir=tmp_path / "fresh")  # see the next test
    assert ids(with_doi) == {101, 102, 103}


def test_filter_helpers_are_nilearns():
    import nilearn.datasets.neurovault as nv

    for name in ["IsNull", "NotNull", "NotEqual", "GreaterOrEqual", "GreaterThan",
                 "LessOrEqual", "LessThan", "IsIn", "NotIn", "Contains", "NotContains",
                 "Pattern", "ResultFilter"]:
        assert getattr(neurovault, name) is getattr(nv, name)
        assert name in neurovault.__all__ and name in dir(neurovault)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        neurovault.Nope  # noqa: B018


# --------------------------------------------------------------------------------------
# cache and modes

def test_max_images_and_download_new_reuses_the_cache(emulator):
    first = fetch_neurovault(max_images=2, base_url=emulator.api)
    assert len(first["images"]) == 2 and len(emulator.paths(r"^/media/")) == 2

    more = fetch_neurovault(max_images=4, base_url=emulator.api)
    assert len(more["images"]) == 4 and ids(first) <= ids(more)
    assert len(emulator.paths(r"^/media/")) == 4  # the first two were not downloaded again

    n = len(emulator.requests)
    same = fetch_neurovault(max_images=4, base_url=emulator.api)
    assert ids(same) == ids(more) and len(emulator.requests) == n  # all found on disk


def test_download_new_skips_collections_already_cached(emulator):
    """nilearn's download_new does not scan a collection again once some of its
    images are cached, so new filters can miss its other images; overwrite scans."""
    fetch_neurovault(max_images=None, name="Pain", base_url=emulator.api)  # caches 101
    bold = fetch_neurovault(max_images=None, modality="fMRI-BOLD", base_url=emulator.api)
    assert ids(bold) == {101, 201, 204}  # 101 is BOLD: collection 11 was not read again
    rescanned = fetch_neurovault(max_images=None, modality="fMRI-BOLD", mode="overwrite",
                                 base_url=emulator.api)
    assert ids(rescanned) == {101, 103, 201, 204}


def test_offline_mode_reads_the_cache_with_the_server_stopped(emulator, only_local_requests):
    online = fetch_neurovault(max_images=None, base_url=emulator.api)
    emulator.stop()
    n_sent = len(only_local_requests)

    offline = fetch_neurovault(max_images=None, mode="offline", base_url=emulator.api)
    assert ids(offline) == ids(online)
    assert sorted(offline["images"]) == sorted(online["images"])
    bold = fetch_neurovault(max_images=None, mode="offline", modality="fMRI-BOLD")
    assert ids(bold) == {101, 103, 201, 204}  # filters apply to the cache
    by_id = fetch_neurovault_ids(collection_ids=[12], mode="offline")
    assert ids(by_id) == {201, 203, 204}  # 202 was never downloaded
    assert len(only_local_requests) == n_sent  # not a single request


def test_offline_mode_with_an_empty_cache(tmp_path):
    res = fetch_neurovault(mode="offline", data_dir=tmp_path / "nv")
    assert res["images"] == [] and not (tmp_path / "nv").exists()


def test_overwrite_mode_downloads_again(emulator):
    fetch_neurovault_ids(image_ids=[101], base_url=emulator.api)
    fetch_neurovault_ids(image_ids=[101], mode="overwrite", base_url=emulator.api)
    assert len(emulator.paths(r"^/media/images/11/101_Pain\.nii\.gz$")) == 2


def test_mode_is_checked():
    with pytest.raises(ValueError, match=r"mode: expected one of .*got 'online'"):
        fetch_neurovault(mode="online")


# --------------------------------------------------------------------------------------
# configuration

def test_environment_variables_set_server_and_cache(emulator, monkeypatch, tmp_path):
    monkeypatch.setenv("NISPACE_NEUROVAULT_URL", emulator.api.rstrip("/"))
    monkeypatch.setenv("NISPACE_NEUROVAULT_DIR", str(tmp_path / "nv-cache"))
    res = fetch_neurovault_ids(image_ids=[201])
    assert ids(res) == {201}
    assert res["images"][0] == str(tmp_path / "nv-cache" / "collection_12" / "image_201.nii.gz")
    # the argument wins over the environment
    assert neurovault.get_neurovault_url("http://127.0.0.1:1/x") == "http://127.0.0.1:1/x/"
    assert neurovault.get_neurovault_dir(tmp_path / "a") == (tmp_path / "a").resolve()


def test_default_cache_is_under_the_nispace_data_dir(isolated_env):
    assert neurovault.get_neurovault_dir() == isolated_env.resolve() / "neurovault"


@pytest.mark.parametrize("bad", ["neurovault.org/api/", "ftp://host/api/", "/local/dir"])
def test_base_url_must_be_http(bad):
    with pytest.raises(ValueError, match=r"base_url: expected an http\(s\):// URL"):
        fetch_neurovault(base_url=bad)


def test_image_file_urls_follow_the_base():
    root = "http://127.0.0.1:9/mirror/"
    redirect = neurovault._redirect_file_url
    assert neurovault._site_root(root + "api/") == root
    assert redirect("https://neurovault.org/media/images/1/a.nii.gz", root) == \
        root + "media/images/1/a.nii.gz"
    assert redirect("http://www.neurovault.org/media/b.nii.gz?x=1", root) == \
        root + "media/b.nii.gz?x=1"
    assert redirect("/media/c.nii.gz", root) == root + "media/c.nii.gz"  # relative
    assert redirect("https://example.org/d.nii.gz", root) == "https://example.org/d.nii.gz"
    assert redirect("https://neurovault.org/e.nii.gz", None) == "https://neurovault.org/e.nii.gz"


def test_nilearn_is_restored_after_each_call(emulator, tmp_path):
    import nilearn.datasets.neurovault as nv

    names = ["_NEUROVAULT_BASE_URL", "_NEUROVAULT_COLLECTIONS_URL", "_NEUROVAULT_IMAGES_URL",
             "_NEUROSYNTH_FETCH_WORDS_URL", "_simple_download", "get_dataset_dir"]
    before = {name: getattr(nv, name) for name in names}
    assert before["_NEUROVAULT_BASE_URL"] == neurovault.DEFAULT_NEUROVAULT_URL
    fetch_neurovault_ids(image_ids=[101], base_url=emulator.api)
    with pytest.raises(KeyError):
        with neurovault._redirect_nilearn(emulator.api, emulator.neurosynth, tmp_path, True):
            assert nv._NEUROVAULT_IMAGES_URL == emulator.api + "images/"
            raise KeyError("boom")
    assert {name: getattr(nv, name) for name in names} == before


# --------------------------------------------------------------------------------------
# Neurosynth words

def test_neurosynth_words(emulator):
    res = fetch_neurovault_ids(image_ids=[101, 102], fetch_neurosynth_words=True,
                               base_url=emulator.api, neurosynth_url=emulator.neurosynth)
    vocabulary = list(res["vocabulary"])
    assert sorted(vocabulary) == ["heat", "pain", "touch"]
    for row, meta in zip(res["word_frequencies"], res["images_meta"]):
        expected = [WORDS[meta["id"]].get(word, 0.0) for word in vocabulary]
        np.testing.assert_allclose(row, expected)
    assert len(emulator.paths(r"^/neurosynth/api/decode/\?neurovault=10[12]$")) == 2


# --------------------------------------------------------------------------------------
# labels and NiSpace

def test_neurovault_maps_labels(emulator):
    res = fetch_neurovault(max_images=None, base_url=emulator.api)
    maps = neurovault_maps(res)
    assert set(maps) == {
        "Pain (collection 11, pain > rest)", "Heat (collection 11, heat > warm)",
        "Touch (collection 11)",  # no contrast given
        "Reading (collection 12, words > rest) [image 201]",  # same name, contrast and
        "Reading (collection 12, words > rest) [image 204]",  # collection: made unique
        "Listening (collection 12, speech > noise)"}
    path_of = {m["id"]: p for p, m in zip(res["images"], res["images_meta"])}
    assert maps["Touch (collection 11)"] == path_of[103]
    assert list(maps.values()) == res["images"]  # order kept

    assert set(neurovault_maps(res, label_fields=("id", "map_type"))) == {
        "image 101 (T map)", "image 102 (Z map)", "image 103 (T map)", "image 201 (Z map)",
        "image 203 (F map)", "image 204 (Z map)"}
    assert "Reading [image 204]" in neurovault_maps(res, label_fields="name")


def test_neurovault_maps_checks_its_input():
    with pytest.raises(TypeError, match="result: expected the output of fetch_neurovault"):
        neurovault_maps(["a.nii.gz"])
    with pytest.raises(ValueError, match="label_fields: expected one or more"):
        neurovault_maps({"images": [], "images_meta": []}, label_fields=())
    with pytest.raises(ValueError, match="result: expected one metadata dict per image"):
        neurovault_maps({"images": ["a.nii.gz"], "images_meta": []})


def test_maps_plug_into_nispace(emulator):
    res = fetch_neurovault(max_images=None, base_url=emulator.api)
    y = neurovault_maps(res)
    labels = label_volume()
    parc = Parcellation.from_image(nib.Nifti1Image(labels, AFFINE), labels=PARCELS,
                                   name="boxes")
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(3, len(PARCELS))), index=["xa", "xb", "xc"],
                     columns=PARCELS)

    nsp = NiSpace(x=x, y=y, parcellation=parc, verbose=False).fit()
    got = nsp.get_y(raw=True)
    assert list(got.index) == list(y) and list(got.columns) == PARCELS
    # each row is the parcel-wise mean of the downloaded map
    for label, path in y.items():
        data = nib.load(path).get_fdata()
        expected = [data[labels == k].mean() for k in range(1, 9)]
        np.testing.assert_allclose(got.loc[label].to_numpy(), expected, rtol=1e-6)

    # the fetch result itself also works as y= (labels from the image metadata)
    nsp2 = NiSpace(x=x, y=res, parcellation=parc, verbose=False).fit()
    pd.testing.assert_frame_equal(nsp2.get_y(raw=True), got)


# --------------------------------------------------------------------------------------
# resample and timeout

def test_resample_keeps_only_images_on_nilearns_3mm_grid(emulator):
    from nilearn.datasets.neurovault import STD_AFFINE

    res = fetch_neurovault(base_url=emulator.api, resample=True, interpolation="nearest",
                           name="Pain")
    (path,) = res["images"]
    assert path.endswith("image_101_resampled.nii.gz")
    img = nib.load(path)
    np.testing.assert_allclose(img.affine, STD_AFFINE)
    # nearest-neighbour resampling only picks values of the original map
    values = np.asarray(img.dataobj)
    assert np.isin(values[values != 0], map_data(101)).all()
    folder = res["images_meta"][0]["absolute_path"].rsplit("/", 1)[0]
    assert not (Path(folder) / "image_101.nii.gz").exists()


def test_timeout_reaches_every_request(emulator, monkeypatch):
    from nispace.datasets import download

    timeouts = {"metadata": [], "files": []}
    send = requests.Session.send  # the guarded one of only_local_requests

    def spy_send(session, request, **kwargs):
        timeouts["metadata"].append(kwargs.get("timeout"))
        return send(session, request, **kwargs)

    open_ = download._open

    def spy_open(location, timeout=download.TIMEOUT):
        timeouts["files"].append(timeout)
        return open_(location, timeout=timeout)

    monkeypatch.setattr(requests.Session, "send", spy_send)
    monkeypatch.setattr(download, "_open", spy_open)
    res = fetch_neurovault(max_images=2, base_url=emulator.api, timeout=2.5)
    assert len(res["images"]) == 2
    assert timeouts["metadata"] and set(timeouts["metadata"]) == {2.5}
    assert len(timeouts["files"]) == 2 and all(0 < t <= 2.5 for t in timeouts["files"])


def test_a_stalled_image_download_stops_after_the_timeout(emulator, monkeypatch, tmp_path):
    import time

    answer = emulator.answer

    def slow(raw_path):
        if raw_path.startswith("/media/"):
            time.sleep(1.0)
        return answer(raw_path)

    monkeypatch.setattr(emulator, "answer", slow)
    monkeypatch.setenv("NISPACE_DOWNLOAD_DEADLINE", "0.8")  # no long retries in a test
    t0 = time.monotonic()
    res = fetch_neurovault_ids(image_ids=[101], base_url=emulator.api, timeout=0.2,
                               data_dir=tmp_path / "nv")
    assert time.monotonic() - t0 < 5
    # nilearn skips an image it could not download; nothing half-written is cached
    assert res["images"] == []
    assert not list((tmp_path / "nv").rglob("*.nii*"))


@pytest.mark.parametrize("kwargs, match", [
    ({"timeout": 0}, "timeout: expected a positive number"),
    ({"timeout": "10"}, "timeout"),
    ({"resample": "yes"}, "resample: expected True or False"),
    ({"interpolation": "cubic"}, "interpolation"),
])
def test_resample_and_timeout_are_checked(kwargs, match):
    with pytest.raises((InputError, InputTypeError), match=match):
        fetch_neurovault(**kwargs)
