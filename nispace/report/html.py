"""A self-contained HTML report of a nispace analysis.

:func:`render_report` turns a :class:`ReportContext` (filled by the CLI or a workflow)
into one HTML5 document that reads offline: inline CSS, one small inline script,
figures embedded as base64 PNG or inline SVG, no web fonts and no remote resources;
the only links are DOI links (``https://doi.org/...``) and in-page anchors. All text
is escaped, so map names and user labels may contain ``<``, ``&`` or quotes.

The page opens on the answer and then gives the details. Sections, in order:
``#summary`` (question, design: contrast, group sizes, covariates; warnings; the key
results table and the first figure), ``#methods-text`` (a methods paragraph ready to
paste, the BibTeX of everything used), ``#results`` (the full sortable table,
collapsed when long; significant rows highlighted), ``#figures`` (the other figures),
``#methods`` (descriptions and citations), ``#inputs`` (inputs, versions, parameters,
data files with SHA-256), ``#parcellation`` (regions collapsed), ``#references``
(reference maps with sources and licences) and a footer. Sections without content
are left out.

The page is rendered with jinja2 from ``nispace/report/templates/*.html.j2``; the CSS
and script (``nispace/report/assets``) are inlined, so the file stays self-contained.

Every ``<table class="sortable">`` sorts when a column header is clicked: numeric
columns numerically, NaN last in either direction, ``aria-sort`` on the sorted
header. An initial sort can be given in the URL fragment as
``#sort=<table or section id>:<column>:<asc|desc>``, e.g.
``report.html#sort=results:p:asc``. When the script has finished it sets
``<body data-ready="1">``.
"""

from __future__ import annotations

import base64
import functools
import html
import math
import numbers
import os
import pathlib
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources

import jinja2
import pandas as pd
from markupsafe import Markup

from ..errors import InputError, InputTypeError, MissingFileError
from .citations import cite

__all__ = ["Figure", "ReportContext", "format_p", "render_report", "write_report"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Column names holding p-values (``p``, ``q``, ``p_fdr_bh``, ``pval``, ``coloc_p``, ...).
_P_COLUMN = re.compile(
    r"^(?:p|q|pval|qval|pvalue|qvalue|p[_\- ]value|q[_\- ]value|padj|p_adj|fdr)"
    r"(?:[_\-\s(].*)?$|[_\-\s](?:p|q|pval|qval)$", re.IGNORECASE)

_SECTIONS = (("inputs", "Inputs & provenance"), ("parcellation", "Parcellation"),
             ("methods", "Methods"), ("results", "Results"), ("figures", "Figures"),
             ("references", "References & licences"))


@dataclass
class Figure:
    """One figure of the report.

    Parameters
    ----------
    caption : str
        Caption (plain text).
    png : bytes, optional
        PNG file content, embedded as ``data:image/png;base64``.
    svg : str, optional
        SVG document text (e.g. ``fig.savefig(buf, format="svg")``), inlined; used
        instead of ``png`` when both are given. It must not contain scripts or
        references to remote resources.
    """

    caption: str
    png: bytes | None = None
    svg: str | None = None


@dataclass
class ReportContext:
    """Everything a report shows; plain data, no computation.

    Parameters
    ----------
    title : str
        Report title (the page's only ``<h1>``).
    created : str
        ISO timestamp of the analysis.
    summary : str
        One paragraph of plain text.
    inputs : list of (str, str)
        Inputs of the analysis as (what, value) pairs.
    provenance : dict
        ``"nispace"``, ``"python"`` (versions), ``"packages"`` ({name: version}),
        ``"data_files"`` ([(relpath, sha256)]) and the parameters (``"parcellation"``,
        ``"null_method"``, ``"n_perm"``, ``"seed"``, ``"n_proc"``, ``"command"``, any
        other key).
    parcellation : dict
        ``"name"``, ``"spaces"``, ``"n_parcels"``, ``"regions"`` (DataFrame with
        columns such as label value, name, size, unit, percent, or None) and
        ``"excluded"`` ([(parcel name, reason)]).
    methods : list of dict
        ``{"role", "name", "description", "citation", "doi"}`` per method; a missing
        citation is looked up with :func:`nispace.report.citations.cite` by name.
    results : pandas.DataFrame, optional
        Tidy results table; p-value columns (``p``, ``q``, ``p_*``, ...) are
        formatted, rows with ``q`` (or, without ``q``, ``p``) < 0.05 highlighted.
    figures : list of Figure
    references : pandas.DataFrame, optional
        Reference maps used: columns such as map, source, publication, license, doi.
    warnings : list of str
        Shown in a highlighted box below the summary.
    question : str
        The question the analysis answers, one sentence (first line of the summary).
    design : list of (str, str)
        Facts of the design shown in the summary, e.g. ``("Contrast", "AN vs HC,
        Hedges' g")``, group sizes, covariates, the Y map's name.
    key_results : pandas.DataFrame, optional
        The few rows shown in the summary (the full table is ``results``).
    methods_text : str
        A methods paragraph ready to paste into a paper.
    bibtex : str
        BibTeX entries of everything used (shown collapsed).
    bibtex_href : str, optional
        Relative link to the BibTeX file written beside the report
        (``"references.bib"``).
    """

    title: str
    created: str
    summary: str = ""
    inputs: list[tuple[str, str]] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    parcellation: dict = field(default_factory=dict)
    methods: list[dict] = field(default_factory=list)
    results: pd.DataFrame | None = None
    figures: list[Figure] = field(default_factory=list)
    references: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    question: str = ""
    design: list[tuple[str, str]] = field(default_factory=list)
    key_results: pd.DataFrame | None = None
    methods_text: str = ""
    bibtex: str = ""
    bibtex_href: str | None = None


# --------------------------------------------------------------------------------------
# formatting helpers


def _esc(value: object) -> str:
    """Text (or attribute value) escaped for HTML, quotes included."""
    return html.escape("" if value is None else str(value), quote=True)


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, numbers.Real) and math.isnan(float(value))


