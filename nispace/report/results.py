"""Export a finished analysis: tidy tables, figures, ``results.json``, the report and
the analysis in the open ``nispace-results`` format.

:func:`export_results` writes everything a command-line run produces into one
folder::

    results.csv            ``nsp.to_frame()``: one row per (method, permutation,
                           statistic, Y map, X map): value, p, corrected p (q), z
    nulls_summary.csv      mean, SD and percentiles of every null distribution
    figures/*.png, *.svg   colocalization plot, null distributions, Y on the brain
    results.json           parameters and provenance (versions, data files + SHA-256,
                           fit record, every result's parameters)
    report.html            the self-contained report (opens on the summary)
    references.bib         BibTeX of everything used (nispace, parcellation, datasets'
                           papers and maps, methods, null models, corrections)
    nispace/               the analysis (``NiSpace.save``; ``NiSpace.load`` and
                           ``nispace report DIR`` read it; never a pickle)

Everything is read from the result objects of :mod:`nispace.results`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import MissingFileError
from ..results.provenance import flat_label, jsonable, now, package_versions
from ..results.tidy import _long

__all__ = ["nulls_summary", "provenance", "export_results", "render_from_folder",
           "SAVE_FOLDER", "BIBTEX_FILE"]

logger = logging.getLogger("nispace.report")

#: sub-folder of a results folder holding the analysis in the open format
SAVE_FOLDER = "nispace"
#: BibTeX file of everything an analysis used, written beside ``report.html``
BIBTEX_FILE = "references.bib"


def _permutations(nsp) -> list:
    return [perm for kinds in nsp.permutations_.values() for perm in kinds.values()]


def nulls_summary(nsp, percentiles=(2.5, 25, 50, 75, 97.5)) -> pd.DataFrame | None:
    """Mean, SD and percentiles of every stored null distribution (tidy)."""
    parts = []
    for perm in _permutations(nsp):
        for stat, null in perm.nulls.items():
            obs = perm.observed[stat]
            summary = {"null_mean": np.nanmean(null, 0),
                       "null_sd": np.nanstd(null, 0, ddof=1)}
            for q, v in zip(percentiles, np.nanpercentile(null, percentiles, axis=0)):
                summary[f"null_p{q:g}"] = v
            cols = [_long(pd.DataFrame(v, index=obs.index, columns=obs.columns), k)
                    for k, v in summary.items()]
            part = pd.concat(cols, axis=1).reset_index()
            part.insert(0, "stat", stat)
            part.insert(0, "permute_what", perm.permute_what)
            part.insert(0, "method", perm.key)
            part["n_perm"] = null.shape[0]
            parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else None


def provenance(nsp, command: str | None = None) -> dict:
    """Versions, parameters, the fit record and every data file used (with SHA-256),
    and the parameters of every stored result, for ``results.json``."""
    from .._version import __version__
    from ..datasets import files_used, get_data_url
    from ..results.storage import parcellation_record

    parc = parcellation_record(nsp)
    files = dict(files_used())
    for result in [*nsp.colocalizations_.values(), *_permutations(nsp)]:
        files.update(result.provenance.get("data_files", {}))
    perms = []
    for perm in _permutations(nsp):
        entry = perm.describe()
        entry["corrections"] = [c.describe() for c in nsp.corrections_
                                if (c.key, c.permute_what) == (perm.key, perm.permute_what)]
        entry["created"] = perm.provenance.get("created")
        perms.append(entry)
    return jsonable({
        "nispace": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "command": command or " ".join(sys.argv),
        "created": now(),
        "data_source": get_data_url(None),
        "data_files": sorted(files.items()),
        "fit_record": getattr(nsp, "fit_record_", {}) or {},
        "parcellation": parc["name"],
        "parcellation_spaces": parc["spaces"],
        "n_parcels": int(nsp.get_x().shape[1]),
        "x": nsp.x if isinstance(nsp.x, str) else type(nsp.x).__name__,
        "x_collection": nsp.x_collection,
        "n_x": int(nsp.get_x(raw=True).shape[0]),
        "n_y": int(nsp.get_y(raw=True).shape[0]),
        "standardize": nsp.standardize,
        "seed": nsp.seed,
        "n_proc": nsp.n_proc,
        "transforms": nsp.transforms_,
        "colocalizations": {k: {"method": c.method, "xsea": c.xsea,
                                "xsea_aggr": c.xsea_aggr,
                                "options": {kk: vv for kk, vv in c.options.items()
                                            if isinstance(vv, (str, bool, int, float))},
                                "data": c.provenance.get("data"),
                                "created": c.provenance.get("created")}
                            for k, c in nsp.colocalizations_.items()},
        "permutations": perms,
    })


#: X maps per page of the null-distribution figure (every map is shown, on pages)
NULLS_PER_PAGE = 20
#: Y maps per page of the colocalization figure; more Y maps add a heatmap of all
Y_PER_PAGE = 20


def _figure_bytes(fig) -> tuple[bytes, str]:
    """PNG at 300 dpi and SVG (brain surfaces rasterized at 300 dpi inside it)."""
    from ..plotting.style import write_formats

    png, svg = io.BytesIO(), io.StringIO()
    write_formats(fig, [(png, "png"), (svg, "svg")])
    return png.getvalue(), svg.getvalue()


class _FigureJob(NamedTuple):
    """One figure to draw: its file name and ``draw() -> (figure, caption)`` (None:
    nothing to draw)."""

    name: str
    draw: Callable[[], tuple | None]


def make_figures(nsp, keys: list[str], folder: Path) -> list[dict]:
    """Draw and save (PNG + SVG) the figures of an analysis; returns their records.

    Without a parcellation (an object loaded from a saved analysis) the brain figure
    already in ``folder`` is reused.

    Parameters
    ----------
    nsp : NiSpace
        The analysis.
    keys : list of str
        The colocalization methods to draw.
    folder : Path
        Where the files are written (created).

    Returns
    -------
    list of dict
        ``{"name", "caption", "png"}`` of each figure in reading order.
    """
    from ..plotting.style import figure_style

    folder.mkdir(parents=True, exist_ok=True)
    jobs: list[_FigureJob] = []
    for key in keys:
        kinds = list(nsp.permutations_.get(key, {})) or [None]
        for what in kinds:
            suffix = f"_{what}" if len(kinds) > 1 else ""
            jobs += _colocalization_jobs(nsp, key, what, suffix)
            if what is None or not nsp.permutations_[key][what].nulls:
                continue
            perm = nsp.permutations_[key][what]
            n_cols = perm.observed[nsp._main_stat(perm.observed, None)].shape[1]
            starts = range(0, n_cols, NULLS_PER_PAGE)
            for page, start in enumerate(starts, 1):
                stop = min(start + NULLS_PER_PAGE, n_cols)
                part = f" (maps {start + 1}-{stop} of {n_cols})" if len(starts) > 1 else ""
                caption = (f"Null distributions with the observed values ({key}, {what}; all "
                           f"{n_cols} maps){part}")

                def nulls(key=key, what=what, maps=list(range(start, stop)), caption=caption):
                    with figure_style():
                        fig, _ = nsp.plot_nulls(method=key, permute_what=what, maps=maps)
                    return fig, caption

                jobs.append(_FigureJob(
                    f"nulls_{key}{suffix}" + (f"_page{page}" if len(starts) > 1 else ""),
                    nulls))
    jobs += _scatter_jobs(nsp, keys)
    brain = "Y map(s) on the brain (parcel values)"
    reused = None
    if getattr(nsp, "parcellation_", None) is None:
        png = folder / "brain_y.png"
        if png.is_file():
            reused = {"name": "brain_y", "caption": brain, "png": png.read_bytes()}
    else:
        n_y = len(nsp.get_y())

        def brain_figure():
            try:
                with figure_style():
                    fig = nsp.plot_brain("Y", maps=list(range(min(n_y, 3))),
                                         colorbar_label=_y_value_label(nsp))
            except Exception as err:  # noqa: BLE001 - a figure must not cost the results
                logger.warning("Could not draw the Y maps on the brain: %s", err)
                return None
            return fig, brain if n_y <= 3 else f"{brain}; the first 3 of {n_y} maps"

        jobs.append(_FigureJob("brain_y", brain_figure))
    out = _run_figure_jobs(jobs, folder)
    if reused is not None:
        return out + [reused]
    _write_json(folder / CAPTIONS_FILE, {f["name"]: f["caption"] for f in out})
    return out


def _write_figure(job: _FigureJob, folder: Path) -> dict | None:
    """Draw one figure, write its PNG and SVG into ``folder``, close it."""
    import matplotlib.pyplot as plt

    drawn = job.draw()
    if drawn is None:
        return None
    fig, caption = drawn
    try:
        png, svg = _figure_bytes(fig)
    finally:
        plt.close(fig)
    (folder / f"{job.name}.png").write_bytes(png)
    (folder / f"{job.name}.svg").write_text(svg, encoding="utf-8")
    return {"name": job.name, "caption": caption, "png": png}


def _run_figure_jobs(jobs: list[_FigureJob], folder: Path) -> list[dict]:
    """Run the figure jobs one after another; the records in the order of ``jobs``.

    Figures are drawn in this process only: matplotlib holds the GIL (threads do not
    help), and forked processes measured no faster on 2 loaded cores (the children's
    copy-on-write page faults cost what the parallel drawing saved)."""
    records = [_write_figure(job, folder) for job in jobs]
    return [rec for rec in records if rec is not None]


def _colocalization_jobs(nsp, key: str, what: str | None, suffix: str) -> list[_FigureJob]:
    """The colocalization figure of one result: one categorical plot for up to
    :data:`Y_PER_PAGE` Y maps; for more, a heatmap of every Y map x X map and the
    categorical plot on pages of :data:`Y_PER_PAGE` Y maps (a single figure with
    a dot per Y map in every row would be metres tall)."""
    from ..plotting.style import figure_style

    def drawn(caption: str, **kwargs):
        """``nsp.plot(**kwargs)`` and its caption (``{title}`` filled in)."""
        with figure_style():
            fig, ax = nsp.plot(method=key, permute_what=what, **kwargs)
        title = fig._suptitle.get_text() if fig._suptitle is not None else ax.get_title()
        return fig, caption.format(title=title or f"Colocalizations ({key})")

    name = f"colocalizations_{key}{suffix}"
    n_y = len(nsp.colocalizations_[key].stats[
        nsp._main_stat(nsp.colocalizations_[key].stats, None)].index)
    if n_y <= Y_PER_PAGE:
        return [_FigureJob(name, lambda: drawn("{title}"))]
    jobs = [_FigureJob(name, lambda: drawn(
        "{title}: all %d Y maps (rows) x X maps (columns)" % n_y, kind="heatmap"))]
    starts = range(0, n_y, Y_PER_PAGE)
    for page, start in enumerate(starts, 1):
        stop = min(start + Y_PER_PAGE, n_y)
        caption = (f"{{title}} (Y maps {start + 1}-{stop} of {n_y}, page {page} of "
                   f"{len(starts)})")
        jobs.append(_FigureJob(f"{name}_page{page}", lambda caption=caption, rows=list(
            range(start, stop)): drawn(caption, y_maps=rows)))
    return jobs


def _y_value_label(nsp) -> str:
    """Colorbar label of the Y maps: the name of the last Y transform (e.g.
    "Hedges' g"), else "Y value"."""
    from ..plotting import transform_label

    steps = [t["y"] for t in getattr(nsp, "transforms_", []) or [] if isinstance(t, dict)
             and isinstance(t.get("y"), str)]
    return transform_label(steps[-1]) if steps else "Y value"


#: figure captions beside the figures, so ``nispace report DIR --no-figures`` keeps them
CAPTIONS_FILE = "captions.json"


def existing_figures(folder: Path) -> list[dict]:
    """The figure records of a results folder as they are on disk (PNG bytes and the
    captions written by :func:`make_figures`; the file name where none is recorded)."""
    path = folder / CAPTIONS_FILE
    captions = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    names = list(captions) + sorted(p.stem for p in folder.glob("*.png")
                                    if p.stem not in captions)
    return [{"name": n, "caption": captions.get(n, n.replace("_", " ")),
             "png": (folder / f"{n}.png").read_bytes()}
            for n in names if (folder / f"{n}.png").is_file()]


def _scatter_jobs(nsp, keys: list[str]) -> list[_FigureJob]:
    """Y (first map) against the X map with the smallest p of the first permuted method
    (ties: the largest absolute colocalization among them; without p: the largest
    absolute colocalization), with the fitted line and p."""
    from ..plotting.style import figure_style

    if not keys or getattr(nsp, "x_", None) is None:
        return []
    key = next((k for k in keys if nsp.permutations_.get(k)), keys[0])
    result = nsp.colocalizations_[key]
    table = result.stats[nsp._main_stat(result.stats, None)]
    y_names, x_names = list(nsp.get_y().index), list(nsp.get_x().index)
    if table.index[0] not in y_names:
        return []  # pooled or set-level results: no single Y-vs-X pair to draw
    row = table.iloc[0]
    if nsp.permutations_.get(key) and len(nsp.permutations_[key]) == 1:
        perm = next(iter(nsp.permutations_[key].values()))
        p = perm.p[nsp._main_stat(perm.p, None)]
        row_p = p.loc[table.index[0]] if table.index[0] in p.index else None
        if row_p is None:
            best = row.astype(float).abs().idxmax()
        else:  # smallest p; among equal p (often the smallest possible) the strongest
            row_p = row_p.astype(float)
            tied = row_p.index[row_p == row_p.min()]
            best = row.loc[tied if len(tied) else row.index].astype(float).abs().idxmax()
    else:
        best = row.astype(float).abs().idxmax()
    if best not in x_names:
        return []
    map_id = best[-1] if isinstance(best, tuple) else best  # (set, map) columns
    x_name = nsp._x_display_names().get(str(map_id))
    if x_name is None:
        x_name = flat_label(best)
    elif isinstance(best, tuple):
        x_name = f"{flat_label(best[:-1])} · {x_name}"

    def scatter():
        try:
            with figure_style():
                fig, _ = nsp.plot_scatter(y_map=table.index[0], x_map=best, method=key)
        except Exception as err:  # noqa: BLE001 - a figure must not cost the results
            logger.warning("Could not draw the Y-vs-X scatter plot: %s", err)
            return None
        return fig, (f"{flat_label(table.index[0])} against {x_name}, one point per parcel, "
                     f"with the least-squares line ({key})")

    return [_FigureJob(f"scatter_{key}", scatter)]


def export_results(nsp, out_dir, *, command: str | None = None, figures: bool = True,
                   report: bool = True, warnings: list[str] | None = None) -> Path:
    """Write ``results.csv`` (:meth:`NiSpace.to_frame`), ``nulls_summary.csv``,
    ``results.json``, figures, ``report.html`` and the analysis in the open format
    (``nispace/``, see :meth:`NiSpace.save`) into ``out_dir`` (created if needed);
    returns the folder. Writes no pickle."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keys = list(nsp.colocalizations_)
    _write_csv(nsp.to_frame(), out / "results.csv")
    summary = nulls_summary(nsp)
    if summary is not None:
        _write_csv(summary, out / "nulls_summary.csv")
    prov = provenance(nsp, command)
    prov["warnings"] = list(warnings or [])
    _write_json(out / "results.json", prov)
    nsp.save(out / SAVE_FOLDER)
    figs = make_figures(nsp, keys, out / "figures") if figures else []
    if report:
        _write_report(nsp, prov, figs, keys, out)
    logger.info("Results written to %s", out)
    return out


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".part")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


