"""Export a finished analysis: tidy tables, figures, ``results.json`` and the report.

:func:`export_results` writes everything a command-line run produces into one
folder::

    results.csv            one row per (method, statistic, Y map, X map): value, p,
                           corrected p (q), z against the null
    nulls_summary.csv      mean, SD and percentiles of every null distribution
    figures/*.png, *.svg   colocalization plot, null distributions, Y on the brain
    results.json           parameters and provenance (versions, data files + SHA-256)
    report.html            the self-contained report
    nispace.pkl            the NiSpace object (``nispace report DIR`` re-renders)
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import logging
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["tidy_results", "nulls_summary", "provenance", "reference_table", "export_results",
           "render_from_folder"]

logger = logging.getLogger("nispace.report")

_PACKAGES = ("numpy", "scipy", "pandas", "nibabel", "nilearn", "scikit-learn", "statsmodels",
             "joblib", "matplotlib")


def _long(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A (Y x X) frame as a long table indexed by y and the X level(s)."""
    out = frame.copy()
    cols = out.columns
    if isinstance(cols, pd.MultiIndex):
        out.columns = cols
    else:
        out.columns = pd.Index(cols, name="x" if cols.name in (None, "map") else cols.name)
    out.index = pd.Index([str(i) for i in out.index], name="y")
    long = out.stack(list(range(out.columns.nlevels)), future_stack=True).rename(name)
    return long.to_frame()


def tidy_results(nsp, key: str) -> pd.DataFrame:
    """One row per (statistic, Y map, X map) of the method ``key``: observed value and,
    once permuted, p, corrected p (``q``, from the last :meth:`correct_p`) and z."""
    info = nsp.permutations_.get(key)
    frames = info["observed"] if info else nsp.colocalizations_[key]
    parts = []
    for stat, obs in frames.items():
        cols = [_long(obs, "value")]
        if info and stat in nsp.p_values_[key]:
            cols.append(_long(nsp.p_values_[key][stat], "p"))
            tag = info.get("mc_method")
            if tag is not None:
                cols.append(_long(nsp.p_corrected_[key][tag][stat], "q"))
            cols.append(_long(nsp.z_values_[key][stat], "z"))
        part = pd.concat(cols, axis=1).reset_index()
        part.insert(0, "stat", stat)
        part.insert(0, "method", key)
        parts.append(part)
    return pd.concat(parts, ignore_index=True).rename(columns={"map": "x"})


def nulls_summary(nsp, key: str, percentiles=(2.5, 25, 50, 75, 97.5)) -> pd.DataFrame | None:
    """Mean, SD and percentiles of every null distribution of ``key`` (tidy)."""
    if key not in nsp.nulls_:
        return None
    info = nsp.permutations_[key]
    parts = []
    for stat, null in nsp.nulls_[key].items():
        obs = info["observed"][stat]
        summary = {"null_mean": np.nanmean(null, 0), "null_sd": np.nanstd(null, 0, ddof=1)}
        for q, v in zip(percentiles, np.nanpercentile(null, percentiles, axis=0)):
            summary[f"null_p{q:g}"] = v
        cols = [_long(pd.DataFrame(v, index=obs.index, columns=obs.columns), k)
                for k, v in summary.items()]
        part = pd.concat(cols, axis=1).reset_index()
        part.insert(0, "stat", stat)
        part.insert(0, "method", key)
        part["n_perm"] = null.shape[0]
        parts.append(part)
    return pd.concat(parts, ignore_index=True).rename(columns={"map": "x"})


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return str(value)


def provenance(nsp, command: str | None = None) -> dict:
    """Versions, parameters and every data file used (with SHA-256)."""
    from .._version import __version__
    from ..datasets import files_used, get_data_url

    packages = {}
    for name in _PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    perms = {}
    for key, info in nsp.permutations_.items():
        entry = {k: v for k, v in info.items() if k != "observed"}
        if isinstance(entry.get("mc_method"), tuple):
            entry["mc_method"], entry["mc_dimension"] = entry["mc_method"]
        perms[key] = entry
    return _jsonable({
        "nispace": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": packages,
        "command": command or " ".join(sys.argv),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "data_source": get_data_url(None),
        "data_files": sorted(files_used().items()),
        "parcellation": nsp.parcellation_.name,
        "parcellation_spaces": nsp.parcellation_.spaces,
        "n_parcels": int(nsp.get_x().shape[1]),
        "x": nsp.x if isinstance(nsp.x, str) else type(nsp.x).__name__,
        "x_collection": nsp.x_collection,
        "n_x": int(nsp.get_x(raw=True).shape[0]),
        "n_y": int(nsp.get_y(raw=True).shape[0]),
        "standardize": nsp.standardize,
        "seed": nsp.seed,
        "n_proc": nsp.n_proc,
        "transforms": nsp.transforms_,
        "colocalizations": {k: {"method": v["method"], "xsea": v["xsea"],
                                "xsea_aggr": v["xsea_aggr"],
                                "options": {kk: vv for kk, vv in v["options"].items()
                                            if isinstance(vv, (str, bool, int, float))}}
                            for k, v in nsp.coloc_params_.items()},
        "permutations": perms,
    })


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


