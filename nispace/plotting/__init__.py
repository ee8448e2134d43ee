"""Figures of colocalization results and brain maps.

Pure functions that take tables, arrays or a
:class:`~nispace.parcellation.Parcellation` and return matplotlib objects.
matplotlib and nilearn's plotting module are imported only when a figure is
drawn. Nothing in the compute layers imports this package.

Functions
---------
plot_colocalizations
    Colocalizations by X map with null ranges and significance marks.
plot_colocalization_heatmap
    Colocalizations as a Y maps x X maps heatmap (the overview for many Y maps).
plot_null_distributions
    Histograms of the null colocalizations with the observed values.
plot_brain, plot_parcellation
    Parcel values (or the parcels themselves) on surfaces and slices.
plot_scatter
    One Y map against one X map, parcel by parcel, with the fitted line and p.
figure_style, save_figure, wrap_label
    The shared look: 300 dpi PNGs, rasterized surfaces in SVG/PDF, wrapped labels.
method_label, transform_label, permutation_label, coloc_title, display_names
    Readable axis labels, titles and map names.
"""

from .brain import plot_brain, plot_parcellation
from .categorical import plot_colocalizations
from .heatmap import plot_colocalization_heatmap
from .labels import (coloc_title, display_names, method_label, permutation_label,
                     transform_label)
from .nulls import plot_null_distributions
from .scatter import plot_scatter
from .style import figure_style, save_figure, wrap_label

__all__ = [
    "coloc_title",
    "display_names",
    "figure_style",
    "method_label",
    "permutation_label",
    "plot_brain",
    "plot_colocalization_heatmap",
    "plot_colocalizations",
    "plot_null_distributions",
    "plot_parcellation",
    "plot_scatter",
    "save_figure",
    "transform_label",
    "wrap_label",
]
