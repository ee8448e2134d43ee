"""Turn a finished NiSpace analysis into a :class:`~nispace.report.html.ReportContext`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .citations import cite
from .html import Figure, ReportContext

__all__ = ["build_context", "excluded_parcels", "reference_table"]

_PERMUTED = {"maps": "spatial null maps", "groups": "permutation of the group labels",
             "sets": "random sets of reference maps", "pairs": "random re-pairing of the maps"}


def _parcellation(nsp) -> dict:
    """Name, spaces, parcel count and labels of the object's parcellation (also for an
    object loaded from a saved analysis, which keeps them without the images)."""
    from ..results.storage import parcellation_record

    return parcellation_record(nsp)


def excluded_parcels(nsp) -> list[tuple[str, str]]:
    """Parcels of the parcellation left out of, or undefined in, the analysis."""
    labels = list(_parcellation(nsp)["labels"])
    used = set(map(str, nsp.get_x().columns))
    out = [(lab, "not in the data (dropped: background, hemisphere or NaN)")
           for lab in labels if str(lab) not in used]
    for name, frame in (("Y", nsp.get_y(raw=True)), ("X", nsp.get_x(raw=True))):
        nan = frame.isna()
        for col in frame.columns[nan.any(axis=0).to_numpy()]:
            k = int(nan[col].sum())
            out.append((str(col), f"NaN in {k} of {len(frame)} {name} map(s) (background or "
                                  f"too few valid voxels); left out of those maps' tests"))
    return out


def _region_table(nsp) -> pd.DataFrame | None:
    from ..results.storage import _region_table as region_table

    return region_table(nsp)


_FAMILY = {"x": "X maps of each Y map", "y": "Y maps of each X map", "array": "whole table"}


def _method_entries(nsp, keys: list[str]) -> list[dict]:
    from ..plotting import method_label, transform_label

    entries: list[dict] = []

    def add(role: str, key: str, name: str, description: str) -> None:
        ref = cite(key) or {}
        entries.append({"role": role, "name": name, "description": description,
                        "citation": ref.get("citation", ""), "doi": ref.get("doi"),
                        "extra_dois": ref.get("extra_dois", ())})

    for t in nsp.transforms_:
        if "y" in t:
            add("transform", "", transform_label(t["y"]),
                f"Y was transformed with the formula {t['y']!r} (group a = first level in "
                f"sorted order).")
    for key in keys:
        coloc = nsp.colocalizations_[key]
        add("colocalization", coloc.method, method_label(coloc.method),
            f"Colocalization of every Y map with every X map ({coloc.method})"
            + (f", aggregated over sets of X maps ({coloc.xsea_aggr})" if coloc.xsea
               else "") + ".")
        if coloc.xsea:
            add("set enrichment", "xsea", "X-set enrichment analysis (XSEA)",
                "Set statistics aggregate the colocalizations of a set's maps.")
        for perm in nsp.permutations_.get(key, {}).values():
            null = str(perm.null_model or "")
            what = perm.kind
            null_key = null.split(" ")[0].split("+")[0] if what == "maps" else \
                {"pairs": "spice"}.get(what, "permutation")
            add("null model", null_key, null or _PERMUTED[what],
                f"{perm.n_perm} permutations: {_PERMUTED[what]}"
                + (f" ({null}, permuted: {perm.maps_which})" if what == "maps" else "")
                + f"; seed {perm.seed}.")
            add("p-values", "permutation", "Exact permutation p-values",
                "p = (1 + number of null values at least as extreme) / (1 + n_perm); "
                "tails: " + ", ".join(f"{k}: {v}" for k, v in perm.tails.items())
                + (f"; pooled over Y maps ({perm.pooled})" if perm.pooled else ""))
            for corr in nsp.corrections_:
                if (corr.key, corr.permute_what) == (perm.key, perm.permute_what):
                    add("correction", corr.mc_method, corr.mc_method,
                        f"Multiple-comparison correction {corr.mc_method!r} across the "
                        f"{_FAMILY[corr.mc_dimension]}.")
    return entries


_SPACE_SOURCES = {"user": "given by the user", "filename": "from the file names",
                  "default": "ASSUMED (NiSpace's default for volumes; no space given)",
                  "surface vertex counts": "from the surface vertex counts",
                  "parcellated table": "already parcellated"}


def _fit_rows(record: dict) -> list[tuple[str, str]]:
    """Report rows for what ``fit()`` decided or assumed (``NiSpace.fit_record_``)."""
    rows = []
    spaces, sources = record.get("data_space") or {}, record.get("data_space_source") or {}
    parc_spaces = record.get("parcellation_space") or {}
    for name in ("y", "x", "z"):
        if name not in sources and name not in spaces:
            continue
        source = str(sources.get(name))
        text = " + ".join(_SPACE_SOURCES.get(s.strip(), s.strip()) for s in source.split("+"))
        space = spaces.get(name)
        line = f"{space} ({text})" if space else text
        if parc_spaces.get(name) and parc_spaces.get(name) != space:
            line += f"; parcellated in {parc_spaces[name]}"
        rows.append((f"{name.upper()} space", line))
    if record.get("geometry_space"):
        rows.append(("Null-model geometry", f"{record['geometry_space']} "
                     f"({record.get('geometry_space_source', 'data')})"))
    for name, info in (record.get("parcel_order_assumed") or {}).items():
        rows.append((f"{name.upper()} parcel order", (
            f"ASSUMED: no parcel labels; taken in the order of {info.get('parcellation')} "
            f"({info.get('n_parcels')} parcels, {info.get('first')!r} ... "
            f"{info.get('last')!r})")))
    for entry in record.get("alignment") or []:
        if entry.get("matched_by") == "position":
            rows.append(("Matched by position", (
                f"{entry.get('argument')}: {entry.get('n')} rows taken in Y's order "
                f"({entry.get('assumed_order_first')!r} ... "
                f"{entry.get('assumed_order_last')!r})")))
    return rows


def build_context(nsp, prov: dict, figures: list[dict], keys: list[str]) -> ReportContext:
    """Everything the HTML report shows, from the result objects of a NiSpace object
    (fitted, or loaded from a saved analysis)."""
    parc = _parcellation(nsp)
    x_raw, y_raw = nsp.get_x(raw=True), nsp.get_y(raw=True)
    perms = [p for k in keys for p in nsp.permutations_.get(k, {}).values()]
    x_desc = (f"reference dataset '{nsp.x}'" + (f", collection '{nsp.x_collection}'"
                                              if nsp.x_collection else "")
              if isinstance(nsp.x, str) else "user maps")
    record = getattr(nsp, "fit_record_", {}) or {}
    where = ", ".join(str(v) for v in dict.fromkeys(
        (record.get("parcellation_space") or {}).values()) if v)
    summary = (f"{len(y_raw)} Y map(s) colocalized with {len(x_raw)} X maps ({x_desc}) on "
               f"{parc['name']} ({nsp.get_x().shape[1]} parcels"
               + (f", {where}" if where else "") + f") by {', '.join(keys)}.")
    if perms:
        first = perms[0]
        summary += (f" {first.n_perm} permutations ({first.kind}"
                    + (f", {first.null_model}" if first.kind == "maps" else "") + ").")
    inputs = [("Y maps", ", ".join(map(str, y_raw.index[:10]))
               + (f", ... ({len(y_raw)} in all)" if len(y_raw) > 10 else "")),
              ("X maps", f"{x_desc}: {len(x_raw)} maps"),
              ("Z maps", "none" if nsp.z_ is None else f"{len(nsp.z_)} maps"),
              ("Standardized", str(nsp.standardize))]
    inputs += _fit_rows(getattr(nsp, "fit_record_", {}) or {})
    for t in nsp.transforms_:
        inputs.append(("Step", ", ".join(f"{k}={v}" for k, v in t.items())))
    prov_view = {k: v for k, v in prov.items() if k != "permutations"}
    if perms:
        p0 = perms[0]
        prov_view.update(null_method=p0.null_model or _PERMUTED.get(p0.kind, ""),
                         n_perm=p0.n_perm, n_proc=p0.n_proc, seed=p0.seed)
    results = pd.concat([_results_frame(nsp, k) for k in keys], ignore_index=True)
    return ReportContext(
        title=f"nispace report: {', '.join(keys)}",
        created=str(prov.get("created", "")),
        summary=summary,
        inputs=inputs,
        provenance=prov_view,
        parcellation={"name": parc["name"], "spaces": parc["spaces"],
                      "n_parcels": parc["n_parcels"], "regions": _region_table(nsp),
                      "excluded": excluded_parcels(nsp)},
        methods=_method_entries(nsp, keys),
        results=results,
        figures=[Figure(caption=f["caption"], png=f["png"]) for f in figures],
        references=_references(nsp),
        warnings=list(prov.get("warnings", [])),
    )


def _results_frame(nsp, key: str) -> pd.DataFrame:
    table = nsp.to_frame(method=key)
    for col in ("value", "z"):
        if col in table:
            table[col] = table[col].astype(float).round(4)
    return table


def reference_table(nsp) -> pd.DataFrame | None:
    """Publication, licence and DOI of every X map taken from a reference dataset."""
    if not isinstance(nsp.x, str):
        return None
    from ..datasets import fetch_metadata

    try:
        info = fetch_metadata(nsp.x)
    except (ValueError, KeyError):
        return None
    if info is None:
        return None
    names = list(nsp.get_x(raw=True).index.get_level_values(-1))
    rows = info.reindex([n for n in names if n in info.index])
    keep = [c for c in ("publication", "target", "tracer", "disorder", "doi", "license",
                        "download_source", "note") if c in rows.columns]
    return rows[keep].reset_index()


def _references(nsp) -> pd.DataFrame | None:
    table = reference_table(nsp)
    if table is None or table.empty:
        return None
    return table.replace({np.nan: ""})
