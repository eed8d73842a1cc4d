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

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def block(i, c):
    return nn.Sequential(
        nn.Conv2d(i, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
        nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU())


class FlairUNet(nn.Module):
    def __init__(self, f, d):
        super().__init__()
        self.d = d
        for i in range(d + 1):
            setattr(self, f"down{i}", block(14 if i == 0 else f * 2 ** (i - 1), f * 2 ** i))
        for i in range(d, 0, -1):
            setattr(self, f"up{i}", nn.ConvTranspose2d(f * 2 ** i, f * 2 ** (i - 1), 2, stride=2))
            setattr(self, f"dec{i}", block(2 * f * 2 ** (i - 1), f * 2 ** (i - 1)))
        self.head = nn.Conv2d(f, 3, 1)

    def forward(self, x):
        n, c, s, h, w = x.shape
        y = x.reshape(n, c * s, h, w)
        skips = []
        for i in range(self.d + 1):
            if i > 0:
                y = F.max_pool2d(y, 2)
            y = getattr(self, f"down{i}")(y)
            skips.append(y)
        for i in range(self.d, 0, -1):
            y = getattr(self, f"up{i}")(y)
            y = getattr(self, f"dec{i}")(torch.cat([y, skips[i - 1]], 1))
        return self.head(y)


def flair_loss(logits, target, eps=0.01):
    m = target[:, 0:1]
    sm = target * (1 - eps) + eps / 2
    bce = lambda c, w=None: F.binary_cross_entropy_with_logits(logits[:, c:c + 1], sm[:, c:c + 1], weight=w)
    return bce(0) + bce(1, m) + 100 * bce(2, m)


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
