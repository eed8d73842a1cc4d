//! Lumen diffsims kernels for `wasm32-unknown-unknown` with SIMD128: the per-orientation hot
//! loops of lib/pipelines/diffsims/kinematic.ts.
//!
//! * `spots`: reciprocal-lattice points h, k, l (ascending) within `rmax`, rotated, kept where the
//!   Ewald excitation error is within the relrod and the spot lies on the detector; intensity
//!   (1 − |ε|/relrod)·|F|². Positions use the TypeScript code's f64 operations in its order, so
//!   pixels are bit-identical. The scan skips (h, k) rows and l ranges whose beam component
//!   g_z = h·d₁ + k·d₂ + l·d₃ cannot reach the band −relrod ≤ g_z ≤ relrod + ε_max (with a wide
//!   rounding margin), which every kept spot satisfies; the exact test then runs on the rest.
//! * `profile`: Gaussian spots (scipy `gaussian_filter`, mirrored edges, one value per pixel,
//!   the last spot wins) rendered only inside each spot's window into a zeroed scratch image,
//!   then each window read once (maximum, radial-bin sums) and zeroed again: the radial mean of
//!   the pattern divided by its maximum without touching the rest of the detector.
//! * `render` + `integrate`: the full normalised pattern and its radial mean (for noise, which
//!   needs every pixel).
//!
//! Memory is managed by the caller (lib/wasm/load.ts `WasmArena`); nothing here allocates.
//! `no_std`, no external crates; `exp` is fdlibm's (< 1 ulp).
#![no_std]

use core::arch::wasm32::*;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[inline(always)]
fn f64_sqrt(x: f64) -> f64 {
    f64x2_extract_lane::<0>(f64x2_sqrt(f64x2_splat(x)))
}

#[inline(always)]
fn f64_ceil(x: f64) -> f64 {
    f64x2_extract_lane::<0>(f64x2_ceil(f64x2_splat(x)))
}

#[inline(always)]
fn f64_floor(x: f64) -> f64 {
    f64x2_extract_lane::<0>(f64x2_floor(f64x2_splat(x)))
}

#[inline(always)]
fn f64_nearest(x: f64) -> f64 {
    f64x2_extract_lane::<0>(f64x2_nearest(f64x2_splat(x)))
}

#[inline(always)]
fn fabs(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & !(1u64 << 63))
}

/// fdlibm `__ieee754_exp` (Sun Microsystems, freely redistributable).
fn exp(x: f64) -> f64 {
    const LN2_HI: f64 = 6.93147180369123816490e-01;
    const LN2_LO: f64 = 1.90821492927058770002e-10;
    const INV_LN2: f64 = 1.44269504088896338700e+00;
    const P1: f64 = 1.66666666666666019037e-01;
    const P2: f64 = -2.77777777770155933842e-03;
    const P3: f64 = 6.61375632143793436117e-05;
    const P4: f64 = -1.65339022054652515390e-06;
    const P5: f64 = 4.13813679705723846039e-08;
    if x != x {
        return x;
    }
    if x > 709.782712893383973096 {
        return f64::INFINITY;
    }
    if x < -745.13321910194110842 {
        return 0.0;
    }
    if fabs(x) < 3.7252902984e-09 {
        return 1.0 + x;
    }
    let k = f64_nearest(x * INV_LN2);
    let hi = x - k * LN2_HI;
    let lo = k * LN2_LO;
    let r = hi - lo;
    let t = r * r;
    let c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    let y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    let ki = k as i64;
    if ki >= -1021 {
        y * f64::from_bits(((ki + 1023) as u64) << 52)
    } else {
        y * f64::from_bits(((ki + 1023 + 1000) as u64) << 52) * f64::from_bits(((1023 - 1000) as u64) << 52)
    }
}

/// The integers t with a ≤ t·d ≤ b, intersected with [−m, m], as (lo, hi) (empty: lo > hi).
#[inline(always)]
fn band(a: f64, b: f64, d: f64, m: i32) -> (i32, i32) {
    let mf = m as f64;
    if fabs(d) < 1e-300 {
        return if a <= 0.0 && 0.0 <= b { (-m, m) } else { (1, 0) };
    }
    let (mut t0, mut t1) = (a / d, b / d);
    if d < 0.0 {
        core::mem::swap(&mut t0, &mut t1);
    }
    let lo = f64_ceil(t0);
    let hi = f64_floor(t1);
    let lo = if lo < -mf { -mf } else { lo };
    let hi = if hi > mf { mf } else { hi };
    if lo > hi {
        (1, 0)
    } else {
        (lo as i32, hi as i32)
    }
}

