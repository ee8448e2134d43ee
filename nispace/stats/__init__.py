"""Statistics on parcellated maps: pure functions on arrays.

Modules
-------
effectsize
    Group comparisons per parcel (Cohen's d, Hedges' g, z-scores, centiles, ...).
transforms
    The ``transform_y`` formula grammar (``"hedges(a,b)"``, ``"zscore(a,b)"``, ...).
cleaning
    Covariate regression between subjects and within maps; ComBat harmonisation.
reduce
    Dimensionality reduction of reference maps (mean/median per set, PCA, ICA, FA).
coloc, dominance, xsea
    Colocalization methods, dominance analysis and set-level aggregation.
"""

from .coloc import COLOC_METHODS, colocalize
from .transforms import apply_transform, parse_transform

__all__ = ["COLOC_METHODS", "apply_transform", "colocalize", "parse_transform"]
