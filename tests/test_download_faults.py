"""Fault injection for the verified downloads of :mod:`nispace.datasets.download`.

A small HTTP proxy on 127.0.0.1 (:class:`FaultyProxy`) forwards every GET to the
real mirror server and then misbehaves as a :class:`FaultPlan` says: answer 500 or
404, drop the connection, send half the body, flip a byte, corrupt the manifest or
send the body slowly. The plan also logs every request, so a test can state how
many times a file was asked for.

Every case ends either with a verified file in the cache (its SHA-256, computed
here with hashlib from the mirror's copy, matches) or with a clear
``DataFetchError`` and nothing at the target path; never with a ``*.part`` file.
"""

from __future__ import annotations

import collections
import hashlib
import http.server
import json
import logging
import multiprocessing
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from nispace.datasets import download
from nispace.datasets.download import DataFetchError, fetch_file, fetch_manifest

pytestmark = pytest.mark.network

MANIFEST = "file_hashes.json"
#: small text files
LABELS = "parcellation/TianS2/MNI152NLin6Asym/parc-TianS2_space-MNI152NLin6Asym.label.txt"
PARC_YAML = "parcellation/HOC/parc.yaml"
MAP_INFO = "reference/pet/map_info.csv"
#: a ~200 kB PET map and a ~1.4 MB template image
PET_MAP = ("reference/pet/map/target-5HT1a_tracer-way100635_n-35_dx-hc_pub-savli2012/"
           "target-5HT1a_tracer-way100635_n-35_dx-hc_pub-savli2012_space-MNI152NLin6Asym_"
           "desc-proc.nii.gz")
BIG = "template/MNI152NLin6Asym/map/T1w/tpl-MNI152NLin6Asym_desc-T1w_res-2mm.nii.gz"


# --------------------------------------------------------------------------------------
# independent checks

def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_of(path: Path) -> str:
    return sha256_bytes(Path(path).read_bytes())


def flip_one_byte(data: bytes) -> bytes:
    """The same bytes with the middle one inverted (the length is unchanged)."""
    i = len(data) // 2
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]


def part_files(cache: Path) -> list[str]:
    """Leftover temporary downloads anywhere in the cache."""
    return [os.path.join(root, name) for root, _, names in os.walk(cache)
            for name in names if name.endswith(".part")]


def assert_verified(path: Path, cache: Path, mirror: Path, rel: str) -> None:
    """``path`` is the cached copy of ``rel`` and has exactly the mirror's bytes."""
    assert Path(path) == cache / rel
    assert sha256_of(path) == sha256_of(mirror / rel)
    assert part_files(cache) == []


def assert_nothing_cached(cache: Path, rel: str) -> None:
    assert not (cache / rel).exists()
    assert part_files(cache) == []


@pytest.fixture
def retries(caplog):
    """The reasons nispace logged for its retries, in order."""
    caplog.set_level(logging.INFO, logger=download.__name__)

    def reasons() -> list[str]:
        return [r.getMessage().split("): ", 1)[1] for r in caplog.records
                if r.name == download.__name__ and r.getMessage().startswith("Retrying")]
    return reasons


# --------------------------------------------------------------------------------------
# the faulty proxy

