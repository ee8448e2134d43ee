"""Reference datasets: PET receptor maps, gene expression, ENIGMA effect maps, ..."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass

import pandas as pd

from .._version import __version__
from .._errors import check_option, suggest
from .._logging import verbose_context
from ..errors import DataError, InputError, InputTypeError
from .collections import load_collection
from .download import fetch_file, fetch_manifest
from .registry import list_names, load_manifest, parse_parcellation_name
from .tables import merge_tables, read_table, zscore_rows
from .._docs import fill_doc

logger = logging.getLogger("nispace.datasets")

#: default order in which spaces are chosen when ``space=None``
SPACE_PREFERENCE = ["MNI152NLin2009cAsym", "MNI152NLin6Asym", "fsLR", "fsaverage"]
_COMPARISON = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d*)?)\s*$")


@fill_doc
def available_datasets(data_dir=None, data_url=None) -> list[str]:
    """Names of the reference datasets in the data repository.

    Parameters
    ----------
    %(data_dir_url)s

    Returns
    -------
    list of str
        E.g. ``["pet", "mrna", ...]``.
    """
    return list_names("reference", data_dir, data_url)


# --------------------------------------------------------------------------------------
# map filters

def parse_map_name(name: str) -> dict[str, str]:
    """Split a BIDS-like map name ``key-value_key-value`` into a dict."""
    out = {}
    for part in str(name).split("_"):
        key, sep, value = part.partition("-")
        if sep:
            out[key.lower()] = value
    return out


def _value_matches(value: str | None, wanted) -> bool:
    if value is None:
        return False
    for w in wanted if isinstance(wanted, (list, tuple, set)) else [wanted]:
        m = _COMPARISON.match(str(w))
        if m:
            try:
                v = float(value)
            except ValueError:
                continue
            op, ref = m.group(1), float(m.group(2))
            if {">": v > ref, "<": v < ref, ">=": v >= ref, "<=": v <= ref,
                    "==": v == ref, "!=": v != ref}[op]:
                return True
        elif str(value).lower() == str(w).lower():
            return True
    return False


def filter_maps(names: list[str], maps) -> list[str]:
    """Select map names by substring(s) or by BIDS-like key filters.

    Parameters
    ----------
    names : list of str
        Candidate map names.
    maps : str, list of str or dict
        A substring or list of substrings (case-insensitive, any must match), or a
        dict ``{key: value(s)}`` whose keys must all match: values are compared
        exactly (case-insensitive) or numerically with ``">20"``, ``"<=10"``, ...;
        e.g. ``{"target": ["D1", "D23"], "n": ">20"}``.
    """
    if maps is None:
        return list(names)
    if isinstance(maps, str):
        maps = [maps]
    if isinstance(maps, dict):
        parsed = {n: parse_map_name(n) for n in names}
        keys = sorted({k for p in parsed.values() for k in p})
        unknown = [k for k in maps if k.lower() not in keys]
        if unknown:
            raise InputError(f"maps: unknown key(s) {unknown}; the map names of this dataset "
                             f"carry the keys {keys}.")
        out = [n for n in names
               if all(_value_matches(parsed[n].get(k.lower()), v) for k, v in maps.items())]
    elif isinstance(maps, (list, tuple, set, pd.Index, pd.Series)):
        wanted = [str(m).lower() for m in maps]
        out = [n for n in names if any(w in n.lower() for w in wanted)]
    else:
        raise InputTypeError(f"maps: expected a str, a list of str or a dict of key filters; got "
                             f"{type(maps).__name__}.")
    if not out:
        hint = suggest(maps[0], names) if isinstance(maps, list) and len(maps) == 1 else ""
        raise InputError(f"maps: the filter {maps!r} matched none of the {len(names)} maps "
                         f"(e.g. {names[:3]}).{hint}")
    return out


# --------------------------------------------------------------------------------------
# metadata and references

@fill_doc
def fetch_metadata(dataset: str, data_dir=None, data_url=None) -> pd.DataFrame | None:
    """The ``map_info.csv`` table of a dataset (index = map name).

    Parameters
    ----------
    dataset : str
        Reference dataset name (see :func:`available_datasets`).
    %(data_dir_url)s

    Returns
    -------
    pandas.DataFrame or None
        One row per map; None if the dataset has no such table.
    """
    dataset, _ = load_manifest("reference", dataset, data_dir, data_url, argument="dataset")
    rel = f"reference/{dataset}/map_info.csv"
    if rel not in fetch_manifest(data_dir, data_url):
        return None
    info = pd.read_csv(fetch_file(rel, data_dir, data_url), index_col=0)
    info.index.name = "map"
    return info


def format_references(meta: dict, info: pd.DataFrame | None, map_names: list[str]) -> str:
    """The text printed by ``print_references=True``.

    Dataset description, the list of papers to cite, the nispace version, and one
    line per map with source, licence and DOIs, followed by its "CAVE" note.
    """
    lines = [" ".join(str(meta.get("description", "")).split())]
    citations = meta.get("citations") or []
    if citations:
        lines.append("We additionally ask to cite:")
        lines += [f"- {c.get('ref')} (https://doi.org/{c.get('doi')})" for c in citations]
    for name, col in (meta.get("collections") or {}).items():
        for c in (col or {}).get("citations", []) or []:
            lines.append(f"- {c.get('ref')} (https://doi.org/{c.get('doi')}; collection {name})")
    lines.append(f"To ensure reproducibility, note the nispace version: {__version__}")
    if info is not None:
        cfg = meta.get("map_info") or {}
        cite_col = cfg.get("cite_column", "doi")
        note_col = cfg.get("note_column", "note")
        for name in map_names:
            if name not in info.index:
                continue
            row = info.loc[name]
            parts = [f"- {name}"]
            pub = row.get("publication")
            if isinstance(pub, str) and pub:
                parts.append(f"Source: {pub[0].upper() + pub[1:]}")
            lic = row.get("license")
            if isinstance(lic, str) and lic:
                parts.append(lic)
            dois = row.get(cite_col)
            if isinstance(dois, str) and dois:
                parts.append(", ".join(f"https://doi.org/{d}" for d in re.split(r"[,;\s]+", dois)
                                       if d))
            lines.append(" ".join(parts))
            note = row.get(note_col)
            if isinstance(note, str) and note.strip():
                lines.append(f"CAVE: {note.strip()}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# public fetcher

def fetch_reference(dataset: str, maps=None, collection: str | os.PathLike | None = None,
                    parcellation=None, space: str | None = None, hemi: str | None = None,
                    standardize_parcellated: bool = True, cortex_only: bool = False,
                    set_size_range: tuple[int | None, int | None] | None = None,
                    print_references: bool = True, return_metadata: bool = False,
                    verbose: bool | str | int | None = None,
                    data_dir: str | os.PathLike | None = None, data_url: str | None = None):
    """Fetch reference maps as images or as a parcellated table.

    Parameters
    ----------
    dataset : str
        Reference dataset, e.g. ``"pet"``, ``"mrna"``, ``"enigmathick"``,
        ``"enigmaarea"`` (see :func:`available_datasets`).
    maps : str, list of str or dict, optional
        Map filter: substring(s) or BIDS-like key filters (see :func:`filter_maps`).
    collection : str or path, optional
        An integrated collection name (e.g. ``"UniqueTracers"``) or the path of
        a collection file. Set-structured collections give a ``["set", "map"]``
        (or ``["set", "map", "weight"]``) index; maps keep the collection's order.
    parcellation : str, tuple or Parcellation, optional
        If given, return a DataFrame (maps x parcels) read from the dataset's
        parcellated tables. Combined cortex + subcortex parcellations
        (``"Schaefer200TianS1"``) inner-merge the two tables. A parcellation
        without a table (e.g. your own) raises an error listing the tables; use
        :func:`nispace.io.parcellate_reference` to parcellate the images instead.
    space : str, optional
        Without a parcellation: the space of the images (default: the first of
        MNI152NLin2009cAsym, MNI152NLin6Asym, fsLR, fsaverage that all maps have).
    hemi : {"L", "R"}, optional
        Surface spaces: return only one hemisphere instead of (L, R) pairs.
    standardize_parcellated : bool
        Z-score each parcellated map across parcels (NaN ignored). Default True.
    cortex_only : bool
        Combined parcellations: keep only the cortical parcels.
    set_size_range : (int or None, int or None), optional
        Keep only collection sets with a number of maps in this range.
    print_references : bool
        Print the dataset description, what to cite and one line per map.
    return_metadata : bool
        Also return the map metadata table (rows = returned maps).

    Returns
    -------
    list or pandas.DataFrame (, pandas.DataFrame)
        Image paths (surfaces: ``(L, R)`` tuples) or a maps x parcels table;
        with ``return_metadata`` also the metadata table.
    """
    with verbose_context(verbose):
        dataset, meta = load_manifest("reference", dataset, data_dir, data_url,
                                      argument="dataset")
        logger.info("Loading %s maps.", dataset)
        parc_names = _parcellation_names(dataset, meta, parcellation, data_dir, data_url)

        if parc_names is not None:
            for p in parc_names:
                if p not in (meta.get("tabs") or []):
                    raise InputError(_no_table_message(dataset, meta, p))
            tables = []
            for p in parc_names:
                logger.info("Loading data parcellated with '%s'.", p)
                tables.append(read_table(f"reference/{dataset}/tab/dset-{dataset}_parc-{p}.csv.gz",
                                         data_dir, data_url))
            names = list(tables[0].index)
        else:
            names = list(meta.get("maps") or {})
            if not names:
                raise InputError(
                    f"parcellation: dataset {dataset!r} is distributed only as parcellated "
                    f"tables; pass parcellation= one of {meta.get('tabs')}.")

        names, collection_df = _select_maps(dataset, names, maps, collection, set_size_range,
                                            data_dir, data_url)

        if parc_names is not None:
            data = _select_rows(dataset, parc_names, tables, names, collection_df, cortex_only,
                                standardize_parcellated, data_dir, data_url)
        else:
            data = _map_paths(dataset, meta, names, space, hemi, data_dir, data_url)

        info = None
        if print_references or return_metadata:
            info = fetch_metadata(dataset, data_dir, data_url)
        if print_references:
            print(format_references(meta, info, names))
        if return_metadata:
            if info is not None:
                info = info.reindex(names)
            return data, info
        return data


def _select_maps(dataset, names, maps, collection, set_size_range, data_dir, data_url
                 ) -> tuple[list[str], pd.DataFrame | None]:
    """Map names selected by ``maps`` and ``collection`` (collection order), and the
    collection's rows (None without a collection)."""
    names = filter_maps(names, maps)
    collection_df = None
    if collection is not None:
        cname, collection_df = load_collection(dataset, collection, data_dir, data_url)
        logger.info("Loading collection '%s' for dataset '%s'.", cname, dataset)
        collection_df = collection_df[collection_df["map"].isin(names)]
        if set_size_range is not None and "set" in collection_df:
            lo, hi = set_size_range
            sizes = collection_df.groupby("set")["map"].transform("size")
            keep = (sizes >= (lo or 0)) & (sizes <= (hi if hi is not None else float("inf")))
            collection_df = collection_df[keep]
        if collection_df.empty:
            raise InputError(f"collection: none of the selected maps of {dataset!r} are in "
                             f"collection {cname!r}.")
        names = list(dict.fromkeys(collection_df["map"]))
    return names, collection_df


