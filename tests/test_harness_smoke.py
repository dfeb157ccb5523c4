"""End to end with real detectors: the shipped smoke config through the harness and the report."""

import json
from pathlib import Path

import pandas as pd

from benchmarks.config import load_config
from benchmarks.harness import run_sweep
from benchmarks.report import report

SMOKE = Path(__file__).resolve().parent.parent / "benchmarks" / "configs" / "smoke.yaml"


def test_smoke_config_runs_every_real_detector(tmp_path):
    cfg = load_config(SMOKE)
    df = run_sweep(cfg, tmp_path / "smoke", n_jobs=2, progress=False)
    assert len(df) == len(cfg.detectors)
    bad = df[df["status"] != "ok"][["detector", "status", "error"]]
    assert bad.empty, bad.to_string()
    assert df[["auroc", "auprc", "f1", "best_f1"]].notna().all().all()
    assert (df["n_train"] == df["n_train"].iloc[0]).all()  # one split for every detector
    assert set(df["supervision"]) >= {"unsupervised", "normals-only", "pu"}
    # versions recorded in every row
    assert (df["version_torch"] != "").all() and (df["version_pyod"] != "").all()
    # PU-GAN's rows say what it trained in on this processor; the others choose no arithmetic
    import torch

    from benchmarks.sweep import processor_summary
    from pugan.train import resolve_precision

    arithmetic = dict(zip(df["detector"], df["arithmetic"].fillna(""), strict=True))
    arithmetic_here = resolve_precision("auto", torch.device("cpu"))
    assert arithmetic.pop("pugan") == arithmetic_here
    assert set(arithmetic.values()) == {""}
    run = json.loads((tmp_path / "smoke" / "runs.jsonl").read_text())
    assert f"PU-GAN trains in {arithmetic_here}" in run["processor"]
    assert run["processor"] == processor_summary()
    written = report(tmp_path / "smoke", reports_dir=tmp_path / "reports", figures=False)
    t2 = pd.read_csv(tmp_path / "smoke" / "table2.csv")
    assert len(t2) == len(cfg.detectors) and tmp_path / "reports" / "smoke_table2.md" in written
