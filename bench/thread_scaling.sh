#!/bin/sh
# Thread scaling of training (issue 14: "every example and a VGG-style model with batchnorm
# train faster on 2 threads than on 1"): for every examples/*.nn and the models in
# bench/models/ that train (vgg_batchnorm.nn, and vgg_plain.nn, the same without batchnorm),
# `nnc FILE bench --json` at 1 and at 2 threads, ROUNDS times, the two thread counts
# interleaved so that each pair sees the same machine load. Prints the training samples per
# second of each run, the 2-thread/1-thread ratio of each pair, and the load average before
# each model.
#
#   bench/thread_scaling.sh [NNC] [SECONDS] [ROUNDS] [MODEL.nn ...]
#       NNC      default build/bin/nnc
#       SECONDS  per throughput figure (bench --seconds), default 1.5
#       ROUNDS   pairs per model, default 3
#       MODEL    default: examples/*.nn bench/models/vgg_batchnorm.nn bench/models/vgg_plain.nn
#
# Each bench run also times inference (two more figures of SECONDS each) and compiles the
# model (cached after the first run), so a round of the 11 models takes about 2 minutes on
# an idle 2-core machine with the defaults. On a shared machine read the ratios, not the
# rates, and the spread across rounds.
set -eu
NNC=${1:-build/bin/nnc}
SECONDS_EACH=${2:-1.5}
ROUNDS=${3:-3}
HERE=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -gt 3 ]; then
  shift 3
  MODELS="$*"
else
  MODELS="$HERE/examples/*.nn $HERE/bench/models/vgg_batchnorm.nn $HERE/bench/models/vgg_plain.nn"
fi
# The training rate from bench --json ("train_samples_per_second": 1234.5,), 0 when absent.
rate() {
  "$NNC" "$1" bench --json --threads "$2" --seconds "$SECONDS_EACH" 2>/dev/null |
    sed -n 's/.*"train_samples_per_second": *\([0-9.]*\).*/\1/p' | head -1 | grep . || echo 0
}
printf '%-24s %-16s %s\n' model "load (1 5 15)" "train samples/s at 1 thread / 2 threads (2T/1T) per round"
for model in $MODELS; do
  name=$(basename "$model" .nn)
  "$NNC" "$model" bench --threads 1 --seconds 0.1 >/dev/null 2>&1 || {
    printf '%-24s does not bench (no train block, or an error)\n' "$name"
    continue
  }
  line=$(printf '%-24s %-16s' "$name" "$(cut -d' ' -f1-3 /proc/loadavg)")
  ratios=""
  r=1
  while [ "$r" -le "$ROUNDS" ]; do
    one=$(rate "$model" 1)
    two=$(rate "$model" 2)
    ratio=$(echo "if ($one > 0) $two / $one else 0" | bc -l | cut -c1-4)
    line="$line $(printf '%.0f/%.0f (%sx)' "$one" "$two" "$ratio")"
    ratios="$ratios $ratio"
    r=$((r + 1))
  done
  echo "$line  median $(echo "$ratios" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')x"
done
