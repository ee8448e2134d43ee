"""Benchmark: dominance analysis of 19 predictors x 68 regions x 13 target maps.

The design of Hansen et al. (2022, Nat Neurosci): PET receptor maps explaining ENIGMA
cortical-thickness effect maps of disorders on the Desikan-Killiany atlas (68 regions)
by dominance analysis with adjusted R². Data: 19 of the mirror's PET maps (table
order) and the first 13 ENIGMA maps without missing regions, read from the offline
mirror (``--random`` or a missing mirror: normal random maps, fixed seed).

Two implementations, in one process, on the same arrays:

1. nispace: :func:`nispace.stats.dominance.dominance_analysis_batch` (sweep tree over
   all 2**19 subsets for all targets at once, then per-size sums);
2. a plain vectorised numpy all-subsets reference written here: for each subset
   size, gather the predictor correlation blocks ``G_SS`` and solve
   ``G_SS w = c_S`` for all 13 targets with ``numpy.linalg.solve`` (chunked), then
   the dominance statistics by explicit gains per predictor.

Both are warmed up, then run in turns ``--repeats`` times (at least 3,
:func:`_common.interleaved`); the script prints the median times, their ratio, the
largest difference between the two tables, and a PASS/FAIL row
(:func:`_common.record`) against the targets of issue 13 (nispace <= 2 s and <= 1.5x
the reference, tables equal to 1e-10).

Run::

    .venv/bin/python benchmarks/bench_dominance.py [--repeats 3] [--random]
"""

from __future__ import annotations

import argparse
import sys
from math import comb
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import interleaved, load, record  # noqa: E402

MIRROR = Path(__file__).resolve().parents[2] / "shared" / "nispace-data" / "reference"
PET = MIRROR / "pet" / "tab" / "dset-pet_parc-DesikanKilliany.csv.gz"
ENIGMA = MIRROR / "enigmathick" / "tab" / "dset-enigmathick_parc-DesikanKilliany.csv.gz"


def load_maps(n_x: int, n_y: int, use_random: bool) -> tuple[np.ndarray, np.ndarray, str]:
    """``X (n_x, 68)``, ``Y (n_y, 68)`` and a description of where they came from."""
    if not use_random and PET.exists() and ENIGMA.exists():
        import pandas as pd

        pet = pd.read_csv(PET, index_col=0)
        enigma = pd.read_csv(ENIGMA, index_col=0)
        enigma = enigma.loc[~enigma.isna().any(axis=1), pet.columns]
        if len(pet) >= n_x and len(enigma) >= n_y:
            return (pet.iloc[:n_x].to_numpy(float), enigma.iloc[:n_y].to_numpy(float),
                    f"mirror: {n_x} PET maps x {n_y} ENIGMA maps, Desikan-Killiany")
    rng = np.random.default_rng(2022)
    return (rng.normal(size=(n_x, 68)), rng.normal(size=(n_y, 68)),
            f"random normal maps (seed 2022): {n_x} x {n_y}")


def numpy_reference(X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
    """Adjusted-R² dominance by batched solves per subset size (plain numpy)."""
    p, n = X.shape
    xz = X - X.mean(axis=1, keepdims=True)
    xz /= np.linalg.norm(xz, axis=1, keepdims=True)
    yz = Y - Y.mean(axis=1, keepdims=True)
    yz /= np.linalg.norm(yz, axis=1, keepdims=True)
    gram, cross = xz @ xz.T, xz @ yz.T
    masks = np.arange(2**p)
    member = ((masks[:, None] >> np.arange(p)) & 1).astype(bool)
    sizes = member.sum(axis=1)
    r2 = np.zeros((2**p, Y.shape[0]))
    for k in range(1, p + 1):
        sel = masks[sizes == k]
        cols = np.nonzero(member[sel])[1].reshape(-1, k)
        for part in np.array_split(np.arange(sel.size), max(1, sel.size * k * k // 2_000_000)):
            c = cols[part]
            rhs = cross[c]                                               # (s, k, n_y)
            w = np.linalg.solve(gram[c[:, :, None], c[:, None, :]], rhs)
            r2[sel[part]] = np.einsum("skt,skt->st", rhs, w)
    adj = 1 - (1 - r2) * (n - 1) / (n - sizes[:, None] - 1)
    adj[0] = 0.0
    conditional = np.zeros((Y.shape[0], p, p))
    counts = np.array([comb(p - 1, k) for k in range(p)], dtype=float)
    for j in range(p):
        without = masks[~member[:, j]]
        gain = adj[without | (1 << j)] - adj[without]
        for k in range(p):
            conditional[:, j, k] = gain[sizes[without] == k].sum(axis=0) / counts[k]
    total = conditional.mean(axis=2)
    return {"sum": adj[-1], "total": total, "individual": adj[1 << np.arange(p)].T,
            "relative": total / adj[-1][:, None], "conditional": conditional}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-x", type=int, default=19)
    ap.add_argument("--n-y", type=int, default=13)
    ap.add_argument("--random", action="store_true", help="random maps instead of the mirror")
    args = ap.parse_args()

    from nispace.stats.dominance import dominance_analysis_batch

    X, Y, source = load_maps(args.n_x, args.n_y, args.random)
    print(f"data: {source}; {2**args.n_x:,} subsets, {args.repeats} repeats after a "
          f"warm-up; {load()}")
    out = {}

    def run_nispace():
        out["nispace"] = dominance_analysis_batch(X, Y, adjusted=True)

    def run_numpy():
        out["numpy"] = numpy_reference(X, Y)

    times = interleaved({"nispace": run_nispace, "numpy": run_numpy}, args.repeats)
    t_nispace, t_numpy = times["nispace"], times["numpy"]
    ours, ref = out["nispace"], out["numpy"]
    diff = max(float(np.max(np.abs(ours[k] - ref[k]))) for k in ref)
    ratio = t_nispace / t_numpy
    print(f"nispace dominance_analysis_batch: median {t_nispace:.3f} s")
    print(f"plain numpy all-subsets reference: median {t_numpy:.3f} s")
    print(f"ratio nispace / numpy: {ratio:.3f}; largest difference of the tables: {diff:.2e}")
    record(f"dominance, {args.n_x} predictors x {args.n_y} targets x 68 regions",
           f"{t_nispace:.3f} s vs plain numpy {t_numpy:.3f} s (ratio {ratio:.2f}), max "
           f"table difference {diff:.1e}", "<= 2 s, <= 1.5x numpy, tables equal to 1e-10",
           t_nispace <= 2.0 and ratio <= 1.5 and diff <= 1e-10)

if __name__ == "__main__":
    main()
