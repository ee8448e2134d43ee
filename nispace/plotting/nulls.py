"""Histograms of null colocalizations with the observed value, one panel per X map."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .categorical import _aligned, _as_table, _check_nulls
from .labels import _column_labels
from .style import NULL_COLOR, OBSERVED_COLOR, mark_fixed_layout, wrap_label

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["plot_null_distributions"]


#: inches of one line of "small" text (7.5 pt at the 9 pt nispace font, 1.2 spacing)
_LINE = 0.125
#: inches below an axes for its tick labels and its x label
_XAXIS = 0.42


def _grid_layout(width: float, height: float, nrows: int, ncols: int, n_lines: int,
                 legend_rows: int) -> dict:
    """GridSpec margins and spacing (figure fractions) of the panel grid, from the
    sizes of its text: the suptitle and the panel titles (``n_lines`` lines) above
    each row, tick labels and x labels below, the y label and tick labels on the
    left, the legend (``legend_rows`` rows) at the bottom. A fixed layout: drawn
    once, without constrained layout's searches (several seconds on a large page)."""
    title = n_lines * _LINE + 0.1
    top = 0.06 + 0.2 + title
    bottom = 0.1 + legend_rows * 0.16 + _XAXIS
    left, right, col_gap = 0.55, 0.15, 0.45
    row_gap = title + _XAXIS
    panel_h = max((height - top - bottom - (nrows - 1) * row_gap) / nrows, 0.3)
    panel_w = max((width - left - right - (ncols - 1) * col_gap) / ncols, 0.3)
    return {"left": left / width, "right": 1 - right / width, "top": 1 - top / height,
            "bottom": bottom / height, "hspace": row_gap / panel_h,
            "wspace": col_gap / panel_w}


def _format_p(p: float) -> str:
    """``"p = 0.012"``; ``"p = 3.2e-04"`` below 0.001; ``"p = n/a"`` for NaN."""
    if not np.isfinite(p):
        return "p = n/a"
    return f"p = {p:.3f}" if p >= 0.001 else f"p = {p:.1e}"


def _select_columns(columns, observed: pd.DataFrame) -> np.ndarray:
    """Positions of the requested columns (labels of ``observed`` or integer positions)."""
    n = observed.shape[1]
    if columns is None:
        return np.arange(n)
    if isinstance(columns, (str, tuple)) or np.isscalar(columns):
        columns = [columns]
    columns = list(columns)
    if not columns:
        raise ValueError("columns: expected at least one column label or position; got an "
                         "empty selection.")
    labels = list(observed.columns)
    if all(c in labels for c in columns):
        if not observed.columns.is_unique:
            raise ValueError("columns: observed has duplicate column labels; select columns "
                             "by position.")
        return np.array([labels.index(c) for c in columns])
    if all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in columns):
        bad = [c for c in columns if not -n <= c < n]
        if bad:
            raise ValueError(f"columns: positions {bad} are out of range for {n} columns.")
        return np.array([c % n for c in columns])
    missing = [c for c in columns if c not in labels]
    raise ValueError(f"columns: expected column labels of observed or integer positions; "
                     f"{missing[:3]} are neither (columns are e.g. {labels[:3]}).")


