"""Benchmark: nispace.io.parcellate_images against nilearn's NiftiLabelsMasker.

Parcellates the 28 PET maps of the data mirror (3 mm, MNI152NLin6Asym; several are
int32 with a scale factor) with Schaefer400 + TianS1 at 1 mm, in one process:

1. one 4D image (built once, before timing, for both tools);
2. map by map from the files: nilearn's usual pattern (``fit_transform`` per map),
   nilearn's fastest per-map pattern (``fit`` once, ``transform`` per map), and
   nispace with the list of paths.

Matching settings, so that both compute the same numbers:

* labels resampled onto the 3 mm data grid with nearest neighbour (nilearn's
  default ``resampling_target="data"``; nispace ``resampling_target="data"``, both
  through ``nilearn.image.resample_img``);
* mean over ALL voxels of a parcel: nilearn does not exclude background *values*
  (its ``background_label=0`` refers to the label image) and replaces NaN/inf by 0
  before averaging. nispace therefore runs with ``background=None`` (only NaN
  excluded; the PET maps have none) and ``strategy="mean"``;
* nilearn returns only the parcels still present after resampling; columns are
  matched by label value before comparing.

Each timing is the median of ``--repeats`` runs; the parcellation is fetched and
merged (and its 1 mm label image loaded) before any timing. nispace caches the
resampled labels only within one call, so every repeat resamples again.

Run::

    .venv/bin/python benchmarks/bench_parcellate.py [--repeats 3]

``NISPACE_DATA_URL`` defaults to the mirror ``../shared/nispace-data`` beside the
checkout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("NISPACE_DATA_URL", str(REPO.parent / "shared" / "nispace-data"))


def timed(fn, repeats: int):
    """Median wall time of ``repeats`` calls and the last result."""
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parcellation", default="Schaefer400TianS1")
    args = parser.parse_args()

    from nilearn.image import concat_imgs
    from nilearn.maskers import NiftiLabelsMasker

    from nispace.datasets import fetch_parcellation, fetch_reference
    from nispace.io import parcellate_images

    space = "MNI152NLin6Asym"
    paths = fetch_reference("pet", space=space, print_references=False, verbose=False)
    parc = fetch_parcellation(args.parcellation, verbose=False)
    labels_img = parc.get_img(space)
    parc.get_data(space)
    values = np.asarray(parc.get_label_values(space))
    print(f"data source: {os.environ['NISPACE_DATA_URL']}")
    print(f"{len(paths)} PET maps, parcellation {parc.name} ({parc.n_parcels} parcels, "
          f"{space} {labels_img.shape}), {args.repeats} repeat(s), median wall time\n")

    img4d = concat_imgs(paths, dtype=np.float64)  # concat_imgs' default float32 loses digits
    kwargs = dict(space=space, strategy="mean", background=None, verbose=False)

    def nilearn_4d():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            masker = NiftiLabelsMasker(labels_img)
            signals = masker.fit_transform(img4d)
        return signals, _region_ids(masker)

    def nilearn_per_map_fit_transform():
        rows = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            masker = NiftiLabelsMasker(labels_img)
            for p in paths:
                rows.append(np.ravel(masker.fit_transform(p)))
        return np.array(rows), _region_ids(masker)

    def nilearn_per_map_transform():
        rows = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            masker = NiftiLabelsMasker(labels_img).fit(paths[0])
            for p in paths:
                rows.append(np.ravel(masker.transform(p)))
        return np.array(rows), _region_ids(masker)

    t_n4, (sig4, ids4) = timed(nilearn_4d, args.repeats)
    t_o4, ours4 = timed(lambda: parcellate_images(img4d, parc, **kwargs), args.repeats)
    t_nft, (sig_ft, ids_ft) = timed(nilearn_per_map_fit_transform, args.repeats)
    t_nt, (sig_t, ids_t) = timed(nilearn_per_map_transform, args.repeats)
    t_op, ours_p = timed(lambda: parcellate_images(paths, parc, **kwargs), args.repeats)
    t_o1, ours_1 = timed(lambda: np.vstack([parcellate_images(p, parc, **kwargs)
                                            for p in paths]), args.repeats)

    def diff(ours, signals, ids):
        cols = np.searchsorted(values, ids)
        assert np.array_equal(values[cols], ids)
        missing = values.size - ids.size
        return float(np.max(np.abs(ours[:, cols] - signals))), missing

    rows = [
        ("one 4D image", t_n4, t_o4, *diff(ours4, sig4, ids4)),
        ("map by map: nilearn fit_transform per map", t_nft, t_op,
         *diff(ours_p, sig_ft, ids_ft)),
        ("map by map: nilearn fit once, transform per map", t_nt, t_op,
         *diff(ours_p, sig_t, ids_t)),
    ]
    print(f"{'case':<50} {'nilearn s':>10} {'nispace s':>10} {'ratio':>7} "
          f"{'max |diff|':>11} {'lost':>5}")
    for case, tn, to, d, missing in rows:
        print(f"{case:<50} {tn:10.3f} {to:10.3f} {tn / to:6.1f}x {d:11.2e} {missing:5d}")
    print(f"{'map by map: nispace one call per file (info)':<50} {'':>10} {t_o1:10.3f}")
    print("\nlost = parcels without a voxel on the 3 mm grid (absent from nilearn's output, "
          "NaN in nispace's)")
    print(f"nispace 4D vs list of paths vs one call per file: max |diff| = "
          f"{max(np.nanmax(np.abs(ours4 - ours_p)), np.nanmax(np.abs(ours_1 - ours_p))):.2e}")
    checks = [("4D: >= 3x faster than nilearn", t_n4 / t_o4 >= 3),
              ("map by map: >= 15x faster than nilearn fit_transform per map",
               t_nft / t_op >= 15),
              ("max |diff| <= 1e-5 in every case", all(r[3] <= 1e-5 for r in rows))]
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")


def _region_ids(masker) -> np.ndarray:
    """Label values of nilearn's output columns (``region_ids_[i]`` is column i)."""
    ids = masker.region_ids_
    return np.array([ids[i] for i in range(len(ids) - ("background" in ids))], dtype=np.int64)


if __name__ == "__main__":
    main()
