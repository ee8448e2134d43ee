"""Spatial null models: one module per family, one registry.

=====================  =================================================  ==============
method                 what it does                                       geometry
=====================  =================================================  ==============
``alexander_bloch``    rotate parcel centroids on the sphere, nearest      sphere
                       rotated parcel (Alexander-Bloch et al., 2018)
``vasa``               rotations with a greedy one-to-one assignment       sphere
                       (Vasa et al., 2018)
``hungarian``          rotations with an optimal one-to-one assignment     sphere
                       (Markello & Misic, 2021)
``baum``               rotate vertices, parcel takes the most frequent     sphere mesh
                       rotated parcel (Baum et al., 2020)
``cornblath``          rotate vertices, re-parcellate (Cornblath et        sphere mesh
                       al., 2020)
``moran``              Moran spectral randomisation (Wagner & Dray,        distances
                       2015)
``variomoran``         Moran surrogates selected by variogram fit          distances
``burt2020``           variogram-matched surrogates (Burt et al., 2020)    distances
``burt2018``           spatial autoregressive surrogates (Burt et al.,     distances
                       2018)
``random``             plain random permutation (no spatial structure)     none
=====================  =================================================  ==============

Every family returns null maps ``(n_perm, n_parcels)``; NaN parcels of the input stay
NaN. :func:`make_null_model` prepares a model for the permutation engine;
:func:`parse_null_method` reads split methods (``"spin+moran"``) for combined cortex +
subcortex parcellations.
"""

from .burt import burt2018, burt2020, variogram
from .moran import moran, morans_i, variomoran
from .registry import (DIST_METHODS, NULL_METHODS, SPIN_METHODS, NullModel, SplitNullModel,
                       SubsetNullModel, gather, make_null_model, parse_null_method)
from .shuffle import random
from .spins import (alexander_bloch, baum, cornblath, hungarian, rotation_matrices,
                    spin_permutations, vasa, vertex_spin_indices)

__all__ = ["NULL_METHODS", "SPIN_METHODS", "DIST_METHODS", "NullModel", "SplitNullModel",
           "SubsetNullModel", "make_null_model", "parse_null_method", "gather",
           "alexander_bloch", "vasa", "hungarian", "baum", "cornblath", "spin_permutations",
           "vertex_spin_indices", "rotation_matrices",
           "moran", "variomoran", "morans_i", "burt2018", "burt2020", "variogram", "random"]
