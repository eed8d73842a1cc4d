//! im2col / col2im over a tile of output pixels, so scratch stays bounded whatever the image
//! size. The GEMMs around them are called from JS (the Rust sgemm or the multi-threaded pool).
//!
//! prm (i32): cIn, h, w, kh, kw, oh, ow, strideH, strideW, padH, padW, dilH, dilW.
//! col is [cIn·kh·kw, ncols] row-major; column j is output pixel p0 + j (p = oy·ow + ox).

use crate::{ld, st};
use core::arch::wasm32::*;

/// d[t] = row[ix + 2t] (0 outside [0, w)), t < run.
#[inline(always)]
unsafe fn gather2(row: *const f32, w: isize, ix: isize, d: *mut f32, run: usize) {
    let mut t = 0usize;
    // leading elements left of the row
    while t < run && ix + 2 * (t as isize) < 0 {
        *d.add(t) = 0.0;
        t += 1;
    }
    // SIMD while 8 source floats are inside the row
    while t + 4 <= run && ix + 2 * (t as isize) + 8 <= w {
        let p = row.offset(ix + 2 * t as isize);
        let v = i32x4_shuffle::<0, 2, 4, 6>(ld(p), ld(p.add(4)));
        st(d.add(t), v);
        t += 4;
    }
    while t < run {
        let i = ix + 2 * t as isize;
        *d.add(t) = if i >= 0 && i < w { *row.offset(i) } else { 0.0 };
        t += 1;
    }
}

/// row[ix + 2t] += s[t] where inside [0, w), t < run.
#[inline(always)]
unsafe fn scatter_add2(s: *const f32, row: *mut f32, w: isize, ix: isize, run: usize) {
    let mut t = 0usize;
    while t < run && ix + 2 * (t as isize) < 0 {
        t += 1;
    }
    let z = f32x4_splat(0.0);
    while t + 4 <= run && ix + 2 * (t as isize) + 8 <= w {
        let p = row.offset(ix + 2 * t as isize);
        let v = ld(s.add(t));
        let lo = i32x4_shuffle::<0, 4, 1, 4>(v, z); // s0 0 s1 0
        let hi = i32x4_shuffle::<2, 4, 3, 4>(v, z); // s2 0 s3 0
        st(p, f32x4_add(ld(p), lo));
        st(p.add(4), f32x4_add(ld(p.add(4)), hi));
        t += 4;
    }
    while t < run {
        let i = ix + 2 * t as isize;
        if i >= 0 && i < w {
            *row.offset(i) += *s.add(t);
        }
        t += 1;
    }
}

/// row[q0 + 2t + kx] += s[kx][t] where inside [0, w), t < run, kx < 4: the four taps of one kernel
/// row at stride 2 in one pass over the row. Each position gets its two contributions in kx
/// order, as four `scatter_add2` passes give them: the same sums in the same order (those passes
/// also add +0.0 to the other parity's lanes, which changes nothing but the sign of a -0.0).
#[inline(always)]
unsafe fn scatter_add2x4(s: [*const f32; 4], row: *mut f32, w: isize, q0: isize, run: usize) {
    let n = run as isize;
    // 8 positions q0 + 2t .. + 8 at a time: kx 0, 2 (t, t - 1) on the even ones, kx 1, 3 on the odd
    let mut t: isize = if q0 + 2 < 0 { (1 - q0) / 2 } else { 1 };
    let v_lo = q0 + 2 * t;
    while t + 3 < n && q0 + 2 * t + 8 <= w {
        let p = row.offset(q0 + 2 * t);
        let (a, b) = (ld(p), ld(p.add(4)));
        let e = i32x4_shuffle::<0, 2, 4, 6>(a, b);
        let o = i32x4_shuffle::<1, 3, 5, 7>(a, b);
        let e = f32x4_add(f32x4_add(e, ld(s[0].offset(t))), ld(s[2].offset(t - 1)));
        let o = f32x4_add(f32x4_add(o, ld(s[1].offset(t))), ld(s[3].offset(t - 1)));
        st(p, i32x4_shuffle::<0, 4, 1, 5>(e, o));
        st(p.add(4), i32x4_shuffle::<2, 6, 3, 7>(e, o));
        t += 4;
    }
    let v_hi = q0 + 2 * t;
    // the other positions one by one, their taps in kx order
    let mut pos = if q0 > 0 { q0 } else { 0 };
    let end = if q0 + 2 * n + 2 < w { q0 + 2 * n + 2 } else { w };
    while pos < end {
        if pos == v_lo && v_hi > v_lo {
            pos = v_hi;
            continue;
        }
        let mut acc = *row.offset(pos);
        for kx in 0..4isize {
            let d = pos - q0 - kx;
            if d >= 0 && d & 1 == 0 && (d >> 1) < n {
                acc += *s[kx as usize].offset(d >> 1);
            }
        }
        *row.offset(pos) = acc;
        pos += 1;
    }
}

struct Geo {
    cin: usize,
    h: isize,
    w: isize,
    kh: usize,
    kw: usize,
    ow: usize,
    sh: isize,
    sw: isize,
    ph: isize,
    pw: isize,
    dh: isize,
    dw: isize,
}

