"""PyTorch side of bench/nostripesnet.ts: NoStripesNet's PatchUNet + PatchDiscriminator (the
paper's architecture, as in the original's network/models), CPU float32.

Usage: nostripesnet.py forward|step H W [REPEATS]
Prints one JSON line: {"seconds": best time, "cpu_seconds": process CPU time (user + system) of
that run, "peak_rss_bytes": ru_maxrss}.
Run with OMP_NUM_THREADS=2 (the side-by-side condition).
"""
import json
import resource
import sys
import time

import torch
import torch.nn as nn

torch.manual_seed(0)


def bn(c):
    return nn.BatchNorm2d(c, eps=1e-3, track_running_stats=False)


def ch(i, w=64):
    return min(w * 2 ** (i - 1), 8 * w)


class PatchUNet(nn.Module):
    def __init__(self, h, w, depth=8):
        super().__init__()
        D = depth
        p = [(h, w)]
        for _ in range(D):
            p.append((p[-1][0] // 2, p[-1][1] // 2))
        for i in range(1, D + 1):
            if i == 1:
                m = nn.Sequential(nn.Conv2d(1, ch(1), 4, 2, 1), nn.LeakyReLU(0.2))
            elif i == D:
                m = nn.Sequential(nn.Conv2d(ch(D - 1), ch(D), 4, 2, 1), nn.ReLU())
            else:
                m = nn.Sequential(nn.Conv2d(ch(i - 1), ch(i), 4, 2, 1), bn(ch(i)), nn.LeakyReLU(0.2))
            setattr(self, f"down{i}", m)
        for k in range(1, D + 1):
            cin = ch(D) if k == 1 else 2 * ch(D - k + 1)
            ih, iw = p[D - k + 1]
            th, tw = p[D - k]
            op = (th - 2 * ih, tw - 2 * iw)
            if k == D:
                m = nn.Sequential(nn.ConvTranspose2d(cin, 1, 4, 2, 1, output_padding=op), nn.Tanh())
            else:
                layers = [nn.ConvTranspose2d(cin, ch(D - k), 4, 2, 1, output_padding=op), bn(ch(D - k))]
                if k <= 3:
                    layers.append(nn.Dropout(0.5))
                layers.append(nn.ReLU())
                m = nn.Sequential(*layers)
            setattr(self, f"up{k}", m)
        self.D = D

    def forward(self, x):
        downs, y = [], x
        for i in range(1, self.D + 1):
            y = getattr(self, f"down{i}")(y)
            downs.append(y)
        for k in range(1, self.D + 1):
            inp = downs[self.D - 1] if k == 1 else torch.cat((y, downs[self.D - k]), dim=1)
            y = getattr(self, f"up{k}")(inp)
        return y


def disc():
    c = lambda i: min(64 * 2 ** i, 512)
    blocks = []
    for i in range(7):
        cin = 2 if i == 0 else c(i - 1)
        blocks.append(nn.Sequential(nn.Conv2d(cin, c(i), 4, 2, 1), nn.Identity() if i == 0 else bn(c(i)), nn.LeakyReLU(0.2)))
    blocks.append(nn.Conv2d(512, 1, 4, 2, 1))
    return nn.Sequential(*blocks)


def main():
    what, H, W = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    reps = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    G, D = PatchUNet(H, W), disc()
    x = torch.tanh(torch.randn(1, 1, H, W))
    mask = torch.zeros_like(x)
    mask[..., :, 100:106] = 1
    clean = x.clone()
    best, best_cpu = float("inf"), 0.0
    if what == "forward":
        G.train()
        with torch.no_grad():
            for _ in range(reps):
                t0, c0 = time.perf_counter(), time.process_time()
                G(x)
                dt, dc = time.perf_counter() - t0, time.process_time() - c0
                if dt < best:
                    best, best_cpu = dt, dc
    else:
        optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        bce, l1 = nn.BCEWithLogitsLoss(), nn.L1Loss()
        for _ in range(reps):
            t0, c0 = time.perf_counter(), time.process_time()
            gen_in = x.masked_fill(mask.bool(), 0)
            fake = gen_in + mask * G(gen_in)
            # D update
            optD.zero_grad()
            pf = D(torch.cat((mask, fake.detach()), 1))
            pr = D(torch.cat((mask, clean), 1))
            lossD = 0.5 * (bce(pf, torch.zeros_like(pf)) + bce(pr, torch.ones_like(pr)))
            lossD.backward()
            optD.step()
            # G update
            optG.zero_grad()
            pf = D(torch.cat((mask, fake), 1))
            m = mask.bool()
            lossG = bce(pf, torch.ones_like(pf)) + 100 * l1(fake[m], clean[m])
            lossG.backward()
            optG.step()
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            if dt < best:
                best, best_cpu = dt, dc
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": best, "cpu_seconds": best_cpu, "peak_rss_bytes": peak, "threads": torch.get_num_threads()}))


main()
