//! Lumen tomography kernels for `wasm32-unknown-unknown` with SIMD128.
//!
//! Flat/dark normalisation and `-log`, exactly as NoStripesNet prepares real data
//! (as NoStripesNet reads real data), one detector-row block at a
//! time, writing sinogram order:
//!
//! ```text
//! v = NaN→0(raw)                         (float inputs only)
//! v = (v − dark) / denom                 float32, denom = max(mean(flat) − mean(dark), 1e-6)
//! v = v ≤ 0 ? 1e-9 : v
//! out = −log(v)
//! ```
//!
//! Memory is managed by the caller (lib/wasm/arena.ts): every function takes pointers into this
//! module's exported linear memory, nothing here allocates. `no_std`, no external crates; the
//! built module is committed as `wasm/tomo.wasm` and rebuilt by `wasm/build.sh`.
#![no_std]

use core::arch::wasm32::*;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

// Natural logarithm of a float32: the classic argument reduction x = 2^k · m with
// m ∈ [√2/2, √2), f = m − 1, s = f / (2 + f), and a degree-8 odd polynomial in s
// (error below 1 ulp). The scalar and the SIMD versions run the same float32 operations
// in the same order (wasm has no fused multiply-add), so they give identical bits.
const LN2_HI: f32 = 0.6931381; // 0x3f317180
const LN2_LO: f32 = 9.058001e-06; // 0x3717f7d1
const LG1: f32 = 0.6666666; // 0x3f2aaaaa
const LG2: f32 = 0.40000972; // 0x3eccce13
const LG3: f32 = 0.28498787; // 0x3e91e9ee
const LG4: f32 = 0.24279079; // 0x3e789e26
const SQRT_HALF_BITS: u32 = 0x3f3504f3;
const ONE_BITS: u32 = 0x3f800000;
const TINY: f32 = 1e-9;

/// −ln(x) for x > 0 normal, +inf (→ −inf) or NaN (→ NaN).
#[inline(always)]
fn neg_log1(x: f32) -> f32 {
    if !(x < f32::INFINITY) {
        return -x;
    }
    let mut ix = x.to_bits();
    ix = ix.wrapping_add(ONE_BITS - SQRT_HALF_BITS);
    let k = ((ix >> 23) as i32) - 0x7f;
    ix = (ix & 0x007f_ffff) + SQRT_HALF_BITS;
    let f = f32::from_bits(ix) - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * LG4);
    let t2 = z * (LG1 + w * LG3);
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    let dk = k as f32;
    -(s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI)
}

/// Four lanes of [`neg_log1`].
#[inline(always)]
unsafe fn neg_log4(x: v128) -> v128 {
    let ix = i32x4_add(x, u32x4_splat(ONE_BITS - SQRT_HALF_BITS));
    let k = i32x4_sub(u32x4_shr(ix, 23), i32x4_splat(0x7f));
    let m = i32x4_add(v128_and(ix, u32x4_splat(0x007f_ffff)), u32x4_splat(SQRT_HALF_BITS));
    let f = f32x4_sub(m, f32x4_splat(1.0));
    let s = f32x4_div(f, f32x4_add(f32x4_splat(2.0), f));
    let z = f32x4_mul(s, s);
    let w = f32x4_mul(z, z);
    let t1 = f32x4_mul(w, f32x4_add(f32x4_splat(LG2), f32x4_mul(w, f32x4_splat(LG4))));
    let t2 = f32x4_mul(z, f32x4_add(f32x4_splat(LG1), f32x4_mul(w, f32x4_splat(LG3))));
    let r = f32x4_add(t2, t1);
    let hfsq = f32x4_mul(f32x4_mul(f32x4_splat(0.5), f), f);
    let dk = f32x4_convert_i32x4(k);
    let a = f32x4_mul(s, f32x4_add(hfsq, r));
    let b = f32x4_add(a, f32x4_mul(dk, f32x4_splat(LN2_LO)));
    let c = f32x4_add(f32x4_sub(b, hfsq), f);
    let y = f32x4_neg(f32x4_add(c, f32x4_mul(dk, f32x4_splat(LN2_HI))));
    // +inf → −inf, NaN → NaN (−x); finite lanes take the polynomial.
    let finite = f32x4_lt(x, f32x4_splat(f32::INFINITY));
    v128_bitselect(y, f32x4_neg(x), finite)
}

