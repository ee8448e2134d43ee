"""Shared helpers of the benchmarks: timing with warm-up and repeats, memory, verdicts.

Every benchmark warms up before timing, interleaves nispace and its reference in
the same process (so the machine's load hits both alike), reports the median of at
least three repeats and the ratio of the medians, and a PASS/FAIL against the
target of issue 15. ``record`` appends a row to ``BENCH_TABLE`` (a JSON-lines file)
when that environment variable is set; :mod:`run_all` collects them into one table.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable


def interleaved(fns: dict[str, Callable[[], object]], repeats: int = 3,
                warmup: bool = True) -> dict[str, float]:
    """Median wall time (s) of each callable, run in turns ``repeats`` times."""
    if warmup:
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(max(3, repeats)):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def interleaved_wall_cpu(fns: dict[str, Callable[[], object]], repeats: int = 3,
                         warmup: bool = True) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall time and median CPU time of this process (s) of each callable, run
    in turns ``repeats`` times (at least 3) after a warm-up call of each.

    CPU time counts the work done, whatever share of the cores the other users of a
    shared machine leave; it includes worker threads, not worker processes.
    """
    if warmup:
        for fn in fns.values():
            fn()
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(max(3, repeats)):
        for name, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return ({k: statistics.median(v) for k, v in wall.items()},
            {k: statistics.median(v) for k, v in cpu.items()})


def traced(fn: Callable[[], object]) -> tuple[float, float, object]:
    """Wall time (s), peak traced allocation (MB, numpy included) and result of one
    call of ``fn``."""
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t0
        return seconds, tracemalloc.get_traced_memory()[1] / 2**20, result
    finally:
        tracemalloc.stop()


def traced_peak_mb(fn: Callable[[], object]) -> float:
    """Peak traced allocation (MB, numpy included) of one call of ``fn``."""
    return traced(fn)[1]


def load() -> str:
    """The machine's load averages (shared machine: say what the load was)."""
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def record(name: str, measured: str, target: str, ok: bool, peers: str = "") -> None:
    """Print one verdict line and append it to the ``BENCH_TABLE`` file if set."""
    verdict = "PASS" if ok else "FAIL"
    print(f"[{verdict}] {name}: {measured} (target {target}){'; ' + peers if peers else ''}")
    path = os.environ.get("BENCH_TABLE")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"benchmark": name, "measured": measured, "target": target,
                                 "verdict": verdict, "peers": peers, "load": load()}) + "\n")
