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
//! `detect_mask_planes` / `merge_planes` take plane-major blocks (one angles × columns sinogram
//! per row, as the scan readers give them) and fuse detection with merge step 1: the window's
//! element size−1 is ≤ the threshold exactly when at least `size` of its values are, so the mask
//! needs a sliding count, not the sorted window (the same bits; lib/tomo/stripes_planes.ts).
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

/// Columns per block of the median pass (the caller sizes `keys` and `res` for it).
const MB: usize = 16;

/// Index of (k, global row g, i) in a block holding global rows [ya, ya+n).
#[inline(always)]
fn at(k: i32, g: i32, i: i32, ya: i32, n: i32, x: i32) -> usize {
    ((k * n + (g - ya)) * x + i) as usize
}

/// The same in either layout: `P` = plane-major (n × Z × X, one sinogram per row, as the
/// scan readers give them), else volume order (Z × n × X).
#[inline(always)]
fn at_l<const P: bool>(k: i32, g: i32, i: i32, ya: i32, n: i32, x: i32, z: i32) -> usize {
    if P {
        (((g - ya) * z + k) * x + i) as usize
    } else {
        at(k, g, i, ya, n, x)
    }
}

/// ratio_mean_stride3d with the mean_stride3d fallback, one voxel, scalar (edge columns).
#[inline(never)]
unsafe fn ratio_scalar<const P: bool>(
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
    let v = |kk: i32, gg: i32, ii: i32| *inp.add(at_l::<P>(kk, gg, ii, ya, n, x, z));
    let mut s = v(k, j, i) + v(k, j, i1);
    s = s + v(k, j, i2);
    s = s + v(k, j1, i);
    s = s + v(k, j2, i);
    s = s + v(k1, j, i);
    s = s + v(k2, j, i);
    let mut out = 0.1428f32 * s;
    let g = |kk: i32, gg: i32, ii: i32| {
        f32::from_bits((*grad.add(at_l::<P>(kk, gg, ii, ya, n, x, z))).to_bits() & 0x7fff_ffff)
    };
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

/// Element offsets (of column 0) that the stencils of voxel row (k, j) read.
struct Offs {
    c: usize,
    j1: usize,
    j2: usize,
    k1: usize,
    k2: usize,
    h: [usize; 3],
}

/// The same as ratio_scalar for G groups of four columns (i+4g .. i+4g+3) that need no edge
/// rule along X, with the row offsets of the stencils precomputed (`plate`: (2r+1)² offsets in
/// the C loop order). Each lane sums in the C order; the G groups are independent chains.
#[inline(always)]
unsafe fn ratio_simd<const G: usize, const ABS: bool>(
    inp: *const f32,
    grad: *const f32,
    o: &Offs,
    plate: *const usize,
    np: usize,
    i: usize,
    r: usize,
    plate_n: v128,
    r3: v128,
    dst: *mut f32,
) {
    let zero = f32x4_splat(0.0);
    // |G| unless the gradient is stored as its absolute value already
    let ab = |v: v128| if ABS { f32x4_abs(v) } else { v };
    let mut s = [zero; G];
    let mut mp = [zero; G];
    let mut mh = [zero; G];
    let mut mh2 = [zero; G];
    for g in 0..G {
        let p = inp.add(o.c + i + 4 * g);
        s[g] = f32x4_add(ld(p), ld(p.sub(1)));
    }
    for g in 0..G {
        let p = inp.add(o.c + i + 4 * g);
        s[g] = f32x4_add(s[g], ld(p.add(1)));
    }
    for off in [o.j1, o.j2, o.k1, o.k2] {
        for g in 0..G {
            s[g] = f32x4_add(s[g], ld(inp.add(off + i + 4 * g)));
        }
    }
    let gb = grad.add(i);
    let mut t = 0;
    while t < np {
        let q = gb.add(*plate.add(t));
        for g in 0..G {
            mp[g] = f32x4_add(mp[g], ab(ld(q.add(4 * g))));
        }
        t += 1;
    }
    for h in o.h.iter() {
        let q = gb.add(*h);
        let mut im = 1;
        while im <= r {
            for g in 0..G {
                mh[g] = f32x4_add(mh[g], ab(ld(q.add(im + 4 * g))));
            }
            im += 1;
        }
    }
    for h in o.h.iter() {
        let q = gb.add(*h);
        let mut im = r;
        while im >= 1 {
            for g in 0..G {
                mh2[g] = f32x4_add(mh2[g], ab(ld(q.add(4 * g).sub(im))));
            }
            im -= 1;
        }
    }
    for g in 0..G {
        let mut out = f32x4_mul(f32x4_splat(0.1428f32), s[g]);
        let mpv = f32x4_div(mp[g], plate_n);
        let mhv = f32x4_div(mh[g], r3);
        let mh2v = f32x4_div(mh2[g], r3);
        let c1 = v128_and(f32x4_ge(mhv, mpv), f32x4_ne(mhv, zero));
        out = v128_bitselect(f32x4_div(mpv, mhv), out, c1);
        let c2 = v128_and(f32x4_lt(mhv, mpv), f32x4_ne(mpv, zero));
        out = v128_bitselect(f32x4_div(mhv, mpv), out, c2);
        let c3 = v128_and(f32x4_ge(mh2v, mpv), f32x4_ne(mh2v, zero));
        let mut minv = v128_bitselect(f32x4_div(mpv, mh2v), zero, c3);
        let c4 = v128_and(f32x4_lt(mh2v, mpv), f32x4_ne(mpv, zero));
        minv = v128_bitselect(f32x4_div(mh2v, mpv), minv, c4);
        let v = v128_bitselect(minv, out, f32x4_gt(out, minv));
        v128_store(dst.add(i + 4 * g) as *mut v128, v);
    }
}

/// Multiplicity of index t in the mirrored window of k: main range plus mirrored ranges.
#[inline(always)]
fn ranges(k: i32, s: i32, z: i32, out: &mut [(i32, i32); 3]) {
    out[0] = (
        if k - s > 0 { k - s } else { 0 },
        if k + s < z - 1 { k + s } else { z - 1 },
    );
    out[1] = if k <= s - 1 {
        (2 * k + 1, k + s)
    } else {
        (1, 0)
    };
    out[2] = if k >= z - s {
        (k - s, 2 * k - z)
    } else {
        (1, 0)
    };
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

/// Per-column scratch of the median pass, carved from one region (see `median_scratch_bytes`).
struct Med {
    pairs: *mut u64,
    tmp: *mut u64,
    hist: *mut u32,
    rank: *mut u32,
    sval: *mut i32,
    cnt: *mut u8,
    bits: *mut u64,
    words: usize,
}

impl Med {
    unsafe fn new(base: *mut u8, z: usize) -> Med {
        let words = z / 64 + 1;
        let pairs = base as *mut u64;
        let tmp = base.add(8 * z) as *mut u64;
        let bits = base.add(16 * z) as *mut u64;
        let hist = base.add(16 * z + 8 * words) as *mut u32;
        let rank = base.add(16 * z + 8 * words + 4096) as *mut u32;
        let sval = base.add(20 * z + 8 * words + 4096) as *mut i32;
        let cnt = base.add(24 * z + 8 * words + 4096);
        Med {
            pairs,
            tmp,
            hist,
            rank,
            sval,
            cnt,
            bits,
            words,
        }
    }

    #[inline(always)]
    unsafe fn add(&self, t: i32, ans: usize, below: &mut i32) {
        let q = *self.rank.add(t as usize) as usize;
        *self.cnt.add(q) += 1;
        *self.bits.add(q >> 6) |= 1u64 << (q & 63);
        if q < ans {
            *below += 1;
        }
    }

    #[inline(always)]
    unsafe fn remove(&self, t: i32, ans: usize, below: &mut i32) {
        let q = *self.rank.add(t as usize) as usize;
        let c = *self.cnt.add(q) - 1;
        *self.cnt.add(q) = c;
        if c == 0 {
            *self.bits.add(q >> 6) &= !(1u64 << (q & 63));
        }
        if q < ans {
            *below -= 1;
        }
    }

    /// First occupied rank ≥ from (the window is never empty above the answer when called).
    #[inline(always)]
    unsafe fn next(&self, from: usize) -> usize {
        let mut w = from >> 6;
        let mut m = *self.bits.add(w) & (!0u64 << (from & 63));
        while m == 0 {
            w += 1;
            m = *self.bits.add(w);
        }
        (w << 6) + m.trailing_zeros() as usize
    }

    /// Last occupied rank ≤ from.
    #[inline(always)]
    unsafe fn prev(&self, from: usize) -> usize {
        let mut w = from >> 6;
        let sh = 63 - (from & 63);
        let mut m = (*self.bits.add(w) << sh) >> sh;
        while m == 0 {
            w -= 1;
            m = *self.bits.add(w);
        }
        (w << 6) + 63 - m.leading_zeros() as usize
    }

    /// Moves the answer to the rank of sorted window position s−1: invariant
    /// below ≤ s−1 < below + cnt[ans].
    #[inline(always)]
    unsafe fn fix(&self, s: i32, ans: &mut usize, below: &mut i32) {
        while *below > s - 1 {
            *ans = self.prev(*ans - 1);
            *below -= *self.cnt.add(*ans) as i32;
        }
        while *below + *self.cnt.add(*ans) as i32 <= s - 1 {
            *below += *self.cnt.add(*ans) as i32;
            *ans = self.next(*ans + 1);
        }
    }
}

/// Sorts `m.pairs[0..n)` by their upper 32 bits, stably (so ties stay in angle order): LSD radix
/// over the key's four bytes, skipping bytes all keys share.
unsafe fn radix_sort(m: &Med, n: usize) {
    let h = m.hist;
    let mut i = 0;
    while i < 1024 {
        *h.add(i) = 0;
        i += 1;
    }
    let mut k = 0;
    while k < n {
        let key = (*m.pairs.add(k) >> 32) as u32;
        *h.add((key & 255) as usize) += 1;
        *h.add(256 + ((key >> 8) & 255) as usize) += 1;
        *h.add(512 + ((key >> 16) & 255) as usize) += 1;
        *h.add(768 + (key >> 24) as usize) += 1;
        k += 1;
    }
    let mut src = m.pairs;
    let mut dst = m.tmp;
    let mut pass = 0usize;
    while pass < 4 {
        let hp = h.add(256 * pass);
        let first = ((*src >> (32 + 8 * pass)) & 255) as usize;
        if *hp.add(first) as usize != n {
            let mut sum = 0u32;
            let mut b = 0;
            while b < 256 {
                let c = *hp.add(b);
                *hp.add(b) = sum;
                sum += c;
                b += 1;
            }
            let mut k = 0;
            while k < n {
                let p = *src.add(k);
                let b = ((p >> (32 + 8 * pass)) & 255) as usize;
                let o = *hp.add(b);
                *dst.add(o as usize) = p;
                *hp.add(b) = o + 1;
                k += 1;
            }
            let t = src;
            src = dst;
            dst = t;
        }
        pass += 1;
    }
    if src != m.pairs {
        core::ptr::copy_nonoverlapping(src, m.pairs, n);
    }
}

/// Sliding vertical "median" of one column: `keys[0..z)` → out[k] = window element s−1.
///
/// The column's keys are replaced by their ranks (ties broken by angle, so all distinct); the
/// window is a multiplicity per rank plus an occupancy bitmap, and the answer is a rank pointer
/// that moves over the few occupied ranks between its old and new place: O(1) expected work per
/// angle whatever the window length.
unsafe fn median_column(keys: *const i32, m: &Med, s: i32, z: i32, out: *mut f32) {
    let zs = z as usize;
    let mut k = 0usize;
    while k < zs {
        let u = (*keys.add(k) as u32) ^ 0x8000_0000;
        *m.pairs.add(k) = ((u as u64) << 32) | k as u64;
        k += 1;
    }
    radix_sort(m, zs);
    let mut r = 0usize;
    while r < zs {
        let p = *m.pairs.add(r);
        *m.rank.add((p & 0xffff_ffff) as usize) = r as u32;
        *m.sval.add(r) = ((p >> 32) as u32 ^ 0x8000_0000) as i32;
        *m.cnt.add(r) = 0;
        r += 1;
    }
    let mut w = 0;
    while w < m.words {
        *m.bits.add(w) = 0;
        w += 1;
    }
    // window of k = 0: rows 0..=s plus mirrored 1..=s
    let mut ans = 0usize;
    let mut below = 0i32;
    let mut t = 0;
    while t <= s {
        m.add(t, ans, &mut below);
        t += 1;
    }
    let mut t = 1;
    while t <= s {
        m.add(t, ans, &mut below);
        t += 1;
    }
    m.fix(s, &mut ans, &mut below);
    *out = unkey(*m.sval.add(ans));
    let mut ra = [(0i32, 0i32); 3];
    let mut rb = [(0i32, 0i32); 3];
    let mut k = 0;
    while k + 1 < z {
        if k >= s && k + 1 + s <= z - 1 {
            m.remove(k - s, ans, &mut below);
            m.add(k + s + 1, ans, &mut below);
        } else {
            // near the ends: the multiplicity difference between the windows of k and k+1 is
            // piecewise constant between the ranges' break points; evaluate it on each piece
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
            let mut b = 0;
            while b + 1 < nb {
                let (lo, hi) = (bp[b], bp[b + 1]);
                if lo < hi {
                    let d = mult(&rb, lo) - mult(&ra, lo);
                    let mut t = lo;
                    while t < hi {
                        let mut e = 0;
                        while e < d {
                            m.add(t, ans, &mut below);
                            e += 1;
                        }
                        while e > d {
                            m.remove(t, ans, &mut below);
                            e -= 1;
                        }
                        t += 1;
                    }
                }
                b += 1;
            }
        }
        m.fix(s, &mut ans, &mut below);
        k += 1;
        *out.add(k as usize) = unkey(*m.sval.add(ans));
    }
}

/// Gradient along X with step 2 (gradient3D_local, axis 0) of `rows` rows of X values.
unsafe fn gradient_x<const ABS: bool>(inp: *const f32, grad: *mut f32, rows: i32, x: i32) {
    let mut row = 0;
    while row < rows {
        let b = (row * x) as usize;
        let pi = inp.add(b);
        let pg = grad.add(b);
        let mut i = 0;
        while i + 4 <= x - 2 {
            let v = f32x4_sub(ld(pi.add(i as usize + 2)), ld(pi.add(i as usize)));
            let v = if ABS { f32x4_abs(v) } else { v };
            v128_store(pg.add(i as usize) as *mut v128, v);
            i += 4;
        }
        while i < x {
            let i1 = if i + 2 >= x { i - 2 } else { i + 2 };
            let v = *pi.add(i1 as usize) - *pi.add(i as usize);
            *pg.add(i as usize) = if ABS {
                f32::from_bits(v.to_bits() & 0x7fff_ffff)
            } else {
                v
            };
            i += 1;
        }
        row += 1;
    }
}

/// The ratio map (with the fallback) of voxel row (k, j) into `po[0..x)`.
#[inline(always)]
unsafe fn ratio_row<const P: bool, const A: bool>(
    inp: *const f32,
    grad: *const f32,
    plate: *mut usize,
    z: i32,
    y: i32,
    x: i32,
    ya: i32,
    n_in: i32,
    k: i32,
    j: i32,
    radius: i32,
    po: *mut f32,
    i0: i32,
    i1: i32,
) {
    let h = if radius > 1 { radius } else { 1 };
    let lo = h;
    let hi = x - 4 - h; // last i whose four lanes need no edge rule
    let d = 2 * radius + 1;
    let plate_n = f32x4_splat((d * d) as f32);
    let r3 = f32x4_splat((radius * 3) as f32);
    let np = (d * d) as usize;
    let a = |kk: i32, gg: i32| at_l::<P>(kk, gg, 0, ya, n_in, x, z);
    let o = Offs {
        c: a(k, j),
        j1: a(k, mir(j, -1, y)),
        j2: a(k, mir(j, 1, y)),
        k1: a(mir(k, -1, z), j),
        k2: a(mir(k, 1, z), j),
        h: [a(k, mir(j, -1, y)), a(k, j), a(k, mir(j, 1, y))],
    };
    let mut t = 0usize;
    let mut jm = -radius;
    while jm <= radius {
        let jj = mir(j, jm, y);
        let mut km = -radius;
        while km <= radius {
            *plate.add(t) = a(mir(k, km, z), jj);
            t += 1;
            km += 1;
        }
        jm += 1;
    }
    let mut i = i0;
    while i < i1 {
        if i >= lo && i + 12 <= hi && i + 16 <= i1 {
            ratio_simd::<4, A>(
                inp,
                grad,
                &o,
                plate,
                np,
                i as usize,
                radius as usize,
                plate_n,
                r3,
                po,
            );
            i += 16;
        } else if i >= lo && i <= hi && i + 4 <= i1 {
            ratio_simd::<1, A>(
                inp,
                grad,
                &o,
                plate,
                np,
                i as usize,
                radius as usize,
                plate_n,
                r3,
                po,
            );
            i += 4;
        } else {
            *po.add(i as usize) = ratio_scalar::<P>(inp, grad, z, y, x, ya, n_in, k, j, i, radius);
            i += 1;
        }
    }
}

/// STRIPES_DETECT on a row block.
///
/// `inp`: Z × n_in × X (global rows [ya, ya+n_in)); `grad`: scratch of the same size;
/// `out`: Z × (y1−y0) × X weights; `keys`: MB·Z i32; `res`: MB·Z f32; `med`: 25·Z + 8·(Z/64+1) +
/// 4096 bytes (8-aligned);
/// `plate`: (2·radius+1)² offsets.
#[no_mangle]
pub unsafe extern "C" fn detect_rows(
    inp: *const f32,
    grad: *mut f32,
    out: *mut f32,
    keys: *mut i32,
    res: *mut f32,
    med: *mut u8,
    plate: *mut usize,
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
    gradient_x::<false>(inp, grad, z * n_in, x);
    // ratio map with the fallback, into `out`
    let n_out = y1 - y0;
    let mut k = 0;
    while k < z {
        let mut j = y0;
        while j < y1 {
            let po = out.add(((k * n_out + (j - y0)) * x) as usize);
            ratio_row::<false, true>(inp, grad, plate, z, y, x, ya, n_in, k, j, radius, po, 0, x);
            j += 1;
        }
        k += 1;
    }
    // vertical median, in blocks of MB columns: gather the block's keys column-major (one cache
    // line per angle instead of one per voxel), slide each column, scatter back
    let stride = (n_out * x) as usize;
    let zs = z as usize;
    let mut l = 0;
    while l < n_out {
        let mut i0 = 0usize;
        while i0 < x as usize {
            let nb = if i0 + MB <= x as usize {
                MB
            } else {
                x as usize - i0
            };
            let p = out.add(l as usize * x as usize + i0);
            let mut k = 0usize;
            while k < zs {
                let row = p.add(k * stride);
                let mut c = 0usize;
                while c < nb {
                    *keys.add(c * zs + k) = key(*row.add(c));
                    c += 1;
                }
                k += 1;
            }
            let m = Med::new(med, zs);
            let mut c = 0usize;
            while c < nb {
                median_column(keys.add(c * zs), &m, size, z, res.add(c * zs));
                c += 1;
            }
            let mut k = 0usize;
            while k < zs {
                let row = p.add(k * stride);
                let mut c = 0usize;
                while c < nb {
                    *row.add(c) = *res.add(c * zs + k);
                    c += 1;
                }
                k += 1;
            }
            i0 += nb;
        }
        l += 1;
    }
}

/// Columns per tile of the fused detection's ratio pass.
const TX: i32 = 256;

/// Step-1 bits (w ≤ thr) of `n` tile values into `dst` (0/1 bytes).
#[inline(always)]
unsafe fn le_bits(w: *const f32, dst: *mut u8, n: usize, thr: f32) {
    let tv = f32x4_splat(thr);
    let one = u8x16_splat(1);
    let mut i = 0usize;
    while i + 16 <= n {
        let q0 = f32x4_le(ld(w.add(i)), tv);
        let q1 = f32x4_le(ld(w.add(i + 4)), tv);
        let q2 = f32x4_le(ld(w.add(i + 8)), tv);
        let q3 = f32x4_le(ld(w.add(i + 12)), tv);
        let lo = i16x8_narrow_i32x4(q0, q1);
        let hi = i16x8_narrow_i32x4(q2, q3);
        v128_store(
            dst.add(i) as *mut v128,
            v128_and(i8x16_narrow_i16x8(lo, hi), one),
        );
        i += 16;
    }
    while i < n {
        *dst.add(i) = (*w.add(i) <= thr) as u8;
        i += 1;
    }
}

/// Merge step 1 of one column tile in place: `pm` holds Z rows (stride `xs`) of `tw` 0/1 bits;
/// each becomes (ones in the mirrored window k ± size ≥ size). `c`: (Z+1) × tw i32 scratch.
unsafe fn window_tile(pm: *mut u8, c: *mut i32, xs: usize, tw: usize, z: i32, size: i32) {
    let zs = z as usize;
    let mut i = 0usize;
    while i < tw {
        *c.add(i) = 0;
        i += 1;
    }
    let mut k = 0usize;
    while k < zs {
        let pa = pm.add(k * xs);
        let pc = c.add(k * tw);
        let pn = c.add((k + 1) * tw);
        let mut i = 0usize;
        while i + 16 <= tw {
            let b = v128_load(pa.add(i) as *const v128);
            let lo = u16x8_extend_low_u8x16(b);
            let hi = u16x8_extend_high_u8x16(b);
            let e = [
                u32x4_extend_low_u16x8(lo),
                u32x4_extend_high_u16x8(lo),
                u32x4_extend_low_u16x8(hi),
                u32x4_extend_high_u16x8(hi),
            ];
            for g in 0..4 {
                let v = i32x4_add(v128_load(pc.add(i + 4 * g) as *const v128), e[g]);
                v128_store(pn.add(i + 4 * g) as *mut v128, v);
            }
            i += 16;
        }
        while i < tw {
            *pn.add(i) = *pc.add(i) + *pa.add(i) as i32;
            i += 1;
        }
        k += 1;
    }
    let sv = i32x4_splat(size);
    let one = u8x16_splat(1);
    let mut k = 0;
    while k < z {
        let po = pm.add(k as usize * xs);
        let mut i = 0usize;
        if k >= size && k + size <= z - 1 {
            let pa = c.add((k - size) as usize * tw);
            let pb = c.add((k + size + 1) as usize * tw);
            while i + 16 <= tw {
                let mut q = [i32x4_splat(0); 4];
                for g in 0..4 {
                    let b = v128_load(pb.add(i + 4 * g) as *const v128);
                    let a = v128_load(pa.add(i + 4 * g) as *const v128);
                    q[g] = i32x4_ge(i32x4_sub(b, a), sv);
                }
                let lo = i16x8_narrow_i32x4(q[0], q[1]);
                let hi = i16x8_narrow_i32x4(q[2], q[3]);
                let m = v128_and(i8x16_narrow_i16x8(lo, hi), one);
                v128_store(po.add(i) as *mut v128, m);
                i += 16;
            }
        }
        while i < tw {
            *po.add(i) = (count_window(c, tw, i, k, size, z) >= size) as u8;
            i += 1;
        }
        k += 1;
    }
}

/// STRIPES_DETECT followed by merge step 1 (weights ≤ threshold), for plane-major blocks.
///
/// Element size−1 of the sorted window is ≤ thr exactly when at least `size` elements of the
/// window are (NaN sorts last and compares false), so the step-1 mask is a count of the window
/// voxels at or below the threshold: no sort, the same bits as the median then the threshold.
///
/// Column tile by column tile, the ratio rows of every output row of the block are made angle
/// by angle (each gradient plane is swept once per tile, not once per output row), their bits
/// written into `m1`, then each tile's bits are replaced by the window counts' test.
///
/// `inp`: n_in × Z × X (global rows [ya, ya+n_in)); `grad`: scratch of the same size; `w`: f32
/// scratch of min(X, TX) values (callers pass Z × X); `c`: i32 scratch of (Z+1) × min(X, TX)
/// (callers pass (Z+1) × X); `m1`: (y1−y0) × Z × X u8 out; `plate`: (2r+1)² offsets.
#[no_mangle]
pub unsafe extern "C" fn detect_mask_planes(
    inp: *const f32,
    grad: *mut f32,
    w: *mut f32,
    c: *mut i32,
    m1: *mut u8,
    plate: *mut usize,
    z: i32,
    y: i32,
    x: i32,
    ya: i32,
    n_in: i32,
    y0: i32,
    y1: i32,
    size: i32,
    radius: i32,
    thr: f32,
) {
    gradient_x::<true>(inp, grad, z * n_in, x);
    let xs = x as usize;
    let zs = z as usize;
    let mut i0 = 0;
    while i0 < x {
        let i1 = if i0 + TX < x { i0 + TX } else { x };
        let tw = (i1 - i0) as usize;
        // `w` holds one tile row; ratio_row indexes it by absolute column
        let pw = w.wrapping_sub(i0 as usize);
        let mut k = 0;
        while k < z {
            let mut j = y0;
            while j < y1 {
                ratio_row::<true, false>(
                    inp, grad, plate, z, y, x, ya, n_in, k, j, radius, pw, i0, i1,
                );
                let dst = m1.add(((j - y0) as usize * zs + k as usize) * xs + i0 as usize);
                le_bits(w, dst, tw, thr);
                j += 1;
            }
            k += 1;
        }
        let mut j = y0;
        while j < y1 {
            let pm = m1.add((j - y0) as usize * zs * xs + i0 as usize);
            window_tile(pm, c, xs, tw, z, size);
            j += 1;
        }
        i0 = i1;
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

/// True when any of the `n` bytes at `p` is non-zero.
unsafe fn any_one(p: *const u8, n: usize) -> bool {
    let mut acc = u8x16_splat(0);
    let mut i = 0usize;
    while i + 16 <= n {
        acc = v128_or(acc, v128_load(p.add(i) as *const v128));
        i += 16;
    }
    let mut t = v128_any_true(acc);
    while i < n {
        t |= *p.add(i) != 0;
        i += 1;
    }
    t
}

/// Copies plane `a` (Z × X) to output row `l` of `out` in either layout.
unsafe fn write_row<const P: bool>(out: *mut u8, a: *const u8, z: i32, x: i32, n_out: i32, l: i32) {
    let xs = x as usize;
    let mut k = 0;
    while k < z {
        let dst = if P {
            out.add(((l * z + k) * x) as usize)
        } else {
            out.add(((k * n_out + l) * x) as usize)
        };
        core::ptr::copy_nonoverlapping(a.add(k as usize * xs), dst, xs);
        k += 1;
    }
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
    merge_impl::<false>(
        m1, out, a, b, c, rp, z, y, x, ya, n_in, y0, y1, len, depth, width, thr_v, thr_d,
    )
}

/// [`merge_rows`] on plane-major blocks: `m1` n_in × Z × X, `out` (y1−y0) × Z × X.
#[no_mangle]
pub unsafe extern "C" fn merge_planes(
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
    merge_impl::<true>(
        m1, out, a, b, c, rp, z, y, x, ya, n_in, y0, y1, len, depth, width, thr_v, thr_d,
    )
}

#[inline(always)]
unsafe fn merge_impl<const P: bool>(
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
            let src = m1.add(at_l::<P>(k, j, 0, ya, n_in, x, z));
            core::ptr::copy_nonoverlapping(src, a.add(k as usize * xs), xs);
            k += 1;
        }
        if !any_one(a, plane) {
            // nothing to keep, nothing to merge: the row's mask is all zero
            write_row::<P>(out, a, z, x, n_out, j - y0);
            j += 1;
            continue;
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
                        let p = m1.add(at_l::<P>(k, mir(j, ym, y), 0, ya, n_in, x, z) + i);
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
                            if *m1.add(at_l::<P>(k, mir(j, ym, y), 0, ya, n_in, x, z) + i) == 1 {
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
        // merging passes (they only add voxels next to ones)
        let mut pass = if any_one(a, plane) { 0 } else { width };
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
        write_row::<P>(out, a, z, x, n_out, j - y0);
        j += 1;
    }
}
