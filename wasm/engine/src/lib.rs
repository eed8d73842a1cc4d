//! Lumen's CPU tensor kernels: `no_std`, SIMD128, on one imported shared memory.
//!
//! Every pointer argument is a byte offset into the shared memory; sizes, strides and offsets are
//! in elements. Kernels never allocate: scratch space is passed in by the caller
//! (lib/tensor/wasm/backend.ts). Parameter blocks (`prm`) are i32 arrays the caller writes.
//! Kernels use no shadow stack beyond small fixed arrays, so one instance per thread is safe.
#![no_std]
#![allow(clippy::missing_safety_doc, clippy::too_many_arguments)]

use core::arch::wasm32::*;

pub mod conv;
pub mod linalg;
pub mod math;
pub mod norm;
pub mod pool;
pub mod random;
pub mod resample;

use math::*;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[inline(always)]
pub(crate) unsafe fn ld(p: *const f32) -> v128 {
    v128_load(p as *const v128)
}
#[inline(always)]
pub(crate) unsafe fn st(p: *mut f32, v: v128) {
    v128_store(p as *mut v128, v)
}

/// Version of the kernel ABI (the JS side checks it).
#[no_mangle]
pub extern "C" fn abi_version() -> u32 {
    2
}

// ------------------------------------------------------------------------------------------
// Fill, cast

#[no_mangle]
pub unsafe extern "C" fn fill_f32(out: *mut f32, n: usize, v: f32) {
    let vv = f32x4_splat(v);
    let mut i = 0;
    while i + 4 <= n {
        st(out.add(i), vv);
        i += 4;
    }
    while i < n {
        *out.add(i) = v;
        i += 1;
    }
}

#[no_mangle]
pub unsafe extern "C" fn cast_i32_f32(x: *const i32, y: *mut f32, n: usize) {
    for i in 0..n {
        *y.add(i) = *x.add(i) as f32;
    }
}

#[no_mangle]
pub unsafe extern "C" fn cast_f32_i32(x: *const f32, y: *mut i32, n: usize) {
    for i in 0..n {
        *y.add(i) = *x.add(i) as i32;
    }
}

// ------------------------------------------------------------------------------------------
// Strided iteration helper: calls `f(offsets…, len)` once per innermost row.

const MAXD: usize = 8;

struct Iter {
    nd: usize,
    shape: [usize; MAXD],
    strides: [[isize; MAXD]; 4],
    base: [isize; 4],
}

impl Iter {
    /// Reads ndim, shape[ndim], then `k` stride arrays, then `k` offsets from `prm`.
    unsafe fn read(prm: *const i32, k: usize) -> Iter {
        let nd = *prm as usize;
        let mut it = Iter { nd, shape: [1; MAXD], strides: [[0; MAXD]; 4], base: [0; 4] };
        let mut q = prm.add(1);
        for d in 0..nd {
            it.shape[d] = *q as usize;
            q = q.add(1);
        }
        for s in 0..k {
            for d in 0..nd {
                it.strides[s][d] = *q as isize;
                q = q.add(1);
            }
        }
        for s in 0..k {
            it.base[s] = *q as isize;
            q = q.add(1);
        }
        it
    }

    /// Loops over every row of the innermost axis.
    #[inline(always)]
    unsafe fn rows<F: FnMut([isize; 4], usize)>(&self, mut f: F) {
        let nd = self.nd;
        if nd == 0 {
            f(self.base, 1);
            return;
        }
        let inner = self.shape[nd - 1];
        let mut idx = [0usize; MAXD];
        let mut off = self.base;
        loop {
            f(off, inner);
            // increment outer index
            let mut d = nd - 1;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                idx[d] += 1;
                for s in 0..4 {
                    off[s] += self.strides[s][d];
                }
                if idx[d] < self.shape[d] {
                    break;
                }
                for s in 0..4 {
                    off[s] -= self.strides[s][d] * self.shape[d] as isize;
                }
                idx[d] = 0;
                if d == 0 {
                    return;
                }
            }
        }
    }
}

