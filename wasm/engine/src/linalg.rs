//! A simple, portable SGEMM (SIMD128, 4×8 register tile, packed panels): the reference and
//! single-thread fallback. The multi-threaded relaxed-SIMD GEMM lives in wasm/gemm.
//!
//! C = alpha·op(A)·op(B) + beta·C, row-major; scratch must hold (KC·NC + MC·KC) floats.
use crate::{ld, st};
use core::arch::wasm32::*;

pub const MC: usize = 64;
pub const KC: usize = 256;
pub const NC: usize = 512;

/// Floats of scratch that `sgemm` needs.
#[no_mangle]
pub extern "C" fn sgemm_scratch_floats() -> usize {
    KC * NC + MC * KC
}

#[inline(always)]
unsafe fn a_at(a: *const f32, lda: usize, ta: bool, i: usize, p: usize) -> f32 {
    if ta {
        *a.add(p * lda + i)
    } else {
        *a.add(i * lda + p)
    }
}

/// Packs B[k0..k0+kc, n0..n0+nc] into panels of 8 columns: panel j holds kc rows of 8 floats.
unsafe fn pack_b(b: *const f32, ldb: usize, tb: bool, k0: usize, kc: usize, n0: usize, nc: usize, dst: *mut f32) {
    let mut d = dst;
    let mut j = 0;
    while j < nc {
        let w = if nc - j < 8 { nc - j } else { 8 };
        for p in 0..kc {
            let kk = k0 + p;
            if !tb && w == 8 {
                let src = b.add(kk * ldb + n0 + j);
                st(d, ld(src));
                st(d.add(4), ld(src.add(4)));
            } else {
                for c in 0..8 {
                    *d.add(c) = if c < w {
                        let nn = n0 + j + c;
                        if tb {
                            *b.add(nn * ldb + kk)
                        } else {
                            *b.add(kk * ldb + nn)
                        }
                    } else {
                        0.0
                    };
                }
            }
            d = d.add(8);
        }
        j += 8;
    }
}

/// Packs alpha·A[m0..m0+mc, k0..k0+kc] into panels of 4 rows: panel i holds kc columns of 4.
unsafe fn pack_a(a: *const f32, lda: usize, ta: bool, m0: usize, mc: usize, k0: usize, kc: usize, alpha: f32, dst: *mut f32) {
    let mut d = dst;
    let mut i = 0;
    while i < mc {
        let h = if mc - i < 4 { mc - i } else { 4 };
        for p in 0..kc {
            for r in 0..4 {
                *d.add(r) = if r < h { alpha * a_at(a, lda, ta, m0 + i + r, k0 + p) } else { 0.0 };
            }
            d = d.add(4);
        }
        i += 4;
    }
}

/// 4×8 micro-kernel: C[4×8] += Apanel[kc×4]ᵀ · Bpanel[kc×8].
#[inline(always)]
unsafe fn kernel_4x8(kc: usize, ap: *const f32, bp: *const f32, c: *mut f32, ldc: usize, h: usize, w: usize) {
    let z = f32x4_splat(0.0);
    let (mut c00, mut c01, mut c10, mut c11, mut c20, mut c21, mut c30, mut c31) = (z, z, z, z, z, z, z, z);
    let mut a = ap;
    let mut b = bp;
    for _ in 0..kc {
        let b0 = ld(b);
        let b1 = ld(b.add(4));
        let a0 = f32x4_splat(*a);
        let a1 = f32x4_splat(*a.add(1));
        let a2 = f32x4_splat(*a.add(2));
        let a3 = f32x4_splat(*a.add(3));
        c00 = f32x4_add(c00, f32x4_mul(a0, b0));
        c01 = f32x4_add(c01, f32x4_mul(a0, b1));
        c10 = f32x4_add(c10, f32x4_mul(a1, b0));
        c11 = f32x4_add(c11, f32x4_mul(a1, b1));
        c20 = f32x4_add(c20, f32x4_mul(a2, b0));
        c21 = f32x4_add(c21, f32x4_mul(a2, b1));
        c30 = f32x4_add(c30, f32x4_mul(a3, b0));
        c31 = f32x4_add(c31, f32x4_mul(a3, b1));
        a = a.add(4);
        b = b.add(8);
    }
    if h == 4 && w == 8 {
        let rows = [(c00, c01), (c10, c11), (c20, c21), (c30, c31)];
        for r in 0..4 {
            let pc = c.add(r * ldc);
            st(pc, f32x4_add(ld(pc), rows[r].0));
            st(pc.add(4), f32x4_add(ld(pc.add(4)), rows[r].1));
        }
    } else {
        let mut t = [0.0f32; 32];
        let tp = t.as_mut_ptr();
        st(tp, c00);
        st(tp.add(4), c01);
        st(tp.add(8), c10);
        st(tp.add(12), c11);
        st(tp.add(16), c20);
        st(tp.add(20), c21);
        st(tp.add(24), c30);
        st(tp.add(28), c31);
        for r in 0..h {
            for q in 0..w {
                *c.add(r * ldc + q) += t[r * 8 + q];
            }
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn sgemm(
    trans_a: u32,
    trans_b: u32,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
    beta: f32,
    c: *mut f32,
    ldc: usize,
    scratch: *mut f32,
) {
    // beta
    if beta != 1.0 {
        for i in 0..m {
            let row = c.add(i * ldc);
            if beta == 0.0 {
                crate::fill_f32(row, n, 0.0);
            } else {
                for j in 0..n {
                    *row.add(j) *= beta;
                }
            }
        }
    }
    if k == 0 || alpha == 0.0 {
        return;
    }
    let ta = trans_a != 0;
    let tb = trans_b != 0;
    let bpack = scratch;
    let apack = scratch.add(KC * NC);
    let mut n0 = 0;
    while n0 < n {
        let nc = if n - n0 < NC { n - n0 } else { NC };
        let mut k0 = 0;
        while k0 < k {
            let kc = if k - k0 < KC { k - k0 } else { KC };
            pack_b(b, ldb, tb, k0, kc, n0, nc, bpack);
            let mut m0 = 0;
            while m0 < m {
                let mc = if m - m0 < MC { m - m0 } else { MC };
                pack_a(a, lda, ta, m0, mc, k0, kc, alpha, apack);
                let mut i = 0;
                while i < mc {
                    let h = if mc - i < 4 { mc - i } else { 4 };
                    let mut j = 0;
                    while j < nc {
                        let w = if nc - j < 8 { nc - j } else { 8 };
                        kernel_4x8(
                            kc,
                            apack.add(i * kc),
                            bpack.add(j * kc),
                            c.add((m0 + i) * ldc + n0 + j),
                            ldc,
                            h,
                            w,
                        );
                        j += 8;
                    }
                    i += 4;
                }
                m0 += MC;
            }
            k0 += KC;
        }
        n0 += NC;
    }
}
