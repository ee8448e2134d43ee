"""Example datasets for tutorials and tests."""

from __future__ import annotations

import logging
import os

import pandas as pd

from .._errors import check_option
from .._logging import verbose_context
from ..errors import InputError
from .download import fetch_file, fetch_library_file, fetch_manifest
from .registry import list_names, load_manifest, parse_parcellation_name
from .tables import merge_tables, read_table
from .._docs import fill_doc

logger = logging.getLogger("nispace.datasets")


@fill_doc
def available_examples(data_dir=None, data_url=None) -> list[str]:
    """Names of the example datasets in the data repository.

    Parameters
    ----------
    %(data_dir_url)s

    Returns
    -------
    list of str
        E.g. ``["painmeta", "anorexianervosa", ...]``.
    """
    return list_names("example", data_dir, data_url)


def fetch_example(example: str, parcellation=None, space: str | None = None,
                  return_info: bool = False, verbose: bool | str | int | None = None,
                  data_dir: str | os.PathLike | None = None, data_url: str | None = None):
    """Fetch an example dataset.

    Parameters
    ----------
    example : str
        ``"anorexianervosa"`` (SIMULATED subject data, group in the subject id),
        ``"enigma"``, ``"enigmaarea"`` (ENIGMA Toolbox subject data with covariates),
        ``"painmeta"`` (a pain meta-analysis map), ... (see :func:`available_examples`).
    parcellation : str or tuple, optional
        Return the table parcellated with this parcellation (subjects x parcels).
        Combined names join the two tables on the subject ids (inner).
    space : str, optional
        Without a parcellation: the space of the example image (examples with maps).
    return_info : bool
        Also return the subject information table (index = subject ids) or None
        when the example has none.

    Returns
    -------
    pandas.DataFrame or pathlib.Path (, pandas.DataFrame or None)
    """
    with verbose_context(verbose):
        example, meta = load_manifest("example", example, data_dir, data_url,
                                      argument="example")
        text = f"{meta.get('label', '')} {meta.get('description', '')}".lower()
        if "simulat" in text:
            logger.warning("Example dataset '%s' is SIMULATED and not intended for scientific "
                           "use: %s", example, meta.get("label", ""))
        if parcellation is not None:
            names = (list(parcellation.library_names) if hasattr(parcellation, "library_names")
                     else parse_parcellation_name(parcellation, data_dir, data_url,
                                                  extra_names=meta.get("tabs") or []))
            tabs = meta.get("tabs") or []
            for p in names:
                check_option("parcellation", p, tabs)
            logger.info("Loading example dataset: '%s', parcellated with: %s.", example,
                        "+".join(names))
            data = merge_tables([read_table(f"example/{example}/example-{example}_parc-{p}.csv.gz",
                                            data_dir, data_url) for p in names])
            data.columns.name = "parcel"
        else:
            spaces = list(meta.get("spaces") or {})
            if not spaces:
                raise InputError(f"parcellation: example {example!r} is distributed as "
                                 f"parcellated tables; pass parcellation= one of "
                                 f"{meta.get('tabs')}.")
            space = space or spaces[0]
            check_option("space", space, spaces)
            data = fetch_library_file(f"example/{example}/example-{example}_space-{space}.nii.gz",
                              data_dir, data_url)
        if not return_info:
            return data
        rel = f"example/{example}/example-{example}_info.csv"
        info = None
        if rel in fetch_manifest(data_dir, data_url):
            info = pd.read_csv(fetch_file(rel, data_dir, data_url), index_col=0)
            if isinstance(data, pd.DataFrame):
                info = info.reindex(data.index)
        else:
            logger.info("Example '%s' has no subject information table.", example)
        return data, info
