"""Null maps on disk: generate once per (map, model, n_perm, seed), stream by chunk.

Null maps are produced in a first pass over chunks of permutations (in parallel,
each chunk seeded on its own) and written into ``.npy`` files, which the
colocalization pass then reads slice by slice through memory maps, so memory stays
flat whatever ``n_perm``. With a seed the files live in the cache
(``<NISPACE_DATA_DIR>/cache/nulls``) and are reused by later runs on the same map,
parcellation geometry, null method, ``n_perm`` and seed; without a seed they live in
a temporary folder for the run only.

Seeds
-----
Map-independent randomness (spin rotations, shared by all maps so that the maps'
relations to each other are kept) comes from chunk ``c``'s child of the root seed.
Map-specific randomness (Moran, Burt, random) comes from a seed built from the root
seed, the map's content and the chunk index, so a map's nulls do not depend on which
other maps are permuted with it: that is what makes per-map caching sound.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._random import as_seed_sequence
from .engine import CHUNK_SIZE, run_chunks
from .spec import zscore_nulls

__all__ = ["NullMaps", "ArrayNulls", "prepare_null_maps", "map_digest"]

logger = logging.getLogger("nispace.permute")

_CACHE_VERSION = "1"


def map_digest(values: np.ndarray) -> str:
    """Content hash of one map (float64 bytes, NaN pattern included)."""
    arr = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
    return hashlib.sha256(arr.tobytes()).hexdigest()[:32]


def _map_seed(root: np.random.SeedSequence, digest: str, chunk: int) -> np.random.SeedSequence:
    words = [int(digest[i:i + 8], 16) for i in range(0, 32, 8)]
    return np.random.SeedSequence(entropy=[root.entropy, *words], spawn_key=(chunk,))


@dataclass
class NullMaps:
    """Null maps of ``n_maps`` maps, ``n_perm`` permutations each, readable by chunk.

    Attributes
    ----------
    labels : list
        Map labels, in the order of the rows of the data they were made from.
    files : list of Path
        One ``(n_perm, n_parcels)`` ``.npy`` file per map (``kind == "values"``), or a
        single ``(n_perm, n_parcels)`` index file shared by all maps
        (``kind == "index"``, entries -1 meaning NaN).
    data : ndarray (n_maps, n_parcels) or None
        The maps themselves, needed to resolve index nulls.
    standardize : bool
        Z-score every null map over parcels when read.
    """

    labels: list
    n_perm: int
    kind: str
    files: list
    data: np.ndarray | None = None
    standardize: bool = False
    method: str = ""
    _tmpdir: str | None = None

    def chunk(self, start: int, stop: int) -> np.ndarray:
        """Null maps ``start:stop`` of every map, shape ``(n_maps, stop - start, n_parcels)``."""
        if self.kind == "index":
            idx = np.load(self.files[0], mmap_mode="r")[start:stop]
            out = gather(self.data, idx)
        else:
            out = np.stack([np.load(f, mmap_mode="r")[start:stop] for f in self.files])
        out = np.asarray(out, dtype=np.float64)
        return zscore_nulls(out) if self.standardize else out

    def to_array(self) -> np.ndarray:
        """All null maps, ``(n_maps, n_perm, n_parcels)`` (loads everything)."""
        return self.chunk(0, self.n_perm)

    def cleanup(self) -> None:
        """Remove temporary files (nulls made without a seed)."""
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None


def gather(data: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Index nulls of all maps: ``data`` (n_maps, n), ``idx`` (b, n) → (n_maps, b, n)."""
    from ..nulls import gather as gather_one

    return np.stack([gather_one(row, np.asarray(idx)) for row in data])


@dataclass
class ArrayNulls:
    """Null maps given as an array ``(n_maps, n_perm, n_parcels)`` (user-provided)."""

    array: np.ndarray

    @property
    def n_perm(self) -> int:
        return self.array.shape[1]

    def chunk(self, start: int, stop: int) -> np.ndarray:
        return np.asarray(self.array[:, start:stop], dtype=np.float64)


