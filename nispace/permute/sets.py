"""Permutation of sets (XSEA): null sets of the same size drawn from a background pool.

The observed set statistic aggregates the colocalizations of a set's X maps; its
null aggregates those of equally many X maps drawn at random, without replacement,
from the background pool (by default all X maps). This tests whether a set is more
colocalized than random sets of reference maps *given* the target map, the
competitive null of gene-set enrichment analyses (Subramanian et al., 2005; Fulcher
et al., 2021, https://doi.org/10.1038/s41467-021-22862-1, who show that such
gene-set nulls should be complemented by spatial nulls of the target map).
"""

from __future__ import annotations

import numpy as np

from .._random import as_generator
from ..errors import InputError
from ..stats.xsea import aggregate_sets
from .engine import run_chunks, stack_chunks

__all__ = ["null_colocalizations_sets", "random_subsets"]


def random_subsets(n_pool: int, size: int, n: int, seed) -> np.ndarray:
    """``n`` uniformly random subsets of ``size`` indices out of ``range(n_pool)``,
    shape ``(n, size)``."""
    if not 1 <= size <= n_pool:
        raise InputError(f"size: expected 1 <= size <= {n_pool} (pool size); got {size}.")
    rng = as_generator(seed)
    keys = rng.random((n, n_pool))
    return np.argpartition(keys, size - 1, axis=1)[:, :size]


def _sets_chunk(start, stop, seed, colocs, sizes, how, rho_scale):
    """colocs: {stat: (n_y, n_pool)} → {stat: (b, n_y, n_sets)}."""
    rng = as_generator(seed)
    b = stop - start
    draws = [random_subsets(next(iter(colocs.values())).shape[1], m, b, rng) for m in sizes]
    out = {}
    for stat, values in colocs.items():
        n_y = values.shape[0]
        res = np.empty((b, n_y, len(sizes)))
        for s, idx in enumerate(draws):
            picked = values[:, idx]  # (n_y, b, m)
            flat = picked.transpose(1, 0, 2).reshape(b * n_y, -1)
            agg, _ = aggregate_sets(flat, np.zeros(flat.shape[1], int), how=how,
                                    rho_scale=rho_scale.get(stat, False))
            res[:, :, s] = agg.reshape(b, n_y)
        out[stat] = res
    return out


def null_colocalizations_sets(colocs: dict[str, np.ndarray], sizes: list[int], n_perm: int,
                              seed, *, how: str = "mean", rho_scale: dict | None = None,
                              n_proc: int = 1, verbose: bool | str | int | None = None) -> dict[str, np.ndarray]:
    """Null set statistics ``{stat: (n_perm, n_y, n_sets)}``.

    Parameters
    ----------
    colocs : dict of str to ndarray (n_y, n_pool)
        Observed colocalization of every Y map with every background X map.
    sizes : list of int
        Number of X maps in each set.
    how : str
        Set aggregation (``"mean"``, ``"median"``, ``"absmean"``, ...; weights are
        not used for random sets).
    rho_scale : dict of str to bool
        Statistics that are correlations to average on Fisher's z scale.
    """
    how = how.replace("weighted", "")
    chunks = run_chunks(_sets_chunk, n_perm, seed,
                        args=(colocs, list(sizes), how, dict(rho_scale or {})),
                        n_proc=n_proc, desc="Permuting sets", verbose=verbose,
                        prefer="threads")
    return stack_chunks(chunks)
