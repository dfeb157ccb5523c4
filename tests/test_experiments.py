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


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_refuses_report_seeds_and_defaults_to_development_seeds(name, monkeypatch):
    module = importlib.import_module(f"benchmarks.experiments.{name}")
    seen = {}

    def stop(args):  # the scripts' gate: record what it was asked, then stop before any work
        seen["seeds"] = args.seeds
        raise SeedError("stopped by the test")

    monkeypatch.setattr(module, "seeds_from_args", stop)
    with pytest.raises(SeedError):
        module.main(REQUIRED.get(name, []))
    assert set(seen["seeds"]) <= set(DEV_SEEDS)
    monkeypatch.undo()
    with pytest.raises(SeedError, match="report seeds"):
        module.main([*REQUIRED.get(name, []), "--seeds", "0"])