def format_p(p: object) -> str:
    """Format a p-value: 3 significant digits, values below 0.001 in exponent notation.

    Parameters
    ----------
    p : float or None
        The p-value; None and NaN give ``"n/a"``.

    Returns
    -------
    str

    Examples
    --------
    >>> format_p(0.012345), format_p(0.00023), format_p(0.000234567), format_p(float("nan"))
    ('0.0123', '2.3e-04', '2.35e-04', 'n/a')
    """
    if _is_missing(p):
        return "n/a"
    p = float(p)
    if p != 0 and abs(p) < 1e-3:
        mantissa, exponent = f"{p:.2e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{exponent}"
    return f"{p:.3g}"


def _format_number(value: object) -> str:
    if isinstance(value, (bool, numbers.Integral)):
        return str(value)
    value = float(value)
    if 1e3 <= abs(value) < 1e9:  # sizes, counts: whole numbers, no exponent
        return f"{value:.0f}"
    return f"{value:.4g}"


def _sort_value(value: object) -> str:
    """``data-value`` of a numeric cell: what JavaScript's ``Number()`` reads back."""
    if _is_missing(value):
        return ""
    value = float(value)
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _plain(value: object) -> str:
    """Plain-text form of a provenance or parcellation value."""
    if _is_missing(value):
        return "n/a"
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, Iterable):
        return ", ".join(_plain(v) for v in value)
    return str(value)


_DOI_SPLIT = re.compile(r"[\s,;]+")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", re.IGNORECASE)


# --------------------------------------------------------------------------------------
# tables


