"""Dependencies point one way: benchmarks -> baselines -> pugan; figures never import torch."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_top_modules(package: str) -> dict[str, set[str]]:
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        mods = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                mods |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                mods.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = mods
    return found


@pytest.mark.parametrize("package, forbidden", [
    ("pugan", {"baselines", "benchmarks"}),
    ("baselines", {"benchmarks"}),
])
def test_import_direction(package, forbidden):
    bad = {f: sorted(m & forbidden) for f, m in imported_top_modules(package).items()
           if m & forbidden}
    assert not bad, f"{package} must not import {sorted(forbidden)}: {bad}"


#: the modules that turn results into tables, figures and pages: a checkout without torch (or
#: a machine where importing it is slow) must still report
REPORTING = ("report", "figures", "curves", "html_report", "metrics")


def test_reporting_does_not_import_torch():
    """Neither at import, through any chain of modules (checked in a fresh interpreter), nor in
    a deferred import inside a function of a reporting module (read from its source). A
    missing module fails here rather than being skipped, so a rename cannot retire the check."""
    imports = imported_top_modules("benchmarks")
    for name in REPORTING:
        assert f"benchmarks/{name}.py" in imports, f"benchmarks/{name}.py is missing"
        assert "torch" not in imports[f"benchmarks/{name}.py"], name
    code = ("import sys\n"
            + "".join(f"import benchmarks.{name}\n" for name in REPORTING)
            + "sys.exit('torch imported' if 'torch' in sys.modules else 0)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_a_sweep_of_shallow_detectors_does_not_import_torch(tmp_path):
    """The run command asks of every detector whether it is a PU-GAN that trains in the
    machine's arithmetic; for shallow baselines that question must not load torch (seconds
    of every such run, in a fresh interpreter, for nothing)."""
    from helpers import write_sweep

    cfg = write_sweep(tmp_path / "s.yaml", ["iforest"], seeds=(0,), ratios=(0.1,))
    code = ("import sys\n"
            "from benchmarks.cli import main\n"
            f"code = main(['-q', 'run', {str(cfg)!r}, '--out', {str(tmp_path / 'out')!r}, "
            "'--n-jobs', '1', '--no-progress'])\n"
            "sys.exit(code or ('torch imported' if 'torch' in sys.modules else 0))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert (tmp_path / "out" / "results.csv").is_file()


def test_no_shared_folder_read_at_run_time():
    """The project must run with no data outside the repository: no code path may point at
    a data folder outside it."""
    for package in ("pugan", "baselines", "benchmarks"):
        for path in (ROOT / package).rglob("*.py"):
            assert "shared/data" not in path.read_text(), path


def benchmarks_modules_imported(path: Path) -> set[str]:
    """The ``benchmarks.<module>`` names a file imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = ([f"{node.module}.{a.name}" for a in node.names]
                     if node.module == "benchmarks" else [node.module])
        else:
            continue
        found |= {n.split(".")[1] for n in names
                  if n.startswith("benchmarks.") and len(n.split(".")) > 1}
    return found


#: the benchmarks modules each harness or config module may import: one job per module, and
#: dependencies that point one way (identity and errors at the bottom, the driver above the
#: cell runner, the documented facade on top)
ALLOWED_IMPORTS = {
    "errors": set(),
    "fingerprint": set(),                  # code and library versions: the leaf of both below
    "cells": {"fingerprint"},
    "scheduling": set(),
    "isolation": set(),                    # runs any function: knows no cell or detector
    "plugins": {"errors"},
    "yamlfile": {"errors"},                # how every YAML file is read
    "config": {"cells", "errors", "fingerprint", "plugins", "registry", "seeds", "splits",
               "datasets", "tuning", "yamlfile"},  # seeds: the bounds every seed list keeps
    "cache": {"metrics"},
    "cell_runner": {"cells", "fingerprint", "isolation", "metrics", "plugins", "registry",
                    "splits"},
    "results": {"cache", "cells", "metrics", "yamlfile"},
    "sweep": {"cache", "cell_runner", "cells", "config", "errors", "isolation", "registry",
              "results", "scheduling"},
    "harness": {"cache", "cell_runner", "sweep"},
}


@pytest.mark.parametrize("module", sorted(ALLOWED_IMPORTS))
def test_harness_and_config_modules_import_only_their_layer(module):
    imported = benchmarks_modules_imported(ROOT / "benchmarks" / f"{module}.py")
    extra = sorted(imported - ALLOWED_IMPORTS[module])
    assert not extra, f"benchmarks/{module}.py must not import benchmarks.{extra}"


def test_only_the_command_line_and_scripts_import_the_facade():
    """Code inside the package imports the module that does the job, not benchmarks.harness."""
    scanned = sorted((ROOT / "benchmarks").rglob("*.py"))  # perf/ and datasets/ included
    assert any(p.parent.name == "perf" for p in scanned)
    users = sorted(str(p.relative_to(ROOT)) for p in scanned
                   if p.stem != "harness" and "harness" in benchmarks_modules_imported(p))
    assert not users, users


def package_imports(package: str) -> dict[str, set[str]]:
    """For each module of ``package`` (a dotted name), the modules of the same package it imports.

    Module names are relative to the package (``"__init__"`` for the package itself). Imports
    inside functions count: a deferred import that closes a loop is still a loop.
    """
    folder = ROOT.joinpath(*package.split("."))
    graph = {}
    for path in sorted(folder.glob("*.py")):
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level == 1:  # from . import x / from .x import y
                    module = package + (f".{node.module}" if node.module else "")
                elif node.level == 0 and node.module:
                    module = node.module
                else:
                    continue
                names = [module] + [f"{module}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                if name == package:
                    targets.add("__init__")
                elif name.startswith(package + "."):
                    rest = name[len(package) + 1:].split(".")[0]
                    if (folder / f"{rest}.py").exists():
                        targets.add(rest)
        graph[path.stem] = targets - {path.stem}
    return graph


def import_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of ``graph`` as a list of modules (first = last), or [] when it has none."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        stack.pop()
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_import_cycle_finds_a_loop():
    assert import_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert import_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_dataset_modules_import_each_other_in_one_direction():
    """Loaders build on ``base``; only the dispatch in ``core`` imports the loaders."""
    graph = package_imports("benchmarks.datasets")
    assert {"__init__", "base", "core", "moons"} <= set(graph)  # the scan sees the package
    assert graph["base"] == set(), graph
    loaders = {"adbench", "kddcup99", "moons", "userfile"}
    assert loaders <= set(graph)
    assert {m for m, deps in graph.items() if deps & loaders} == {"core"}, graph
    cycle = import_cycle(graph)
    assert not cycle, f"benchmarks.datasets modules import each other in a loop: {cycle}"
