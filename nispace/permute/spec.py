"""What to compute for every permutation: a picklable description of one colocalization.

A :class:`ColocSpec` holds everything a worker needs to turn a batch of permuted X
or Y maps into null statistics: the method and its options, the covariate maps Z,
which statistics to keep and, for XSEA, how to aggregate X maps into sets. It is
built once in the API layer and shipped to the workers with each chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ColocSpec", "SetSpec", "zscore_nulls"]


@dataclass
class SetSpec:
    """XSEA aggregation: set label and optional weight of every X map."""

    sets: np.ndarray
    how: str = "mean"
    weights: np.ndarray | None = None
    fisher_z: bool = False

    def aggregate(self, values: np.ndarray, stat: str) -> np.ndarray:
        """``(..., n_x)`` statistics → ``(..., n_sets)`` set statistics."""
        from ..stats.xsea import aggregate_sets

        lead = values.shape[:-1]
        out, _ = aggregate_sets(values.reshape(-1, values.shape[-1]), self.sets, how=self.how,
                                weights=self.weights,
                                rho_scale=stat == "rho" and not self.fisher_z)
        return out.reshape(*lead, -1)

    @property
    def names(self) -> list:
        from ..stats.xsea import aggregate_sets

        _, names = aggregate_sets(np.zeros((1, len(self.sets))), self.sets, how="mean")
        return list(names)


@dataclass
class ColocSpec:
    """One colocalization, as run by :meth:`nispace.api.NiSpace.colocalize`.

    Attributes
    ----------
    method : str
        Colocalization method (a key of :data:`nispace.stats.coloc.COLOC_METHODS`).
    Z : ndarray (n_z, n_parcels) or None
        Covariate maps.
    options : dict
        Keyword arguments of the method (``zy_matched``, ``fisher_z``, ...).
    stats : list of str
        Statistics to keep (all pair- and model-level statistics of the method).
    sets : SetSpec or None
        XSEA aggregation of pair statistics over X maps.
    self_pairs : bool
        X colocalized with itself (``y=None``): the diagonal is NaN.
    """

    method: str
    Z: np.ndarray | None = None
    options: dict = field(default_factory=dict)
    stats: list[str] | None = None
    sets: SetSpec | None = None
    self_pairs: bool = False

    def __call__(self, X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
        """Null statistics for a batch: ``X`` (b, n_x, n) or (n_x, n), ``Y`` likewise.

        Returns ``{stat: (b, n_y, n_cols)}``; model-level statistics have one column.
        """
        from ..stats.batch import colocalize_batch

        out = colocalize_batch(X, Y, self.method, self.Z, stats=self.stats, **self.options)
        return self._finish(out, Y.shape[-2])

    def index_nulls(self, X: np.ndarray, Y: np.ndarray, idx: np.ndarray,
                    permuted: str, perm_rows: np.ndarray | None = None
                    ) -> dict[str, np.ndarray] | None:
        """Null statistics of index nulls ``idx`` (b, n) of the ``permuted`` side.

        The shortcut of :func:`nispace.stats.batch.colocalize_index_nulls` (no null map
        is gathered or ranked); None when it does not apply (then call the spec on the
        gathered null maps). Same result as that call, up to floating-point rounding.
        ``perm_rows``: :func:`~nispace.stats.batch.permutation_rows` of ``idx`` if
        the caller has it.
        """
        from ..stats.batch import colocalize_index_nulls

        options = dict(self.options)
        fisher_z = bool(options.pop("fisher_z", False))
        options.pop("r2_adjusted", None)               # no R² in correlation methods
        if (self.Z is not None or any(options.values())
                or (self.stats is not None and list(self.stats) != ["rho"])):
            return None
        out = colocalize_index_nulls(X, Y, idx, self.method, permuted=permuted,
                                     fisher_z=fisher_z, perm_rows=perm_rows)
        return None if out is None else self._finish(out, Y.shape[-2])

    def _finish(self, out: dict[str, np.ndarray], n_y: int) -> dict[str, np.ndarray]:
        """Model-level statistics get a column axis; self pairs NaN; XSEA aggregation."""
        result = {}
        for stat, arr in out.items():
            arr = np.asarray(arr, dtype=np.float64)
            if arr.ndim == 2:  # (b, n_y): model-level statistic
                result[stat] = arr[:, :, None]
                continue
            if self.self_pairs:
                idx = np.arange(min(n_y, arr.shape[-1]))
                arr[:, idx, idx] = np.nan
            if self.sets is not None:
                arr = self.sets.aggregate(arr, stat)
            result[stat] = arr
        return result


def zscore_nulls(nulls: np.ndarray) -> np.ndarray:
    """Z-score every null map over its parcels (NaN-aware, ddof=0 as :func:`fit`)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(nulls, axis=-1, keepdims=True)
        sd = np.nanstd(nulls, axis=-1, keepdims=True)
        return (nulls - mean) / sd