/// dst[view] (+)= src[view] over a shape. prm: ndim, shape, srcStrides, dstStrides, srcOff, dstOff.
/// `bytes4` elements are copied as 32-bit words (float or int).
#[no_mangle]
pub unsafe extern "C" fn copy_strided(src: *const f32, dst: *mut f32, prm: *const i32, accumulate: u32) {
    let it = Iter::read(prm, 2);
    let nd = it.nd;
    let ss = if nd > 0 { it.strides[0][nd - 1] } else { 1 };
    let ds = if nd > 0 { it.strides[1][nd - 1] } else { 1 };
    it.rows(|o, n| {
        let s = src.offset(o[0]);
        let d = dst.offset(o[1]);
        if accumulate == 0 {
            if ss == 1 && ds == 1 {
                core::ptr::copy(s, d, n);
            } else if ss == 0 && ds == 1 {
                fill_f32(d, n, *s);
            } else {
                let mut a = 0isize;
                let mut b = 0isize;
                for _ in 0..n {
                    *d.offset(b) = *s.offset(a);
                    a += ss;
                    b += ds;
                }
            }
        } else if ss == 1 && ds == 1 {
            let mut i = 0;
            while i + 4 <= n {
                st(d.add(i), f32x4_add(ld(d.add(i)), ld(s.add(i))));
                i += 4;
            }
            while i < n {
                *d.add(i) += *s.add(i);
                i += 1;
            }
        } else {
            let mut a = 0isize;
            let mut b = 0isize;
            for _ in 0..n {
                *d.offset(b) += *s.offset(a);
                a += ss;
                b += ds;
            }
        }
    });
}

// ------------------------------------------------------------------------------------------
// Unary

#[inline(always)]
fn unary_scalar(op: u32, x: f32, a: f32, b: f32) -> f32 {
    let xd = x as f64;
    match op {
        0 => -x,
        1 => exp64(xd) as f32,
        2 => log64(xd) as f32,
        3 => log1p64(xd) as f32,
        4 => sqrt32(x),
        5 => 1.0 / sqrt32(x),
        6 => abs32(x),
        7 => {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                x * 0.0
            }
        }
        8 => x * x,
        9 => 1.0 / x,
        10 => {
            if x > 0.0 || x != x {
                x
            } else {
                0.0
            }
        }
        11 => {
            if x > 0.0 {
                x
            } else {
                x * a
            }
        }
        12 => tanh64(xd) as f32,
        13 => (1.0 / (1.0 + exp64(-xd))) as f32,
        14 => {
            if x > 20.0 {
                x
            } else {
                log1p64(exp64(xd)) as f32
            }
        }
        15 => pow64(xd, a as f64) as f32,
        16 => {
            let y = if x < a { a } else { x };
            if y > b {
                b
            } else {
                y
            }
        }
        17 => x + a,
        18 => x * a,
        19 => x * a + b,
        _ => x,
    }
}

#[no_mangle]
pub unsafe extern "C" fn unary(op: u32, x: *const f32, y: *mut f32, n: usize, a: f32, b: f32) {
    let mut i = 0;
    // SIMD fast paths for the cheap ops
    match op {
        0 | 6 | 8 | 10 | 11 | 17 | 18 | 19 | 16 => {
            let va = f32x4_splat(a);
            let vb = f32x4_splat(b);
            let z = f32x4_splat(0.0);
            while i + 4 <= n {
                let v = ld(x.add(i));
                let r = match op {
                    0 => f32x4_neg(v),
                    6 => f32x4_abs(v),
                    8 => f32x4_mul(v, v),
                    10 => v128_bitselect(v, z, f32x4_gt(v, z)),
                    11 => v128_bitselect(v, f32x4_mul(v, va), f32x4_gt(v, z)),
                    17 => f32x4_add(v, va),
                    18 => f32x4_mul(v, va),
                    19 => f32x4_add(f32x4_mul(v, va), vb),
                    _ => {
                        let lo = v128_bitselect(va, v, f32x4_lt(v, va));
                        v128_bitselect(vb, lo, f32x4_gt(lo, vb))
                    }
                };
                st(y.add(i), r);
                i += 4;
            }
        }
        _ => {}
    }
    while i < n {
        *y.add(i) = unary_scalar(op, *x.add(i), a, b);
        i += 1;
    }
}

