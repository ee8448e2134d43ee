"""Turn a finished NiSpace analysis into a :class:`~nispace.report.html.ReportContext`."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..results.objects import main_stat
from .citations import bibtex_records, cite, method_bibtex, to_bibtex
from .html import Figure, ReportContext

__all__ = ["build_context", "design_rows", "excluded_parcels", "key_results", "methods_paragraph",
           "reference_table", "references_bibtex"]

_PERMUTED = {"maps": "spatial null maps", "groups": "permutations of the group labels",
             "sets": "random sets of reference maps", "pairs": "random re-pairings of the maps"}


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
                f"Y was transformed with the formula {t['y']!r}: {_contrast(t)}"
                + (f", from {t['n_maps_in']} to {t['n_maps_out']} map(s)"
                   if "n_maps_in" in t else "") + " (group a = first level in sorted order).")
        elif "clean_y" in t:
            add("cleaning", "", "Covariate regression",
                f"Covariates regressed out of Y ({t['clean_y']}): "
                f"{', '.join(t.get('covariates') or []) or 'none'}"
                + ("; ComBat site harmonisation" if t.get("combat") else "") + ".")
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
            for i, null_key in enumerate(_null_keys(perm)):
                add("null model", null_key, null or _PERMUTED[what],
                    f"{perm.n_perm:,} {_PERMUTED[what]}"
                    + (f" ({null}, permuted: {perm.maps_which})" if what == "maps" else "")
                    + f"; seed {perm.seed}." + (" (second part of a split model)" if i
                                                else ""))
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
    if record.get("x_collection"):  # {"name": ..., "source": "x_collection" | "dataset default"}
        rows.append(("X collection", "{name} ({source})".format(**record["x_collection"])))
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


def _method_name(nsp, key: str) -> str:
    from ..plotting import method_label

    coloc = nsp.colocalizations_[key]
    return method_label(coloc.method) + (" (XSEA)" if coloc.xsea else "")


def _maps(n: int, what: str) -> str:
    """``"one Y map"``, ``"3 Y maps"``."""
    return f"one {what} map" if n == 1 else f"{n} {what} maps"


def _made(step: dict) -> str:
    """``"one AN vs HC Hedges' g map computed from 100 subject maps"``."""
    label = _contrast(step).split(" (a =")[0].replace(", ", " ")
    return f"{_maps(step['n_maps_out'], label)} computed from {step['n_maps_in']} subject maps"


def _contrast(step: dict) -> str:
    """``"AN vs HC, Hedges' g"`` for a two-group ``transform_y`` step."""
    from ..plotting import transform_label

    label = transform_label(step["y"])
    sizes = step.get("group_sizes") or {}
    levels = list(sizes)
    formula = step["y"].replace(" ", "")
    if len(levels) == 2 and "a" in formula and "b" in formula:
        return f"{levels[0]} vs {levels[1]}, {label} (a = {levels[0]}, b = {levels[1]})"
    return label


def _step_text(step: dict) -> str:
    """One Y/Z/X step in words, e.g. ``"transform_y('hedges(a,b)'): AN vs HC, ..."``."""
    if "y" in step:
        return f"transform_y({step['y']!r}): {_contrast(step)}" + (
            f"; {_made(step)}" if "n_maps_in" in step else "")
    if "clean_y" in step:
        return (f"clean_y({step['clean_y']!r}): covariates "
                f"{', '.join(step.get('covariates') or []) or 'none'}"
                + (f", kept {', '.join(step['protect'])}" if step.get("protect") else "")
                + ("; ComBat" if step.get("combat") else ""))
    return ", ".join(f"{k}={v}" for k, v in step.items())


def design_rows(nsp) -> list[tuple[str, str]]:
    """What was compared: the Y map(s) and how they were made (contrast, group sizes,
    covariates), from the steps ``transform_y``/``clean_y`` record in ``transforms_``."""
    y = nsp.get_y()
    rows = []
    for step in nsp.transforms_:
        if "y" in step:
            rows.append(("Contrast", _contrast(step)))
            sizes = step.get("group_sizes") or {}
            if sizes:
                rows.append(("Group sizes", ", ".join(f"{g}: n = {n}" for g, n in sizes.items())
                             + f" ({sum(sizes.values())} subject maps)"))
            if "n_maps_in" in step:
                rows.append(("Y maps", _made(step)))
        elif "clean_y" in step:
            covs = step.get("covariates") or []
            text = ", ".join(covs) if covs else "none"
            if step.get("protect"):
                text += f" (kept: {', '.join(step['protect'])})"
            if step.get("combat"):
                text += "; sites harmonised with ComBat"
            if step.get("covariate_maps"):
                text += f"; {step['covariate_maps']} covariate map(s) regressed within maps"
            rows.append(("Covariates", f"regressed out per parcel ({step['clean_y']}): {text}"))
    order = ("Contrast", "Group sizes", "Covariates", "Y maps")
    rows.sort(key=lambda r: order.index(r[0]) if r[0] in order else len(order))
    if not any(k == "Y maps" for k, _ in rows):
        names = ", ".join(map(str, y.index[:5])) + (", ..." if len(y) > 5 else "")
        rows.append(("Y maps" if len(y) > 1 else "Y map", f"{len(y)}: {names}"
                     if len(y) > 1 else names))
    return rows


def key_results(table: pd.DataFrame, n: int = 10, names: dict | None = None,
                value_label: str | None = None) -> pd.DataFrame:
    """The ``n`` strongest rows of a results table: smallest p (or q), then largest
    |value|; the main statistic only, the columns a reader needs first.

    Parameters
    ----------
    table : pandas.DataFrame
        The tidy results (``NiSpace.to_frame()``).
    n : int
        Rows kept.
    names : dict, optional
        Display names of the X maps by id (as the figures show them,
        :func:`nispace.plotting.display_names`): with any match, a column
        ``"X map"`` of the names (the id where none is known; ``"set · name"``
        with a ``set`` column) comes first and the ``"x"`` column of ids last.
    value_label : str, optional
        Header of the ``"value"`` column (e.g. ``"Spearman's rho"``) when all rows
        hold one method's main statistic.

    Returns
    -------
    pandas.DataFrame
        At most ``n`` rows; ``method``, ``permute_what``, ``stat`` and ``y`` only
        when they vary.
    """
    if table is None or table.empty:
        return table
    t = table
    if "stat" in t and t["stat"].nunique() > 1:
        t = t[t["stat"] == main_stat(t["stat"].unique())]
    order = [c for c in ("q", "p") if c in t and t[c].notna().any()]
    t = t.assign(_abs=t["value"].abs() if "value" in t else 0.0)
    t = t.sort_values(order[:1] + ["_abs"], ascending=[True] * len(order[:1]) + [False],
                      na_position="last")
    keep = [c for c in ("method", "permute_what", "stat", "y", "x", "value", "p", "q")
            if c in t and not (c in ("method", "permute_what", "stat", "y")
                               and t[c].nunique() <= 1)]
    out = t[keep].head(n).reset_index(drop=True)
    if names and "x" in out and out["x"].astype(str).isin(list(names)).any():
        shown = [names.get(str(x), str(x)) for x in out["x"]]
        if "set" in t:  # "set · name", as the figures label them
            shown = [f"{s} · {name}" for s, name in zip(t["set"].head(n), shown)]
        out.insert(out.columns.get_loc("x"), "X map", shown)
        # the numbers next to the names; the long ids last (they pushed the numbers
        # out of sight on a report page)
        out = out[[c for c in out.columns if c != "x"] + ["x"]]
    if value_label and "value" in out and "method" not in out and "stat" not in out:
        out = out.rename(columns={"value": value_label})
    return out


def _standardized(nsp) -> str:
    """``"X and Z maps (z-scored across parcels)"`` from ``standardize="xz"``."""
    try:
        which = sorted(nsp._standardize_set(nsp.standardize))
    except (ValueError, TypeError):
        return str(nsp.standardize)
    if not which:
        return "none"
    names = [w.upper() for w in which]
    return (" and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
            + " maps (z-scored across parcels)")


def _value_label(results: pd.DataFrame) -> str | None:
    """Readable name of the key results' statistic (one method), else None."""
    from ..plotting import method_label

    if results is None or "method" not in results or results["method"].nunique() != 1:
        return None
    return method_label(str(results["method"].iloc[0]))


