"""Caches you cannot fool: faults injected into the null-map and distance-matrix caches.

Each test runs a real permutation analysis (PET maps against a pain map on the
Schaefer200 parcellation of the data mirror, served over 127.0.0.1) and then breaks
the cache the way a full disk, a read-only folder, a killed process or a curious
user would. The run after the fault must give exactly the p-values of a clean run
in a fresh cache (the broken entry computed again, with a WARNING naming it) or a
clear error naming the cache folder, and must never leave a ``.part`` file or a
temporary folder behind.

Faults injected here (each a test or a parameter): disk full (a real 2 MB tmpfs when
running as root, and an injected ENOSPC), read-only cache folder, cache path under a
file, swapped null files, swapped null files with their sidecars, a replaced
distance matrix, identity spin indices, a truncated null file, a missing sidecar,
SIGKILL while writing, failures with and without a seed.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from nispace import _cache
from nispace.api import NiSpace
from nispace.datasets import fetch_example, fetch_reference

pytestmark = pytest.mark.network

REPO = Path(__file__).resolve().parents[1]
N_PERM = 300
SEED = 7


@pytest.fixture
def maps(data_url):
    """(x, y): four PET maps and the pain map, fetched once into the test's cache."""
    x = fetch_reference("pet", parcellation="Schaefer200", collection="UniqueTracers",
                        print_references=False, verbose=False).iloc[:4]
    y = fetch_example("painmeta", parcellation="Schaefer200", verbose=False)
    return x, y


