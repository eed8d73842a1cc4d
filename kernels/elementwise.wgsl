// Elementwise kernels: unary ops (with two scalar arguments), binary ops with broadcasting
// (strides 0 on broadcast axes, up to 8 dims), where(cond, a, b), fill, activation gradients.
//
// Parameters (binding 0, 64 u32 words; f32 values are bit-cast):
//   unary:    [n, alpha, beta]
//   binary:   [n, ndim, alpha, -, shape[8] @4, aStride[8] @12, bStride[8] @20, aOff @28, bOff @29]
//   where:    [n, ndim, -, -, shape[8] @4, cStride[8] @12, aStride[8] @20, bStride[8] @28,
//              cOff @36, aOff @37, bOff @38]
//   fill:     [n, value]
// Work is laid out 1-D: element = (group.y * groups.x + group.x) * WG + local.
// The op codes are `override` constants, so each (op, layout) is its own specialised pipeline.
//
// Op codes (keep in sync with lib/tensor/webgpu/elementwise.ts):
//  unary  0 id 1 neg 2 exp 3 log 4 sqrt 5 abs 6 relu 7 leaky_relu(alpha) 8 tanh 9 sigmoid
//         10 square 11 reciprocal 12 rsqrt 13 sin 14 cos 15 sign 16 x+alpha 17 x*alpha
//         18 x^alpha 19 clamp(alpha,beta) 20 alpha*x+beta 21 alpha-x 22 alpha/x 23 log1p
//         24 expm1 25 floor 26 ceil 27 round(half even) 28 softplus 29 x>alpha 30 x<alpha
//         31 x==alpha 32 isfinite 33 step(x>0) 34 x>=alpha 35 x<=alpha 36 x!=alpha 37 logical not
//  binary 0 a+b 1 a-b 2 a*b 3 a/b 4 pow 5 max 6 min 7 a>b 8 a>=b 9 a<b 10 a<=b 11 a==b 12 a!=b
//         13 relu_grad(x=a, dy=b) 14 leaky_relu_grad(x=a, dy=b, alpha) 15 tanh_grad(y=a, dy=b)
//         16 sigmoid_grad(y=a, dy=b) 17 abs_grad(x=a, dy=b) 18 a*alpha+b 19 b-a 20 b/a
//         21 clamp_grad(x=a, dy=b, lo=alpha, hi=beta) 22 sqrt_grad(y=a, dy=b)
//         23 logical and 24 logical or 25 atan2 26 a + alpha*b

override WG: u32 = 256;
override OP: u32 = 0;
override BCAST: u32 = 1; // 0: all operands contiguous with the output's shape
override CI32: u32 = 0;  // where: the condition is int32
override ACC: u32 = 0;   // unary_grad: dx += instead of dx =

fn elem(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

// ---------------------------------------------------------------- accurate helpers

fn expm1_(x: f32) -> f32 {
  let ax = abs(x);
  if (ax < 0.35) {
    // Taylor series to x^9: error < 1e-9 relative on |x| < 0.35
    return x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 +
      x * (1.0 / 720.0 + x * (1.0 / 5040.0 + x * (1.0 / 40320.0 + x * (1.0 / 362880.0)))))))));
  }
  return exp(x) - 1.0;
}

fn log1p_(x: f32) -> f32 {
  if (x < -0.5 || x > 1.0) { return log(1.0 + x); }
  // log(1 + x) = 2·atanh(s), s = x / (2 + x), |s| ≤ 1/3: odd series in s, no cancellation
  // (compilers may rewrite (1 + x) − 1 as x, so the usual correction trick is unsafe here)
  let s = x / (2.0 + x);
  let q = s * s;
  let p = 1.0 + q * (1.0 / 3.0 + q * (1.0 / 5.0 + q * (1.0 / 7.0 + q * (1.0 / 9.0 + q * (1.0 / 11.0 +
    q * (1.0 / 13.0 + q * (1.0 / 15.0 + q * (1.0 / 17.0 + q * (1.0 / 19.0)))))))));
  return 2.0 * s * p;
}

fn tanh_(x: f32) -> f32 {
  let ax = abs(x);
  if (ax > 9.1) { return sign(x); }
  let e = expm1_(2.0 * ax);
  return sign(x) * (e / (e + 2.0));
}

fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}

fn softplus_(x: f32) -> f32 {
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|)
  return max(x, 0.0) + log1p_(exp(-abs(x)));
}

fn b2f(b: bool) -> f32 { return select(0.0, 1.0, b); }

fn round_even(x: f32) -> f32 {
  // WGSL round() already rounds half to even
  return round(x);
}

