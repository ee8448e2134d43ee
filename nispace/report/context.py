"""Turn a finished NiSpace analysis into a :class:`~nispace.report.html.ReportContext`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .citations import cite
from .html import Figure, ReportContext

__all__ = ["build_context", "excluded_parcels"]

_PERMUTED = {"maps": "spatial null maps", "groups": "permutation of the group labels",
             "sets": "random sets of reference maps", "pairs": "random re-pairing of the maps"}


def excluded_parcels(nsp) -> list[tuple[str, str]]:
    """Parcels of the parcellation left out of, or undefined in, the analysis."""
    labels = list(nsp.parcellation_.labels)
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


def _region_table(parc) -> pd.DataFrame | None:
    spaces = [s for s in parc.spaces if not parc.is_surface(s)] or parc.spaces
    try:
        return parc.region_summary(spaces[0])
    except Exception:  # noqa: BLE001 - a summary table must not cost the report
        return None


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
        params = nsp.coloc_params_[key]
        add("colocalization", params["method"], method_label(params["method"]),
            f"Colocalization of every Y map with every X map ({params['method']})"
            + (f", aggregated over sets of X maps ({params['xsea_aggr']})" if params["xsea"]
               else "") + ".")
        if params["xsea"]:
            add("set enrichment", "xsea", "X-set enrichment analysis (XSEA)",
                "Set statistics aggregate the colocalizations of a set's maps.")
        info = nsp.permutations_.get(key)
        if not info:
            continue
        null = str(info.get("null_method") or "")
        what = info["what"]
        null_key = null.split(" ")[0].split("+")[0] if what == "maps" else \
            {"pairs": "spice"}.get(what, "permutation")
        add("null model", null_key, null or _PERMUTED[what],
            f"{info['n_perm']} permutations: {_PERMUTED[what]}"
            + (f" ({null}, permuted: {info.get('maps_which')})" if what == "maps" else "")
            + f"; seed {info.get('seed')}.")
        add("p-values", "permutation", "Exact permutation p-values",
            "p = (1 + number of null values at least as extreme) / (1 + n_perm); tails: "
            + ", ".join(f"{k}: {v}" for k, v in info["p_tails"].items())
            + (f"; pooled over Y maps ({info['pooled_p']})" if info.get("pooled_p") else ""))
        tag = info.get("mc_method")
        if tag:
            method, dim = tag
            add("correction", method, method,
                f"Multiple-comparison correction {method!r} across the "
                f"{ {'x': 'X maps of each Y map', 'y': 'Y maps of each X map', 'array': 'whole table'}[dim] }.")
    return entries


def build_context(nsp, prov: dict, figures: list[dict], keys: list[str]) -> ReportContext:
    """Everything the HTML report shows, from a NiSpace object after permute/correct_p."""
    parc = nsp.parcellation_
    x_raw, y_raw = nsp.get_x(raw=True), nsp.get_y(raw=True)
    first = nsp.permutations_.get(keys[0], {}) if keys else {}
    x_desc = (f"reference dataset '{nsp.x}'" + (f", collection '{nsp.x_collection}'"
                                              if nsp.x_collection else "")
              if isinstance(nsp.x, str) else "user maps")
    summary = (f"{len(y_raw)} Y map(s) colocalized with {len(x_raw)} X maps ({x_desc}) on "
               f"{parc.name} ({nsp.get_x().shape[1]} parcels) by "
               f"{', '.join(keys)}.")
    if first:
        summary += (f" {first['n_perm']} permutations ({first['what']}"
                    + (f", {first.get('null_method')}" if first['what'] == "maps" else "")
                    + ").")
    inputs = [("Y maps", ", ".join(map(str, y_raw.index[:10]))
               + (f", ... ({len(y_raw)} in all)" if len(y_raw) > 10 else "")),
              ("X maps", f"{x_desc}: {len(x_raw)} maps"),
              ("Z maps", "none" if nsp.z_ is None else f"{len(nsp.z_)} maps"),
              ("Standardized", str(nsp.standardize))]
    for t in nsp.transforms_:
        inputs.append(("Step", ", ".join(f"{k}={v}" for k, v in t.items())))
    permutations = prov.get("permutations", {})
    prov_view = dict(prov)
    if permutations:
        p0 = next(iter(permutations.values()))
        null = p0.get("null_method") or _PERMUTED.get(p0.get("what"), "")
        prov_view.update(null_method=null, n_perm=p0.get("n_perm"),
                         n_proc=p0.get("n_proc"), seed=p0.get("seed"))
    results = pd.concat([_results_frame(nsp, k) for k in keys], ignore_index=True)
    return ReportContext(
        title=f"nispace report: {', '.join(keys)}",
        created=str(prov.get("created", "")),
        summary=summary,
        inputs=inputs,
        provenance=prov_view,
        parcellation={"name": parc.name, "spaces": parc.spaces,
                      "n_parcels": parc.n_parcels, "regions": _region_table(parc),
                      "excluded": excluded_parcels(nsp)},
        methods=_method_entries(nsp, keys),
        results=results,
        figures=[Figure(caption=f["caption"], png=f["png"]) for f in figures],
        references=_references(nsp),
        warnings=list(prov.get("warnings", [])),
    )


def _results_frame(nsp, key: str) -> pd.DataFrame:
    from .results import tidy_results

    table = tidy_results(nsp, key)
    for col in ("value", "z"):
        if col in table:
            table[col] = table[col].astype(float).round(4)
    return table


def _references(nsp) -> pd.DataFrame | None:
    from .results import reference_table

    table = reference_table(nsp)
    if table is None or table.empty:
        return None
    return table.replace({np.nan: ""})
