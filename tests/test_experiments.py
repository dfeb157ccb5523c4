"""Experiment scripts choose on development seeds: each defaults to them and refuses a report
seed unless told explicitly."""

import importlib
import pkgutil

import pytest

import benchmarks.experiments as experiments
from benchmarks.seeds import DEV_SEEDS, SeedError

SCRIPTS = sorted(m.name for m in pkgutil.iter_modules(experiments.__path__))
REQUIRED = {"pugan_eval": ["kddcup99-low"]}  # positional arguments some scripts need


def test_there_are_scripts_to_check():
    assert len(SCRIPTS) >= 5


def refused(module, argv, capsys, text: str) -> None:
    """``main`` refuses: it raises the SeedError, or, for a script that runs as a pugan-bench
    subcommand, the command line exits 2 naming it."""
    try:
        code = module.main(argv)
    except SeedError as exc:
        assert text in str(exc)
        return
    assert code == 2 and text in capsys.readouterr().err


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_refuses_report_seeds_and_defaults_to_development_seeds(name, monkeypatch, capsys):
    module = importlib.import_module(f"benchmarks.experiments.{name}")
    seen = {}

    def stop(args):  # the scripts' gate: record what it was asked, then stop before any work
        seen["seeds"] = args.seeds
        raise SeedError("stopped by the test")

    monkeypatch.setattr(module, "seeds_from_args", stop)
    refused(module, REQUIRED.get(name, []), capsys, "stopped by the test")
    assert set(seen["seeds"]) <= set(DEV_SEEDS)
    monkeypatch.undo()
    refused(module, [*REQUIRED.get(name, []), "--seeds", "0"], capsys, "report seeds")
