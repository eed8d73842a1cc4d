//! Lumen stripe-detection kernels for `wasm32-unknown-unknown` with SIMD128.
//!
//! Larix `STRIPES_DETECT` + `STRIPES_MERGE` (TomoPy `stripes_detect3d` / `stripes_mask3d`,
//! `source/libtomo/prep/stripes_detect3d.c`), giving the same bits as the C code (and as the
//! TypeScript reference loops in lib/tomo/stripes_ref.ts), on a block of detector rows of a
//! volume `[Z = angles, Y = rows, X = columns]` (C order): the input block holds global rows
//! `[ya, ya + n_in)`, the output rows `[y0, y1)`. Mirror indices are taken in global
//! coordinates, so slabs with their halo give the whole-volume result.
//!
//! Float arithmetic is IEEE float32 in the C code's order (wasm has no fused multiply-add and
//! rustc does not reassociate), vectorised across four neighbouring columns where no lane needs
//! the edge rule. The vertical "median" (element size−1 of the sorted window) slides a sorted
//! window of order keys (IEEE total order, every NaN last) along each column; merging uses prefix
//! counts, so its cost does not grow with the window lengths.
//!
//! Memory is managed by the caller (lib/wasm/load.ts `WasmArena`): every function takes pointers
//! into this module's memory and allocates nothing. `no_std`, no external crates.
#![no_std]

use core::arch::wasm32::*;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// The mirror rule of the C code: c+m outside [0,n) becomes c−m.
#[inline(always)]
fn mir(c: i32, m: i32, n: i32) -> i32 {
    let a = c + m;
    if a < 0 || a >= n {
        c - m
    } else {
        a
    }
}

/// Order key of a float: integers ordered as IEEE total order (−0 < +0), every NaN largest.
#[inline(always)]
fn key(v: f32) -> i32 {
    if v != v {
        i32::MAX
    } else {
        let b = v.to_bits() as i32;
        b ^ ((((b >> 31) as u32) >> 1) as i32)
    }
}

#[inline(always)]
fn unkey(k: i32) -> f32 {
    if k == i32::MAX {
        f32::from_bits(0x7fc0_0000)
    } else {
        f32::from_bits((k ^ ((((k >> 31) as u32) >> 1) as i32)) as u32)
    }
}

#[inline(always)]
unsafe fn ld(p: *const f32) -> v128 {
    v128_load(p as *const v128)
}

/// Index of (k, global row g, i) in a block holding global rows [ya, ya+n).
#[inline(always)]
fn at(k: i32, g: i32, i: i32, ya: i32, n: i32, x: i32) -> usize {
    ((k * n + (g - ya)) * x + i) as usize
}

