"""Run permutations in chunks: seeded per chunk, parallel through joblib, memory flat.

Every permutation-based computation in nispace is split into *chunks* of
``chunk_size`` permutations. Chunk ``c`` draws its random numbers from child
``c`` of ``numpy.random.SeedSequence(seed)`` (:func:`nispace._random.chunk_seeds`),
so the result depends on ``seed`` and ``chunk_size`` only: ``n_proc`` = 1, 2 or 4
give bit-identical nulls and p-values. Chunks run through :class:`joblib.Parallel`
with ``n_jobs=n_proc``; a backend the user activated with
``joblib.parallel_config(backend=...)`` (e.g. Dask's) is used as is. Each chunk
returns only its small per-permutation statistics; null maps are never all held in
memory at once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .._logging import progress_bar
from .._random import chunk_bounds, chunk_seeds
from ..errors import InputError

__all__ = ["CHUNK_SIZE", "resolve_n_proc", "run_chunks", "stack_chunks"]

logger = logging.getLogger("nispace.permute")

#: Permutations per chunk. Part of the random stream's definition: changing it
#: changes the nulls drawn for a given seed (never ``n_proc``).
CHUNK_SIZE = 250


#: Persistent thread pools by size, created on first use (never at import) and reused:
#: joblib's threading backend starts its threads on every call (~15 ms here, a third of
#: a 1,000-permutation run).
_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOL_PREFIX = "nispace-chunks"


def _thread_pool(n_proc: int) -> ThreadPoolExecutor | None:
    """The persistent pool of ``n_proc`` threads, or None when joblib should run the
    chunks: a backend other than threads was activated with
    ``joblib.parallel_config``, or this is already a chunk thread (no nested pools)."""
    from joblib._parallel_backends import ThreadingBackend
    from joblib.parallel import get_active_backend

    if threading.current_thread().name.startswith(_POOL_PREFIX):
        return None
    if not isinstance(get_active_backend(prefer="threads")[0], ThreadingBackend):
        return None
    pool = _POOLS.get(n_proc)
    if pool is None:
        pool = _POOLS.setdefault(n_proc, ThreadPoolExecutor(
            max_workers=n_proc, thread_name_prefix=_POOL_PREFIX))
    return pool


#: Thread chunks run in the calling thread when the first chunk's time says that all the
#: others together take less than this (seconds): below it, handing chunks to threads
#: cost more than it saved on the shared 2-core machine (n_proc=2 was 1.1-1.3x the
#: n_proc=1 time for 10,000 Y nulls taking 0.4 s, see benchmarks/bench_parallel.py).
SERIAL_BELOW_SECONDS = 0.5


def _pooled(pool: ThreadPoolExecutor, fn, bounds, seeds, args):
    """Chunk results in order: the first chunk here, timed; the others here too when
    they would take less than :data:`SERIAL_BELOW_SECONDS`, else on ``pool``."""
    t0 = time.perf_counter()
    yield fn(*bounds[0], seeds[0], *args)
    rest = list(zip(bounds[1:], seeds[1:]))
    if (time.perf_counter() - t0) * len(rest) < SERIAL_BELOW_SECONDS:
        logger.debug("Chunks run in one thread (estimated %.2f s of work).",
                     (time.perf_counter() - t0) * len(rest))
        for (a, b), seed in rest:
            yield fn(a, b, seed, *args)
        return
    # n_proc threads, each with one BLAS thread (set by run_chunks): BLAS's own threads on
    # top of ours would oversubscribe the cores (products of one shape give the same bits
    # with any number of BLAS threads)
    yield from pool.map(lambda job: fn(*job[0], job[1], *args), rest)


@functools.lru_cache(maxsize=1)
def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries, made once (~2 ms each time)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def resolve_n_proc(n_proc: int | None) -> int:
    """``n_proc`` as a positive int (-1: all cores; None: 1)."""
    if n_proc is None:
        return 1
    if isinstance(n_proc, bool) or not isinstance(n_proc, (int, np.integer)) or n_proc == 0 \
            or n_proc < -1:
        raise InputError(f"n_proc: expected a positive integer or -1 (all cores); got "
                         f"{n_proc!r}.")
    if n_proc == -1:
        return os.cpu_count() or 1
    return int(n_proc)


def run_chunks(fn: Callable[..., Any], n_perm: int, seed, *, args: Sequence = (),
               n_proc: int | None = 1, chunk_size: int = CHUNK_SIZE, desc: str = "Permuting",
               verbose: bool | str | int | None = None, seeded: bool = True,
               consume: Callable[[int, int, Any], None] | None = None,
               prefer: str | None = None) -> list[Any]:
    """Call ``fn(start, stop, chunk_seed, *args)`` for every chunk; results in chunk order.

    Parameters
    ----------
    fn : callable
        A module-level (picklable) function of ``(start, stop, seed, *args)``.
    n_perm : int
        Total number of permutations.
    seed : int, SeedSequence or None
        Root seed; chunk ``c`` gets the ``c``-th child seed (None when ``seeded``
        is False).
    n_proc : int
        Parallel workers (joblib ``n_jobs``); -1 uses all cores.
    chunk_size : int
        Permutations per chunk (defines the random stream; keep the default).
    desc, verbose
        Progress bar text and level (None follows :func:`nispace.set_verbosity`; the
        bar appears only at INFO, on a terminal or notebook, for work over 2 s).
    consume : callable, optional
        ``consume(start, stop, result)`` is called for each chunk as it arrives (in
        order) and the results are not kept: memory stays flat. The return value is
        then an empty list.
    prefer : {"threads", "processes"}, optional
        joblib's backend hint. ``"threads"`` suits chunks whose time goes into NumPy
        and BLAS calls, which release the GIL: the chunks run on a persistent pool of
        ``n_proc`` threads (no worker start-up and no copy of the arguments), so
        ``n_proc=2`` is not slower than one process for small jobs. A backend
        activated with ``joblib.parallel_config`` still takes precedence.
    """
    from joblib import Parallel, delayed

    if not isinstance(n_perm, (int, np.integer)) or isinstance(n_perm, bool) or n_perm < 1:
        raise InputError(f"n_perm: expected a positive integer; got {n_perm!r}.")
    n_proc = resolve_n_proc(n_proc)
    bounds = chunk_bounds(int(n_perm), int(chunk_size))
    seeds = chunk_seeds(seed, len(bounds)) if seeded else [None] * len(bounds)
    pool = (_thread_pool(n_proc) if prefer == "threads" and n_proc > 1 and len(bounds) > 1
            else None)
    if pool is not None:
        results = _pooled(pool, fn, bounds, seeds, args)
    else:
        jobs = (delayed(fn)(a, b, s, *args) for (a, b), s in zip(bounds, seeds))
        results = Parallel(n_jobs=n_proc, return_as="generator", prefer=prefer)(jobs)
    out = []
    # chunks computed in this process (n_proc=1, or the pool's threads) use one BLAS
    # thread each: BLAS's threads on these small products only wait for each other
    # (group permutations took 1.6 s instead of 0.35 s with two BLAS threads on the
    # 2-core machine; see benchmarks/bench_parallel.py); process workers limit their own
    in_process = pool is not None or n_proc == 1
    with progress_bar(total=int(n_perm), desc=f"{desc} ({n_proc} proc)", verbose=verbose,
                      unit="perm", leave=False) as bar, \
            (_blas_controller().limit(limits=1, user_api="blas") if in_process
             else contextlib.nullcontext()):
        for (a, b), res in zip(bounds, results):
            if consume is None:
                out.append(res)
            else:
                consume(a, b, res)
            bar.update(b - a)
    return out


def stack_chunks(chunks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate per-chunk ``{stat: (b, ...)}`` dicts along the permutation axis."""
    if not chunks:
        return {}
    return {k: np.concatenate([c[k] for c in chunks], axis=0) for k in chunks[0]}
