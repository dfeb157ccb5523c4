"""docs/plugins.md's complete plugin works as written: the contract holds and a sweep runs."""

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from benchmarks.config import load_config
from benchmarks.contract import check_detector
from benchmarks.harness import run_sweep

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "plugins.md"


def test_the_documented_plugin_passes_the_contract_and_runs(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    plugin = next(b for b in blocks if b.startswith("# my_detectors.py"))
    (tmp_path / "my_detectors.py").write_text(plugin)
    raw = {"plugins": ["my_detectors.py"], "seeds": 1, "anomaly_ratios": [0.2],
           "labelled_fractions": [0.5],
           "datasets": [{"dataset": "moons", "split": {"n_normal": 300},
                         "dataset_params": {"n_samples": 1000}}],
           "detectors": ["mahalanobis-normals", "iforest-normals"]}
    (tmp_path / "my_sweep.yaml").write_text(yaml.safe_dump(raw))
    config = load_config(tmp_path / "my_sweep.yaml")
    from benchmarks.registry import make_detector

    check_detector(make_detector("mahalanobis-normals", random_state=0))
    frame = run_sweep(config, tmp_path / "out", n_jobs=1, progress=False)
    assert frame["status"].tolist() == ["ok", "ok"], frame["error"].tolist()
    # a report in a fresh process imports the sweep's plugins, so its rows read as current
    reports = tmp_path / "reports"
    done = subprocess.run([sys.executable, "-m", "benchmarks", "report", str(tmp_path / "out"),
                           "--no-figures", "--reports-dir", str(reports)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "stale" not in done.stderr, done.stderr
    assert (pd.read_csv(tmp_path / "out" / "table2.csv")["n_stale"] == 0).all()