def _null_keys(perm) -> list[str]:
    """Citation keys of the null model(s) of a permutation: every method of a split
    model (``"alexander_bloch (fsLR) (cortex) + moran (...) (subcortex)"``), or the
    kind of label permutation."""
    if perm.kind != "maps":
        return [{"pairs": "spice"}.get(perm.kind, "permutation")]
    null = str(perm.null_model or "")
    return [part.strip().split(" ")[0] for part in null.split(" + ") if part.strip()]


def _short_cite(key: str) -> str:
    recs = method_bibtex(key)
    if not recs:
        return ""
    names = []
    for rec in recs[:2]:
        author = rec.get("author", "").split(",")[0].split(" and ")[0]
        names.append(f"{author}{' et al.' if ' and ' in rec.get('author', '') else ''}"
                     + (f", {rec['year']}" if rec.get("year") else ""))
    return f" ({'; '.join(names)})"


def methods_paragraph(nsp, keys: list[str], prov: dict) -> str:
    """A methods paragraph ready to paste: data, parcellation and space, transforms,
    colocalization, nulls (n_perm, seed), corrections and software versions."""
    from ..plotting import method_label

    parc = _parcellation(nsp)
    record = getattr(nsp, "fit_record_", {}) or {}
    spaces = ", ".join(dict.fromkeys(str(v) for v in (record.get("parcellation_space") or {})
                                     .values() if v))
    sources = set((record.get("data_space_source") or {}).values())
    where = (f"in {spaces}" if spaces else "data given as parcellated tables"
             if sources == {"parcellated table"} else "space not recorded")
    if record.get("geometry_space"):
        where += f"; null-model geometry from {record['geometry_space']}"
    x_raw = nsp.get_x(raw=True)
    x_desc = (f"{len(x_raw)} maps of the nispace reference dataset '{nsp.x}'"
              + (f" (collection {nsp.x_collection})" if nsp.x_collection else "")
              if isinstance(nsp.x, str) else f"{len(x_raw)} user-provided X maps")
    y = nsp.get_y()
    parts = [f"Spatial colocalization analyses were run with nispace "
             f"{prov.get('nispace', '')}{_short_cite('nispace')}."]
    parts.append(f"Data were parcellated with the {parc['name']} parcellation "
                 f"({nsp.get_x().shape[1]} parcels; {where}){_parcellation_cite(parc['name'])}.")
    for step in nsp.transforms_:
        if "y" in step:
            sizes = step.get("group_sizes") or {}
            parts.append(f"{step.get('n_maps_in', '')} subject maps "
                         + (f"({', '.join(f'{g}: n = {n}' for g, n in sizes.items())}) "
                            if sizes else "")
                         + f"were summarised as {_contrast(step).split(' (a =')[0]} "
                         f"(formula {step['y']!r}).")
        elif "clean_y" in step and step.get("covariates"):
            parts.append(f"The covariates {', '.join(step['covariates'])} were regressed "
                         f"out of each parcel's values across subject maps "
                         f"({step['clean_y']}).")
    parts.append(f"The resulting {_maps(len(y), 'Y')} {'was' if len(y) == 1 else 'were'} "
                 f"compared with {x_desc}"
                 + (f"{_short_cite('juspace')}" if isinstance(nsp.x, str) else "") + ".")
    for key in keys:
        coloc = nsp.colocalizations_[key]
        text = (f"Colocalization was estimated as {method_label(coloc.method)}"
                f"{_short_cite(coloc.method)}")
        if coloc.xsea:
            text += f", aggregated over sets of X maps (XSEA){_short_cite('xsea')}"
        parts.append(text + ".")
        for perm in nsp.permutations_.get(key, {}).values():
            null = [str(perm.null_model)] if perm.null_model else []  # the kind says it
            ref = "; ".join(c for c in (_short_cite(k).strip()[1:-1]
                                        for k in _null_keys(perm)
                                        if k != "permutation") if c)  # cited below
            detail = "; ".join(null + ([ref] if ref else []) + [f"seed {perm.seed}"])
            parts.append(f"Significance was assessed against {perm.n_perm:,} "
                         f"{_PERMUTED[perm.kind]} ({detail}) with exact permutation p-values"
                         f"{_short_cite('permutation')}.")
            for corr in nsp.corrections_:
                if (corr.key, corr.permute_what) == (perm.key, perm.permute_what):
                    parts.append(f"p-values were corrected for multiple comparisons with "
                                 f"{corr.mc_method}{_short_cite(corr.mc_method)} across the "
                                 f"{_FAMILY[corr.mc_dimension]}.")
    pk = prov.get("packages") or {}
    versions = ", ".join(f"{k} {pk[k]}" for k in ("numpy", "scipy", "pandas", "nilearn")
                         if k in pk)
    parts.append(f"Analyses ran in Python {prov.get('python', '')}"
                 + (f" ({versions})" if versions else "") + ".")
    return " ".join(p.replace("  ", " ") for p in parts)


