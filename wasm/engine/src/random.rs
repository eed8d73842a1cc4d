//! Philox4x32-10 (Salmon et al. 2011), counter-based: element i of a fill uses block
//! counter + i/4, lane i%4, so results do not depend on how the work is split.
use crate::math::*;

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = (a as u64) * (b as u64);
    ((p >> 32) as u32, p as u32)
}

#[inline]
pub fn philox(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = ctr;
    let mut k = key;
    for r in 0..10 {
        let (hi0, lo0) = mulhilo(M0, c[0]);
        let (hi1, lo1) = mulhilo(M1, c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
        if r < 9 {
            k[0] = k[0].wrapping_add(W0);
            k[1] = k[1].wrapping_add(W1);
        }
    }
    c
}

/// u32 → [0, 1) with 24 bits (exact in f32).
#[inline(always)]
pub fn to_unit(u: u32) -> f32 {
    (u >> 8) as f32 * (1.0 / 16777216.0)
}

/// kind: 0 uniform [0,1), 1 normal (Box–Muller on lane pairs), 2 bernoulli(p) giving `scale`.
#[no_mangle]
pub unsafe extern "C" fn random_fill(
    out: *mut f32,
    n: usize,
    kind: u32,
    key0: u32,
    key1: u32,
    ctr_lo: u32,
    ctr_hi: u32,
    p: f32,
    scale: f32,
) {
    let mut i = 0usize;
    let mut blk: u64 = ((ctr_hi as u64) << 32) | ctr_lo as u64;
    while i < n {
        let r = philox([blk as u32, (blk >> 32) as u32, 0, 0], [key0, key1]);
        let mut v = [0.0f32; 4];
        match kind {
            0 => {
                for l in 0..4 {
                    v[l] = to_unit(r[l]);
                }
            }
            1 => {
                for h in 0..2 {
                    // u1 in (0, 1]
                    let u1 = ((r[2 * h] >> 8) as f64 + 1.0) * (1.0 / 16777216.0);
                    let u2 = (r[2 * h + 1] >> 8) as f64 * (1.0 / 16777216.0);
                    let rad = sqrt64(-2.0 * log64(u1));
                    let (s, c) = sincos64(2.0 * core::f64::consts::PI * u2);
                    v[2 * h] = (rad * c) as f32;
                    v[2 * h + 1] = (rad * s) as f32;
                }
            }
            _ => {
                for l in 0..4 {
                    v[l] = if to_unit(r[l]) < p { scale } else { 0.0 };
                }
            }
        }
        let m = if n - i < 4 { n - i } else { 4 };
        for l in 0..m {
            *out.add(i + l) = v[l];
        }
        i += 4;
        blk = blk.wrapping_add(1);
    }
}
