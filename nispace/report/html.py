"""A self-contained HTML report of a nispace analysis.

:func:`render_report` turns a :class:`ReportContext` (filled by the CLI or a workflow)
into one HTML5 document that reads offline: inline CSS, one small inline script,
figures embedded as base64 PNG or inline SVG, no web fonts and no remote resources;
the only links are DOI links (``https://doi.org/...``) and in-page anchors. All text
is escaped, so map names and user labels may contain ``<``, ``&`` or quotes.

Sections, in order: header (title, creation time, summary, warnings), ``#inputs``
(inputs, versions, parameters, data files with SHA-256), ``#parcellation``,
``#methods`` (descriptions and citations), ``#results`` (sortable table, significant
rows highlighted), ``#figures``, ``#references`` (reference maps with sources and
licences) and a footer.

Every ``<table class="sortable">`` sorts when a column header is clicked: numeric
columns numerically, NaN last in either direction, ``aria-sort`` on the sorted
header. An initial sort can be given in the URL fragment as
``#sort=<table or section id>:<column>:<asc|desc>``, e.g.
``report.html#sort=results:p:asc``. When the script has finished it sets
``<body data-ready="1">``.
"""

from __future__ import annotations

import base64
import html
import math
import numbers
import os
import pathlib
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

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
    return f"{float(value):.4g}"


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


def _links(text: object) -> str:
    """Escaped text where DOIs and http(s) URLs become links; anything else stays text."""
    if _is_missing(text) or not str(text).strip():
        return ""
    parts = [p for p in _DOI_SPLIT.split(str(text).strip()) if p]
    out = []
    for part in parts:
        doi = _DOI_PREFIX.sub("", part)
        if doi.startswith("10.") and "/" in doi:
            out.append(f'<a href="https://doi.org/{_esc(doi)}">doi:{_esc(doi)}</a>')
        elif re.match(r"^https?://[^\s\"'<>]+$", part):
            out.append(f'<a href="{_esc(part)}">{_esc(part)}</a>')
        else:  # free text: keep as is
            return _esc(text)
    return ", ".join(out)


# --------------------------------------------------------------------------------------
# tables


def _flat_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with flat string column names and the index as columns unless trivial."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame; got {type(df).__name__}.")
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    df = df.copy()
    df.columns = [" / ".join(map(str, c)) if isinstance(c, tuple) else str(c)
                  for c in df.columns]
    return df