/// dx (+)= dy · op'(x or y). See backend.ts for which of x / y each op reads.
#[no_mangle]
pub unsafe extern "C" fn unary_backward(
    op: u32,
    x: *const f32,
    y: *const f32,
    dy: *const f32,
    dx: *mut f32,
    n: usize,
    a: f32,
    b: f32,
    accumulate: u32,
) {
    let mut i0 = 0usize;
    if accumulate == 0 && matches!(op, 10 | 11 | 12 | 13 | 17 | 18 | 19) {
        let z = f32x4_splat(0.0);
        let one = f32x4_splat(1.0);
        let va = f32x4_splat(a);
        while i0 + 4 <= n {
            let g = ld(dy.add(i0));
            let r = match op {
                10 => v128_and(g, f32x4_gt(ld(x.add(i0)), z)),
                11 => v128_bitselect(g, f32x4_mul(g, va), f32x4_gt(ld(x.add(i0)), z)),
                12 => {
                    let yy = ld(y.add(i0));
                    f32x4_mul(g, f32x4_sub(one, f32x4_mul(yy, yy)))
                }
                13 => {
                    let yy = ld(y.add(i0));
                    f32x4_mul(f32x4_mul(g, f32x4_sub(one, yy)), yy)
                }
                17 => g,
                _ => f32x4_mul(g, va),
            };
            st(dx.add(i0), r);
            i0 += 4;
        }
    }
    for i in i0..n {
        let g = *dy.add(i);
        let r = match op {
            0 => -g,
            1 => g * *y.add(i),
            2 => g / *x.add(i),
            3 => g / (1.0 + *x.add(i)),
            4 => g / (2.0 * *y.add(i)),
            5 => {
                let yy = *y.add(i);
                -0.5 * g * (yy * yy * yy)
            }
            6 => {
                let xv = *x.add(i);
                if xv > 0.0 {
                    g
                } else if xv < 0.0 {
                    -g
                } else {
                    0.0
                }
            }
            7 => 0.0,
            8 => g * 2.0 * *x.add(i),
            9 => {
                let xv = *x.add(i);
                -g / (xv * xv)
            }
            10 => {
                if *x.add(i) > 0.0 {
                    g
                } else {
                    0.0
                }
            }
            11 => {
                if *x.add(i) > 0.0 {
                    g
                } else {
                    g * a
                }
            }
            12 => {
                let yy = *y.add(i);
                g * (1.0 - yy * yy)
            }
            13 => {
                let yy = *y.add(i);
                g * (1.0 - yy) * yy
            }
            14 => {
                let xv = *x.add(i);
                if xv > 20.0 {
                    g
                } else {
                    let z = exp64(xv as f64);
                    (g as f64 * z / (z + 1.0)) as f32
                }
            }
            15 => {
                if a == 0.0 {
                    0.0
                } else {
                    (g as f64 * a as f64 * pow64(*x.add(i) as f64, a as f64 - 1.0)) as f32
                }
            }
            16 => {
                let xv = *x.add(i);
                if xv >= a && xv <= b {
                    g
                } else {
                    0.0
                }
            }
            17 => g,
            18 | 19 => g * a,
            _ => g,
        };
        if accumulate != 0 {
            *dx.add(i) += r;
        } else {
            *dx.add(i) = r;
        }
    }
}

// ------------------------------------------------------------------------------------------
// Binary with broadcasting (out contiguous). prm: ndim, shape, aStrides, bStrides, aOff, bOff.

#[inline(always)]
fn binary_scalar(op: u32, a: f32, b: f32) -> f32 {
    match op {
        0 => a + b,
        1 => a - b,
        2 => a * b,
        3 => a / b,
        4 => pow64(a as f64, b as f64) as f32,
        5 => {
            if a > b || a != a {
                a
            } else {
                b
            }
        }
        6 => {
            if a < b || a != a {
                a
            } else {
                b
            }
        }
        7 => (a > b) as u32 as f32,
        8 => (a >= b) as u32 as f32,
        9 => (a < b) as u32 as f32,
        10 => (a <= b) as u32 as f32,
        11 => (a == b) as u32 as f32,
        12 => (a != b) as u32 as f32,
        _ => 0.0,
    }
}

