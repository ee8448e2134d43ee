"""The package's import layers: the import-linter contracts hold and no module imports
itself back through others (function-local imports included)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import nispace

ROOT = Path(nispace.__file__).resolve().parents[1]

#: import cycles that are known and owned elsewhere; each entry must disappear when its
#: owner's branch is merged (the contract in pyproject.toml ignores the same import)
KNOWN_CYCLES: list[set[str]] = []


def module_cycles(graph) -> list[set[str]]:
    """Strongly connected sets of more than one module (Tarjan), i.e. import cycles."""
    adjacency = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in adjacency[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(component)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(adjacency):
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycle_between_any_two_modules():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("nispace")  # counts imports inside functions too
    cycles = [c for c in module_cycles(graph) if c not in KNOWN_CYCLES]
    assert cycles == [], f"import cycles: {[sorted(c) for c in cycles]}"


def test_the_cycle_finder_sees_a_cycle():
    class Graph:  # a -> b -> c -> a, d -> a
        edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
        modules = set(edges)

        def find_modules_directly_imported_by(self, m):
            return self.edges[m]

    assert module_cycles(Graph()) == [{"a", "b", "c"}]


def test_import_linter_contracts_hold():
    pytest.importorskip("importlinter")
    assert "[tool.importlinter]" in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        pytest.skip(f"lint-imports not installed next to {sys.executable}")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    done = subprocess.run([str(exe), "--no-cache"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
    for contract in ("Higher layers import lower ones", "stats and nulls import no",
                     "parcellation imports no plotting", "No import cycles"):
        assert f"{contract}" in done.stdout


def test_ci_runs_lint_imports_exactly_as_the_readme_says():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert ci in readme
    assert ".venv/bin/lint-imports && .venv/bin/python -m pytest" in ci


def test_parcellation_draws_through_the_higher_layers():
    from nispace.parcellation import Parcellation

    assert "plot" not in vars(Parcellation) and "generate_report" not in vars(Parcellation)
    import nibabel as nib
    import numpy as np

    labels = np.zeros((4, 4, 4), dtype=np.int32)
    labels[:2], labels[2:] = 1, 2
    parc = Parcellation.from_image(nib.Nifti1Image(labels, np.eye(4)), labels=["a", "b"])
    with pytest.raises(AttributeError, match=r"nispace\.plotting\.plot_parcellation\(parc"):
        parc.plot()
    with pytest.raises(AttributeError, match=r"nispace\.report\.parcellation_report\(parc"):
        parc.generate_report()
    with pytest.raises(AttributeError, match="has no attribute 'nonsense'"):
        parc.nonsense  # noqa: B018


def test_tests_cannot_reach_the_internet():
    import socket

    with socket.socket() as s, pytest.raises(OSError, match="never use the internet"):
        s.connect(("93.184.216.34", 80))  # a public address: refused before any packet
