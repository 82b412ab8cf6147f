#!/usr/bin/env bash
# The device check of the CUDA backend, for a session lent a GPU machine (../shared/DESIGN.md, "The GPU
# machine"): one prepared run that builds ember with EMBER_CUDA=ON there, runs the GPU tests and the
# CUDA benchmark against PyTorch on the same GPU, and leaves everything under $OUT.
#
# Here, once: `python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --platform
# manylinux_2_28_x86_64 -d .whl "scipy-openblas32>=0.3.29,<0.4"` (.whl is git-ignored), then e.g.
#   run(command="bash tools/gpu_check.sh", carry=[".whl"], timeout_s=540)
# The machine downloads nothing: scipy-openblas32 comes from .whl, the rest is installed there.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/gpu_check}"
mkdir -p "$OUT"
step() { echo "== $* ($(date +%T))" | tee -a "$OUT/steps.txt"; }

step "GPU"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true
head -15 "$OUT/nvidia-smi.txt"
step "scipy-openblas32 from .whl"
python3 -m pip install -q --no-index .whl/*.whl 2>&1 | tail -2
step "build (EMBER_CUDA=ON)"
if ! CMAKE_BUILD_PARALLEL_LEVEL=16 EMBER_CUDA=ON python3 -m pip install --no-build-isolation --no-deps . \
  > "$OUT/build.txt" 2>&1; then
  tail -60 "$OUT/build.txt"
  exit 1
fi
step "device"
(cd /tmp && python3 -c "import ember; print(ember.__file__, ember.cuda.is_available(), ember.cuda.get_device_name())") \
  2>&1 | tee "$OUT/device.txt"
step "GPU tests"
(cd /tmp && python3 -m pytest -q -p no:cacheprovider --rootdir="$OLDPWD" "$OLDPWD"/tests/test_cuda*.py \
  -rfEx 2>&1) | tail -60 | tee "$OUT/tests.txt"
step "benchmark"
(cd /tmp && timeout 300 python3 "$OLDPWD/benchmarks/bench_cuda.py" --quick --json "$OUT/bench_cuda.json" 2>&1) \
  | tee "$OUT/bench_cuda.txt"
step "done"
