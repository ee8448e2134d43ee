"""Immutable result objects: one per step of an analysis.

* :class:`ColocalizationResult` - what :meth:`NiSpace.colocalize` computed;
* :class:`PermutationResult` - observed values, nulls, p and z of one
  :meth:`NiSpace.permute` call (one kind: group labels, X/Y map nulls, sets, pairs);
* :class:`CorrectionResult` - corrected p-values of one :meth:`NiSpace.correct_p` call.

Every result is a frozen dataclass; its tables and arrays are copied when the result
is made and again when they are read (arrays come back writeable copies), so nothing
a user does to what a getter returned changes the stored result. Each carries a
``provenance`` dict (JSON types only): the labels and SHA-256 of X, Y and Z, the Y
steps, ``NiSpace.fit_record_``, versions, data files and the time.
"""

from __future__ import annotations

import copy
import html
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd

from .._errors import check_option
from ..errors import InputError, StateError
from .._docs import fill_doc

__all__ = ["html_summary", "FrozenMap", "ColocalizationResult", "PermutationResult", "CorrectionResult",
           "MissingResultError", "StaleResultError", "PERMUTE_WHAT"]

#: names of the permutation kinds (``permute_what=``), NiSpace's spelling
PERMUTE_WHAT = ("groups", "xmaps", "ymaps", "xymaps", "sets", "pairs")


class MissingResultError(StateError, LookupError):
    """A result was asked for that has not been computed; the message names the call."""


class StaleResultError(StateError):
    """A step builds on a result whose inputs changed since; the message names the call."""


class FrozenMap(Mapping):
    """A read-only mapping; DataFrames and dicts in it are handed out as copies."""

    def __init__(self, items: Mapping | None = None):
        self._items = dict(items or {})

    def __getitem__(self, key):
        value = self._items[key]
        if isinstance(value, (pd.DataFrame, pd.Series, dict, list)):
            return copy.deepcopy(value)
        return value

    def __contains__(self, key) -> bool:  # no copy just to test membership
        return key in self._items

    def __iter__(self) -> Iterator:
        return iter(self._items)

    def stored(self, key):
        """The stored value itself (read-only use inside nispace: no copy)."""
        return self._items[key]

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"FrozenMap({list(self._items)})"

    def to_dict(self) -> dict:
        """A plain (deep) copy."""
        return {k: self[k] for k in self}


def _frozen(items: Mapping | None) -> FrozenMap:
    return FrozenMap({str(k): copy.deepcopy(v) for k, v in (items or {}).items()})


def _frozen_frames(frames: Mapping[str, pd.DataFrame]) -> FrozenMap:
    return FrozenMap({str(k): v.copy() for k, v in frames.items()})


def _frozen_arrays(arrays: Mapping[str, np.ndarray]) -> FrozenMap:
    out = {}
    for k, v in arrays.items():
        arr = np.array(v, copy=True)
        arr.setflags(write=False)
        out[str(k)] = arr
    return FrozenMap(out)


#: the statistic shown first (figures, key results) when a method gives several
MAIN_STATS = ("rho", "r2", "total", "beta", "mi", "within")


def main_stat(stats) -> str:
    """The main statistic among ``stats`` (see :data:`MAIN_STATS`), else the first."""
    stats = list(stats)
    return next((s for s in MAIN_STATS if s in stats), stats[0])


def pick(frames: Mapping[str, Any], stat: str | None, what: str = "stat"):
    """A copy of one statistic's table or array: ``stat``, or the only one.

    Always one type: a method with several statistics (``mlr``: ``r2``, ``beta``, ...)
    needs ``stat=``; :func:`pick_all` returns all of them as a dict.
    """
    def get(key):  # one copy, not a copy of a copy
        return (frames.stored(key) if isinstance(frames, FrozenMap) else frames[key]).copy()

    if stat is None:
        if len(frames) == 1:
            return get(next(iter(frames)))
        raise InputError(f"{what}: this result has several statistics ({list(frames)}); "
                         f"name one, e.g. {what}={next(iter(frames))!r} (all of them: the "
                         f"result object's tables, e.g. "
                         f"nsp.get_colocalization_result(method).stats).")
    check_option(what, stat, list(frames))
    return get(stat)


def pick_all(frames: Mapping[str, Any]) -> dict[str, Any]:
    """Copies of every statistic's table or array, as ``{stat: value}``."""
    return {k: pick(frames, k) for k in frames}


