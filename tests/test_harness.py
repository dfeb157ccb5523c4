"""The sweep harness: fault isolation, resume, determinism, shared splits, Dask == loky."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from helpers import sweep_raw

from benchmarks.cache import CellCache
from benchmarks.config import parse_config
from benchmarks.harness import run_sweep
from benchmarks.results import RESULT_COLUMNS, TIMING_COLUMNS


def config(detectors, *, seeds=(0, 1), **kw):
    return parse_config(sweep_raw(detectors, seeds=seeds, **kw))


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=list(TIMING_COLUMNS)).reset_index(drop=True)


def test_fault_isolation_marks_the_cell_and_the_sweep_goes_on(tmp_path):
    cfg = config(["t-centroid", "t-raise", {"name": "t-sleep", "params": {"seconds": 60}},
                  "t-kill", {"name": "t-kill", "params": {"how": "kill"}}, "t-small",
                  "t-small-normals", "t-oracle"], seeds=(0,), time_limit=3)
    df = run_sweep(cfg, tmp_path / "out", n_jobs=2, progress=False)
    assert list(df.columns) == list(RESULT_COLUMNS)
    status = dict(zip(df["detector"], df["status"], strict=True))
    error = dict(zip(df["detector"], df["error"], strict=True))
    assert status == {"t-centroid": "ok", "t-raise": "failed", "t-sleep(seconds=60)": "timeout",
                      "t-kill": "failed", "t-kill(how=kill)": "failed", "t-small": "skipped",
                      "t-small-normals": "ok", "t-oracle": "ok"}
    assert error["t-raise"] == "RuntimeError: deliberate failure in fit"
    assert "time limit of 3 s exceeded" in error["t-sleep(seconds=60)"]
    assert "exited with code 7" in error["t-kill"]
    assert "killed by SIGKILL" in error["t-kill(how=kill)"]
    assert error["t-small"] == "t-small cannot scale to 262 training rows (max 100)"
    # a normals-only detector (max 150) fits on the 105 known normals of 262 rows, so it runs
    assert df.loc[df["detector"] == "t-small-normals", "n_known_normal"].item() == 105
    ok = df[df["status"] == "ok"]
    assert ok[["precision", "recall", "f1", "best_f1", "auroc", "auprc"]].notna().all().all()
    assert (ok["best_f1"] >= ok["f1"] - 1e-12).all()  # the oracle is an upper bound
    assert (df["n_train"] == 262).all() and (df["n_test"] == 112).all()
    # the failed cell keeps its traceback in its cell file (not in the CSV)
    raise_key = df.loc[df["detector"] == "t-raise", "cell_id"].item()
    rec = json.loads((tmp_path / "out" / "cells" / f"{raise_key}.json").read_text())
    assert "deliberate failure" in rec["traceback"]
    on_disk = pd.read_csv(tmp_path / "out" / "results.csv", keep_default_na=False)
    assert len(on_disk) == len(df)


def test_resume_recomputes_only_missing_and_failed_cells(tmp_path):
    out = tmp_path / "out"
    cfg = config(["t-centroid", "t-oracle", "t-raise"])
    first = run_sweep(cfg, out, n_jobs=1, progress=False)
    cache = CellCache(out)
    mtimes = {k: cache.path(k).stat().st_mtime_ns for k in cache.keys()}
    assert len(mtimes) == 6
    ok_keys = first.loc[first["status"] == "ok", "cell_id"].tolist()
    failed_keys = set(first.loc[first["status"] == "failed", "cell_id"])
    deleted = ok_keys[0]
    cache.path(deleted).unlink()
    second = run_sweep(cfg, out, n_jobs=1, progress=False)
    after = {k: cache.path(k).stat().st_mtime_ns for k in cache.keys()}
    rerun = {k for k in after if after[k] != mtimes.get(k)}
    assert rerun == {deleted} | failed_keys  # failed cells are retried, done cells are not
    pd.testing.assert_frame_equal(comparable(first), comparable(second))
    untouched = second["cell_id"].isin(set(ok_keys) - {deleted})
    pd.testing.assert_frame_equal(first[untouched], second[untouched])  # timings from the cache
    # retry_failed=False keeps the failures as recorded
    before = {k: cache.path(k).stat().st_mtime_ns for k in cache.keys()}
    run_sweep(cfg, out, n_jobs=1, progress=False, retry_failed=False)
    assert before == {k: cache.path(k).stat().st_mtime_ns for k in cache.keys()}


def test_kept_rows_spare_a_fresh_clone_all_but_the_new_cells(tmp_path):
    """A clone has results.csv but no cells/: with keep_rows, a config that adds a seed runs
    only that seed's cells and writes the other rows back as they were."""
    import shutil

    out = tmp_path / "out"

    def rows():
        return pd.read_csv(out / "results.csv", dtype=str, keep_default_na=False)

    run_sweep(config(["t-centroid", "t-oracle"]), out, n_jobs=1, progress=False)
    first = rows()
    shutil.rmtree(out / "cells")
    wider = config(["t-centroid", "t-oracle"], seeds=(0, 1, 2))
    run_sweep(wider, out, n_jobs=1, progress=False, keep_rows=True)
    second = rows()
    assert len(second) == 6 and set(CellCache(out).keys()) == set(second["cell_id"])
    kept = second[second["cell_id"].isin(first["cell_id"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, first)  # timings too: none of them ran
    ran = json.loads((out / "runs.jsonl").read_text().splitlines()[-1])
    assert (ran["cached"], ran["run"]) == (4, 2)


def test_without_kept_rows_a_fresh_clone_computes_every_cell(tmp_path):
    import shutil

    out = tmp_path / "out"
    cfg = config(["t-centroid"])
    run_sweep(cfg, out, n_jobs=1, progress=False)
    shutil.rmtree(out / "cells")
    run_sweep(cfg, out, n_jobs=1, progress=False)
    ran = json.loads((out / "runs.jsonl").read_text().splitlines()[-1])
    assert (ran["cached"], ran["run"]) == (0, 2)


def test_another_sweep_into_the_same_folder_is_said(tmp_path, caplog):
    """Rerunning a sweep into its folder is silent; running another one there warns that the
    first sweep's rows leave results.csv (their cells stay)."""
    out = tmp_path / "out"
    first = config(["t-centroid"])
    kept = set(run_sweep(first, out, n_jobs=1, progress=False)["cell_id"])
    with caplog.at_level("WARNING", logger="benchmarks.sweep"):
        run_sweep(first, out, n_jobs=1, progress=False)
    assert "leave it" not in caplog.text
    other = parse_config({**sweep_raw(["t-oracle"]), "name": "other"})
    with caplog.at_level("WARNING", logger="benchmarks.sweep"):
        run_sweep(other, out, n_jobs=1, progress=False)
    assert f"{len(kept)} row(s) of {out / 'results.csv'} are of cells this config" in caplog.text
    assert kept < set(CellCache(out).keys())   # the first sweep's cells stay


def test_same_config_twice_gives_the_same_csv(tmp_path):
    cfg = config(["t-centroid", {"name": "t-centroid", "params": {"jitter": 0.3}}],
                 fractions=(0.2, 1.0))
    a = run_sweep(cfg, tmp_path / "a", n_jobs=2, progress=False)
    b = run_sweep(cfg, tmp_path / "b", n_jobs=1, progress=False)
    assert (a["status"] == "ok").all()
    pd.testing.assert_frame_equal(comparable(a), comparable(b))
    csv_a = pd.read_csv(tmp_path / "a" / "results.csv").drop(columns=list(TIMING_COLUMNS))
    csv_b = pd.read_csv(tmp_path / "b" / "results.csv").drop(columns=list(TIMING_COLUMNS))
    pd.testing.assert_frame_equal(csv_a, csv_b)
    # rows sorted deterministically
    keys = a[["dataset", "detector", "anomaly_ratio", "labelled_fraction", "seed"]]
    assert keys.equals(keys.sort_values(list(keys.columns)).reset_index(drop=True))


def test_detectors_share_the_split_and_the_row_matches_a_manual_run(tmp_path):
    from benchmarks.metrics import anomaly_metrics
    from benchmarks.registry import make_detector
    from benchmarks.splits import make_pu_split

    cfg = config(["t-centroid", {"name": "t-centroid", "params": {"jitter": 0.3}}], seeds=(0,))
    df = run_sweep(cfg, tmp_path / "out", n_jobs=2, progress=False)
    assert df["split_seed"].nunique() == 1 and df["model_seed"].nunique() == 2
    cell = [c for c in cfg.cells() if c.detector_params][0]
    split = make_pu_split(**cell.split_kwargs())
    det = make_detector(cell.detector_name, random_state=cell.model_seed, **cell.detector_params)
    det.fit(split.X_train, known_normal=split.known_normal)
    scores = det.decision_function(split.X_test)
    want = anomaly_metrics(split.y_test, scores, det.predict(split.X_test))
    row = df[df["cell_id"] == cell.key].iloc[0]
    for k, v in want.items():
        assert row[k] == pytest.approx(v, abs=1e-12)
    assert row["n_known_normal"] == int(split.known_normal.sum())


def test_in_process_mode_gives_the_same_results(tmp_path):
    cfg = config(["t-centroid", "t-raise"], seeds=(0,))
    a = run_sweep(cfg, tmp_path / "a", n_jobs=1, progress=False)
    b = run_sweep(cfg, tmp_path / "b", n_jobs=1, progress=False, isolate=False)
    pd.testing.assert_frame_equal(comparable(a).drop(columns="peak_mb", errors="ignore"),
                                  comparable(b).drop(columns="peak_mb", errors="ignore"))


def test_split_the_data_cannot_fill_becomes_a_skipped_cell(tmp_path):
    # 0.002 of 210 training normals (0.4 anomalies) gives 0 anomalies: the split refuses, the cell records why
    cfg = config(["t-centroid"], seeds=(0,), anomaly_ratios=[0.002, 0.2])
    df = run_sweep(cfg, tmp_path / "out", n_jobs=1, progress=False)
    bad = df[df["anomaly_ratio"] == 0.002].iloc[0]
    assert bad["status"] == "skipped" and "split cannot be filled" in bad["error"]
    assert "anomaly_ratio=0.002" in bad["error"]
    assert df.loc[df["anomaly_ratio"] == 0.2, "status"].item() == "ok"


def test_unwritable_output_folder_is_refused_before_any_cell(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cfg = config(["t-centroid"], seeds=(0,))
    with pytest.raises(ValueError, match="output folder .* is not writable"):
        run_sweep(cfg, blocker / "out", progress=False)
    with pytest.raises(ValueError, match="backend must be 'loky' or 'dask'"):
        run_sweep(cfg, tmp_path / "ok", backend="ray", progress=False)


def test_dask_backend_equals_loky_cell_for_cell(tmp_path):
    import dask
    from dask.distributed import LocalCluster

    cfg = config(["t-centroid", "t-oracle", "t-raise"])
    loky = run_sweep(cfg, tmp_path / "loky", n_jobs=2, progress=False)
    with dask.config.set({"distributed.worker.daemon": False}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                         dashboard_address=None) as cluster:
        viadask = run_sweep(cfg, tmp_path / "dask", backend="dask",
                            scheduler=cluster.scheduler_address, progress=False)
    pd.testing.assert_frame_equal(comparable(loky), comparable(viadask))
    assert (viadask["status"] == np.where(viadask["detector"] == "t-raise", "failed", "ok")).all()


def test_the_driver_thread_settings_are_restored(tmp_path, monkeypatch):
    from threadpoolctl import threadpool_info

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    before = [p["num_threads"] for p in threadpool_info()]
    cfg = config(["t-centroid"], seeds=(0,))
    df = run_sweep(cfg, tmp_path / "out", n_jobs=1, threads_per_cell=2, progress=False,
                   isolate=False)
    assert (df["status"] == "ok").all()
    import os

    assert os.environ["OMP_NUM_THREADS"] == "1" and "MKL_NUM_THREADS" not in os.environ
    assert [p["num_threads"] for p in threadpool_info()] == before



def test_lost_workers_are_replaced_and_their_cells_run_again(tmp_path, caplog):
    """Without cell isolation a fit runs in the loky worker itself: when it ends that process,
    the sweep starts new workers and re-dispatches the unfinished cells, then runs what is
    still unfinished one cell at a time; a cell that ends its worker every time is recorded as
    failed, and a cell that ran beside it is kept, however the rounds interleaved."""
    import logging

    from benchmarks.sweep import SOLO_TRIES

    marker = tmp_path / "exited-once"
    cfg = config(["t-centroid", {"name": "t-exit-once", "params": {"marker": str(marker)}},
                  "t-kill"], seeds=(0,))
    with caplog.at_level(logging.ERROR, logger="benchmarks.harness"):
        # n_jobs=2: with one job joblib would run the cells in this process, which they end
        df = run_sweep(cfg, tmp_path / "out", n_jobs=2, isolate=False, progress=False)
    assert marker.is_file()  # the first fit of t-exit-once did end its worker
    lost = [r for r in caplog.records if "a worker was lost" in r.getMessage()]
    assert len(lost) >= 3  # t-kill ends a worker in every round, twice of them alone
    status = {d.split("(")[0]: s for d, s in zip(df["detector"], df["status"], strict=True)}
    assert status == {"t-centroid": "ok", "t-exit-once": "ok", "t-kill": "failed"}
    error = df.loc[df["detector"] == "t-kill", "error"].item()
    assert f"the last {SOLO_TRIES} times alone" in error


def _record_that_cannot_be_pickled(cell, **kw):
    """``run_cell``, whose record of a ``t-raise`` cell holds a lock (pickled by reference:
    loky workers import this module)."""
    import threading

    from benchmarks.cell_runner import run_cell

    rec = run_cell(cell, **kw)
    return {**rec, "lock": threading.Lock()} if cell.detector_name == "t-raise" else rec


def test_an_error_that_is_no_lost_worker_ends_the_sweep_as_itself(tmp_path, caplog, monkeypatch):
    """A record that cannot be pickled back, or a fault in storing one, is the harness's: it is
    not retried and blamed on the cell as a lost worker but reaches the caller with its own
    message, and the cells stored before it are kept in results.csv."""
    import logging

    from benchmarks import sweep

    out = tmp_path / "out"
    run_sweep(config(["t-centroid"], seeds=(0,)), out, n_jobs=1, isolate=False, progress=False)
    monkeypatch.setattr(sweep, "run_cell", _record_that_cannot_be_pickled)
    with caplog.at_level(logging.ERROR, logger="benchmarks"), \
            pytest.raises(TypeError, match="cannot pickle"):
        # two workers, so that records travel back pickled
        run_sweep(config(["t-centroid", "t-raise"]), out, n_jobs=2, isolate=False,
                  progress=False)
    assert not [r for r in caplog.records if "a worker was lost" in r.getMessage()]
    frame = pd.read_csv(out / "results.csv").fillna("")
    assert not frame["error"].str.contains("worker").any()
    kept = frame[(frame["detector"] == "t-centroid") & (frame["seed"] == 0)]
    assert kept["status"].tolist() == ["ok"]

    monkeypatch.undo()

    def put(self, key, rec):
        raise RuntimeError("a fault in storing the record")

    monkeypatch.setattr(CellCache, "put", put)
    with pytest.raises(RuntimeError, match="a fault in storing the record"):
        run_sweep(config(["t-raise"]), out, n_jobs=1, isolate=False, progress=False)
    assert not [r for r in caplog.records if "a worker was lost" in r.getMessage()]


def test_a_run_that_finds_every_cell_cached_leaves_runs_jsonl_as_it_was(tmp_path):
    """runs.jsonl is committed for some sweeps: rerunning a finished sweep must not change it."""
    cfg = config(["t-centroid"], seeds=(0,))
    out = tmp_path / "out"
    run_sweep(cfg, out, n_jobs=1, isolate=False, progress=False)
    first = (out / "runs.jsonl").read_bytes()
    assert len(first.splitlines()) == 1
    from benchmarks.sweep import processor_summary

    # the cells ran here; with no deep detector in the sweep, the model alone (torch unread)
    assert json.loads(first)["processor"] == processor_summary(arithmetic=False)
    assert "PU-GAN" not in json.loads(first)["processor"]
    again = run_sweep(cfg, out, n_jobs=1, isolate=False, progress=False)
    assert (again["status"] == "ok").all()
    assert (out / "runs.jsonl").read_bytes() == first
    # a run that computes a cell is still recorded
    run_sweep(cfg, out, n_jobs=1, isolate=False, progress=False, force=True)
    assert len((out / "runs.jsonl").read_bytes().splitlines()) == 2


def test_a_stopped_run_keeps_the_rows_of_the_cells_it_did_not_reach(tmp_path, monkeypatch):
    """A fresh clone carries results.csv but not cells/: a run there that is stopped after
    two cells rewrites their rows and keeps every other row as it was, rather than leaving a
    table of two rows."""
    import benchmarks.sweep as sweep

    out = tmp_path / "out"
    cfg = config(["t-centroid", "t-oracle"])
    first = run_sweep(cfg, out, n_jobs=1, progress=False)
    assert len(first) == 4 and (first["status"] == "ok").all()
    committed = (out / "results.csv").read_text().splitlines()
    for path in (out / "cells").iterdir():
        path.unlink()
    real = sweep._dispatch

    def stop_after_two(pending, *args, **kwargs):
        real(pending[:2], *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "_dispatch", stop_after_two)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(cfg, out, n_jobs=1, progress=False)
    rerun = set(CellCache(out).keys())
    assert len(rerun) == 2
    after = pd.read_csv(out / "results.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(comparable(after), comparable(
        pd.read_csv(io.StringIO("\n".join(committed)), keep_default_na=False)))
    # the two rows not reached are the first run's lines, timings included; the two rerun
    # rows are the new cell files' records, not the earlier lines
    lines = (out / "results.csv").read_text().splitlines()
    kept = [line for line in lines[1:] if not any(key in line for key in rerun)]
    assert len(kept) == 2 and set(kept) <= set(committed[1:])
    fresh = after.set_index("cell_id").loc[sorted(rerun), "cell_seconds"]
    cache = CellCache(out)
    assert list(fresh) == [cache.get(key)["cell_seconds"] for key in sorted(rerun)]
    assert not {line for line in lines[1:] if line not in kept} & set(committed[1:])


def test_previous_records_skip_what_cannot_be_read(tmp_path):
    from benchmarks.results import previous_records

    path = tmp_path / "results.csv"
    assert previous_records(path) == {}  # no file yet
    path.write_text("cell_id,status,n_train,auprc,error\na,ok,707.0,0.5,\nb,ok,many,0.5,\n"
                    "c,ok,inf,0.5,\n")
    records = previous_records(path)
    assert list(records) == ["a"]  # rows b and c are damaged: their cells run again
    assert records["a"] == {"cell_id": "a", "status": "ok", "n_train": 707, "auprc": 0.5,
                            "error": ""}
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert previous_records(path) == {}


def test_a_run_that_keeps_cells_of_another_arithmetic_says_how_to_match_them(tmp_path,
                                                                             monkeypatch,
                                                                             caplog):
    """PU-GAN cells kept from a run on AVX-512 BF16 beside new ones trained on AMX tiles would
    give a folder no one machine reproduces: the run says so, with the cap that makes oneDNN
    train as the earlier machine did; it stays silent when it computes no such cell, keeps
    none, or the folder's last run trained alike."""
    import logging

    import benchmarks.sweep as sweep
    from benchmarks.results import record_run

    avx512 = "AMD EPYC, PU-GAN trains in bfloat16 on AVX-512 BF16 there"
    amx = "Intel Xeon, PU-GAN trains in bfloat16 on AMX tiles there"
    capped = ("Intel Xeon (oneDNN held to AVX512_CORE_BF16), PU-GAN trains in bfloat16 on "
              "AVX-512 BF16 there")
    assert sweep.arithmetic_text(amx) == "bfloat16 on AMX tiles"
    assert sweep.arithmetic_text("AMD EPYC") is None and sweep.arithmetic_text(None) is None
    # runs recorded before the unit was named: an AMD processor's bfloat16 is AVX-512 BF16
    older = "AMD EPYC, PU-GAN trains in bfloat16 there"
    assert sweep.arithmetic_change(older, capped) is None
    assert sweep.arithmetic_change(older, amx)[2] == "AVX512_CORE_BF16"
    assert sweep.arithmetic_change("Intel Xeon, PU-GAN trains in bfloat16 there", amx) is None
    assert sweep.arithmetic_change(older, "X, PU-GAN trains in float32 there")[2] == ""
    # which cells carry the machine's arithmetic: PU-GAN with precision "auto" only
    assert sweep._auto_precision_pugan("pugan", "{}")
    assert not sweep._auto_precision_pugan("pugan", '{"precision": "float32"}')
    assert not sweep._auto_precision_pugan("iforest", "{}")

    out = tmp_path / "out"
    out.mkdir()
    assert sweep.mixed_arithmetic_warning(out, amx) is None       # no earlier run
    record_run(out, config="s", processor=avx512)
    text = sweep.mixed_arithmetic_warning(out, amx)
    assert "trained PU-GAN in bfloat16 on AVX-512 BF16" in text
    assert "ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16" in text
    assert sweep.mixed_arithmetic_warning(out, avx512) is None
    float32 = sweep.mixed_arithmetic_warning(out, "Some CPU, PU-GAN trains in float32 there")
    assert "in float32" in float32 and "into an empty folder" in float32
    # runs that name no arithmetic (a cluster's, a shallow sweep's) leave the earlier one
    record_run(out, config="s", processor=None)
    record_run(out, config="s", processor="Intel Xeon")
    assert sweep.last_training_processor(out) == avx512
    assert "in bfloat16 on AVX-512 BF16" in sweep.mixed_arithmetic_warning(out, amx)
    record_run(out, config="s", processor=amx)
    assert sweep.mixed_arithmetic_warning(out, amx) is None

    # in a run (t-centroid standing in for PU-GAN): a seed added to a folder whose first run
    # was another machine's
    def warned(seeds, auto=True):
        monkeypatch.setattr(sweep, "_auto_precision_pugan", lambda name, params: auto)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="benchmarks"):
            run_sweep(config(["t-centroid"], seeds=seeds), out, n_jobs=1, progress=False)
        record_run(out, config="s", processor=avx512)   # as if that run had been the EPYC's
        return any("rounds differently" in r.getMessage() for r in caplog.records)

    monkeypatch.setattr(sweep, "processor_summary", lambda **kw: amx)
    assert not warned((0,))             # nothing kept
    assert warned((0, 1))
    assert not warned((0, 1))           # nothing computed
    assert not warned((0, 1, 2), auto=False)   # no PU-GAN cell of the machine's arithmetic
