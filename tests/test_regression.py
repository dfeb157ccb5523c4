"""The regression guard (benchmarks/regression.py): tolerances, failures that name the cell,
missing and failed cells, and an end-to-end run where a deliberately broken detector (a real
one with negated scores) is caught against the un-negated reference."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.cli import main
from benchmarks.regression import (
    METRICS,
    build_reference,
    check_results,
    tolerance,
)

PLUGIN = str(Path(__file__).with_name("regression_detectors.py"))


def frame(values, *, detector="det", dataset="ds", statuses=None):
    """A results-like frame: one row per seed, every metric set to ``values[seed]``."""
    rows = []
    for seed, v in enumerate(values):
        row = dict(dataset=dataset, detector=detector, anomaly_ratio=0.1,
                   labelled_fraction=0.5, seed=seed, status="ok", error="",
                   version_pugan_bench="0.1.0", cell_id=f"c{seed}")
        row.update({m: v for m in METRICS})
        if statuses:
            row["status"] = statuses[seed]
        rows.append(row)
    return pd.DataFrame(rows)


def failures(findings):
    return [f for f in findings if f.failure]


def test_tolerance_rule():
    assert tolerance([0.5, 0.5, 0.5]) == 0.005           # no spread: the floor
    assert tolerance([0.3, 0.5, 0.7]) == 0.02            # wide spread: never looser than the cap
    vals = [0.500, 0.505, 0.510]                          # std 0.005 -> 2 * std = 0.01
    assert tolerance(vals) == pytest.approx(2 * np.std(vals, ddof=1))
    assert tolerance([0.4]) == 0.02                      # one seed: no spread known -> cap
    assert tolerance([0.4, float("nan")]) == 0.02
    assert tolerance([0.3, 0.5, 0.7], cap=0.05, floor=0.01, k=1) == 0.05


def test_reference_holds_metrics_and_per_group_tolerances():
    res = pd.concat([frame([0.5, 0.5, 0.5], detector="flat"),
                     frame([0.3, 0.5, 0.7], detector="wide")])
    ref = build_reference(res, version="9.9")
    assert list(ref.columns[:6]) == ["version", "dataset", "detector", "anomaly_ratio",
                                     "labelled_fraction", "seed"]
    assert set(ref["version"]) == {"9.9"}
    assert (ref.loc[ref.detector == "flat", [f"tol_{m}" for m in METRICS]] == 0.005).all().all()
    assert (ref.loc[ref.detector == "wide", [f"tol_{m}" for m in METRICS]] == 0.02).all().all()


def test_reference_refuses_cells_that_are_not_ok():
    res = frame([0.5, 0.5, 0.5], statuses=["ok", "failed", "ok"])
    with pytest.raises(ValueError, match="seed=1: failed"):
        build_reference(res, version="0")


def test_identical_results_pass():
    res = frame([0.61, 0.64, 0.58])
    assert check_results(build_reference(res, version="0"), res) == []


@pytest.mark.parametrize("values", [[0.5, 0.5, 0.5], [0.500, 0.505, 0.510], [0.3, 0.5, 0.7]])
def test_tolerance_is_respected(values):
    res = frame(values)
    ref = build_reference(res, version="0")
    tol = tolerance(values)
    inside = res.copy()
    inside.loc[1, "auprc"] -= tol * 0.9
    assert failures(check_results(ref, inside)) == []
    outside = res.copy()
    outside.loc[1, "auprc"] -= tol * 1.1
    found = failures(check_results(ref, outside))
    assert len(found) == 1
    f = found[0]
    assert (f.kind, f.dataset, f.detector, f.seed, f.metric) == ("regression", "ds", "det", 1,
                                                                 "auprc")
    assert f.tolerance == pytest.approx(tol)
    assert f.reference == pytest.approx(values[1])
    text = f.text()
    for part in ("dataset=ds", "detector=det", "seed=1", "metric=auprc",
                 f"reference={values[1]:.4f}", f"tolerance={tol:.4f}"):
        assert part in text


def test_improvement_and_new_cells_are_information_not_failures():
    res = frame([0.5, 0.5, 0.5])
    ref = build_reference(res, version="0")
    better = pd.concat([res, frame([0.9], detector="extra")], ignore_index=True)
    better.loc[0, "f1"] = 0.9
    findings = check_results(ref, better)
    assert failures(findings) == []
    assert {f.kind for f in findings} == {"improved", "new-cell"}


def test_missing_failed_and_nan_cells_fail():
    res = frame([0.5, 0.5, 0.5])
    ref = build_reference(res, version="0")
    new = res.copy()
    new.loc[1, ["status", "error"]] = ["timeout", "time limit of 2 s exceeded"]
    new.loc[2, "best_f1"] = np.nan
    new = new.drop(index=0)
    found = failures(check_results(ref, new))
    kinds = {(f.kind, f.seed, f.metric) for f in found}
    assert kinds == {("missing", 0, ""), ("not-ok", 1, ""), ("regression", 2, "best_f1")}
    not_ok = next(f for f in found if f.kind == "not-ok")
    assert "timeout" in not_ok.text() and "time limit" in not_ok.text()


def write_config(path: Path, detector: str) -> Path:
    path.write_text(
        "seeds: [0, 1, 2]\nanomaly_ratios: [0.2]\nlabelled_fractions: [0.5]\ntime_limit: 60\n"
        f"plugins: [{PLUGIN}]\n"
        "datasets:\n  - dataset: moons\n    split: {n_normal: 300}\n"
        "    dataset_params: {n_samples: 1000, noise: 0.1}\n"
        f"detectors:\n  - {detector}\n")
    return path


def test_end_to_end_negated_detector_is_caught(tmp_path, capsys):
    real = write_config(tmp_path / "real.yaml", "{name: knn-normals, label: guarded}")
    broken = write_config(tmp_path / "broken.yaml",
                          "{name: t-negated, params: {base: knn-normals}, label: guarded}")
    ref = tmp_path / "reference" / "reference.csv"
    common = ["--reference", str(ref), "--n-jobs", "1", "--no-progress"]
    assert main(["-q", "regression", "update", "--config", str(real), "--scratch", str(tmp_path / "u"),
                 *common]) == 0
    stored = pd.read_csv(ref)
    assert len(stored) == 3 and set(stored["detector"]) == {"guarded"}
    assert stored["auprc"].min() > 0.9  # knn on the known normals separates the moons
    meta = json.loads(ref.with_suffix(".json").read_text())
    assert meta["cells"] == 3 and meta["version"] == stored["version"][0]

    # the same detector, rerun from scratch into a folder that already holds cells: passes
    # (every cell recomputed: force, no cache reuse)
    out = tmp_path / "u"
    cached = {p: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json")}
    assert len(cached) == 3
    assert main(["-q", "regression", "check", "--config", str(real), "--out", str(out), *common]) == 0
    assert "check-regression: ok: 3 reference cells" in capsys.readouterr().out
    assert all(p.stat().st_mtime_ns != t for p, t in cached.items())  # rewritten, not reused

    assert main(["-q", "regression", "check", "--config", str(broken), "--out", str(tmp_path / "c"),
                 *common]) == 1
    err = capsys.readouterr().err
    for seed in (0, 1, 2):
        for metric in ("auprc", "best_f1"):
            assert (f"REGRESSION: dataset=moons detector=guarded ratio=0.2 fraction=0.5 "
                    f"seed={seed} metric={metric} reference=") in err
    assert "check-regression: FAILED" in err
    assert "REGRESSION" in (tmp_path / "c" / "regression.txt").read_text()


def test_check_reports_missing_cells_and_missing_reference(tmp_path, capsys):
    res = frame([0.5, 0.5, 0.5])
    ref = tmp_path / "reference.csv"
    build_reference(res, version="0").to_csv(ref, index=False)
    run = tmp_path / "run"
    run.mkdir()
    res.drop(index=2).to_csv(run / "results.csv", index=False)
    assert main(["-q", "regression", "check", "--reference", str(ref), "--results", str(run)]) == 1
    err = capsys.readouterr().err
    assert "MISSING: dataset=ds detector=det ratio=0.1 fraction=0.5 seed=2" in err
    # given results are only read: a committed folder is not written into
    assert "details above" in err and not (run / "regression.txt").exists()
    assert main(["-q", "regression", "check", "--reference", str(tmp_path / "none.csv"),
                 "--results", str(run)]) == 2
    assert "make update-reference" in capsys.readouterr().err


def test_an_empty_or_nan_reference_is_an_error_never_a_pass(tmp_path, capsys):
    res = frame([0.5, 0.5, 0.5])
    run = tmp_path / "run"
    run.mkdir()
    res.to_csv(run / "results.csv", index=False)
    empty = tmp_path / "empty.csv"
    build_reference(res, version="0").iloc[:0].to_csv(empty, index=False)
    assert main(["-q", "regression", "check", "--reference", str(empty), "--results", str(run)]) == 2
    assert "holds no cell" in capsys.readouterr().err
    nan_ref = build_reference(res, version="0")
    nan_ref.loc[1, "f1"] = float("nan")
    nan_path = tmp_path / "nan.csv"
    nan_ref.to_csv(nan_path, index=False)
    assert main(["-q", "regression", "check", "--reference", str(nan_path), "--results", str(run)]) == 2
    assert "seed=1" in capsys.readouterr().err
    tol_ref = build_reference(res, version="0")
    tol_ref["tol_f1"] = tol_ref["tol_f1"].astype(object)
    tol_ref.loc[2, "tol_f1"] = "wide"
    tol_path = tmp_path / "tol.csv"
    tol_ref.to_csv(tol_path, index=False)
    assert main(["-q", "regression", "check", "--reference", str(tol_path), "--results", str(run)]) == 2
    err = capsys.readouterr().err
    assert str(tol_path) in err and "'tol_f1'" in err and "seed=2" in err


def test_update_from_an_empty_or_nan_run_is_refused(tmp_path, capsys):
    with pytest.raises(ValueError, match="no cell"):
        build_reference(frame([]).reindex(columns=frame([0.5]).columns), version="0")
    res = frame([0.5, float("nan"), 0.5])
    with pytest.raises(ValueError, match="non-finite metric"):
        build_reference(res, version="0")
    run = tmp_path / "run"
    run.mkdir()
    frame([0.5]).iloc[:0].to_csv(run / "results.csv", index=False)
    target = tmp_path / "ref.csv"
    assert main(["-q", "regression", "update", "--from-results", str(run), "--reference", str(target)]) == 1
    assert "no cell" in capsys.readouterr().err and not target.exists()


def test_the_module_command_line_is_the_subcommand(tmp_path, capsys):
    """``python -m benchmarks.regression ARGS`` runs ``pugan-bench regression ARGS``."""
    from benchmarks.regression import main as module_main

    assert module_main(["-q", "check", "--reference", str(tmp_path / "none.csv")]) == 2
    assert "no reference" in capsys.readouterr().err


def test_an_empty_reference_or_results_file_is_named(tmp_path, capsys):
    """pandas says only "No columns to parse from file": which of the inputs is unsaid."""
    run = tmp_path / "run"
    run.mkdir()
    frame([0.5, 0.5]).to_csv(run / "results.csv", index=False)
    empty = tmp_path / "reference.csv"
    empty.write_text("")
    assert main(["-q", "regression", "check", "--reference", str(empty),
                 "--results", str(run)]) == 2
    err = capsys.readouterr().err
    assert f"pugan-bench regression: error: reference {empty} is empty" in err, err
    (run / "results.csv").write_text("")
    assert main(["-q", "regression", "update", "--from-results", str(run),
                 "--reference", str(tmp_path / "new.csv")]) == 2
    err = capsys.readouterr().err
    assert f"error: results {run / 'results.csv'} is empty" in err, err


def test_a_reference_of_your_own_is_a_csv_with_its_own_command_in_the_sidecar(tmp_path,
                                                                              capsys):
    """A .json reference would be written over by its own sidecar (then unreadable as a
    CSV); a reference of your own records the call that made it, not the make target."""
    import json

    run = tmp_path / "run"
    run.mkdir()
    frame([0.5, 0.6]).to_csv(run / "results.csv", index=False)
    assert main(["-q", "regression", "update", "--from-results", str(run),
                 "--reference", str(tmp_path / "ref.json")]) == 2
    assert "a .json reference would be written over by its own sidecar" in \
        capsys.readouterr().err
    assert not (tmp_path / "ref.json").exists()
    assert main(["-q", "regression", "update", "--from-results", str(run),
                 "--reference", str(tmp_path / "ref.csv")]) == 0
    meta = json.loads((tmp_path / "ref.json").read_text())
    assert meta["command"].startswith("pugan-bench regression update --config ")
    assert f"--reference {tmp_path / 'ref.csv'} --from-results {run}" in meta["command"]


def test_a_damaged_reference_sidecar_is_named_with_its_line(tmp_path, capsys):
    res = frame([0.5, 0.5])
    ref = tmp_path / "reference.csv"
    build_reference(res, version="0").to_csv(ref, index=False)
    (tmp_path / "reference.json").write_text('{\n  "version": "0",\n  oops\n}\n')
    run = tmp_path / "run"
    run.mkdir()
    res.to_csv(run / "results.csv", index=False)
    assert main(["-q", "regression", "check", "--reference", str(ref),
                 "--results", str(run)]) == 2
    err = capsys.readouterr().err
    assert f"error: {tmp_path / 'reference.json'}: not valid JSON at line 3" in err, err


def test_a_reference_is_never_left_half_written(tmp_path, monkeypatch):
    """A reference cut short at a row end reads as a valid reference guarding fewer cells:
    an update whose write fails must leave the previous reference and sidecar whole."""
    from helpers import fill_disk_midway

    run = tmp_path / "run"
    run.mkdir()
    frame([0.5, 0.6, 0.7, 0.8]).to_csv(run / "results.csv", index=False)
    target = tmp_path / "reference.csv"
    args = ["-q", "regression", "update", "--from-results", str(run), "--reference",
            str(target)]
    assert main(args) == 0
    before = target.read_bytes(), target.with_suffix(".json").read_bytes()
    fill_disk_midway(monkeypatch)
    with pytest.raises(OSError):
        main(args)
    assert (target.read_bytes(), target.with_suffix(".json").read_bytes()) == before


def test_a_check_on_another_arithmetic_says_the_machine_may_have_moved_the_scores(tmp_path,
                                                                                  capsys):
    """The sidecar records the processor of the run that made the reference; a check whose
    run trained PU-GAN in another arithmetic says so beside its failures, with the oneDNN
    cap where one exists, and says nothing of it where the arithmetic is the same."""
    from benchmarks.results import record_run

    avx512 = "AMD EPYC, PU-GAN trains in bfloat16 on AVX-512 BF16 there"
    amx = "Intel Xeon, PU-GAN trains in bfloat16 on AMX tiles there"
    made, later = tmp_path / "made", tmp_path / "later"
    for folder, values, processor in ((made, [0.9, 0.9, 0.9], avx512),
                                      (later, [0.1, 0.1, 0.1], amx)):
        folder.mkdir()
        frame(values).to_csv(folder / "results.csv", index=False)
        record_run(folder, config="reference", processor=processor)
    ref = tmp_path / "ref.csv"
    assert main(["-q", "regression", "update", "--from-results", str(made),
                 "--reference", str(ref)]) == 0
    assert json.loads(ref.with_suffix(".json").read_text())["processor"] == avx512
    assert main(["-q", "regression", "check", "--results", str(later),
                 "--reference", str(ref)]) == 1
    err = capsys.readouterr().err
    assert "NOTE: the reference's PU-GAN cells trained in bfloat16 on AVX-512 BF16" in err
    assert "ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16" in err
    record_run(later, config="reference", processor=avx512)   # the same arithmetic: no note
    assert main(["-q", "regression", "check", "--results", str(later),
                 "--reference", str(ref)]) == 1
    assert "NOTE" not in capsys.readouterr().err
