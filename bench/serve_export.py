"""Export the seed MNIST CNN to ONNX with PyTorch, using the Tessera model's own weights.

usage: python3 bench/serve_export.py WEIGHTS_JSON OUT_ONNX
WEIGHTS_JSON holds Keras-layout weights: conv kernels [kh, kw, in, out], dense kernels [in, out].
The ONNX model takes NHWC float32 [batch, 28, 28, 1] (like the Tessera model) and outputs softmax [batch, 10].
"""
import json
import sys

import torch
from torch import nn


class SeedCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3)
        self.c2 = nn.Conv2d(32, 64, 3)
        self.d1 = nn.Linear(5 * 5 * 64, 64)
        self.d2 = nn.Linear(64, 10)

    def forward(self, x):
        x = x.permute(0, 3, 1, 2)
        x = torch.max_pool2d(torch.relu(self.c1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.c2(x)), 2)
        x = x.permute(0, 2, 3, 1).flatten(1)  # Keras flattens NHWC
        x = torch.relu(self.d1(x))
        return torch.softmax(self.d2(x), dim=1)


def main():
    w = json.load(open(sys.argv[1]))
    m = SeedCnn()
    t = lambda a: torch.tensor(a, dtype=torch.float32)
    with torch.no_grad():
        m.c1.weight.copy_(t(w["c1k"]).permute(3, 2, 0, 1))
        m.c1.bias.copy_(t(w["c1b"]))
        m.c2.weight.copy_(t(w["c2k"]).permute(3, 2, 0, 1))
        m.c2.bias.copy_(t(w["c2b"]))
        m.d1.weight.copy_(t(w["d1k"]).t())
        m.d1.bias.copy_(t(w["d1b"]))
        m.d2.weight.copy_(t(w["d2k"]).t())
        m.d2.bias.copy_(t(w["d2b"]))
    m.eval()
    x = torch.zeros(1, 28, 28, 1)
    torch.onnx.export(
        m, x, sys.argv[2], input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=13,
    )
    probe = t(w["probe"]).reshape(1, 28, 28, 1)
    print(json.dumps(m(probe)[0].tolist()))


if __name__ == "__main__":
    main()