#[inline(always)]
fn binary_simd(op: u32, a: v128, b: v128) -> v128 {
    match op {
        0 => f32x4_add(a, b),
        1 => f32x4_sub(a, b),
        2 => f32x4_mul(a, b),
        _ => f32x4_div(a, b),
    }
}

#[no_mangle]
pub unsafe extern "C" fn binary(op: u32, a: *const f32, b: *const f32, out: *mut f32, prm: *const i32) {
    let it = Iter::read(prm, 2);
    let nd = it.nd;
    let sa = if nd > 0 { it.strides[0][nd - 1] } else { 0 };
    let sb = if nd > 0 { it.strides[1][nd - 1] } else { 0 };
    let mut o = out;
    it.rows(|off, n| {
        let pa = a.offset(off[0]);
        let pb = b.offset(off[1]);
        let mut i = 0usize;
        if op <= 3 {
            if sa == 1 && sb == 1 {
                while i + 4 <= n {
                    st(o.add(i), binary_simd(op, ld(pa.add(i)), ld(pb.add(i))));
                    i += 4;
                }
            } else if sa == 1 && sb == 0 {
                let vb = f32x4_splat(*pb);
                while i + 4 <= n {
                    st(o.add(i), binary_simd(op, ld(pa.add(i)), vb));
                    i += 4;
                }
            } else if sa == 0 && sb == 1 {
                let va = f32x4_splat(*pa);
                while i + 4 <= n {
                    st(o.add(i), binary_simd(op, va, ld(pb.add(i))));
                    i += 4;
                }
            }
        }
        while i < n {
            *o.add(i) = binary_scalar(op, *pa.offset(i as isize * sa), *pb.offset(i as isize * sb));
            i += 1;
        }
        o = o.add(n);
    });
}

/// out = c ≠ 0 ? a : b. prm: ndim, shape, cStrides, aStrides, bStrides, cOff, aOff, bOff.
#[no_mangle]
pub unsafe extern "C" fn where_(c: *const f32, a: *const f32, b: *const f32, out: *mut f32, prm: *const i32) {
    let it = Iter::read(prm, 3);
    let nd = it.nd;
    let (sc, sa, sb) = if nd > 0 {
        (it.strides[0][nd - 1], it.strides[1][nd - 1], it.strides[2][nd - 1])
    } else {
        (0, 0, 0)
    };
    let mut o = out;
    it.rows(|off, n| {
        let pc = c.offset(off[0]);
        let pa = a.offset(off[1]);
        let pb = b.offset(off[2]);
        for i in 0..n as isize {
            *o.offset(i) = if *pc.offset(i * sc) != 0.0 { *pa.offset(i * sa) } else { *pb.offset(i * sb) };
        }
        o = o.add(n);
    });
}

// ------------------------------------------------------------------------------------------
// Reductions. prm: nKept, keptShape, keptStrides(x), nRed, redShape, redStrides(x).
// op: 0 sum (f64 accumulation), 1 max, 2 min, 3 argmax (i32 out, index in the reduced block).