def plot_null_distributions(observed: pd.DataFrame, nulls: np.ndarray,
                            p: pd.DataFrame | None = None, *, row: int = 0, columns=None,
                            bins: int = 50, ncols: int = 4, figsize=None,
                            xlabel: str = "colocalization",
                            names: dict | None = None) -> tuple[Figure, np.ndarray]:
    """Plot the null distribution of each X map's colocalization with one Y map.

    Parameters
    ----------
    observed : pandas.DataFrame, shape (n_y, n_x)
        Observed colocalizations (rows Y maps, columns X maps).
    nulls : numpy.ndarray, shape (n_perm, n_y, n_x)
        Null colocalizations aligned with ``observed``.
    p : pandas.DataFrame or array, shape (n_y, n_x), optional
        p-values, printed in each panel as ``"p = 0.012"``.
    row : int
        Position of the Y map (row of ``observed``) to show.
    columns : label, int or list of them, optional
        X maps to show, as column labels of ``observed`` or integer positions
        (default: all).
    bins : int
        Histogram bins.
    ncols : int
        Panels per figure row.
    figsize : (float, float), optional
        Figure size (default: 2.5 inches wide per panel, taller for long labels).
    xlabel : str
        Label of the x axes (the statistic, e.g. "Spearman's rho").
    names : dict, optional
        Display names of the X maps by id (e.g. from
        :func:`nispace.plotting.display_names`); default: the ids.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : numpy.ndarray of matplotlib.axes.Axes, shape (n_rows, ncols)
        One panel per selected X map in reading order (one shared x axis), each
        with a density histogram of the null, a vertical line at the observed
        value (gid ``"observed"``) and, with ``p``, the p-value text; the full X
        map label (wrapped) as title, labelled axes and one legend; unused panels are
        hidden.
    """
    import matplotlib.pyplot as plt

    observed = _as_table(observed)
    null = _check_nulls(nulls, observed.shape)
    if null is None:
        raise ValueError("nulls: expected null colocalizations (n_perm, n_y, n_x); got None.")
    p_arr = _aligned(p, observed, "p")
    n_y = observed.shape[0]
    if isinstance(row, bool) or not isinstance(row, (int, np.integer)) or not -n_y <= row < n_y:
        raise ValueError(f"row: expected an integer position in [0, {n_y}); got {row!r}.")
    row = int(row) % n_y
    for name, value in (("bins", bins), ("ncols", ncols)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}: expected a positive integer; got {value!r}.")
    cols = _select_columns(columns, observed)
    labels = [wrap_label(lab) for lab in _column_labels(observed.columns, max_len=10**6, names=names)]
    n_lines = max(lab.count("\n") + 1 for lab in labels)
    n_panels = len(cols)
    ncols = min(int(ncols), n_panels)
    nrows = int(np.ceil(n_panels / ncols))
    width, height = figsize or (2.5 * ncols, (2.0 + 0.15 * n_lines) * nrows + 0.6)
    fig = plt.figure(figsize=(width, height))
    legend_rows = 1 if ncols > 1 else 2
    # one x scale for all panels (null widths and observed values compare at a glance;
    # tick labels only under the bottom panel of each column)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, gridspec_kw=_grid_layout(
        width, height, nrows, ncols, n_lines, legend_rows))
    mark_fixed_layout(fig)
    values = observed.to_numpy(dtype=float)
    for k, ax in enumerate(axes.flat):
        if k >= n_panels:
            ax.set_visible(False)
            continue
        c = cols[k]
        sample = null[:, row, c]
        sample = sample[np.isfinite(sample)]
        if sample.size:  # one filled step patch per histogram, not one bar per bin
            density, edges = np.histogram(sample, bins=bins, density=True)
            ax.stairs(density, edges, fill=True, color=NULL_COLOR, linewidth=0,
                      label=f"null ({null.shape[0]} permutations)", gid="null")
        ax.axvline(values[row, c], color=OBSERVED_COLOR, lw=1.8, gid="observed",
                   label="observed")
        ax.margins(x=0.05)
        if p_arr is not None:  # on the side away from the observed value
            right = not (sample.size and values[row, c] > np.median(sample))
            ax.text(0.97 if right else 0.03, 0.95, _format_p(p_arr[row, c]),
                    transform=ax.transAxes, ha="right" if right else "left", va="top",
                    fontsize="small", gid="p-value")
        ax.set_title(labels[c], fontsize="small", y=1.0)  # fixed: no search for overlaps
        ax.tick_params(labelsize="x-small")
        ax.set_yticks([])  # a density's values say nothing here; its shape does
        if k % ncols == 0:
            ax.set_ylabel("density", fontsize="small")
        if k + ncols >= n_panels:  # bottom panel of its column
            ax.set_xlabel(xlabel, fontsize="small")
            ax.tick_params(labelbottom=True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    handles, names = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, names, loc="lower center", bbox_to_anchor=(0.5, 0.04 / height),
                   ncols=len(handles) if legend_rows == 1 else 1, frameon=False,
                   fontsize="small")
    fig.suptitle(f"Null distributions: {observed.index[row]}", fontsize="medium",
                 y=1 - 0.06 / height, va="top")
    return fig, axes
