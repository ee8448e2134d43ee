"""Data layer timings: cold download (HTTP on 127.0.0.1), warm cache, and distance matrices.

Usage::

    python benchmarks/bench_data_layer.py [path/to/nispace-data]

Prints wall-clock seconds; nothing is asserted.
"""

from __future__ import annotations

import functools
import http.server
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

MIRROR = Path(sys.argv[1] if len(sys.argv) > 1 else
              Path(__file__).resolve().parents[2] / "shared" / "nispace-data")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def timed(label: str, fn):
    t0 = time.perf_counter()
    out = fn()
    print(f"{label:<62} {time.perf_counter() - t0:8.3f} s")
    return out


def main() -> None:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(MIRROR)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["NISPACE_DATA_URL"] = f"http://127.0.0.1:{server.server_address[1]}/"
    os.environ["NISPACE_DATA_DIR"] = tempfile.mkdtemp(prefix="nispace-bench-")

    from nispace.datasets import download, fetch_parcellation, fetch_reference

    def all_pet():
        maps = fetch_reference("pet", print_references=False, verbose=False)
        tabs = [fetch_reference("pet", parcellation=p, print_references=False, verbose=False)
                for p in ["Schaefer100", "Schaefer200", "Schaefer400", "TianS1", "TianS2",
                          "TianS3", "DesikanKilliany", "HarvardOxfordCortical"]]
        return maps, tabs

    maps, _ = timed("cold: 28 PET maps + 8 PET tables (download + verify)", all_pet)
    size = sum(Path(m).stat().st_size for m in maps) / 1e6
    print(f"{'':<62} ({size:.1f} MB of maps)")
    timed("warm: same calls, cache verified in process", all_pet)
    download.clear_memo()
    timed("warm: same calls, fresh process state (re-hash every file)", all_pet)

    parc = fetch_parcellation("Schaefer400", verbose=False)
    timed("Schaefer400 MNI152NLin6Asym 1 mm: centroids + Euclidean distances",
          lambda: parc.get_dist_mat("MNI152NLin6Asym"))
    timed("Schaefer400 fsLR 32k: geodesic distances (first use)",
          lambda: parc.get_dist_mat("fsLR"))
    fresh = fetch_parcellation("Schaefer400", verbose=False)
    timed("Schaefer400 fsLR 32k: geodesic distances (disk cache)",
          lambda: fresh.get_dist_mat("fsLR"))
    server.shutdown()


if __name__ == "__main__":
    main()
