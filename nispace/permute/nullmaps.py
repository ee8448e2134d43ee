"""Null maps on disk: generate once per (map, model, n_perm, seed), stream by chunk.

Null maps are produced in a first pass over chunks of permutations (in parallel,
each chunk seeded on its own) and written into ``.npy`` files, which the
colocalization pass then reads slice by slice through memory maps, so memory stays
flat whatever ``n_perm``. With a seed the files live in the cache
(``<NISPACE_DATA_DIR>/cache/nulls``) and are reused by later runs on the same map,
parcellation geometry, null method, ``n_perm`` and seed; without a seed they live in
a temporary folder for the run only.

Every cached file has a sidecar with what it was computed from and its SHA-256,
checked before use (a swapped, replaced or truncated file is generated again with a
WARNING); files are written with ordinary file I/O into ``.part`` files and moved
into place atomically, so a full disk gives a clear error and no partial file
(:mod:`nispace._cache`).

Split models (``"spin+moran"`` on a combined cortex + subcortex parcellation) are
stored by part: the cortex spins as one index file shared by all maps (int32, no
values), the subcortex nulls as per-map value files of the subcortical parcels only,
and not at all when the subcortex model is cheap to draw (Moran, random: drawn again
per chunk from the same seeds, so bit for bit the nulls that would have been stored).
For Schaefer400TianS3, 14 maps and 10,000 nulls that is 16 MB instead of 504 MB.

Seeds
-----
Map-independent randomness (spin rotations, shared by all maps so that the maps'
relations to each other are kept) comes from chunk ``c``'s child of the root seed.
Map-specific randomness (Moran, Burt, random) comes from a seed built from the root
seed, the map's content and the chunk index, so a map's nulls do not depend on which
other maps are permuted with it: that is what makes per-map caching sound.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._cache import (ArrayWriter, cache_folder, load_array, remove, remove_stale_parts,
                      remove_tree, write_error)
from .._random import as_seed_sequence, chunk_bounds
from ..nulls import SplitNullModel
from .engine import CHUNK_SIZE, run_chunks
from .spec import zscore_nulls

__all__ = ["NullMaps", "ArrayNulls", "prepare_null_maps", "map_digest"]

logger = logging.getLogger("nispace.permute")

_CACHE_VERSION = "3"


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
    split: SplitParts | None = None

    def chunk(self, start: int, stop: int) -> np.ndarray:
        """Null maps ``start:stop`` of every map, shape ``(n_maps, stop - start, n_parcels)``."""
        if self.kind == "index":
            return self.resolve(np.load(self.files[0], mmap_mode="r",
                                        allow_pickle=False)[start:stop])
        if self.kind == "split":
            out = self.split.read(self.data, self.files, start, stop)
            return zscore_nulls(out) if self.standardize else out
        out = np.stack([np.load(f, mmap_mode="r", allow_pickle=False)[start:stop]
                        for f in self.files])
        out = np.asarray(out, dtype=np.float64)
        return zscore_nulls(out) if self.standardize else out

    def resolve(self, idx: np.ndarray) -> np.ndarray:
        """Null maps of the index rows ``idx`` (b, n_parcels) of every map, shape
        ``(n_maps, b, n_parcels)``, z-scored if ``standardize`` (index kind only)."""
        out = np.asarray(gather(self.data, idx), dtype=np.float64)
        return zscore_nulls(out) if self.standardize else out

    def indices(self, start: int, stop: int) -> np.ndarray | None:
        """Index nulls ``start:stop`` ``(stop - start, n_parcels)``; None for value nulls."""
        if self.kind != "index":
            return None
        return np.array(np.load(self.files[0], mmap_mode="r", allow_pickle=False)[start:stop])

    def to_array(self) -> np.ndarray:
        """All null maps, ``(n_maps, n_perm, n_parcels)`` (loads everything)."""
        return self.chunk(0, self.n_perm)

    def cleanup(self) -> None:
        """Remove temporary files (nulls made without a seed)."""
        remove_tree(self._tmpdir)
        self._tmpdir = None


@dataclass
class SplitParts:
    """How the nulls of a split model (cortex spins + subcortex model) are stored.

    ``files[0]`` of the :class:`NullMaps` holds the cortex index nulls shared by all
    maps; ``files[1:]`` hold per-map subcortex values ``(n_perm, n_subcortex)``, or
    are absent when ``model.subcortex`` is cheap and drawn again on reading, with the
    seeds of writing: the same nulls, bit for bit.
    """

    model: object
    seed: object
    digests: list
    n_perm: int

    @property
    def stored(self) -> bool:
        """Whether the subcortex nulls are stored (else drawn again on reading)."""
        return not self.model.subcortex.cheap

    def read(self, data: np.ndarray, files: list, start: int, stop: int) -> np.ndarray:
        """Null maps ``start:stop`` of every row of ``data``, ``(n_maps, b, n_parcels)``."""
        cx, sc = self.model.cx_idx, self.model.sc_idx
        out = np.empty((data.shape[0], stop - start, data.shape[1]))
        idx = np.load(files[0], mmap_mode="r", allow_pickle=False)[start:stop]
        out[:, :, cx] = gather(data[:, cx], np.asarray(idx))
        if self.stored:
            out[:, :, sc] = np.stack([np.load(f, mmap_mode="r", allow_pickle=False)
                                      [start:stop] for f in files[1:]])
            return out
        root = as_seed_sequence(self.seed)
        for a, b in chunk_bounds(self.n_perm, CHUNK_SIZE):
            if a < stop and b > start:
                lo, hi = max(a, start), min(b, stop)
                for i, digest in enumerate(self.digests):
                    sub = _subcortex_draw(self.model, data[i], a, b, root, digest)
                    out[i][lo - start:hi - start, sc] = sub[lo - a:hi - a]
        return out


def _chunk_seed(root: np.random.SeedSequence, chunk: int) -> np.random.SeedSequence:
    """Child ``chunk`` of ``root``, as :func:`nispace._random.chunk_seeds` spawns it."""
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, chunk),
                                  pool_size=root.pool_size)


def _subcortex_draw(model, row: np.ndarray, a: int, b: int, root, digest: str) -> np.ndarray:
    """Subcortex nulls ``a:b`` (one chunk) of the map ``row`` under a split model, with
    the seeds :func:`_gen_chunk` gives that chunk."""
    c = a // CHUNK_SIZE
    return model.part_values(1, row, b - a, _map_seed(root, digest, c), _chunk_seed(root, c))


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


def _layout(model) -> str:
    """How ``model``'s nulls are stored: ``"index"`` (one index file for all maps),
    ``"split"`` (cortex index file + subcortex values, see :class:`SplitParts`) or
    ``"values"`` (one value file per map)."""
    if model.kind == "index":
        return "index"
    if isinstance(model, SplitNullModel) and model.cortex.kind == "index":
        return "split"
    return "values"


def _gen_chunk(start, stop, seed, model, data, todo, digests, root):
    """Worker: nulls ``start:stop`` for maps ``todo`` (values) or the shared indices;
    for a split model the cortex indices and the stored subcortex values of ``todo``."""
    c = start // CHUNK_SIZE
    layout = _layout(model)
    if layout == "index":
        return model.indices(stop - start, seed)
    if layout == "split":
        return [model.cortex_indices(stop - start, seed)] + [
            model.part_values(1, data[i], stop - start, _map_seed(root, digests[i], c), seed)
            for i in todo]
    return np.stack([model.values(data[i], stop - start, _map_seed(root, digests[i], c), seed)
                     for i in todo])


def prepare_null_maps(model, data: np.ndarray, labels: list, n_perm: int, seed, *,
                      n_proc: int = 1, use_cache: bool = True, standardize: bool = False,
                      verbose: bool | str | int | None = None) -> NullMaps:
    """Generate (or find in the cache) the null maps of every row of ``data``.

    Cached files are used only after verification against their sidecar (what they
    were computed from and their SHA-256, see :mod:`nispace._cache`); a file that
    fails is generated again with a WARNING naming it. A cache folder that cannot
    be written is replaced by a temporary folder with a WARNING. Temporary folders
    are removed by :meth:`NullMaps.cleanup`, on any error here, and at the latest
    when the returned object is garbage collected.

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

    Raises
    ------
    OSError
        Writing the null maps failed (e.g. the disk is full); the message names the
        folder and what to do, and no partial file is left behind.
    """
    data = np.asarray(data, dtype=np.float64)
    on_disk = use_cache and seed is not None
    if seed is None:  # fix fresh entropy once so that chunk and map seeds agree in this run
        seed = as_seed_sequence(None).entropy
    if on_disk:
        folder, tmp = cache_folder("nulls")
    else:
        tmp = tempfile.mkdtemp(prefix="nispace-nulls-")
        folder = Path(tmp)
    try:
        nulls = _prepare(model, data, labels, n_perm, seed, folder, n_proc, standardize,
                         verbose)
    except BaseException:
        remove_tree(tmp)
        raise
    nulls._tmpdir = tmp
    if tmp:
        weakref.finalize(nulls, remove_tree, tmp)
    return nulls


def _key(model, n_perm: int, seed, n_parcels: int, digest: str | None) -> dict:
    """What one null file is computed from (recorded in its sidecar)."""
    return {"what": "null indices" if digest is None else "null maps", "map_sha256": digest,
            "null_method": model.name, "model": model.digest(), "n_perm": int(n_perm),
            "seed": str(seed), "chunk_size": CHUNK_SIZE, "n_parcels": int(n_parcels),
            "version": _CACHE_VERSION}


def _prepare(model, data, labels, n_perm, seed, folder, n_proc, standardize, verbose):
    tag = f"v{_CACHE_VERSION}_n{n_perm}_s{seed}_c{CHUNK_SIZE}"
    mdir = folder / model.digest()
    try:
        mdir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise write_error(err, mdir) from err
    remove_stale_parts(mdir)
    n = data.shape[1]
    digests = [map_digest(row) for row in data]
    layout = _layout(model)
    if layout == "index":
        files, keys = [mdir / f"indices_{tag}.npy"], [_key(model, n_perm, seed, n, None)]
        specs = [((n_perm, n), np.int32)]
    elif layout == "split":
        n_cx, n_sc = model.cx_idx.size, model.sc_idx.size
        files = [mdir / f"cortex_indices_{tag}.npy"]
        keys = [_key(model, n_perm, seed, n_cx, None) | {"part": "cortex"}]
        specs = [((n_perm, n_cx), np.int32)]
        if not model.subcortex.cheap:
            files += [mdir / f"{d}_subcortex_{tag}.npy" for d in digests]
            keys += [_key(model, n_perm, seed, n_sc, d) | {"part": "subcortex"}
                     for d in digests]
            specs += [((n_perm, n_sc), np.float64)] * len(digests)
    else:
        files = [mdir / f"{d}_{tag}.npy" for d in digests]
        keys = [_key(model, n_perm, seed, n, d) for d in digests]
        specs = [((n_perm, n), np.float64)] * len(digests)
    what = f"cached null maps ({model.name})"
    missing = [i for i, (f, k, (shape, dtype)) in enumerate(zip(files, keys, specs))
               if load_array(f, k, shape=shape, dtype=dtype, mmap=True, what=what) is None]
    # maps whose value files are missing (the split's shared cortex file is entry 0)
    todo = [i - 1 for i in missing if i > 0] if layout == "split" else missing
    if missing:
        if layout == "values":
            model.prepare(data[todo])
        else:
            model.prepare(data)
        logger.info("Generating null maps (n = %d, null_method = '%s') for %d map(s).",
                    n_perm, model.name, len(todo) if layout == "values" else len(data))
        _write(model, data, todo, digests, [files[i] for i in missing],
               [keys[i] for i in missing], [specs[i] for i in missing], n_perm, seed,
               n_proc, verbose)
    else:
        if layout == "split":
            model.subcortex.prepare(data[:, model.sc_idx])
        logger.info("Using cached null maps (null_method = '%s', n = %d).", model.name, n_perm)
    split = SplitParts(model, seed, digests, n_perm) if layout == "split" else None
    return NullMaps(labels=list(labels), n_perm=n_perm, kind=layout, files=files,
                    data=data if layout != "values" else None, standardize=standardize,
                    method=model.name, split=split)


def _write(model, data, todo, digests, targets, keys, specs, n_perm, seed, n_proc,
           verbose) -> None:
    """Generate the nulls chunk by chunk, appending each to its file (atomic, no mmap).

    ``targets`` are the missing files: for a split model the shared cortex index file
    (written only if missing) and the subcortex files of the maps ``todo``."""
    root = as_seed_sequence(seed)
    layout = _layout(model)
    with contextlib.ExitStack() as stack:
        writers = [stack.enter_context(ArrayWriter(f, shape, dtype, k))
                   for f, k, (shape, dtype) in zip(targets, keys, specs)]
        skip = 0 if layout != "split" or keys[0].get("part") == "cortex" else 1

        def store(a: int, b: int, res) -> None:
            for k, writer in enumerate(writers):
                writer.write(res if layout == "index" else res[k + skip])

        run_chunks(_gen_chunk, n_perm, seed, args=(model, data, todo, digests, root),
                   n_proc=n_proc, desc=f"Null maps ({model.name})", verbose=verbose,
                   consume=store)
        try:
            for writer in writers:
                writer.commit()
        except BaseException:
            for f in targets:  # all or none: a half-committed set is removed
                remove(f)
            raise