#[inline(always)]
fn norm1(v: f32, dark: f32, denom: f32) -> f32 {
    let t = (v - dark) / denom;
    neg_log1(if t <= 0.0 { TINY } else { t })
}

#[inline(always)]
unsafe fn norm4(v: v128, dark: *const f32, denom: *const f32) -> v128 {
    let d = v128_load(dark as *const v128);
    let q = v128_load(denom as *const v128);
    let t = f32x4_div(f32x4_sub(v, d), q);
    let t = v128_bitselect(f32x4_splat(TINY), t, f32x4_le(t, f32x4_splat(0.0)));
    neg_log4(t)
}

/// Exact float32 of four u32 lanes below 2^23: the bits 0x4b000000 | u are the float 2^23 + u.
/// (LLVM 14 scalarises `f32x4.convert_i32x4_u` of a widened u16 vector, lane by lane.)
#[inline(always)]
unsafe fn u16_to_f32(u: v128) -> v128 {
    let magic = u32x4_splat(0x4b00_0000);
    f32x4_sub(v128_or(u, magic), magic)
}

/// Normalises a block of uint16 frames laid out (frames, rows, cols) into sinogram order.
///
/// `dark` and `denom` are (rows, cols) float32; frame `a`, row `r`, column `c` goes to
/// `out[a * out_frame_stride + r * out_row_stride + c]`. For sinograms (rows, angles, cols)
/// pass `out_frame_stride = cols` and `out_row_stride = angles * cols`, with `out` pointing at
/// the block's first angle.
///
/// # Safety
/// All pointers must address valid, non-overlapping regions of the sizes implied.
#[no_mangle]
pub unsafe extern "C" fn norm_u16(
    raw: *const u16,
    frames: usize,
    rows: usize,
    cols: usize,
    dark: *const f32,
    denom: *const f32,
    out: *mut f32,
    out_frame_stride: usize,
    out_row_stride: usize,
) {
    for r in 0..rows {
        let d = dark.add(r * cols);
        let q = denom.add(r * cols);
        for a in 0..frames {
            let src = raw.add((a * rows + r) * cols);
            let dst = out.add(a * out_frame_stride + r * out_row_stride);
            let mut c = 0;
            // Four independent vectors per step: the log's dependency chain is long, and V8
            // neither unrolls nor reorders across iterations.
            while c + 16 <= cols {
                let v0 = v128_load(src.add(c) as *const v128);
                let v1 = v128_load(src.add(c + 8) as *const v128);
                let x0 = norm4(u16_to_f32(u32x4_extend_low_u16x8(v0)), d.add(c), q.add(c));
                let x1 = norm4(u16_to_f32(u32x4_extend_high_u16x8(v0)), d.add(c + 4), q.add(c + 4));
                let x2 = norm4(u16_to_f32(u32x4_extend_low_u16x8(v1)), d.add(c + 8), q.add(c + 8));
                let x3 = norm4(u16_to_f32(u32x4_extend_high_u16x8(v1)), d.add(c + 12), q.add(c + 12));
                v128_store(dst.add(c) as *mut v128, x0);
                v128_store(dst.add(c + 4) as *mut v128, x1);
                v128_store(dst.add(c + 8) as *mut v128, x2);
                v128_store(dst.add(c + 12) as *mut v128, x3);
                c += 16;
            }
            while c + 8 <= cols {
                let v = v128_load(src.add(c) as *const v128);
                let lo = u16_to_f32(u32x4_extend_low_u16x8(v));
                let hi = u16_to_f32(u32x4_extend_high_u16x8(v));
                v128_store(dst.add(c) as *mut v128, norm4(lo, d.add(c), q.add(c)));
                v128_store(dst.add(c + 4) as *mut v128, norm4(hi, d.add(c + 4), q.add(c + 4)));
                c += 8;
            }
            while c < cols {
                *dst.add(c) = norm1(*src.add(c) as f32, *d.add(c), *q.add(c));
                c += 1;
            }
        }
    }
}

