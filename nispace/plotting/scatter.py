"""Y against X, parcel by parcel: the picture behind one colocalization value."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .style import NULL_COLOR, OBSERVED_COLOR, wrap_label

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_scatter"]


def plot_scatter(y, x, *, y_label: str = "Y", x_label: str = "X", coloc: float | None = None,
                 coloc_label: str = "r", p: float | None = None, p_label: str = "p (null)",
                 ranks: bool = False, ax=None, figsize=(4.4, 3.6)) -> tuple[Figure, Axes]:
    """Scatter one Y map against one X map (one point per parcel) with the fitted line.

    Parameters
    ----------
    y, x : array_like, shape (n_parcels,)
        Parcel values of the Y map and of the X map, aligned by parcel. Parcels
        where either is NaN are left out (their number is stated in the legend).
    y_label, x_label : str
        Axis labels (map names; long names are wrapped, never cut).
    coloc : float, optional
        The colocalization value to print (e.g. Spearman's rho from the results).
    coloc_label : str
        Its name, e.g. ``"Spearman's rho"``.
    p : float, optional
        The null-based p-value of ``coloc`` (from the permutation result).
    p_label : str
        Its name, e.g. ``"p (spin null, 10000 perm.)"``.
    ranks : bool
        Plot ranks instead of values (the view matching Spearman's rho).
    ax : matplotlib.axes.Axes, optional
        Draw into this axes (default: a new figure).
    figsize : (float, float)
        Size of a new figure.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
        Points (gid ``"parcels"``), the least-squares line (gid ``"fit"``) and the
        statistics as the title.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=100); y = 0.5 * x + rng.normal(size=100)
    >>> fig, ax = plot_scatter(y, x, coloc=0.45, coloc_label="Pearson's r", p=0.01)
    """
    import matplotlib.pyplot as plt

    from ..errors import InputError
    from ..stats.batch import rank_rows

    y = np.asarray(y, dtype=float).ravel()
    x = np.asarray(x, dtype=float).ravel()
    if y.shape != x.shape:
        raise InputError(f"y, x: expected one value per parcel for both; got {y.size} and "
                         f"{x.size} values.")
    ok = np.isfinite(y) & np.isfinite(x)
    if ok.sum() < 3:
        raise InputError(f"y, x: expected at least 3 parcels with values in both maps; got "
                         f"{int(ok.sum())}.")
    yv, xv = y[ok], x[ok]
    if ranks:
        yv, xv = rank_rows(yv), rank_rows(xv)  # average ranks, as scipy's rankdata
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    else:
        fig = ax.figure
    n_out = int((~ok).sum())
    label = f"{ok.sum()} parcels" + (f" ({n_out} without values left out)" if n_out else "")
    ax.scatter(xv, yv, s=12, color=NULL_COLOR, edgecolor="0.35", linewidth=0.4,
               label=label, gid="parcels")
    slope, intercept = np.polyfit(xv, yv, 1)
    line_x = np.array([xv.min(), xv.max()])
    ax.plot(line_x, intercept + slope * line_x, color=OBSERVED_COLOR, lw=1.6,
            label="least-squares fit", gid="fit")
    prefix = "rank of " if ranks else ""
    ax.set_xlabel(prefix + wrap_label(x_label, 40))
    ax.set_ylabel(prefix + wrap_label(y_label, 40))
    parts = []
    if coloc is not None:
        parts.append(f"{coloc_label} = {coloc:.3f}")
    if p is not None:
        parts.append(f"{p_label} = {_format_p(p)}")
    if parts:
        ax.set_title("\n".join(parts), fontsize="medium")  # one line ran off the page
    # inside the axes: above them it ran into the title
    ax.legend(loc="best", frameon=True, framealpha=0.85, edgecolor="none",
              fontsize="x-small")
    return fig, ax


def _format_p(p: float) -> str:
    if not np.isfinite(p):
        return "n/a"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"
