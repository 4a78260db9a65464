#!/usr/bin/env bash
# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer, then every fuzz
# target for a short bounded time. Exits non-zero on any test failure or sanitizer report.
#
#   scripts/sanitize.sh                    build build-asan (GCC), run ctest there, then fuzz
#   scripts/sanitize.sh --no-fuzz          skip the fuzzing step (no Clang needed)
#   scripts/sanitize.sh --fuzz-seconds S   fuzz each target S seconds (default 20)
#   scripts/sanitize.sh --build-dir DIR    another build directory (default build-asan)
#   scripts/sanitize.sh -- CTEST_ARGS...   passed to ctest, e.g. -- -R Hostile -j1
#
# Sanitizer errors are not recoverable in this build (-fno-sanitize-recover=all): the first
# report fails the test that triggered it, including reports from the `nnc` processes that
# end-to-end tests start (they are built with the same flags). Excluded: the `install` test
# (it links a user's project against the installed library, which a sanitizer build is not
# meant for). The fuzzing step uses scripts/fuzz.sh (build-fuzz, clang-19).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-asan"
fuzz=1
fuzz_seconds=20
ctest_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build="$2"; shift 2 ;;
    --no-fuzz) fuzz=0; shift ;;
    --fuzz-seconds) fuzz_seconds="$2"; shift 2 ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "sanitize.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

start=$(date +%s)
# -O1 -g1: a fraction of -O2's compile time, line numbers in every report.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1" \
  -DCMAKE_C_FLAGS_RELEASE="-O1 -g1" -DNNC_SANITIZE=address,undefined >/dev/null
cmake --build "$build"
built=$(date +%s)

# detect_leaks: leaks fail the run too. exitcode 23: a sanitizer report in an `nnc` started by
# a test is never mistaken for nnc's own exit status 1 (an error in the user's input).
export ASAN_OPTIONS="detect_leaks=1:exitcode=23:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=23${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
status=0
ctest --test-dir "$build" --output-on-failure -j2 -LE 'install|bench' "${ctest_args[@]}" || status=1
tested=$(date +%s)

if [[ $fuzz == 1 ]]; then
  "$root/scripts/fuzz.sh" --seconds "$fuzz_seconds" all || status=1
fi
end=$(date +%s)
echo "sanitize.sh: build $((built - start))s, tests $((tested - built))s, fuzzing $((end - tested))s; $([[ $status == 0 ]] && echo clean || echo FAILED)"
exit $status
