#!/usr/bin/python3
"""Peer side of bench/engine_ops.ts: PyTorch CPU (float32) conv2d / conv_transpose2d / matmul
GFLOP/s with the thread count of OMP_NUM_THREADS (the caller sets 2).

  engine_ops.py SPEC_JSON REPEATS   → prints JSON {name: [seconds per repetition...]}
SPEC_JSON: [{"name", "kind": "conv2d"|"conv_transpose2d"|"matmul", shape fields...}, ...]
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
specs = json.loads(sys.argv[1])
reps = int(sys.argv[2])
out = {"threads": torch.get_num_threads(), "times": {}}
g = torch.Generator().manual_seed(0)
for s in specs:
    k = s["kind"]
    if k == "matmul":
        a = torch.randn(s["m"], s["k"], generator=g)
        b = torch.randn(s["k"], s["n"], generator=g)
        fn = lambda: torch.matmul(a, b)
    else:
        x = torch.randn(s["n"], s["cin"], s["h"], s["w"], generator=g)
        if k == "conv2d":
            w = torch.randn(s["cout"], s["cin"], s["k"], s["k"], generator=g) * 0.02
            b = torch.zeros(s["cout"])
            fn = lambda: F.conv2d(x, w, b, s["stride"], s["pad"])
        else:
            w = torch.randn(s["cin"], s["cout"], s["k"], s["k"], generator=g) * 0.02
            b = torch.zeros(s["cout"])
            fn = lambda: F.conv_transpose2d(x, w, b, s["stride"], s["pad"], tuple(s["outpad"]))
        if s.get("backward"):
            x.requires_grad_(True)
            w.requires_grad_(True)
            fwd = fn
            def fn():
                y = fwd()
                y.backward(torch.ones_like(y))
    with torch.no_grad() if not s.get("backward") else torch.enable_grad():
        fn()  # warm-up
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    out["times"][s["name"]] = ts
print(json.dumps(out))
