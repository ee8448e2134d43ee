"""The chunk engine: threads on a persistent pool give the results of one thread.

Chunks are seeded per chunk, so where they run (the calling thread, the pool's
threads, a joblib backend the user activated) never changes a result; these tests
pin that down for the pool and its serial shortcut.
"""

from __future__ import annotations

import threading

import joblib
import numpy as np
import pytest

from nispace._random import as_generator
from nispace.errors import InputError
from nispace.permute import engine
from nispace.permute.engine import run_chunks


def _draw(start, stop, seed, scale):
    """A chunk: its random draws, where it ran, and a BLAS product."""
    rng = as_generator(seed)
    a = rng.normal(size=(stop - start, 30))
    return {"values": (a @ a.T).diagonal() * scale, "thread": threading.current_thread().name}


def _values(chunks):
    return np.concatenate([c["values"] for c in chunks])


@pytest.mark.parametrize("serial_below", [0.0, 1e9])
def test_threads_on_the_pool_give_the_results_of_one_thread(monkeypatch, serial_below):
    monkeypatch.setattr(engine, "SERIAL_BELOW_SECONDS", serial_below)
    one = run_chunks(_draw, 1000, 3, args=(2.0,), n_proc=1, prefer="threads", verbose=False)
    two = run_chunks(_draw, 1000, 3, args=(2.0,), n_proc=2, prefer="threads", verbose=False)
    np.testing.assert_array_equal(_values(two), _values(one))
    threads = {c["thread"] for c in two[1:]}
    if serial_below == 0:        # everything after the first chunk went to the pool
        assert all(t.startswith("nispace-chunks") for t in threads)
    else:                        # too little work: all in the calling thread
        assert threads == {threading.current_thread().name}


def test_the_pool_leaves_blas_threads_as_they_were(monkeypatch):
    from threadpoolctl import threadpool_info

    monkeypatch.setattr(engine, "SERIAL_BELOW_SECONDS", 0.0)
    before = [lib["num_threads"] for lib in threadpool_info()]
    run_chunks(_draw, 1000, 3, args=(1.0,), n_proc=2, prefer="threads", verbose=False)
    assert [lib["num_threads"] for lib in threadpool_info()] == before


def _blas_threads(start, stop, seed):
    from threadpoolctl import threadpool_info

    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


@pytest.mark.parametrize("n_proc", [1, 2])
def test_chunks_in_this_process_use_one_blas_thread(monkeypatch, n_proc):
    """BLAS's threads on the chunks' small products only wait for each other (group
    permutations ran 4x slower with two); the setting is restored afterwards."""
    from threadpoolctl import threadpool_info

    monkeypatch.setattr(engine, "SERIAL_BELOW_SECONDS", 0.0)
    before = [lib["num_threads"] for lib in threadpool_info()]
    chunks = run_chunks(_blas_threads, 1000, 3, n_proc=n_proc, prefer="threads",
                        verbose=False, seeded=False)
    assert all(c <= {1} for c in chunks)
    assert [lib["num_threads"] for lib in threadpool_info()] == before


def test_a_backend_set_with_joblib_runs_the_chunks(monkeypatch):
    monkeypatch.setattr(engine, "SERIAL_BELOW_SECONDS", 0.0)
    with joblib.parallel_config(backend="sequential"):
        chunks = run_chunks(_draw, 1000, 3, args=(1.0,), n_proc=2, prefer="threads",
                            verbose=False)
    assert {c["thread"] for c in chunks} == {threading.current_thread().name}
    one = run_chunks(_draw, 1000, 3, args=(1.0,), n_proc=1, verbose=False)
    np.testing.assert_array_equal(_values(chunks), _values(one))


def _fails(start, stop, seed):
    if start >= 500:
        raise InputError("chunk failed")
    return {"values": np.zeros(stop - start)}


def test_an_error_in_a_pooled_chunk_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(engine, "SERIAL_BELOW_SECONDS", 0.0)
    with pytest.raises(InputError, match="chunk failed"):
        run_chunks(_fails, 1000, 3, n_proc=2, prefer="threads", verbose=False)


def test_consume_streams_pooled_chunks_in_order(monkeypatch):
    monkeypatch.setattr(engine, "SERIAL_BELOW_SECONDS", 0.0)
    seen = []
    out = run_chunks(_draw, 1000, 3, args=(1.0,), n_proc=2, prefer="threads", verbose=False,
                     consume=lambda a, b, res: seen.append((a, b)))
    assert out == [] and seen == [(0, 250), (250, 500), (500, 750), (750, 1000)]