def _figure_bytes(fig) -> tuple[bytes, str]:
    png, svg = io.BytesIO(), io.StringIO()
    fig.savefig(png, format="png", dpi=110, bbox_inches="tight")
    fig.savefig(svg, format="svg", bbox_inches="tight")
    return png.getvalue(), svg.getvalue()


def make_figures(nsp, keys: list[str], folder: Path) -> list[dict]:
    """Draw and save (PNG + SVG) the figures of an analysis; returns their records."""
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    out: list[dict] = []

    def save(fig, name: str, caption: str) -> None:
        png, svg = _figure_bytes(fig)
        (folder / f"{name}.png").write_bytes(png)
        (folder / f"{name}.svg").write_text(svg, encoding="utf-8")
        plt.close(fig)
        out.append({"name": name, "caption": caption, "png": png})

    for key in keys:
        fig, ax = nsp.plot(method=key)
        title = fig._suptitle.get_text() if fig._suptitle is not None else ax.get_title()
        save(fig, f"colocalizations_{key}", title or f"Colocalizations ({key})")
        if key in nsp.nulls_:
            info = nsp.permutations_[key]
            n_cols = info["observed"][nsp._main_stat(info["observed"], None)].shape[1]
            k = min(n_cols, 12)
            fig, _ = nsp.plot_nulls(method=key, maps=list(range(k)))
            save(fig, f"nulls_{key}",
                 f"Null distributions with the observed values ({key}; first {k} maps)")
    n_y = len(nsp.get_y())
    try:
        fig = nsp.plot_brain("Y", maps=list(range(min(n_y, 3))))
        save(fig, "brain_y", "Y map(s) on the brain (parcel values)")
    except Exception as err:  # noqa: BLE001 - a figure must not cost the results
        logger.warning("Could not draw the Y maps on the brain: %s", err)
    return out


def export_results(nsp, out_dir, *, command: str | None = None, figures: bool = True,
                   report: bool = True, warnings: list[str] | None = None) -> Path:
    """Write tables, figures, ``results.json``, ``report.html`` and ``nispace.pkl`` into
    ``out_dir`` (created if needed); returns the folder."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keys = list(nsp.colocalizations_)
    _write_csv(pd.concat([tidy_results(nsp, k) for k in keys], ignore_index=True),
               out / "results.csv")
    summaries = [s for s in (nulls_summary(nsp, k) for k in keys) if s is not None]
    if summaries:
        _write_csv(pd.concat(summaries, ignore_index=True), out / "nulls_summary.csv")
    prov = provenance(nsp, command)
    prov["warnings"] = list(warnings or [])
    _write_json(out / "results.json", prov)
    nsp.save(out / "nispace.pkl")
    figs = make_figures(nsp, keys, out / "figures") if figures else []
    if report:
        from .context import build_context
        from .html import write_report

        write_report(build_context(nsp, prov, figs, keys), out / "report.html")
    logger.info("Results written to %s", out)
    return out


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".part")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


def _write_json(path: Path, payload: dict) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(_jsonable(payload), indent=2), encoding="utf-8")
    os.replace(tmp, path)


def render_from_folder(folder, figures: bool = True) -> Path:
    """Re-render ``report.html`` (and the figures) from a results folder."""
    from ..api import NiSpace
    from .context import build_context
    from .html import write_report

    folder = Path(folder)
    pkl, js = folder / "nispace.pkl", folder / "results.json"
    for f in (pkl, js):
        if not f.is_file():
            raise FileNotFoundError(f"{f} not found: expected a folder written by a nispace "
                                    f"command (with nispace.pkl and results.json).")
    nsp = NiSpace.load(pkl)
    prov = json.loads(js.read_text(encoding="utf-8"))
    keys = list(nsp.colocalizations_)
    figs = make_figures(nsp, keys, folder / "figures") if figures else []
    return write_report(build_context(nsp, prov, figs, keys), folder / "report.html")