def _no_table_message(dataset: str, meta: dict, parcellation_name: str | None) -> str:
    """Why a dataset cannot be given on a parcellation without a table, and what to do."""
    tabs = list(meta.get("tabs") or [])
    what = (f"no table for {parcellation_name!r}" if parcellation_name
            else "no table for this custom parcellation")
    if meta.get("maps"):
        return (f"parcellation: dataset {dataset!r} has {what}. Tables exist for {tabs}. "
                f"To parcellate its images with any parcellation, use "
                f"nispace.io.parcellate_reference({dataset!r}, parcellation) or "
                f"NiSpace(x={dataset!r}, parcellation=...).")
    return (f"parcellation: dataset {dataset!r} has {what} and is distributed only as "
            f"parcellated tables (no source images), so it cannot be parcellated with "
            f"another parcellation; source images would be needed. Tables exist for {tabs}.")


def table_parcellations(dataset: str, parcellation, data_dir=None, data_url=None
                        ) -> list[str] | None:
    """The library parcellation names whose tables give ``dataset`` on ``parcellation``.

    Parameters
    ----------
    dataset : str
        Reference dataset name.
    parcellation : str, tuple or Parcellation
        A library name or a :class:`~nispace.parcellation.Parcellation`.

    Returns
    -------
    list of str or None
        None when the dataset has no table for (every part of) the parcellation,
        e.g. a custom parcellation: its images must then be parcellated
        (:func:`nispace.io.parcellate_reference`).
    """
    dataset, meta = load_manifest("reference", dataset, data_dir, data_url, argument="dataset")
    tabs = meta.get("tabs") or []
    if hasattr(parcellation, "library_names"):
        names = list(parcellation.library_names)
    else:
        names = parse_parcellation_name(parcellation, data_dir, data_url, extra_names=tabs)
    return names if names and all(n in tabs for n in names) else None


