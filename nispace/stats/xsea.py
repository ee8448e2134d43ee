"""X-set enrichment analysis (XSEA): aggregate colocalizations over sets of X maps.

XSEA asks whether a target map colocalizes with a predefined *set* of reference maps
(e.g. the marker genes of a cell type) more than expected by chance. The
colocalization statistic of every X map is computed as usual and then aggregated
within each set; null distributions are aggregated the same way, so this module is
a single vectorised reduction used for observed and null values alike.

Aggregation names follow NiSpace's ``xsea_aggregation_method``: ``"mean"``,
``"median"``, ``"absmean"``, ``"absmedian"``, ``"weightedmean"`` and
``"weightedabsmean"``.

References
----------
Subramanian, A., et al. (2005). Gene set enrichment analysis: a knowledge-based
approach for interpreting genome-wide expression profiles. PNAS, 102(43),
15545-15550. https://doi.org/10.1073/pnas.0506580102

Lotter, L. D., et al. (2024). Regional patterns of human cortex development correlate
with underlying neurobiology. Nature Communications, 15, 7987.
https://doi.org/10.1038/s41467-024-52366-7
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence

import numpy as np

from .._errors import check_option
from ..errors import InputError

__all__ = ["AGGREGATIONS", "aggregate_sets"]

#: Aggregation methods (NiSpace names).
AGGREGATIONS = ("mean", "median", "absmean", "absmedian", "weightedmean", "weightedabsmean")


def aggregate_sets(values, sets: Sequence[Hashable], how: str = "mean", weights=None, *,
                   rho_scale: bool = False) -> tuple[np.ndarray, list]:
    """Aggregate per-X-map statistics within sets of X maps.

    Parameters
    ----------
    values : array_like, shape (n_y, n_x) or (n_x,)
        Statistic of every X map (columns) for every Y map or null (rows).
    sets : sequence, shape (n_x,)
        Set label of every X map (column); a set's members need not be adjacent.
    how : str, default "mean"
        ``"mean"``, ``"median"``, ``"absmean"``/``"absmedian"`` (of absolute values),
        ``"weightedmean"``/``"weightedabsmean"`` (weighted by ``weights``).
    weights : array_like, shape (n_x,), optional
        Non-negative weight of every X map; required by the weighted methods and
        ignored by the others.
    rho_scale : bool, default False
        ``values`` are raw correlation coefficients: ``"mean"`` and ``"weightedmean"``
        then average Fisher-z values (``arctanh``) and transform the result back
        (``tanh``), as NiSpace does, because raw correlations do not average. Medians
        need no such step (order statistics commute with the monotonic transform) and
        absolute means are left on the raw scale, as in NiSpace.

    Returns
    -------
    aggregated : numpy.ndarray, shape (n_y, n_sets) or (n_sets,)
        One value per row and set; the shape follows ``values``.
    set_names : list
        The set labels in order of first appearance in ``sets`` (the columns of
        ``aggregated``).

    Notes
    -----
    NaN values are ignored: a set's statistic uses its non-NaN members (for weighted
    methods, their weights); a set without any non-NaN member (or with zero total
    weight) gives NaN, without warnings.
    """
    check_option("how", how, AGGREGATIONS)
    arr = np.asarray(values, dtype=np.float64)
    one_row = arr.ndim == 1
    if one_row:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2:
        raise InputError(f"values: expected an array of shape (n_y, n_x) or (n_x,); got "
                         f"shape {np.shape(values)}.")
    n_x = arr.shape[1]
    labels = list(np.asarray(sets, dtype=object).ravel()) if not isinstance(sets, list) \
        else list(sets)
    if len(labels) != n_x:
        raise InputError(f"sets: expected one set label per X map (column of values), i.e. "
                         f"{n_x}; got {len(labels)}.")
    labels = [lab.item() if isinstance(lab, np.generic) else lab for lab in labels]
    names = list(dict.fromkeys(labels))
    code = {name: k for k, name in enumerate(names)}
    membership = np.zeros((n_x, len(names)))
    membership[np.arange(n_x), [code[lab] for lab in labels]] = 1.0

    weighted = how.startswith("weighted")
    if weighted:
        if weights is None:
            raise InputError(f"weights: how={how!r} needs one weight per X map ({n_x}); got "
                             "None. Use how='mean' or pass weights.")
        w = np.asarray(weights, dtype=np.float64).ravel()
        if w.shape != (n_x,) or not np.isfinite(w).all() or (w < 0).any():
            raise InputError(f"weights: expected {n_x} finite, non-negative weights; got "
                             f"shape {np.shape(weights)}"
                             + (" with negative or non-finite values" if w.size == n_x else "")
                             + ".")
        membership = membership * w[:, None]

    if "abs" in how:
        arr = np.abs(arr)
    fisher = rho_scale and how in ("mean", "weightedmean")
    if fisher:
        with np.errstate(divide="ignore"):
            arr = np.arctanh(np.clip(arr, -1.0, 1.0))

    out = np.full((arr.shape[0], len(names)), np.nan)
    for k in range(len(names)):
        members = np.flatnonzero(membership[:, k] > 0) if weighted else \
            np.flatnonzero(membership[:, k])
        block = arr[:, members]
        if how.endswith("median"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN sets -> NaN
                out[:, k] = np.nanmedian(block, axis=1)
            continue
        w_k = membership[members, k]
        valid = ~np.isnan(block)
        norm = valid @ w_k
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, k] = np.where(valid, block * w_k, 0.0).sum(axis=1) / norm
        out[~(norm > 0), k] = np.nan
    if fisher:
        out = np.tanh(out)
    return (out[0] if one_row else out), names
