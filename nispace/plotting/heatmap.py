"""Heatmap of colocalizations, Y maps x X maps: the overview for many Y maps.

A categorical plot (:func:`nispace.plotting.plot_colocalizations`) gives every Y
map a dot in every X row; with tens or hundreds of Y maps (subjects) it becomes
unreadably tall. The heatmap shows one cell per (Y map, X map): the colour is the
colocalization, ``*`` marks p < alpha and ``**`` corrected p < alpha, as in the
categorical plot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .categorical import GID_CORRECTED, GID_UNCORRECTED, _aligned, _as_table
from .labels import _column_labels
from .style import wrap_label

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_colocalization_heatmap"]

#: inches per character of a tick label (8 pt text) and per line of text
_CHAR, _LINE = 0.06, 0.14


def plot_colocalization_heatmap(observed: pd.DataFrame, p: pd.DataFrame | None = None,
                                q: pd.DataFrame | None = None, *, alpha: float = 0.05,
                                title: str | None = None,
                                label: str = "colocalization", names: dict | None = None,
                                cmap: str = "RdBu_r", figsize=None) -> tuple[Figure, Axes]:
    """Plot colocalizations as a heatmap: one row per Y map, one column per X map.

    Parameters
    ----------
    observed : pandas.DataFrame, shape (n_y, n_x)
        Colocalizations (rows Y maps, columns X maps), e.g.
        ``NiSpace.get_colocalizations()``.
    p, q : pandas.DataFrame or array, shape (n_y, n_x), optional
        Uncorrected and corrected p-values, aligned with ``observed`` by labels
        (DataFrames) or position (arrays). A cell gets ``"**"`` when ``q < alpha``,
        else ``"*"`` when ``p < alpha``.
    alpha : float
        Significance level of the marks.
    title : str, optional
        Figure title.
    label : str
        Colorbar label (the statistic, e.g. ``"Spearman's rho"``).
    names : dict, optional
        Display names of the X maps by id (:func:`nispace.plotting.display_names`),
        shown in full, wrapped.
    cmap : str
        Colormap; the scale is symmetric around 0 (``-max|value|`` to
        ``+max|value|``).
    figsize : (float, float), optional
        Figure size (default: from the number of maps and the label lengths).

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
        The heatmap is one image (gid ``"coloc-heatmap"``) whose array is
        ``observed`` (rows and columns in the given order); significance marks are
        one marker collection per kind (gids ``"sig-corrected"`` and
        ``"sig-uncorrected"``), the colorbar is labelled ``label``.

    Raises
    ------
    ValueError
        If ``p`` or ``q`` do not match ``observed`` or ``alpha`` is not in (0, 1).

    Examples
    --------
    >>> import pandas as pd
    >>> obs = pd.DataFrame([[0.2, -0.4], [0.1, 0.3]], index=["sub-1", "sub-2"],
    ...                    columns=["5HT1a", "D1"])
    >>> fig, ax = plot_colocalization_heatmap(obs, label="Spearman's rho")
    >>> ax.images[0].get_array().shape
    (2, 2)
    """
    import matplotlib.pyplot as plt

    observed = _as_table(observed)
    values = observed.to_numpy(dtype=float)
    p_arr = _aligned(p, observed, "p")
    q_arr = _aligned(q, observed, "q")
    if not 0 < float(alpha) < 1:
        raise ValueError(f"alpha: expected a value in (0, 1); got {alpha!r}.")
    n_y, n_x = values.shape
    x_labels = [wrap_label(lab) for lab in
                _column_labels(observed.columns, max_len=10**6, names=names)]
    y_labels = [str(lab) for lab in _column_labels(observed.index, max_len=10**6)]
    y_font = 8.0 if n_y <= 40 else 6.0 if n_y <= 100 else 4.5
    cell_h = max(0.16, y_font / 72 * 1.35)
    x_lines = max(lab.count("\n") + 1 for lab in x_labels)
    x_chars = max(len(line) for lab in x_labels for line in lab.split("\n"))
    cell_w = max(0.32, x_lines * _LINE + 0.04)
    left = 0.3 + _CHAR * y_font / 8 * max(len(lab) for lab in y_labels)
    bottom = 0.3 + 0.05 * x_chars  # labels (7 pt) turned 90 degrees
    top = 0.55 if title else 0.2
    right = 1.25  # colorbar and its label
    width, height = figsize or (left + n_x * cell_w + right, top + n_y * cell_h + bottom)
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((left / width, bottom / height,
                       max(width - left - right, 0.5) / width,
                       max(height - top - bottom, 0.5) / height))
    finite = values[np.isfinite(values)]
    lim = float(np.abs(finite).max()) if finite.size else 1.0
    lim = lim or 1.0
    image = ax.imshow(values, cmap=cmap, vmin=-lim, vmax=lim, aspect="auto",
                      interpolation="nearest")
    image.set_gid("coloc-heatmap")
    ax.set_xticks(np.arange(n_x), labels=x_labels, rotation=90, fontsize=7)
    ax.set_yticks(np.arange(n_y), labels=y_labels, fontsize=y_font)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_ylabel("Y maps" if n_y > 1 else "Y map")
    marks = np.zeros(values.shape, dtype=int)  # 1: p < alpha, 2: corrected p < alpha
    with np.errstate(invalid="ignore"):
        if p_arr is not None:
            marks[p_arr < alpha] = 1
        if q_arr is not None:
            marks[q_arr < alpha] = 2
    for level, marker, gid in ((1, "$*$", GID_UNCORRECTED), (2, "$**$", GID_CORRECTED)):
        rows, cols = np.nonzero(marks == level)
        if rows.size:  # white on the dark ends of the colour scale, black elsewhere
            dark = np.abs(values[rows, cols]) > 0.6 * lim
            ax.scatter(cols, rows, marker=marker, s=(16 if level == 1 else 30) * cell_h / 0.16,
                       c=np.where(dark, "white", "black"), linewidths=0, gid=gid)
    cax = fig.add_axes(((width - right + 0.25) / width, bottom / height,
                        0.15 / width, max(height - top - bottom, 0.5) / height))
    bar = fig.colorbar(image, cax=cax)
    bar.set_label(label)
    note = []
    if p_arr is not None:
        note.append(f"* p < {alpha:g} (uncorrected)")
    if q_arr is not None:
        note.append(f"** p < {alpha:g} (corrected)")
    if note:
        fig.text(0.02 / width, 0.05 / height, ",  ".join(note), fontsize="x-small",
                 color="0.3", gid="note")
    if title:
        fig.suptitle(title, y=1 - 0.1 / height, va="top")
    return fig, ax
