"""Peer measurements for bench/kernels.ts: NumPy and PyTorch fp32 GEMM and the MNIST-CNN
conv2d forward+backward, timed in this process and printed as one JSON object on stdout.

usage: kernels_peer.py '<json config>'
  {"lib": "numpy"|"torch", "threads": n, "gemm": [256, ...], "conv": [32, 128],
   "budget": seconds per measurement, "maxRuns": n}
Thread counts: NumPy's BLAS reads OPENBLAS_NUM_THREADS (set by the caller before start-up);
PyTorch gets torch.set_num_threads(threads) with OPENBLAS_NUM_THREADS=1 so its own pool is
the only one.
"""
import json
import os
import sys
import time


def measure(fn, budget, max_runs):
    t0 = time.perf_counter()
    fn()  # warm-up (also sizes the run count)
    warm = time.perf_counter() - t0
    if warm >= budget / 2:
        return warm, 1  # slow enough that warm-up effects vanish
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    runs = [first]
    n = max(1, min(max_runs, int(budget / max(first, 1e-9))))
    for _ in range(n - 1):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    runs.sort()
    return runs[len(runs) // 2], len(runs)


def blas_name():
    """The BLAS library actually mapped into this process (numpy may link netlib, OpenBLAS, ...)."""
    try:
        with open('/proc/self/maps') as f:
            libs = {line.split()[-1] for line in f if '.so' in line}
    except OSError:
        return 'unknown'
    for key in ('openblas', 'mkl', 'blis', 'atlas'):
        hits = [l for l in libs if key in os.path.basename(l).lower()]
        if hits:
            return os.path.basename(hits[0])
    hits = [l for l in libs if 'blas' in os.path.basename(l).lower()]
    if hits:
        real = os.path.realpath(hits[0])
        return os.path.basename(real) + (' (netlib reference BLAS)' if '/blas/' in real else '')
    return 'unknown'


def main():
    cfg = json.loads(sys.argv[1])
    lib = cfg['lib']
    threads = int(cfg['threads'])
    budget = float(cfg.get('budget', 1.5))
    max_runs = int(cfg.get('maxRuns', 7))
    out = {'lib': lib, 'threads': threads, 'gemm': {}, 'conv': {}}
    import numpy as np

    if lib == 'numpy':
        out['version'] = np.__version__
        rng = np.random.default_rng(0)
        for n in cfg.get('gemm', []):
            a = rng.standard_normal((n, n), dtype=np.float32)
            b = rng.standard_normal((n, n), dtype=np.float32)
            t, runs = measure(lambda: a @ b, budget, max_runs)
            out['gemm'][str(n)] = {'seconds': t, 'runs': runs}
        out['blas'] = blas_name()
    else:
        import torch
        import torch.nn.functional as F

        torch.set_num_threads(threads)
        torch.set_flush_denormal(True)  # as tessera's kernels do
        out['version'] = torch.__version__
        out['torchThreads'] = torch.get_num_threads()
        torch.manual_seed(0)
        with torch.no_grad():
            for n in cfg.get('gemm', []):
                a = torch.randn(n, n)
                b = torch.randn(n, n)
                t, runs = measure(lambda: torch.mm(a, b), budget, max_runs)
                out['gemm'][str(n)] = {'seconds': t, 'runs': runs}
        for batch in cfg.get('conv', []):
            # NCHW is torch's native layout; the shapes are those of the NHWC MNIST CNN.
            x1 = torch.randn(batch, 1, 28, 28)
            w1 = torch.randn(32, 1, 3, 3, requires_grad=True)
            x2 = torch.randn(batch, 32, 13, 13, requires_grad=True)
            w2 = torch.randn(64, 32, 3, 3, requires_grad=True)
            dy1 = torch.randn(batch, 32, 26, 26)
            dy2 = torch.randn(batch, 64, 11, 11)

            def step():
                # conv1: forward + filter grad (its input needs no grad, as in training);
                # conv2: forward + input grad + filter grad
                y1 = F.conv2d(x1, w1)
                y2 = F.conv2d(x2, w2)
                torch.autograd.backward([y1, y2], [dy1, dy2])

            t, runs = measure(step, budget, max_runs)
            out['conv'][str(batch)] = {'seconds': t, 'runs': runs}
        out['blas'] = blas_name()
    print(json.dumps(out))


if __name__ == '__main__':
    main()