unsafe fn geo(prm: *const i32) -> Geo {
    let g = |i: usize| *prm.add(i) as isize;
    Geo {
        cin: g(0) as usize,
        h: g(1),
        w: g(2),
        kh: g(3) as usize,
        kw: g(4) as usize,
        ow: g(6) as usize,
        sh: g(7),
        sw: g(8),
        ph: g(9),
        pw: g(10),
        dh: g(11),
        dw: g(12),
    }
}

/// Calls `f(j, ox0, iy, run)` for each run of tile columns [0, ncols) (pixels from p0) that lies
/// in one output row: `j` its first tile column, `ox0` that pixel's output column, `iy` the input
/// row kernel row `ky` reads there (may be outside the image), `run` its length.
#[inline(always)]
fn row_runs(g: &Geo, p0: usize, ncols: usize, ky: usize, mut f: impl FnMut(usize, usize, isize, usize)) {
    let mut j = 0usize;
    let mut p = p0;
    while j < ncols {
        let oy = p / g.ow;
        let ox0 = p % g.ow;
        let run = if g.ow - ox0 < ncols - j { g.ow - ox0 } else { ncols - j };
        f(j, ox0, oy as isize * g.sh - g.ph + ky as isize * g.dh, run);
        j += run;
        p += run;
    }
}

/// col[r, j] = x[ci, iy, ix] (0 outside), r = (ci·kh + ky)·kw + kx; col rows are `ldcol` apart
/// (threads split the columns of one tile).
#[no_mangle]
pub unsafe extern "C" fn im2col_tile(x: *const f32, col: *mut f32, prm: *const i32, p0: usize, ncols: usize, ldcol: usize) {
    let g = geo(prm);
    let mut r = 0usize;
    for ci in 0..g.cin {
        let plane = x.add(ci * (g.h * g.w) as usize);
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                let dst = col.add(r * ldcol);
                row_runs(&g, p0, ncols, ky, |j, ox0, iy, run| {
                    let d = dst.add(j);
                    if iy < 0 || iy >= g.h {
                        crate::fill_f32(d, run, 0.0);
                    } else {
                        let row = plane.offset(iy * g.w);
                        let off = kx as isize * g.dw - g.pw;
                        let mut ix = ox0 as isize * g.sw + off;
                        if g.sw == 1 && ix >= 0 && ix + run as isize <= g.w {
                            core::ptr::copy_nonoverlapping(row.offset(ix), d, run);
                        } else if g.sw == 2 {
                            gather2(row, g.w, ix, d, run);
                        } else {
                            for t in 0..run {
                                *d.add(t) = if ix >= 0 && ix < g.w { *row.offset(ix) } else { 0.0 };
                                ix += g.sw;
                            }
                        }
                    }
                });
                r += 1;
            }
        }
    }
}

/// dx[ci, iy, ix] += col[r, j] (the adjoint of im2col_tile).
#[no_mangle]
pub unsafe extern "C" fn col2im_tile(col: *const f32, dx: *mut f32, prm: *const i32, p0: usize, ncols: usize) {
    let g = geo(prm);
    let mut r = 0usize;
    for ci in 0..g.cin {
        let plane = dx.add(ci * (g.h * g.w) as usize);
        for ky in 0..g.kh {
            if g.sw == 2 && g.kw == 4 && g.dw == 1 {
                // the kernel row's 4 taps together, output row by output row
                row_runs(&g, p0, ncols, ky, |j, ox0, iy, run| {
                    if iy >= 0 && iy < g.h {
                        let row = plane.offset(iy * g.w);
                        let s = [0, 1, 2, 3].map(|kx| col.add((r + kx) * ncols + j));
                        let q0 = ox0 as isize * 2 - g.pw;
                        if run >= 8 {
                            scatter_add2x4(s, row, g.w, q0, run);
                        } else {
                            for kx in 0..4 {
                                scatter_add2(s[kx], row, g.w, q0 + kx as isize, run);
                            }
                        }
                    }
                });
                r += 4;
                continue;
            }
            for kx in 0..g.kw {
                let src = col.add(r * ncols);
                row_runs(&g, p0, ncols, ky, |j, ox0, iy, run| {
                    if iy >= 0 && iy < g.h {
                        let row = plane.offset(iy * g.w);
                        let s = src.add(j);
                        let mut ix = ox0 as isize * g.sw + kx as isize * g.dw - g.pw;
                        if g.sw == 2 {
                            scatter_add2(s, row, g.w, ix, run);
                        } else if g.sw == 1 && ix >= 0 && ix + run as isize <= g.w {
                            let d = row.offset(ix);
                            let mut t = 0;
                            while t + 4 <= run {
                                st(d.add(t), f32x4_add(ld(d.add(t)), ld(s.add(t))));
                                t += 4;
                            }
                            while t < run {
                                *d.add(t) += *s.add(t);
                                t += 1;
                            }
                        } else {
                            for t in 0..run {
                                if ix >= 0 && ix < g.w {
                                    *row.offset(ix) += *s.add(t);
                                }
                                ix += g.sw;
                            }
                        }
                    }
                });
                r += 1;
            }
        }
    }
}
