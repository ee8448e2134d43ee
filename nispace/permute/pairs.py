"""Permutation of pairs: is a map more similar to its own partner than to others'?

For paired maps (X_i, Y_i), e.g. two modalities of the same subject, the statistic
is the mean within-pair colocalization; its null re-pairs the maps at random
(Y_pi(i) with X_i). This is the SPICE test of Weinstein et al. (2021), "A simple
permutation-based test of intermodal correspondence", Human Brain Mapping 42(16),
5175-5187, https://doi.org/10.1002/hbm.25577.
"""

from __future__ import annotations

import numpy as np

from .._random import as_generator
from ..errors import InputError
from .engine import run_chunks, stack_chunks

__all__ = ["pair_statistics", "null_colocalizations_pairs"]


def pair_statistics(colocs: np.ndarray) -> dict[str, float]:
    """Within-pair mean (diagonal), between-pair mean (off-diagonal) and their
    difference for a square ``(n_pairs, n_pairs)`` colocalization matrix (rows Y)."""
    colocs = np.asarray(colocs, dtype=float)
    n = colocs.shape[0]
    within = np.nanmean(np.diag(colocs))
    off = colocs[~np.eye(n, dtype=bool)]
    between = np.nanmean(off)
    return {"within": within, "between": between, "difference": within - between}


def _pairs_chunk(start, stop, seed, colocs):
    rng = as_generator(seed)
    n = colocs.shape[0]
    perms = rng.permuted(np.tile(np.arange(n), (stop - start, 1)), axis=1)
    within = np.nanmean(colocs[perms, np.arange(n)], axis=1)
    return {"within": within[:, None, None]}


def null_colocalizations_pairs(colocs: np.ndarray, n_perm: int, seed, *, n_proc: int = 1,
                               verbose: bool | str | int | None = None) -> dict[str, np.ndarray]:
    """Null within-pair means ``{"within": (n_perm, 1, 1)}`` from random re-pairings."""
    colocs = np.asarray(colocs, dtype=float)
    if colocs.ndim != 2 or colocs.shape[0] != colocs.shape[1]:
        raise InputError(f"colocs: pairs need as many Y as X maps (a square matrix); got "
                         f"shape {colocs.shape}.")
    chunks = run_chunks(_pairs_chunk, n_perm, seed, args=(colocs,), n_proc=n_proc,
                        desc="Permuting pairs", verbose=verbose, prefer="threads")
    return stack_chunks(chunks)
