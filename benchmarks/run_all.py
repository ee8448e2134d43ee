"""Run the issue-15 benchmarks and write one table.

Each benchmark appends its verdict rows (:func:`_common.record`) to a JSON-lines
file; this script runs them one after the other (never in parallel: timings would
disturb each other), then writes a markdown table (benchmark, measured, target,
PASS/FAIL, peers, machine load) to ``--out`` and prints it.

Run::

    .venv/bin/python benchmarks/run_all.py [--quick] [--out bench_table.md]
        [--only bench_x_nulls ...] [--skip bench_spins bench_main_job ...]

``--only`` and ``--skip`` take script names (with or without ``.py``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: (script, arguments for a full run, arguments for --quick)
BENCHMARKS = [
    ("bench_x_nulls.py", ["--n-perm", "10000"], ["--n-perm", "1000"]),
    ("bench_masked.py", ["--n-perm", "10000"], ["--n-perm", "1000"]),
    ("bench_null_coloc.py", ["--n-perm", "10000"], ["--n-perm", "1000"]),
    ("bench_combined_nulls.py", ["--n-perm", "10000"], ["--n-perm", "1000"]),
    ("bench_workflow.py", ["--n-perm", "10000"], ["--n-perm", "10000", "--skip-xsea"]),
    ("bench_parallel.py", ["--sizes", "1000", "10000", "100000"], ["--sizes", "1000"]),
    ("bench_dominance.py", ["--repeats", "3"], ["--repeats", "3", "--n-x", "14"]),
    ("bench_spins.py", ["--n-perm", "10000"], ["--n-perm", "1000", "--n-peer", "200",
                                                "--n-vertex", "100"]),
    ("bench_main_job.py", ["--repeats", "3"], ["--repeats", "1", "--n-perm", "1000"]),
]


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    ap.add_argument("--out", default="bench_table.md")
    ap.add_argument("--only", nargs="+", default=None, metavar="SCRIPT",
                    help="run only these benchmarks")
    ap.add_argument("--skip", nargs="+", default=[], metavar="SCRIPT",
                    help="do not run these benchmarks")
    args = ap.parse_args()
    known = [script for script, _, _ in BENCHMARKS]

    def names(given):
        out = [g if g.endswith(".py") else f"{g}.py" for g in given]
        unknown = [g for g in out if g not in known]
        if unknown:
            ap.error(f"unknown benchmark(s) {unknown}; expected some of {known}")
        return out

    only = names(args.only) if args.only is not None else known
    skip = names(args.skip)
    started, start_load = _now(), _load()
    rows_file = Path(tempfile.mkstemp(prefix="nispace-bench-", suffix=".jsonl")[1])
    env = dict(os.environ, BENCH_TABLE=str(rows_file))
    for script, full, quick in BENCHMARKS:
        if script not in only or script in skip:
            continue
        cmd = [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        print("$", " ".join(cmd), flush=True)
        done = subprocess.run(cmd, env=env, check=False)
        if done.returncode:
            with open(rows_file, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"benchmark": script, "measured": "crashed",
                                     "target": "-", "verdict": "FAIL", "peers": "",
                                     "load": ""}) + "\n")
    rows = [json.loads(line) for line in rows_file.read_text().splitlines() if line]
    rows_file.unlink()
    lines = [f"Run {started} to {_now()} on {os.cpu_count()} cores; load averages (1, 5, "
             f"15 min) at the start {start_load}, at the end {_load()}.", "",
             "| benchmark | measured | target | verdict | peers | load |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['benchmark']} | {r['measured']} | {r['target']} | {r['verdict']} | "
              f"{r['peers']} | {r['load']} |" for r in rows]
    table = "\n".join(lines) + "\n"
    Path(args.out).write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
