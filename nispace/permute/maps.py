"""Permutation of maps: colocalize spatial null maps of X and/or Y with the other side."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .engine import run_chunks, stack_chunks
from .nullmaps import NullMaps
from .spec import ColocSpec

__all__ = ["null_colocalizations_maps"]


def _maps_chunk(start, stop, _seed, spec: ColocSpec, X, Y, x_nulls, y_nulls):
    Xb = X if x_nulls is None else x_nulls.chunk(start, stop).transpose(1, 0, 2)
    Yb = Y if y_nulls is None else y_nulls.chunk(start, stop).transpose(1, 0, 2)
    return spec(Xb, Yb)


def null_colocalizations_maps(spec: ColocSpec, X: np.ndarray, Y: np.ndarray,
                              x_nulls: NullMaps | None, y_nulls: NullMaps | None, *,
                              n_proc: int = 1, verbose: bool | str | int | None = None) -> dict[str, np.ndarray]:
    """Null statistics ``{stat: (n_perm, n_y, n_cols)}`` from null maps of X and/or Y.

    Permutation ``k`` pairs null ``k`` of every permuted map (spins rotate all maps
    alike, so the maps' relations to each other are kept); unpermuted maps enter
    as observed.
    """
    if x_nulls is None and y_nulls is None:
        raise InputError("maps_which: no null maps to colocalize (neither X nor Y).")
    n_perm = (x_nulls or y_nulls).n_perm
    chunks = run_chunks(_maps_chunk, n_perm, None, seeded=False,
                        args=(spec, X, Y, x_nulls, y_nulls), n_proc=n_proc,
                        desc=f"Null colocalizations ({spec.method})", verbose=verbose)
    return stack_chunks(chunks)
