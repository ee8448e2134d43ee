"""Benchmark: workflows end to end, and the memory of a large XSEA run.

1. The seed notebook's ``colocalization(...)`` call (pain map, 14 PET UniqueTracers
   maps, Schaefer200, Spearman, ``alexander_bloch`` spins, meff correction) with
   ``n_perm=10000``: a first run (null maps generated and cached), then the warm call
   (data and null maps cached) interleaved with a plain numpy implementation of the
   same statistics (:func:`numpy_reference`: read the cached spin indices, gather the
   null maps of X, average ranks by sorting over each pair's valid parcels,
   Spearman, upper-tail p-values, Galwey's Meff correction). The reference starts from
   the parcellated arrays in memory, so nispace's reading of the reference table and
   parcellation of the pain image count against it. Target (issue 15): warm nispace
   <= 1.3x the reference, median of the same run, same p-values.
2. XSEA over all mRNA genes of the mirror (430 genes, Schaefer200) against the AN
   Hedges' g map with 10,000 spatial nulls of Y, ``n_proc=1``: wall time and the
   process's peak resident memory (``ru_maxrss``; target < 1.5 GB). The mirror's
   gene collection covers 33 genes, so for this run all genes are grouped into sets
   by the first letter of their symbol: an arbitrary grouping, used only to have
   every gene in some set.

Run::

    .venv/bin/python benchmarks/bench_workflow.py [--n-perm 10000] [--n-proc 1] [--skip-xsea]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("NISPACE_DATA_URL", str(REPO.parent / "shared" / "nispace-data"))
os.environ.setdefault("NISPACE_DATA_DIR", str(Path(tempfile.gettempdir()) / "nispace-bench"))


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 ** 2


def average_ranks(a: np.ndarray) -> np.ndarray:
    """Average ranks along the last axis (ties share their mean rank; NaN stays NaN)."""
    flat = a.reshape(-1, a.shape[-1])
    rows, n = flat.shape
    order = np.argsort(flat, axis=1, kind="stable")          # NaN sort last
    ordered = np.take_along_axis(flat, order, axis=1)
    new_group = np.ones((rows, n), dtype=bool)
    new_group[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    group = np.cumsum(new_group, axis=1) + (np.arange(rows) * (n + 1))[:, None]
    position = np.broadcast_to(np.arange(1.0, n + 1), (rows, n))
    mean_pos = (np.bincount(group.ravel(), position.ravel(), minlength=rows * (n + 1))
                / np.maximum(np.bincount(group.ravel(), minlength=rows * (n + 1)), 1))
    out = np.empty_like(flat)
    np.put_along_axis(out, order, mean_pos[group], axis=1)
    out[np.isnan(flat)] = np.nan
    return out.reshape(a.shape)


def spearman_pairwise(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman of each map of ``X`` (b, n_x, n) with ``y`` (n,) over the parcels valid in
    both: ``(b, n_x)``."""
    w = ~np.isnan(X) & ~np.isnan(y)
    xr = average_ranks(np.where(w, X, np.nan))
    yr = average_ranks(np.where(w, y, np.nan))
    mid = (w.sum(axis=-1, keepdims=True) + 1) / 2
    xc, yc = np.where(w, xr - mid, 0.0), np.where(w, yr - mid, 0.0)
    return (xc * yc).sum(-1) / np.sqrt((xc * xc).sum(-1) * (yc * yc).sum(-1))


def numpy_reference(X: np.ndarray, y: np.ndarray, idx_file: Path, chunk: int = 500):
    """The seed call's statistics in plain numpy from the parcellated maps ``X`` (n_x, n)
    and ``y`` (n,) and the cached spin indices of X (the seed call permutes X): observed
    rho, null rho, upper-tail p, Galwey-Meff-corrected p."""
    idx = np.load(idx_file, allow_pickle=False)
    observed = spearman_pairwise(X[None], y)[0]
    null = np.empty((idx.shape[0], X.shape[0]))
    for a in range(0, idx.shape[0], chunk):
        rows = idx[a:a + chunk]
        nulls = np.where(rows[:, None, :] >= 0, X[:, np.maximum(rows, 0)].transpose(1, 0, 2),
                         np.nan)
        null[a:a + chunk] = spearman_pairwise(nulls, y)
    ok = ~np.isnan(null)
    p = (1 + ((null >= observed) & ok).sum(0)) / (1 + ok.sum(0))
    lam = np.clip(np.linalg.eigvalsh(np.corrcoef(X)), 0, None)
    m_eff = np.sqrt(lam).sum() ** 2 / lam.sum()
    return observed, null, p, 1 - (1 - p) ** m_eff


