"""Benchmark: the masked path (NaN parcels) against the NaN-free path on the same data.

NaN parcels (maps without data in some parcels, spun maps landing on them) send the
colocalization of null maps through masked kernels: every null keeps its own set of
parcels, so ranks cannot simply be reordered. Each case below times
``NiSpace.permute`` (Spearman, Schaefer200, ``alexander_bloch`` spins, warm null
cache, ``n_proc=1``) on the maps as they are (with NaN parcels) and on the same maps
with their NaN parcels filled with values drawn once from a normal distribution of
the maps' mean and SD (NaN-free: the shortcut paths), interleaved in one process:

- ``X nulls``: all mRNA genes of the mirror (430, 9 NaN parcels) against the anorexia
  nervosa Hedges' g map, nulls of X;
- ``Y nulls, few X``: the pain meta-analysis map (29 NaN parcels) against the 14 PET
  UniqueTracers maps, nulls of Y (every null has its own NaN parcels);
- ``Y nulls, many X``: the Hedges' g map against the 430 genes (the genes hold the NaN
  parcels), nulls of Y, as in XSEA.

Target (issue 15): masked <= 2x the NaN-free time (ratio of the medians) in each case.

Run::

    .venv/bin/python benchmarks/bench_masked.py [--n-perm 10000] [--repeats 3]
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

from _common import interleaved, load, record  # noqa: E402


def filled(frame, seed: int = 0):
    """A copy of ``frame`` with its NaN values replaced by normal draws (the frame's
    mean and SD); the frame itself is not modified."""
    import pandas as pd

    values = frame.to_numpy(dtype=float).copy()
    nan = np.isnan(values)
    rng = np.random.default_rng(seed)
    values[nan] = rng.normal(np.nanmean(values), np.nanstd(values), size=int(nan.sum()))
    return pd.DataFrame(values, index=frame.index, columns=frame.columns)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-perm", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import pandas as pd

    from nispace.api import NiSpace
    from nispace.datasets import fetch_example, fetch_reference
    from nispace.io import load_img
    from nispace.stats.effectsize import hedges_g

    genes = fetch_reference("mrna", parcellation="Schaefer200", print_references=False,
                            verbose=False)
    pet = fetch_reference("pet", parcellation="Schaefer200", collection="UniqueTracers",
                          print_references=False, verbose=False)
    an = fetch_example("anorexianervosa", parcellation="Schaefer200", verbose=False)
    groups = an.index.str[-2:]
    g = pd.DataFrame(hedges_g(an.to_numpy()[groups == "AN"], an.to_numpy()[groups == "HC"])
                     [None], index=["hedges"], columns=an.columns)
    pain = NiSpace(x=pet, y={"Pain": load_img(fetch_example("painmeta", verbose=False))},
                   parcellation="Schaefer200", verbose=False).fit().get_y()
    cases = {
        "X nulls, 430 genes vs 1 target": ("X", (genes, g), (filled(genes), g)),
        "Y nulls, 1 target vs 14 PET maps": ("Y", (pet, pain), (pet, filled(pain))),
        "Y nulls, 1 target vs 430 genes": ("Y", (genes, g), (filled(genes), g)),
    }
    print(f"{args.n_perm} permutations; {load()}")
    for name, (side, masked, clean) in cases.items():
        objs = {}
        for kind, (x, y) in (("masked", masked), ("NaN-free", clean)):
            nsp = NiSpace(x=x, y=y, parcellation="Schaefer200", verbose=False).fit()
            objs[kind] = nsp.colocalize("spearman")
        n_nan = {k: int(np.isnan(np.vstack([o.x_.to_numpy(float), o.get_y().to_numpy(float)]))
                        .any(axis=0).sum()) for k, o in objs.items()}

        def run(kind, objs=objs, side=side):
            objs[kind].permute(maps_which=side, null_method="alexander_bloch",
                               n_perm=args.n_perm, seed=1, n_proc=1)

        med = interleaved({k: (lambda k=k: run(k)) for k in objs}, args.repeats)
        ratio = med["masked"] / med["NaN-free"]
        record(f"masked vs NaN-free, {name}, {args.n_perm} permutations",
               f"masked ({n_nan['masked']} NaN parcels) {med['masked']:.2f} s vs NaN-free "
               f"{med['NaN-free']:.2f} s (ratio {ratio:.2f})", "<= 2", ratio <= 2)
    print(load())


if __name__ == "__main__":
    main()
