# pugan-bench: `make` alone prints the documented targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# exact versions of every dependency but torch (pinned below): `make lock` writes it
LOCK := constraints.txt
N_JOBS ?= 2
# test processes of make test (pytest-xdist); each test that starts workers starts its own
TEST_JOBS ?= 2
# where `make gpu-checks` writes its files
GPU_OUT ?= results/gpu
# extra pip arguments for torch. Empty: pip's own sources decide (a local CPU wheel where
# pip is configured with one); on a machine that installs from PyPI, give the CPU index:
#   make install TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_CPU_INDEX := --index-url https://download.pytorch.org/whl/cpu
TORCH_PIP_ARGS ?=
# --keep-rows to keep the committed rows of unchanged cells in tune and the sweeps (make
# refresh-results sets it); empty: a clone computes every cell
KEEP_ROWS ?=
# string hashing fixed, so that set order inside libraries (the CD diagram's crossbars in
# scikit-posthocs) and hence every regenerated figure is the same from run to run
export PYTHONHASHSEED = 0

.PHONY: help install lock test lint reproduce-paper tune sweep-imbalance smoke ablation report check-regression update-reference bench bench-compare gpu-checks scale-curves clean

help: ## list the documented targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(LOCK)
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (set PYTHON=...)"; exit 1; }
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, so no later step asks for a newer one; which build pip finds is up to its
	# sources: PyPI's Linux wheel is the CUDA build, so say where the CPU one is with
	# TORCH_PIP_ARGS (set above), and the line after says which build landed
	$(PY) -m pip install -q torch==2.13.0 $(TORCH_PIP_ARGS)
	@$(PY) -c "import torch; cuda = torch.version.cuda; print('torch', torch.__version__, 'CPU build' if cuda is None else f'built for CUDA {cuda}: for the CPU build, rerun with TORCH_PIP_ARGS=\"$(TORCH_CPU_INDEX)\" after rm -rf $(VENV)')"
	$(PY) -m pip install -q -c $(LOCK) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv: torch==2.13.0 first (TORCH_PIP_ARGS for the CPU index), then the project with dev extras at the versions in constraints.txt

lock: ## refresh constraints.txt from what .venv holds now (after changing dependencies in pyproject.toml)
	[ -x $(PY) ] || { echo "no $(VENV): run make install first"; exit 1; }
	{ echo "# exact versions for make install (pip -c); refreshed by make lock; torch is pinned in the Makefile"; \
	  $(PY) -m pip freeze --exclude-editable | grep -viE '^(torch|nvidia-|triton)[=_-]' ; } > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK)

# one BLAS/OpenMP thread per test process: the tests fit small models, where threads only add
# contention (a small boosting fit took 57 s with 2 OpenMP threads on a loaded machine, 0.6 s with 1)
# pytest's "no tests collected" (exit 5) is named here: make turns every failing recipe's code
# into its own 2, so a caller could not tell it from a failing test
test: $(STAMP) ## run the test suite in TEST_JOBS (default 2) pytest-xdist processes (CPU, a few minutes)
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -q -n $(TEST_JOBS) \
	  || { rc=$$?; [ $$rc -ne 5 ] || echo "make test: pytest collected no tests (exit 5): a suite that runs nothing proves nothing" >&2; exit $$rc; }

lint: $(STAMP) ## ruff over the code
	$(VENV)/bin/ruff check pugan baselines benchmarks tests perf experiments

reproduce-paper: $(STAMP) ## Tables 1 and 2 on the 10 report seeds, with intervals and paired tests, into results/paper, reports/ and the README
	$(PY) -m benchmarks run benchmarks/configs/paper.yaml --out results/paper --n-jobs $(N_JOBS) $(KEEP_ROWS)
	$(PY) -m benchmarks report results/paper --readme README.md --html

tune: $(STAMP) ## tune every paper detector on development seeds (equal grids) into benchmarks/configs/tuning/paper.yaml
	$(PY) -m benchmarks tune benchmarks/configs/tune-paper.yaml --out results/tune-paper --write benchmarks/configs/tuning/paper.yaml --n-jobs $(N_JOBS) $(KEEP_ROWS)
	$(PY) -m benchmarks tune benchmarks/configs/tune-paper-2pct.yaml --out results/tune-paper-2pct --write benchmarks/configs/tuning/paper-2pct.yaml --n-jobs $(N_JOBS) $(KEEP_ROWS)

sweep-imbalance: $(STAMP) ## anomaly ratio x labelled fraction sweep into results/imbalance and reports/figures
	$(PY) -m benchmarks run benchmarks/configs/imbalance.yaml --out results/imbalance --n-jobs $(N_JOBS) $(KEEP_ROWS)
	$(PY) -m benchmarks report results/imbalance
	$(PY) -m benchmarks report results/paper --readme README.md --html   # the scorecard reads it

