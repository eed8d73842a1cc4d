//! Scalar transcendental functions for no_std, computed in f64 and rounded to f32 (within an
//! ulp or so of the correctly rounded result, like PyTorch's CPU kernels).

const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const INV_LN2: f64 = 1.44269504088896338700e+00;

use core::arch::wasm32::*;

// Stable no_std Rust has no scalar floor/sqrt: use the SIMD128 instructions on lane 0.
#[inline(always)]
pub fn floor64(x: f64) -> f64 {
    f64x2_extract_lane::<0>(f64x2_floor(f64x2_splat(x)))
}

#[inline(always)]
pub fn sqrt64(x: f64) -> f64 {
    f64x2_extract_lane::<0>(f64x2_sqrt(f64x2_splat(x)))
}

#[inline(always)]
pub fn floor32(x: f32) -> f32 {
    f32x4_extract_lane::<0>(f32x4_floor(f32x4_splat(x)))
}

#[inline(always)]
pub fn sqrt32(x: f32) -> f32 {
    f32x4_extract_lane::<0>(f32x4_sqrt(f32x4_splat(x)))
}

#[inline(always)]
pub fn abs64(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & 0x7FFF_FFFF_FFFF_FFFF)
}

#[inline(always)]
pub fn abs32(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & 0x7FFF_FFFF)
}

/// e^x in f64 (|error| ~ 1e-16 relative), overflow → inf, underflow → 0.
#[inline]
pub fn exp64(x: f64) -> f64 {
    if x != x {
        return x;
    }
    if x > 709.0 {
        return f64::INFINITY;
    }
    if x < -745.0 {
        return 0.0;
    }
    let k = floor64(x * INV_LN2 + 0.5);
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // Taylor to degree 13 on |r| <= 0.347
    let mut p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    scalbn(p, k as i32)
}

/// x · 2^n.
#[inline]
pub fn scalbn(x: f64, n: i32) -> f64 {
    let mut y = x;
    let mut n = n;
    if n > 1023 {
        y *= f64::from_bits(0x7FE0000000000000); // 2^1023
        n -= 1023;
        if n > 1023 {
            n = 1023;
        }
    } else if n < -1022 {
        y *= f64::from_bits(0x0010000000000000); // 2^-1022
        n += 1022;
        if n < -1022 {
            y *= f64::from_bits(0x0010000000000000);
            n += 1022;
            if n < -1022 {
                n = -1022;
            }
        }
    }
    y * f64::from_bits(((0x3FF + n) as u64) << 52)
}

/// e^x − 1 accurate near 0.
#[inline]
pub fn expm1_64(x: f64) -> f64 {
    if abs64(x) < 0.3 {
        // Taylor to degree 13
        let mut p = 1.0 / 6227020800.0;
        p = p * x + 1.0 / 479001600.0;
        p = p * x + 1.0 / 39916800.0;
        p = p * x + 1.0 / 3628800.0;
        p = p * x + 1.0 / 362880.0;
        p = p * x + 1.0 / 40320.0;
        p = p * x + 1.0 / 5040.0;
        p = p * x + 1.0 / 720.0;
        p = p * x + 1.0 / 120.0;
        p = p * x + 1.0 / 24.0;
        p = p * x + 1.0 / 6.0;
        p = p * x + 0.5;
        p = p * x + 1.0;
        return p * x;
    }
    exp64(x) - 1.0
}