/// As [`norm_u16`] for float32 frames; NaN inputs count as 0.
///
/// # Safety
/// All pointers must address valid, non-overlapping regions of the sizes implied.
#[no_mangle]
pub unsafe extern "C" fn norm_f32(
    raw: *const f32,
    frames: usize,
    rows: usize,
    cols: usize,
    dark: *const f32,
    denom: *const f32,
    out: *mut f32,
    out_frame_stride: usize,
    out_row_stride: usize,
) {
    for r in 0..rows {
        let d = dark.add(r * cols);
        let q = denom.add(r * cols);
        for a in 0..frames {
            let src = raw.add((a * rows + r) * cols);
            let dst = out.add(a * out_frame_stride + r * out_row_stride);
            let mut c = 0;
            while c + 4 <= cols {
                let v = v128_load(src.add(c) as *const v128);
                let v = v128_and(v, f32x4_eq(v, v)); // NaN → +0
                v128_store(dst.add(c) as *mut v128, norm4(v, d.add(c), q.add(c)));
                c += 4;
            }
            while c < cols {
                let v = *src.add(c);
                let v = if v != v { 0.0 } else { v };
                *dst.add(c) = norm1(v, *d.add(c), *q.add(c));
                c += 1;
            }
        }
    }
}

/// In place: `x ≤ 0 → 1e-9`, then `x = −ln(x)`, over `n` float32 values.
///
/// # Safety
/// `x` must address `n` valid float32 values.
#[no_mangle]
pub unsafe extern "C" fn neg_log_f32(x: *mut f32, n: usize) {
    let mut i = 0;
    while i + 4 <= n {
        let p = x.add(i) as *mut v128;
        let t = v128_load(p);
        let t = v128_bitselect(f32x4_splat(TINY), t, f32x4_le(t, f32x4_splat(0.0)));
        v128_store(p, neg_log4(t));
        i += 4;
    }
    while i < n {
        let t = *x.add(i);
        *x.add(i) = neg_log1(if t <= 0.0 { TINY } else { t });
        i += 1;
    }
}

/// Minimum and maximum of `x[0..n]` ignoring NaN, written to `out[0]`, `out[1]` (+inf and −inf
/// when every value is NaN), as the loop `if v < lo { lo = v } if v > hi { hi = v }` gives them
/// (which of −0 and +0 is kept may differ).
#[no_mangle]
pub unsafe extern "C" fn range_f32(x: *const f32, n: usize, out: *mut f32) {
    let mut lo4 = f32x4_splat(f32::INFINITY);
    let mut hi4 = f32x4_splat(f32::NEG_INFINITY);
    let mut i = 0;
    while i + 8 <= n {
        let a = v128_load(x.add(i) as *const v128);
        let b = v128_load(x.add(i + 4) as *const v128);
        lo4 = v128_bitselect(a, lo4, f32x4_lt(a, lo4));
        hi4 = v128_bitselect(a, hi4, f32x4_gt(a, hi4));
        lo4 = v128_bitselect(b, lo4, f32x4_lt(b, lo4));
        hi4 = v128_bitselect(b, hi4, f32x4_gt(b, hi4));
        i += 8;
    }
    let mut lo = f32::INFINITY;
    let mut hi = f32::NEG_INFINITY;
    let l = [
        f32x4_extract_lane::<0>(lo4),
        f32x4_extract_lane::<1>(lo4),
        f32x4_extract_lane::<2>(lo4),
        f32x4_extract_lane::<3>(lo4),
    ];
    let h = [
        f32x4_extract_lane::<0>(hi4),
        f32x4_extract_lane::<1>(hi4),
        f32x4_extract_lane::<2>(hi4),
        f32x4_extract_lane::<3>(hi4),
    ];
    for k in 0..4 {
        if l[k] < lo {
            lo = l[k];
        }
        if h[k] > hi {
            hi = h[k];
        }
    }
    while i < n {
        let v = *x.add(i);
        if v < lo {
            lo = v;
        }
        if v > hi {
            hi = v;
        }
        i += 1;
    }
    *out = lo;
    *out.add(1) = hi;
}

