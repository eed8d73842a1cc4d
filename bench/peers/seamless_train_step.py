"""PyTorch CPU peer of bench/seamless_train_step.ts: the original's pyramid (the fixture's twin,
tests/fixtures/seamless/torch_pyramid.py) trained the way train.py trains one pair with all
levels fine-tuned: a pass and a pass rotated by 180°, each (similarity + lambda1 * smoothness)/2
backward, then one Adam step. Prints {"steps_per_s": ...}.

usage: seamless_train_step.py SIZE DIM K STEPS"""
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "seamless"))
from torch_pyramid import EPyramid, run_sample  # noqa: E402

size, dim, k, steps = (int(a) for a in sys.argv[1:5])
torch.manual_seed(0)
net = EPyramid(size, k, 1280)
opt = torch.optim.Adam(net.parameters(), lr=4e-5)
yy, xx = np.meshgrid(np.arange(dim), np.arange(dim), indexing="ij")
img = lambda dx: (np.sin(0.37 * (xx - dx) + 0.21 * yy) * 0.3 + 0.5).astype(np.float32)
src = torch.tensor(img(1.5))[None, None]
tgt = torch.tensor(img(0.0))[None, None]


def step():
    opt.zero_grad()
    for s, t in ((src, tgt), (torch.flip(src, [2, 3]), torch.flip(tgt, [2, 3]))):
        _, field = net(torch.cat([s, t], 1), 0, False)
        sim, smo, _ = run_sample(s, t, field, 20)
        ((sim + 0.1 * smo) / 2).backward()
    opt.step()


step()
t0 = time.perf_counter()
for _ in range(steps):
    step()
print(json.dumps({"steps_per_s": steps / (time.perf_counter() - t0), "threads": torch.get_num_threads()}))