#[no_mangle]
pub unsafe extern "C" fn reduce(op: u32, x: *const f32, out: *mut f32, prm: *const i32) {
    let nk = *prm as usize;
    let mut kshape = [1usize; MAXD];
    let mut kstr = [0isize; MAXD];
    let mut q = prm.add(1);
    for d in 0..nk {
        kshape[d] = *q as usize;
        q = q.add(1);
    }
    for d in 0..nk {
        kstr[d] = *q as isize;
        q = q.add(1);
    }
    let nr = *q as usize;
    q = q.add(1);
    let mut rshape = [1usize; MAXD];
    let mut rstr = [0isize; MAXD];
    for d in 0..nr {
        rshape[d] = *q as usize;
        q = q.add(1);
    }
    for d in 0..nr {
        rstr[d] = *q as isize;
        q = q.add(1);
    }
    let mut nout = 1usize;
    for d in 0..nk {
        nout *= kshape[d];
    }
    let inner = if nr > 0 { rshape[nr - 1] } else { 1 };
    let istr = if nr > 0 { rstr[nr - 1] } else { 0 };
    let mut nouter_r = 1usize;
    for d in 0..nr.saturating_sub(1) {
        nouter_r *= rshape[d];
    }
    let mut kidx = [0usize; MAXD];
    let mut kbase: isize = 0;
    for o in 0..nout {
        // reduce block at kbase
        let mut acc64 = 0.0f64;
        let mut best = if op == 2 { f32::INFINITY } else { f32::NEG_INFINITY };
        let mut besti: i32 = 0;
        let mut seen_nan = false;
        let mut ridx = [0usize; MAXD];
        let mut rbase: isize = 0;
        let mut flat: i32 = 0;
        for _ in 0..nouter_r {
            let p = x.offset(kbase + rbase);
            if op == 0 {
                if istr == 1 {
                    acc64 += sum_contig(p, inner);
                } else {
                    let mut s = 0.0f64;
                    for i in 0..inner as isize {
                        s += *p.offset(i * istr) as f64;
                    }
                    acc64 += s;
                }
            } else {
                for i in 0..inner as isize {
                    let v = *p.offset(i * istr);
                    if v != v {
                        if !seen_nan {
                            seen_nan = true;
                            best = v;
                            besti = flat + i as i32;
                        }
                    } else if !seen_nan && ((op == 2 && v < best) || (op != 2 && v > best)) {
                        best = v;
                        besti = flat + i as i32;
                    }
                }
            }
            flat += inner as i32;
            // next outer reduced index
            let mut d = nr.saturating_sub(1);
            while d > 0 {
                d -= 1;
                ridx[d] += 1;
                rbase += rstr[d];
                if ridx[d] < rshape[d] {
                    break;
                }
                rbase -= rstr[d] * rshape[d] as isize;
                ridx[d] = 0;
            }
        }
        match op {
            0 => *out.add(o) = acc64 as f32,
            3 => *(out as *mut i32).add(o) = besti,
            _ => *out.add(o) = best,
        }
        // next kept index
        let mut d = nk;
        while d > 0 {
            d -= 1;
            kidx[d] += 1;
            kbase += kstr[d];
            if kidx[d] < kshape[d] {
                break;
            }
            kbase -= kstr[d] * kshape[d] as isize;
            kidx[d] = 0;
        }
    }
}

/// Σ of a contiguous run: f32x4 partial sums over blocks of 256, blocks summed in f64.
#[inline]
pub(crate) unsafe fn sum_contig(p: *const f32, n: usize) -> f64 {
    let mut total = 0.0f64;
    let mut i = 0usize;
    while i < n {
        let end = if n - i > 256 { i + 256 } else { n };
        let mut v = f32x4_splat(0.0);
        let mut j = i;
        while j + 4 <= end {
            v = f32x4_add(v, ld(p.add(j)));
            j += 4;
        }
        let mut s = (f32x4_extract_lane::<0>(v) as f64 + f32x4_extract_lane::<1>(v) as f64)
            + (f32x4_extract_lane::<2>(v) as f64 + f32x4_extract_lane::<3>(v) as f64);
        while j < end {
            s += *p.add(j) as f64;
            j += 1;
        }
        total += s;
        i = end;
    }
    total
}

// ------------------------------------------------------------------------------------------
// Softmax over rows