@pytest.fixture
def tmpdir_root(tmp_path, monkeypatch) -> Path:
    """A private TMPDIR, so that a leaked temporary folder can be seen."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def p_values(maps, null_method: str, seed: int | None = SEED, n_perm: int = N_PERM):
    x, y = maps
    nsp = NiSpace(x=x, y=y, parcellation="Schaefer200", seed=seed, verbose=False).fit()
    nsp.colocalize("spearman").permute(null_method=null_method, n_perm=n_perm, seed=seed)
    return nsp.get_p_values().to_numpy()


@pytest.fixture
def clean(maps, tmp_path, monkeypatch):
    """p-values of a clean run in a fresh cache of its own, by null method."""
    done = {}

    def get(null_method: str, n_perm: int = N_PERM):
        if (null_method, n_perm) not in done:
            with monkeypatch.context() as m:
                m.setenv("NISPACE_DATA_DIR", str(tmp_path / f"clean-{null_method}-{n_perm}"))
                done[null_method, n_perm] = p_values(maps, null_method, n_perm=n_perm)
        return done[null_method, n_perm]
    return get


def files(folder: Path, suffix: str) -> list[Path]:
    return sorted(p for p in Path(folder).rglob(f"*{suffix}") if p.is_file())


def null_files(cache: Path) -> list[Path]:
    return files(cache / "cache" / "nulls", ".npy")


def leftovers(*folders: Path) -> list[Path]:
    """``.part`` files anywhere under ``folders``."""
    return [p for folder in folders for p in files(folder, ".part")]


def warnings_about(caplog, path: Path) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and str(path) in r.getMessage()]


# --------------------------------------------------------------------------------------
# disk full

class DiskQuota:
    """``open`` for :mod:`nispace._cache` whose files fail with ENOSPC past a byte quota."""

    def __init__(self, quota: int):
        self.left = quota

    def __call__(self, path, mode="r", *args, **kwargs):
        f = open(path, mode, *args, **kwargs)
        if "w" not in mode:
            return f
        quota, write = self, f.write

        def limited(data):
            if len(data) > quota.left:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            quota.left -= len(data)
            return write(data)
        f.write = limited
        return f


@pytest.mark.parametrize("null_method", ["moran", "alexander_bloch"])
def test_disk_full_is_a_clear_error_and_leaves_nothing(maps, clean, isolated_env, monkeypatch,
                                                        null_method):
    nulls = isolated_env / "cache" / "nulls"
    with monkeypatch.context() as m:
        # room for the distance matrix and about one chunk of null maps, not more
        m.setattr(_cache, "open", DiskQuota(400_000 if null_method == "moran" else 100_000),
                  raising=False)
        with pytest.raises(OSError, match="disk holding the cache folder .* is full") as info:
            p_values(maps, null_method)
    assert info.value.errno == errno.ENOSPC
    assert str(nulls) in str(info.value) and "NISPACE_DATA_DIR" in str(info.value)
    assert leftovers(isolated_env) == [] and null_files(isolated_env) == []
    # with space again, the next run works and gives the clean run's p-values
    np.testing.assert_array_equal(p_values(maps, null_method), clean(null_method))
    assert null_files(isolated_env) != [] and leftovers(isolated_env) == []


def test_disk_full_without_a_seed_removes_the_temporary_folder(maps, monkeypatch,
                                                               tmpdir_root):
    monkeypatch.setattr(_cache, "open", DiskQuota(100_000), raising=False)
    with pytest.raises(OSError, match="is full.*TMPDIR"):
        p_values(maps, "moran", seed=None)
    assert list(tmpdir_root.iterdir()) == []


@pytest.fixture
def small_tmpfs(tmp_path):
    """Mount a 2 MB tmpfs (root only; skipped where mounting is not permitted)."""
    point = tmp_path / "tmpfs"
    point.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mount is not permitted here: {done.stderr.strip()}")
    yield point
    subprocess.run(["umount", "-l", str(point)], check=False)


def test_disk_full_on_a_real_small_disk(maps, clean, isolated_env, small_tmpfs):
    # the null cache lives on a 2 MB disk; 4 maps x 1000 nulls x 200 parcels need 6.4 MB
    nulls = isolated_env / "cache" / "nulls"
    nulls.parent.mkdir(parents=True, exist_ok=True)
    nulls.symlink_to(small_tmpfs)
    with pytest.raises(OSError, match="is full") as info:
        p_values(maps, "moran", n_perm=1000)
    assert info.value.errno == errno.ENOSPC and str(nulls) in str(info.value)
    assert leftovers(small_tmpfs) == [] and null_files(isolated_env) == []
    assert shutil.disk_usage(small_tmpfs).used < 100_000  # the space is given back
    # the next run, with a cache that has space, succeeds
    nulls.unlink()
    np.testing.assert_array_equal(p_values(maps, "moran", n_perm=1000), clean("moran", 1000))


# --------------------------------------------------------------------------------------
# unusable cache folders

def test_read_only_cache_falls_back_to_a_temporary_folder(maps, clean, isolated_env,
                                                          monkeypatch, tmpdir_root, caplog):
    cache = isolated_env / "cache"
    cache.mkdir(parents=True)
    cache.chmod(0o555)  # does not stop root: os.access answers as for a normal user
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p).startswith(
        str(cache)) and mode & os.W_OK else real_access(p, mode, **kw))
    try:
        p = p_values(maps, "moran")
    finally:
        cache.chmod(0o755)
    np.testing.assert_array_equal(p, clean("moran"))
    assert warnings_about(caplog, cache / "nulls") and warnings_about(caplog, cache / "distmat")
    assert list(tmpdir_root.iterdir()) == []  # the temporary folder is gone
    assert files(cache, "") == []  # nothing written into the read-only cache


def test_cache_path_under_a_file_falls_back(maps, clean, isolated_env, tmpdir_root, caplog):
    (isolated_env / "cache").write_text("not a folder")  # every write into it fails
    np.testing.assert_array_equal(p_values(maps, "alexander_bloch"), clean("alexander_bloch"))
    assert warnings_about(caplog, isolated_env / "cache" / "nulls")
    assert list(tmpdir_root.iterdir()) == []


def test_failed_runs_remove_their_temporary_folders(maps, monkeypatch, tmpdir_root):
    from nispace.permute import maps as permute_maps

    def broken(*args):
        raise RuntimeError("injected failure in the colocalization pass")
    with monkeypatch.context() as m:
        m.setattr(permute_maps, "_maps_chunk", broken)
        for seed in (None, SEED):
            with pytest.raises(RuntimeError, match="injected"):
                p_values(maps, "moran", seed=seed)
    assert list(tmpdir_root.iterdir()) == []


# --------------------------------------------------------------------------------------
# tampered caches

def swap(a: Path, b: Path) -> None:
    tmp = a.with_name("swap.tmp")
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _swap_null_files(cache):
    a, b = null_files(cache)[:2]
    swap(a, b)
    return a


def _swap_with_sidecars(cache):
    a, b = null_files(cache)[:2]
    swap(a, b)
    swap(sidecar(a), sidecar(b))
    return a


def _truncate(cache):
    path = null_files(cache)[0]
    path.write_bytes(path.read_bytes()[:-1000])
    return path


def _drop_sidecar(cache):
    path = null_files(cache)[-1]
    sidecar(path).unlink()
    return path


def _flip_a_value(cache):  # same size, one null value changed
    path = null_files(cache)[1]
    arr = np.load(path)
    arr[5, 5] += 1.0
    np.save(path, arr)
    return path


def _replace_dist_mat(cache):
    (path,) = files(cache / "cache" / "distmat", ".npy")
    n = np.load(path).shape[0]
    np.save(path, np.random.default_rng(0).uniform(1, 100, (n, n)))
    return path


def _identity_spins(cache):
    (path,) = null_files(cache)
    shape = np.load(path).shape
    np.save(path, np.tile(np.arange(shape[1], dtype=np.int32), (shape[0], 1)))
    return path


TAMPERING = [("moran", _swap_null_files), ("moran", _swap_with_sidecars),
             ("moran", _truncate), ("moran", _drop_sidecar), ("moran", _flip_a_value),
             ("moran", _replace_dist_mat), ("alexander_bloch", _identity_spins)]


@pytest.mark.parametrize("null_method, tamper", TAMPERING,
                         ids=[t.__name__.strip("_") for _, t in TAMPERING])
def test_tampered_cache_is_recomputed_with_a_warning(maps, clean, isolated_env, caplog,
                                                     null_method, tamper):
    first = p_values(maps, null_method)
    np.testing.assert_array_equal(first, clean(null_method))
    caplog.clear()
    path = tamper(isolated_env)
    np.testing.assert_array_equal(p_values(maps, null_method), clean(null_method))
    assert any("computed again" in w for w in warnings_about(caplog, path))
    caplog.clear()  # repaired: the next run reads the cache without complaint
    np.testing.assert_array_equal(p_values(maps, null_method), clean(null_method))
    assert [r for r in caplog.records if r.levelno >= logging.WARNING
            and "cache" in r.getMessage()] == []


# --------------------------------------------------------------------------------------
# killed mid-run

SCRIPT = textwrap.dedent("""
    import sys, time
    from nispace import _cache
    from nispace.api import NiSpace
    from nispace.datasets import fetch_example, fetch_reference

    write = _cache.ArrayWriter.write
    def slow_write(self, rows):  # widen the window in which the cache is being written
        time.sleep(0.2)
        return write(self, rows)
    _cache.ArrayWriter.write = slow_write
    x = fetch_reference("pet", parcellation="Schaefer200", collection="UniqueTracers",
                        print_references=False, verbose=False).iloc[:4]
    y = fetch_example("painmeta", parcellation="Schaefer200", verbose=False)
    nsp = NiSpace(x=x, y=y, parcellation="Schaefer200", seed=7, verbose=False).fit()
    nsp.colocalize("spearman").permute(null_method="moran", n_perm=int(sys.argv[1]), seed=7)
    print("finished")