def _cache_root(on_disk: bool) -> tuple[Path, str | None]:
    if on_disk:
        from .._config import get_data_dir

        root = get_data_dir(None) / "cache" / "nulls"
        try:
            root.mkdir(parents=True, exist_ok=True)
            return root, None
        except OSError as err:
            logger.warning("Null-map cache %s is not writable (%s); using a temporary "
                           "folder.", root, err)
    tmp = tempfile.mkdtemp(prefix="nispace-nulls-")
    return Path(tmp), tmp


def _gen_chunk(start, stop, seed, model, data, todo, digests, root):
    """Worker: nulls ``start:stop`` for maps ``todo`` (values) or the shared indices."""
    c = start // CHUNK_SIZE
    if model.kind == "index":
        return model.indices(stop - start, seed)
    return np.stack([model.values(data[i], stop - start, _map_seed(root, digests[i], c), seed)
                     for i in todo])


def prepare_null_maps(model, data: np.ndarray, labels: list, n_perm: int, seed, *,
                      n_proc: int = 1, use_cache: bool = True, standardize: bool = False,
                      verbose: bool = True) -> NullMaps:
    """Generate (or find in the cache) the null maps of every row of ``data``.

    Parameters
    ----------
    model : NullModel
        A prepared null model (:func:`nispace.nulls.make_null_model`).
    data : ndarray (n_maps, n_parcels)
        The maps to make nulls for.
    labels : list
        Their labels.
    n_perm : int
        Null maps per map.
    seed : int or None
        Root seed; ``None`` draws fresh entropy and disables the cache.
    n_proc, use_cache, standardize, verbose
        Workers; cache switch; z-score nulls when read; progress bar.
    """
    data = np.asarray(data, dtype=np.float64)
    on_disk = use_cache and seed is not None
    if seed is None:  # fix fresh entropy once so that chunk and map seeds agree in this run
        seed = as_seed_sequence(None).entropy
    folder, tmp = _cache_root(on_disk)
    tag = f"v{_CACHE_VERSION}_n{n_perm}_s{seed}_c{CHUNK_SIZE}"
    mdir = folder / model.digest()
    mdir.mkdir(parents=True, exist_ok=True)
    digests = [map_digest(row) for row in data]
    if model.kind == "index":
        files = [mdir / f"indices_{tag}.npy"]
        todo = [] if files[0].exists() else [0]
    else:
        files = [mdir / f"{d}_{tag}.npy" for d in digests]
        todo = [i for i, f in enumerate(files) if not f.exists()]
    if todo:
        model.prepare(data[todo] if model.kind != "index" else data)
        logger.info("Generating null maps (n = %d, null_method = '%s') for %d map(s).",
                    n_perm, model.name, len(todo) if model.kind != "index" else len(data))
        _write(model, data, todo, digests, files, n_perm, seed, n_proc, verbose)
    else:
        logger.info("Using cached null maps (null_method = '%s', n = %d).", model.name, n_perm)
    return NullMaps(labels=list(labels), n_perm=n_perm, kind=model.kind, files=files,
                    data=data if model.kind == "index" else None, standardize=standardize,
                    method=model.name, _tmpdir=tmp)


def _write(model, data, todo, digests, files, n_perm, seed, n_proc, verbose) -> None:
    from numpy.lib.format import open_memmap

    n = data.shape[1]
    root = as_seed_sequence(seed)
    targets = [files[0]] if model.kind == "index" else [files[i] for i in todo]
    parts = [f.with_name(f.name + f".{os.getpid()}.part") for f in targets]
    dtype = np.int32 if model.kind == "index" else np.float64
    arrays = [open_memmap(p, mode="w+", dtype=dtype, shape=(n_perm, n)) for p in parts]
    try:
        def store(a: int, b: int, res: np.ndarray) -> None:
            for k, arr in enumerate(arrays):
                arr[a:b] = res if model.kind == "index" else res[k]

        run_chunks(_gen_chunk, n_perm, seed, args=(model, data, todo, digests, root),
                   n_proc=n_proc, desc=f"Null maps ({model.name})", verbose=verbose,
                   consume=store)
        for arr in arrays:
            arr.flush()
        arrays.clear()  # close the memory maps before the files are moved
        for p, f in zip(parts, targets):
            os.replace(p, f)
    finally:
        for p in parts:
            if p.exists():
                p.unlink()
