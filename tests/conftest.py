"""Shared fixtures.

* Every test runs with ``HOME`` and ``NISPACE_DATA_DIR`` in a fresh temporary
  folder and ``NISPACE_DATA_URL`` pointing at a closed local port, so no test can
  reach the internet or a user's cache by accident; sockets may only connect to
  loopback addresses (``loopback_only``), so a test that needed the internet fails
  with a message instead of depending on the network.
* Integration tests use :func:`data_url`: the offline mirror
  (``NISPACE_TEST_DATA``, default ``../shared/nispace-data`` beside the
  checkout) served by a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import functools
import http.server
import ipaddress
import os

os.environ.setdefault("MPLBACKEND", "Agg")  # figures without a screen
import socket
import threading
from pathlib import Path

import pytest

from nispace.datasets import download

REPO = Path(__file__).resolve().parents[1]


def mirror_path() -> Path:
    return Path(os.environ.get("NISPACE_TEST_DATA", REPO.parent / "shared" / "nispace-data"))


def closed_port_url() -> str:
    """URL of a local port nobody listens on (connection refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output readable
        pass


def serve_directory(directory: Path, handler=QuietHandler):
    """Start a threaded HTTP server for ``directory`` on 127.0.0.1; return (server, url)."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The offline data mirror; fails under CI=true and skips elsewhere when missing."""
    path = mirror_path()
    if not (path / "file_hashes.json").is_file():
        msg = (f"The nispace data mirror was not found at {path}. Put ../shared/nispace-data "
               f"beside the checkout or set NISPACE_TEST_DATA.")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def mirror_server(mirror):
    """URL of a real HTTP server on 127.0.0.1 serving the mirror for the whole session."""
    server, url = serve_directory(mirror)
    yield url
    server.shutdown()
    server.server_close()


def _is_loopback(host) -> bool:
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"


_REAL_CONNECT = socket.socket.connect
_REAL_CONNECT_EX = socket.socket.connect_ex


def _guard(real):
    def connect(sock, address):
        # TCP only: downloads use it; a UDP connect sends nothing (dask uses one to
        # find its own address)
        if (sock.family in (socket.AF_INET, socket.AF_INET6)
                and sock.type == socket.SOCK_STREAM and not _is_loopback(address[0])):
            raise OSError(f"a test tried to connect to {address!r}: tests never use the "
                          f"internet; serve files from 127.0.0.1 (see serve_directory).")
        return real(sock, address)
    return connect


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Every TCP connection a test opens (in this process) may only reach 127.0.0.1 / ::1."""
    monkeypatch.setattr(socket.socket, "connect", _guard(_REAL_CONNECT))
    monkeypatch.setattr(socket.socket, "connect_ex", _guard(_REAL_CONNECT_EX))


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Fresh HOME and cache; the remote points at a closed port unless a test changes it."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NISPACE_DATA_DIR", str(tmp_path / "nispace-data"))
    monkeypatch.setenv("NISPACE_DATA_URL", closed_port_url())
    monkeypatch.setattr(download, "BACKOFF", 0.01)
    download.clear_memo()
    yield tmp_path / "nispace-data"
    download.clear_memo()


@pytest.fixture
def data_url(mirror_server, monkeypatch) -> str:
    """Point nispace at the mirror served over HTTP, with a fresh cache; return the URL."""
    monkeypatch.setenv("NISPACE_DATA_URL", mirror_server)
    return mirror_server
