"""Combining a cortical and a subcortical label volume into one parcellation."""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def merge_label_volumes(cortex: np.ndarray, subcortex: np.ndarray,
                        n_cortex: int) -> tuple[np.ndarray, int]:
    """Merge two label volumes on the same grid.

    Subcortical label ``k`` (k > 0) becomes ``n_cortex + k``; where both volumes
    are labelled, the cortical label is kept.

    Parameters
    ----------
    cortex, subcortex : numpy.ndarray
        Integer label volumes of identical shape (0 = background).
    n_cortex : int
        Largest cortical label value (offset for the subcortical labels).

    Returns
    -------
    merged : numpy.ndarray
        Combined label volume (int32).
    n_overlap : int
        Number of voxels labelled in both inputs (kept cortical).
    """
    if cortex.shape != subcortex.shape:
        raise InputError(f"subcortex: expected a volume of shape {cortex.shape} (the cortex "
                         f"grid); got {subcortex.shape}.")
    merged = np.asarray(cortex, dtype=np.int32).copy()
    sub = np.asarray(subcortex, dtype=np.int32)
    both = (merged > 0) & (sub > 0)
    fill = (merged == 0) & (sub > 0)
    merged[fill] = sub[fill] + n_cortex
    return merged, int(both.sum())
