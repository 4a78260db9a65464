#!/bin/sh
# Data-parallel scaling of a fashion_cnn epoch (docs/distributed.md, "The scaling model"):
#   A  1 process  x 1 thread
#   B  2 processes x 1 thread, mpirun over TCP (--mca btl tcp,self on loopback, as between machines),
#      overlap chosen automatically (off for fashion_cnn with factors: 253 KB reduced a step)
#   C  1 process  x 2 threads
#   D  B with the overlap forced on (NNC_MPI_OVERLAP=1: a reduction thread during the backward
#      pass), to see what the automatic choice saves
#   E  B with every gradient summed whole (NNC_MPI_FACTORS=0: the dense layer's weight gradient
#      does not travel as its factors), to see what the factors save
#   F  B with NNC_MPI_POLL_US=50: the wait after the gradient entry sleeps 50 us between tests
#      (as before session 9) instead of yielding, to see what yielding saves
# on the first IMAGES Fashion-MNIST training images (default 6400: 100 steps of 64), one epoch,
# ROUNDS times (default 2), A B C D E F interleaved so that each round sees the same machine load.
# Prints each run's epoch seconds (as nnc prints them), the ratios A/B and A/C per round, and
# B's and E's per-process compute, wait and reduction-thread times (NNC_MPI_PROFILE=1).
#
#   bench/mpi_scaling.sh [NNC] [IMAGES] [ROUNDS]      (NNC: default build/bin/nnc)
#
# Needs mpirun (openmpi-bin) and /usr/bin/python3 with numpy (to cut the subset into .npy
# files). About 2 minutes on an idle 2-core machine with the defaults, compilation cached.
set -eu
NNC=${1:-build/bin/nnc}
IMAGES=${2:-6400}
ROUNDS=${3:-2}
HERE=$(cd "$(dirname "$0")/.." && pwd)
MODEL=$HERE/examples/fashion_cnn.nn
WORK=${TMPDIR:-/tmp}/nnc_mpi_scaling_$IMAGES
mkdir -p "$WORK"
if [ ! -f "$WORK/x.npy" ]; then
  /usr/bin/python3 - "$WORK" "$IMAGES" <<'PY'
import gzip, sys, numpy as np
work, n = sys.argv[1], int(sys.argv[2])
d = '/usr/share/datasets/fashion-mnist/'
x = np.frombuffer(gzip.open(d + 'train-images-idx3-ubyte.gz').read()[16:], np.uint8).reshape(-1, 28, 28)
y = np.frombuffer(gzip.open(d + 'train-labels-idx1-ubyte.gz').read()[8:], np.uint8)
np.save(work + '/x.npy', x[:n].astype(np.float32))
np.save(work + '/y.npy', y[:n].astype(np.int32))
PY
fi
DATA="npy:image=$WORK/x.npy,label=$WORK/y.npy"
TRAIN="$MODEL train --data $DATA --epochs 1"
MPI="mpirun --allow-run-as-root --oversubscribe -np 2 --bind-to none --mca btl tcp,self --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo"
# The epoch's seconds from nnc's progress line ("Epoch 1/1 ... 12.3s ...").
seconds() { sed -n 's/^Epoch 1\/1.* \([0-9.]*\)s .*/\1/p' | head -1; }
"$NNC" $TRAIN --threads 1 >/dev/null 2>&1 || { echo "nnc failed: $NNC $TRAIN --threads 1" >&2; exit 1; }  # compile once, cache
echo "fashion_cnn, first $IMAGES training images, 1 epoch; load average $(cut -d' ' -f1-3 /proc/loadavg)"
r=1
while [ "$r" -le "$ROUNDS" ]; do
  a=$("$NNC" $TRAIN --threads 1 2>&1 | seconds)
  b=$(NNC_MPI_PROFILE=1 $MPI -x NNC_MPI_PROFILE "$NNC" $TRAIN --threads 1 2>"$WORK/profile.txt" | seconds)
  c=$("$NNC" $TRAIN --threads 2 2>&1 | seconds)
  d=$(NNC_MPI_OVERLAP=1 $MPI -x NNC_MPI_OVERLAP "$NNC" $TRAIN --threads 1 2>/dev/null | seconds)
  e=$(NNC_MPI_FACTORS=0 NNC_MPI_PROFILE=1 $MPI -x NNC_MPI_FACTORS -x NNC_MPI_PROFILE "$NNC" $TRAIN --threads 1 \
        2>"$WORK/profile_e.txt" | seconds)
  f=$(NNC_MPI_POLL_US=50 $MPI -x NNC_MPI_POLL_US "$NNC" $TRAIN --threads 1 2>/dev/null | seconds)
  echo "round $r (load $(cut -d' ' -f1 /proc/loadavg)): A 1x1 ${a}s  B 2 ranks x1 TCP ${b}s  C 1x2 threads ${c}s" \
       " D 2 ranks, overlap forced ${d}s  E 2 ranks, no factors ${e}s  F 2 ranks, sleeping waits ${f}s" \
       "| A/B $(echo "$a / $b" | bc -l | cut -c1-4)x  A/C $(echo "$a / $c" | bc -l | cut -c1-4)x" \
       " A/D $(echo "$a / $d" | bc -l | cut -c1-4)x  A/E $(echo "$a / $e" | bc -l | cut -c1-4)x" \
       " A/F $(echo "$a / $f" | bc -l | cut -c1-4)x"
  echo "  B:"
  sed 's/^/    /' "$WORK/profile.txt"
  echo "  E:"
  sed 's/^/    /' "$WORK/profile_e.txt"
  r=$((r + 1))
done
