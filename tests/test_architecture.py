"""Dependencies point one way: benchmarks -> baselines -> pugan; figures never import torch."""

import ast
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


def test_reporting_does_not_import_torch():
    for name in ("report.py", "metrics.py"):
        path = ROOT / "benchmarks" / name
        if path.exists():
            assert "torch" not in imported_top_modules("benchmarks")[f"benchmarks/{name}"]


def test_no_shared_folder_read_at_run_time():
    """The project must run without ../shared: no code path may point there."""
    for package in ("pugan", "baselines", "benchmarks"):
        for path in (ROOT / package).rglob("*.py"):
            assert "shared/data" not in path.read_text(), path
