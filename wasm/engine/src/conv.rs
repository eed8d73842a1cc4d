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
                let mut j = 0usize;
                let mut p = p0;
                while j < ncols {
                    let oy = p / g.ow;
                    let ox0 = p % g.ow;
                    let run = if g.ow - ox0 < ncols - j { g.ow - ox0 } else { ncols - j };
                    let iy = oy as isize * g.sh - g.ph + ky as isize * g.dh;
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
                    j += run;
                    p += run;
                }
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
            for kx in 0..g.kw {
                let src = col.add(r * ncols);
                let mut j = 0usize;
                let mut p = p0;
                while j < ncols {
                    let oy = p / g.ow;
                    let ox0 = p % g.ow;
                    let run = if g.ow - ox0 < ncols - j { g.ow - ox0 } else { ncols - j };
                    let iy = oy as isize * g.sh - g.ph + ky as isize * g.dh;
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
                    j += run;
                    p += run;
                }
                r += 1;
            }
        }
    }
}
