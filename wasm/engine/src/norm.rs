//! Batch norm over [n, c, hw] with a fused activation (0 none, 1 relu, 2 leaky relu).
//! Statistics in f64; pointers equal to 0 mean "absent".
use crate::math::*;
use crate::{ld, st, sum_contig};
use core::arch::wasm32::*;

#[inline(always)]
fn act(a: u32, z: f32, slope: f32) -> f32 {
    match a {
        1 => {
            if z > 0.0 {
                z
            } else {
                0.0
            }
        }
        2 => {
            if z > 0.0 {
                z
            } else {
                z * slope
            }
        }
        _ => z,
    }
}

#[no_mangle]
pub unsafe extern "C" fn batch_norm(
    x: *const f32,
    gamma: *const f32,
    beta: *const f32,
    rmean: *mut f32,
    rvar: *mut f32,
    y: *mut f32,
    mean_out: *mut f32,
    invstd_out: *mut f32,
    n: usize,
    c: usize,
    hw: usize,
    eps: f32,
    use_batch: u32,
    momentum: f32,
    activation: u32,
    slope: f32,
    c0: usize,
    c1: usize,
) {
    let cnt = (n * hw) as f64;
    for ci in c0..c1 {
        let (mean, invstd);
        if use_batch != 0 {
            let mut s = 0.0f64;
            for ni in 0..n {
                s += sum_contig(x.add((ni * c + ci) * hw), hw);
            }
            let m = s / cnt;
            let mf = m as f32;
            let vm = f32x4_splat(mf);
            let mut ss = 0.0f64;
            for ni in 0..n {
                let p = x.add((ni * c + ci) * hw);
                let mut i = 0;
                while i < hw {
                    let end = if hw - i > 256 { i + 256 } else { hw };
                    let mut v = f32x4_splat(0.0);
                    let mut j = i;
                    while j + 4 <= end {
                        let d = f32x4_sub(ld(p.add(j)), vm);
                        v = f32x4_add(v, f32x4_mul(d, d));
                        j += 4;
                    }
                    let mut t = (f32x4_extract_lane::<0>(v) as f64 + f32x4_extract_lane::<1>(v) as f64)
                        + (f32x4_extract_lane::<2>(v) as f64 + f32x4_extract_lane::<3>(v) as f64);
                    while j < end {
                        let d = (*p.add(j) as f64) - m;
                        t += d * d;
                        j += 1;
                    }
                    ss += t;
                    i = end;
                }
            }
            // correct for using the f32-rounded mean: Σ(x−mf)² = Σ(x−m)² + cnt·(m−mf)²
            let dm = m - mf as f64;
            let var = (ss / cnt - dm * dm).max(0.0);
            mean = m;
            invstd = 1.0 / sqrt64(var + eps as f64);
            if rmean as usize != 0 {
                let mo = momentum as f64;
                *rmean.add(ci) = ((1.0 - mo) * *rmean.add(ci) as f64 + mo * m) as f32;
                let unb = if cnt > 1.0 { var * cnt / (cnt - 1.0) } else { var };
                *rvar.add(ci) = ((1.0 - mo) * *rvar.add(ci) as f64 + mo * unb) as f32;
            }
        } else {
            mean = *rmean.add(ci) as f64;
            invstd = 1.0 / sqrt64(*rvar.add(ci) as f64 + eps as f64);
        }
        *mean_out.add(ci) = mean as f32;
        *invstd_out.add(ci) = invstd as f32;
        let g = if gamma as usize != 0 { *gamma.add(ci) as f64 } else { 1.0 };
        let b = if beta as usize != 0 { *beta.add(ci) as f64 } else { 0.0 };
        let alpha = (g * invstd) as f32;
        let shift = (b - mean * g * invstd) as f32;
        let va = f32x4_splat(alpha);
        let vs = f32x4_splat(shift);
        let vz = f32x4_splat(0.0);
        let vsl = f32x4_splat(slope);
        for ni in 0..n {
            let p = x.add((ni * c + ci) * hw);
            let q = y.add((ni * c + ci) * hw);
            let mut i = 0;
            while i + 4 <= hw {
                let z = f32x4_add(f32x4_mul(ld(p.add(i)), va), vs);
                let r = match activation {
                    1 => v128_bitselect(z, vz, f32x4_gt(z, vz)),
                    2 => v128_bitselect(z, f32x4_mul(z, vsl), f32x4_gt(z, vz)),
                    _ => z,
                };
                st(q.add(i), r);
                i += 4;
            }
            while i < hw {
                *q.add(i) = act(activation, *p.add(i) * alpha + shift, slope);
                i += 1;
            }
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn batch_norm_backward(
    x: *const f32,
    y: *const f32,
    dy: *const f32,
    gamma: *const f32,
    mean_in: *const f32,
    invstd_in: *const f32,
    dx: *mut f32,
    dgamma: *mut f32,
    dbeta: *mut f32,
    n: usize,
    c: usize,
    hw: usize,
    use_batch: u32,
    activation: u32,
    slope: f32,
    c0: usize,
    c1: usize,
) {
    let cnt = (n * hw) as f64;
    let vz = f32x4_splat(0.0);
    let vsl = f32x4_splat(slope);
    for ci in c0..c1 {
        let mean = *mean_in.add(ci);
        let invstd = *invstd_in.add(ci);
        let vm = f32x4_splat(mean);
        let vi = f32x4_splat(invstd);
        // pass 1: Σ dz and Σ dz·xhat, writing dz into dx
        let mut sdz = 0.0f64;
        let mut sdzx = 0.0f64;
        for ni in 0..n {
            let off = (ni * c + ci) * hw;
            let (px, py, pg, pd) = (x.add(off), y.add(off), dy.add(off), dx.add(off));
            let mut i = 0;
            while i < hw {
                let end = if hw - i > 256 { i + 256 } else { hw };
                let mut a = vz;
                let mut b = vz;
                let mut j = i;
                while j + 4 <= end {
                    let g = ld(pg.add(j));
                    let dz = match activation {
                        1 => v128_and(g, f32x4_gt(ld(py.add(j)), vz)),
                        2 => v128_bitselect(g, f32x4_mul(g, vsl), f32x4_gt(ld(py.add(j)), vz)),
                        _ => g,
                    };
                    st(pd.add(j), dz);
                    let xh = f32x4_mul(f32x4_sub(ld(px.add(j)), vm), vi);
                    a = f32x4_add(a, dz);
                    b = f32x4_add(b, f32x4_mul(dz, xh));
                    j += 4;
                }
                let mut ta = (f32x4_extract_lane::<0>(a) as f64 + f32x4_extract_lane::<1>(a) as f64)
                    + (f32x4_extract_lane::<2>(a) as f64 + f32x4_extract_lane::<3>(a) as f64);
                let mut tb = (f32x4_extract_lane::<0>(b) as f64 + f32x4_extract_lane::<1>(b) as f64)
                    + (f32x4_extract_lane::<2>(b) as f64 + f32x4_extract_lane::<3>(b) as f64);
                while j < end {
                    let g = *pg.add(j);
                    let yv = *py.add(j);
                    let dz = match activation {
                        1 => {
                            if yv > 0.0 {
                                g
                            } else {
                                0.0
                            }
                        }
                        2 => {
                            if yv > 0.0 {
                                g
                            } else {
                                g * slope
                            }
                        }
                        _ => g,
                    };
                    *pd.add(j) = dz;
                    ta += dz as f64;
                    tb += (dz * ((*px.add(j) - mean) * invstd)) as f64;
                    j += 1;
                }
                sdz += ta;
                sdzx += tb;
                i = end;
            }
        }
        if dbeta as usize != 0 {
            *dbeta.add(ci) += sdz as f32;
        }
        if dgamma as usize != 0 {
            *dgamma.add(ci) += sdzx as f32;
        }
        let g = if gamma as usize != 0 { *gamma.add(ci) } else { 1.0 };
        let k = g * invstd;
        let vk = f32x4_splat(k);
        if use_batch != 0 {
            let mdz = f32x4_splat((sdz / cnt) as f32);
            let mdzx = f32x4_splat((sdzx / cnt) as f32);
            let (mdz_s, mdzx_s) = ((sdz / cnt) as f32, (sdzx / cnt) as f32);
            for ni in 0..n {
                let off = (ni * c + ci) * hw;
                let (px, pd) = (x.add(off), dx.add(off));
                let mut i = 0;
                while i + 4 <= hw {
                    let xh = f32x4_mul(f32x4_sub(ld(px.add(i)), vm), vi);
                    let d = f32x4_sub(f32x4_sub(ld(pd.add(i)), mdz), f32x4_mul(xh, mdzx));
                    st(pd.add(i), f32x4_mul(d, vk));
                    i += 4;
                }
                while i < hw {
                    let xh = (*px.add(i) - mean) * invstd;
                    *pd.add(i) = (*pd.add(i) - mdz_s - xh * mdzx_s) * k;
                    i += 1;
                }
            }
        } else {
            for ni in 0..n {
                let pd = dx.add((ni * c + ci) * hw);
                let mut i = 0;
                while i + 4 <= hw {
                    st(pd.add(i), f32x4_mul(ld(pd.add(i)), vk));
                    i += 4;
                }
                while i < hw {
                    *pd.add(i) *= k;
                    i += 1;
                }
            }
        }
    }
}