/// |F|² of reflection (h, k, l) (box indices ih, ik, il) with g² = `g2`: scattering factor ×
/// Debye–Waller per species, then Σ occupancy · f · exp(2πi(hx + ky + lz)) over the atoms.
#[inline(always)]
unsafe fn structure2(
    g2: f64,
    ih: usize,
    ik: usize,
    il: usize,
    nh: usize,
    nk: usize,
    per_atom: usize,
    natoms: usize,
    nsp: usize,
    kind: i32,
    atom_sp: *const i32,
    occ: *const f64,
    phase: *const f64,
    species: *const f64,
    fsp: *mut f64,
) -> f64 {
    for s in 0..nsp {
        let c = species.add(11 * s);
        let mut f = 0.0;
        let mut i = 0;
        while i < 10 {
            let bg = *c.add(i + 1) * g2;
            f += if kind == 0 {
                *c.add(i) * (2.0 + bg) / ((1.0 + bg) * (1.0 + bg))
            } else {
                *c.add(i) * exp(-0.25 * bg)
            };
            i += 2;
        }
        *fsp.add(s) = f * exp(-0.25 * *c.add(10) * g2);
    }
    let (mut re, mut im) = (0.0, 0.0);
    for a in 0..natoms {
        let p = phase.add(2 * a * per_atom);
        let (xr, xi) = (*p.add(2 * ih), *p.add(2 * ih + 1));
        let (yr, yi) = (*p.add(2 * (nh + ik)), *p.add(2 * (nh + ik) + 1));
        let (zr, zi) = (*p.add(2 * (nh + nk + il)), *p.add(2 * (nh + nk + il) + 1));
        let (ar, ai) = (xr * yr - xi * yi, xr * yi + xi * yr);
        let (br, bi) = (ar * zr - ai * zi, ar * zi + ai * zr);
        let amp = *fsp.add(*atom_sp.add(a) as usize) * *occ.add(a);
        re += amp * br;
        im += amp * bi;
    }
    re * re + im * im
}

