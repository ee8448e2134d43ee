"""Region extraction in one call: images in, a labelled maps x parcels table out."""

from __future__ import annotations

import os

import pandas as pd

__all__ = ["parcellate"]


def parcellate(images, parcellation, strategy: str = "mean", *, labels=None,
               space: str | None = None, parcellation_labels=None,
               background="auto", min_valid: int | float = 1,
               resampling_target: str | None = "data",
               verbose: bool | str | int | None = None) -> pd.DataFrame:
    """Extract parcel values from volumes or surface maps.

    Parameters
    ----------
    images : image(s), path(s), (L, R) GIfTI pair(s), or a dict {label: image}
        The maps to extract from (see :func:`nispace.io.read_input`).
    parcellation : str, Parcellation, image or (L, R) pair
        A library name (``"Schaefer200"``), a
        :class:`~nispace.parcellation.Parcellation`, or your own label image.
    strategy : {"mean", "median", "sum", "min", "max", "std"}
        Reduction over each parcel's voxels or vertices.
    labels : list of str, optional
        Row labels (default: dict keys or file names).
    space : str, optional
        Space of the parcellation to use (default: matched to the images).
    parcellation_labels : list or path, optional
        Parcel names of a custom label image.
    background, min_valid, resampling_target
        See :func:`nispace.io.parcellate_images`.

    Returns
    -------
    DataFrame
        One row per map, one column per parcel (parcel names).
    """
    from ..datasets import fetch_parcellation
    from ..parcellation import Parcellation
    from .inputs import read_input

    parc = parcellation
    if not isinstance(parc, Parcellation):
        # a library name or your own image (fetch_parcellation tells them apart)
        own = not isinstance(parc, str) or os.path.exists(parc)
        parc = fetch_parcellation(parc, space=None if own else space,
                                  labels=parcellation_labels, verbose=verbose)
    return read_input(images, parc, labels=labels, name="images", space=space,
                      strategy=strategy, background=background, min_valid=min_valid,
                      resampling_target=resampling_target, verbose=verbose)
