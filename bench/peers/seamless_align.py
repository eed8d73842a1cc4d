"""PyTorch CPU peer of bench/seamless_align.ts: the original's pyramid (the fixture's twin,
tests/fixtures/seamless/torch_pyramid.py) aligning a stack section by section, each section to
the previous aligned one at level 0 under no_grad, with the chunked Pearson correlation
(eval/cpc.py's measure, numpy) of each section with its neighbour before and after.
Prints {"sections_per_s": ...}.

usage: seamless_align.py SIZE DIM K SECTIONS"""
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "seamless"))
from torch_pyramid import EPyramid  # noqa: E402

size, dim, k, n = (int(a) for a in sys.argv[1:5])
torch.manual_seed(0)
net = EPyramid(size, k, 1280)
yy, xx = np.meshgrid(np.arange(dim), np.arange(dim), indexing="ij")
secs = [(np.sin(0.37 * (xx - 0.7 * z) + 0.21 * yy) * 0.3 + 0.5).astype(np.float32) for z in range(n)]


def cpc(a, b, c=32):
    t = lambda x: x[: x.shape[0] // c * c, : x.shape[1] // c * c].reshape(x.shape[0] // c, c, -1, c).transpose(0, 2, 1, 3).reshape(-1, c * c)
    a, b = t(a.astype(np.float64)), t(b.astype(np.float64))
    a = a - a.mean(1, keepdims=True); b = b - b.mean(1, keepdims=True)
    va, vb = (a * a).sum(1), (b * b).sum(1)
    ok = (va > 1e-12) & (vb > 1e-12)
    return float(((a * b).sum(1)[ok] / np.sqrt(va[ok] * vb[ok])).mean())


def align():
    out = [secs[0]]
    with torch.no_grad():
        for z in range(1, n):
            x = torch.tensor(np.stack([secs[z], out[-1]]))[None]
            pred, _ = net(x, 0, False)
            a = pred[0, 0].numpy()
            cpc(secs[z - 1], secs[z]); cpc(out[-1], a)
            out.append(a)


align()
t0 = time.perf_counter()
align()
print(json.dumps({"sections_per_s": (n - 1) / (time.perf_counter() - t0)}))
