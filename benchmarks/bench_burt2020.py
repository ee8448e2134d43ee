"""Benchmark: nispace's distance-based surrogate nulls against neuromaps / BrainSMASH / BrainSpace.

Data: a real PET map (row ``--map`` of the parcellated "pet" reference, z-scored
across parcels) on Schaefer400.

1. **burt2020, main figure** -- all 400 parcels with the Euclidean distances between
   parcel centroids in MNI152NLin6Asym. neuromaps' ``nulls.burt2020`` cannot run this
   offline: its volumetric path calls ``fetch_atlas("MNI152")`` (a download) even with
   a precomputed ``distmat``. For parcellated data it runs
   ``brainsmash.mapgen.Base(data, dist, seed=seed)(n_perm, 50)``, so the peer here is
   exactly that call (BrainSMASH defaults, batches of 50).
2. **burt2020 through neuromaps itself** -- fsLR geodesic distances, which are
   ``inf`` between hemispheres: ``neuromaps.nulls.burt2020(data, atlas="fsLR",
   density="32k", parcellation=(lh, rh), distmat=(D_lh, D_rh), ...)`` runs ``Base``
   per hemisphere (200 parcels each). nispace runs per hemisphere too, and once on
   the whole 400 x 400 matrix (``inf`` = not a neighbour; one variogram fit shared by
   both hemispheres).
3. **moran and burt2018 (reference timings)** on the MNI distances: BrainSpace's
   ``MoranRandomization`` with the options neuromaps uses (``W = 1 / D`` with ones on
   the diagonal, ``joint=True``, ``tol=1e-6``) and neuromaps'
   ``nulls.burt.batch_surrogates`` (what ``neuromaps.nulls.burt2018`` runs, on the map
   shifted to positive values).

Variogram fit: for each surrogate, the mean squared error between its smoothed
variogram and the map's, both from BrainSMASH's ``Base.compute_smooth_variogram``
(one evaluator for both tools; de-meaned surrogates and the map differ only by a
constant, which the variogram ignores). Mean and median over surrogates are printed;
the distribution is heavy-tailed, so the main figure pools ``--fit-seeds`` seeds
(timed on the first).

All timings are wall seconds in this process (best of ``--repeats``), after the data
and distance matrices are loaded.

Run::

    .venv/bin/python benchmarks/bench_burt2020.py [--n-perm 1000] [--repeats 1]

``NISPACE_DATA_URL`` defaults to the mirror ``../shared/nispace-data`` beside the
checkout; ``NISPACE_DATA_DIR`` to a temporary folder when unset.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("NISPACE_DATA_URL", str(REPO.parent / "shared" / "nispace-data"))
if "NISPACE_DATA_DIR" not in os.environ:
    os.environ["NISPACE_DATA_DIR"] = tempfile.mkdtemp(prefix="nispace-bench-")


def timed(fn, repeats: int):
    """Best wall time of ``repeats`` calls and the last result."""
    best, result = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def variogram_mse(data: np.ndarray, dist: np.ndarray, surrogates: np.ndarray) -> np.ndarray:
    """Per-surrogate MSE to the map's variogram, with BrainSMASH's estimator."""
    from brainsmash.mapgen import Base

    evaluator = Base(data, dist)
    target = evaluator.compute_smooth_variogram(data)
    return np.array([np.mean((evaluator.compute_smooth_variogram(s) - target) ** 2)
                     for s in surrogates])


def report(label: str, seconds: float, mse: np.ndarray | None = None) -> None:
    fit = ("" if mse is None
           else f"   variogram MSE mean {mse.mean():.4g}, median {np.median(mse):.4g}")
    print(f"  {label:<44s} {seconds:8.2f} s{fit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-perm", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--map", type=int, default=0, help="row of the parcellated PET table")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fit-seeds", type=int, default=3,
                        help="seeds pooled for the variogram fit of the main figure")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    from brainsmash.mapgen import Base

    from nispace.datasets import fetch_parcellation, fetch_reference
    from nispace.nulls.burt import burt2018, burt2020
    from nispace.nulls.moran import moran

    n_perm, seed, reps = args.n_perm, args.seed, args.repeats
    table = fetch_reference("pet", parcellation="Schaefer400", verbose=False,
                            print_references=False)
    data = table.iloc[args.map].to_numpy(dtype=float)
    dist_mni = fetch_parcellation("Schaefer400", verbose=False).get_dist_mat("MNI152NLin6Asym")
    print(f"data source: {os.environ['NISPACE_DATA_URL']}")
    print(f"map: {table.index[args.map]} (Schaefer400, {data.size} parcels); "
          f"{n_perm} surrogates; seed {seed}; best of {reps}\n")

    # 1. burt2020 on all 400 parcels, Euclidean MNI distances -----------------------------
    print("burt2020, 400 parcels, Euclidean centroid distances (MNI152NLin6Asym)")
    t_ours, ours = timed(lambda: burt2020(data, dist_mni, n_perm, seed), reps)
    t_peer, peer = timed(lambda: Base(data, dist_mni, seed=seed)(n_perm, 50), reps)
    # the MSE distribution is heavy-tailed: pool several seeds for the fit figures
    mse_ours, mse_peer = [variogram_mse(data, dist_mni, ours)], [
        variogram_mse(data, dist_mni, peer)]
    for extra in range(1, args.fit_seeds):
        mse_ours.append(variogram_mse(data, dist_mni, burt2020(data, dist_mni, n_perm,
                                                                seed + extra)))
        mse_peer.append(variogram_mse(data, dist_mni,
                                      Base(data, dist_mni, seed=seed + extra)(n_perm, 50)))
    print(f"  (variogram MSE pooled over {args.fit_seeds} seed(s) x {n_perm} surrogates)")
    report("nispace burt2020", t_ours, np.concatenate(mse_ours))
    report("brainsmash Base(...)(n_perm, 50) [neuromaps]", t_peer, np.concatenate(mse_peer))
    print(f"  speed-up: {t_peer / t_ours:.1f}x\n")

    # 2. burt2020 via neuromaps on fsLR geodesic distances, per hemisphere ----------------
    try:
        from neuromaps.nulls import burt2020 as nm_burt2020
    except ImportError:
        nm_burt2020 = None
    parc = fetch_parcellation("Schaefer400", space="fsLR", verbose=False)
    dist_fslr = parc.get_dist_mat("fsLR")
    data_fslr = fetch_reference("pet", parcellation="Schaefer400", space="fsLR", verbose=False,
                                print_references=False).iloc[args.map].to_numpy(dtype=float)
    half = data_fslr.size // 2
    hemis = [slice(0, half), slice(half, None)]
    print(f"burt2020, fsLR geodesic distances ({half} + {half} parcels, inf between "
          f"hemispheres)")

    def per_hemisphere():
        return np.hstack([burt2020(data_fslr[h], dist_fslr[h, h], n_perm, seed) for h in hemis])

    t_hemi, ours_hemi = timed(per_hemisphere, reps)
    t_full, ours_full = timed(lambda: burt2020(data_fslr, dist_fslr, n_perm, seed), reps)

    def fit(surr):
        return np.concatenate([variogram_mse(data_fslr[h], dist_fslr[h, h], surr[:, h])
                               for h in hemis])

    report("nispace burt2020, per hemisphere", t_hemi, fit(ours_hemi))
    report("nispace burt2020, whole matrix (inf)", t_full, fit(ours_full))
    if nm_burt2020 is not None:
        lh, rh = parc.get_img("fsLR")
        t_nm, nm = timed(lambda: nm_burt2020(
            data_fslr, atlas="fsLR", density="32k", parcellation=(lh, rh),
            distmat=(dist_fslr[hemis[0], hemis[0]], dist_fslr[hemis[1], hemis[1]]),
            n_perm=n_perm, seed=seed), reps)
        report("neuromaps.nulls.burt2020 (per hemisphere)", t_nm, fit(nm.T))
        print(f"  speed-up (per hemisphere): {t_nm / t_hemi:.1f}x\n")
    else:
        print("  neuromaps not installed; skipped\n")

    # 3. reference timings: moran and burt2018 ---------------------------------------------
    print("moran and burt2018, 400 parcels, Euclidean centroid distances (MNI152NLin6Asym)")
    t, _ = timed(lambda: moran(data, dist_mni, n_perm, seed), reps)
    report("nispace moran (singleton)", t)
    try:
        from brainspace.null_models.moran import MoranRandomization

        def brainspace_moran():
            w = dist_mni.astype("float64")
            np.fill_diagonal(w, 1)
            w **= -1
            return MoranRandomization(joint=True, tol=1e-6, n_rep=n_perm,
                                      random_state=seed).fit(w).randomize(data)

        t, _ = timed(brainspace_moran, reps)
        report("BrainSpace MoranRandomization [neuromaps]", t)
    except ImportError:
        print("  brainspace not installed; skipped")
    t, ours18 = timed(lambda: burt2018(data, dist_mni, n_perm, seed), reps)
    report("nispace burt2018 (ML fit)", t, variogram_mse(data, dist_mni, ours18))
    try:
        from neuromaps.nulls.burt import batch_surrogates

        t, nm18 = timed(lambda: batch_surrogates(dist_mni, data + np.abs(data.min()) + 0.1,
                                                 n_surr=n_perm, seed=seed), reps)
        nm18 = nm18.T - (np.abs(data.min()) + 0.1)
        report("neuromaps batch_surrogates [burt2018]", t, variogram_mse(data, dist_mni, nm18))
    except ImportError:
        print("  neuromaps not installed; skipped")


if __name__ == "__main__":
    main()
