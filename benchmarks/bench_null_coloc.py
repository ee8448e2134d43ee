"""Benchmark: Spearman colocalizations with 10,000 null maps, and their p-values.

The job of a spin test after the nulls exist: one target map (the anorexia nervosa
example's Hedges' g map, Schaefer200) with 10,000 ``alexander_bloch`` spins, against
all PET maps of the mirror (28 here; the issue's figure is for 29). Three ways, in
one process, on the same null maps:

1. neuromaps: a loop of ``neuromaps.stats.compare_images(target, ref,
   metric="spearmanr", nulls=nulls)`` over the reference maps (``--peer-refs`` of
   them, extrapolated to all when fewer);
2. a plain numpy reference: rank every null once (scipy ``rankdata``), standardise,
   one matrix product, exact p-values;
3. nispace: ``NiSpace.permute(maps_which="Y", null_maps=...)``, the whole engine
   (chunks, batched ranking, p-values, z-scores), with ``n_proc`` 1 and 2.

The correlations of all three agree (printed). neuromaps 0.0.7 does not rank the
null maps for Spearman (it compares unranked nulls with the ranked reference; its
PR #224), so its p-values differ from the exact ones: the script prints how many.

Run::

    .venv/bin/python benchmarks/bench_null_coloc.py [--n-perm 10000] [--peer-refs 28]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("NISPACE_DATA_URL", str(REPO.parent / "shared" / "nispace-data"))
os.environ.setdefault("NISPACE_DATA_DIR", str(Path(tempfile.gettempdir()) / "nispace-bench"))


def numpy_reference(target_nulls: np.ndarray, refs: np.ndarray, observed: np.ndarray):
    from scipy.stats import rankdata

    r = rankdata(target_nulls, axis=1)
    r = (r - r.mean(1, keepdims=True)) / r.std(1, keepdims=True)
    x = rankdata(refs, axis=1)
    x = (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True)
    null = r @ x.T / refs.shape[1]
    p = (1 + (np.abs(null) >= np.abs(observed)).sum(0)) / (1 + len(null))
    return null, p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-perm", type=int, default=10000)
    ap.add_argument("--peer-refs", type=int, default=28,
                    help="reference maps run through neuromaps (extrapolated to all)")
    args = ap.parse_args()

    from nispace.api import NiSpace
    from nispace.datasets import fetch_example, fetch_parcellation, fetch_reference
    from nispace.nulls.spins import alexander_bloch
    from nispace.stats.effectsize import hedges_g

    an = fetch_example("anorexianervosa", parcellation="Schaefer200", verbose=False)
    groups = an.index.str[-2:]
    target = hedges_g(an.to_numpy()[groups == "AN"], an.to_numpy()[groups == "HC"])
    pet = fetch_reference("pet", parcellation="Schaefer200", print_references=False,
                          verbose=False)
    refs = pet.to_numpy()
    parc = fetch_parcellation("Schaefer200", space="fsLR", verbose=False)
    hemi = np.isin(np.arange(200), parc.get_hemi_indices("R")).astype(int)
    nulls = alexander_bloch(target, parc.get_centroids("fsLR"), hemi, args.n_perm, seed=1)
    n_refs = refs.shape[0]
    print(f"target: AN Hedges' g (Schaefer200); {n_refs} PET maps; {args.n_perm} spin nulls")

    from scipy.stats import spearmanr

    observed = np.array([spearmanr(target, x).statistic for x in refs])

    t0 = time.perf_counter()
    ref_null, ref_p = numpy_reference(nulls, refs, observed)
    t_np = time.perf_counter() - t0
    print(f"numpy reference (rank once, one matmul, p): {t_np:.3f} s")

    results = {}
    for n_proc in (1, 2):
        nsp = NiSpace(x=pet, y=target[None], y_labels=["g"], parcellation="Schaefer200",
                      standardize=False, verbose=False).fit()
        nsp.colocalize("spearman")
        t0 = time.perf_counter()
        nsp.permute(maps_which="Y", null_maps=nulls[None], n_perm=args.n_perm, n_proc=n_proc)
        results[n_proc] = time.perf_counter() - t0
        ours_null, ours_p = nsp.get_nulls()[:, 0, :], nsp.get_p_values().to_numpy()[0]
        print(f"nispace permute (n_proc={n_proc}): {results[n_proc]:.3f} s")
    print(f"  max |rho_null nispace - numpy| = {np.abs(ours_null - ref_null).max():.2e}; "
          f"p identical: {np.array_equal(ours_p, ref_p)}")

    from neuromaps.stats import compare_images

    k = min(args.peer_refs, n_refs)
    t0 = time.perf_counter()
    peer = [compare_images(target, refs[j], metric="spearmanr", nulls=nulls.T) for j in range(k)]
    t_peer = (time.perf_counter() - t0) * n_refs / k
    peer_r = np.array([r for r, _ in peer])
    peer_p = np.array([p for _, p in peer])
    note = "" if k == n_refs else f" (extrapolated from {k} maps)"
    print(f"neuromaps compare_images loop: {t_peer:.1f} s{note}")
    print(f"  max |r neuromaps - exact| = {np.abs(peer_r - observed[:k]).max():.2e}; "
          f"p differs from the exact (ranked-null) p for {int((~np.isclose(peer_p, ref_p[:k], atol=1.5/args.n_perm)).sum())}/{k} maps")
    best = min(results.values())
    print(f"ratios: neuromaps / nispace = {t_peer / best:.0f}x (target >= 100x); "
          f"nispace / numpy = {best / t_np:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