fn unary_op(x: f32, alpha: f32, beta: f32) -> f32 {
  switch OP {
    case 0u: { return x; }
    case 1u: { return -x; }
    case 2u: { return exp(x); }
    case 3u: { return log(x); }
    case 4u: { return sqrt(x); }
    case 5u: { return abs(x); }
    case 6u: { return select(0.0, x, x > 0.0); }
    case 7u: { return select(alpha * x, x, x > 0.0); }
    case 8u: { return tanh_(x); }
    case 9u: { return sigmoid_(x); }
    case 10u: { return x * x; }
    case 11u: { return 1.0 / x; }
    case 12u: { return 1.0 / sqrt(x); }
    case 13u: { return sin(x); }
    case 14u: { return cos(x); }
    case 15u: { return sign(x); }
    case 16u: { return x + alpha; }
    case 17u: { return x * alpha; }
    case 18u: {
      if (alpha == 2.0) { return x * x; }
      if (alpha == 1.0) { return x; }
      if (alpha == 0.5) { return sqrt(x); }
      if (alpha == 0.0) { return 1.0; }
      if (x < 0.0 && floor(alpha) == alpha) {
        let r = pow(-x, alpha);
        return select(r, -r, (i32(alpha) & 1) == 1);
      }
      return pow(x, alpha);
    }
    case 19u: { return min(max(x, alpha), beta); }
    case 20u: { return alpha * x + beta; }
    case 21u: { return alpha - x; }
    case 22u: { return alpha / x; }
    case 23u: { return log1p_(x); }
    case 24u: { return expm1_(x); }
    case 25u: { return floor(x); }
    case 26u: { return ceil(x); }
    case 27u: { return round_even(x); }
    case 28u: { return softplus_(x); }
    case 29u: { return b2f(x > alpha); }
    case 30u: { return b2f(x < alpha); }
    case 31u: { return b2f(x == alpha); }
    case 32u: { return b2f(abs(x) <= 3.40282347e38); }
    case 33u: { return b2f(x > 0.0); }
    case 34u: { return b2f(x >= alpha); }
    case 35u: { return b2f(x <= alpha); }
    case 36u: { return b2f(x != alpha); }
    case 37u: { return b2f(x == 0.0); }
    default: { return x; }
  }
}

fn pow_(a: f32, b: f32) -> f32 {
  if (b == 2.0) { return a * a; }
  if (b == 1.0) { return a; }
  if (b == 0.0) { return 1.0; }
  if (a < 0.0 && floor(b) == b) {
    let r = pow(-a, b);
    return select(r, -r, (i32(b) & 1) == 1);
  }
  return pow(a, b);
}

fn binary_op(a: f32, b: f32, alpha: f32, beta: f32) -> f32 {
  switch OP {
    case 0u: { return a + b; }
    case 1u: { return a - b; }
    case 2u: { return a * b; }
    case 3u: { return a / b; }
    case 4u: { return pow_(a, b); }
    case 5u: { return select(max(a, b), a + b, a != a || b != b); } // NaN propagates
    case 6u: { return select(min(a, b), a + b, a != a || b != b); }
    case 7u: { return b2f(a > b); }
    case 8u: { return b2f(a >= b); }
    case 9u: { return b2f(a < b); }
    case 10u: { return b2f(a <= b); }
    case 11u: { return b2f(a == b); }
    case 12u: { return b2f(a != b); }
    case 13u: { return select(0.0, b, a > 0.0); }
    case 14u: { return select(alpha * b, b, a > 0.0); }
    case 15u: { return b * (1.0 - a * a); }
    case 16u: { return b * a * (1.0 - a); }
    case 17u: { return b * sign(a); }
    case 18u: { return a * alpha + b; }
    case 19u: { return b - a; }
    case 20u: { return b / a; }
    case 21u: { return select(0.0, b, a >= alpha && a <= beta); }
    case 22u: { return b / (2.0 * a); }
    case 23u: { return b2f(a != 0.0 && b != 0.0); }
    case 24u: { return b2f(a != 0.0 || b != 0.0); }
    case 25u: { return atan2(a, b); }
    case 26u: { return a + alpha * b; }
    default: { return a; }
  }
}

// ---------------------------------------------------------------- unary: out = f(x)

@group(0) @binding(1) var<storage, read> ux: array<f32>;
@group(0) @binding(2) var<storage, read_write> uy: array<f32>;

@compute @workgroup_size(WG)
fn unary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  uy[i] = unary_op(ux[i], pf(1u), pf(2u));
}

