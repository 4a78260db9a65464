#!/usr/bin/env python3
"""Data-parallel training under a real `mpirun` (docs/distributed.md), two processes over TCP
as between machines. Standard library only. One case per ctest entry:

  mpi_train_test.py CASE NNC MPIRUN WORKDIR HOST_TRAINER

  equal_one_step  one step of 2 processes on a global batch split 18/19 equals one process
                  to 1e-6 of each tensor's largest magnitude (dropout included)
  equal_epochs    3 shuffled epochs with a validation split and a last, smaller batch: equal
                  to 1e-3; rank 0 alone prints one progress line per epoch and writes the log;
                  one more epoch resumed from each checkpoint (--init) is equal too
  kill_rank       SIGKILL of process 1 mid-run: mpirun ends non-zero within 30 s, and no
                  checkpoint (nor a temporary of one) is left
  mismatch        processes given different models, or different options, stop at start-up
                  with an error naming what differs; a process failing alone ends the job
  host_api        a host program owning MPI trains through TrainerOptions::mpiCommunicator:
                  2 processes equal 1 to 1e-3 (tests/mpi/host_trainer.cpp)
  overlap         overlap forced on (NNC_MPI_OVERLAP=1) with small buckets
                  (NNC_MPI_BUCKET_BYTES), every process reports buckets
                  reduced while its backward pass computed (NNC_MPI_PROFILE), and the weights
                  equal, bit for bit, those of the same job reducing after the backward pass
                  (NNC_MPI_OVERLAP=0) and, to 1e-3, one process's
  factors         a 64 -> 64 dense layer's weight gradient travels as its factors (the
                  layer's inputs and output gradients, MPI_Allgatherv) and the 64 -> 3 output
                  layer's whole (NNC_MPI_PROFILE): one step of 23 rows split 11/12 equals one
                  process to 1e-6, 2 epochs of batches 9, 9, 5 to 1e-3; with so few bytes
                  reduced a step, the reduction runs after the backward pass (automatic choice);
                  NNC_MPI_PROFILE=kernels times both entries' kernels on each process
"""
import json, os, random, re, signal, struct, subprocess, sys, time

CASE, NNC, MPIRUN, WORK, HOST = sys.argv[1:6]
MPI = [MPIRUN, '--allow-run-as-root', '--oversubscribe', '--mca', 'btl', 'tcp,self']
# Only loopback between the simulated machines; no warnings about other interfaces.
MPI += ['--mca', 'btl_tcp_if_include', 'lo', '--mca', 'oob_tcp_if_include', 'lo']
if 'ASAN_OPTIONS' in os.environ:
    # scripts/sanitize.sh: Open MPI's own leaks are suppressed by library name, which needs its
    # components kept loaded (and slow unwinding through its frames).
    supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lsan-openmpi.supp')
    lsan = 'suppressions=%s:fast_unwind_on_malloc=0' % supp
    os.environ['LSAN_OPTIONS'] = lsan + (':' + os.environ['LSAN_OPTIONS'] if os.environ.get('LSAN_OPTIONS') else '')
    MPI += ['--mca', 'mca_base_component_disable_dlclose', '1']
    for var in ('ASAN_OPTIONS', 'LSAN_OPTIONS', 'UBSAN_OPTIONS'):
        if var in os.environ:
            MPI += ['-x', var]

MODEL = """model tiny
input x: f32[batch, {features}]
input label: i32[batch]
h = dense(x, {units}, activation = relu)
d = dropout(h, 0.25)
logits = dense(d, 3)
output probs = softmax(logits)
train {{
  loss = cross_entropy(logits, label)
  optimizer = adam(lr = 1e-2)
  batch = {batch}
  epochs = {epochs}
  validation = {validation}
}}
"""


def fail(msg):
    print('FAIL:', msg)
    sys.exit(1)


def write_npy(path, dtype, shape, values):
    descr = {'f': '<f4', 'i': '<i4'}[dtype]
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ''.join('%d, ' % d for d in shape))
    header += ' ' * (63 - (10 + len(header)) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode())
        f.write(struct.pack('<%d%s' % (len(values), dtype), *values))


