//! Upsampling (nearest, bilinear) and grid_sample (bilinear, zero padding), forward and
//! backward, following PyTorch 1.13's CPU kernels (f32 index arithmetic).
use crate::math::*;

#[inline(always)]
fn nearest_src(o: usize, inp: usize, out: usize, scale: f32) -> usize {
    if out == inp {
        return o;
    }
    if out == 2 * inp {
        return o >> 1;
    }
    let s = floor32(o as f32 * scale) as usize;
    if s > inp - 1 {
        inp - 1
    } else {
        s
    }
}

#[inline(always)]
fn linear_src(o: usize, inp: usize, scale: f32, align: bool) -> (usize, usize, f32, f32) {
    let real = if align {
        scale * o as f32
    } else {
        let r = scale * (o as f32 + 0.5) - 0.5;
        if r < 0.0 {
            0.0
        } else {
            r
        }
    };
    let i0 = real as usize;
    let mut l1 = real - i0 as f32;
    if l1 < 0.0 {
        l1 = 0.0;
    }
    if l1 > 1.0 {
        l1 = 1.0;
    }
    let i1 = if i0 < inp - 1 { i0 + 1 } else { i0 };
    (i0, i1, 1.0 - l1, l1)
}

/// mode 0 nearest, 1 bilinear. planes = n·c.
#[no_mangle]
pub unsafe extern "C" fn upsample2d(
    x: *const f32,
    y: *mut f32,
    planes: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    mode: u32,
    align: u32,
    scale_h: f32,
    scale_w: f32,
) {
    for pl in 0..planes {
        let xp = x.add(pl * h * w);
        let yp = y.add(pl * oh * ow);
        for oy in 0..oh {
            if mode == 0 {
                let iy = nearest_src(oy, h, oh, scale_h);
                for ox in 0..ow {
                    let ix = nearest_src(ox, w, ow, scale_w);
                    *yp.add(oy * ow + ox) = *xp.add(iy * w + ix);
                }
            } else {
                let (y0, y1, a0, a1) = linear_src(oy, h, scale_h, align != 0);
                for ox in 0..ow {
                    let (x0, x1, b0, b1) = linear_src(ox, w, scale_w, align != 0);
                    let v = a0 * (b0 * *xp.add(y0 * w + x0) + b1 * *xp.add(y0 * w + x1))
                        + a1 * (b0 * *xp.add(y1 * w + x0) + b1 * *xp.add(y1 * w + x1));
                    *yp.add(oy * ow + ox) = v;
                }
            }
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn upsample2d_backward(
    dy: *const f32,
    dx: *mut f32,
    planes: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    mode: u32,
    align: u32,
    scale_h: f32,
    scale_w: f32,
) {
    crate::fill_f32(dx, planes * h * w, 0.0);
    for pl in 0..planes {
        let dp = dx.add(pl * h * w);
        let gp = dy.add(pl * oh * ow);
        for oy in 0..oh {
            if mode == 0 {
                let iy = nearest_src(oy, h, oh, scale_h);
                for ox in 0..ow {
                    let ix = nearest_src(ox, w, ow, scale_w);
                    *dp.add(iy * w + ix) += *gp.add(oy * ow + ox);
                }
            } else {
                let (y0, y1, a0, a1) = linear_src(oy, h, scale_h, align != 0);
                for ox in 0..ow {
                    let (x0, x1, b0, b1) = linear_src(ox, w, scale_w, align != 0);
                    let g = *gp.add(oy * ow + ox);
                    *dp.add(y0 * w + x0) += a0 * b0 * g;
                    *dp.add(y0 * w + x1) += a0 * b1 * g;
                    *dp.add(y1 * w + x0) += a1 * b0 * g;
                    *dp.add(y1 * w + x1) += a1 * b1 * g;
                }
            }
        }
    }
}

#[inline(always)]
fn unnormalize(c: f32, size: usize, align: bool) -> f32 {
    if align {
        ((c + 1.0) / 2.0) * (size as f32 - 1.0)
    } else {
        ((c + 1.0) * size as f32 - 1.0) / 2.0
    }
}

/// x [n,c,h,w], grid [n,oh,ow,2] → y [n,c,oh,ow].
#[no_mangle]
pub unsafe extern "C" fn grid_sample(
    x: *const f32,
    grid: *const f32,
    y: *mut f32,
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    align: u32,
) {
    let (hi, wi) = (h as isize, w as isize);
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                let gp = grid.add(((b * oh + oy) * ow + ox) * 2);
                let ix = unnormalize(*gp, w, align != 0);
                let iy = unnormalize(*gp.add(1), h, align != 0);
                let fx = floor32(ix);
                let fy = floor32(iy);
                let (ix_nw, iy_nw) = (fx as isize, fy as isize);
                let (tx, ty) = (ix - fx, iy - fy);
                let nw = (1.0 - tx) * (1.0 - ty);
                let ne = tx * (1.0 - ty);
                let sw = (1.0 - tx) * ty;
                let se = tx * ty;
                let inb = |yy: isize, xx: isize| yy >= 0 && yy < hi && xx >= 0 && xx < wi;
                for ch in 0..c {
                    let xp = x.add((b * c + ch) * h * w);
                    let mut v = 0.0f32;
                    if inb(iy_nw, ix_nw) {
                        v += *xp.offset(iy_nw * wi + ix_nw) * nw;
                    }
                    if inb(iy_nw, ix_nw + 1) {
                        v += *xp.offset(iy_nw * wi + ix_nw + 1) * ne;
                    }
                    if inb(iy_nw + 1, ix_nw) {
                        v += *xp.offset((iy_nw + 1) * wi + ix_nw) * sw;
                    }
                    if inb(iy_nw + 1, ix_nw + 1) {
                        v += *xp.offset((iy_nw + 1) * wi + ix_nw + 1) * se;
                    }
                    *y.add(((b * c + ch) * oh + oy) * ow + ox) = v;
                }
            }
        }
    }
}

