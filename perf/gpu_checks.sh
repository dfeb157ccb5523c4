#!/usr/bin/env bash
# PU-GAN on a CUDA device, checked and timed in one run (docs/speed.md, section "GPU"):
#   1. the CUDA tests (fit, inversion, scoring, save and load across devices), which skip on a
#      machine without CUDA and so never run in CI;
#   2. the `gpu-rows` benchmark group (fit and scoring rows/s on the GPU);
#   3. PU-GAN's fit on kddcup99-low, development seeds, on the GPU and, at the same time in
#      another process, on one CPU thread: the paired speed-up and AUPRC difference.
# Usage: bash perf/gpu_checks.sh OUT_DIR [SEEDS]   (PY names the interpreter; default python3)
# Each step has its own time limit and writes into OUT_DIR as it goes, so a step that fails or
# runs out of time leaves the others' results; the script's status is the first failure's.
set -uo pipefail
out=${1:?usage: gpu_checks.sh OUT_DIR [SEEDS]}
seeds=${2:-1000-1004}
py=${PY:-python3}
mkdir -p "$out" && out=$(cd "$out" && pwd) || exit
case $py in */*) py=$(cd "$(dirname "$py")" && pwd)/$(basename "$py") || exit ;; esac
cd "$(dirname "$0")/.." || exit  # the repository's root: its packages and experiments
# a file left from an earlier run must not pass as this one's (and the fits append)
rm -f "$out"/{device.txt,tests.log,gpu-rows.json,gpu-rows.log,compare.txt} \
  "$out"/fit-{cpu,cuda}.{csv,log}
export PYTHONPATH=.${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
status=0
keep() { local rc=$?; [ $status -ne 0 ] || status=$rc; }

"$py" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; \
print('torch', torch.__version__, 'on', torch.cuda.get_device_name(), \
'bf16', torch.cuda.is_bf16_supported())" | tee "$out/device.txt" || exit
# the CPU baseline runs beside the GPU steps, in its own process, for the whole script; it
# is stopped with the script
timeout 900 "$py" experiments/pugan_fit_speed.py --seeds "$seeds" --label cpu \
  --out "$out/fit-cpu.csv" > "$out/fit-cpu.log" 2>&1 &
cpu_fit=$!
trap 'kill $cpu_fit 2>/dev/null' EXIT
trap 'exit 130' INT TERM
timeout 300 "$py" -m pytest -q -p no:cacheprovider -rs tests/test_pugan_speed.py \
  tests/test_pugan.py -k "cuda or device" > "$out/tests.log" 2>&1; keep
tail -3 "$out/tests.log"
timeout 300 "$py" -m pytest -q -p no:cacheprovider perf/test_pugan_speed_bench.py -k gpu_rows \
  --benchmark-enable --benchmark-json="$out/gpu-rows.json" -W ignore::UserWarning \
  > "$out/gpu-rows.log" 2>&1; keep
tail -3 "$out/gpu-rows.log"
timeout 600 "$py" experiments/pugan_fit_speed.py --seeds "$seeds" --label cuda \
  --param device=cuda --out "$out/fit-cuda.csv" 2>&1 | tee "$out/fit-cuda.log"; keep
wait $cpu_fit; keep
tail -2 "$out/fit-cpu.log"
if [ -s "$out/fit-cpu.csv" ] && [ -s "$out/fit-cuda.csv" ]; then
  "$py" experiments/pugan_fit_speed.py --compare "$out/fit-cpu.csv" "$out/fit-cuda.csv" \
    > "$out/compare.txt" && cat "$out/compare.txt"; keep
else
  echo "no pair of fits to compare: see $out/fit-cpu.log and $out/fit-cuda.log"
fi
exit $status
