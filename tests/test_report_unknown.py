"""The unknown-types report: table values, intervals in [0, 1], files written."""

import json

import numpy as np
import pandas as pd
import pytest

from benchmarks.report_unknown import report_unknown, unknown_table


def synthetic_results(seeds=(0, 1, 2)) -> pd.DataFrame:
    rows = []
    for det, base in (("good", 0.9), ("weak", 0.2)):
        for fam in ("DoS", "Probe"):
            for seed in seeds:
                rows.append({
                    "dataset": f"kdd-unseen-{fam}", "detector": det, "anomaly_ratio": 0.05,
                    "labelled_fraction": 0.2, "seed": seed, "status": "ok", "f1": 0.5,
                    "auprc": 0.5, "split_params": json.dumps({"holdout_types": [fam]}),
                    "n_test": 3158, "n_test_anomalies": 158, "n_test_heldout": 79,
                    "n_test_seen": 79, "auprc_heldout": base - 0.05 * seed,
                    "auprc_seen": min(1.0, base + 0.1), "recall_heldout": 0.5,
                    "recall_seen": 0.99 + 0.005 * seed})
    rows.append({**rows[0], "status": "failed", "auprc_heldout": np.nan, "seed": 9})
    return pd.DataFrame(rows)


def test_table_means_chance_and_seed_counts():
    t = unknown_table(synthetic_results()).set_index(["detector", "heldout_family"])
    assert len(t) == 4
    row = t.loc[("good", "DoS")]
    assert row["n_seeds"] == 3  # the failed cell does not count
    assert row["auprc_heldout"] == pytest.approx(0.85)
    assert row["chance_auprc_heldout"] == pytest.approx(79 / (79 + 3000))
    assert row["auprc_heldout_lo"] < 0.85 < row["auprc_heldout_hi"]
    # an interval running past 1 is clipped
    assert row["recall_seen_hi"] == 1.0


def test_a_family_named_as_a_bare_string_keeps_its_name():
    """The split reads ``holdout_types: DoS`` as a list of one; the table names it "DoS",
    not its letters joined."""
    frame = synthetic_results()
    frame["split_params"] = frame["split_params"].str.replace(r'\["(\w+)"\]', r'"\1"',
                                                              regex=True)
    assert json.loads(frame["split_params"].iloc[0]) == {"holdout_types": "DoS"}
    assert set(unknown_table(frame)["heldout_family"]) == {"DoS", "Probe"}


def test_results_without_heldout_columns_are_refused():
    with pytest.raises(ValueError, match="held-out columns"):
        unknown_table(synthetic_results().drop(columns=["auprc_seen"]))


def test_report_writes_csv_markdown_and_figure(tmp_path):
    folder = tmp_path / "unknown_types"
    folder.mkdir()
    synthetic_results().to_csv(folder / "results.csv", index=False)
    paths = report_unknown(folder, tmp_path / "reports")
    names = {p.name for p in paths}
    assert names == {"unknown_types.csv", "unknown_versus_best.csv", "unknown_types.md",
                     "unknown_types.png", "unknown_types.svg"}
    md = (tmp_path / "reports" / "unknown_types.md").read_text()
    assert "| good | DoS | 3 |" in md
    assert all(p.stat().st_size > 0 for p in paths)


def test_two_heldout_sweeps_reported_into_one_folder_keep_their_own_pages(tmp_path):
    reports = tmp_path / "reports"
    frames = {"unknown_types": synthetic_results()}
    other = synthetic_results()
    other["detector"] = other["detector"].replace({"good": "other"})
    frames["mine"] = other
    for name, frame in frames.items():
        (tmp_path / name).mkdir()
        frame.to_csv(tmp_path / name / "results.csv", index=False)
        report_unknown(tmp_path / name, reports)
    assert "| good | DoS | 3 |" in (reports / "unknown_types.md").read_text()
    mine = (reports / "mine_unknown_types.md").read_text()
    assert "| other | DoS | 3 |" in mine and "| good |" not in mine
    assert (reports / "figures" / "mine_unknown_types.png").stat().st_size > 0
    assert (reports / "figures" / "unknown_types.png").stat().st_size > 0
