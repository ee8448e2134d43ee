"""Verified access to the nispace data repository.

Reference datasets (:func:`fetch_reference`), parcellations
(:func:`fetch_parcellation`), templates (:func:`fetch_template`) and examples
(:func:`fetch_example`) are downloaded on first use from ``NISPACE_DATA_URL``,
verified against the repository's SHA-256 manifest and cached in
``NISPACE_DATA_DIR`` (see :mod:`nispace.datasets.config`).
"""

from .collections import list_collections, load_collection
from .config import DEFAULT_DATA_URL, get_data_dir, get_data_url
from .download import DataFetchError, fetch_file, fetch_manifest, files_used, reset_files_used
from .examples import available_examples, fetch_example
from .parcellations import available_parcellations, fetch_parcellation
from .references import available_datasets, fetch_metadata, fetch_reference
from .templates import fetch_template, template_source
from .neurovault import fetch_neurovault, fetch_neurovault_ids, neurovault_maps
from .annotations import (available_annotations, available_tags, describe_annotations,
                          fetch_annotation)

__all__ = [
    "DEFAULT_DATA_URL",
    "available_annotations",
    "available_tags",
    "describe_annotations",
    "fetch_annotation",
    "DataFetchError",
    "available_datasets",
    "available_examples",
    "available_parcellations",
    "fetch_example",
    "fetch_file",
    "fetch_manifest",
    "fetch_neurovault",
    "fetch_neurovault_ids",
    "fetch_metadata",
    "fetch_parcellation",
    "fetch_reference",
    "fetch_template",
    "template_source",
    "files_used",
    "get_data_dir",
    "get_data_url",
    "list_collections",
    "load_collection",
    "neurovault_maps",
    "reset_files_used",
]