/// ratio_mean_stride3d with the mean_stride3d fallback, one voxel, scalar (edge columns).
#[inline(never)]
unsafe fn ratio_scalar(
    inp: *const f32,
    grad: *const f32,
    z: i32,
    y: i32,
    x: i32,
    ya: i32,
    n: i32,
    k: i32,
    j: i32,
    i: i32,
    r: i32,
) -> f32 {
    let mut i1 = i - 1;
    let mut i2 = i + 1;
    let mut j1 = j - 1;
    let mut j2 = j + 1;
    let mut k1 = k - 1;
    let mut k2 = k + 1;
    if i1 < 0 {
        i1 = i2;
    }
    if i2 >= x {
        i2 = i1;
    }
    if j1 < 0 {
        j1 = j2;
    }
    if j2 >= y {
        j2 = j1;
    }
    if k1 < 0 {
        k1 = k2;
    }
    if k2 >= z {
        k2 = k1;
    }
    let v = |kk: i32, gg: i32, ii: i32| *inp.add(at(kk, gg, ii, ya, n, x));
    let mut s = v(k, j, i) + v(k, j, i1);
    s = s + v(k, j, i2);
    s = s + v(k, j1, i);
    s = s + v(k, j2, i);
    s = s + v(k1, j, i);
    s = s + v(k2, j, i);
    let mut out = 0.1428f32 * s;
    let g = |kk: i32, gg: i32, ii: i32| f32::from_bits((*grad.add(at(kk, gg, ii, ya, n, x))).to_bits() & 0x7fff_ffff);
    let mut mp = 0.0f32;
    let mut jm = -r;
    while jm <= r {
        let jj = mir(j, jm, y);
        let mut km = -r;
        while km <= r {
            mp = mp + g(mir(k, km, z), jj, i);
            km += 1;
        }
        jm += 1;
    }
    let d = 2 * r + 1;
    mp = mp / ((d * d) as f32);
    let mut mh = 0.0f32;
    let mut mh2 = 0.0f32;
    let mut jm = -1;
    while jm <= 1 {
        let jj = mir(j, jm, y);
        let mut im = 1;
        while im <= r {
            let mut ii = i + im;
            if ii >= x {
                ii = i - im;
            }
            mh = mh + g(k, jj, ii);
            im += 1;
        }
        jm += 1;
    }
    let mut jm = -1;
    while jm <= 1 {
        let jj = mir(j, jm, y);
        let mut im = -r;
        while im <= -1 {
            let mut ii = i + im;
            if ii < 0 {
                ii = i - im;
            }
            mh2 = mh2 + g(k, jj, ii);
            im += 1;
        }
        jm += 1;
    }
    let r3 = (r * 3) as f32;
    mh = mh / r3;
    mh2 = mh2 / r3;
    let mut minv = 0.0f32;
    if mh >= mp && mh != 0.0 {
        out = mp / mh;
    }
    if mh < mp && mp != 0.0 {
        out = mh / mp;
    }
    if mh2 >= mp && mh2 != 0.0 {
        minv = mp / mh2;
    }
    if mh2 < mp && mp != 0.0 {
        minv = mh2 / mp;
    }
    if out > minv {
        out = minv;
    }
    out
}

/// The same for four columns i..i+3 that need no edge rule along X.
#[inline(always)]
unsafe fn ratio_simd(
    inp: *const f32,
    grad: *const f32,
    z: i32,
    y: i32,
    x: i32,
    ya: i32,
    n: i32,
    k: i32,
    j: i32,
    i: i32,
    r: i32,
) -> v128 {
    let j1 = mir(j, -1, y);
    let j2 = mir(j, 1, y);
    let k1 = mir(k, -1, z);
    let k2 = mir(k, 1, z);
    let p = inp.add(at(k, j, i, ya, n, x));
    let mut s = f32x4_add(ld(p), ld(p.sub(1)));
    s = f32x4_add(s, ld(p.add(1)));
    s = f32x4_add(s, ld(inp.add(at(k, j1, i, ya, n, x))));
    s = f32x4_add(s, ld(inp.add(at(k, j2, i, ya, n, x))));
    s = f32x4_add(s, ld(inp.add(at(k1, j, i, ya, n, x))));
    s = f32x4_add(s, ld(inp.add(at(k2, j, i, ya, n, x))));
    let mut out = f32x4_mul(f32x4_splat(0.1428f32), s);
    let zero = f32x4_splat(0.0);
    let mut mp = zero;
    let mut jm = -r;
    while jm <= r {
        let jj = mir(j, jm, y);
        let mut km = -r;
        while km <= r {
            mp = f32x4_add(mp, f32x4_abs(ld(grad.add(at(mir(k, km, z), jj, i, ya, n, x)))));
            km += 1;
        }
        jm += 1;
    }
    let d = 2 * r + 1;
    mp = f32x4_div(mp, f32x4_splat((d * d) as f32));
    let mut mh = zero;
    let mut mh2 = zero;
    let mut jm = -1;
    while jm <= 1 {
        let q = grad.add(at(k, mir(j, jm, y), i, ya, n, x));
        let mut im = 1;
        while im <= r {
            mh = f32x4_add(mh, f32x4_abs(ld(q.add(im as usize))));
            im += 1;
        }
        jm += 1;
    }
    let mut jm = -1;
    while jm <= 1 {
        let q = grad.add(at(k, mir(j, jm, y), i, ya, n, x));
        let mut im = r;
        while im >= 1 {
            mh2 = f32x4_add(mh2, f32x4_abs(ld(q.sub(im as usize))));
            im -= 1;
        }
        jm += 1;
    }
    let r3 = f32x4_splat((r * 3) as f32);
    mh = f32x4_div(mh, r3);
    mh2 = f32x4_div(mh2, r3);
    let c1 = v128_and(f32x4_ge(mh, mp), f32x4_ne(mh, zero));
    out = v128_bitselect(f32x4_div(mp, mh), out, c1);
    let c2 = v128_and(f32x4_lt(mh, mp), f32x4_ne(mp, zero));
    out = v128_bitselect(f32x4_div(mh, mp), out, c2);
    let c3 = v128_and(f32x4_ge(mh2, mp), f32x4_ne(mh2, zero));
    let mut minv = v128_bitselect(f32x4_div(mp, mh2), zero, c3);
    let c4 = v128_and(f32x4_lt(mh2, mp), f32x4_ne(mp, zero));
    minv = v128_bitselect(f32x4_div(mh2, mp), minv, c4);
    v128_bitselect(minv, out, f32x4_gt(out, minv))
}