// in place: y = f(y)   (layout "uw" with y at binding 1)
@group(0) @binding(1) var<storage, read_write> iy: array<f32>;

@compute @workgroup_size(WG)
fn unary_inplace(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  iy[i] = unary_op(iy[i], pf(1u), pf(2u));
}

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  iy[i] = pf(1u);
}

// ---------------------------------------------------------------- unary gradients
// dx = dy · f'(·) reading s = x or y (the host passes the one the op needs); layout "urrw":
// s, dy, dx. Parameters as unary. Op codes (GOP):
//  0 neg 1 exp(y) 2 log(x) 3 log1p(x) 4 sqrt(y) 5 rsqrt(y) 6 abs(x) 7 sign 8 square(x)
//  9 recip(x) 10 relu(x) 11 leakyRelu(x) 12 tanh(y) 13 sigmoid(y) 14 softplus(x) 15 pow(x)
//  16 clamp(x) 17 identity (addScalar) 18 mulScalar/affine (dy·alpha)

override GOP: u32 = 0;

@group(0) @binding(1) var<storage, read> gs: array<f32>;
@group(0) @binding(2) var<storage, read> gdy: array<f32>;
@group(0) @binding(3) var<storage, read_write> gdx: array<f32>;

fn grad_op(s: f32, g: f32, alpha: f32, beta: f32) -> f32 {
  switch GOP {
    case 0u: { return -g; }
    case 1u: { return g * s; }
    case 2u: { return g / s; }
    case 3u: { return g / (s + 1.0); }
    case 4u: { return g / (2.0 * s); }
    case 5u: { return (-0.5 * g) * (s * s * s); }
    case 6u: { return g * sign(s); }
    case 7u: { return 0.0; }
    case 8u: { return g * (2.0 * s); }
    case 9u: { return -g / (s * s); }
    case 10u: { return select(0.0, g, s > 0.0); }
    case 11u: { return select(g * alpha, g, s > 0.0); }
    case 12u: { return g * (1.0 - s * s); }
    case 13u: { return (g * (1.0 - s)) * s; }
    case 14u: {
      if (s > 20.0) { return g; }
      let z = exp(s);
      return g * z / (z + 1.0);
    }
    case 15u: {
      if (alpha == 0.0) { return 0.0; }
      return g * (alpha * pow_(s, alpha - 1.0));
    }
    case 16u: { return select(0.0, g, s >= alpha && s <= beta); }
    case 17u: { return g; }
    case 18u: { return g * alpha; }
    default: { return g; }
  }
}

@compute @workgroup_size(WG)
fn unary_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  let v = grad_op(gs[i], gdy[i], pf(1u), pf(2u));
  if (ACC != 0u) { gdx[i] = gdx[i] + v; } else { gdx[i] = v; }
}

// ---------------------------------------------------------------- binary with broadcasting

@group(0) @binding(1) var<storage, read> ba: array<f32>;
@group(0) @binding(2) var<storage, read> bb: array<f32>;
@group(0) @binding(3) var<storage, read_write> bo: array<f32>;

// offsets of element i in operands with strides at words s1, s2 (shape at word 4)
fn offsets2(i: u32, ndim: u32, s1: u32, s2: u32) -> vec2<u32> {
  var rem = i;
  var o = vec2<u32>(0u, 0u);
  for (var d = i32(ndim) - 1; d >= 0; d--) {
    let du = u32(d);
    let n = pu(4u + du);
    let c = rem % n;
    rem = rem / n;
    o += c * vec2<u32>(pu(s1 + du), pu(s2 + du));
  }
  return o;
}

@compute @workgroup_size(WG)
fn binary(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  var ia = i + pu(28u);
  var ib = i + pu(29u);
  if (BCAST != 0u) {
    let o = offsets2(i, pu(1u), 12u, 20u);
    ia = o.x + pu(28u);
    ib = o.y + pu(29u);
  }
  bo[i] = binary_op(ba[ia], bb[ib], pf(2u), pf(3u));
}

// in place: a = op(a, b)   (layout "uwr": a at binding 1, b at binding 2; b broadcast)
@group(0) @binding(2) var<storage, read> ib_: array<f32>;

@compute @workgroup_size(WG)
fn binary_inplace(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  var ib = i + pu(29u);
  if (BCAST != 0u) {
    ib = offsets2(i, pu(1u), 12u, 20u).y + pu(29u);
  }
  iy[i] = binary_op(iy[i], ib_[ib], pf(2u), pf(3u));
}

// ---------------------------------------------------------------- where(cond, a, b)

