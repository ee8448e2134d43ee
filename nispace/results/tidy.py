"""Tidy (long) tables of results: one row per (statistic, Y map, X map).

Columns: ``method`` (the stored colocalization, e.g. ``"spearman"``),
``permute_what`` (which permutation the p-values come from; ``"none"`` without one),
``stat``, ``y``, the X level(s) (``x``; ``set`` for XSEA; ``set`` and ``x`` for
set-structured X), ``value`` (observed), ``p``, ``q`` (corrected p),
``mc_method``, ``mc_dimension`` (``"none"`` without a correction) and ``z`` (against the null).
"""

from __future__ import annotations

import pandas as pd

from ..errors import InputError
from .provenance import flat_label

__all__ = ["tidy_frame", "COLUMNS"]

#: the columns of every tidy table, in order (the X level columns follow "y")
COLUMNS = ("method", "permute_what", "stat", "y", "value", "p", "q", "mc_method",
           "mc_dimension", "z")


def _long(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A (Y x X) frame as a long table indexed by y and the X level(s)."""
    out = frame.copy()
    cols = out.columns
    if not isinstance(cols, pd.MultiIndex):
        out.columns = pd.Index(cols, name="x" if cols.name in (None, "map", "x") else cols.name)
    else:
        out.columns = cols.set_names(["x" if n in (None, "map") else n for n in cols.names])
    out.index = pd.Index([flat_label(i) for i in out.index], name="y")
    long = out.stack(list(range(out.columns.nlevels)), future_stack=True).rename(name)
    return long.to_frame()


def tidy_frame(coloc, permutation=None, correction=None) -> pd.DataFrame:
    """The tidy table of a colocalization, optionally with the p-values of one of its
    permutations and the corrected p-values of one correction of that permutation.

    Parameters
    ----------
    coloc : ColocalizationResult
    permutation : PermutationResult, optional
        Its observed (possibly pooled) values replace the colocalizations.
    correction : CorrectionResult, optional
        Must correct ``permutation``.
    """
    if correction is not None and (permutation is None
                                   or correction.permute_what != permutation.permute_what
                                   or correction.key != permutation.key):
        raise InputError("correction: expected a correction of the given permutation; got "
                         f"one of {correction.key!r}/{correction.permute_what!r}.")
    frames = permutation.observed if permutation is not None else coloc.stats
    parts = []
    for stat, obs in frames.items():
        cols = [_long(obs, "value")]
        if permutation is not None and stat in permutation.p:
            cols.append(_long(permutation.p[stat], "p"))
            if correction is not None and stat in correction.p:
                cols.append(_long(correction.p[stat], "q"))
            cols.append(_long(permutation.z[stat], "z"))
        part = pd.concat(cols, axis=1).reset_index()
        part.insert(0, "stat", stat)
        part.insert(0, "permute_what", permutation.permute_what if permutation else "none")
        part.insert(0, "method", coloc.key)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    for col in ("p", "q", "z"):
        if col not in table:
            table[col] = float("nan")
    table["mc_method"] = correction.mc_method if correction is not None else "none"
    table["mc_dimension"] = correction.mc_dimension if correction is not None else "none"
    x_cols = [c for c in table.columns if c not in COLUMNS]
    order = ["method", "permute_what", "stat", "y", *x_cols, "value", "p", "q", "mc_method",
             "mc_dimension", "z"]
    return table[order]