def _parcellation_meta(name: str) -> dict:
    """The registry entry of a parcellation, or {} when it is not a nispace one."""
    from ..datasets.registry import load_manifest

    try:
        return load_manifest("parcellation", str(name))[1]
    except Exception:  # noqa: BLE001 - a user parcellation has no registry entry
        return {}


def _parcellation_cite(name: str) -> str:
    ref = (_parcellation_meta(name).get("citation") or {}).get("ref")
    return f" ({ref.split(',')[0]}, {ref.split(',')[1].strip()})" \
        if ref and ref.count(",") >= 1 else ""


def references_bibtex(nsp, keys: list[str]) -> str:
    """BibTeX of everything an analysis used: nispace, the parcellation, the reference
    datasets' papers and maps, colocalization methods, null models, corrections."""
    recs = method_bibtex("nispace")
    meta = _parcellation_meta(_parcellation(nsp)["name"])
    if meta.get("citation"):
        c = meta["citation"]
        recs += bibtex_records(c.get("ref", ""), [c.get("doi")])
    name = re.sub(r"[^a-z0-9]", "", str(meta.get("name", "")).lower())
    recs += [{"type": "misc", "key": f"{name}_source{i + 1}", "author": "", "doi": d,
              "note": f"source of the {meta.get('label', name)} parcellation files"}
             for i, d in enumerate(meta.get("citation_extra_dois") or [])]
    if isinstance(nsp.x, str):
        from ..datasets.registry import load_manifest

        try:
            ds = load_manifest("reference", nsp.x)[1]
        except Exception:  # noqa: BLE001 - the X table was given as a DataFrame
            ds = {}
        for c in ds.get("citations") or []:
            recs += bibtex_records(c.get("ref", ""), [c.get("doi")])
        table = reference_table(nsp)
        if table is not None:
            for row in table.to_dict("records"):
                for doi in str(row.get("doi") or "").replace(";", ",").split(","):
                    if doi.strip().startswith("10."):
                        recs.append({"type": "article", "key": str(row.get("publication")
                                                                   or "") or None,
                                     "author": "", "doi": doi.strip(),
                                     "note": f"reference map {row.get('map')}"})
    for key in keys:
        coloc = nsp.colocalizations_[key]
        recs += method_bibtex(coloc.method)
        if coloc.xsea:
            recs += method_bibtex("xsea")
        for perm in nsp.permutations_.get(key, {}).values():
            for part in _null_keys(perm):
                recs += method_bibtex(part)
            recs += method_bibtex("permutation")
            for corr in nsp.corrections_:
                if (corr.key, corr.permute_what) == (perm.key, perm.permute_what):
                    recs += method_bibtex(corr.mc_method)
    return to_bibtex(recs)


