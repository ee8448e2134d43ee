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
factor
    Exploratory factor analysis (minres/principal extraction, orthogonal and
    oblique rotations, regression scores) used by ``reduce``'s ``"fa"``.
within
    Correlations between maps within each region across subjects
    (``correlate_within_region``).
coloc, dominance, xsea
    Colocalization methods, dominance analysis and set-level aggregation.
crossval
    Distance-dependent cross-validation of regression models (Hansen et al., 2022).
batch
    The colocalization methods vectorised across permutations (null maps).
ranks
    Average ranks with NumPy (``scipy.stats.rankdata``'s, without importing it).
pvalues, correction
    Exact permutation p-values, z-scores against nulls, pooling over Y maps;
    multiple-comparison corrections (Meff, max-T, statsmodels' methods).
"""

from .batch import colocalize_batch
from .coloc import COLOC_METHODS, colocalize
from .correction import MC_METHODS, correct_p
from .crossval import DISTANCE_CV_METHODS, distance_cv, distance_cv_splits
from .dominance import MAX_PREDICTORS, dominance_analysis, dominance_analysis_batch
from .pvalues import null_to_p, null_zscore
from .transforms import apply_transform, parse_transform

__all__ = ["COLOC_METHODS", "DISTANCE_CV_METHODS", "MAX_PREDICTORS", "MC_METHODS",
           "apply_transform", "colocalize", "colocalize_batch", "correct_p", "distance_cv",
           "distance_cv_splits", "dominance_analysis", "dominance_analysis_batch",
           "null_to_p", "null_zscore", "parse_transform"]
