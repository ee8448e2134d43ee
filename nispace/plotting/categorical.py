"""Categorical plot of colocalizations: one row per X map, one dot per Y map.

Each X map (column of the colocalization table) gets a horizontal row; in it,
every Y map (row of the table) is a dot at its observed colocalization. With
null colocalizations, a thin line spans the chosen percentiles of the null
(default 2.5–97.5) and a thick one its 25–75th percentiles, so the observed
value can be read against its null. Significant colocalizations are marked
``*`` (p < alpha, uncorrected) or ``**`` (corrected p < alpha).
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._errors import check_option
from .labels import _column_labels
from .style import wrap_label

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_colocalizations"]

logger = logging.getLogger("nispace.plotting")

#: allowed values of ``sort_by``
SORT_OPTIONS = ["coloc", "abs_coloc", "z", "p", None]

#: gids of the significance marks (see :func:`plot_colocalizations`)
GID_UNCORRECTED = "sig-uncorrected"
GID_CORRECTED = "sig-corrected"


def _as_table(observed, name: str = "observed") -> pd.DataFrame:
    """``observed`` as a 2D DataFrame (a Series becomes one row)."""
    if isinstance(observed, dict):
        raise ValueError(f"{name}: expected one table (Y maps x X maps); got a dict with keys "
                         f"{list(observed)} - pick one statistic, e.g. "
                         f"get_colocalizations(stat=...).")
    if isinstance(observed, pd.Series):
        observed = observed.to_frame().T
    if not isinstance(observed, pd.DataFrame):
        arr = np.asarray(observed, dtype=float)
        if arr.ndim == 1:
            arr = arr[None]
        if arr.ndim != 2:
            raise ValueError(f"{name}: expected a 2D table (Y maps x X maps); got shape "
                             f"{arr.shape}.")
        observed = pd.DataFrame(arr)
    if observed.shape[0] == 0 or observed.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one Y row and one X column; got shape "
                         f"{observed.shape}.")
    return observed


def _check_nulls(nulls, shape: tuple[int, int]) -> np.ndarray | None:
    """Validate null colocalizations ``(n_perm, n_rows, n_cols)`` against ``shape``."""
    if nulls is None:
        return None
    if isinstance(nulls, dict):
        raise ValueError(f"nulls: expected one array (n_perm, {shape[0]}, {shape[1]}); got a "
                         f"dict with keys {list(nulls)} - pick one, e.g. get_nulls(stat=...).")
    arr = np.asarray(nulls, dtype=float)
    if arr.ndim != 3 or arr.shape[1:] != tuple(shape) or arr.shape[0] == 0:
        raise ValueError(f"nulls: expected shape (n_perm, {shape[0]}, {shape[1]}) aligned with "
                         f"observed; got {arr.shape}.")
    return arr


def _aligned(frame, observed: pd.DataFrame, name: str) -> np.ndarray | None:
    """p-values (or any table) as an array aligned with ``observed``.

    DataFrames are matched by labels (reordered if they hold the same rows and
    columns in another order); arrays by position.
    """
    if frame is None:
        return None
    if isinstance(frame, dict):
        raise ValueError(f"{name}: expected one table like observed; got a dict with keys "
                         f"{list(frame)}.")
    if isinstance(frame, pd.DataFrame):
        if frame.shape != observed.shape:
            raise ValueError(f"{name}: expected shape {observed.shape} like observed; got "
                             f"{frame.shape}.")
        same = frame.index.equals(observed.index) and frame.columns.equals(observed.columns)
        if not same:
            unique = all(ix.is_unique for ix in (frame.index, frame.columns, observed.index,
                                                 observed.columns))
            if not (unique and set(frame.index) == set(observed.index)
                    and set(frame.columns) == set(observed.columns)):
                raise ValueError(f"{name}: rows/columns do not match those of observed (rows "
                                 f"{list(frame.index[:2])} vs {list(observed.index[:2])}); pass "
                                 f"tables of the same result (for pooled p-values the pooled "
                                 f"observed values) or arrays.")
            frame = frame.loc[observed.index, observed.columns]
        return frame.to_numpy(dtype=float)
    arr = np.asarray(frame, dtype=float)
    if arr.shape != observed.shape:
        raise ValueError(f"{name}: expected shape {observed.shape} like observed; got "
                         f"{arr.shape}.")
    return arr


def _category_order(values: np.ndarray, nulls: np.ndarray | None, p: np.ndarray | None,
                    sort_by: str | None) -> np.ndarray:
    """Column order for ``sort_by`` (stable; NaN scores last)."""
    n_cols = values.shape[1]
    if sort_by is None:
        return np.arange(n_cols)
    if sort_by == "z" and nulls is None:
        raise ValueError("sort_by: 'z' needs null colocalizations; pass nulls= or choose "
                         "another of " f"{SORT_OPTIONS}.")
    if sort_by == "p" and p is None:
        raise ValueError(f"sort_by: 'p' needs p-values; pass p= or choose another of "
                         f"{SORT_OPTIONS}.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        if sort_by == "coloc":
            score = -np.nanmean(values, axis=0)
        elif sort_by == "abs_coloc":
            score = -np.abs(np.nanmean(values, axis=0))
        elif sort_by == "z":
            from ..stats.pvalues import null_zscore

            score = -np.nanmean(null_zscore(values, nulls), axis=0)
        else:
            score = np.nanmin(p, axis=0)
    return np.argsort(score, kind="stable")


def _y_colors(n: int) -> list:
    """One colour per Y map: tab10 up to 10 maps, else evenly spaced in a wide colormap."""
    import matplotlib as mpl

    if n == 1:
        return ["0.15"]
    if n <= 10:
        return [mpl.colormaps["tab10"](i) for i in range(n)]
    cmap = mpl.colormaps["turbo"]
    return [cmap(x) for x in np.linspace(0.05, 0.95, n)]


def _default_figsize(n_cat: int, n_y: int, cat_labels: list[str],
                     y_labels: list[str]) -> tuple[float, float]:
    """Width from the label lengths (about 0.07 inch a character), height from the rows."""
    longest = max(len(line) for lab in cat_labels for line in lab.split("\n"))
    lines = max(lab.count("\n") + 1 for lab in cat_labels)
    width = 4.0 + 0.07 * longest
    width += 0.6 + 0.065 * max(len(lab) for lab in y_labels)  # legend
    row = 0.3 + 0.06 * (n_y - 1) + 0.14 * (lines - 1)
    return min(width, 18.0), 1.9 + n_cat * row


def _check_percentiles(percentiles) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in percentiles)
    except (TypeError, ValueError):
        raise ValueError(f"percentiles: expected two values (low, high) in [0, 100]; got "
                         f"{percentiles!r}.") from None
    if not 0 <= lo < hi <= 100:
        raise ValueError(f"percentiles: expected 0 <= low < high <= 100; got {percentiles!r}.")
    return lo, hi


def plot_colocalizations(observed: pd.DataFrame, nulls: np.ndarray | None = None,
                         p: pd.DataFrame | None = None, q: pd.DataFrame | None = None, *,
                         sort_by: str | None = "coloc", n_categories: int | None = None,
                         alpha: float = 0.05, title: str | None = None,
                         xlabel: str | None = None, percentiles=(2.5, 97.5), ax=None,
                         figsize=None, names: dict | None = None) -> tuple[Figure, Axes]:
    """Plot colocalizations by X map, with null ranges and significance marks.

    Parameters
    ----------
    observed : pandas.DataFrame, shape (n_y, n_x)
        Colocalizations (``NiSpace.get_colocalizations()``): rows are Y maps (or
        one pooled row), columns X maps (a flat Index or a ``(set, map)``
        MultiIndex) or XSEA sets.
    nulls : numpy.ndarray, shape (n_perm, n_y, n_x), optional
        Null colocalizations aligned with ``observed`` (``NiSpace.get_nulls()``).
        Drawn as a thin line over the ``percentiles`` of each null and a thick
        line over its 25–75th percentiles.
    p, q : pandas.DataFrame or array, shape (n_y, n_x), optional
        Uncorrected (``p``) and corrected (``q``) p-values. Every point gets at
        most one mark: ``"**"`` when ``q < alpha``, else ``"*"`` when
        ``p < alpha``. Each mark is its own text artist with gid
        ``"sig-corrected"`` or ``"sig-uncorrected"``. DataFrames are aligned with
        ``observed`` by their labels, arrays by position.
    sort_by : {"coloc", "abs_coloc", "z", "p", None}
        Order of the X maps from top to bottom: mean colocalization over the Y
        rows (descending), its absolute value (descending), the mean z-score
        against the null (descending; needs ``nulls``), the smallest p-value
        (ascending; needs ``p``), or as given (None). Ties keep the given order;
        NaN scores go last.
    n_categories : int, optional
        Show only the first ``n_categories`` X maps after sorting.
    alpha : float
        Significance level of the marks.
    title : str, optional
        Figure title (``fig.suptitle``; the axes title when ``ax`` is given).
    xlabel : str, optional
        x label (default: ``"colocalization"``; see
        :func:`nispace.plotting.method_label`).
    percentiles : (float, float)
        Percentiles of the null spanned by the thin line.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; default: a new figure whose height grows with the
        number of X maps.
    figsize : (float, float), optional
        Size of the new figure.
    names : dict, optional
        Display names of the X maps by id (:func:`nispace.plotting.display_names`);
        labels are shown in full, wrapped.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
        The axes drawn into (``ax`` if given). Y tick labels are the X maps (the
        map name, prefixed with its set for a ``(set, map)`` MultiIndex, cut to 50
        characters), the legend has one entry per Y map (labelled the same way),
        observed values are scatter collections with gid ``"observed"`` and the
        explanation of lines and marks is a text with gid ``"note"`` below the
        axes.

    Raises
    ------
    ValueError
        If shapes do not match, ``sort_by`` is not one of the options or needs
        ``nulls`` / ``p`` that were not given.
    """
    import matplotlib.pyplot as plt
    from matplotlib.transforms import offset_copy

    observed = _as_table(observed)
    values = observed.to_numpy(dtype=float)
    n_y, n_x = values.shape
    null = _check_nulls(nulls, (n_y, n_x))
    p_arr = _aligned(p, observed, "p")
    q_arr = _aligned(q, observed, "q")
    check_option("sort_by", sort_by, SORT_OPTIONS)
    if not 0 < float(alpha) < 1:
        raise ValueError(f"alpha: expected a value in (0, 1); got {alpha!r}.")
    lo, hi = _check_percentiles(percentiles)
    order = _category_order(values, null, p_arr, sort_by)
    if n_categories is not None:
        if isinstance(n_categories, bool) or not isinstance(n_categories, (int, np.integer)) \
                or n_categories < 1:
            raise ValueError(f"n_categories: expected a positive integer or None; got "
                             f"{n_categories!r}.")
        if n_categories < n_x:
            logger.info("Showing the first %d of %d X maps (sorted by %s).", n_categories, n_x,
                        sort_by)
        order = order[:n_categories]
    n_cat = len(order)
    all_labels = [wrap_label(lab, 44) for lab in
                  _column_labels(observed.columns, max_len=10**6, names=names)]
    cat_labels = [all_labels[i] for i in order]
    y_labels = _column_labels(observed.index)

    own_figure = ax is None
    if own_figure:
        fig, ax = plt.subplots(
            figsize=figsize or _default_figsize(n_cat, n_y, cat_labels, y_labels),
            layout="constrained")
    else:
        fig = ax.figure
    colors = _y_colors(n_y)
    offsets = np.linspace(-0.3, 0.3, n_y) if n_y > 1 else np.zeros(1)
    rows = np.arange(n_cat, dtype=float)
    for i in range(0, n_cat, 2):  # alternate shading separates the categories
        ax.axhspan(i - 0.5, i + 0.5, color="0.95", zorder=0, lw=0)
    ax.axvline(0, color="0.35", lw=0.8, zorder=0.5, gid="zero-line")

    shown = values[:, order]
    upper = shown.copy()  # right end of each point's drawing, for the marks
    if null is not None:
        from ..stats.pvalues import null_summary

        pct = null_summary(null[:, :, order], percentiles=(lo, 25.0, 75.0, hi))["percentiles"]
        upper = np.fmax(upper, pct[3])
        lw_outer, lw_inner = (1.4, 5.0) if n_y == 1 else (1.0, max(2.0, 4.5 / np.sqrt(n_y)))
    mark_transform = offset_copy(ax.transData, fig=fig, x=4, y=-1.5, units="points")
    for j in range(n_y):
        y = rows + offsets[j]
        band = "0.55" if n_y == 1 else colors[j]
        if null is not None:
            ax.hlines(y, pct[0, j], pct[3, j], colors=band, lw=lw_outer, alpha=0.55, zorder=1,
                      gid="null-range")
            ax.hlines(y, pct[1, j], pct[2, j], colors=band, lw=lw_inner, alpha=0.55, zorder=1.5,
                      gid="null-iqr")
        ok = np.isfinite(shown[j])
        ax.scatter(shown[j, ok], y[ok], s=28 if n_y == 1 else 20, color=colors[j],
                   edgecolors="white", linewidths=0.5, zorder=3, label=y_labels[j],
                   gid="observed")
        for i in np.flatnonzero(ok):
            col = order[i]
            if q_arr is not None and q_arr[j, col] < alpha:
                text, gid = "**", GID_CORRECTED
            elif p_arr is not None and p_arr[j, col] < alpha:
                text, gid = "*", GID_UNCORRECTED
            else:
                continue
            ax.text(upper[j, i], y[i], text, transform=mark_transform, ha="left", va="center",
                    fontsize=10, fontweight="bold", color=colors[j], gid=gid, zorder=4)

    ax.set_yticks(rows, labels=cat_labels)
    ax.set_ylim(n_cat - 0.5, -0.5)  # first category on top
    ax.margins(x=0.08)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel(xlabel if xlabel is not None else "colocalization")
    if title is not None:
        if own_figure:  # centred on the figure: long titles do not run off the edge
            fig.suptitle(title)
        else:
            ax.set_title(title)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.legend(title="Y maps" if n_y > 1 else "Y map", loc="upper left",
              bbox_to_anchor=(1.01, 1), frameon=False, fontsize="small")
    note = _note(null is not None, lo, hi, p_arr is not None, q_arr is not None, alpha)
    if note:
        ax.annotate(note, xy=(0, 0), xycoords="axes fraction", xytext=(0, -36),
                    textcoords="offset points", ha="left", va="top", fontsize="x-small",
                    color="0.3", gid="note", annotation_clip=False)
    return fig, ax


def _note(nulls: bool, lo: float, hi: float, p: bool, q: bool, alpha: float) -> str:
    """Explanation of the null lines and the significance marks."""
    parts = []
    if nulls:
        parts.append(f"Lines: null {lo:g}–{hi:g}th percentiles (thick: 25–75th)")
    marks = []
    if p:
        marks.append(f"* p < {alpha:g} (uncorrected)")
    if q:
        marks.append(f"** p < {alpha:g} (corrected)")
    if marks:
        parts.append(",  ".join(marks))
    return "\n".join(parts)