@group(0) @binding(1) var<storage, read> wc: array<u32>;
@group(0) @binding(2) var<storage, read> wa: array<f32>;
@group(0) @binding(3) var<storage, read> wb: array<f32>;
@group(0) @binding(4) var<storage, read_write> wo: array<f32>;

@compute @workgroup_size(WG)
fn where_(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  let ndim = pu(1u);
  var rem = i;
  var oc = pu(36u);
  var oa = pu(37u);
  var ob = pu(38u);
  if (BCAST != 0u) {
    for (var d = i32(ndim) - 1; d >= 0; d--) {
      let du = u32(d);
      let n = pu(4u + du);
      let c = rem % n;
      rem = rem / n;
      oc += c * pu(12u + du);
      oa += c * pu(20u + du);
      ob += c * pu(28u + du);
    }
  } else {
    oc += i;
    oa += i;
    ob += i;
  }
  var c = wc[oc] != 0u;
  if (CI32 == 0u) { c = bitcast<f32>(wc[oc]) != 0.0; }
  wo[i] = select(wb[ob], wa[oa], c);
}

// ---------------------------------------------------------------- random (Philox4x32-10)
// One thread per 128-bit block j: counter (lo, hi) = counter + j as a 64-bit number, words
// (lo, hi, 0, 0), key (seedLo, seedHi), 10 rounds (Random123). Element 4j + l uses word l.
// KIND 0 uniform [0,1): (x >> 8) · 2^-24; 1 normal: Box–Muller on word pairs (0,1), (2,3):
// u1 = ((x0 >> 8) + 1) · 2^-24 ∈ (0, 1], u2 = (x1 >> 8) · 2^-24, r = sqrt(−2 ln u1),
// z0 = r cos(2π u2), z1 = r sin(2π u2); 2 bernoulli: uniform < p ? 1 : 0.
// Parameters: [n, seedLo, seedHi, -, counterLo @4, counterHi @5, p @6, bernoulli value @7].
// Layout "uw".

override KIND: u32 = 0;

fn mulhilo(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let t = a0 * b0;
  let m1 = a1 * b0 + (t >> 16u);
  let m2 = a0 * b1 + (m1 & 0xffffu);
  let hi = a1 * b1 + (m1 >> 16u) + (m2 >> 16u);
  return vec2<u32>(hi, a * b);
}

fn philox(c: vec4<u32>, k: vec2<u32>) -> vec4<u32> {
  var ctr = c;
  var key = k;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { key += vec2<u32>(0x9E3779B9u, 0xBB67AE85u); }
    let p0 = mulhilo(0xD2511F53u, ctr.x);
    let p1 = mulhilo(0xCD9E8D57u, ctr.z);
    ctr = vec4<u32>(p1.x ^ ctr.y ^ key.x, p1.y, p0.x ^ ctr.w ^ key.y, p0.y);
  }
  return ctr;
}

@compute @workgroup_size(WG)
fn random(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let j = elem(wid, nwg, lid);
  let n = pu(0u);
  if (j * 4u >= n) { return; }
  let lo = pu(4u) + j;
  let hi = pu(5u) + select(0u, 1u, lo < j);
  let x = philox(vec4<u32>(lo, hi, 0u, 0u), vec2<u32>(pu(1u), pu(2u)));
  var v: vec4<f32>;
  let s = 1.0 / 16777216.0;
  if (KIND == 1u) {
    let TAU = 6.283185307179586;
    // ln u1 = log1p(−(1 − u1)) with 1 − u1 = (2^24 − 1 − k)·2^-24 exact: accurate near u1 = 1
    let r0 = sqrt(-2.0 * log1p_(-f32(0xffffffu - (x.x >> 8u)) * s));
    let t0 = TAU * (f32(x.y >> 8u) * s);
    let r1 = sqrt(-2.0 * log1p_(-f32(0xffffffu - (x.z >> 8u)) * s));
    let t1 = TAU * (f32(x.w >> 8u) * s);
    v = vec4<f32>(r0 * cos(t0), r0 * sin(t0), r1 * cos(t1), r1 * sin(t1));
  } else {
    v = vec4<f32>(f32(x.x >> 8u), f32(x.y >> 8u), f32(x.z >> 8u), f32(x.w >> 8u)) * s;
    if (KIND == 2u) {
      let p = pf(6u);
      v = select(vec4<f32>(0.0), vec4<f32>(pf(7u)), v < vec4<f32>(p));
    }
  }
  for (var l = 0u; l < 4u; l++) {
    let i = j * 4u + l;
    if (i < n) { iy[i] = v[l]; }
  }
}