/// First index in sorted `w[0..n)` whose key is ≥ `v`.
#[inline(always)]
unsafe fn lower_bound(w: *const i32, n: usize, v: i32) -> usize {
    let mut lo = 0usize;
    let mut len = n;
    while len > 0 {
        let half = len >> 1;
        if *w.add(lo + half) < v {
            lo = lo + half + 1;
            len = len - half - 1;
        } else {
            len = half;
        }
    }
    lo
}

/// In the sorted window `w[0..n)`, replaces one occurrence of `old` by `new`, keeping order.
#[inline(always)]
unsafe fn replace(w: *mut i32, n: usize, old: i32, new: i32) {
    if old == new {
        return;
    }
    let p = lower_bound(w, n, old);
    if new > old {
        // shift w[p+1..q) down by one, put `new` at q−1
        let q = lower_bound(w, n, new);
        let mut t = p;
        while t + 4 < q {
            let v = v128_load(w.add(t + 1) as *const v128);
            v128_store(w.add(t) as *mut v128, v);
            t += 4;
        }
        while t + 1 < q {
            *w.add(t) = *w.add(t + 1);
            t += 1;
        }
        *w.add(q - 1) = new;
    } else {
        // shift w[q..p) up by one, put `new` at q
        let q = lower_bound(w, p, new);
        let mut t = p;
        while t >= q + 4 {
            let v = v128_load(w.add(t - 4) as *const v128);
            v128_store(w.add(t - 3) as *mut v128, v);
            t -= 4;
        }
        while t > q {
            *w.add(t) = *w.add(t - 1);
            t -= 1;
        }
        *w.add(q) = new;
    }
}

/// Multiplicity of index t in the mirrored window of k: main range plus mirrored ranges.
#[inline(always)]
fn ranges(k: i32, s: i32, z: i32, out: &mut [(i32, i32); 3]) {
    out[0] = (if k - s > 0 { k - s } else { 0 }, if k + s < z - 1 { k + s } else { z - 1 });
    out[1] = if k <= s - 1 { (2 * k + 1, k + s) } else { (1, 0) };
    out[2] = if k >= z - s { (k - s, 2 * k - z) } else { (1, 0) };
}

#[inline(always)]
fn mult(r: &[(i32, i32); 3], t: i32) -> i32 {
    let mut c = 0;
    for q in r.iter() {
        if t >= q.0 && t <= q.1 {
            c += 1;
        }
    }
    c
}