def _parcellation_names(dataset, meta, parcellation, data_dir, data_url) -> list[str] | None:
    if parcellation is None:
        return None
    if hasattr(parcellation, "library_names"):  # a Parcellation object
        names = parcellation.library_names
        if not names:
            raise InputError(_no_table_message(dataset, meta, None))
        return list(names)
    return parse_parcellation_name(parcellation, data_dir, data_url,
                                   extra_names=meta.get("tabs") or [])


def _select_rows(dataset, parc_names, tables, names, collection_df, cortex_only, standardize,
                 data_dir, data_url) -> pd.DataFrame:
    """Merge the parcellated tables and keep the selected maps, in collection order."""
    if cortex_only and len(parc_names) > 1:
        library = set(list_names("parcellation", data_dir, data_url))
        levels = [load_manifest("parcellation", p, data_dir, data_url)[1].get("level")
                  if p in library else "subcortex" for p in parc_names]
        tables = [t for t, lev in zip(tables, levels) if lev != "subcortex"]
    return arrange_rows(merge_tables(tables), names, collection_df, standardize)


def arrange_rows(data: pd.DataFrame, names: list[str], collection_df: pd.DataFrame | None,
                 standardize: bool) -> pd.DataFrame:
    """Rows of a maps x parcels table in the selection's order, as :func:`fetch_reference`
    returns them.

    Parameters
    ----------
    data : pandas.DataFrame
        Maps x parcels, index = map names (a superset of the selection).
    names : list of str
        Selected maps, in order (used without a collection).
    collection_df : pandas.DataFrame or None
        The collection's rows (``map`` and optionally ``set``, ``weight``): the
        result then follows the collection, with a ``["set", "map"(, "weight")]``
        index for set-structured collections.
    standardize : bool
        Z-score every map across parcels (NaN ignored).

    Returns
    -------
    pandas.DataFrame
        A new table; ``data`` is not changed.
    """
    if collection_df is not None:
        collection_df = collection_df[collection_df["map"].isin(data.index)]
        data = data.loc[collection_df["map"]]
        if list(collection_df.columns) == ["map"]:
            data.index = pd.Index(collection_df["map"], name="map")
        else:
            data.index = pd.MultiIndex.from_frame(collection_df)
    else:
        data = data.loc[[n for n in names if n in data.index]]
        data.index.name = "map"
    if standardize:
        data = zscore_rows(data)
    data.columns.name = "parcel"
    return data


