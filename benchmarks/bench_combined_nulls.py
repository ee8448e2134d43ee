"""Benchmark: null maps of a combined cortex + subcortex parcellation (issue 15, target 6).

Schaefer400TianS3 (400 cortical + 50 subcortical parcels), the PET UniqueTracers
maps of the mirror as X (14 maps), ``"spin+moran"`` nulls of X, 10,000 nulls,
through ``NiSpace.permute(maps_which="X")``. Measured: the size of the null cache
written by a cold run (fresh cache folder), the peak traced allocation (numpy
included) of the cold run, and the median warm time. The reference is the storage
before issue 15 (one float64 value file per map, ``14 x 10,000 x 450 x 8`` bytes),
computed, not written. The p-values of the warm run are compared with a colocalization
of the stitched values of ``SplitNullModel.values`` (the straightforward path) on
the first ``--check-n-perm`` nulls.

Targets: cache <= 60 MB, peak <= 400 MB.

Run::

    .venv/bin/python benchmarks/bench_combined_nulls.py [--n-perm 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("NISPACE_DATA_URL", str(REPO.parent / "shared" / "nispace-data"))
os.environ.setdefault("NISPACE_DATA_DIR", str(Path(tempfile.gettempdir()) / "nispace-bench"))

from _common import interleaved, load, record, traced  # noqa: E402


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-perm", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--check-n-perm", type=int, default=500)
    args = ap.parse_args()

    from nispace.api import NiSpace
    from nispace.datasets import fetch_example, fetch_parcellation, fetch_reference
    from nispace.io import load_img
    from nispace.permute import nullmaps
    from nispace.permute.maps import null_colocalizations_maps
    from nispace.permute.models import null_model_for
    from nispace.permute.nullmaps import ArrayNulls
    from nispace.stats.pvalues import null_to_p

    parc = fetch_parcellation("Schaefer400TianS3", verbose=False)
    pet = fetch_reference("pet", parcellation=parc, collection="UniqueTracers",
                          print_references=False, verbose=False)
    pain = load_img(fetch_example("painmeta", verbose=False))
    nsp = NiSpace(x=pet, y={"Pain": pain}, parcellation=parc, verbose=False).fit()
    nsp.colocalize("spearman")
    n_maps, n = nsp.x_.shape
    print(f"{n_maps} maps x {args.n_perm} nulls, Schaefer400TianS3 ({n} parcels); {load()}")

    cache = Path(tempfile.mkdtemp(prefix="nispace-bench-combined-"))
    old_dir = os.environ.get("NISPACE_DATA_DIR")
    # the cache folder follows NISPACE_DATA_DIR: a fresh one, so the cold run writes all
    shutil.copytree(Path(old_dir), cache / "data", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("cache"))
    os.environ["NISPACE_DATA_DIR"] = str(cache / "data")
    try:
        def run(n_perm=args.n_perm):
            nsp.permute(maps_which="X", null_method="spin+moran", n_perm=n_perm, seed=3,
                        n_proc=1)
            return nsp.get_p_values().to_numpy()

        cold, peak, _ = traced(run)
        size = folder_mb(cache / "data" / "cache" / "nulls")
        warm = interleaved({"warm": run}, args.repeats)["warm"]
        before = n_maps * args.n_perm * n * 8 / 1e6

        # equality: the engine on the stored parts vs the stitched values
        m = min(args.check_n_perm, args.n_perm)
        model, _ = null_model_for(nsp.parcellation_, "spin+moran",
                                  keep=nsp._parcel_positions())
        x, y = nsp.x_.to_numpy(dtype=float), nsp.get_y().to_numpy(dtype=float)
        nulls = nullmaps.prepare_null_maps(model, x, list(nsp.x_.index), m, 3,
                                           standardize=True, verbose=False)
        spec = nsp._coloc_spec(next(iter(nsp.colocalizations_)))
        from nispace.permute.spec import zscore_nulls
        root = np.random.SeedSequence(3)
        from nispace._random import chunk_bounds, chunk_seeds
        bounds = chunk_bounds(m, nullmaps.CHUNK_SIZE)
        seeds = chunk_seeds(3, len(bounds))
        stitched = np.stack([np.concatenate([
            model.values(row, b - a, nullmaps._map_seed(root, nullmaps.map_digest(row),
                                                        a // nullmaps.CHUNK_SIZE), s)
            for (a, b), s in zip(bounds, seeds)]) for row in x])
        fast = null_colocalizations_maps(spec, x, y, nulls, None, verbose=False)["rho"]
        plain = null_colocalizations_maps(spec, x, y, ArrayNulls(zscore_nulls(stitched)), None,
                                          verbose=False)["rho"]
        observed = spec(x, y)["rho"][0]
        same_p = np.array_equal(null_to_p(observed, fast), null_to_p(observed, plain))
    finally:
        os.environ["NISPACE_DATA_DIR"] = old_dir
        shutil.rmtree(cache, ignore_errors=True)
    print(f"cold {cold:.1f} s (traced), warm median {warm:.2f} s; cache {size:.1f} MB "
          f"(value files before: {before:.0f} MB); peak {peak:.0f} MB; p identical on "
          f"{m} nulls: {same_p}; {load()}")
    record(f"combined nulls, Schaefer400TianS3 x {n_maps} maps x {args.n_perm} (spin+moran)",
           f"cache {size:.1f} MB (was {before:.0f} MB), peak {peak:.0f} MB, cold {cold:.1f} s, "
           f"warm {warm:.2f} s, p identical: {same_p}",
           "cache <= 60 MB, peak <= 400 MB", size <= 60 and peak <= 400 and same_p)


if __name__ == "__main__":
    main()