/// Kinematical spots of one orientation.
///
/// `geo` (f64 × 24): reciprocal basis rows rb[0..9], rotation rot[9..18] (row-major), then
/// rmax, 1/λ, relrod, detector half side (Å⁻¹), calibration, size.
/// `dims` (i32 × 6): hm, km, lm, number of atoms, number of species, kind (0 Lobato, 1 Gaussian).
/// `atom_sp`, `occ`: species index and occupancy per atom. `phase`: per atom the complex factors
/// exp(2πi·h·x) for h = −hm..hm, then exp(2πi·k·y), then exp(2πi·l·z) (re, im pairs).
/// `species` (f64 × 11 each): a₁ b₁ … a₅ b₅, B. `fsp`: scratch, one f64 per species.
/// Writes up to `cap` spots (pixel column, row, intensity, box index
/// ((h+hm)(2km+1) + k+km)(2lm+1) + l+lm) and returns the count, or −(count) when it exceeds
/// `cap` (call again with more room). `fcache` (null, or one f64 per box index, NaN where not
/// yet known) keeps |F|² between calls of the same phase, extent and lattice scale.
///
/// # Safety
/// Every pointer must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn spots(
    geo: *const f64,
    dims: *const i32,
    atom_sp: *const i32,
    occ: *const f64,
    phase: *const f64,
    species: *const f64,
    fsp: *mut f64,
    out_px: *mut i32,
    out_py: *mut i32,
    out_i: *mut f64,
    out_idx: *mut i32,
    cap: i32,
    fcache: *mut f64,
) -> i32 {
    let g = |i: usize| *geo.add(i);
    let rb = [g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7), g(8)];
    let rot = [g(9), g(10), g(11), g(12), g(13), g(14), g(15), g(16), g(17)];
    let (rmax, rs, relrod, side, cal, size) = (g(18), g(19), g(20), g(21), g(22), g(23));
    let (hm, km, lm) = (*dims, *dims.add(1), *dims.add(2));
    let (natoms, nsp, kind) = (*dims.add(3) as usize, *dims.add(4) as usize, *dims.add(5));
    let (nh, nk, nl) = ((2 * hm + 1) as usize, (2 * km + 1) as usize, (2 * lm + 1) as usize);
    let per_atom = nh + nk + nl;
    // beam components of the reciprocal basis vectors and the band every kept spot lies in
    let d = [
        rot[6] * rb[0] + rot[7] * rb[1] + rot[8] * rb[2],
        rot[6] * rb[3] + rot[7] * rb[4] + rot[8] * rb[5],
        rot[6] * rb[6] + rot[7] * rb[7] + rot[8] * rb[8],
    ];
    let blen = |i: usize| f64_sqrt(rb[i] * rb[i] + rb[i + 1] * rb[i + 1] + rb[i + 2] * rb[i + 2]);
    let reach = hm as f64 * blen(0) + km as f64 * blen(3) + lm as f64 * blen(6);
    let tol = 1e-9 * (1.0 + reach);
    let q = rs * rs - rmax * rmax;
    let emax = rs - if q > 0.0 { f64_sqrt(q) } else { 0.0 };
    let (lo, hi) = (-relrod - tol, relrod + emax + tol);
    let r2 = km as f64 * fabs(d[1]) + lm as f64 * fabs(d[2]);
    let r3 = lm as f64 * fabs(d[2]);
    let (h0, h1) = band(lo - r2, hi + r2, d[0], hm);
    let mut n: i32 = 0;
    let mut imax = 0.0f64;
    let rmax2 = rmax * rmax;
    let rs2 = rs * rs;
    let mut h = h0;
    while h <= h1 {
        let bh = h as f64 * d[0];
        let (k0, k1) = band(lo - bh - r3, hi - bh + r3, d[1], km);
        let mut k = k0;
        while k <= k1 {
            let bk = bh + k as f64 * d[1];
            let (l0, l1) = band(lo - bk, hi - bk, d[2], lm);
            let mut l = l0;
            while l <= l1 {
                if h == 0 && k == 0 && l == 0 {
                    l += 1;
                    continue;
                }
                let (hf, kf, lf) = (h as f64, k as f64, l as f64);
                let gx0 = hf * rb[0] + kf * rb[3] + lf * rb[6];
                let gy0 = hf * rb[1] + kf * rb[4] + lf * rb[7];
                let gz0 = hf * rb[2] + kf * rb[5] + lf * rb[8];
                let g2 = gx0 * gx0 + gy0 * gy0 + gz0 * gz0;
                l += 1;
                if g2 > rmax2 {
                    continue;
                }
                let gx = rot[0] * gx0 + rot[1] * gy0 + rot[2] * gz0;
                let gy = rot[3] * gx0 + rot[4] * gy0 + rot[5] * gz0;
                let gz = rot[6] * gx0 + rot[7] * gy0 + rot[8] * gz0;
                let rspot2 = gx * gx + gy * gy;
                if rspot2 >= rs2 {
                    continue;
                }
                let eps = rs - f64_sqrt(rs2 - rspot2) - gz;
                if !(fabs(eps) < relrod) {
                    continue;
                }
                if !(fabs(gx) < side && fabs(gy) < side) {
                    continue;
                }
                let (ih, ik, il) = ((h + hm) as usize, (k + km) as usize, (l - 1 + lm) as usize);
                let box_idx = (ih * nk + ik) * nl + il;
                let cached = if fcache.is_null() { f64::NAN } else { *fcache.add(box_idx) };
                let f2 = if cached == cached {
                    cached
                } else {
                    let v = structure2(g2, ih, ik, il, nh, nk, per_atom, natoms, nsp, kind, atom_sp, occ, phase, species, fsp);
                    if !fcache.is_null() {
                        *fcache.add(box_idx) = v;
                    }
                    v
                };
                let inten = (1.0 - fabs(eps) / relrod) * f2;
                if n < cap {
                    let j = n as usize;
                    *out_px.add(j) = (gx / cal + size / 2.0) as i32;
                    *out_py.add(j) = (gy / cal + size / 2.0) as i32;
                    *out_i.add(j) = inten;
                    *out_idx.add(j) = box_idx as i32;
                }
                n += 1;
                if inten > imax {
                    imax = inten;
                }
            }
            k += 1;
        }
        h += 1;
    }
    if n > cap {
        return -n;
    }
    // drop spots with a vanishing structure factor (as kinematic.ts does)
    let thr = imax * 1e-20;
    let mut m = 0usize;
    for j in 0..n as usize {
        if *out_i.add(j) > thr {
            *out_px.add(m) = *out_px.add(j);
            *out_py.add(m) = *out_py.add(j);
            *out_i.add(m) = *out_i.add(j);
            *out_idx.add(m) = *out_idx.add(j);
            m += 1;
        }
    }
    m as i32
}

