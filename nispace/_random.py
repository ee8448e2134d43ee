"""One way to turn a ``seed`` into random numbers, everywhere in nispace.

``seed`` arguments accept ``None``, an ``int``, a :class:`numpy.random.SeedSequence`
or a :class:`numpy.random.Generator`. Work split into chunks (permutations,
null maps) takes one child of :class:`~numpy.random.SeedSequence` per chunk
(:func:`chunk_seeds`), so results depend on the seed and the chunk size only,
never on how many processes run the chunks.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError, InputTypeError

__all__ = ["SeedLike", "as_generator", "as_seed_sequence", "chunk_seeds", "chunk_bounds"]

SeedLike = "int | np.random.SeedSequence | np.random.Generator | None"


def as_seed_sequence(seed, name: str = "seed") -> np.random.SeedSequence:
    """A :class:`~numpy.random.SeedSequence` from ``seed`` (None: fresh entropy;
    ``name``: the argument, for messages)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(0, 2**63 - 1)))
    if seed is None or isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed is not None and seed < 0:
            raise InputError(f"{name}: expected a non-negative integer; got {seed}.")
        return np.random.SeedSequence(None if seed is None else int(seed))
    raise InputTypeError(f"{name}: expected None, an int, a SeedSequence or a Generator; "
                         f"got {type(seed).__name__}.")


def as_generator(seed) -> np.random.Generator:
    """A :class:`~numpy.random.Generator` from ``seed``; a Generator is returned as is."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(as_seed_sequence(seed))


def chunk_bounds(n: int, chunk_size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``range(n)`` in chunks of ``chunk_size``."""
    if chunk_size < 1:
        raise InputError(f"chunk_size: expected a positive integer; got {chunk_size}.")
    return [(s, min(s + chunk_size, n)) for s in range(0, n, chunk_size)]


def chunk_seeds(seed, n_chunks: int) -> list[np.random.SeedSequence]:
    """``n_chunks`` independent child seeds of ``seed`` (stable for a given seed)."""
    return as_seed_sequence(seed).spawn(n_chunks)
