#!/usr/bin/env bash
# Installs nnc to a temporary prefix, builds examples/host against it with find_package(nnc),
# and runs the program: it trains the MLP from C++ and must lower the loss.
set -euo pipefail
build_dir=$1
source_dir=$2
prefix=$(mktemp -d /tmp/nnc-install-XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
test -f "$prefix/include/nnc/nnc.h"
test -f "$prefix/lib/cmake/nnc/nncConfig.cmake"
cmake -S "$source_dir/examples/host" -B "$prefix/host-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/host-build" >/dev/null
"$prefix/host-build/train_mlp" "$source_dir/examples/fashion_mlp.nn" fashion-mnist:train 1024 "$prefix/w.safetensors"
test -s "$prefix/w.safetensors"
echo "installed host program trained and saved its weights"