@dataclass(frozen=True)
class ReferenceSelection:
    """Maps of a reference dataset selected for parcellation (see
    :func:`select_reference_maps`).

    Attributes
    ----------
    dataset : str
        Dataset name.
    meta : dict
        The dataset's ``ref.yaml``.
    names : list of str
        Selected maps (collection order with a collection).
    collection : pandas.DataFrame or None
        The collection's rows for the selected maps.
    spaces : list of str
        Spaces in which every selected map has an image, in the dataset's order.
    """

    dataset: str
    meta: dict
    names: list
    collection: pd.DataFrame | None
    spaces: list


def select_reference_maps(dataset: str, maps=None, collection: str | os.PathLike | None = None,
                          set_size_range: tuple[int | None, int | None] | None = None,
                          data_dir=None, data_url=None) -> ReferenceSelection:
    """Select the images of a reference dataset, as :func:`fetch_reference` does.

    Parameters
    ----------
    dataset, maps, collection, set_size_range
        See :func:`fetch_reference`.

    Returns
    -------
    ReferenceSelection

    Raises
    ------
    InputError
        For datasets distributed only as parcellated tables (``mrna``,
        ``enigma*``): the message lists the parcellations that have tables.
    """
    dataset, meta = load_manifest("reference", dataset, data_dir, data_url, argument="dataset")
    images = meta.get("maps") or {}
    if not images:
        raise InputError(_no_table_message(dataset, meta, None))
    names, collection_df = _select_maps(dataset, list(images), maps, collection,
                                        set_size_range, data_dir, data_url)
    per_map = [list(images.get(n) or {}) for n in names]
    spaces = [s for s in per_map[0] if all(s in other for other in per_map)]
    return ReferenceSelection(dataset, meta, names, collection_df, spaces)