def seed_call(n_perm: int, n_proc: int, repeats: int = 3) -> None:
    from _common import interleaved, load, record
    from nispace.datasets import fetch_example
    from nispace.io import load_img
    from nispace.permute.models import null_model_for
    from nispace.permute.nullmaps import prepare_null_maps
    from nispace.workflows import colocalization

    pain_map = load_img(fetch_example("painmeta", verbose=False))
    out = {}

    def run_nispace():
        out["nsp"] = colocalization(y={"Pain": pain_map}, x="pet",
                                    x_collection="UniqueTracers", parcellation="Schaefer200",
                                    colocalization_method="spearman",
                                    permute_kwargs={"p_tails": "upper"}, mc_method="meff",
                                    n_perm=n_perm, seed=42, n_proc=n_proc, plot=False,
                                    verbose=False)

    t0 = time.perf_counter()
    run_nispace()
    print(f"seed colocalization(), n_perm={n_perm}, n_proc={n_proc}, first run (nulls "
          f"generated or found): {time.perf_counter() - t0:.2f} s")
    nsp = out["nsp"]
    X, y = nsp.x_.to_numpy(dtype=float), nsp.get_y().to_numpy(dtype=float)[0]
    model, _ = null_model_for(nsp.parcellation_, "alexander_bloch",
                              keep=nsp._parcel_positions(),
                              space=nsp.fit_record_.get("geometry_space"))
    nulls = prepare_null_maps(model, X, list(nsp.x_.index), n_perm, 42, verbose=False)
    assert nulls.kind == "index", nulls.kind

    def run_reference():
        out["ref"] = numpy_reference(X, y, nulls.files[0])

    med = interleaved({"nispace": run_nispace, "numpy": run_reference}, repeats)
    obs, null, p_ref, _ = out["ref"]
    p = out["nsp"].get_p_values().to_numpy()[0]
    diff = float(np.nanmax(np.abs(np.asarray(out["nsp"].get_nulls(stat="rho"))[:, 0, :] - null)))
    same_p = np.array_equal(p, p_ref)
    ratio = med["nispace"] / med["numpy"]
    record(f"seed colocalization(), {n_perm} permutations, warm, n_proc={n_proc}",
           f"nispace {med['nispace']:.2f} s vs numpy reference {med['numpy']:.2f} s "
           f"({ratio:.2f}x); p identical: {same_p} (max |rho diff| {diff:.1e})",
           "<= 1.3x the numpy reference", ratio <= 1.3 and same_p,
           peers=f"numpy reference {med['numpy']:.2f} s")
    print(f"  min p = {p.min():.5f}; {load()}")


def xsea_all_genes(n_perm: int) -> None:
    import pandas as pd

    from nispace.datasets import fetch_example, fetch_reference
    from nispace.stats.effectsize import hedges_g
    from nispace.workflows import xsea

    genes = fetch_reference("mrna", parcellation="Schaefer200", print_references=False,
                            verbose=False)
    names = genes.index.get_level_values(-1).astype(str)
    genes.index = pd.MultiIndex.from_arrays([names.str[0].str.upper(), names],
                                            names=["set", "map"])
    an = fetch_example("anorexianervosa", parcellation="Schaefer200", verbose=False)
    groups = an.index.str[-2:]
    g = pd.DataFrame(hedges_g(an.to_numpy()[groups == "AN"], an.to_numpy()[groups == "HC"])
                     [None], index=["hedges"], columns=an.columns)
    before = peak_rss_mb()
    t0 = time.perf_counter()
    nsp = xsea(y=g, x=genes, parcellation="Schaefer200", n_perm=n_perm, seed=1, n_proc=1,
               plot=False, verbose=False)
    wall = time.perf_counter() - t0
    print(f"XSEA, {len(genes)} genes in {genes.index.get_level_values('set').nunique()} sets, "
          f"n_perm={n_perm}, n_proc=1: {wall:.1f} s; peak RSS {peak_rss_mb():.0f} MB "
          f"(before the run: {before:.0f} MB; target < 1536 MB)")
    print(f"  stored nulls: {nsp.get_nulls().nbytes / 1e6:.1f} MB")
    from _common import record

    peak = peak_rss_mb()
    record(f"XSEA, {len(genes)} genes x {n_perm} nulls of Y, n_proc=1 (one run)",
           f"{wall:.1f} s, peak RSS {peak:.0f} MB", "peak RSS < 1536 MB", peak < 1536)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-perm", type=int, default=10000)
    ap.add_argument("--n-proc", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-xsea", action="store_true", help="only the seed call")
    args = ap.parse_args()
    if not args.skip_xsea:
        xsea_all_genes(args.n_perm)  # first, so that its peak memory is its own
    seed_call(args.n_perm, args.n_proc, args.repeats)


if __name__ == "__main__":
    main()
