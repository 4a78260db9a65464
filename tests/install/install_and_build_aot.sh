#!/usr/bin/env bash
# Installs nnc to a temporary prefix and builds examples/aot against the installed runtime
# library and headers (libnnc_rt.a, nnc/aot.h, nnc/runtime.h): `nnc compile` writes the
# object and header, cc links them, and the program predicts and trains (the loss goes down).
set -euo pipefail
build_dir=$1
source_dir=$2
prefix=$(mktemp -d /tmp/nnc-install-aot-XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name libnnc_rt.a | head -n 1)")
test -f "$libdir/libnnc_rt.a"
test -f "$prefix/include/nnc/aot.h"
test -f "$prefix/include/nnc/runtime.h"
make -s -f "$source_dir/examples/aot/Makefile" NNC="$build_dir/bin/nnc" NNC_INCLUDE="$prefix/include" \
  NNC_LIB="$libdir" BUILD="$prefix/aot"
"$prefix/aot/aot_mlp" > "$prefix/out.txt"
cat "$prefix/out.txt"
first=$(grep '^step 1 ' "$prefix/out.txt" | awk '{print $4}')
last=$(grep '^step 8 ' "$prefix/out.txt" | awk '{print $4}')
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a) }'
echo "installed runtime: the AOT example predicted and trained (loss $first -> $last)"