def reference_map_files(dataset: str, names: list[str], space: str, data_dir=None,
                        data_url=None) -> list[tuple[str, ...]]:
    """Repository paths of the images of ``names`` in ``space``: one path per volume,
    an (L, R) pair per surface map (see :func:`fetch_file`)."""
    manifest = fetch_manifest(data_dir, data_url)
    out = []
    for n in names:
        prefix = f"reference/{dataset}/map/{n}/{n}_space-{space}"
        files = sorted(k for k in manifest if k.startswith(prefix + "_") or
                       k.startswith(prefix + "."))
        lh = [f for f in files if "hemi-L" in f]
        rh = [f for f in files if "hemi-R" in f]
        if lh or rh:
            out.append((lh[0], rh[0]))
        elif files:
            out.append((files[0],))
        else:
            raise DataError(f"maps: no file for map {n!r} in space {space!r} in the data "
                            f"manifest.")
    return out


def _map_paths(dataset, meta, names, space, hemi, data_dir, data_url) -> list:
    spaces_per_map = {n: list((meta["maps"].get(n) or {})) for n in names}
    common = [s for s in spaces_per_map[names[0]]
              if all(s in v for v in spaces_per_map.values())]
    if space is None:
        space = next((s for s in SPACE_PREFERENCE if s in common), common[0] if common else None)
        if space is None:
            raise InputError(f"space: the selected maps of {dataset!r} share no space.")
        if space != SPACE_PREFERENCE[0]:
            logger.info("Maps of '%s' are not available in %s; using %s.", dataset,
                        SPACE_PREFERENCE[0], space)
    check_option("space", space, common)
    if hemi is not None:
        check_option("hemi", hemi, ["L", "R"])
    out = []
    for files in reference_map_files(dataset, names, space, data_dir, data_url):
        paths = tuple(fetch_file(f, data_dir, data_url) for f in files)
        if len(paths) == 2:
            out.append(paths if hemi is None else paths[0 if hemi == "L" else 1])
        else:
            out.append(paths[0])
    return out