/// The 1D weights of a spot at `s` on an axis of `n` pixels with mirrored edges (scipy's
/// `reflect` mode), for pixels [lo, lo + 2r]; returns lo.
#[inline(always)]
unsafe fn footprint(s: i32, n: i32, k: *const f64, r: i32, out: *mut f64) -> i32 {
    let lo = if s - r > 0 { s - r } else { 0 };
    for i in 0..(2 * r + 1) as usize {
        *out.add(i) = 0.0;
    }
    for j in [s, -1 - s, 2 * n - 1 - s] {
        let a = if j - r > 0 { j - r } else { 0 };
        let b = if j + r < n - 1 { j + r } else { n - 1 };
        let mut p = a;
        while p <= b {
            *out.add((p - lo) as usize) += *k.add((r + p - j) as usize);
            p += 1;
        }
    }
    lo
}

/// Marks the last spot of every pixel in `owner` (spot index + 1); spots off the detector get 0.
unsafe fn mark(px: *const i32, py: *const i32, n: usize, size: i32, owner: *mut i32) {
    for i in 0..n {
        let (x, y) = (*px.add(i), *py.add(i));
        if x >= 0 && x < size && y >= 0 && y < size {
            *owner.add((y * size + x) as usize) = i as i32 + 1;
        }
    }
}

/// Is spot `i` the one its pixel keeps (and on the detector)?
#[inline(always)]
unsafe fn kept(px: *const i32, py: *const i32, i: usize, size: i32, owner: *const i32) -> bool {
    let (x, y) = (*px.add(i), *py.add(i));
    x >= 0 && x < size && y >= 0 && y < size && *owner.add((y * size + x) as usize) == i as i32 + 1
}

/// Adds spot `i`'s blurred window to `img`; returns (x0, y0, width, height) of the window.
#[inline(always)]
unsafe fn splat(
    x: i32,
    y: i32,
    v: f64,
    size: i32,
    kern: *const f64,
    r: i32,
    fx: *mut f64,
    fy: *mut f64,
    img: *mut f64,
) -> (i32, i32, i32, i32) {
    let x0 = footprint(x, size, kern, r, fx);
    let y0 = footprint(y, size, kern, r, fy);
    let w = if x0 + 2 * r + 1 > size { size - x0 } else { 2 * r + 1 };
    let hgt = if y0 + 2 * r + 1 > size { size - y0 } else { 2 * r + 1 };
    for a in 0..hgt {
        let wy = *fy.add(a as usize) * v;
        if wy == 0.0 {
            continue;
        }
        let row = img.add(((y0 + a) * size + x0) as usize);
        let wv = f64x2_splat(wy);
        let mut b = 0;
        while b + 2 <= w {
            let p = row.add(b as usize) as *mut v128;
            let f = v128_load(fx.add(b as usize) as *const v128);
            v128_store(p, f64x2_add(v128_load(p), f64x2_mul(wv, f)));
            b += 2;
        }
        while b < w {
            *row.add(b as usize) += wy * *fx.add(b as usize);
            b += 1;
        }
    }
    (x0, y0, w, hgt)
}