def _flat_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with flat string column names and the index as columns unless trivial."""
    if not isinstance(df, pd.DataFrame):
        raise InputTypeError(f"expected a pandas DataFrame; got {type(df).__name__}.")
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    df = df.copy()
    df.columns = [" / ".join(map(str, c)) if isinstance(c, tuple) else str(c)
                  for c in df.columns]
    return df


def _kv_rows(rows: Iterable[tuple[object, object]]) -> list[tuple[str, str]]:
    """(key, value) pairs as plain text."""
    return [(str(key), _plain(value)) for key, value in rows]


def _link_items(text: object) -> list[dict]:
    """``{"text", "href"}`` items: DOIs and http(s) URLs become links; free text stays
    one plain item."""
    if _is_missing(text) or not str(text).strip():
        return []
    parts = [p for p in _DOI_SPLIT.split(str(text).strip()) if p]
    out = []
    for part in parts:
        doi = _DOI_PREFIX.sub("", part)
        if doi.startswith("10.") and "/" in doi:
            out.append({"text": f"doi:{doi}", "href": f"https://doi.org/{doi}"})
        elif re.match(r"^https?://[^\s\"'<>]+$", part):
            out.append({"text": part, "href": part})
        else:  # free text: keep as is
            return [{"text": str(text), "href": None}]
    return out


def _table(df: pd.DataFrame, table_id: str, caption: str, *,
           highlight: str | None = None, link_columns: Iterable[str] = ()) -> dict:
    """A DataFrame as the rows and cells of a sortable table (see the ``data_table``
    macro of ``templates/_macros.html.j2``).

    Numeric columns carry ``data-type="num"`` and every cell a ``data-value`` that the
    script sorts on; p-value columns are shown with :func:`format_p`. Rows where the
    column ``highlight`` is < 0.05 get the class ``sig``.
    """
    df = _flat_frame(df)
    link_columns = set(link_columns)
    kinds = {}
    for col in df.columns:
        series = df[col]
        numeric = (pd.api.types.is_numeric_dtype(series)
                   and not pd.api.types.is_bool_dtype(series))
        kinds[col] = ("p" if numeric and _P_COLUMN.search(col) else
                      "num" if numeric else "link" if col in link_columns else "text")
    head = [{"key": col, "type": "num" if kinds[col] in ("p", "num") else "text"}
            for col in df.columns]
    flags = df[highlight].to_numpy() if highlight is not None else None
    rows = []
    for i, record in enumerate(df.itertuples(index=False, name=None)):
        cells = []
        for col, value in zip(df.columns, record):
            kind = kinds[col]
            if kind in ("p", "num"):
                text = (format_p(value) if kind == "p" else
                        "n/a" if _is_missing(value) else _format_number(value))
                cells.append({"num": True, "value": _sort_value(value), "text": text,
                              "links": None})
            elif kind == "link":
                cells.append({"num": False, "links": _link_items(value)})
            else:
                cells.append({"num": False, "links": None,
                              "text": "" if _is_missing(value) else str(value)})
        sig = flags is not None and not _is_missing(flags[i]) and float(flags[i]) < 0.05
        rows.append({"sig": sig, "cells": cells})
    return {"id": table_id, "caption": caption, "head": head, "rows": rows}


# --------------------------------------------------------------------------------------
# figures

_SVG_START = re.compile(r"<svg[\s>]", re.IGNORECASE)
_SVG_FORBIDDEN = re.compile(
    r"<script\b|<foreignObject\b|(?:href|src)\s*=\s*[\"']\s*(?:https?:)?//", re.IGNORECASE)


def _inline_svg(svg: str, prefix: str, where: str) -> str:
    """SVG text ready to inline: prolog dropped, element ids prefixed so several
    figures on one page cannot clash (matplotlib numbers ids per figure)."""
    if not isinstance(svg, str):
        raise InputTypeError(f"{where}.svg: expected SVG text (str); got {type(svg).__name__}.")
    start = _SVG_START.search(svg)
    if start is None:
        raise InputError(f"{where}.svg: expected an SVG document with an <svg> element; "
                         f"got {svg[:60]!r}.")
    svg = svg[start.start():].strip()
    bad = _SVG_FORBIDDEN.search(svg)
    if bad:
        raise InputError(f"{where}.svg: scripts, foreign objects and remote references "
                         f"cannot be inlined in a self-contained report; found "
                         f"{bad.group(0)!r}.")
    ids = set(re.findall(r"(?<=\s)id=\"([^\"]+)\"", svg))
    svg = re.sub(r"(?<=\s)id=\"([^\"]+)\"", lambda m: f'id="{prefix}{m[1]}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)",
                 lambda m: f"url(#{prefix}{m[1]})" if m[1] in ids else m[0], svg)
    return re.sub(r"((?:xlink:)?href)=\"#([^\"]+)\"",
                  lambda m: f'{m[1]}="#{prefix}{m[2]}"' if m[2] in ids else m[0], svg)


def _png_css_width(data: bytes) -> int | None:
    """Width of a PNG in CSS pixels (96 per inch) from its size and its ``pHYs``
    resolution, so a 300 dpi figure is shown at its printed size, not 3x larger;
    None when the PNG states no resolution in metres."""
    import struct

    width = struct.unpack(">I", data[16:20])[0]
    at = data.find(b"pHYs")
    if at < 0 or data[at + 12:at + 13] != b"\x01":  # unit 1 = metre
        return None
    per_metre = struct.unpack(">I", data[at + 4:at + 8])[0]
    return round(width * 96 / (per_metre * 0.0254)) if per_metre else None


def _figure(fig: Figure, index: int) -> dict:
    """A figure ready for the ``figure`` macro: sanitised inline SVG or a PNG data URI."""
    where = f"figures[{index}]"
    if not isinstance(fig, Figure):
        raise InputTypeError(f"{where}: expected a nispace.report.Figure; "
                        f"got {type(fig).__name__}.")
    out = {"number": index + 1, "caption": fig.caption, "svg": None, "src": None,
           "width": None}
    if fig.svg is not None:
        body = _inline_svg(fig.svg, f"fig{index + 1}-", where)
        out["svg"] = Markup(body.replace(
            "<svg", f"<svg role=\"img\" aria-label=\"{_esc(fig.caption)}\"", 1))
    elif fig.png is not None:
        data = bytes(fig.png)
        if not data.startswith(_PNG_SIGNATURE):
            raise InputError(f"{where}.png: expected the bytes of a PNG file (starting "
                             f"with the PNG signature); got {data[:8]!r}.")
        out["src"] = f"data:image/png;base64,{base64.b64encode(data).decode('ascii')}"
        out["width"] = _png_css_width(data)
    else:
        raise InputError(f"{where}: expected png bytes or svg text; got neither.")
    return out


# --------------------------------------------------------------------------------------
# the page

_KNOWN_PROVENANCE = ("nispace", "python", "packages", "data_files")
_PARAMETERS = ("parcellation", "null_method", "n_perm", "seed", "n_proc", "command")
#: results tables longer than this are collapsed (``<details>``)
_OPEN_ROWS = 25
#: rows of the key-results table in the summary
_KEY_ROWS = 10


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("nispace.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _asset(name: str) -> Markup:
    """A CSS or JS file of ``nispace/report/assets`` (inlined into the page; the
    files are package data, never user input)."""
    return Markup((resources.files("nispace.report") / "assets" / name)
                  .read_text(encoding="utf-8"))


def _methods(ctx: ReportContext) -> list[dict]:
    items = []
    for i, method in enumerate(ctx.methods):
        if not isinstance(method, Mapping):
            raise InputTypeError(f"methods[{i}]: expected a dict; got {type(method).__name__}.")
        name = str(method.get("name", ""))
        citation, doi = method.get("citation"), method.get("doi")
        extra = method.get("extra_dois", ())
        if not citation and name:
            found = cite(name)
            if found is not None:
                citation, doi, extra = found["citation"], found["doi"], found["extra_dois"]
        dois = [d for d in ([doi] if isinstance(doi, str) else list(doi or [])) if d]
        dois += [d for d in extra if d]
        items.append({"role": method.get("role", ""), "name": name,
                      "description": method.get("description") or "",
                      "citation": citation or "", "links": _link_items(" ".join(dois))})
    return items


def _context_vars(ctx: ReportContext) -> dict:
    """Everything the template needs, derived from ``ctx`` (no computation)."""
    prov = ctx.provenance or {}
    figures = [_figure(fig, i) for i, fig in enumerate(ctx.figures)]
    highlight = None
    results_table = None
    if ctx.results is not None and len(ctx.results):
        cols = [str(c) for c in ctx.results.columns]
        highlight = "q" if "q" in cols else "p" if "p" in cols else None
        # the numbers before the long map ids (which pushed them out of sight)
        shown = ctx.results[[c for c in ctx.results.columns if c != "x"]
                            + (["x"] if "x" in ctx.results.columns else [])]
        results_table = _table(shown, "results-table",
                               f"Results ({len(ctx.results)} rows)", highlight=highlight)
    key = ctx.key_results
    key_table = None
    if key is not None and len(key):
        kcols = [str(c) for c in key.columns]
        khigh = "q" if "q" in kcols else "p" if "p" in kcols else None
        key_table = _table(key, "key-results-table",
                           f"Key results ({len(key)} of "
                           f"{len(ctx.results) if ctx.results is not None else len(key)} rows)",
                           highlight=khigh)
    parc = ctx.parcellation or {}
    parc_facts = [(label, _plain(parc[k])) for k, label in
                  (("name", "Name"), ("spaces", "Spaces"), ("n_parcels", "Parcels"))
                  if k in parc]
    parc_facts += [(str(k), _plain(v)) for k, v in parc.items()
                   if k not in ("name", "spaces", "n_parcels", "regions", "excluded")]
    regions = parc.get("regions")
    regions_table = (_table(regions, "regions-table", "Regions of the parcellation")
                     if regions is not None and len(regions) else None)
    refs = ctx.references
    references_table = None
    if refs is not None and len(refs):
        links = [str(c) for c in refs.columns if re.search(r"doi|url|link", str(c), re.I)]
        references_table = _table(refs, "references-table", f"Reference maps ({len(refs)})",
                                  link_columns=links)
    versions = [("nispace", prov["nispace"])] if "nispace" in prov else []
    versions += [("Python", prov["python"])] if "python" in prov else []
    versions += sorted((prov.get("packages") or {}).items())
    params = [(k, prov[k]) for k in _PARAMETERS if k in prov and k != "command"]
    params += [(k, v) for k, v in prov.items()
               if k not in _KNOWN_PROVENANCE and k not in _PARAMETERS]
    methods = _methods(ctx)
    shown = {"summary": True,
             "methods-text": bool(ctx.methods_text or ctx.bibtex or ctx.bibtex_href),
             "results": results_table is not None, "figures": len(figures) > 1,
             "methods": bool(methods), "inputs": True, "parcellation": bool(parc),
             "references": references_table is not None}
    titles = {"summary": "Summary", "methods-text": "Methods paragraph",
              "results": "Results", "figures": "Figures", "methods": "Methods",
              "inputs": "Inputs & provenance", "parcellation": "Parcellation",
              "references": "References & licences"}
    excluded = parc.get("excluded") if "excluded" in parc else None
    return {
        "ctx": ctx, "css": _asset("report.css"), "js": _asset("report.js"),
        "version": prov.get("nispace", ""),
        "sections": [(sid, titles[sid]) for sid, on in shown.items() if on],
        "shown": {sid for sid, on in shown.items() if on},
        "key_table": key_table,
        "key_note": ("The strongest results (smallest p, then largest |value|); the "
                     "full table is under Results."),
        "key_figure": figures[0] if figures else None,
        "figures": figures[1:],
        "results_table": results_table, "highlight": highlight,
        "results_open": results_table is not None and len(results_table["rows"]) <= _OPEN_ROWS,
        "n_bib": ctx.bibtex.count("\n@") + ctx.bibtex.startswith("@") if ctx.bibtex else 0,
        "methods": methods,
        "inputs": _kv_rows(ctx.inputs), "versions": _kv_rows(versions),
        "params": _kv_rows(params), "command": prov.get("command") or "",
        "files": _kv_rows(prov.get("data_files") or []),
        "parc_facts": parc_facts, "regions_table": regions_table,
        "regions_open": results_table is None,
        "excluded": None if excluded is None else _kv_rows(excluded),
        "references_table": references_table,
    }


def render_report(ctx: ReportContext) -> str:
    """Render a report as one self-contained HTML5 document.

    The page is rendered from the jinja2 templates in ``nispace/report/templates``
    with the CSS and script of ``nispace/report/assets`` inlined.

    Parameters
    ----------
    ctx : ReportContext
        What to show.

    Returns
    -------
    str
        The HTML document (inline CSS and script, embedded figures, escaped text).

    Raises
    ------
    InputTypeError, InputError
        For a context of the wrong type, a figure without PNG/SVG content, PNG bytes
        without the PNG signature or SVG text with scripts or remote references.
    """
    if not isinstance(ctx, ReportContext):
        raise InputTypeError(f"ctx: expected a nispace.report.ReportContext; "
                             f"got {type(ctx).__name__}.")
    return _environment().get_template("report.html.j2").render(**_context_vars(ctx))


def write_report(ctx: ReportContext, path: str | os.PathLike) -> pathlib.Path:
    """Render a report and write it atomically as UTF-8.

    The document goes to a temporary file in the target folder, which then replaces
    ``path`` (:func:`os.replace`), so readers never see a half-written report.

    Parameters
    ----------
    ctx : ReportContext
    path : str or os.PathLike
        Output file; its folder must exist.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = pathlib.Path(path)
    if not path.parent.is_dir():
        raise MissingFileError(f"path: the folder {str(path.parent)!r} does not exist; "
                                f"create it before writing the report to {str(path)!r}.")
    text = render_report(ctx)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