/// ln x in f64: NaN for x < 0, −inf at 0.
#[inline]
pub fn log64(x: f64) -> f64 {
    if x != x || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x == f64::INFINITY {
        return x;
    }
    let mut bits = x.to_bits();
    let mut e: i32 = ((bits >> 52) & 0x7FF) as i32;
    if e == 0 {
        // subnormal
        let y = x * f64::from_bits(0x4350000000000000); // 2^54
        bits = y.to_bits();
        e = ((bits >> 52) & 0x7FF) as i32 - 54;
    }
    e -= 1023;
    let mut m = f64::from_bits((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000); // [1,2)
    if m > core::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    // 2·atanh(s) = 2(s + s^3/3 + ...), |s| <= 0.1716
    let mut p = 1.0 / 23.0;
    p = p * s2 + 1.0 / 21.0;
    p = p * s2 + 1.0 / 19.0;
    p = p * s2 + 1.0 / 17.0;
    p = p * s2 + 1.0 / 15.0;
    p = p * s2 + 1.0 / 13.0;
    p = p * s2 + 1.0 / 11.0;
    p = p * s2 + 1.0 / 9.0;
    p = p * s2 + 1.0 / 7.0;
    p = p * s2 + 1.0 / 5.0;
    p = p * s2 + 1.0 / 3.0;
    p = p * s2 + 1.0;
    let ef = e as f64;
    ef * LN2_HI + (2.0 * s * p + ef * LN2_LO)
}

/// ln(1 + x) accurate near 0.
#[inline]
pub fn log1p64(x: f64) -> f64 {
    let u = 1.0 + x;
    if u == 1.0 {
        return x;
    }
    if u == f64::INFINITY {
        return u;
    }
    log64(u) - ((u - 1.0) - x) / u
}

/// tanh in f64.
#[inline]
pub fn tanh64(x: f64) -> f64 {
    let a = abs64(x);
    if a > 20.0 {
        return if x > 0.0 { 1.0 } else { -1.0 };
    }
    let e = expm1_64(2.0 * a);
    let t = e / (e + 2.0);
    if x < 0.0 { -t } else { t }
}

/// sin and cos of x in f64 for |x| <= 2π·(a few).
#[inline]
pub fn sincos64(x: f64) -> (f64, f64) {
    let two_pi = 2.0 * core::f64::consts::PI;
    // reduce to [-π, π]
    let k = floor64(x / two_pi + 0.5);
    let r = x - k * two_pi;
    // further to [-π/4, π/4] by quadrant
    let q = floor64(r / core::f64::consts::FRAC_PI_2 + 0.5);
    let t = r - q * core::f64::consts::FRAC_PI_2;
    let t2 = t * t;
    let mut s = -1.0 / 1307674368000.0;
    s = s * t2 + 1.0 / 6227020800.0;
    s = s * t2 - 1.0 / 39916800.0;
    s = s * t2 + 1.0 / 362880.0;
    s = s * t2 - 1.0 / 5040.0;
    s = s * t2 + 1.0 / 120.0;
    s = s * t2 - 1.0 / 6.0;
    s = s * t2 + 1.0;
    s *= t;
    let mut c = 1.0 / 87178291200.0;
    c = c * t2 - 1.0 / 479001600.0;
    c = c * t2 + 1.0 / 3628800.0;
    c = c * t2 - 1.0 / 40320.0;
    c = c * t2 + 1.0 / 720.0;
    c = c * t2 - 1.0 / 24.0;
    c = c * t2 + 0.5;
    c = 1.0 - c * t2;
    match (q as i64) & 3 {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

/// x^y for f64 (PyTorch pow semantics for common cases).
#[inline]
pub fn pow64(x: f64, y: f64) -> f64 {
    if y == 0.0 {
        return 1.0;
    }
    if y == 1.0 {
        return x;
    }
    if y == 2.0 {
        return x * x;
    }
    if y == 0.5 {
        return sqrt64(x);
    }
    let yi = floor64(y);
    if x < 0.0 {
        if yi != y {
            return f64::NAN;
        }
        let r = exp64(y * log64(-x));
        // odd integer exponent keeps the sign
        let half = y * 0.5;
        return if floor64(half) != half { -r } else { r };
    }
    if x == 0.0 {
        return if y > 0.0 { 0.0 } else { f64::INFINITY };
    }
    if yi == y && abs64(y) <= 64.0 {
        // exact-ish repeated squaring for small integer exponents
        let mut n = abs64(y) as u32;
        let mut b = x;
        let mut r = 1.0;
        while n > 0 {
            if n & 1 == 1 {
                r *= b;
            }
            b *= b;
            n >>= 1;
        }
        return if y < 0.0 { 1.0 / r } else { r };
    }
    exp64(y * log64(x))
}
