"""Reference datasets on any parcellation.

:func:`parcellate_reference` gives a reference dataset (``"pet"``, ``"tpm"``, ...) as
a maps x parcels table for any parcellation: the dataset's pre-parcellated table
when it has one for (every part of) a library parcellation, otherwise its images
parcellated on the fly with :func:`nispace.io.read_input` (the code that
parcellates your own images) and cached by content under
``<NISPACE_DATA_DIR>/cache/references``.

A cache entry is keyed by the dataset, the selected maps, each image's SHA-256 from
the data manifest, the image space, a SHA-256 of the parcellation's label image(s),
label values and parcel names, the parcellation options and
:data:`REFERENCE_CACHE_VERSION`; it is used only if its sidecar records that key
and its bytes hash to the recorded SHA-256 (:mod:`nispace._cache`), else it is
computed again with a WARNING. Datasets distributed only as tables (``mrna``,
``enigma*``) cannot be parcellated with another parcellation: that raises an
:class:`~nispace.errors.InputError` listing the parcellations with tables.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from typing import Any

import numpy as np
import pandas as pd

from .._cache import cache_folder, load_array, load_json, remove_stale_parts, save_array, \
    save_json
from .._errors import check_option
from .._logging import verbose_context
from ..datasets import fetch_file, fetch_manifest, fetch_parcellation, fetch_reference
from ..datasets.references import (SPACE_PREFERENCE, ReferenceSelection, arrange_rows,
                                   reference_map_files, select_reference_maps,
                                   table_parcellations)
from ..errors import InputError
from .inputs import read_input
from .spaces import is_surface_space

__all__ = ["REFERENCE_CACHE_VERSION", "SOURCE_IMAGES", "SOURCE_TABLE", "SOURCES",
           "parcellate_reference"]

logger = logging.getLogger("nispace.io")

#: where the maps come from: the dataset's table when there is one, else its images
SOURCES = ("auto", "table", "images")
#: values of ``record["source"]``
SOURCE_TABLE = "parcellated table"
SOURCE_IMAGES = "reference images parcellated on the fly"
#: bump when parcellating reference images gives other numbers (invalidates the cache)
REFERENCE_CACHE_VERSION = "1"
#: background of a dataset's images: "auto" (exact zeros and a constant border, as
#: the PET tables were made) except for tissue probabilities, whose zeros are values
_BACKGROUND = {"tpm": None}


def parcellate_reference(dataset: str, parcellation, maps=None,
                         collection: str | os.PathLike | None = None, *, source: str = "auto",
                         set_size_range: tuple[int | None, int | None] | None = None,
                         standardize_parcellated: bool = True,
                         resampling_target: str | None = "data", interpolation: str = "linear",
                         space: str | None = None, cache: bool = True, record: dict | None = None, name: str = "x",
                         verbose: bool | str | int | None = None,
                         data_dir: str | os.PathLike | None = None,
                         data_url: str | None = None) -> pd.DataFrame:
    """A reference dataset as a maps x parcels table for any parcellation.

    Parameters
    ----------
    dataset : str
        Reference dataset, e.g. ``"pet"`` or ``"tpm"``
        (:func:`nispace.datasets.available_datasets`).
    parcellation : str, tuple, Parcellation, image or (L, R) pair
        A library name, a :class:`~nispace.parcellation.Parcellation` or your own
        label image (see :func:`nispace.datasets.fetch_parcellation`).
    maps, collection, set_size_range
        Map selection, as in :func:`nispace.datasets.fetch_reference`.
    source : {"auto", "table", "images"}
        ``"auto"``: the dataset's table if it has one for the parcellation, else
        its images parcellated on the fly; ``"table"``: tables only (error
        without one); ``"images"``: always parcellate the images.
    standardize_parcellated : bool
        Z-score each map across parcels (NaN ignored), as
        :func:`~nispace.datasets.fetch_reference` does. Default True.
    resampling_target : {"data", "parcellation", None}
        How images and labels meet (see :func:`nispace.io.parcellate_images`).
    interpolation : {"linear", "continuous"}
        Interpolation of the images for ``resampling_target="parcellation"``.
        The mirror's PET tables were made with ``"parcellation"`` and
        ``"continuous"``; NiSpace's default is ``"data"`` (labels resampled to each
        image's grid with nearest neighbour), which gives somewhat different
        parcel means.
    space : str, optional
        Space of the parcellation to use for the images (default: the images'
        space if the parcellation has it, else its nearest volumetric space, with
        a WARNING).
    cache : bool
        Read and write the content cache (``<NISPACE_DATA_DIR>/cache/references``).
    record : dict, optional
        Filled with what was done: ``dataset``, ``source``, ``tables`` (table
        path) or ``data_space``, ``parcellation_space``, ``transforms``,
        ``background``, ``resampling_target`` and ``cache`` (``"hit"``,
        ``"written"``, ``"off"`` or ``"unavailable"``; images path).
    name : str
        Name of the input in messages (``"x"``, ``"z"``).
    verbose : bool, str, int or None
        Logging level for this call.

    Returns
    -------
    pandas.DataFrame, shape (n_maps, n_parcels)
        Index: map names (or the collection's ``["set", "map"(, "weight")]``
        levels); columns: parcel names.

    Raises
    ------
    InputError
        A dataset without images (``mrna``, ``enigma*``) and a parcellation it has
        no table for: the message lists the parcellations with tables.

    Examples
    --------
    >>> pet = parcellate_reference("pet", "my_atlas.nii.gz", maps="D23")  # doctest: +SKIP
    """
    with verbose_context(verbose):
        check_option("source", source, SOURCES)
        if _is_image_parcellation(parcellation):  # your own label image: no tables
            parcellation = fetch_parcellation(parcellation, data_dir=data_dir,
                                              data_url=data_url, verbose=verbose)
        tables = None
        if source != "images":
            tables = table_parcellations(dataset, parcellation, data_dir, data_url)
        if source == "table" or tables:
            frame = fetch_reference(dataset, maps=maps, collection=collection,
                                    parcellation=parcellation, set_size_range=set_size_range,
                                    standardize_parcellated=standardize_parcellated,
                                    print_references=False, data_dir=data_dir,
                                    data_url=data_url)
            done = {"dataset": dataset, "source": SOURCE_TABLE, "tables": tables}
        else:
            frame, done = _from_images(dataset, parcellation, maps, collection, set_size_range,
                                       standardize_parcellated,
                                       {"resampling_target": resampling_target,
                                        "interpolation": interpolation}, space,
                                       cache, name, verbose, data_dir, data_url)
        if record is not None:
            record.update(done)
        return frame


def _is_image_parcellation(parcellation) -> bool:
    """Own label images (paths, nibabel images, (L, R) pairs), not library names or
    Parcellation objects."""
    if hasattr(parcellation, "library_names"):
        return False
    if isinstance(parcellation, (list, tuple)):
        return not all(isinstance(p, str) and not os.path.exists(p) for p in parcellation)
    return not isinstance(parcellation, str) or os.path.exists(parcellation)


def _from_images(dataset, parcellation, maps, collection, set_size_range, standardize,
                 options, space, cache, name, verbose, data_dir, data_url
                 ) -> tuple[pd.DataFrame, dict[str, Any]]:
    selection = select_reference_maps(dataset, maps, collection, set_size_range, data_dir,
                                      data_url)
    parc = parcellation if hasattr(parcellation, "library_names") else fetch_parcellation(
        parcellation, data_dir=data_dir, data_url=data_url, verbose=verbose)
    image_space = _image_space(selection, parc, name)
    files = reference_map_files(selection.dataset, selection.names, image_space, data_dir,
                                data_url)
    manifest = fetch_manifest(data_dir, data_url)
    background = _BACKGROUND.get(selection.dataset, "auto")
    key = {"what": "parcellated reference maps", "version": REFERENCE_CACHE_VERSION,
           "dataset": selection.dataset, "maps": selection.names, "files": files,
           "files_sha256": [[manifest.get(f) for f in group] for group in files],
           "image_space": image_space, "space": space,
           "parcellation_sha256": _parcellation_digest(parc, image_space),
           "strategy": "mean", "background": background, **options}
    done = {"dataset": selection.dataset, "source": SOURCE_IMAGES, "n_maps":
            len(selection.names), "data_space": image_space, "background": background,
            **options}

    folder = cache_folder("references", data_dir, fallback=False)[0] if cache else None
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    frame = _read_cache(folder, digest, key, len(selection.names)) if folder else None
    if frame is not None:
        values, info = frame
        frame = pd.DataFrame(values, index=pd.Index(selection.names),
                             columns=pd.Index(info["columns"]))
        logger.info("'%s': %d %s map(s) for parcellation %r read from the cache (%s).", name,
                    len(selection.names), selection.dataset, parc.name, folder / digest)
        done["cache"] = "hit"
        n_nan = int(np.isnan(values).any(axis=0).sum())
        if n_nan:
            logger.warning("'%s': %d of %d parcels are NaN in at least one cached %s map "
                           "(parcellated with %r; see the WARNING of the run that wrote the "
                           "cache for why).", name, n_nan, values.shape[1],
                           selection.dataset, parc.name)
    else:
        logger.info("'%s': dataset %r has no table for parcellation %r; parcellating %d "
                    "image(s) in space '%s'.", name, selection.dataset, parc.name,
                    len(selection.names), image_space)
        images = [tuple(fetch_file(f, data_dir, data_url) for f in group) if len(group) == 2
                  else fetch_file(group[0], data_dir, data_url) for group in files]
        spaces: dict[str, Any] = {}
        kwargs = {} if space is None else {"space": space}
        frame = read_input(images, parc, labels=selection.names, name=name,
                           data_space=image_space, record=spaces, background=background,
                           verbose=verbose, **options, **kwargs)
        info = {"columns": [str(c) for c in frame.columns],
                "parcellation_space": spaces.get("parcellation_space"),
                "transforms": spaces.get("transforms")}
        done["cache"] = "off" if not cache else "unavailable" if folder is None else "written"
        if folder is not None:
            remove_stale_parts(folder)
            save_array(folder / f"{digest}.npy", frame.to_numpy(np.float64), key)
            save_json(folder / f"{digest}.record.json", info, key)
    done["parcellation_space"] = info["parcellation_space"]
    if info.get("transforms"):
        done["transforms"] = info["transforms"]
    return arrange_rows(frame, selection.names, selection.collection, standardize), done


def _read_cache(folder, digest: str, key: dict, n_maps: int):
    """(values, info) of a verified cache entry, or None."""
    info = load_json(folder / f"{digest}.record.json", key,
                     what="cached record of parcellated reference maps")
    if info is None:
        return None
    values = load_array(folder / f"{digest}.npy", key, dtype=np.float64,
                        shape=(n_maps, len(info.get("columns") or [])),
                        what="cached parcellated reference maps")
    return None if values is None else (np.array(values), info)


def _image_space(selection: ReferenceSelection, parc, name: str) -> str:
    """The space of the dataset's images to parcellate with ``parc``."""
    volumes = [s for s in parc.spaces if not parc.is_surface(s)]
    images_vol = [s for s in selection.spaces if not is_surface_space(s)]
    images_surf = [s for s in selection.spaces if is_surface_space(s)]
    if volumes:
        if not images_vol:
            raise InputError(f"parcellation: the maps of dataset {selection.dataset!r} exist "
                             f"only in surface spaces {selection.spaces} but parcellation "
                             f"{parc.name!r} is volumetric ({parc.spaces}); use a surface "
                             f"parcellation (e.g. 'Glasser').")
        return next((s for s in images_vol if s in volumes),
                    next((s for s in SPACE_PREFERENCE if s in images_vol), images_vol[0]))
    chosen = next((s for s in images_surf if s in parc.spaces),
                  images_surf[0] if images_surf else None)
    if chosen is None:
        chosen = next((s for s in SPACE_PREFERENCE if s in images_vol), images_vol[0])
        logger.info("'%s': the maps of dataset %r are volumes (%s) and parcellation %r has only "
                    "surface spaces %s: the volumes are projected to the surface.", name,
                    selection.dataset, chosen, parc.name, parc.spaces)
    return chosen


def _parcellation_digest(parc, image_space: str) -> str:
    """SHA-256 of the label data, grids, label values and names of the parcellation's
    spaces of the kind the images are parcellated in."""
    surface = is_surface_space(image_space) or all(parc.is_surface(s) for s in parc.spaces)
    digest = hashlib.sha256()
    for space in sorted(parc.spaces):
        if parc.is_surface(space) != surface:
            continue
        digest.update(f"|{space}|".encode())
        digest.update(np.ascontiguousarray(parc.get_data(space), dtype=np.int64).tobytes())
        if not surface:
            digest.update(np.asarray(parc.get_img(space).affine, dtype=np.float64).tobytes())
        digest.update(np.asarray(parc.get_label_values(space), dtype=np.int64).tobytes())
        digest.update("\n".join(parc.get_labels(space)).encode())
    return digest.hexdigest()
