"""Benchmark: workflows end to end, and the memory of a large XSEA run.

1. The seed notebook's ``colocalization(...)`` call (pain map, 14 PET UniqueTracers
   maps, Schaefer200, Spearman, ``alexander_bloch`` spins, meff correction) with
   ``n_perm=10000``: a first run (null maps generated and cached) and a warm run
   (data and null maps cached), as wall seconds. Target: warm < 5 s.
2. XSEA over all mRNA genes of the mirror (430 genes, Schaefer200) against the AN
   Hedges' g map with 10,000 spatial nulls of Y, ``n_proc=1``: wall time and the
   process's peak resident memory (``ru_maxrss``; target < 1.5 GB). The mirror's
   gene collection covers 33 genes, so for this run all genes are grouped into sets
   by the first letter of their symbol: an arbitrary grouping, used only to have
   every gene in some set.

Run::

    .venv/bin/python benchmarks/bench_workflow.py [--n-perm 10000] [--n-proc 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("NISPACE_DATA_URL", str(REPO.parent / "shared" / "nispace-data"))
os.environ.setdefault("NISPACE_DATA_DIR", str(Path(tempfile.gettempdir()) / "nispace-bench"))


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 ** 2


def seed_call(n_perm: int, n_proc: int) -> None:
    from nispace.datasets import fetch_example
    from nispace.io import load_img
    from nispace.workflows import colocalization

    pain_map = load_img(fetch_example("painmeta", verbose=False))
    for label in ("first run (nulls generated)", "warm run (all cached)"):
        t0 = time.perf_counter()
        nsp = colocalization(y={"Pain": pain_map}, x="pet", x_collection="UniqueTracers",
                             parcellation="Schaefer200", colocalization_method="spearman",
                             permute_kwargs={"p_tails": "upper"}, mc_method="meff",
                             n_perm=n_perm, seed=42, n_proc=n_proc, plot=False, verbose=False)
        print(f"seed colocalization(), n_perm={n_perm}, n_proc={n_proc}, {label}: "
              f"{time.perf_counter() - t0:.2f} s")
    print(f"  min p = {nsp.get_p_values().to_numpy().min():.5f}")


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-perm", type=int, default=10000)
    ap.add_argument("--n-proc", type=int, default=2)
    args = ap.parse_args()
    xsea_all_genes(args.n_perm)  # first, so that its peak memory is its own
    seed_call(args.n_perm, args.n_proc)


if __name__ == "__main__":
    main()