/// dx (zeroed here, when not 0) and dgrid (when not 0).
#[no_mangle]
pub unsafe extern "C" fn grid_sample_backward(
    x: *const f32,
    grid: *const f32,
    dy: *const f32,
    dx: *mut f32,
    dgrid: *mut f32,
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    align: u32,
) {
    let (hi, wi) = (h as isize, w as isize);
    let want_dx = dx as usize != 0;
    let want_dg = dgrid as usize != 0;
    if want_dx {
        crate::fill_f32(dx, n * c * h * w, 0.0);
    }
    let (mx, my) = if align != 0 {
        ((w as f32 - 1.0) / 2.0, (h as f32 - 1.0) / 2.0)
    } else {
        (w as f32 / 2.0, h as f32 / 2.0)
    };
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                let gp = grid.add(((b * oh + oy) * ow + ox) * 2);
                let ix = unnormalize(*gp, w, align != 0);
                let iy = unnormalize(*gp.add(1), h, align != 0);
                let fx = floor32(ix);
                let fy = floor32(iy);
                let (x0, y0) = (fx as isize, fy as isize);
                let (tx, ty) = (ix - fx, iy - fy);
                let nw = (1.0 - tx) * (1.0 - ty);
                let ne = tx * (1.0 - ty);
                let sw = (1.0 - tx) * ty;
                let se = tx * ty;
                let inb = |yy: isize, xx: isize| yy >= 0 && yy < hi && xx >= 0 && xx < wi;
                let (mut gx, mut gy) = (0.0f32, 0.0f32);
                for ch in 0..c {
                    let g = *dy.add(((b * c + ch) * oh + oy) * ow + ox);
                    let xp = x.add((b * c + ch) * h * w);
                    let dp = if want_dx { dx.add((b * c + ch) * h * w) } else { dx };
                    let corners = [
                        (y0, x0, nw, -(1.0 - ty), -(1.0 - tx)),
                        (y0, x0 + 1, ne, 1.0 - ty, -tx),
                        (y0 + 1, x0, sw, -ty, 1.0 - tx),
                        (y0 + 1, x0 + 1, se, ty, tx),
                    ];
                    for &(yy, xx, wt, dwx, dwy) in corners.iter() {
                        if inb(yy, xx) {
                            let o = yy * wi + xx;
                            if want_dx {
                                *dp.offset(o) += wt * g;
                            }
                            let v = *xp.offset(o);
                            gx += v * dwx * g;
                            gy += v * dwy * g;
                        }
                    }
                }
                if want_dg {
                    let d = dgrid.add(((b * oh + oy) * ow + ox) * 2);
                    *d = gx * mx;
                    *d.add(1) = gy * my;
                }
            }
        }
    }
}
