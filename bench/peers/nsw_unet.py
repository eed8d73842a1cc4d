"""PyTorch side of bench/nsw_diffusion_step.ts and bench/nsw_sample.ts: the NSW DDPM U-Net (the
twin of lib/pipelines/nsw/unet.ts in tests/fixtures/nsw/unet_torch.py), CPU float32.

Usage: nsw_unet.py step|sample SIZE CHANNELS(comma list) ATTN(comma list or -) BATCH REPEATS [DDIM]
  step:   Adam steps (ε-prediction: q_sample, forward, MSE, backward, step) on BATCH images
  sample: deterministic DDIM (eta 0, x0 clipped, linear betas, T 1000, "leading" timesteps) of
          BATCH samples with DDIM steps, eval mode, no grad
Prints one JSON line: {"best": seconds, "median": seconds} over REPEATS timed runs after one
warm-up run. Run with OMP_NUM_THREADS=2 (the side-by-side condition).
"""
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "nsw"))
from unet_torch import UNet, timestep_embedding  # noqa: E402

T = 1000


def main():
    what, size = sys.argv[1], int(sys.argv[2])
    ch = [int(c) for c in sys.argv[3].split(",")]
    attn = [] if sys.argv[4] == "-" else [int(a) for a in sys.argv[4].split(",")]
    batch, repeats = int(sys.argv[5]), int(sys.argv[6])
    ddim = int(sys.argv[7]) if len(sys.argv) > 7 else 10
    cfg = {"size": size, "channels": ch, "res_blocks": 1, "attn_res": attn, "groups": 8,
           "classes": 16}
    torch.manual_seed(0)
    net = UNet(cfg)
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    abar = torch.cumprod(1 - betas, 0)
    y = F.one_hot(torch.arange(batch) % 16, 17).float()
    if what == "step":
        net.train()
        opt = torch.optim.Adam(net.parameters(), lr=2e-4)
        x0 = torch.rand(batch, 1, size, size) * 2 - 1

        def run():
            t = torch.randint(0, T, (batch,))
            eps = torch.randn_like(x0)
            a = abar[t].float()[:, None, None, None]
            xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
            temb = timestep_embedding(t.tolist(), ch[0])
            opt.zero_grad()
            loss = F.mse_loss(net(xt, temb, y), eps)
            loss.backward()
            opt.step()
            loss.item()
    else:
        net.eval()
        ratio = T // ddim
        ts = [(ddim - 1 - i) * ratio for i in range(ddim)]

        def run():
            with torch.no_grad():
                x = torch.randn(batch, 1, size, size)
                for s, t in enumerate(ts):
                    at = abar[t].item()
                    ap = abar[ts[s + 1]].item() if s + 1 < len(ts) else 1.0
                    eps = net(x, timestep_embedding([t] * batch, ch[0]), y)
                    x0 = ((x - (1 - at) ** 0.5 * eps) / at ** 0.5).clamp(-1, 1)
                    x = ap ** 0.5 * x0 + (1 - ap) ** 0.5 * eps
                x.numpy()
    run()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    times.sort()
    print(json.dumps({"best": times[0], "median": times[len(times) // 2]}))


if __name__ == "__main__":
    main()