/// The radial mean of the pattern of `n` spots divided by its maximum, rendering only the spots'
/// windows. `img` (size² f64) and `owner` (size² i32) must be zero and are left zero; `fx`, `fy`
/// hold 2r + 2 f64 each (16-aligned); `bins` (size² i32) and `count` (nbins f64) are the
/// pixel → bin map and the pixels per bin. Writes `out` (nbins) and returns the maximum.
///
/// # Safety
/// Every pointer must be valid for the sizes above.
#[no_mangle]
pub unsafe extern "C" fn profile(
    px: *const i32,
    py: *const i32,
    val: *const f64,
    n: i32,
    size: i32,
    kern: *const f64,
    r: i32,
    bins: *const i32,
    count: *const f64,
    nbins: i32,
    img: *mut f64,
    owner: *mut i32,
    fx: *mut f64,
    fy: *mut f64,
    out: *mut f64,
) -> f64 {
    let n = n as usize;
    mark(px, py, n, size, owner);
    for b in 0..nbins as usize {
        *out.add(b) = 0.0;
    }
    for i in 0..n {
        let v = *val.add(i);
        if v != 0.0 && kept(px, py, i, size, owner) {
            splat(*px.add(i), *py.add(i), v, size, kern, r, fx, fy, img);
        }
    }
    let mut max = 0.0f64;
    for i in 0..n {
        let v = *val.add(i);
        if !(v != 0.0 && kept(px, py, i, size, owner)) {
            continue;
        }
        let (x, y) = (*px.add(i), *py.add(i));
        let lo = |s: i32| if s - r > 0 { s - r } else { 0 };
        let (x0, y0) = (lo(x), lo(y));
        let w = if x0 + 2 * r + 1 > size { size - x0 } else { 2 * r + 1 };
        let hgt = if y0 + 2 * r + 1 > size { size - y0 } else { 2 * r + 1 };
        for a in 0..hgt {
            let base = ((y0 + a) * size + x0) as usize;
            for b in 0..w as usize {
                let p = base + b;
                let u = *img.add(p);
                if u != 0.0 {
                    if u > max {
                        max = u;
                    }
                    *out.add(*bins.add(p) as usize) += u;
                    *img.add(p) = 0.0;
                }
            }
        }
    }
    for i in 0..n {
        let (x, y) = (*px.add(i), *py.add(i));
        if x >= 0 && x < size && y >= 0 && y < size {
            *owner.add((y * size + x) as usize) = 0;
        }
    }
    for b in 0..nbins as usize {
        let c = *count.add(b);
        *out.add(b) = if c > 0.0 && max > 0.0 { *out.add(b) / max / c } else { 0.0 };
    }
    max
}

/// The full pattern (size² f64 in `img`, zeroed here) divided by its maximum; returns the
/// maximum. `owner` as for [`profile`].
///
/// # Safety
/// Every pointer must be valid for the sizes in [`profile`].
#[no_mangle]
pub unsafe extern "C" fn render(
    px: *const i32,
    py: *const i32,
    val: *const f64,
    n: i32,
    size: i32,
    kern: *const f64,
    r: i32,
    img: *mut f64,
    owner: *mut i32,
    fx: *mut f64,
    fy: *mut f64,
) -> f64 {
    let n = n as usize;
    let total = (size * size) as usize;
    for p in 0..total {
        *img.add(p) = 0.0;
    }
    mark(px, py, n, size, owner);
    for i in 0..n {
        let v = *val.add(i);
        if v != 0.0 && kept(px, py, i, size, owner) {
            splat(*px.add(i), *py.add(i), v, size, kern, r, fx, fy, img);
        }
    }
    for i in 0..n {
        let (x, y) = (*px.add(i), *py.add(i));
        if x >= 0 && x < size && y >= 0 && y < size {
            *owner.add((y * size + x) as usize) = 0;
        }
    }
    let mut max = 0.0f64;
    for p in 0..total {
        let u = *img.add(p);
        if u > max {
            max = u;
        }
    }
    if max > 0.0 {
        for p in 0..total {
            *img.add(p) /= max;
        }
    }
    max
}

/// The radial mean of `img` (`total` pixels) per bin: `out[b] = Σ img[p] (bins[p] = b) / count[b]`.
///
/// # Safety
/// Every pointer must be valid for the sizes given.
#[no_mangle]
pub unsafe extern "C" fn integrate(
    img: *const f64,
    bins: *const i32,
    count: *const f64,
    nbins: i32,
    total: i32,
    out: *mut f64,
) {
    for b in 0..nbins as usize {
        *out.add(b) = 0.0;
    }
    for p in 0..total as usize {
        *out.add(*bins.add(p) as usize) += *img.add(p);
    }
    for b in 0..nbins as usize {
        let c = *count.add(b);
        *out.add(b) = if c > 0.0 { *out.add(b) / c } else { 0.0 };
    }
}

/// Side of the tiles the maximum search bounds and evaluates.
const TILE: i32 = 8;

/// Canonical table slot of pixel (x, y): the detector's 8 symmetries (mirror in x, in y, swap)
/// map it to 0 ≤ i ≤ j < ⌈size/2⌉, slot j(j+1)/2 + i.
#[inline(always)]
fn slot(x: i32, y: i32, size: i32) -> usize {
    let a = if x < size - 1 - x { x } else { size - 1 - x };
    let b = if y < size - 1 - y { y } else { size - 1 - y };
    let (i, j) = if a <= b { (a, b) } else { (b, a) };
    (j as usize * (j as usize + 1)) / 2 + i as usize
}

