"""The record of an X reduction (``NiSpace.reduce_x``): method, options, explained
variance and loadings, read-only.

Its tables are copied when the record is made and again when they are read, like the
other result objects, so the record cannot be changed through what it hands out.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["XReduction"]


class XReduction:
    """What ``NiSpace.reduce_x`` did to X.

    Parameters
    ----------
    method : str
        ``"mean"``, ``"median"``, ``"pca"``, ``"ica"`` or ``"fa"``.
    options : mapping
        The options used (``mean_by_set``, ``weighted_mean``, ``n_components``,
        ``min_ev``, ``seed`` and, for FA, ``fa_method`` and ``fa_rotation``).
    explained_variance : pandas.Series, optional
        Fraction of variance explained by each component (index: the reduced X
        maps); None for ICA and averages.
    loadings : pandas.DataFrame, optional
        Input maps (rows, X's index before the reduction) x components (columns,
        the reduced X's index); None for averages.
    """

    __slots__ = ("_method", "_options", "_explained_variance", "_loadings")

    def __init__(self, method: str, options: Mapping[str, Any],
                 explained_variance: pd.Series | None = None,
                 loadings: pd.DataFrame | None = None):
        object.__setattr__(self, "_method", str(method))
        object.__setattr__(self, "_options", copy.deepcopy(dict(options)))
        object.__setattr__(self, "_explained_variance",
                           None if explained_variance is None else explained_variance.copy())
        object.__setattr__(self, "_loadings", None if loadings is None else loadings.copy())

    def __setattr__(self, name, value):
        raise AttributeError(f"XReduction is read-only; cannot set {name!r}.")

    @property
    def method(self) -> str:
        """The reduction."""
        return self._method

    @property
    def options(self) -> dict[str, Any]:
        """The options used (a copy)."""
        return copy.deepcopy(self._options)

    @property
    def explained_variance(self) -> pd.Series | None:
        """Explained variance per component (a copy), or None."""
        ev = self._explained_variance
        return None if ev is None else ev.copy()

    @property
    def loadings(self) -> pd.DataFrame | None:
        """Loadings, input maps x components (a copy), or None."""
        return None if self._loadings is None else self._loadings.copy()

    @property
    def n_components(self) -> int:
        """Number of maps X was reduced to."""
        if self._loadings is not None:
            return int(self._loadings.shape[1])
        return int(self._options.get("n_maps_out", 0))

    def frames(self) -> dict[str, pd.DataFrame]:
        """The tables as DataFrames (copies), for saving: ``explained_variance`` (one
        column ``"ev"``) and ``loadings``, each only when present."""
        out = {}
        if self._explained_variance is not None:
            out["explained_variance"] = self._explained_variance.to_frame("ev")
        if self._loadings is not None:
            out["loadings"] = self._loadings.copy()
        return out

    @classmethod
    def from_frames(cls, method: str, options: Mapping[str, Any],
                    frames: Mapping[str, pd.DataFrame]) -> XReduction:
        """The inverse of :meth:`frames` (loading a saved analysis)."""
        ev = frames.get("explained_variance")
        return cls(method, options, None if ev is None else ev["ev"].rename("ev"),
                   frames.get("loadings"))

    def __repr__(self) -> str:
        ev = self._explained_variance
        total = "" if ev is None else f", explained variance {float(ev.sum()):.3f}"
        return f"XReduction({self._method!r}, {self.n_components} maps{total})"
