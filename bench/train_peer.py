"""PyTorch peer for bench/train.ts: the seed dense model and the seed CNN, Adam, random data.

Prints one JSON line: {"results": [{"model", "batch", "samplesPerSec": [runs...], "steps"}], "maxRssKb", ...}.
Run by bench/train.ts with OPENBLAS_NUM_THREADS=1; uses torch.set_num_threads(TORCH_NUM_THREADS, default 2).
bench/train.ts runs it in several configurations (threads, OMP wait policy) and keeps the fastest.
"""
import json
import re
import resource
import sys
import time

import torch
from torch import nn

import os

torch.set_num_threads(int(os.environ.get("TORCH_NUM_THREADS", "2")))
# Flush denormals to zero, as tessera's kernels do: without it, the second moments of Adam decay
# into the denormal range on a repeated batch and every update slows down many times over.
torch.set_flush_denormal(True)
torch.manual_seed(0)


def dense_model():
    return nn.Sequential(nn.Linear(100, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


def cnn_model():
    # channels-first in PyTorch; same layers and parameter count as the Keras model (121,930).
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def run(cfg):
    name, batch = cfg["model"], cfg["batch"]
    model = dense_model() if name == "dense" else cnn_model()
    shape = (batch, 100) if name == "dense" else (batch, 1, 28, 28)
    x = torch.rand(shape)
    y = torch.randint(0, 10, (batch,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()  # softmax + cross-entropy on logits, as tessera fuses them

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    w0 = time.perf_counter()
    i = 0
    while i < cfg["warmup"] or time.perf_counter() - w0 < cfg.get("warmupSeconds", 0):
        step()
        i += 1
    rates = []
    steps_done = []
    for _ in range(cfg["runs"]):
        t0 = time.perf_counter()
        n = 0
        while n < cfg["steps"] and (n < cfg["minSteps"] or time.perf_counter() - t0 < cfg["maxSeconds"]):
            step()
            n += 1
        dt = time.perf_counter() - t0
        rates.append(n * batch / dt)
        steps_done.append(n)
    return {"model": name, "batch": batch, "samplesPerSec": rates, "steps": steps_done}


def main():
    configs = json.loads(sys.argv[1])
    results = [run(c) for c in configs]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    config = torch.__config__.show()
    m = re.search(r"BLAS_INFO=([^,\s]+)", config)
    blas = m.group(1) if m else "?"
    # The build's BLAS_INFO names the interface it was built against; the library actually
    # loaded at run time (Debian's libblas.so.3 alternative: OpenBLAS or the reference BLAS)
    # is what decides speed, so report that too.
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1].split("/")[-2] + "/" + line.split()[-1].split("/")[-1]
                           for line in f if "blas" in line and "/" in line})
    except OSError:
        libs = []
    print(json.dumps({
        "results": results, "maxRssKb": rss, "version": torch.__version__,
        "threads": torch.get_num_threads(), "blas": blas, "blasLoaded": libs, "python": sys.executable,
    }))


if __name__ == "__main__":
    main()
