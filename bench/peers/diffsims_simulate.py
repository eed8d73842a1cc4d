"""numpy side of bench/diffsims_simulate.ts: the same kinematical profiles as
lib/pipelines/diffsims/kinematic.ts, written the way diffsims computes them (vectorised
reciprocal lattice, Ewald excitation error, linear shape factor, |F|^2 with Lobato factors and
Debye-Waller; spots on a zeroed detector blurred by scipy.ndimage.gaussian_filter over the whole
image, as diffsims' get_diffraction_pattern does; radial mean with np.bincount; crop 13:160 and
divide by the maximum). One process, OMP_NUM_THREADS=1 (the bench runs two side by side).

Usage: diffsims_simulate.py IN.json   (IN: basis, atoms, rots [n x 9], wavelength, calibration,
relrod, size, sigma, nbins). Prints {"seconds": compute time, "cpu_seconds": its CPU time,
"profiles": n, "checksum": sum}.
"""
import json
import sys
import time

import numpy as np
from scipy.ndimage import gaussian_filter

cfg = json.load(open(sys.argv[1]))
A = np.array(cfg["basis"], dtype=float).reshape(3, 3)
lam, cal, relrod, size = cfg["wavelength"], cfg["calibration"], cfg["relrod"], cfg["size"]
sigma, nb = cfg["sigma"], cfg["nbins"]
coeffs = np.array([a["coeffs"] for a in cfg["atoms"]]).reshape(-1, 5, 2)
xyz = np.array([a["xyz"] for a in cfg["atoms"]])
occ = np.array([a["occupancy"] for a in cfg["atoms"]])
bdw = np.array([a["b"] for a in cfg["atoms"]])

t0, c0 = time.perf_counter(), time.process_time()
B = np.linalg.inv(A).T
side = size / 2 * cal
rmax = side * np.sqrt(2)
hm = [int(np.ceil(rmax * np.linalg.norm(A[i]))) for i in range(3)]
h, k, l = np.meshgrid(*[np.arange(-m, m + 1) for m in hm], indexing="ij")
hkl_all = np.stack([h.ravel(), k.ravel(), l.ravel()], 1)
hkl_all = hkl_all[np.any(hkl_all != 0, axis=1)]
g0_all = hkl_all @ B
g2_all = np.sum(g0_all**2, 1)
m = g2_all <= rmax**2
hkl_all, g0_all, g2_all = hkl_all[m], g0_all[m], g2_all[m]
c = size / 2
yy, xx = np.mgrid[0:size, 0:size]
rr = np.hypot(xx + 0.5 - c, yy + 0.5 - c)
width = np.sqrt(2) * (c - 0.5) / nb
bins = np.minimum(nb - 1, np.floor(rr / width).astype(int)).ravel()
counts = np.maximum(np.bincount(bins, None, nb), 1)
rs = 1 / lam
checksum = 0.0
rots = np.array(cfg["rots"], dtype=float).reshape(-1, 3, 3)
for R in rots:
    g = g0_all @ R.T
    rspot2 = g[:, 0] ** 2 + g[:, 1] ** 2
    eps = rs - np.sqrt(np.maximum(rs**2 - rspot2, 0)) - g[:, 2]
    m = (rspot2 < rs**2) & (np.abs(eps) < relrod) & (np.abs(g[:, 0]) < side) & (np.abs(g[:, 1]) < side)
    hkl, gs, g2, e = hkl_all[m], g[m], g2_all[m], eps[m]
    bg = g2[:, None, None] * coeffs[None, :, :, 1]
    f = np.sum(coeffs[None, :, :, 0] * (2 + bg) / (1 + bg) ** 2, -1)
    F = np.sum(f * occ * np.exp(2j * np.pi * hkl @ xyz.T - 0.25 * np.outer(g2, bdw)), -1)
    I = (1 - np.abs(e) / relrod) * np.abs(F) ** 2
    px = np.trunc(gs[:, 0] / cal + size / 2).astype(int)
    py = np.trunc(gs[:, 1] / cal + size / 2).astype(int)
    img = np.zeros((size, size))
    img[py, px] = I
    img = gaussian_filter(img, sigma)
    if img.max() > 0:
        img /= img.max()
    prof = np.bincount(bins, img.ravel(), nb) / counts
    x_px = prof[13:160]
    x_px = x_px / max(x_px.max(), 1e-30)
    checksum += float(x_px.sum())
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
                  "profiles": len(rots), "checksum": checksum}))
