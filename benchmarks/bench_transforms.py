"""Benchmark: projecting the 28 PET maps MNI152 -> fsLR 32k and parcellating them.

nispace: ``read_input(pet_paths, Schaefer200, space="fsLR")`` -- registration fusion
(RF-ANTs mappings of the ``regfusion`` package) to fsaverage 164k, area-weighted
adaptive barycentric resampling to fsLR 32k through the HCP spheres, parcellation on
fsLR. Reported: wall time of a cold call (meshes read, resampling weights built) and
of a warm call, peak Python memory (``tracemalloc``, numpy buffers included) and the
process' peak RSS, and per map the Pearson r between the projected and the volumetric
(Schaefer200 MNI152NLin6Asym) parcellation.

Peer: ``neuromaps.transforms.mni152_to_fslr`` is tried on the first map. It cannot run
offline here: it downloads its registration-fusion files from OSF
(``neuromaps.datasets.fetch_regfusion``) and calls Connectome Workbench's
``wb_command -volume-to-surface-mapping``, which is not installed; the script prints
which of the two stopped it.

``NISPACE_DATA_URL`` defaults to the mirror ``../shared/nispace-data`` beside the
checkout.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("NISPACE_DATA_URL", str(REPO.parent / "shared" / "nispace-data"))

from _common import traced  # noqa: E402


def _neuromaps(path) -> str:
    if shutil.which("wb_command") is None:
        return ("not run: Connectome Workbench's wb_command (needed by neuromaps' "
                "_vol_to_surf) is not installed, and its registration-fusion files are "
                "downloaded from OSF (no internet here)")
    try:  # pragma: no cover - needs Workbench and the network
        from neuromaps.transforms import mni152_to_fslr

        t0 = time.perf_counter()
        mni152_to_fslr(path)
        return f"{time.perf_counter() - t0:.2f} s for one map"
    except Exception as exc:  # report whatever stops it
        return f"not run: {type(exc).__name__}: {exc}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcellation", default="Schaefer200")
    args = parser.parse_args()
    logging.getLogger("nispace").setLevel(logging.ERROR)

    from nispace.datasets import fetch_parcellation, fetch_reference
    from nispace.io import read_input

    paths = [str(p) for p in fetch_reference("pet", space="MNI152NLin6Asym",
                                             print_references=False, verbose=False)]
    parc = fetch_parcellation(args.parcellation, verbose=False)
    print(f"data source: {os.environ['NISPACE_DATA_URL']}")
    print(f"{len(paths)} PET maps, parcellation {parc.name} ({parc.n_parcels} parcels)\n")

    cold = traced(lambda: read_input(paths, parc, name="x", space="fsLR", verbose=False))
    warm = traced(lambda: read_input(paths, parc, name="x", space="fsLR", verbose=False))
    volume = read_input(paths, parc, name="x", verbose=False).to_numpy()
    surface = warm[2].to_numpy()
    r = []
    for a, b in zip(surface, volume):
        ok = ~(np.isnan(a) | np.isnan(b))
        r.append(np.corrcoef(a[ok], b[ok])[0, 1])
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"nispace MNI152 -> fsLR 32k + parcellate, cold: {cold[0]:6.2f} s, "
          f"peak traced {cold[1]:7.1f} MiB")
    print(f"nispace MNI152 -> fsLR 32k + parcellate, warm: {warm[0]:6.2f} s, "
          f"peak traced {warm[1]:7.1f} MiB")
    print(f"process peak RSS: {rss:.0f} MiB")
    print(f"r(projected fsLR, volumetric MNI) per map: median {np.median(r):.3f}, "
          f"min {np.min(r):.3f}")
    print(f"neuromaps mni152_to_fslr: {_neuromaps(paths[0])}")


if __name__ == "__main__":
    main()
