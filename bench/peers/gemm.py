"""Peer timing for bench/gemm.ts: torch.mm (float32, CPU) on the same shapes.

Usage: OMP_NUM_THREADS=2 /usr/bin/python3 bench/peers/gemm.py M,N,K [M,N,K ...] [--reps R] [--min-seconds S]
Prints one JSON line per shape: {"m":..,"n":..,"k":..,"threads":..,"best_ms":..,"gflops":..}.
Best of R timed calls (after one warm-up), each shape run at least S seconds in all.
"""
import json
import sys
import time

import torch


def main() -> None:
    args = sys.argv[1:]
    reps, min_s, shapes = 5, 1.0, []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--reps":
            reps = int(args[i + 1]); i += 2; continue
        if a == "--min-seconds":
            min_s = float(args[i + 1]); i += 2; continue
        shapes.append(tuple(int(x) for x in a.split(",")))
        i += 1
    torch.manual_seed(0)
    for m, n, k in shapes:
        a = torch.rand(m, k, dtype=torch.float32)
        b = torch.rand(k, n, dtype=torch.float32)
        c = torch.empty(m, n, dtype=torch.float32)
        torch.mm(a, b, out=c)
        best = float("inf")
        t_start = time.perf_counter()
        r = 0
        while r < reps or time.perf_counter() - t_start < min_s:
            t0 = time.perf_counter()
            torch.mm(a, b, out=c)
            best = min(best, time.perf_counter() - t0)
            r += 1
            if r > 10000:
                break
        print(json.dumps({"m": m, "n": n, "k": k, "threads": torch.get_num_threads(),
                          "best_ms": best * 1e3, "gflops": 2 * m * n * k / best / 1e9}), flush=True)


if __name__ == "__main__":
    main()
