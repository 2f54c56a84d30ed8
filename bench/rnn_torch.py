#!/usr/bin/env python3
"""PyTorch side of bench/rnn.ts: training samples/s for the same models and optimizer (SGD lr 0.01).
Run at PyTorch's best CPU setting here: OPENBLAS_NUM_THREADS=1 and torch.set_num_threads(2).
Prints one JSON line: {"lstm": sps, "gru": sps, "transformer": sps}."""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch

torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
torch.set_flush_denormal(True)  # as tessera's kernels do (denormal operands are ~100x slower on x86)
torch.manual_seed(0)
which = sys.argv[1:] or ["lstm", "gru", "transformer"]
seconds = float(os.environ.get("BENCH_SECONDS", "3"))


class Rnn(torch.nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.rnn = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(8, 64, batch_first=True)
        self.out = torch.nn.Linear(64, 1)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.out(y[:, -1])


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        layer = torch.nn.TransformerEncoderLayer(128, 4, dim_feedforward=256, dropout=0.0, batch_first=True)
        self.enc = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.out = torch.nn.Linear(128, 1)

    def forward(self, x):
        return self.out(self.enc(x).mean(1))


def run(model, x, y):
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.MSELoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()
        n += 1
    return n * x.shape[0] / (time.perf_counter() - t0)


res = {}
for w in which:
    if w in ("lstm", "gru"):
        res[w] = run(Rnn(w), torch.randn(64, 50, 8), torch.randn(64, 1))
    else:
        res[w] = run(Encoder(), torch.randn(32, 128, 128), torch.randn(32, 1))
print(json.dumps(res))