/// Sliding vertical "median" of one column: `keys[0..z)` → out[k·stride] = window element s−1.
unsafe fn median_column(keys: *const i32, win: *mut i32, s: i32, z: i32, out: *mut f32, stride: usize) {
    let n = (2 * s + 1) as usize;
    // window of k = 0: rows 0..=s plus mirrored 1..=s
    let mut c = 0usize;
    let mut t = 0;
    while t <= s {
        *win.add(c) = *keys.add(t as usize);
        c += 1;
        t += 1;
    }
    let mut t = 1;
    while t <= s {
        *win.add(c) = *keys.add(t as usize);
        c += 1;
        t += 1;
    }
    core::slice::from_raw_parts_mut(win, n).sort_unstable();
    let mid = (s - 1) as usize;
    *out = unkey(*win.add(mid));
    let mut ra = [(0i32, 0i32); 3];
    let mut rb = [(0i32, 0i32); 3];
    let mut rem = [0i32; 8];
    let mut add = [0i32; 8];
    let mut k = 0;
    while k + 1 < z {
        if k >= s && k + 1 + s <= z - 1 {
            replace(win, n, *keys.add((k - s) as usize), *keys.add((k + s + 1) as usize));
        } else {
            // generic transition: the multiplicity difference is piecewise constant between the
            // ranges' break points; evaluate it on each piece.
            ranges(k, s, z, &mut ra);
            ranges(k + 1, s, z, &mut rb);
            let mut bp = [0i32; 12];
            let mut nb = 0;
            for q in ra.iter().chain(rb.iter()) {
                if q.0 <= q.1 {
                    bp[nb] = q.0;
                    bp[nb + 1] = q.1 + 1;
                    nb += 2;
                }
            }
            bp[..nb].sort_unstable();
            let mut nr = 0;
            let mut na = 0;
            let mut b = 0;
            while b + 1 < nb {
                let (lo, hi) = (bp[b], bp[b + 1]);
                if lo < hi {
                    let d = mult(&rb, lo) - mult(&ra, lo);
                    let mut t = lo;
                    while t < hi {
                        let mut e = 0;
                        while e < d {
                            add[na] = t;
                            na += 1;
                            e += 1;
                        }
                        while e > d {
                            rem[nr] = t;
                            nr += 1;
                            e -= 1;
                        }
                        t += 1;
                    }
                }
                b += 1;
            }
            let mut q = 0;
            while q < nr {
                replace(win, n, *keys.add(rem[q] as usize), *keys.add(add[q] as usize));
                q += 1;
            }
        }
        k += 1;
        *out.add(k as usize * stride) = unkey(*win.add(mid));
    }
}

/// STRIPES_DETECT on a row block.
///
/// `inp`: Z × n_in × X (global rows [ya, ya+n_in)); `grad`: scratch of the same size;
/// `out`: Z × (y1−y0) × X weights; `keys`: Z i32; `win`: 2·size+1 i32.
#[no_mangle]
pub unsafe extern "C" fn detect_rows(
    inp: *const f32,
    grad: *mut f32,
    out: *mut f32,
    keys: *mut i32,
    win: *mut i32,
    z: i32,
    y: i32,
    x: i32,
    ya: i32,
    n_in: i32,
    y0: i32,
    y1: i32,
    size: i32,
    radius: i32,
) {
    // gradient along X, step 2 (gradient3D_local, axis 0)
    let mut row = 0;
    while row < z * n_in {
        let b = (row * x) as usize;
        let pi = inp.add(b);
        let pg = grad.add(b);
        let mut i = 0;
        while i + 4 <= x - 2 {
            let v = f32x4_sub(ld(pi.add(i as usize + 2)), ld(pi.add(i as usize)));
            v128_store(pg.add(i as usize) as *mut v128, v);
            i += 4;
        }
        while i < x {
            let i1 = if i + 2 >= x { i - 2 } else { i + 2 };
            *pg.add(i as usize) = *pi.add(i1 as usize) - *pi.add(i as usize);
            i += 1;
        }
        row += 1;
    }
    // ratio map with the fallback, into `out`
    let n_out = y1 - y0;
    let h = if radius > 1 { radius } else { 1 };
    let lo = h;
    let hi = x - 4 - h; // last i whose four lanes need no edge rule
    let mut k = 0;
    while k < z {
        let mut j = y0;
        while j < y1 {
            let po = out.add(((k * n_out + (j - y0)) * x) as usize);
            let mut i = 0;
            while i < x {
                if i >= lo && i <= hi {
                    let v = ratio_simd(inp, grad, z, y, x, ya, n_in, k, j, i, radius);
                    v128_store(po.add(i as usize) as *mut v128, v);
                    i += 4;
                } else {
                    *po.add(i as usize) = ratio_scalar(inp, grad, z, y, x, ya, n_in, k, j, i, radius);
                    i += 1;
                }
            }
            j += 1;
        }
        k += 1;
    }
    // vertical median, column by column, in place
    let stride = (n_out * x) as usize;
    let mut l = 0;
    while l < n_out {
        let mut i = 0;
        while i < x {
            let p = out.add((l * x + i) as usize);
            let mut k = 0;
            while k < z {
                *keys.add(k as usize) = key(*p.add(k as usize * stride));
                k += 1;
            }
            median_column(keys, win, size, z, p, stride);
            i += 1;
        }
        l += 1;
    }
}