class FaultPlan:
    """Thread-safe script of what the proxy does to each request, and a request log.

    ``plan.next(rel, "500", times=2)`` makes the next two requests for ``rel`` fail
    with HTTP 500; ``plan.always(rel, "flip")`` corrupts every response for ``rel``.
    Requests without a scripted fault are forwarded faithfully.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._queued: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self._always: dict[str, str] = {}
        self._log: list[tuple[str, str | None, float]] = []

    def next(self, rel: str, fault: str, times: int = 1) -> None:
        with self._lock:
            self._queued[rel].extend([fault] * times)

    def always(self, rel: str, fault: str) -> None:
        with self._lock:
            self._always[rel] = fault

    def take(self, rel: str) -> str | None:
        """The fault for a request that just arrived for ``rel`` (logged)."""
        with self._lock:
            queue = self._queued[rel]
            fault = queue.popleft() if queue else self._always.get(rel)
            self._log.append((rel, fault, time.time()))
            return fault

    def requests(self, rel: str) -> int:
        """How many requests for ``rel`` the proxy has seen."""
        with self._lock:
            return sum(1 for r, _, _ in self._log if r == rel)

    def log(self) -> list[tuple[str, str | None, float]]:
        with self._lock:
            return list(self._log)


class FaultyProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultyProxy

    def log_message(self, *args):  # keep test output readable
        pass

    def do_GET(self):
        rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        fault = self.server.plan.take(rel)

        if fault == "drop":  # close the socket without a single byte of response
            self.close_connection = True
            return
        if fault in ("500", "404"):
            self.send_error(int(fault))
            return

        try:
            with urllib.request.urlopen(self.server.upstream + urllib.parse.quote(rel),
                                        timeout=10) as upstream:
                body = upstream.read()
        except urllib.error.HTTPError as exc:
            self.send_error(exc.code)
            return

        if fault == "flip":
            body = flip_one_byte(body)
        elif fault == "invalid_json":
            body = body[: len(body) // 3]  # cut inside the JSON object: not parseable

        if fault == "truncate":  # announce the full length, send half, hang up
            self._head(len(body))
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
        elif fault == "truncate_unsized":  # no length at all; the close ends the body early
            self._head(None, close=True)
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
        elif fault == "truncate_chunked":  # one chunk, then hang up without the last chunk
            self._head(None, chunked=True)
            half = body[: len(body) // 2]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(half), half))
            self.close_connection = True
        elif fault == "slow":  # the whole body, in pieces with pauses
            self._head(len(body))
            step = 64 * 1024
            for start in range(0, len(body), step):
                self.wfile.write(body[start:start + step])
                time.sleep(self.server.slow_pause)
        elif fault == "endless":  # no length, bytes forever (bounded: ~1 GB or hang-up)
            self._head(None, close=True)
            self.close_connection = True
            block = (body * (65536 // max(len(body), 1) + 1))[:65536]
            for _ in range(16_000):
                try:
                    self.wfile.write(block)
                except OSError:  # the client stopped reading
                    return
        elif fault == "huge_length":  # announces a terabyte, then sends the real body
            self._head(10 ** 12)
            self.close_connection = True
            try:
                self.wfile.write(body)
            except OSError:
                return
        elif fault == "drip":  # the right length, 100 bytes every 50 ms
            self._head(len(body))
            for start in range(0, len(body), 100):
                try:
                    self.wfile.write(body[start:start + 100])
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.05)
        else:
            self._head(len(body))
            self.wfile.write(body)

    def _head(self, length: int | None, close: bool = False, chunked: bool = False):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if length is not None:
            self.send_header("Content-Length", str(length))
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        if close:
            self.send_header("Connection", "close")
        self.end_headers()


class FaultyProxy(http.server.ThreadingHTTPServer):
    """Proxy on 127.0.0.1 in front of ``upstream`` that follows a :class:`FaultPlan`."""

    daemon_threads = True

    def __init__(self, upstream: str, slow_pause: float = 0.02):
        super().__init__(("127.0.0.1", 0), FaultyProxyHandler)
        self.upstream = upstream
        self.slow_pause = slow_pause
        self.plan = FaultPlan()
        self.url = f"http://127.0.0.1:{self.server_address[1]}/"
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()
        self._stopped = False

    def stop(self):
        if not self._stopped:
            self._stopped = True
            self.shutdown()
            self.server_close()


@pytest.fixture
def proxy(mirror_server, monkeypatch):
    """A faulty proxy in front of the mirror; NISPACE_DATA_URL points at it."""
    server = FaultyProxy(mirror_server)
    monkeypatch.setenv("NISPACE_DATA_URL", server.url)
    yield server
    server.stop()


@pytest.fixture
def cache(isolated_env) -> Path:
    """The (initially missing) cache directory of this test."""
    return isolated_env


# --------------------------------------------------------------------------------------
# 1. HTTP 500

@pytest.mark.parametrize("k", [1, download.RETRIES])
def test_a_burst_of_500s_shorter_than_the_retries_is_survived(proxy, cache, mirror, k):
    proxy.plan.next(LABELS, "500", times=k)

    path = fetch_file(LABELS)

    assert_verified(path, cache, mirror, LABELS)
    assert proxy.plan.requests(LABELS) == k + 1


def test_more_500s_than_retries_raise_and_cache_nothing(proxy, cache):
    proxy.plan.always(LABELS, "500")

    with pytest.raises(DataFetchError) as info:
        fetch_file(LABELS)

    message = str(info.value)
    assert LABELS in message
    assert proxy.url + urllib.parse.quote(LABELS) in message
    assert "HTTP 500" in message and "NISPACE_DATA_URL" in message
    assert proxy.plan.requests(LABELS) == download.RETRIES + 1
    assert_nothing_cached(cache, LABELS)


# --------------------------------------------------------------------------------------
# 2. truncated bodies

@pytest.mark.parametrize("fault, noticed_as", [
    # Content-Length says 1.4 MB, half of it arrives: the length check fails
    ("truncate", "truncated body"),
    # no Content-Length, the close ends the body early: only the hash can tell
    ("truncate_unsized", "hash mismatch"),
    # chunked, the terminating chunk never comes: reading the body fails
    ("truncate_chunked", "connection dropped while reading"),
])
def test_a_truncated_body_is_retried(proxy, cache, mirror, retries, fault, noticed_as):
    proxy.plan.next(BIG, fault)

    path = fetch_file(BIG)

    assert_verified(path, cache, mirror, BIG)
    assert proxy.plan.requests(BIG) == 2
    assert len(retries()) == 1 and retries()[0].startswith(noticed_as)


def test_truncated_bodies_on_every_attempt_raise(proxy, cache):
    proxy.plan.always(PET_MAP, "truncate")

    with pytest.raises(DataFetchError, match="truncated body") as info:
        fetch_file(PET_MAP)

    assert PET_MAP in str(info.value)
    assert proxy.plan.requests(PET_MAP) == download.RETRIES + 1
    assert_nothing_cached(cache, PET_MAP)


# --------------------------------------------------------------------------------------
# 3. flipped bytes

def test_a_flipped_byte_is_caught_by_the_hash_and_retried(proxy, cache, mirror, retries):
    proxy.plan.next(PET_MAP, "flip", times=2)

    path = fetch_file(PET_MAP)

    assert_verified(path, cache, mirror, PET_MAP)
    assert proxy.plan.requests(PET_MAP) == 3
    assert [r.split(" (")[0] for r in retries()] == ["hash mismatch"] * 2


def test_a_source_that_always_corrupts_the_file_raises_with_both_hashes(proxy, cache, mirror):
    proxy.plan.always(MAP_INFO, "flip")
    expected = sha256_of(mirror / MAP_INFO)
    received = sha256_bytes(flip_one_byte((mirror / MAP_INFO).read_bytes()))

    with pytest.raises(DataFetchError) as info:
        fetch_file(MAP_INFO)

    message = str(info.value)
    assert MAP_INFO in message and proxy.url in message
    assert f"expected sha256 {expected}" in message
    assert f"received {received}" in message
    assert proxy.plan.requests(MAP_INFO) == download.RETRIES + 1
    assert_nothing_cached(cache, MAP_INFO)


# --------------------------------------------------------------------------------------
# 4. dropped connections

@pytest.mark.parametrize("drops", [1, 2])
def test_a_connection_dropped_before_any_response_is_retried(proxy, cache, mirror, retries,
                                                             drops):
    proxy.plan.next(PARC_YAML, "drop", times=drops)

    path = fetch_file(PARC_YAML)

    assert_verified(path, cache, mirror, PARC_YAML)
    assert proxy.plan.requests(PARC_YAML) == drops + 1
    assert len(retries()) == drops
    assert all(r.startswith("cannot reach") for r in retries())


def test_a_dropped_manifest_request_is_retried(proxy, cache, mirror):
    proxy.plan.next(MANIFEST, "drop")

    path = fetch_file(PARC_YAML)

    assert_verified(path, cache, mirror, PARC_YAML)
    assert proxy.plan.requests(MANIFEST) == 2


# --------------------------------------------------------------------------------------
# 5. a corrupted cache

def overwrite_with_other_garbage(path: Path) -> None:
    path.write_bytes(b"\x00garbage\x00" * 7)  # a different size than any file used here


def overwrite_with_same_size_garbage(path: Path) -> None:
    size = path.stat().st_size
    path.write_bytes(bytes((i * 7 + 3) % 256 for i in range(size)))


def truncate_to_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("corrupt, fresh_process", [
    (overwrite_with_other_garbage, False),
    (overwrite_with_other_garbage, True),
    (truncate_to_half, False),
    (truncate_to_half, True),
    # same size: only the hash can tell
    (overwrite_with_same_size_garbage, False),
    (overwrite_with_same_size_garbage, True),
])
def test_a_corrupted_cached_file_is_downloaded_again(proxy, cache, mirror, corrupt,
                                                     fresh_process):
    path = fetch_file(PET_MAP)
    assert_verified(path, cache, mirror, PET_MAP)
    corrupt(path)
    assert sha256_of(path) != sha256_of(mirror / PET_MAP)
    if fresh_process:
        download.clear_memo()

    again = fetch_file(PET_MAP)

    assert again == path
    assert_verified(again, cache, mirror, PET_MAP)
    assert proxy.plan.requests(PET_MAP) == 2


def test_a_same_size_rewrite_that_keeps_the_mtime_is_noticed_in_process(proxy, cache,
                                                                        mirror):
    path = fetch_file(PET_MAP)
    st = path.stat()
    overwrite_with_same_size_garbage(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # what a coarse clock would give

    again = fetch_file(PET_MAP)

    assert sha256_of(again) == sha256_of(mirror / PET_MAP)


# --------------------------------------------------------------------------------------
# 6. the server is gone after caching

def test_cached_files_are_served_offline_and_missing_ones_fail_clearly(proxy, cache, mirror):
    cached = [LABELS, PARC_YAML]
    for rel in cached:
        fetch_file(rel)
    n_requests = len(proxy.plan.log())

    # a new process with the server still up: the cache is used, nothing is asked
    download.clear_memo()
    for rel in cached:
        assert_verified(fetch_file(rel), cache, mirror, rel)
    assert len(proxy.plan.log()) == n_requests

    # now the server is gone
    proxy.stop()
    download.clear_memo()
    for rel in cached:
        assert_verified(fetch_file(rel), cache, mirror, rel)

    with pytest.raises(DataFetchError) as info:
        fetch_file(MAP_INFO)
    message = str(info.value)
    assert MAP_INFO in message
    assert proxy.url + urllib.parse.quote(MAP_INFO) in message
    assert "NISPACE_DATA_URL" in message
    assert_nothing_cached(cache, MAP_INFO)


def test_a_closed_port_after_caching_is_no_problem_for_cached_files(proxy, cache, mirror,
                                                                    monkeypatch):
    from conftest import closed_port_url

    fetch_file(MAP_INFO)
    gone = closed_port_url()
    monkeypatch.setenv("NISPACE_DATA_URL", gone)
    download.clear_memo()

    # the cache is keyed by directory, not by source: the cached manifest and file serve
    assert_verified(fetch_file(MAP_INFO), cache, mirror, MAP_INFO)
    with pytest.raises(DataFetchError) as info:
        fetch_file(LABELS)
    message = str(info.value)
    assert LABELS in message and gone in message and "NISPACE_DATA_URL" in message


# --------------------------------------------------------------------------------------
# 7. concurrency

def fetch_in_process(rel, data_dir, data_url, barrier, results):
    """Worker of the concurrency test (module level so that "spawn" can import it)."""
    from nispace.datasets import download as dl

    barrier.wait(timeout=60)
    started = time.time()
    try:
        path = dl.fetch_file(rel, data_dir=data_dir, data_url=data_url)
        results.put((os.getpid(), started, str(path), None))
    except BaseException as exc:  # report, do not hang the parent
        results.put((os.getpid(), started, None, repr(exc)))


def test_concurrent_processes_download_a_file_once(mirror_server, cache, mirror):
    n = 4
    # 1.4 MB in 64 kB pieces with 40 ms pauses: the download takes about 1 s,
    # long enough for every worker to be waiting on the lock meanwhile
    server = FaultyProxy(mirror_server, slow_pause=0.04)
    try:
        server.plan.always(BIG, "slow")
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(n)
        results = ctx.Queue()
        workers = [ctx.Process(target=fetch_in_process,
                               args=(BIG, str(cache), server.url, barrier, results))
                   for _ in range(n)]
        for w in workers:
            w.start()
        outcomes = [results.get(timeout=120) for _ in range(n)]
        for w in workers:
            w.join(timeout=60)
            assert w.exitcode == 0
    finally:
        server.stop()

    assert [error for *_, error in outcomes] == [None] * n
    assert {path for _, _, path, _ in outcomes} == {str(cache / BIG)}
    assert_verified(cache / BIG, cache, mirror, BIG)

    downloads = [t for rel, _, t in server.plan.log() if rel == BIG]
    assert len(downloads) == 1, "the file was downloaded more than once"
    # so was the manifest: the processes that waited for its lock found it cached
    assert server.plan.requests(MANIFEST) == 1
    # every worker had called fetch_file long before the ~1 s download could end,
    # so the other three really waited for it on the lock and then found it verified
    assert max(started for _, started, _, _ in outcomes) < downloads[0] + 0.5
    assert list((cache / BIG).parent.iterdir()) == [cache / BIG]


# --------------------------------------------------------------------------------------
# 8. the manifest itself

def test_an_invalid_manifest_response_is_retried(proxy, cache, mirror, retries):
    proxy.plan.next(MANIFEST, "invalid_json")

    path = fetch_file(LABELS)

    assert_verified(path, cache, mirror, LABELS)
    assert proxy.plan.requests(MANIFEST) == 2
    assert len(retries()) == 1 and "not valid JSON" in retries()[0]
    assert sha256_of(cache / MANIFEST) == sha256_of(mirror / MANIFEST)


def test_a_manifest_that_is_never_valid_raises(proxy, cache):
    proxy.plan.always(MANIFEST, "invalid_json")

    with pytest.raises(DataFetchError) as info:
        fetch_file(LABELS)

    message = str(info.value)
    assert MANIFEST in message and "not valid JSON" in message and proxy.url in message
    assert proxy.plan.requests(MANIFEST) == download.RETRIES + 1
    assert_nothing_cached(cache, MANIFEST)


@pytest.mark.parametrize("garbage", [b'{"README.md": "abc', b"\xff\xfe\x00 binary", b"{}",
                                     b'{"README.md": "not a hash"}'])
def test_a_corrupted_cached_manifest_is_fetched_again(proxy, cache, mirror, garbage):
    fetch_file(LABELS)
    (cache / MANIFEST).write_bytes(garbage)
    download.clear_memo()

    path = fetch_file(PARC_YAML)

    assert_verified(path, cache, mirror, PARC_YAML)
    assert proxy.plan.requests(MANIFEST) == 2
    assert sha256_of(cache / MANIFEST) == sha256_of(mirror / MANIFEST)
    assert fetch_manifest() == json.loads((mirror / MANIFEST).read_text())


# --------------------------------------------------------------------------------------
# 9. 404

def test_a_404_for_a_listed_file_fails_at_once(proxy, cache):
    proxy.plan.next(LABELS, "404")

    with pytest.raises(DataFetchError, match="not found") as info:
        fetch_file(LABELS)

    message = str(info.value)
    assert LABELS in message and proxy.url + urllib.parse.quote(LABELS) in message
    assert proxy.plan.requests(LABELS) == 1  # no retries
    assert_nothing_cached(cache, LABELS)


# --------------------------------------------------------------------------------------
# 10. local sources

@pytest.mark.parametrize("kind", ["file_url", "directory"])
def test_a_file_url_or_a_plain_directory_is_a_source_too(monkeypatch, cache, mirror, kind):
    source = mirror.resolve().as_uri() + "/" if kind == "file_url" else str(mirror)
    monkeypatch.setenv("NISPACE_DATA_URL", source)

    for rel in (LABELS, PET_MAP):
        assert_verified(fetch_file(rel), cache, mirror, rel)
    assert sha256_of(cache / MANIFEST) == sha256_of(mirror / MANIFEST)


# --------------------------------------------------------------------------------------
# 11. limits: size and deadline

@pytest.mark.parametrize("fault", ["endless", "huge_length"])
def test_a_response_larger_than_the_limit_is_stopped(proxy, cache, monkeypatch, fault):
    monkeypatch.setenv("NISPACE_MAX_DOWNLOAD_MB", "0.1")
    fetch_manifest()
    proxy.plan.always(PET_MAP, fault)

    with pytest.raises(DataFetchError, match=r"larger than the limit of 0\.1 MB") as info:
        fetch_file(PET_MAP)

    message = str(info.value)
    assert proxy.url + urllib.parse.quote(PET_MAP) in message
    assert "NISPACE_MAX_DOWNLOAD_MB" in message
    assert proxy.plan.requests(PET_MAP) == 1  # a limit is not retried
    assert_nothing_cached(cache, PET_MAP)


def test_a_slow_drip_is_stopped_at_the_deadline(proxy, cache, monkeypatch):
    monkeypatch.setenv("NISPACE_DOWNLOAD_DEADLINE", "2")
    fetch_manifest()
    proxy.plan.always(PET_MAP, "drip")  # ~200 kB at 2 kB/s would take ~100 s

    start = time.monotonic()
    with pytest.raises(DataFetchError, match=r"deadline of 2 s") as info:
        fetch_file(PET_MAP)

    assert 2 <= time.monotonic() - start < 6
    assert proxy.url + urllib.parse.quote(PET_MAP) in str(info.value)
    assert "NISPACE_DOWNLOAD_DEADLINE" in str(info.value)
    assert_nothing_cached(cache, PET_MAP)


def test_the_deadline_covers_the_retries(proxy, cache, monkeypatch):
    monkeypatch.setenv("NISPACE_DOWNLOAD_DEADLINE", "1.5")
    monkeypatch.setattr(download, "BACKOFF", 0.4)  # 0.4 + 0.8 + 1.6 + 3.2 s of waiting
    fetch_manifest()
    proxy.plan.always(LABELS, "500")

    start = time.monotonic()
    with pytest.raises(DataFetchError, match="deadline of 1.5 s"):
        fetch_file(LABELS)

    assert time.monotonic() - start < 3
    assert_nothing_cached(cache, LABELS)


def test_files_within_the_limits_are_fetched(proxy, cache, mirror, monkeypatch):
    monkeypatch.setenv("NISPACE_MAX_DOWNLOAD_MB", "0.3")  # PET_MAP is ~200 kB
    monkeypatch.setenv("NISPACE_DOWNLOAD_DEADLINE", "20")
    assert_verified(fetch_file(PET_MAP), cache, mirror, PET_MAP)


@pytest.mark.parametrize("name", ["NISPACE_MAX_DOWNLOAD_MB", "NISPACE_DOWNLOAD_DEADLINE"])
@pytest.mark.parametrize("value", ["0", "-1", "ten", "inf"])
def test_invalid_limits_name_the_variable(proxy, cache, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=f"{name}: expected a positive number; got '{value}'"):
        fetch_file(LABELS)


def test_an_unwritable_cache_is_named_not_its_lock_file(proxy, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NISPACE_DATA_DIR", str(blocker / "cache"))

    with pytest.raises(DataFetchError, match="cache cannot be written") as info:
        fetch_file(LABELS)

    assert str(blocker / "cache") in str(info.value) and ".lock" not in str(info.value)
    assert "NISPACE_DATA_DIR" in str(info.value)


# --------------------------------------------------------------------------------------
# 12. Neurovault image files: only from Neurovault or the configured servers, with limits

@pytest.mark.parametrize("url, allowed", [
    ("https://neurovault.org/media/images/1/a.nii.gz", True),
    ("http://127.0.0.1:9/mirror/media/images/1/a.nii.gz", True),  # under the configured server
    ("http://127.0.0.1:9/other/a.nii.gz", False),
    ("https://evil.example/a.nii.gz", False),
    ("file:///etc/passwd", False),
    ("/etc/passwd", False),
    ("http://127.0.0.1:9/mirror/../secret", False),
])
def test_neurovault_file_urls_are_checked(url, allowed):
    from nispace.datasets import neurovault

    bases = ["http://127.0.0.1:9/mirror/api/", None, "http://127.0.0.1:9/mirror/"]
    if allowed:
        neurovault._check_download_url(url, bases)
    else:
        with pytest.raises(ValueError, match="Neurovault listing: the file URL .* was not "
                                             "downloaded"):
            neurovault._check_download_url(url, bases)


def test_neurovault_downloads_have_the_size_limit(proxy, cache, monkeypatch):
    from nispace.datasets import neurovault

    monkeypatch.setenv("NISPACE_MAX_DOWNLOAD_MB", "0.1")
    proxy.plan.always(PET_MAP, "endless")
    target = cache / "neurovault" / "image.nii.gz"
    with pytest.raises(DataFetchError, match=r"larger than the limit of 0\.1 MB"):
        neurovault._retrieve_file(proxy.url + urllib.parse.quote(PET_MAP), target)
    assert not target.exists() and part_files(cache) == []


def test_refused_neurovault_urls_are_data_fetch_errors():
    from nispace.datasets import neurovault

    with pytest.raises(DataFetchError, match="was not downloaded"):
        neurovault._check_download_url("https://evil.example/a.nii.gz", [None])
