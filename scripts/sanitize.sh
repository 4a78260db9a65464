#!/usr/bin/env bash
# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer, plus every fuzz
# target for a short bounded time, from ONE Clang build (CI runs this; see README).
#
#   scripts/sanitize.sh                    build build-sanitize, run ctest there (fuzz tests included)
#   scripts/sanitize.sh --fuzz-seconds S   fuzz each target S seconds (default 15)
#   scripts/sanitize.sh --no-fuzz          leave the fuzz targets out of the ctest run
#   scripts/sanitize.sh --gcc              GCC instead of clang-19 (no fuzz targets)
#   scripts/sanitize.sh --build-dir DIR    another build directory (default build-sanitize)
#   scripts/sanitize.sh -- CTEST_ARGS...   passed to ctest, e.g. -- -R Hostile -j1
#
# One build serves both jobs: every library is compiled with -fsanitize=address,undefined
# (errors not recoverable: the first report fails the test that triggered it, including
# reports from the `nnc` processes that end-to-end tests start), those a fuzz target links
# also with libFuzzer's coverage instrumentation (-DNNC_FUZZ=ON), so the same objects link
# the test binaries and the fuzz_* targets; the `fuzz` ctest label runs each target on its
# seed corpus plus fresh mutations. Excluded: the `install` test (it links a user's project
# against the installed library, which a sanitizer build is not meant for) and the `peers`
# tests (PyTorch agreement and PyTorch's ONNX exports: under the sanitizers their time goes to
# nnc compiling and training whole models, paths that Examples.*, the ONNX unit tests and
# onnx.conformance run here too; they run in the normal build). Long fuzzing runs:
# scripts/fuzz.sh.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-sanitize"
fuzz=1
fuzz_seconds=15
compiler=clang
ctest_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build="$2"; shift 2 ;;
    --no-fuzz) fuzz=0; shift ;;
    --fuzz-seconds) fuzz_seconds="$2"; shift 2 ;;
    --gcc) compiler=gcc; fuzz=0; shift ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "sanitize.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

start=$(date +%s)
fuzz_flags=()
if [[ $compiler == clang ]]; then
  export CC=clang-19 CXX=clang++-19
  fuzz_flags=(-DNNC_FUZZ=ON -DNNC_FUZZ_SECONDS="$fuzz_seconds")
fi
# Libraries -O1 -g1: a fraction of -O2's compile time, line numbers in every report. Test
# binaries and the driver's command files -O0: half the compile time of -O1, and they do
# little work of their own (NNC_GLUE_OPTIMIZATION).
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1" \
  -DCMAKE_C_FLAGS_RELEASE="-O1 -g1" -DNNC_GLUE_OPTIMIZATION=-O0 -DNNC_SANITIZE=address,undefined "${fuzz_flags[@]}" >/dev/null
cmake --build "$build"
built=$(date +%s)

# detect_leaks: leaks fail the run too. exitcode 23: a sanitizer report in an `nnc` started by
# a test is never mistaken for nnc's own exit status 1 (an error in the user's input).
export ASAN_OPTIONS="detect_leaks=1:exitcode=23:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=23${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
exclude='install|bench|peers'
[[ $fuzz == 1 ]] || exclude="$exclude|fuzz"
status=0
ctest --test-dir "$build" --output-on-failure -j2 -LE "$exclude" "${ctest_args[@]}" || status=1
end=$(date +%s)
echo "sanitize.sh: build $((built - start))s, tests and fuzzing $((end - built))s; $([[ $status == 0 ]] && echo clean || echo FAILED)"
exit $status