""")


def test_sigkill_while_writing_then_rerun(maps, clean, isolated_env, tmp_path):
    n_perm = 1000  # four chunks
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(n_perm)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        nulls = isolated_env / "cache" / "nulls"
        while not leftovers(nulls) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert leftovers(nulls), proc.communicate(timeout=5)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert leftovers(nulls) != [] and null_files(isolated_env) == []
    np.testing.assert_array_equal(p_values(maps, "moran", n_perm=n_perm),
                                  clean("moran", n_perm))
    assert leftovers(isolated_env) == []


def test_a_killed_download_leaves_nothing_for_long(data_url, isolated_env):
    from nispace.datasets import fetch_file

    rel = "reference/pet/map_info.csv"
    folder = isolated_env / "reference" / "pet"
    folder.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process id that no longer runs
    stale = folder / f".map_info.csv.abc123.{dead.pid}.part"
    stale.write_bytes(b"half a file")
    assert fetch_file(rel) == isolated_env / rel
    assert leftovers(isolated_env) == []


def test_windows_never_probes_other_processes(monkeypatch):
    """os.kill(pid, 0) would send CTRL_C on Windows: another pid counts as alive there."""
    from nispace import _cache

    def refuse(*args):
        raise AssertionError("os.kill must not be called on Windows")

    monkeypatch.setattr(os, "name", "nt")
    monkeypatch.setattr(os, "kill", refuse)
    assert _cache._alive(os.getpid() + 1) is True


def test_cache_exports_its_removal_helpers():
    from nispace import _cache

    assert {"remove", "remove_tree"} <= set(_cache.__all__)
