"""PyTorch side of bench/diffsims_train_step.ts: one training step (forward in train mode with
dropout, cross-entropy, backward, Adam) of diffsims XL's 1D CNN (the layers of
lib/pipelines/diffsims/cnn.ts) on a batch of 64 profiles of 147 points, 3 phases, CPU float32.

Usage: diffsims_train_step.py REPEATS. Run with OMP_NUM_THREADS=2.
Prints {"seconds": best step time, "median": median step time}.
"""
import json
import sys
import time

import torch
import torch.nn as nn

torch.manual_seed(0)
torch.set_num_threads(2)
net = nn.Sequential(
    nn.Conv1d(1, 64, 6), nn.ReLU(), nn.MaxPool1d(2),
    nn.Conv1d(64, 64, 6), nn.ReLU(), nn.MaxPool1d(2),
    nn.Dropout(0.5),
    nn.Conv1d(64, 64, 6), nn.ReLU(), nn.MaxPool1d(2),
    nn.Flatten(), nn.Linear(64 * 14, 128), nn.ReLU(), nn.Linear(128, 3),
).train()
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
x = torch.rand(64, 1, 147)
y = torch.randint(0, 3, (64,))
times = []
for _ in range(int(sys.argv[1]) + 3):
    t0 = time.perf_counter()
    loss = nn.functional.cross_entropy(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    float(loss)
    times.append(time.perf_counter() - t0)
times = sorted(times[3:])
print(json.dumps({"seconds": times[0], "median": times[len(times) // 2]}))