#[no_mangle]
pub unsafe extern "C" fn softmax(x: *const f32, y: *mut f32, rows: usize, cols: usize, log: u32) {
    for r in 0..rows {
        let px = x.add(r * cols);
        let py = y.add(r * cols);
        let mut m = f32::NEG_INFINITY;
        for c in 0..cols {
            let v = *px.add(c);
            if v > m || v != v {
                m = v;
            }
        }
        let mut s = 0.0f64;
        for c in 0..cols {
            let e = exp64((*px.add(c) - m) as f64);
            s += e;
            if log == 0 {
                *py.add(c) = e as f32;
            }
        }
        if log == 0 {
            let inv = 1.0 / s;
            for c in 0..cols {
                *py.add(c) = (*py.add(c) as f64 * inv) as f32;
            }
        } else {
            let ls = log64(s) as f32;
            for c in 0..cols {
                *py.add(c) = (*px.add(c) - m) - ls;
            }
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn softmax_backward(y: *const f32, dy: *const f32, dx: *mut f32, rows: usize, cols: usize, log: u32) {
    for r in 0..rows {
        let py = y.add(r * cols);
        let pg = dy.add(r * cols);
        let pd = dx.add(r * cols);
        let mut s = 0.0f64;
        if log == 0 {
            for c in 0..cols {
                s += (*pg.add(c) as f64) * (*py.add(c) as f64);
            }
            let sf = s as f32;
            for c in 0..cols {
                *pd.add(c) = *py.add(c) * (*pg.add(c) - sf);
            }
        } else {
            for c in 0..cols {
                s += *pg.add(c) as f64;
            }
            let sf = s as f32;
            for c in 0..cols {
                *pd.add(c) = *pg.add(c) - exp64(*py.add(c) as f64) as f32 * sf;
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Optimisers (PyTorch 1.13 single-tensor semantics, f32 arithmetic in the same order)

/// Adam/AdamW. decoupled: p *= (1 − lr·wd) first; else g += wd·p.
#[no_mangle]
pub unsafe extern "C" fn adam_step(
    p: *mut f32,
    g: *const f32,
    m: *mut f32,
    v: *mut f32,
    n: usize,
    beta1: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    step_size: f32,
    bc2_sqrt: f32,
    eps: f32,
    wd: f32,
    decay_factor: f32,
    decoupled: u32,
) {
    let (vb1, vomb1, vb2, vomb2) = (f32x4_splat(beta1), f32x4_splat(one_minus_beta1), f32x4_splat(beta2), f32x4_splat(one_minus_beta2));
    let (vbc2, veps, vss, vwd, vdf) = (f32x4_splat(bc2_sqrt), f32x4_splat(eps), f32x4_splat(-step_size), f32x4_splat(wd), f32x4_splat(decay_factor));
    let mut i = 0;
    while i + 4 <= n {
        let mut pi = ld(p.add(i));
        let mut gi = ld(g.add(i));
        if decoupled != 0 {
            pi = f32x4_mul(pi, vdf);
        } else if wd != 0.0 {
            gi = f32x4_add(gi, f32x4_mul(vwd, pi));
        }
        let mi = f32x4_add(f32x4_mul(ld(m.add(i)), vb1), f32x4_mul(vomb1, gi));
        let vi = f32x4_add(f32x4_mul(ld(v.add(i)), vb2), f32x4_mul(f32x4_mul(vomb2, gi), gi));
        st(m.add(i), mi);
        st(v.add(i), vi);
        let denom = f32x4_add(f32x4_div(f32x4_sqrt(vi), vbc2), veps);
        st(p.add(i), f32x4_add(pi, f32x4_div(f32x4_mul(vss, mi), denom)));
        i += 4;
    }
    while i < n {
        let mut pi = *p.add(i);
        let mut gi = *g.add(i);
        if decoupled != 0 {
            pi *= decay_factor;
        } else if wd != 0.0 {
            gi += wd * pi;
        }
        let mi = *m.add(i) * beta1 + one_minus_beta1 * gi;
        let vi = *v.add(i) * beta2 + one_minus_beta2 * gi * gi;
        *m.add(i) = mi;
        *v.add(i) = vi;
        let denom = sqrt32(vi) / bc2_sqrt + eps;
        *p.add(i) = pi + (-step_size) * mi / denom;
        i += 1;
    }
}

/// SGD with momentum/dampening/nesterov/weight decay. buf may be 0 (no momentum).
#[no_mangle]
pub unsafe extern "C" fn sgd_step(
    p: *mut f32,
    g: *const f32,
    buf: *mut f32,
    n: usize,
    lr: f32,
    momentum: f32,
    one_minus_dampening: f32,
    wd: f32,
    nesterov: u32,
    first: u32,
) {
    for i in 0..n {
        let pi = *p.add(i);
        let mut d = *g.add(i);
        if wd != 0.0 {
            d += wd * pi;
        }
        if momentum != 0.0 {
            let b = if first != 0 { d } else { *buf.add(i) * momentum + one_minus_dampening * d };
            *buf.add(i) = b;
            d = if nesterov != 0 { d + momentum * b } else { b };
        }
        *p.add(i) = pi + (-lr) * d;
    }
}
