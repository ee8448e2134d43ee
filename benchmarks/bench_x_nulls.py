"""Benchmark: spatial nulls of X, all mRNA genes x 10,000 spins (issue 15, target 1).

All genes of the mirror's mRNA reference (Schaefer200, NaN parcels included) against
the anorexia nervosa Hedges' g map, Spearman, ``alexander_bloch`` spins of X, warm
null cache. Interleaved in one process:

1. nispace ``NiSpace.permute(maps_which="X")`` (index nulls: dense keys ranked by
   counting, the target ranked once per distinct NaN mask, permutation rows by
   reordering the target);
2. the general path on the same cached nulls: every null map gathered and
   z-scored, ranked by sorting, colocalized by :func:`colocalize_batch` (the path
   before issue 15), with the p-values compared.

Targets: <= 15 s and <= 400 MB peak (traced allocations) for 10,000 spins.

A second, synthetic case checks the other direction: index nulls of one target
with NaN parcels (Y side) against 430 X maps with NaN parcels, 200 parcels, 500
nulls. The masked index shortcut counts the ranks of every X map over each null's
parcels (no sort per null, X maps in blocks); it must be no slower than the general
path (target: at most 1.5x its time, identical p-values).

Run::

    .venv/bin/python benchmarks/bench_x_nulls.py [--n-perm 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("NISPACE_DATA_URL", str(REPO.parent / "shared" / "nispace-data"))
os.environ.setdefault("NISPACE_DATA_DIR", str(Path(tempfile.gettempdir()) / "nispace-bench"))

from _common import interleaved, load, record, traced_peak_mb  # noqa: E402


class _Gathered:
    """Value nulls read from index nulls (hides the index shortcut: the old path)."""

    def __init__(self, nulls):
        self.nulls, self.n_perm = nulls, nulls.n_perm

    def chunk(self, start, stop):
        return self.nulls.chunk(start, stop)


def y_nulls_with_nan(repeats: int, n_x: int = 430, n: int = 200, n_perm: int = 500) -> None:
    """Y-side index nulls with NaN parcels against many X maps: engine vs general path."""
    from nispace.permute.maps import null_colocalizations_maps
    from nispace.permute.nullmaps import NullMaps
    from nispace.permute.spec import ColocSpec
    from nispace.stats.pvalues import null_to_p

    rng = np.random.default_rng(0)
    X = np.round(rng.normal(size=(n_x, n)), 1)
    X[:, rng.choice(n, 10, replace=False)] = np.nan
    Y = np.round(rng.normal(size=(1, n)), 1)
    Y[:, rng.choice(n, 5, replace=False)] = np.nan
    idx = np.stack([rng.permutation(n) for _ in range(n_perm)]).astype(np.int32)
    idx[::3, 0] = idx[::3, 1]                       # nearest-centroid style repeats
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "idx.npy", idx)
        nulls = NullMaps(labels=[0], n_perm=n_perm, kind="index",
                         files=[Path(tmp) / "idx.npy"], data=Y, standardize=True)
        spec = ColocSpec("spearman")
        out = {}

        def run_engine():
            out["fast"] = null_colocalizations_maps(spec, X, Y, None, nulls,
                                                    verbose=False)["rho"]

        def run_general():
            out["general"] = null_colocalizations_maps(spec, X, Y, None, _Gathered(nulls),
                                                       verbose=False)["rho"]

        times = interleaved({"engine": run_engine, "general path": run_general}, repeats)
        peak = traced_peak_mb(run_engine)
    observed = spec(X, Y)["rho"][0]
    same_p = np.array_equal(null_to_p(observed, out["fast"]),
                            null_to_p(observed, out["general"]))
    ratio = times["engine"] / times["general path"]
    record(f"Y nulls with NaN, 1 target x {n_x} X maps x {n_perm} nulls, {n} parcels",
           f"engine {times['engine']:.3f} s vs general path {times['general path']:.3f} s "
           f"({ratio:.2f}x), peak {peak:.0f} MB, p identical: {same_p}",
           "<= 1.5x the general path, identical p-values", ratio <= 1.5 and same_p)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-perm", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--general-n-perm", type=int, default=1000,
                    help="permutations for the interleaved comparison with the general "
                         "path (which takes minutes at 10,000)")
    ap.add_argument("--only-y", action="store_true",
                    help="run only the synthetic Y-nulls-with-NaN case (no mirror data)")
    args = ap.parse_args()
    y_nulls_with_nan(args.repeats)
    if args.only_y:
        return

    import pandas as pd

    from nispace.api import NiSpace
    from nispace.datasets import fetch_example, fetch_reference
    from nispace.permute.maps import null_colocalizations_maps
    from nispace.permute.models import null_model_for
    from nispace.permute.nullmaps import prepare_null_maps
    from nispace.stats.effectsize import hedges_g
    from nispace.stats.pvalues import null_to_p

    genes = fetch_reference("mrna", parcellation="Schaefer200", print_references=False,
                            verbose=False)
    an = fetch_example("anorexianervosa", parcellation="Schaefer200", verbose=False)
    groups = an.index.str[-2:]
    g = pd.DataFrame(hedges_g(an.to_numpy()[groups == "AN"], an.to_numpy()[groups == "HC"])
                     [None], index=["hedges"], columns=an.columns)
    nsp = NiSpace(x=genes, y=g, parcellation="Schaefer200", verbose=False).fit()
    nsp.colocalize("spearman")
    n_nan = int(np.isnan(nsp.x_.to_numpy()).any(axis=0).sum())
    print(f"{len(genes)} genes x {args.n_perm} spins, {nsp.x_.shape[1]} parcels "
          f"({n_nan} NaN in X); {load()}")

    def run_nispace(n_perm=args.n_perm):
        nsp.permute(maps_which="X", null_method="alexander_bloch", n_perm=n_perm, seed=1,
                    n_proc=1)

    run_nispace()  # generates and caches the nulls
    key = next(iter(nsp.colocalizations_))
    spec = nsp._coloc_spec(key)
    model, _ = null_model_for(nsp.parcellation_, "alexander_bloch",
                              keep=nsp._parcel_positions())
    x, y = nsp.x_.to_numpy(dtype=float), nsp.get_y().to_numpy(dtype=float)
    n_gen = min(args.general_n_perm, args.n_perm)
    nulls = prepare_null_maps(model, x, list(nsp.x_.index), n_gen, 1, standardize=True,
                              verbose=False)
    out = {}

    def run_general():
        out["general"] = null_colocalizations_maps(spec, x, y, _Gathered(nulls), None,
                                                   verbose=False)["rho"]

    def run_engine():
        out["fast"] = null_colocalizations_maps(spec, x, y, nulls, None, verbose=False)["rho"]

    run_nispace(n_gen)
    small = interleaved({"engine": run_engine, "general path": run_general}, args.repeats)
    full = interleaved({"nispace": run_nispace}, args.repeats)["nispace"]
    observed = spec(x, y)["rho"][0]
    same_p = np.array_equal(null_to_p(observed, out["fast"]),
                            null_to_p(observed, out["general"]))
    diff = float(np.nanmax(np.abs(out["fast"] - out["general"])))
    peak = traced_peak_mb(run_nispace)
    ratio = small["general path"] / small["engine"]
    print(f"median of {max(3, args.repeats)}: nispace permute {full:.2f} s at {args.n_perm}; "
          f"at {n_gen}: engine {small['engine']:.2f} s vs general path "
          f"{small['general path']:.2f} s ({ratio:.1f}x faster); p-values identical: "
          f"{same_p} (max |rho diff| {diff:.1e}); peak {peak:.0f} MB; {load()}")
    scale = 10000 / args.n_perm
    record(f"X nulls, {len(genes)} genes x {args.n_perm} spins (warm)",
           f"{full:.2f} s (-> {full * scale:.1f} s at 10,000), peak {peak:.0f} MB; "
           f"{ratio:.1f}x faster than the general path at {n_gen}, p identical: {same_p}",
           "<= 15 s and <= 400 MB at 10,000",
           full * scale <= 15 and peak <= 400 and same_p)


if __name__ == "__main__":
    main()
