#!/usr/bin/env bash
# Builds ember with sanitizers and runs the test suite (and a longer fuzz run) under them.
#
#   tools/sanitize.sh                  # AddressSanitizer + UndefinedBehaviorSanitizer
#   SANITIZE=thread tools/sanitize.sh  # ThreadSanitizer over the threading tests (serial kernels)
#   tools/sanitize.sh tests/test_ops.py -x   # other pytest arguments
#
# RelWithDebInfo; buffers of exactly the size asked for and never reused
# (EMBER_EXACT_ALLOCATIONS), so ASan sees an overrun by one element. The
# sanitized module runs from a private copy of the package with site-packages
# on PYTHONPATH under `python -S`, so an installed ember cannot shadow it.
# Needs the build tools of the editable install (pybind11, scipy-openblas32,
# ninja) and the test extras. Run it before each release; it takes ~15 minutes
# on 2 cores, more than CI's budget allows beside the normal build.
set -euo pipefail
cd "$(dirname "$0")/.."
SANITIZE=${SANITIZE:-address,undefined}
BUILD=build-sanitize-${SANITIZE//,/-}
PY=${PYTHON:-python3}

"$PY" -c "import pybind11, scipy_openblas32" 2>/dev/null || { echo "needs pybind11 and scipy-openblas32"; exit 1; }
OPENMP=ON
[[ $SANITIZE == *thread* ]] && OPENMP=OFF  # libgomp is not instrumented: its barriers would show as races
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_SANITIZE="$SANITIZE" -DEMBER_OPENMP=$OPENMP \
  -DSKBUILD_PROJECT_NAME=ember -DPython_EXECUTABLE="$(command -v "$PY")" \
  -Dpybind11_DIR="$("$PY" -m pybind11 --cmakedir)" > /dev/null
cmake --build "$BUILD"

PKG=$(mktemp -d)
trap 'rm -rf "$PKG"' EXIT
cp -r python/ember "$PKG/ember"
rm -f "$PKG"/ember/_C*.so
cp "$BUILD"/_C*.so "$PKG/ember/"
SITE=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")

if [[ $SANITIZE == *thread* ]]; then
  RUNTIME="$(gcc -print-file-name=libtsan.so) $(gcc -print-file-name=libstdc++.so)"
  # Kernels are serial in this build (EMBER_OPENMP=OFF); what is checked is ember's own
  # threads: the parallel backward executor, concurrent backward, locks.
  # numpy's OpenBLAS threads are not instrumented either (their memsets show as races): one thread.
  export OPENBLAS_NUM_THREADS=1
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 report_signal_unsafe=0"
  TESTS=(tests/test_threads.py tests/test_parallel_backward.py tests/test_reliability.py -k "thread or concurrent or parallel")
else
  # libstdc++ preloaded too: python does not link it, and ASan's throw interceptor needs it at start-up.
  RUNTIME="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)"
  # CPython's own allocations are not freed at exit: leak reports would be about Python, not ember.
  export ASAN_OPTIONS="detect_leaks=0 halt_on_error=1 abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1"
  export EMBER_FUZZ_EXAMPLES=${EMBER_FUZZ_EXAMPLES:-60}
  TESTS=(tests)
fi
[[ $# -gt 0 ]] && TESTS=("$@")
echo "running ${TESTS[*]} under -fsanitize=$SANITIZE"
LD_PRELOAD="$RUNTIME" PYTHONPATH="$PKG:$SITE" PYTHONMALLOC=malloc "$PY" -S -m pytest -q -p no:cacheprovider --capture=sys "${TESTS[@]}"