/// A vector whose value the compiler cannot see, so that it stays in a local: V8 materialises a
/// `v128.const` inside a loop again at every use (several instructions each).
#[inline(always)]
unsafe fn opaque(v: v128) -> v128 {
    core::ptr::read_volatile(&v)
}

/// Four lanes of the scaling: `t = (clip(v) − lo) · 65535 / span` lies in [0, 65535] or is NaN,
/// so its truncation is `trunc(t)` read off the bits of `trunc(t) + 2^23`, and NaN lanes are
/// masked to 0. Only single-instruction operations on x86 (`pmin`/`pmax`, `roundps`), no
/// NaN-propagating `min` or unsigned saturating conversion sequences.
#[inline(always)]
unsafe fn scale4(v: v128, lo: v128, hi: v128, span: v128, top: v128, magic: v128) -> v128 {
    let c = f32x4_pmin(f32x4_pmax(v, lo), hi); // v < lo → lo, v > hi → hi, NaN stays
    let t = f32x4_div(f32x4_mul(f32x4_sub(c, lo), top), span);
    // pmin(t, 65535) = 65535 < t ? 65535 : t, which keeps NaN as min would
    let t = f32x4_pmin(t, top);
    let k = i32x4_sub(f32x4_add(f32x4_trunc(t), magic), magic);
    v128_and(k, f32x4_eq(t, t)) // NaN → 0
}

/// NoStripesNet's uint16 storage of `x[0..n]` into `out`: clip to [lo, hi], then
/// `(x − lo) · 65535 / (hi − lo)` in float32, truncated; NaN → 0; zeros when hi − lo ≤ 0 (the
/// loop of lib/data/patches.ts `toUint16`, bit for bit).
#[no_mangle]
pub unsafe extern "C" fn scale_u16(x: *const f32, n: usize, lo: f32, hi: f32, out: *mut u16) {
    let span = hi - lo;
    if !(span > 0.0) {
        core::ptr::write_bytes(out, 0, n);
        return;
    }
    let (lo4, hi4, sp4) = (f32x4_splat(lo), f32x4_splat(hi), f32x4_splat(span));
    // 65535 and 2^23 (whose bits are 0x4b000000)
    let (top, magic) = (opaque(f32x4_splat(65535.0)), opaque(f32x4_splat(8388608.0)));
    let mut i = 0;
    while i + 8 <= n {
        let a = scale4(v128_load(x.add(i) as *const v128), lo4, hi4, sp4, top, magic);
        let b = scale4(v128_load(x.add(i + 4) as *const v128), lo4, hi4, sp4, top, magic);
        v128_store(out.add(i) as *mut v128, u16x8_narrow_i32x4(a, b));
        i += 8;
    }
    while i < n {
        let mut v = *x.add(i);
        if v < lo {
            v = lo;
        } else if v > hi {
            v = hi;
        }
        let t = ((v - lo) * 65535.0) / span;
        *out.add(i) = if t >= 65535.0 { 65535 } else if t > 0.0 { t as u16 } else { 0 };
        i += 1;
    }
}
