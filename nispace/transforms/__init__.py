"""Space transforms between MNI152 volumes, fsaverage and fsLR surfaces.

* :func:`mni152_to_fsaverage`, :func:`mni152_to_fslr`: registration fusion
  (Wu et al. 2018; mappings from the optional ``regfusion`` package, extra
  ``nispace[transforms]``).
* :func:`fsaverage_to_fslr`, :func:`fslr_to_fsaverage`,
  :func:`fsaverage_to_fsaverage`, :func:`resample_surface`: area-weighted adaptive
  barycentric resampling (continuous maps) or weighted mode (labels) through the HCP
  spheres of the data repository.

All functions take and return ``(L, R)`` pairs (GIfTI images, or arrays with
``as_arrays=True``); the user's images are never modified.
"""

from .surface import (SURFACE_DENSITIES, fsaverage_to_fsaverage, fsaverage_to_fslr,
                      fslr_to_fsaverage, resample_surface)
from .volume import MAPPING_SPACE, mni152_to_fsaverage, mni152_to_fslr, regfusion_version

__all__ = ["MAPPING_SPACE", "SURFACE_DENSITIES", "fsaverage_to_fsaverage", "fsaverage_to_fslr",
           "fslr_to_fsaverage", "mni152_to_fsaverage", "mni152_to_fslr", "regfusion_version",
           "resample_surface"]