def build_context(nsp, prov: dict, figures: list[dict], keys: list[str],
                  bibtex_href: str | None = None,
                  regions: pd.DataFrame | None = None) -> ReportContext:
    """Everything the HTML report shows, from the result objects of a NiSpace object
    (fitted, or loaded from a saved analysis). ``regions``: the parcellation's region
    summary when already at hand (e.g. read back from the saved analysis; computing
    it again takes ~0.3 s), else it is computed."""
    parc = _parcellation(nsp)
    x_raw, y_raw = nsp.get_x(raw=True), nsp.get_y(raw=True)
    perms = [p for k in keys for p in nsp.permutations_.get(k, {}).values()]
    x_desc = (f"reference dataset '{nsp.x}'" + (f", collection '{nsp.x_collection}'"
                                              if nsp.x_collection else "")
              if isinstance(nsp.x, str) else "user maps")
    record = getattr(nsp, "fit_record_", {}) or {}
    where = ", ".join(str(v) for v in dict.fromkeys(
        (record.get("parcellation_space") or {}).values()) if v)
    y = nsp.get_y()
    made = next((t for t in nsp.transforms_ if "y" in t and "n_maps_in" in t), None)
    y_desc = (_made(made) if made else _maps(len(y), "Y") if len(y) != 1 else
              f"the Y map '{y.index[0]}'")
    y_desc = y_desc[0].upper() + y_desc[1:]
    summary = (f"{y_desc} colocalized with {len(x_raw)} X maps ({x_desc}) on "
               f"{parc['name']} ({nsp.get_x().shape[1]} parcels"
               + (f", {where}" if where else "") + ") by "
               + ", ".join(_method_name(nsp, k) for k in keys) + ".")
    if perms:
        first = perms[0]
        summary += (f" Tested against {first.n_perm:,} {_PERMUTED[first.kind]}"
                    + (f" ({first.null_model}, seed {first.seed})" if first.kind == "maps"
                       else f" (seed {first.seed})") + ".")
    inputs = [("Y maps given", ", ".join(map(str, y_raw.index[:10]))
               + (f", ... ({len(y_raw)} in all)" if len(y_raw) > 10 else "")),
              ("X maps", f"{x_desc}: {len(x_raw)} maps"),
              ("Z maps", "none" if nsp.z_ is None else f"{len(nsp.z_)} maps"),
              ("Standardized", _standardized(nsp))]
    inputs += _fit_rows(getattr(nsp, "fit_record_", {}) or {})
    for t in nsp.transforms_:
        inputs.append(("Step", _step_text(t)))
    # shown elsewhere in the report (steps, fit record, methods); kept in results.json
    prov_view = {k: v for k, v in prov.items()
                 if k not in ("permutations", "fit_record", "transforms", "colocalizations",
                              "warnings")}
    if perms:
        p0 = perms[0]
        prov_view.update(null_method=p0.null_model or _PERMUTED.get(p0.kind, ""),
                         n_perm=p0.n_perm, n_proc=p0.n_proc, seed=p0.seed)
    results = pd.concat([_results_frame(nsp, k) for k in keys], ignore_index=True)
    design = design_rows(nsp)
    contrast = next((v for k, v in design if k == "Contrast"), None)
    question = (f"Does the group difference ({contrast.split(' (a =')[0]}) follow the "
                f"spatial pattern of {x_desc} more than chance allows?" if contrast else
                f"Does {'the Y map' if len(y) == 1 else 'each Y map'} follow the spatial "
                f"pattern of {x_desc} more than chance allows?")
    return ReportContext(
        question=question,
        design=design,
        key_results=key_results(results, names=nsp._x_display_names(),
                                value_label=_value_label(results)),
        methods_text=methods_paragraph(nsp, keys, prov),
        bibtex=references_bibtex(nsp, keys),
        bibtex_href=bibtex_href,
        title=(f"nispace report: {', '.join(_method_name(nsp, k) for k in keys)} with "
               + (f"{nsp.x}" + (f" ({nsp.x_collection})" if nsp.x_collection else "")
                  if isinstance(nsp.x, str) else "user X maps")),
        created=str(prov.get("created", "")),
        summary=summary,
        inputs=inputs,
        provenance=prov_view,
        parcellation={"name": parc["name"], "spaces": parc["spaces"],
                      "n_parcels": parc["n_parcels"], "regions": _region_table(nsp) if regions is None else regions,
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
    table = rows[keep].reset_index()
    # names and citations first, the long map ids last (unwrapped, as in the results)
    return table[keep + [c for c in table.columns if c not in keep]]


def _references(nsp) -> pd.DataFrame | None:
    table = reference_table(nsp)
    if table is None or table.empty:
        return None
    return table.replace({np.nan: ""})
