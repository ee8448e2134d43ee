"""Benchmark: the README's main job (issue 14), warm, from the command line.

``nispace group-colocalize`` of the anorexia nervosa example (Hedges' g, Schaefer200)
against the 14 PET UniqueTracers maps with 10,000 group permutations, ``--n-proc 2``,
tables, figures and report, as in README "Set-up on a fresh machine". One run fills
the cache (not timed); then the job runs ``--repeats`` times in a fresh process
each (the data cache and Python's bytecode cache warm, as on an installed
system). Printed: median wall seconds and median CPU seconds (user + system of the
process and its workers), the time of ``python -c "import numpy"`` as a yardstick
of the machine's load, and PASS/FAIL against 6 s wall.

Run::

    .venv/bin/python benchmarks/bench_main_job.py [--repeats 3] [--n-perm 10000]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load, record  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 6.0


def _timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """Wall and CPU (user + system of the child and its children) seconds of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-perm", type=int, default=10000)
    ap.add_argument("--n-proc", type=int, default=2)
    args = ap.parse_args()
    env = dict(os.environ)
    env.setdefault("NISPACE_DATA_URL", str(REPO.parent / "shared" / "nispace-data"))
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    load_before = load()
    with tempfile.TemporaryDirectory(prefix="nispace-main-job-") as tmp:
        env.setdefault("NISPACE_DATA_DIR", str(Path(tmp) / "cache"))
        # warm as an installed nispace is: bytecode compiled by the first run (into the
        # temporary folder, the work tree stays clean) even where the shell sets
        # PYTHONDONTWRITEBYTECODE (it would add ~0.3 s of compiling to every run)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")

        def job(out: str) -> list[str]:
            return [sys.executable, "-m", "nispace.cli", "group-colocalize",
                    "--y", "example:anorexianervosa", "--groups-regex", "(AN|HC)$",
                    "--x", "pet", "--x-collection", "UniqueTracers",
                    "--parcellation", "Schaefer200", "--n-perm", str(args.n_perm),
                    "--seed", "42", "--n-proc", str(args.n_proc),
                    "--out", str(Path(tmp) / out)]

        _timed(job("cold"), env)  # fills the cache
        runs = [_timed(job(f"warm{i}"), env) for i in range(args.repeats)]
        numpy = statistics.median(
            _timed([sys.executable, "-c", "import numpy"], env)[0] for _ in range(3))
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    print(f"main job warm: median wall {wall:.2f} s, median CPU {cpu:.2f} s "
          f"({args.repeats} runs: " + ", ".join(f"{w:.2f}/{c:.2f}" for w, c in runs)
          + f" s wall/CPU); 'import numpy' {numpy:.2f} s; before: {load_before}; "
          f"after: {load()}")
    record("main job (README), warm", f"{wall:.2f} s wall, {cpu:.2f} s CPU",
           f"<= {TARGET_S:g} s wall", wall <= TARGET_S,
           peers=f"python -c 'import numpy': {numpy:.2f} s")


if __name__ == "__main__":
    main()