/// Prefix counts along Z of a Z × X 0/1 plane: c[(k)·X + i] = ones in rows [0, k) (Z+1 rows).
unsafe fn prefix_z(a: *const u8, c: *mut i32, z: i32, x: i32) {
    let xs = x as usize;
    let mut i = 0;
    while i < xs {
        *c.add(i) = 0;
        i += 1;
    }
    let mut k = 0usize;
    while k < z as usize {
        let pa = a.add(k * xs);
        let pc = c.add(k * xs);
        let pn = c.add((k + 1) * xs);
        let mut i = 0usize;
        while i < xs {
            *pn.add(i) = *pc.add(i) + *pa.add(i) as i32;
            i += 1;
        }
        k += 1;
    }
}

/// Ones in rows [a, b] of column i (empty when a > b).
#[inline(always)]
unsafe fn cnt(c: *const i32, xs: usize, i: usize, a: i32, b: i32) -> i32 {
    if a > b {
        0
    } else {
        *c.add((b as usize + 1) * xs + i) - *c.add(a as usize * xs + i)
    }
}

/// Ones over the mirrored window k ± h along Z (the C loop's multiset), column i.
#[inline(always)]
unsafe fn count_window(c: *const i32, xs: usize, i: usize, k: i32, h: i32, z: i32) -> i32 {
    let a = if k - h > 0 { k - h } else { 0 };
    let b = if k + h < z - 1 { k + h } else { z - 1 };
    let mut s = cnt(c, xs, i, a, b);
    if k < h {
        s += cnt(c, xs, i, 2 * k + 1, k + h);
    }
    if k + h > z - 1 {
        s += cnt(c, xs, i, k - h, 2 * k - z);
    }
    s
}