def make_data(n, seed=0, width=12):
    rng = random.Random(seed)
    xs, ys = [], []
    for _ in range(n):
        row = [rng.gauss(0, 1) for _ in range(width)]
        xs += row
        ys.append(int(row[0] + row[1] > 0) + int(row[2] > 1))
    x, y = os.path.join(WORK, 'x%d_%d.npy' % (n, width)), os.path.join(WORK, 'y%d_%d.npy' % (n, width))
    write_npy(x, 'f', (n, width), xs)
    write_npy(y, 'i', (n,), ys)
    return 'npy:x=%s,label=%s' % (x, y)


def make_model(name, units=16, batch=32, epochs=1, validation=0, features=12):
    path = os.path.join(WORK, name)
    with open(path, 'w') as f:
        f.write(MODEL.format(features=features, units=units, batch=batch, epochs=epochs, validation=validation))
    return path


def load_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, t in header.items():
        if name != '__metadata__':
            a, b = t['data_offsets']
            out[name] = struct.unpack('<%df' % ((b - a) // 4), body[a:b])
    return out


def compare(a, b, tol):
    """Fails unless every tensor of checkpoint b is within tol * (its largest magnitude in a)."""
    ta, tb = load_safetensors(a), load_safetensors(b)
    if sorted(ta) != sorted(tb):
        fail('the checkpoints hold different tensors: %s vs %s' % (sorted(ta), sorted(tb)))
    worst = 0.0
    for name in ta:
        scale = max(max(abs(v) for v in ta[name]), 1e-30)
        worst = max(worst, max(abs(u - v) for u, v in zip(ta[name], tb[name])) / scale)
    print('largest difference relative to the tensor\'s magnitude: %.3g (tolerance %g)' % (worst, tol))
    if not worst <= tol or (tol == 0 and ta != tb):
        fail('2 processes differ from 1 by %.3g > %g' % (worst, tol))


def run(cmd, timeout=120):
    print('$', ' '.join(cmd))
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    print(p.stdout, p.stderr, sep='\n')
    return p


def train_pair(model, data, extra=()):
    one, two = os.path.join(WORK, 'one.safetensors'), os.path.join(WORK, 'two.safetensors')
    p1 = run([NNC, model, 'train', '--data', data, '--threads', '1', '--save', one] + list(extra))
    if p1.returncode != 0:
        fail('the single process failed')
    p2 = run(MPI + ['-np', '2', NNC, model, 'train', '--data', data, '--threads', '1', '--save', two] + list(extra))
    if p2.returncode != 0:
        fail('mpirun -np 2 failed')
    return one, two, p1, p2


def rank_pid(mpirun_pid, rank):
    """The pid of the nnc process of `rank` among mpirun's children."""
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
            if ppid != mpirun_pid:
                continue
            with open('/proc/%s/environ' % entry, 'rb') as f:
                env = f.read().split(b'\0')
            if b'OMPI_COMM_WORLD_RANK=%d' % rank in env:
                return int(entry)
        except (OSError, IndexError, ValueError):
            continue
    return None


os.makedirs(WORK, exist_ok=True)
if CASE == 'equal_one_step':
    data = make_data(37)
    one, two, _, _ = train_pair(make_model('step.nn', batch=37), data)
    compare(one, two, 1e-6)
elif CASE == 'equal_epochs':
    data = make_data(203)
    log = os.path.join(WORK, 'log.jsonl')
    one, two, _, p2 = train_pair(make_model('epochs.nn', epochs=3, validation=0.1), data, ['--log', log])
    compare(one, two, 1e-3)
    lines = [l for l in p2.stdout.splitlines() if l.startswith('Epoch ')]
    if len(lines) != 3:
        fail('expected one progress line per epoch from rank 0 alone (3), got %d' % len(lines))
    if 'val_loss' not in lines[-1]:
        fail('the progress line lacks the validation loss')
    with open(log) as f:
        if len(f.read().splitlines()) != 3:
            fail('the log should hold one line per epoch, written by rank 0 alone')
    # Resuming (--init) under mpirun: one more epoch from each checkpoint.
    model = os.path.join(WORK, 'epochs.nn')
    one2, two2 = os.path.join(WORK, 'one2.safetensors'), os.path.join(WORK, 'two2.safetensors')
    common = ['train', '--data', data, '--threads', '1', '--epochs', '1']
    if run([NNC, model] + common + ['--init', one, '--save', one2]).returncode != 0:
        fail('resuming in one process failed')
    if run(MPI + ['-np', '2', NNC, model] + common + ['--init', two, '--save', two2]).returncode != 0:
        fail('resuming under mpirun failed')
    compare(one2, two2, 1e-3)
elif CASE == 'kill_rank':
    data = make_data(4000)
    ckdir = os.path.join(WORK, 'ckpt')
    os.makedirs(ckdir, exist_ok=True)
    for f in os.listdir(ckdir):
        os.remove(os.path.join(ckdir, f))
    ckpt = os.path.join(ckdir, 'w.safetensors')
    cmd = MPI + ['-np', '2', NNC, make_model('long.nn', batch=8, epochs=100000), 'train', '--data', data,
                 '--threads', '1', '--save', ckpt]
    print('$', ' '.join(cmd))
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = p.stdout.readline()  # the first epoch's line: both processes are training
    if not line.startswith('Epoch'):
        p.kill()
        fail('no progress line before the kill: %r' % line)
    victim = rank_pid(p.pid, 1)
    if victim is None:
        p.kill()
        fail('process 1 not found among mpirun\'s children')
    os.kill(victim, signal.SIGKILL)
    start = time.time()
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        fail('the job was still running 30 s after process 1 was killed')
    print(p.stdout.read())
    print('mpirun ended %.1f s after the kill with status %d' % (time.time() - start, p.returncode))
    if p.returncode == 0:
        fail('mpirun exited 0 after a process was killed')
    if os.listdir(ckdir):
        fail('files left in the checkpoint directory: %s' % os.listdir(ckdir))
elif CASE == 'mismatch':
    data = make_data(64)
    a, b = make_model('a.nn', units=16), make_model('b.nn', units=17)
    common = ['train', '--data', data, '--threads', '1']
    p = run(MPI + ['-np', '1', NNC, a] + common + [':', '-np', '1', NNC, b] + common, timeout=60)
    if p.returncode == 0 or 'differ in the model' not in p.stderr:
        fail('different models were not reported')
    p = run(MPI + ['-np', '1', NNC, a] + common + [':', '-np', '1', NNC, a] + common + ['--batch', '16'], timeout=60)
    if p.returncode == 0 or 'differ in the training options' not in p.stderr:
        fail('different options were not reported')
    p = run(MPI + ['-np', '1', NNC, a] + common + [':', '-np', '1', NNC, a, 'train', '--data', 'npy:x=/nonexistent.npy'],
            timeout=60)
    if p.returncode == 0 or 'process 1 of 2' not in p.stderr:
        fail('an error of one process alone did not end the job with its message')
elif CASE == 'host_api':
    data = make_data(203)
    model = make_model('host.nn', validation=0.1)
    one, two = os.path.join(WORK, 'one.safetensors'), os.path.join(WORK, 'two.safetensors')
    for n, out in (('1', one), ('2', two)):
        p = run(MPI + ['-np', n, '-x', 'OMP_NUM_THREADS=1', HOST, model, data, out])
        if p.returncode != 0:
            fail('the host program failed with %s process(es)' % n)
    compare(one, two, 1e-3)
elif CASE == 'overlap':
    data = make_data(203)
    model = make_model('overlap.nn', units=40, epochs=2)
    one, two, _, _ = train_pair(model, data)
    # 256-byte buckets: the hidden layer's 480 weights are two pieces, every other tensor a
    # bucket of its own, so the output layer's buckets are final long before the entry ends.
    overlapped = os.path.join(WORK, 'overlapped.safetensors')
    after = os.path.join(WORK, 'after.safetensors')
    common = [NNC, model, 'train', '--data', data, '--threads', '1']
    # Forced on: this model's 1.4 KB a step are far fewer than the automatic choice's threshold.
    env = ['-x', 'NNC_MPI_PROFILE=1', '-x', 'NNC_MPI_BUCKET_BYTES=256', '-x', 'NNC_MPI_OVERLAP=1']
    p = run(MPI + ['-np', '2'] + env + common + ['--save', overlapped])
    if p.returncode != 0:
        fail('mpirun -np 2 with overlap failed')
    reports = re.findall(r'overlap: (\d+) buckets a step, (\d+) of (\d+) ready during the backward pass', p.stderr)
    if len(reports) != 2:
        fail('expected an overlap report from each process, got %s' % reports)
    for per_step, ready, total in reports:
        # Each process's first step reduces after the entry; later ones as buckets complete.
        if int(per_step) < 3 or int(ready) == 0:
            fail('no bucket was ready while the backward pass computed: %s' % (reports,))
    p = run(MPI + ['-np', '2', '-x', 'NNC_MPI_OVERLAP=0', '-x', 'NNC_MPI_BUCKET_BYTES=256'] + common + ['--save', after])
    if p.returncode != 0:
        fail('mpirun -np 2 without overlap failed')
    compare(after, overlapped, 0)
    compare(one, overlapped, 1e-3)
elif CASE == 'factors':
    data = make_data(23, width=64)
    # A layer wide enough that its weight gradient (64 x 64) outweighs its factors for a batch.
    path = make_model('wide.nn', units=64, batch=23, features=64)
    one, two, _, _ = train_pair(path, data)
    compare(one, two, 1e-6)
    # The profile: h.weight's 4,096 floats travel as 2 factors; the reduced bytes are h.bias
    # (64), out.weight (192) and out.bias (3): the output layer, whose factors (23 x 67)
    # would outweigh its gradient, is reduced whole. NNC_MPI_PROFILE=kernels prints the same
    # line (the overlap case checks =1) and each entry's kernels.
    p = run(MPI + ['-np', '2', '-x', 'NNC_MPI_PROFILE=kernels', NNC, path, 'train', '--data', data, '--threads', '1'])
    if p.returncode != 0:
        fail('mpirun -np 2 with NNC_MPI_PROFILE=kernels failed')
    # Each process times its entries' kernels: the update entry computes h.weight's gradient
    # from the gathered factors (a matmul), the gradient entry the forward product.
    entries = re.findall(r'  (gradient|update) entry: ([0-9.]+) ms a step\n((?:    [0-9.]+ ms  .*\n)*)', p.stderr)
    if sorted(e[0] for e in entries) != ['gradient', 'gradient', 'update', 'update']:
        fail('expected the gradient and update entries\' kernels from each process, got:\n' + p.stderr)
    for entry, total, kernels in entries:
        if float(total) <= 0 or 'matmul' not in kernels:
            fail('the %s entry\'s kernel profile names no timed product:\n%s' % (entry, p.stderr))
    reports = re.findall(r'(\d+) bytes reduced per step, (\d+) bytes of gradient factors gathered per step \((\d+) factors\)',
                         p.stderr)
    if len(reports) != 2:
        fail('expected a profile line from each process, got %s' % reports)
    for reduced, gathered, factors in reports:
        if int(reduced) != 4 * (64 + 192 + 3) or int(factors) != 2 or int(gathered) not in (11 * 128 * 4, 12 * 128 * 4):
            fail('the dense layer\'s weight gradient did not travel as its factors alone: %s' % (reports,))
    # 1,036 bytes a step: too few for a reduction thread to pay, so the automatic choice
    # (NNC_MPI_OVERLAP unset) reduces after the backward pass.
    if len(re.findall(r'no overlap \(automatic: 1036 bytes reduced per step', p.stderr)) != 2:
        fail('the automatic choice did not turn the overlap off for 1,036 bytes a step')
    make_model('wide.nn', units=64, batch=9, epochs=2, features=64)
    one, two, _, _ = train_pair(path, data)
    compare(one, two, 1e-3)
else:
    fail('unknown case ' + CASE)
print('PASS')
