"""PyTorch side of bench/flair_train_step.ts and bench/flair_infer_volume.ts: the Flair
Visibility 2.5D U-Net (lib/pipelines/flair/model.ts; the twin of tests/fixtures/flair/torch_unet.py)
and its loss, CPU float32, on 256x256 slices.

Usage: flair_unet.py train|infer WIDTH DEPTH BATCH SLICES
  train: Adam steps (forward, loss, backward, step) on batches of BATCH, SLICES slices in all
  infer: eval-mode forward of a volume of SLICES slices in batches of BATCH
Prints one JSON line: {"seconds": time of the timed slices, "slices_per_s"}.
One warm-up batch is not timed. Run with OMP_NUM_THREADS=2 (the side-by-side condition).
"""
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "flair"))
from flair_unet_torch import FlairUNet, flair_loss as _loss  # noqa: E402


def flair_loss(logits, target):
    return _loss(logits, target)[0]


def main():
    what, width, depth, batch, slices = sys.argv[1], *map(int, sys.argv[2:6])
    net = FlairUNet(width, depth)
    x = torch.randn(batch, 2, 7, 256, 256)
    target = (torch.rand(batch, 3, 256, 256) > 0.5).float()
    if what == "train":
        net.train()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)

        def run():
            opt.zero_grad()
            flair_loss(net(x), target).backward()
            opt.step()
    else:
        net.eval()

        def run():
            with torch.no_grad():
                net(x)
    run()
    t0 = time.perf_counter()
    for _ in range(slices // batch):
        run()
    secs = time.perf_counter() - t0
    print(json.dumps({"seconds": secs, "slices_per_s": (slices // batch) * batch / secs}))


if __name__ == "__main__":
    main()
