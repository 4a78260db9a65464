#!/usr/bin/env bash
# Installs every dependency of nnc from Debian 12 (bookworm) packages. Idempotent: packages
# already installed are skipped, so CI and developers can run it every time.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  llvm-19-dev            # code generation: ORC LLJIT, new pass manager
  libboost-dev           # Spirit X3 grammar
  googletest libgtest-dev libbenchmark-dev
  zlib1g-dev             # gzip IDX files
  nlohmann-json3-dev     # JSON logs, safetensors headers
  libcli11-dev           # the command line
  dataset-fashion-mnist  # the default data
  python3 python3-numpy python3-torch   # the numerical reference and speed peer
  libopenblas-dev libdnnl-dev           # kernel peers in benchmarks only
  clang-19 libclang-rt-19-dev libfuzzer-19-dev   # the sanitizer suite and the fuzz targets
  openmpi-bin libopenmpi-dev            # data-parallel training (mpirun; docs/distributed.md)
  libonnx-dev libprotobuf-dev protobuf-compiler python3-onnx libonnx-testdata  # ONNX import and its conformance suite
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
