"""Reports of an analysis: a self-contained HTML page and the citations behind it.

:func:`render_report` / :func:`write_report` turn a :class:`ReportContext` into one
offline-readable HTML5 file; :data:`CITATIONS` and :func:`cite` give the paper (and
DOI) behind every null model, colocalization method and correction.
"""

from .citations import CITATIONS, cite
from .html import Figure, ReportContext, format_p, render_report, write_report

__all__ = ["CITATIONS", "Figure", "ReportContext", "cite", "format_p", "render_report",
           "write_report"]