smoke: $(STAMP) ## one-minute end-to-end harness check with real detectors at tiny settings (results/smoke)
	$(PY) -m benchmarks run benchmarks/configs/smoke.yaml --out results/smoke --n-jobs $(N_JOBS)
	$(PY) -m benchmarks report results/smoke --no-figures --no-table1 --reports-dir results/smoke

ablation: $(STAMP) ## PU-GAN ablation on moons-paper and kddcup99-low, report seeds 0-2 (results/ablation, reports/ablation.md)
	$(PY) -m benchmarks ablation --seeds 0-2 --allow-report-seeds --out results/ablation --n-jobs $(N_JOBS)

report: $(STAMP) ## regenerate one sweep folder's tables and figures and the HTML page (DIR, default results/paper)
	$(PY) -m benchmarks report $(or $(DIR),results/paper) --html

update-reference: $(STAMP) ## rerun the reference cells (benchmarks/configs/reference.yaml) and store results/reference/reference.csv; on purpose, never in CI
	$(PY) -m benchmarks regression update --n-jobs $(N_JOBS) --no-progress

check-regression: $(STAMP) ## rerun the reference cells in a fresh folder; fail naming each score below its reference by more than its tolerance
	$(PY) -m benchmarks regression check --n-jobs $(N_JOBS) --no-progress

bench: $(STAMP) ## performance suite (perf/, pytest-benchmark; JSON in .benchmarks) and its ratios to IForest
	$(PY) -m pytest perf --benchmark-enable --benchmark-autosave --benchmark-storage=.benchmarks -p no:cacheprovider -q -W ignore::UserWarning
	$(PY) -m benchmarks.perf.summary --storage .benchmarks

gpu-checks: $(STAMP) ## on a machine with CUDA: the CUDA tests, `gpu-rows`, and PU-GAN's fit on GPU vs one CPU thread (results/gpu; docs/speed.md)
	PY=$(PY) bash perf/gpu_checks.sh $(GPU_OUT)

bench-compare: $(STAMP) ## compare the two newest saved `make bench` runs, by the time each recorded (pytest-benchmark compare)
	runs="$$($(PY) -m benchmarks.perf.summary --storage .benchmarks --newest 2)" && \
	  $(VENV)/bin/pytest-benchmark --storage .benchmarks compare --group-by group --columns mean,stddev,rounds --sort name $$runs

scale-curves: $(STAMP) ## fit/score time vs training size (2k-500k rows) into results/scale/scale.csv and reports/figures/scale_curves.{png,svg,md}
	$(PY) -m benchmarks scale-curves

clean: ## remove caches (keeps .venv, results and the saved `make bench` runs in .benchmarks)
	rm -rf .pytest_cache .ruff_cache

.PHONY: unknown-types benchmark benchmark-quick refresh-results

unknown-types: $(STAMP) ## KDD with each attack family held out of training in turn (results/unknown_types, reports/unknown_types.md)
	$(PY) -m benchmarks run benchmarks/configs/unknown_types.yaml --out results/unknown_types --n-jobs $(N_JOBS) $(KEEP_ROWS)
	$(PY) -m benchmarks report results/unknown_types
	$(PY) -m benchmarks report results/paper --readme README.md --html   # the scorecard reads it

benchmark: $(STAMP) ## PU leaderboard: every bundled dataset, 5 seeds, 14 detectors (results/benchmark; reduced deep-model budgets, see the config)
	$(PY) -m benchmarks run benchmarks/configs/benchmark.yaml --out results/benchmark --n-jobs $(N_JOBS) $(KEEP_ROWS)
	$(PY) -m benchmarks report results/benchmark

benchmark-quick: $(STAMP) ## seeds 0 and 1 of make benchmark, for a first look (results/benchmark; the full run reuses them)
	$(PY) -m benchmarks run benchmarks/configs/benchmark.yaml --out results/benchmark --seeds 0,1 --n-jobs $(N_JOBS)
	$(PY) -m benchmarks report results/benchmark

# what the tests require current, in the order each reads the one before: the tunings choose
# the paper run's tuned settings, and the scorecard in README reads all three sweeps. With
# --keep-rows a cell whose code and settings are unchanged keeps its committed row, so only
# the cells a change touched run again (without it a clone, which has no cells/, computes
# every cell; `pugan-bench stale` counts those cells and their cell seconds); the paper
# sweep's reports are written after each sweep that feeds them; `make benchmark
# KEEP_ROWS=--keep-rows` does the same for the leaderboard. The
# kept rows keep their processor's arithmetic: a run on another warns, and on a processor
# with AMX `ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 make refresh-results` trains as AVX-512 BF16
refresh-results: $(STAMP) ## after a code change: the cells it touched in the tunings, then the paper, imbalance and unknown-types sweeps, and their reports (hours on 2 cores if PU-GAN's cells are touched)
	$(MAKE) tune KEEP_ROWS=--keep-rows
	$(MAKE) reproduce-paper KEEP_ROWS=--keep-rows
	$(MAKE) sweep-imbalance KEEP_ROWS=--keep-rows
	$(MAKE) unknown-types KEEP_ROWS=--keep-rows
