"""Reports of an analysis: a self-contained HTML page and the citations behind it.

:func:`render_report` / :func:`write_report` turn a :class:`ReportContext` into one
offline-readable HTML5 file, rendered from the jinja2 templates in
``nispace/report/templates`` with the CSS/JS of ``nispace/report/assets`` inlined. The
page opens on a summary (question, design, key results, first figure), then a methods
paragraph ready to paste and the BibTeX of everything used, then the details.
:data:`CITATIONS` and :func:`cite` give the paper (and DOI) behind every null model,
colocalization method and correction; :func:`to_bibtex` writes them as BibTeX;
:func:`parcellation_report` describes a parcellation.
"""

from .citations import CITATIONS, bibtex_records, cite, method_bibtex, to_bibtex
from .html import Figure, ReportContext, format_p, render_report, write_report
from .parcellation import ParcellationReport, parcellation_report

__all__ = ["CITATIONS", "Figure", "ParcellationReport", "ReportContext", "bibtex_records",
           "cite", "format_p", "method_bibtex", "parcellation_report", "render_report",
           "to_bibtex", "write_report"]