def html_summary(title: str, rows: list[tuple[str, object]]) -> str:
    """A small HTML table (title + key/value rows, all text escaped) for notebooks'
    ``_repr_html_``; plain markup, no scripts or styles beyond inline alignment."""
    esc = html.escape
    body = "".join(f"<tr><th style=\"text-align:left\">{esc(str(k))}</th>"
                   f"<td style=\"text-align:left\">{esc(str(v))}</td></tr>" for k, v in rows)
    return f"<div><strong>{esc(title)}</strong><table>{body}</table></div>"


def _shape(tables: Mapping[str, pd.DataFrame]) -> str:
    first = next(iter(tables.values()), None)
    return "" if first is None else f"{first.shape[0]} Y x {first.shape[1]} X"


def _n_below(tables: Mapping[str, pd.DataFrame], alpha: float = 0.05) -> str:
    return ", ".join(f"{k}: {int((v.to_numpy() < alpha).sum())} of {v.size}"
                     for k, v in tables.items())


@dataclass(frozen=True, eq=False)
@fill_doc
class ColocalizationResult:
    """Colocalizations of every Y map with every X map (or X set).

    Made by :class:`~nispace.api.NiSpace`; the fields are its read-only attributes.

    Parameters
    ----------
    key : str
        The name results are stored under (``"spearman"``, ``"spearman_xsea"``).
    method : str
        The colocalization method.
    xsea, xsea_aggr : bool, str
        Set enrichment and the aggregation of the maps of a set.
    options : mapping
        The other options of :meth:`NiSpace.colocalize`.
    stats : mapping of str to DataFrame
        One table per statistic (rows Y labels, columns X labels or sets).
    provenance : mapping
        See the module docstring.
    """

    key: str
    method: str
    xsea: bool
    xsea_aggr: str
    options: Mapping[str, Any]
    stats: Mapping[str, pd.DataFrame]
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "options", _frozen(self.options))
        object.__setattr__(self, "stats", _frozen_frames(self.stats))
        object.__setattr__(self, "provenance", _frozen(self.provenance))

    def get(self, stat: str | None = None):
        """A copy of one statistic's table.

        Parameters
        ----------
        %(stat)s

        Returns
        -------
        pandas.DataFrame
        """
        return pick(self.stats, stat)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per (statistic, Y map, X map)."""
        from .tidy import tidy_frame

        return tidy_frame(self)

    def _repr_html_(self) -> str:
        return html_summary(f"ColocalizationResult {self.key!r}", [
            ("method", self.method + (f" (XSEA, {self.xsea_aggr})" if self.xsea else "")),
            ("statistics", ", ".join(self.stats)), ("shape", _shape(self.stats)),
            ("created", self.provenance.get("created", ""))])


@dataclass(frozen=True, eq=False)
@fill_doc
class PermutationResult:
    """Observed colocalizations tested against one kind of null distribution.

    Made by :class:`~nispace.api.NiSpace`; the fields are its read-only attributes.

    Parameters
    ----------
    key : str
        The colocalization it tests (``"spearman"``, ...).
    permute_what : str
        ``"groups"``, ``"xmaps"``, ``"ymaps"``, ``"xymaps"``, ``"sets"`` or ``"pairs"``.
    kind : str
        The ``what`` of :meth:`NiSpace.permute` (``"maps"``, ``"groups"``, ...).
    null_model : str or None
        Description of the null model (for map nulls, including the space of the
        geometry), ``"user-provided"`` or None.
    n_perm, seed, n_proc, tails, pooled, paired, maps_which
        As given to / resolved by :meth:`NiSpace.permute`.
    observed, p, z : mapping of str to DataFrame
        Observed values (pooled over Y maps with ``pooled``), exact permutation
        p-values, and z-scores against the null, one table per statistic.
    nulls : mapping of str to ndarray (n_perm, n_rows, n_cols)
        Null colocalizations (read-only arrays; empty when saved without nulls).
    extra : mapping
        Kind-specific summaries (e.g. the within/between means of pairs).
    provenance : mapping
    """

    key: str
    permute_what: str
    kind: str
    null_model: str | None
    n_perm: int
    seed: int | None
    n_proc: int
    tails: Mapping[str, str]
    pooled: str | bool
    observed: Mapping[str, pd.DataFrame]
    p: Mapping[str, pd.DataFrame]
    z: Mapping[str, pd.DataFrame]
    nulls: Mapping[str, np.ndarray]
    paired: bool = False
    maps_which: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "tails", _frozen(self.tails))
        for name in ("observed", "p", "z"):
            object.__setattr__(self, name, _frozen_frames(getattr(self, name)))
        object.__setattr__(self, "nulls", _frozen_arrays(self.nulls))
        object.__setattr__(self, "extra", _frozen(self.extra))
        object.__setattr__(self, "provenance", _frozen(self.provenance))

    @property
    def stat_names(self) -> list[str]:
        """The tested statistics."""
        return list(self.p)

    def get_p(self, stat: str | None = None):
        """A copy of the p-values of one statistic.

        Parameters
        ----------
        %(stat)s

        Returns
        -------
        pandas.DataFrame
        """
        return pick(self.p, stat)

    def get_z(self, stat: str | None = None):
        """A copy of the z-scores of one statistic against its null.

        Parameters
        ----------
        %(stat)s

        Returns
        -------
        pandas.DataFrame
        """
        return pick(self.z, stat)

    def get_observed(self, stat: str | None = None):
        """A copy of the observed values of one statistic.

        Parameters
        ----------
        %(stat)s

        Returns
        -------
        pandas.DataFrame
        """
        return pick(self.observed, stat)

    def get_nulls(self, stat: str | None = None):
        """A writeable copy of the null colocalizations of one statistic.

        Parameters
        ----------
        %(stat)s

        Returns
        -------
        numpy.ndarray, shape (n_perm, n_rows, n_cols)
        """
        if not self.nulls:
            raise MissingResultError(
                f"The {self.permute_what!r} permutation of {self.key!r} was saved without "
                f"its nulls (save_nulls=False); call nsp.permute(...) again to get them.")
        return pick(self.nulls, stat)

    def _repr_html_(self) -> str:
        return html_summary(f"PermutationResult {self.key!r} / {self.permute_what!r}", [
            ("null model", self.null_model or self.kind), ("n_perm", self.n_perm),
            ("seed", self.seed), ("statistics", ", ".join(self.stat_names)),
            ("shape", _shape(self.p)), ("p < 0.05", _n_below(self.p)),
            ("nulls stored", bool(self.nulls))])

    def describe(self) -> dict:
        """The parameters of this permutation (JSON types), without the tables."""
        from .provenance import jsonable

        return jsonable({"key": self.key, "permute_what": self.permute_what,
                         "kind": self.kind, "null_model": self.null_model,
                         "n_perm": self.n_perm, "seed": self.seed, "n_proc": self.n_proc,
                         "tails": self.tails.to_dict(), "pooled": self.pooled,
                         "paired": self.paired, "maps_which": self.maps_which,
                         "stats": self.stat_names, "extra": self.extra.to_dict()})


@dataclass(frozen=True, eq=False)
@fill_doc
class CorrectionResult:
    """p-values of one permutation corrected for multiple comparisons.

    Made by :class:`~nispace.api.NiSpace`; the fields are its read-only attributes.

    Parameters
    ----------
    key, permute_what : str
        The permutation corrected (see :class:`PermutationResult`).
    mc_method : str
        Canonical name of the correction (``"meffgalwey"``, ``"bonferroni"``, ...).
    mc_dimension : {"x", "y", "array"}
        The family of tests.
    p : mapping of str to DataFrame
        Corrected p-values, one table per statistic.
    provenance : mapping
    """

    key: str
    permute_what: str
    mc_method: str
    mc_dimension: str
    p: Mapping[str, pd.DataFrame]
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "p", _frozen_frames(self.p))
        object.__setattr__(self, "provenance", _frozen(self.provenance))

    def get_p(self, stat: str | None = None):
        """A copy of the corrected p-values of one statistic.

        Parameters
        ----------
        %(stat)s

        Returns
        -------
        pandas.DataFrame
        """
        return pick(self.p, stat)

    def _repr_html_(self) -> str:
        return html_summary(f"CorrectionResult {self.key!r} / {self.permute_what!r}", [
            ("correction", self.mc_method), ("family", self.mc_dimension),
            ("q < 0.05", _n_below(self.p))])

    def describe(self) -> dict:
        """The parameters of this correction (JSON types)."""
        return {"key": self.key, "permute_what": self.permute_what,
                "mc_method": self.mc_method, "mc_dimension": self.mc_dimension}