/// The radial-bin weights of a unit spot at every canonical pixel: slot t holds its first bin
/// `first[t]` and `stride` weights (f32) from there, Σ fx·fy over the window's pixels of each bin.
/// Returns the largest number of bins one window touches (must be ≤ stride; else the table is
/// incomplete and the caller must widen it). `fx`, `fy` as in [`profile`].
///
/// # Safety
/// `first` holds ⌈size/2⌉(⌈size/2⌉+1)/2 i32, `pool` that many × stride f32.
#[no_mangle]
pub unsafe extern "C" fn build_table(
    size: i32,
    kern: *const f64,
    r: i32,
    bins: *const i32,
    stride: i32,
    first: *mut i32,
    pool: *mut f32,
    acc: *mut f64,
    fx: *mut f64,
    fy: *mut f64,
) -> i32 {
    let half = (size + 1) / 2;
    let stride = stride as usize;
    let mut widest = 0;
    for j in 0..half {
        for i in 0..=j {
            let t = slot(i, j, size);
            let x0 = footprint(i, size, kern, r, fx);
            let y0 = footprint(j, size, kern, r, fy);
            let w = if x0 + 2 * r + 1 > size { size - x0 } else { 2 * r + 1 };
            let hgt = if y0 + 2 * r + 1 > size { size - y0 } else { 2 * r + 1 };
            let (mut lo, mut hi) = (i32::MAX, -1);
            for a in 0..hgt {
                let base = ((y0 + a) * size + x0) as usize;
                for b in 0..w as usize {
                    let bn = *bins.add(base + b);
                    if bn < lo {
                        lo = bn;
                    }
                    if bn > hi {
                        hi = bn;
                    }
                }
            }
            let span = hi - lo + 1;
            if span > widest {
                widest = span;
            }
            *first.add(t) = lo;
            if span as usize > stride {
                continue;
            }
            for q in 0..span as usize {
                *acc.add(q) = 0.0;
            }
            for a in 0..hgt {
                let wy = *fy.add(a as usize);
                let base = ((y0 + a) * size + x0) as usize;
                for b in 0..w as usize {
                    *acc.add((*bins.add(base + b) - lo) as usize) += wy * *fx.add(b as usize);
                }
            }
            let dst = pool.add(t * stride);
            for q in 0..stride {
                *dst.add(q) = if q < span as usize { *acc.add(q) as f32 } else { 0.0 };
            }
        }
    }
    widest
}

/// Adds neighbour spot `s`'s contribution to the tile of pixels [tx, tx+tw) × [ty, ty+th).
#[inline(always)]
unsafe fn splat_tile(
    x: i32,
    y: i32,
    v: f64,
    size: i32,
    kern: *const f64,
    r: i32,
    fx: *mut f64,
    fy: *mut f64,
    tile: *mut f64,
    tx: i32,
    ty: i32,
    tw: i32,
    th: i32,
) {
    let x0 = footprint(x, size, kern, r, fx);
    let y0 = footprint(y, size, kern, r, fy);
    let n = 2 * r + 1;
    let xa = if x0 > tx { x0 } else { tx };
    let xb = if x0 + n < tx + tw { x0 + n } else { tx + tw };
    let ya = if y0 > ty { y0 } else { ty };
    let yb = if y0 + n < ty + th { y0 + n } else { ty + th };
    let mut yy = ya;
    while yy < yb {
        let wy = *fy.add((yy - y0) as usize) * v;
        let row = tile.add(((yy - ty) * tw) as usize);
        let mut xx = xa;
        while xx < xb {
            *row.add((xx - tx) as usize) += wy * *fx.add((xx - x0) as usize);
            xx += 1;
        }
        yy += 1;
    }
}