def _write_json(path: Path, payload: dict) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(jsonable(payload), indent=2), encoding="utf-8")
    os.replace(tmp, path)


def render_from_folder(folder, figures: bool = True) -> Path:
    """Re-render ``report.html`` (and the figures) from a results folder.

    Reads only the open format (``DIR/nispace/`` and ``DIR/results.json``); never
    unpickles anything (a ``nispace.pkl`` left by an older nispace is ignored, with a
    WARNING)."""
    from ..api import NiSpace

    folder = Path(folder)
    saved, js = folder / SAVE_FOLDER, folder / "results.json"
    if (folder / "nispace.pkl").exists():
        logger.warning("Ignoring %s: nispace never unpickles results (a pickle can run "
                       "code); the report is rendered from %s.", folder / "nispace.pkl",
                       saved)
    for f in (saved, js):
        if not f.exists():
            raise MissingFileError(f"{f} not found: expected a folder written by a nispace "
                                   f"command (with {SAVE_FOLDER}/ and results.json).")
    nsp = NiSpace.load(saved)
    prov = json.loads(js.read_text(encoding="utf-8"))
    keys = list(nsp.colocalizations_)
    figs = (make_figures(nsp, keys, folder / "figures") if figures
            else existing_figures(folder / "figures"))
    return _write_report(nsp, prov, figs, keys, folder)


def _write_report(nsp, prov: dict, figs: list[dict], keys: list[str], out: Path) -> Path:
    """``report.html`` and, beside it, ``references.bib`` (linked from the report)."""
    from .context import build_context
    from .html import write_report

    saved_regions = out / SAVE_FOLDER / "parcellation_regions.csv"  # as NiSpace.load reads it
    regions = pd.read_csv(saved_regions) if saved_regions.is_file() else None
    ctx = build_context(nsp, prov, figs, keys, bibtex_href=BIBTEX_FILE, regions=regions)
    tmp = out / f"{BIBTEX_FILE}.part"
    tmp.write_text(ctx.bibtex, encoding="utf-8")
    os.replace(tmp, out / BIBTEX_FILE)
    return write_report(ctx, out / "report.html")