def _kv_table(rows: Iterable[tuple[object, object]], head: tuple[str, str],
              *, code_values: bool = False) -> str:
    """A two-column table of (key, value) pairs."""
    body = []
    for key, value in rows:
        value = _esc(_plain(value))
        if code_values:
            value = f"<code>{value}</code>"
        body.append(f"<tr><th scope=\"row\">{_esc(key)}</th><td>{value}</td></tr>")
    if not body:
        return ""
    return (f"<table class=\"kv\"><thead><tr><th scope=\"col\">{_esc(head[0])}</th>"
            f"<th scope=\"col\">{_esc(head[1])}</th></tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _data_table(df: pd.DataFrame, table_id: str, caption: str, *,
                highlight: str | None = None, link_columns: Iterable[str] = ()) -> str:
    """A sortable table of a DataFrame.

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
    head = "".join(
        f"<th scope=\"col\" data-key=\"{_esc(col)}\" "
        f"data-type=\"{'num' if kinds[col] in ('p', 'num') else 'text'}\" aria-sort=\"none\">"
        f"<button type=\"button\">{_esc(col)}</button></th>" for col in df.columns)
    rows = []
    flags = df[highlight].to_numpy() if highlight is not None else None
    for i, record in enumerate(df.itertuples(index=False, name=None)):
        cells = []
        for col, value in zip(df.columns, record):
            kind = kinds[col]
            if kind in ("p", "num"):
                text = (format_p(value) if kind == "p" else
                        "n/a" if _is_missing(value) else _format_number(value))
                cells.append(f"<td class=\"num\" data-value=\"{_sort_value(value)}\">"
                             f"{_esc(text)}</td>")
            elif kind == "link":
                cells.append(f"<td>{_links(value)}</td>")
            else:
                cells.append(f"<td>{'' if _is_missing(value) else _esc(value)}</td>")
        sig = flags is not None and not _is_missing(flags[i]) and float(flags[i]) < 0.05
        rows.append(("<tr class=\"sig\">" if sig else "<tr>") + "".join(cells) + "</tr>")
    return (f"<div class=\"table-wrap\"><table id=\"{_esc(table_id)}\" class=\"sortable\">"
            f"<caption>{_esc(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


# --------------------------------------------------------------------------------------
# figures

_SVG_START = re.compile(r"<svg[\s>]", re.IGNORECASE)
_SVG_FORBIDDEN = re.compile(
    r"<script\b|<foreignObject\b|(?:href|src)\s*=\s*[\"']\s*(?:https?:)?//", re.IGNORECASE)


def _inline_svg(svg: str, prefix: str, where: str) -> str:
    """SVG text ready to inline: prolog dropped, element ids prefixed so several
    figures on one page cannot clash (matplotlib numbers ids per figure)."""
    if not isinstance(svg, str):
        raise TypeError(f"{where}.svg: expected SVG text (str); got {type(svg).__name__}.")
    start = _SVG_START.search(svg)
    if start is None:
        raise ValueError(f"{where}.svg: expected an SVG document with an <svg> element; "
                         f"got {svg[:60]!r}.")
    svg = svg[start.start():].strip()
    bad = _SVG_FORBIDDEN.search(svg)
    if bad:
        raise ValueError(f"{where}.svg: scripts, foreign objects and remote references "
                         f"cannot be inlined in a self-contained report; found "
                         f"{bad.group(0)!r}.")
    ids = set(re.findall(r"(?<=\s)id=\"([^\"]+)\"", svg))
    svg = re.sub(r"(?<=\s)id=\"([^\"]+)\"", lambda m: f'id="{prefix}{m[1]}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)",
                 lambda m: f"url(#{prefix}{m[1]})" if m[1] in ids else m[0], svg)
    return re.sub(r"((?:xlink:)?href)=\"#([^\"]+)\"",
                  lambda m: f'{m[1]}="#{prefix}{m[2]}"' if m[2] in ids else m[0], svg)


def _figure_html(fig: Figure, index: int) -> str:
    where = f"figures[{index}]"
    if not isinstance(fig, Figure):
        raise TypeError(f"{where}: expected a nispace.report.Figure; "
                        f"got {type(fig).__name__}.")
    if fig.svg is not None:
        body = _inline_svg(fig.svg, f"fig{index + 1}-", where)
        body = body.replace("<svg", f"<svg role=\"img\" aria-label=\"{_esc(fig.caption)}\"", 1)
    elif fig.png is not None:
        data = bytes(fig.png)
        if not data.startswith(_PNG_SIGNATURE):
            raise ValueError(f"{where}.png: expected the bytes of a PNG file (starting "
                             f"with the PNG signature); got {data[:8]!r}.")
        body = (f"<img src=\"data:image/png;base64,{base64.b64encode(data).decode('ascii')}\" "
                f"alt=\"{_esc(fig.caption)}\">")
    else:
        raise ValueError(f"{where}: expected png bytes or svg text; got neither.")
    return (f"<figure id=\"figure-{index + 1}\">{body}"
            f"<figcaption>Figure {index + 1}. {_esc(fig.caption)}</figcaption></figure>")


# --------------------------------------------------------------------------------------
# sections

_KNOWN_PROVENANCE = ("nispace", "python", "packages", "data_files")
_PARAMETERS = ("parcellation", "null_method", "n_perm", "seed", "n_proc", "command")


def _section(sid: str, title: str, body: str) -> str:
    return f"<section id=\"{sid}\" aria-labelledby=\"{sid}-title\">" \
           f"<h2 id=\"{sid}-title\">{_esc(title)}</h2>{body}</section>"


def _none(text: str) -> str:
    return f"<p class=\"empty\">{_esc(text)}</p>"


def _header_html(ctx: ReportContext) -> str:
    parts = [f"<h1>{_esc(ctx.title)}</h1>",
             f"<p class=\"meta\">Created <time datetime=\"{_esc(ctx.created)}\">"
             f"{_esc(ctx.created)}</time></p>"]
    if ctx.summary:
        parts.append(f"<p class=\"summary\">{_esc(ctx.summary)}</p>")
    if ctx.warnings:
        items = "".join(f"<li>{_esc(w)}</li>" for w in ctx.warnings)
        parts.append(f"<aside class=\"warnings\" aria-labelledby=\"warnings-title\">"
                     f"<h2 id=\"warnings-title\">Warnings ({len(ctx.warnings)})</h2>"
                     f"<ul>{items}</ul></aside>")
    nav = "".join(f"<li><a href=\"#{sid}\">{_esc(title)}</a></li>" for sid, title in _SECTIONS)
    return (f"<header>{''.join(parts)}<nav aria-label=\"Sections\"><ul>{nav}</ul></nav>"
            "</header>")


def _inputs_html(ctx: ReportContext) -> str:
    prov = ctx.provenance or {}
    body = ["<h3>Inputs</h3>",
            _kv_table(ctx.inputs, ("Input", "Value")) or _none("No inputs.")]
    versions = [("nispace", prov["nispace"])] if "nispace" in prov else []
    versions += [("Python", prov["python"])] if "python" in prov else []
    versions += sorted((prov.get("packages") or {}).items())
    body += ["<h3>Versions</h3>",
             _kv_table(versions, ("Software", "Version")) or _none("Not recorded.")]
    params = [(k, prov[k]) for k in _PARAMETERS if k in prov and k != "command"]
    params += [(k, v) for k, v in prov.items()
               if k not in _KNOWN_PROVENANCE and k not in _PARAMETERS]
    body += ["<h3>Parameters</h3>", _kv_table(params, ("Parameter", "Value")) or
             _none("Not recorded.")]
    if prov.get("command"):
        body.append(f"<p>Command:</p><pre><code>{_esc(prov['command'])}</code></pre>")
    files = list(prov.get("data_files") or [])
    if files:
        body.append(f"<details><summary>Data files ({len(files)}) with SHA-256</summary>"
                    f"{_kv_table(files, ('File', 'SHA-256'), code_values=True)}</details>")
    return _section("inputs", "Inputs & provenance", "".join(body))


def _parcellation_html(ctx: ReportContext) -> str:
    parc = ctx.parcellation or {}
    facts = []
    for key, label in (("name", "Name"), ("spaces", "Spaces"), ("n_parcels", "Parcels")):
        if key in parc:
            facts.append(f"<dt>{label}</dt><dd>{_esc(_plain(parc[key]))}</dd>")
    for key, value in parc.items():
        if key not in ("name", "spaces", "n_parcels", "regions", "excluded"):
            facts.append(f"<dt>{_esc(key)}</dt><dd>{_esc(_plain(value))}</dd>")
    body = [f"<dl class=\"facts\">{''.join(facts)}</dl>" if facts else
            _none("No parcellation recorded.")]
    regions = parc.get("regions")
    if regions is not None and len(regions):
        body.append(f"<details open><summary>Regions ({len(regions)})</summary>"
                    f"{_data_table(regions, 'regions-table', 'Regions of the parcellation')}"
                    f"</details>")
    excluded = list(parc.get("excluded") or [])
    body.append("<h3>Excluded parcels</h3>")
    body.append(_kv_table(excluded, ("Parcel", "Reason")) if excluded else
                _none("No parcels were excluded."))
    return _section("parcellation", "Parcellation", "".join(body))


def _cite_html(citation: str | None, doi: object, extra_dois: Iterable[str] = ()) -> str:
    dois = [d for d in ([doi] if isinstance(doi, str) else list(doi or [])) if d]
    dois += [d for d in extra_dois if d]
    if not citation and not dois:
        return ""
    links = _links(" ".join(dois))
    return (f"<p class=\"cite\"><span class=\"label\">Cite:</span> {_esc(citation or '')}"
            f"{' ' + links if links else ''}</p>")


def _methods_html(ctx: ReportContext) -> str:
    items = []
    for i, method in enumerate(ctx.methods):
        if not isinstance(method, Mapping):
            raise TypeError(f"methods[{i}]: expected a dict; got {type(method).__name__}.")
        name = str(method.get("name", ""))
        citation, doi = method.get("citation"), method.get("doi")
        extra = method.get("extra_dois", ())
        if not citation and name:
            found = cite(name)
            if found is not None:
                citation, doi, extra = found["citation"], found["doi"], found["extra_dois"]
        role = method.get("role", "")
        items.append(
            "<article class=\"method\"><h3>"
            + (f"<span class=\"role\">{_esc(role)}</span> " if role else "")
            + f"{_esc(name)}</h3>"
            + (f"<p>{_esc(method['description'])}</p>" if method.get("description") else "")
            + _cite_html(citation, doi, extra) + "</article>")
    return _section("methods", "Methods", "".join(items) or _none("No methods recorded."))


def _results_html(ctx: ReportContext) -> str:
    df = ctx.results
    if df is None or len(df) == 0:
        return _section("results", "Results", _none("No results."))
    cols = [str(c) for c in df.columns]
    highlight = "q" if "q" in cols else "p" if "p" in cols else None
    note = (f"<p class=\"note\">Rows with <code>{highlight}</code> &lt; 0.05 are "
            f"<span class=\"sig-key\">highlighted</span>. " if highlight else
            "<p class=\"note\">") + \
        "Click a column header to sort; p-values are shown with 3 significant digits.</p>"
    table = _data_table(df, "results-table", f"Results ({len(df)} rows)", highlight=highlight)
    return _section("results", "Results", note + table)


def _figures_html(ctx: ReportContext) -> str:
    figs = "".join(_figure_html(fig, i) for i, fig in enumerate(ctx.figures))
    return _section("figures", "Figures", figs or _none("No figures."))


def _references_html(ctx: ReportContext) -> str:
    df = ctx.references
    if df is None or len(df) == 0:
        return _section("references", "References & licences",
                        _none("No reference maps were used."))
    links = [str(c) for c in df.columns if re.search(r"doi|url|link", str(c), re.I)]
    intro = ("<p class=\"note\">Cite every reference map you report, and respect its "
             "licence.</p>")
    table = _data_table(df, "references-table", f"Reference maps ({len(df)})",
                        link_columns=links)
    return _section("references", "References & licences", intro + table)


def _footer_html(ctx: ReportContext) -> str:
    version = (ctx.provenance or {}).get("nispace", "")
    return (f"<footer><p>Generated by nispace{' ' + _esc(version) if version else ''} on "
            f"{_esc(ctx.created)}. This file is self-contained and readable offline.</p>"
            f"</footer>")


# --------------------------------------------------------------------------------------
# the page

_CSS = """
:root{--fg:#1d2330;--muted:#5b6475;--line:#d8dde6;--accent:#1f5fa8;--sig:#fff1c2;
--sigline:#d49b00;--warn:#fff4e0;--warnline:#c76b00;--bg:#fff;--head:#f2f4f8}
*{box-sizing:border-box}
html{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--fg);background:var(--bg)}
body{margin:0 auto;max-width:72rem;padding:1.5rem 2rem 3rem}
h1{font-size:1.9rem;margin:0 0 .2rem}
h2{font-size:1.35rem;margin:2.2rem 0 .8rem;padding-bottom:.3rem;
border-bottom:2px solid var(--line)}
h3{font-size:1.05rem;margin:1.4rem 0 .5rem}
a{color:var(--accent)}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.86em}
pre{background:var(--head);padding:.6rem .8rem;border-radius:4px;overflow-x:auto;
white-space:pre-wrap}
.meta,.note,.empty,footer{color:var(--muted)}
.summary{font-size:1.05rem;max-width:60rem}
.warnings{background:var(--warn);border-left:5px solid var(--warnline);padding:.6rem 1rem;
margin:1rem 0}
.warnings h2{font-size:1.05rem;margin:0;border:0;padding:0}
.warnings ul{margin:.4rem 0 0;padding-left:1.2rem}
nav ul{list-style:none;padding:0;margin:1rem 0 0;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem}
.table-wrap{overflow-x:auto;margin:.5rem 0 1rem}
table{border-collapse:collapse;font-size:.92rem}
caption{text-align:left;font-weight:600;padding:.3rem 0;color:var(--muted)}
th,td{border-bottom:1px solid var(--line);padding:.3rem .6rem;text-align:left;
vertical-align:top}
thead th{background:var(--head);position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv th{font-weight:600;white-space:nowrap}
table.kv code{word-break:break-all}
th button{all:unset;cursor:pointer;font-weight:600}
th button:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
th[aria-sort=ascending] button::after{content:" \\25B2"}
th[aria-sort=descending] button::after{content:" \\25BC"}
tr.sig td{background:var(--sig)}
tr.sig td:first-child{box-shadow:inset 4px 0 0 var(--sigline)}
.sig-key{background:var(--sig);padding:0 .25rem}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
.facts dt{font-weight:600}.facts dd{margin:0}
.method{border:1px solid var(--line);border-radius:6px;padding:.2rem 1rem .4rem;margin:.7rem 0}
.method h3{margin:.6rem 0 .3rem}
.role{display:inline-block;font-size:.75rem;text-transform:uppercase;letter-spacing:.04em;
background:var(--head);color:var(--muted);border-radius:3px;padding:0 .4rem;margin-right:.3rem}
.cite{font-size:.9rem}.cite .label{font-weight:600}
figure{margin:1.2rem 0;break-inside:avoid}
figure img,figure svg{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);margin-top:.3rem}
summary{cursor:pointer;font-weight:600;margin:.4rem 0}
footer{margin-top:3rem;border-top:1px solid var(--line);padding-top:.6rem;font-size:.85rem}
@media print{
html{font-size:11pt}body{max-width:none;padding:0}
nav,th button::after{display:none}
a{color:inherit}
a[href^="https://"]::after{content:" <" attr(href) ">";font-size:.8em;color:var(--muted)}
thead{display:table-header-group}thead th{position:static}
tr,figure,.method{break-inside:avoid}
h2{break-after:avoid}
tr.sig td{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""

_JS = """
(function () {
  "use strict";
  var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});

  function key(row, index, numeric) {
    var cell = row.cells[index];
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value")
                                              : cell.textContent.trim();
    if (numeric) { return raw === "" ? NaN : Number(raw); }
    return raw;
  }

  function sortTable(table, th, direction) {
    var numeric = th.getAttribute("data-type") === "num";
    var index = th.cellIndex;
    var sign = direction === "descending" ? -1 : 1;
    var body = table.tBodies[0];
    var items = Array.prototype.map.call(body.rows, function (row, i) {
      var v = key(row, index, numeric);
      return {row: row, i: i, v: v, missing: numeric ? isNaN(v) : v === ""};
    });
    items.sort(function (a, b) {
      if (a.missing || b.missing) {  /* missing values last in either direction */
        return a.missing === b.missing ? a.i - b.i : (a.missing ? 1 : -1);
      }
      var c = numeric ? (a.v < b.v ? -1 : (a.v > b.v ? 1 : 0)) : collator.compare(a.v, b.v);
      return c !== 0 ? sign * c : a.i - b.i;
    });
    items.forEach(function (item) { body.appendChild(item.row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.setAttribute("aria-sort", cell === th ? direction : "none");
    });
  }

  function findTable(id) {
    var el = document.getElementById(id);
    if (el === null) { return null; }
    return el.matches("table.sortable") ? el : el.querySelector("table.sortable");
  }

  function findHeader(table, column) {
    var cells = table.tHead.rows[0].cells;
    for (var i = 0; i < cells.length; i++) {
      if (cells[i].getAttribute("data-key") === column) { return cells[i]; }
    }
    return null;
  }

  /* #sort=<table or section id>:<column key>:<asc|desc> */
  function sortFromHash() {
    var match = /^#sort=(.+)$/.exec(window.location.hash);
    if (match === null) { return; }
    var parts = match[1].split(":");
    if (parts.length < 3) { return; }
    var direction = {asc: "ascending", ascending: "ascending",
                     desc: "descending", descending: "descending"}[parts.pop().toLowerCase()];
    var table = findTable(decodeURIComponent(parts.shift()));
    var th = table && findHeader(table, decodeURIComponent(parts.join(":")));
    if (direction && th) { sortTable(table, th, direction); }
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      var button = th.querySelector("button");
      if (button === null) { return; }
      button.addEventListener("click", function () {
        var next = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
        sortTable(table, th, next);
      });
    });
  });
  window.addEventListener("hashchange", sortFromHash);
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) {
      d.open = true;
    });
  });
  sortFromHash();
  document.body.dataset.ready = "1";
})();
"""


def render_report(ctx: ReportContext) -> str:
    """Render a report as one self-contained HTML5 document.

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
    TypeError, ValueError
        For a context of the wrong type, a figure without PNG/SVG content, PNG bytes
        without the PNG signature or SVG text with scripts or remote references.
    """
    if not isinstance(ctx, ReportContext):
        raise TypeError(f"ctx: expected a nispace.report.ReportContext; "
                        f"got {type(ctx).__name__}.")
    body = "".join((_header_html(ctx), "<main>", _inputs_html(ctx), _parcellation_html(ctx),
                    _methods_html(ctx), _results_html(ctx), _figures_html(ctx),
                    _references_html(ctx), "</main>", _footer_html(ctx)))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"generator\" content=\"nispace\">\n"
            f"<title>{_esc(ctx.title)}</title>\n<style>{_CSS}</style>\n</head>\n"
            f"<body>\n{body}\n<script>{_JS}</script>\n</body>\n</html>\n")


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
        raise FileNotFoundError(f"path: the folder {str(path.parent)!r} does not exist; "
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