/// STRIPES_MERGE steps 2–5 on a row block.
///
/// `m1`: the step-1 mask (weights ≤ threshold), Z × n_in × X (global rows [ya, ya+n_in));
/// `out`: Z × (y1−y0) × X; scratch `a`, `b`: Z × X u8; `c`: (Z+1) × X i32; `rp`: X+1 i32.
/// `thr_v`, `thr_d`: `(int)((0.01f*s)*L)` and `(int)((0.01f*s)*D)`.
#[no_mangle]
pub unsafe extern "C" fn merge_rows(
    m1: *const u8,
    out: *mut u8,
    a: *mut u8,
    b: *mut u8,
    c: *mut i32,
    rp: *mut i32,
    z: i32,
    y: i32,
    x: i32,
    ya: i32,
    n_in: i32,
    y0: i32,
    y1: i32,
    len: i32,
    depth: i32,
    width: i32,
    thr_v: i32,
    thr_d: i32,
) {
    let xs = x as usize;
    let plane = (z as usize) * xs;
    let n_out = y1 - y0;
    let hl = len / 2;
    let hd = depth / 2;
    let hw = width / 2;
    let vl = 2 * width;
    let mut j = y0;
    while j < y1 {
        // A = step-1 mask of row j; B = A after the depth step
        let mut k = 0;
        while k < z {
            let src = m1.add(at(k, j, 0, ya, n_in, x));
            core::ptr::copy_nonoverlapping(src, a.add(k as usize * xs), xs);
            k += 1;
        }
        core::ptr::copy_nonoverlapping(a, b, plane);
        if depth != 0 {
            let mut k = 0;
            while k < z {
                let mut i = 0usize;
                // u8 lanes hold counts up to 255: vectorise only windows of at most 255 rows
                while depth <= 255 && i + 16 <= xs {
                    let mut acc = u8x16_splat(0);
                    let mut ym = -hd;
                    while ym <= hd {
                        let p = m1.add(at(k, mir(j, ym, y), 0, ya, n_in, x) + i);
                        acc = u8x16_add(acc, v128_load(p as *const v128));
                        ym += 1;
                    }
                    let pa = a.add(k as usize * xs + i);
                    let cur = v128_load(pa as *const v128);
                    let kill = v128_and(
                        u8x16_eq(cur, u8x16_splat(1)),
                        u8x16_gt(acc, u8x16_splat(thr_d.clamp(0, 255) as u8)),
                    );
                    let pb = b.add(k as usize * xs + i);
                    v128_store(pb as *mut v128, v128_andnot(cur, kill));
                    i += 16;
                }
                while i < xs {
                    if *a.add(k as usize * xs + i) == 1 {
                        let mut cn = 0;
                        let mut ym = -hd;
                        while ym <= hd {
                            if *m1.add(at(k, mir(j, ym, y), 0, ya, n_in, x) + i) == 1 {
                                cn += 1;
                            }
                            ym += 1;
                        }
                        if cn > thr_d {
                            *b.add(k as usize * xs + i) = 0;
                        }
                    }
                    i += 1;
                }
                k += 1;
            }
        }
        core::ptr::copy_nonoverlapping(b, a, plane);
        // vertical consistency, then short stripes (same count, its own snapshot)
        let mut step = 0;
        while step < 2 {
            let thr = if step == 0 { thr_v } else { hl };
            prefix_z(a, c, z, x);
            let mut k = 0;
            while k < z {
                let mut i = 0usize;
                while i < xs {
                    let n = k as usize * xs + i;
                    if *a.add(n) == 1 && count_window(c, xs, i, k, hl, z) < thr {
                        *b.add(n) = 0;
                    }
                    i += 1;
                }
                k += 1;
            }
            core::ptr::copy_nonoverlapping(b, a, plane);
            step += 1;
        }
        // merging passes
        let mut pass = 0;
        while pass < width {
            prefix_z(a, c, z, x);
            let mut changed = false;
            let mut k = 0;
            while k < z {
                let pa = a.add(k as usize * xs);
                *rp = 0;
                let mut i = 0usize;
                while i < xs {
                    *rp.add(i + 1) = *rp.add(i) + *pa.add(i) as i32;
                    i += 1;
                }
                let hc = |lo: i32, hi: i32| -> bool {
                    lo <= hi && *rp.add(hi as usize + 1) - *rp.add(lo as usize) > 0
                };
                let mut i = 0i32;
                while i < x {
                    if *pa.add(i as usize) == 0 {
                        let left = hc(if i - hw > 0 { i - hw } else { 0 }, i)
                            || (i < hw && hc(2 * i + 1, i + hw));
                        let right = hc(i, if i + hw < x - 1 { i + hw } else { x - 1 })
                            || (i + hw > x - 1 && hc(i - hw, 2 * i - x));
                        let mut set = left && right;
                        if !set {
                            let iu = i as usize;
                            let up = cnt(c, xs, iu, if k - vl > 0 { k - vl } else { 0 }, k) > 0
                                || (k < vl && cnt(c, xs, iu, 2 * k + 1, k + vl) > 0);
                            let down =
                                cnt(c, xs, iu, k, if k + vl < z - 1 { k + vl } else { z - 1 }) > 0
                                    || (k + vl > z - 1 && cnt(c, xs, iu, k - vl, 2 * k - z) > 0);
                            set = up && down;
                        }
                        if set {
                            *b.add(k as usize * xs + i as usize) = 1;
                            changed = true;
                        }
                    }
                    i += 1;
                }
                k += 1;
            }
            core::ptr::copy_nonoverlapping(b, a, plane);
            if !changed {
                break;
            }
            pass += 1;
        }
        let mut k = 0;
        while k < z {
            let dst = out.add(((k * n_out + (j - y0)) * x) as usize);
            core::ptr::copy_nonoverlapping(a.add(k as usize * xs), dst, xs);
            k += 1;
        }
        j += 1;
    }
}
