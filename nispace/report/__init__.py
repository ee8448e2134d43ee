"""Reports of an analysis: a self-contained HTML page and the citations behind it.

:func:`render_report` / :func:`write_report` turn a :class:`ReportContext` into one
offline-readable HTML5 file; :data:`CITATIONS` and :func:`cite` give the paper (and
DOI) behind every null model, colocalization method and correction;
:func:`parcellation_report` describes a parcellation.
"""

from .citations import CITATIONS, cite
from .html import Figure, ReportContext, format_p, render_report, write_report
from .parcellation import ParcellationReport, parcellation_report

__all__ = ["CITATIONS", "Figure", "ParcellationReport", "ReportContext", "cite", "format_p",
           "parcellation_report", "render_report", "write_report"]
