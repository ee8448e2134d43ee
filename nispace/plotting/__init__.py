"""Figures of colocalization results and brain maps.

Pure functions that take tables, arrays or a
:class:`~nispace.parcellation.Parcellation` and return matplotlib objects.
matplotlib and nilearn's plotting module are imported only when a figure is
drawn. Nothing in the compute layers imports this package.

Functions
---------
plot_colocalizations
    Colocalizations by X map with null ranges and significance marks.
plot_null_distributions
    Histograms of the null colocalizations with the observed values.
plot_brain, plot_parcellation
    Parcel values (or the parcels themselves) on surfaces and slices.
method_label, transform_label, permutation_label, coloc_title
    Readable axis labels and titles.
"""

from .brain import plot_brain, plot_parcellation
from .categorical import plot_colocalizations
from .labels import coloc_title, method_label, permutation_label, transform_label
from .nulls import plot_null_distributions

__all__ = [
    "coloc_title",
    "method_label",
    "permutation_label",
    "plot_brain",
    "plot_colocalizations",
    "plot_null_distributions",
    "plot_parcellation",
    "transform_label",
]
