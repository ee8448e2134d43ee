"""Benchmark: n_proc=2 against n_proc=1, and 100,000 against 10,000 permutations.

The seed notebook's job (Spearman, the pain meta-analysis map against the PET maps,
Schaefer200, ``alexander_bloch`` nulls of Y, warm null cache), through
``NiSpace.permute`` with ``n_proc`` 1 and 2 interleaved, at each ``--sizes``.
Targets (issue 15): ``n_proc=2`` <= 1.05x ``n_proc=1`` at every size, identical
p-values; the largest size <= 10x the 10,000 time per 10x permutations.

Run::

    .venv/bin/python benchmarks/bench_parallel.py [--sizes 1000 10000 100000]
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from nispace.api import NiSpace
    from nispace.datasets import fetch_example, fetch_reference
    from nispace.io import load_img

    pet = fetch_reference("pet", parcellation="Schaefer200", collection="UniqueTracers",
                          print_references=False, verbose=False)
    pain = load_img(fetch_example("painmeta", verbose=False))
    nsp = NiSpace(x=pet, y={"Pain": pain}, parcellation="Schaefer200", verbose=False).fit()
    nsp.colocalize("spearman")
    print(f"{len(pet)} PET maps x 1 target; {load()}")
    medians = {}
    for n in args.sizes:
        p = {}

        def run(n_proc, n=n, p=p):
            nsp.permute(maps_which="Y", n_perm=n, seed=1, n_proc=n_proc)
            p[n_proc] = nsp.get_p_values().to_numpy()

        med = interleaved({1: lambda: run(1), 2: lambda: run(2)}, args.repeats)
        medians[n] = med[1]
        ratio = med[2] / med[1]
        same = np.array_equal(p[1], p[2], equal_nan=True)
        record(f"n_proc=2 vs 1, {n} permutations", f"{med[2]:.2f} s vs {med[1]:.2f} s "
               f"(ratio {ratio:.3f}), p identical: {same}", "<= 1.05", ratio <= 1.05 and same)
    if 10000 in medians and max(medians) > 10000:
        big = max(medians)
        factor = medians[big] / medians[10000]
        limit = big / 10000                              # linear scaling
        record(f"{big} vs 10000 permutations", f"{medians[big]:.2f} s vs "
               f"{medians[10000]:.2f} s (x{factor:.1f})", f"<= {limit:.0f}x (linear)",
               factor <= limit)


if __name__ == "__main__":
    main()
