//! Max and average pooling over planes. prm (i32): n·c (planes), h, w, oh, ow, kh, kw,
//! strideH, strideW, padH, padW, dilH, dilW.

struct P {
    planes: usize,
    h: isize,
    w: isize,
    oh: usize,
    ow: usize,
    kh: isize,
    kw: isize,
    sh: isize,
    sw: isize,
    ph: isize,
    pw: isize,
    dh: isize,
    dw: isize,
}

unsafe fn rd(prm: *const i32) -> P {
    let g = |i: usize| *prm.add(i) as isize;
    P {
        planes: g(0) as usize,
        h: g(1),
        w: g(2),
        oh: g(3) as usize,
        ow: g(4) as usize,
        kh: g(5),
        kw: g(6),
        sh: g(7),
        sw: g(8),
        ph: g(9),
        pw: g(10),
        dh: g(11),
        dw: g(12),
    }
}

#[no_mangle]
pub unsafe extern "C" fn max_pool2d(x: *const f32, y: *mut f32, idx: *mut i32, prm: *const i32) {
    let p = rd(prm);
    let hw = (p.h * p.w) as usize;
    let ohw = p.oh * p.ow;
    for pl in 0..p.planes {
        let xp = x.add(pl * hw);
        for oy in 0..p.oh {
            for ox in 0..p.ow {
                let hs = oy as isize * p.sh - p.ph;
                let ws = ox as isize * p.sw - p.pw;
                let mut best = f32::NEG_INFINITY;
                let mut bi: isize = -1;
                for ky in 0..p.kh {
                    let iy = hs + ky * p.dh;
                    if iy < 0 || iy >= p.h {
                        continue;
                    }
                    for kx in 0..p.kw {
                        let ix = ws + kx * p.dw;
                        if ix < 0 || ix >= p.w {
                            continue;
                        }
                        let v = *xp.offset(iy * p.w + ix);
                        if bi < 0 || v > best || v != v {
                            best = v;
                            bi = iy * p.w + ix;
                            if v != v {
                                break;
                            }
                        }
                    }
                    if best != best {
                        break;
                    }
                }
                let o = pl * ohw + oy * p.ow + ox;
                *y.add(o) = best;
                *idx.add(o) = if bi < 0 { 0 } else { bi as i32 };
            }
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn max_pool2d_backward(dy: *const f32, idx: *const i32, dx: *mut f32, prm: *const i32) {
    let p = rd(prm);
    let hw = (p.h * p.w) as usize;
    let ohw = p.oh * p.ow;
    crate::fill_f32(dx, p.planes * hw, 0.0);
    for pl in 0..p.planes {
        for o in 0..ohw {
            let k = pl * ohw + o;
            *dx.add(pl * hw + *idx.add(k) as usize) += *dy.add(k);
        }
    }
}

#[inline(always)]
fn window(o: usize, s: isize, pad: isize, k: isize, n: isize) -> (isize, isize, isize) {
    let start = o as isize * s - pad;
    let mut end = start + k;
    if end > n + pad {
        end = n + pad;
    }
    let size = end - start;
    let s0 = if start < 0 { 0 } else { start };
    let e0 = if end > n { n } else { end };
    (s0, e0, size)
}

#[no_mangle]
pub unsafe extern "C" fn avg_pool2d(x: *const f32, y: *mut f32, prm: *const i32) {
    let p = rd(prm);
    let hw = (p.h * p.w) as usize;
    let ohw = p.oh * p.ow;
    for pl in 0..p.planes {
        let xp = x.add(pl * hw);
        for oy in 0..p.oh {
            let (h0, h1, hs) = window(oy, p.sh, p.ph, p.kh, p.h);
            for ox in 0..p.ow {
                let (w0, w1, ws) = window(ox, p.sw, p.pw, p.kw, p.w);
                let mut s = 0.0f32;
                for iy in h0..h1 {
                    for ix in w0..w1 {
                        s += *xp.offset(iy * p.w + ix);
                    }
                }
                *y.add(pl * ohw + oy * p.ow + ox) = s / (hs * ws) as f32;
            }
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn avg_pool2d_backward(dy: *const f32, dx: *mut f32, prm: *const i32) {
    let p = rd(prm);
    let hw = (p.h * p.w) as usize;
    let ohw = p.oh * p.ow;
    crate::fill_f32(dx, p.planes * hw, 0.0);
    for pl in 0..p.planes {
        let dp = dx.add(pl * hw);
        for oy in 0..p.oh {
            let (h0, h1, hs) = window(oy, p.sh, p.ph, p.kh, p.h);
            for ox in 0..p.ow {
                let (w0, w1, ws) = window(ox, p.sw, p.pw, p.kw, p.w);
                let g = *dy.add(pl * ohw + oy * p.ow + ox) / (hs * ws) as f32;
                for iy in h0..h1 {
                    for ix in w0..w1 {
                        *dp.offset(iy * p.w + ix) += g;
                    }
                }
            }
        }
    }
}