/// [`profile`] from a [`build_table`] table: the radial sums are Σ over spots of intensity × the
/// table row of the spot's pixel; the pattern's maximum is found exactly by evaluating only the
/// windows whose bound (the peak weight² × the intensities of every spot whose window overlaps)
/// exceeds the largest value seen, in decreasing order of that bound.
/// `work` holds 2·n + 3·tiles + 1 i32 (tiles = ⌈size/TILE⌉²), `owner` 2·2^⌈log₂ 2n⌉ (≥ 32)
/// i32, `near` tiles f64 (zero on entry, left zero), `ubs` tiles f64, `tile` TILE² f64.
///
/// # Safety
/// Every pointer must be valid for the sizes above and in [`profile`].
#[no_mangle]
pub unsafe extern "C" fn profile_table(
    px: *const i32,
    py: *const i32,
    val: *const f64,
    n: i32,
    size: i32,
    kern: *const f64,
    r: i32,
    first: *const i32,
    pool: *const f32,
    stride: i32,
    count: *const f64,
    nbins: i32,
    owner: *mut i32,
    work: *mut i32,
    near: *mut f64,
    ubs: *mut f64,
    tile: *mut f64,
    fx: *mut f64,
    fy: *mut f64,
    out: *mut f64,
) -> f64 {
    let nn = n as usize;
    let stride = stride as usize;
    // the last spot of every pixel, through a small open-addressing table (`owner`: 2·hcap i32)
    let mut hcap = 16usize;
    while hcap < 2 * nn {
        hcap *= 2;
    }
    for z in 0..hcap {
        *owner.add(2 * z) = -1;
    }
    let on = |i: usize| {
        let (x, y) = (*px.add(i), *py.add(i));
        x >= 0 && x < size && y >= 0 && y < size
    };
    let find = |key: i32| -> usize {
        let mut z = ((key as u32).wrapping_mul(2654435761) as usize) & (hcap - 1);
        while *owner.add(2 * z) != -1 && *owner.add(2 * z) != key {
            z = (z + 1) & (hcap - 1);
        }
        z
    };
    for i in 0..nn {
        if on(i) {
            let key = *py.add(i) * size + *px.add(i);
            let z = find(key);
            *owner.add(2 * z) = key;
            *owner.add(2 * z + 1) = i as i32;
        }
    }
    let keep = work;
    let mut m = 0usize;
    for i in 0..nn {
        if *val.add(i) != 0.0 && on(i) && *owner.add(2 * find(*py.add(i) * size + *px.add(i)) + 1) == i as i32 {
            *keep.add(m) = i as i32;
            m += 1;
        }
    }
    for b in 0..nbins as usize {
        *out.add(b) = 0.0;
    }
    for q in 0..m {
        let i = *keep.add(q) as usize;
        let (x, y, v) = (*px.add(i), *py.add(i), *val.add(i));
        let t = slot(x, y, size);
        let lo = *first.add(t) as usize;
        let row = pool.add(t * stride);
        let len = if lo + stride > nbins as usize { nbins as usize - lo } else { stride };
        for b in 0..len {
            *out.add(lo + b) += v * *row.add(b) as f64;
        }
    }
    // The maximum: bound every TILE × TILE tile by Σ intensity × the largest weight each spot
    // can give a pixel of the tile (per axis: the kernel at the nearest pixel, mirrored images
    // included), then evaluate tiles exactly, the brightest spot's first, then every tile whose
    // bound exceeds the best value, highest bound first.
    let gt = (size + TILE - 1) / TILE;
    let tiles = (gt * gt) as usize;
    let reach = (r + TILE - 1) / TILE;
    let start = work.add(m);
    let items = work.add(m + tiles + 1);
    let order = work.add(2 * m + tiles + 1);
    for k in 0..=tiles {
        *start.add(k) = 0;
    }
    let fub = ubs;
    let tile_of = |i: usize| ((*py.add(i) / TILE) * gt + *px.add(i) / TILE) as usize;
    for q in 0..m {
        *start.add(tile_of(*keep.add(q) as usize) + 1) += 1;
    }
    for k in 0..tiles {
        *start.add(k + 1) += *start.add(k);
    }
    for q in 0..m {
        let i = *keep.add(q) as usize;
        let k = tile_of(i);
        *items.add(*start.add(k) as usize) = i as i32;
        *start.add(k) += 1;
    }
    for k in (0..tiles).rev() {
        *start.add(k + 1) = *start.add(k);
    }
    *start = 0;
    let axis = |s: i32, t: i32| -> f64 {
        let (a, b) = (t * TILE, if t * TILE + TILE < size { t * TILE + TILE - 1 } else { size - 1 });
        let mut w = 0.0;
        for j in [s, -1 - s, 2 * size - 1 - s] {
            let d = if j < a { a - j } else if j > b { j - b } else { 0 };
            if d <= r {
                w += *kern.add((r - d) as usize);
            }
        }
        w
    };
    let clamp = |t: i32| if t < 0 { 0 } else if t >= gt { gt - 1 } else { t };
    let eval = |t: usize| -> f64 {
        let (tx, ty) = ((t as i32 % gt) * TILE, (t as i32 / gt) * TILE);
        let tw = if tx + TILE > size { size - tx } else { TILE };
        let th = if ty + TILE > size { size - ty } else { TILE };
        for z in 0..(tw * th) as usize {
            *tile.add(z) = 0.0;
        }
        let (cx, cy) = (tx / TILE, ty / TILE);
        for yy in clamp(cy - reach)..=clamp(cy + reach) {
            for xx in clamp(cx - reach)..=clamp(cx + reach) {
                let k = (yy * gt + xx) as usize;
                for z in *start.add(k)..*start.add(k + 1) {
                    let j = *items.add(z as usize) as usize;
                    let (sx, sy, v) = (*px.add(j), *py.add(j), *val.add(j));
                    splat_tile(sx, sy, v, size, kern, r, fx, fy, tile, tx, ty, tw, th);
                }
            }
        }
        let mut best = 0.0f64;
        for z in 0..(tw * th) as usize {
            if *tile.add(z) > best {
                best = *tile.add(z);
            }
        }
        best
    };
    let mut max = 0.0f64;
    if m > 0 {
        let mut brightest = *keep as usize;
        for q in 0..m {
            let i = *keep.add(q) as usize;
            if *val.add(i) > *val.add(brightest) {
                brightest = i;
            }
        }
        let first_tile = tile_of(brightest);
        max = eval(first_tile);
        // coarse bound per tile: the peak weight² × the intensity within reach (box sums of the
        // per-tile intensity sums, rows then columns), then the fine bound where that passes
        // near[t]: Σ over the spots within reach of tile t of intensity × the largest weight
        // each can give a pixel of t (separable: per axis, the kernel at the nearest pixel,
        // mirror images included), accumulated over the touched tiles only
        let touched = order.add(tiles);
        let mut nt = 0usize;
        let mut ax = [0.0f64; 128];
        for q in 0..m {
            let i = *keep.add(q) as usize;
            let (x, y, v) = (*px.add(i), *py.add(i), *val.add(i));
            let (tx, ty) = (x / TILE, y / TILE);
            let (xa, xb) = (clamp(tx - reach), clamp(tx + reach));
            let cached = xb - xa < 128;
            if cached {
                for xx in xa..=xb {
                    ax[(xx - xa) as usize] = axis(x, xx);
                }
            }
            for yy in clamp(ty - reach)..=clamp(ty + reach) {
                let by = axis(y, yy) * v;
                if by == 0.0 {
                    continue;
                }
                for xx in xa..=xb {
                    let w = by * if cached { ax[(xx - xa) as usize] } else { axis(x, xx) };
                    if w == 0.0 {
                        continue;
                    }
                    let k = (yy * gt + xx) as usize;
                    if *near.add(k) == 0.0 {
                        *touched.add(nt) = k as i32;
                        nt += 1;
                    }
                    *near.add(k) += w;
                }
            }
        }
        let mut cand = 0usize;
        for z in 0..nt {
            let k = *touched.add(z) as usize;
            let ub = *near.add(k);
            *near.add(k) = 0.0;
            if k != first_tile && ub * (1.0 + 1e-12) > max {
                *fub.add(k) = ub;
                *order.add(cand) = k as i32;
                cand += 1;
            }
        }
        let ord = core::slice::from_raw_parts_mut(order, cand);
        ord.sort_unstable_by(|a, b| {
            let (ua, ub) = (*fub.add(*a as usize), *fub.add(*b as usize));
            ub.partial_cmp(&ua).unwrap_or(core::cmp::Ordering::Equal)
        });
        for &k in ord.iter() {
            if *fub.add(k as usize) * (1.0 + 1e-12) <= max {
                break;
            }
            let v = eval(k as usize);
            if v > max {
                max = v;
            }
        }
    }
    for b in 0..nbins as usize {
        let cb = *count.add(b);
        *out.add(b) = if cb > 0.0 && max > 0.0 { *out.add(b) / max / cb } else { 0.0 };
    }
    max
}
