#!/usr/bin/env bash
# The ONNX backend conformance suite (Debian's libonnx-testdata) through nnc: prints the
# passed cases per kind and per op (Markdown tables, as docs/language.md shows them).
#   scripts/onnx_conformance.sh [BUILD_DIR] [--update] [--verbose] [--only SUBSTR]
# --update rewrites tests/onnx_conformance/passing.txt, the allow-list CTest checks
# (`ctest -R onnx.conformance`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
data=${NNC_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}
if [ ! -d "$data/node" ]; then
  echo "onnx_conformance: $data has no ONNX test data (install libonnx-testdata)" >&2
  exit 1
fi
cmake --build "$build" -j2 --target nnc_onnx_conformance >/dev/null
exec "$build/bin/nnc_onnx_conformance" "$data" "$root/tests/onnx_conformance/passing.txt" --table "$@"
