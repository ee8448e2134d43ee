"""A report of a parcellation, in the style of nilearn's masker reports.

The page shows the parcels drawn on the brain, the table of regions (label value,
name, size in mm³ or mm², relative size) and the parameters, with the same
self-contained renderer as the analysis reports (:mod:`nispace.report.html`).
"""

from __future__ import annotations

import datetime as _dt
import io
import logging
import os
from pathlib import Path

from .._version import __version__
from .html import Figure, ReportContext, render_report, write_report

__all__ = ["ParcellationReport", "parcellation_report"]

logger = logging.getLogger("nispace.report")


class ParcellationReport:
    """An HTML report: ``.html`` (text), ``.save_as_html(path)``, notebook display.

    Parameters
    ----------
    context : ReportContext
        What the report shows (see :func:`parcellation_report`, which builds it).
    """

    def __init__(self, context: ReportContext):
        self.context = context
        self.html = render_report(context)

    def save_as_html(self, path: str | os.PathLike) -> Path:
        """Write the report (atomically, UTF-8).

        Parameters
        ----------
        path : str or path-like
            The ``.html`` file to write.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        return write_report(self.context, path)

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


def parcellation_report(parc, space: str | None = None, path: str | os.PathLike | None = None,
                        **params) -> ParcellationReport:
    """Build the :class:`ParcellationReport` of a parcellation.

    Parameters
    ----------
    parc : Parcellation
        The parcellation (e.g. from :func:`nispace.datasets.fetch_parcellation`).
    space : str, optional
        Space to report (default: the active one).
    path : str or PathLike, optional
        Also save the HTML there.
    **params
        Parameters to list (e.g. ``strategy="mean"``).

    Returns
    -------
    ParcellationReport
        Has ``.html``, ``.save_as_html(path)`` and displays in notebooks.
    """
    import matplotlib.pyplot as plt

    from ..plotting import plot_parcellation

    space = space or parc.active_space
    regions = parc.region_summary(space)
    size_col = next(c for c in regions.columns if c.startswith("size"))
    figures = []
    try:
        fig = plot_parcellation(parc, space=space)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        figures.append(Figure(caption=f"Parcels of {parc.name} ({space})", png=buf.getvalue()))
    except Exception as err:  # noqa: BLE001 - the table is the essential part
        logger.warning("parcellation_report: could not draw %s in %s (%s); the report "
                       "shows the table only.", parc.name, space, err)
    kind = "surface" if parc.is_surface(space) else "volume"
    summary = (f"{parc.n_parcels} parcels in {space} ({kind}); total size "
               f"{regions[size_col].sum():.0f} {size_col.split('in ')[-1].rstrip(')')}; "
               f"smallest parcel {regions[size_col].min():.0f}, largest "
               f"{regions[size_col].max():.0f}.")
    inputs = [("Parcellation", str(parc.name)), ("Space", space), ("Level", str(parc.level)),
              ("Parcels", str(parc.n_parcels))]
    inputs += [(k, str(v)) for k, v in params.items()]
    from .context import _parcellation_meta

    meta = _parcellation_meta(parc.name)
    methods = []
    if meta.get("citation"):
        methods.append({"role": "parcellation", "name": meta.get("label", parc.name),
                        "description": f"Licence: {meta['license']}" if meta.get("license")
                        else "", "citation": meta["citation"].get("ref", ""),
                        "doi": meta["citation"].get("doi"),
                        "extra_dois": tuple(meta.get("citation_extra_dois") or ())})
    report = ParcellationReport(ReportContext(
        title=f"Parcellation report: {parc.name}",
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        summary=summary, inputs=inputs, provenance={"nispace": __version__},
        parcellation={"name": parc.name, "spaces": parc.spaces, "n_parcels": parc.n_parcels,
                      "regions": regions, "excluded": []},
        methods=methods, figures=figures))
    if path is not None:
        report.save_as_html(path)
    return report
