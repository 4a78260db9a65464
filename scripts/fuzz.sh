#!/usr/bin/env bash
# Fuzzes one of nnc's input parsers with libFuzzer (Clang, AddressSanitizer and
# UndefinedBehaviorSanitizer) for a bounded time.
#
#   scripts/fuzz.sh TARGET [MINUTES]      fuzz TARGET for MINUTES (default 10)
#   scripts/fuzz.sh all [MINUTES]         every target, one after the other, MINUTES each
#
# TARGET is one of: frontend (the .nn front end: parse, check, lower, differentiate,
# optimise), idx, npy, csv, safetensors (the data and checkpoint readers), onnx (the ONNX
# reader and importer).
#
# Options (before TARGET):
#   --seconds S        fuzz S seconds instead of MINUTES
#   --build-dir DIR    the Clang build directory (default: build-fuzz in the repository)
#   --no-build         do not configure or build (ctest's `fuzz` tests use this)
#   --jobs N           N fuzzing processes in parallel (libFuzzer -jobs/-workers; default 1)
#   -- ARGS...         further libFuzzer flags, e.g. -- -only_ascii=1
#
# The first run configures DIR with clang-19 and -DNNC_FUZZ=ON and builds the target and its
# seed corpus (tests/fuzz/make_corpus.py). Inputs that find new coverage accumulate in
# DIR/fuzz/corpus/TARGET, so later runs start where earlier ones stopped. A crash, hang (over
# 10 s on one input), leak, sanitizer report or out-of-memory (over 2 GiB) stops the run with
# a non-zero status and leaves the input in DIR/fuzz/artifacts/TARGET/; reproduce it with
#   DIR/bin/fuzz_TARGET DIR/fuzz/artifacts/TARGET/crash-...
# then fix the bug and add the input as a regression test (tests/hostile/ or
# tests/golden/diagnostics/). See docs/fuzzing.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"
seconds=""
minutes=10
build_it=1
jobs=1
extra=()
targets_all=(frontend idx npy csv safetensors onnx)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --build-dir) build="$2"; shift 2 ;;
    --no-build) build_it=0; shift ;;
    --jobs) jobs="$2"; shift 2 ;;
    -h|--help) usage ;;
    --) shift; extra=("$@"); break ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || usage
target="$1"
if [[ $# -ge 2 ]]; then minutes="$2"; fi
if [[ $# -ge 3 && "$3" == "--" ]]; then extra=("${@:4}"); fi
[[ -n "$seconds" ]] || seconds=$((minutes * 60))

if [[ "$target" == all ]]; then
  targets=("${targets_all[@]}")
else
  [[ " ${targets_all[*]} " == *" $target "* ]] || { echo "fuzz.sh: unknown target '$target' (expected: ${targets_all[*]} or all)" >&2; exit 2; }
  targets=("$target")
fi

if [[ $build_it == 1 ]]; then
  if [[ ! -f "$build/CMakeCache.txt" ]]; then
    CC="${CC:-clang-19}" CXX="${CXX:-clang++-19}" cmake -S "$root" -B "$build" -G Ninja \
      -DNNC_FUZZ=ON -DNNC_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$build" --target "${targets[@]/#/fuzz_}"
fi

status=0
for t in "${targets[@]}"; do
  exe="$build/bin/fuzz_$t"
  [[ -x "$exe" ]] || { echo "fuzz.sh: $exe is not built (run without --no-build)" >&2; exit 1; }
  corpus="$build/fuzz/corpus/$t"
  seeds="$build/fuzz/seeds/$t"
  artifacts="$build/fuzz/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  # Inputs up to 16 KiB of model text (longer seeds, e.g. the 1 MiB golden line, are cut:
  # mutating megabytes costs throughput and finds nothing new) and 8 KiB of data file.
  max_len=8192
  [[ "$t" == frontend ]] && max_len=16384
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [[ -f "$root/tests/fuzz/$t.dict" ]] && args+=(-dict="$root/tests/fuzz/$t.dict")
  if [[ "$jobs" -gt 1 ]]; then args+=(-jobs="$jobs" -workers="$jobs"); fi
  echo "== fuzz_$t for ${seconds}s: $exe ${args[*]} ${extra[*]} $corpus $seeds"
  start=$(date +%s)
  if "$exe" "${args[@]}" "${extra[@]}" "$corpus" "$seeds"; then
    echo "== fuzz_$t: no finding in $(( $(date +%s) - start ))s; corpus: $(ls "$corpus" | wc -l) inputs"
  else
    status=1
    echo "== fuzz_$t: FINDING after $(( $(date +%s) - start ))s; inputs in $artifacts/" >&2
  fi
done
exit $status
