#!/usr/bin/python3
"""Peer side of bench/read_sinograms.ts: h5py + numpy.

  read_sinograms.py make PATH [ANGLES ROWS COLS]
      writes a synthetic i12-layout scan (uint16, chunks (1, ROWS, COLS) as a detector writes
      them): 20 darks, 20 flats, ANGLES projections, 20 flats; image_key and rotation_angle.
  read_sinograms.py run PATH ROW0 ROW1 REPEATS
      times reading all sinograms of rows [ROW0, ROW1) and normalising them exactly as
      lib/tomo/normalise.ts does (one h5py slice per contiguous run of frames); prints JSON.
"""
import json
import sys
import time

import h5py
import numpy as np

DATA = "/entry1/tomo_entry/data/data"
KEY = "/entry1/tomo_entry/instrument/detector/image_key"
ANGLE = "/entry1/tomo_entry/data/rotation_angle"


def make(path, angles=1801, rows=64, cols=2560):
    rng = np.random.default_rng(0)
    n_dark, n_flat = 20, 20
    keys = np.concatenate([np.full(n_dark, 2), np.full(n_flat, 1), np.zeros(angles), np.full(n_flat, 1)]).astype(np.int32)
    theta = np.concatenate([np.zeros(n_dark + n_flat), np.linspace(0, 180, angles), np.full(n_flat, 180.0)])
    n = len(keys)
    flat = (30000 + 2000 * np.sin(np.arange(cols) / 50.0))[None, :] * np.ones((rows, 1))
    dark = np.full((rows, cols), 100.0)
    yy, xx = np.mgrid[0:rows, 0:cols]
    with h5py.File(path, "w") as f:
        d = f.create_dataset(DATA, (n, rows, cols), dtype=np.uint16, chunks=(1, rows, cols))
        for i in range(n):
            if keys[i] == 2:
                img = dark + rng.normal(0, 3, (rows, cols))
            elif keys[i] == 1:
                img = flat + rng.normal(0, 50, (rows, cols))
            else:
                t = np.deg2rad(theta[i])
                x0 = cols / 2 + 0.3 * cols * np.cos(t)
                att = np.exp(-0.5 * np.clip(1 - ((xx - x0) / (0.15 * cols)) ** 2, 0, None) * 4)
                img = dark + (flat - dark) * att + rng.normal(0, 30, (rows, cols))
            d[i] = np.clip(img, 0, 65535).astype(np.uint16)
        f.create_dataset(KEY, data=keys)
        f.create_dataset(ANGLE, data=theta)
        f[DATA].attrs["units"] = "counts"


def runs(idx):
    """Contiguous runs [start, stop) of sorted frame indices."""
    out = []
    s = p = idx[0]
    for i in idx[1:]:
        if i != p + 1:
            out.append((s, p + 1))
            s = i
        p = i
    out.append((s, p + 1))
    return out


def read_sinograms(path, r0, r1):
    with h5py.File(path, "r") as f:
        keys = f[KEY][:]
        d = f[DATA]
        proj = np.flatnonzero(keys == 0)
        flats = np.concatenate([d[a:b, r0:r1, :] for a, b in runs(np.flatnonzero(keys == 1))])
        darks = np.concatenate([d[a:b, r0:r1, :] for a, b in runs(np.flatnonzero(keys == 2))])
        data = np.concatenate([d[a:b, r0:r1, :] for a, b in runs(proj)])
    flats = np.nan_to_num(flats.astype(np.float32), nan=0.0)
    darks = np.nan_to_num(darks.astype(np.float32), nan=0.0)
    dark = darks.mean(axis=0, dtype=np.float64).astype(np.float32)
    flat = flats.mean(axis=0, dtype=np.float64).astype(np.float32)
    denom = np.maximum(flat - dark, np.float32(1e-6))
    data = np.nan_to_num(data.astype(np.float32), nan=0.0)
    out = (data - dark) / denom
    out[out <= 0] = np.float32(1e-9)
    out = -np.log(out)
    return np.ascontiguousarray(out.transpose(1, 0, 2))


def read_raw(path, r0, r1):
    with h5py.File(path, "r") as f:
        keys = f[KEY][:]
        d = f[DATA]
        return np.concatenate([d[a:b, r0:r1, :] for a, b in runs(np.flatnonzero(keys == 0))])


def main():
    if sys.argv[1] == "make":
        make(sys.argv[2], *map(int, sys.argv[3:6]))
        return
    path, r0, r1, reps = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    norm, raw = [], []
    for _ in range(reps):
        t = time.perf_counter()
        out = read_sinograms(path, r0, r1)
        norm.append(time.perf_counter() - t)
        t = time.perf_counter()
        read_raw(path, r0, r1)
        raw.append(time.perf_counter() - t)
    print(json.dumps({"normalised_s": norm, "raw_s": raw, "shape": list(out.shape),
                      "checksum": float(out.astype(np.float64).sum())}))


if __name__ == "__main__":
    main()
