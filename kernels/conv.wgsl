// 2-D convolution as implicit GEMM (conv1d is h = kh = 1; conv_transpose2d is MODE 1).
// The same 64×64×16 tiling as linalg.wgsl, with the operand tiles gathered from the tensors:
//
// MODE 0 forward:       y[b,g·Mg+m,oy,ox] = Σ_k w[g·Mg+m, k] · x[b, g·Cg+ci, iy, ix] (+ bias)
//                       M = Mg = cOut/groups, N = n·oh·ow, K = Cg·kh·kw, k = (ci, ky, kx)
// MODE 1 backward data: dx[b,g·Cg+m,iy,ix] (+)= Σ_k w[g·Mg+co, m, ky, kx] · dy[b, g·Mg+co, oy, ox]
//                       M = Cg, N = n·h·w, K = Mg·kh·kw, k = (co, ky, kx),
//                       oy = (iy + padH − ky·dilH)/strideH when exact and in range
// MODE 3 backward data by stride phase (dilation 1, stride > 1): workgroup z = group·sH·sW +
//                       phase (py, px); the phase's pixels iy = iy0 + jy·sH receive only the taps
//                       ky = py + ty·sH, so no multiply-by-zero work is done (a strided
//                       transposed convolution costs its true FLOPs). N = n·cntY·cntX,
//                       K = Mg·tY·tX, oy = baseY + jy − ty.
// MODE 2 backward weight: dw[g·Mg+m, col] (+)= Σ_k dy[b, g·Mg+m, oy, ox] · x[b, g·Cg+ci, iy, ix]
//                       M = Mg, N = Cg·kh·kw (col = (ci, ky, kx)), K = n·oh·ow, k = (b, oy, ox);
//                       K is split into SPLITK chunks (workgroup z = group·splits + split) that
//                       write partial sums [split][cOut][Cg·kh·kw]; conv_wgrad_reduce then sums
//                       the splits in order — deterministic, no atomics.
//
// Parameters: [n, cIn, h, w, cOut, kh, kw, oh, ow, strideH, strideW, padH, padW, dilH, dilW,
//              groups, @16 M, N, K, kChunk, @20 splits, total (reduce: elements of dw),
//              @22 first column (dispatches wider than the 65535-workgroup limit are split)]
// Bindings: 1 src0, 2 src1, 3 bias (MODE 0 with BIAS=1; otherwise any small buffer), 4 dst.
//   MODE 0: src0 = x, src1 = w;  MODE 1: src0 = dy, src1 = w;  MODE 2: src0 = x, src1 = dy.
// ACC=1 accumulates into dst (MODE 1, MODE 2 without split, and the split reduction).

override MODE: u32 = 0;
override BIAS: u32 = 0;
override ACC: u32 = 0;
override SPLITK: u32 = 0; // MODE 2: 1 = write partials to dst at split offsets
override WG: u32 = 256;

@group(0) @binding(1) var<storage, read> src0: array<f32>;
@group(0) @binding(2) var<storage, read> src1: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;

var<workgroup> As: array<f32, 1024>; // [16 k][64 m]
var<workgroup> Bs: array<f32, 1024>; // [16 k][64 n]

struct Geo {
  n: u32, cIn: u32, h: u32, w: u32, cOut: u32, kh: u32, kw: u32, oh: u32, ow: u32,
  sH: u32, sW: u32, pH: u32, pW: u32, dH: u32, dW: u32, groups: u32,
  Cg: u32, Mg: u32, khw: u32,
  // MODE 3 phase
  py: u32, px: u32, iy0: u32, ix0: u32, cntY: u32, cntX: u32, tY: u32, tX: u32,
  baseY: i32, baseX: i32,
}

fn geo() -> Geo {
  var g: Geo;
  g.n = pu(0u); g.cIn = pu(1u); g.h = pu(2u); g.w = pu(3u); g.cOut = pu(4u);
  g.kh = pu(5u); g.kw = pu(6u); g.oh = pu(7u); g.ow = pu(8u);
  g.sH = pu(9u); g.sW = pu(10u); g.pH = pu(11u); g.pW = pu(12u); g.dH = pu(13u); g.dW = pu(14u);
  g.groups = pu(15u);
  g.Cg = g.cIn / g.groups; g.Mg = g.cOut / g.groups; g.khw = g.kh * g.kw;
  return g;
}

fn phase(G0: Geo, ph: u32) -> Geo {
  var g = G0;
  g.py = ph / g.sW;
  g.px = ph - g.py * g.sW;
  g.iy0 = (g.py + g.sH - g.pH % g.sH) % g.sH;
  g.ix0 = (g.px + g.sW - g.pW % g.sW) % g.sW;
  g.cntY = select(0u, (g.h - g.iy0 + g.sH - 1u) / g.sH, g.h > g.iy0);
  g.cntX = select(0u, (g.w - g.ix0 + g.sW - 1u) / g.sW, g.w > g.ix0);
  g.tY = select(0u, (g.kh - g.py + g.sH - 1u) / g.sH, g.kh > g.py);
  g.tX = select(0u, (g.kw - g.px + g.sW - 1u) / g.sW, g.kw > g.px);
  g.baseY = i32((g.iy0 + g.pH - g.py) / g.sH);
  g.baseX = i32((g.ix0 + g.pW - g.px) / g.sW);
  return g;
}

// A operand element (m, k); caller checks m < M, k < K.
fn load_a(G: Geo, grp: u32, m: u32, k: u32) -> f32 {
  switch MODE {
    case 0u: {
      // w[g·Mg + m, k]
      return src1[(grp * G.Mg + m) * (G.Cg * G.khw) + k];
    }
    case 1u: {
      // w[g·Mg + co, m, ky, kx], k = (co, r)
      let co = k / G.khw;
      let r = k - co * G.khw;
      return src1[((grp * G.Mg + co) * G.Cg + m) * G.khw + r];
    }
    case 3u: {
      // w[g·Mg + co, m, py + ty·sH, px + tx·sW], k = (co, ty, tx)
      let tt = G.tY * G.tX;
      let co = k / tt;
      let r = k - co * tt;
      let ty = r / G.tX;
      let tx = r - ty * G.tX;
      let ky = G.py + ty * G.sH;
      let kx = G.px + tx * G.sW;
      return src1[((grp * G.Mg + co) * G.Cg + m) * G.khw + ky * G.kw + kx];
    }
    default: {
      // dy[b, g·Mg + m, p], k = (b, p)
      let ohw = G.oh * G.ow;
      let b = k / ohw;
      let p = k - b * ohw;
      return src1[(b * G.cOut + grp * G.Mg + m) * ohw + p];
    }
  }
}

// B operand element (k, col); caller checks k < K, col < N.
fn load_b(G: Geo, grp: u32, k: u32, col: u32) -> f32 {
  switch MODE {
    case 0u: {
      let ci = k / G.khw;
      let r = k - ci * G.khw;
      let ky = r / G.kw;
      let kx = r - ky * G.kw;
      let ohw = G.oh * G.ow;
      let b = col / ohw;
      let p = col - b * ohw;
      let oy = p / G.ow;
      let ox = p - oy * G.ow;
      let iy = i32(oy * G.sH + ky * G.dH) - i32(G.pH);
      let ix = i32(ox * G.sW + kx * G.dW) - i32(G.pW);
      if (iy < 0 || ix < 0 || iy >= i32(G.h) || ix >= i32(G.w)) { return 0.0; }
      return src0[((b * G.cIn + grp * G.Cg + ci) * G.h + u32(iy)) * G.w + u32(ix)];
    }
    case 1u: {
      let co = k / G.khw;
      let r = k - co * G.khw;
      let ky = r / G.kw;
      let kx = r - ky * G.kw;
      let hw = G.h * G.w;
      let b = col / hw;
      let p = col - b * hw;
      let iy = p / G.w;
      let ix = p - iy * G.w;
      let ty = i32(iy + G.pH) - i32(ky * G.dH);
      let tx = i32(ix + G.pW) - i32(kx * G.dW);
      if (ty < 0 || tx < 0) { return 0.0; }
      let oy = u32(ty) / G.sH;
      let ox = u32(tx) / G.sW;
      if (oy * G.sH != u32(ty) || ox * G.sW != u32(tx) || oy >= G.oh || ox >= G.ow) { return 0.0; }
      return src0[((b * G.cOut + grp * G.Mg + co) * G.oh + oy) * G.ow + ox];
    }
    case 3u: {
      let tt = G.tY * G.tX;
      let co = k / tt;
      let r = k - co * tt;
      let ty = r / G.tX;
      let tx = r - ty * G.tX;
      let cc = G.cntY * G.cntX;
      let b = col / cc;
      let p = col - b * cc;
      let jy = p / G.cntX;
      let jx = p - jy * G.cntX;
      let oy = G.baseY + i32(jy) - i32(ty);
      let ox = G.baseX + i32(jx) - i32(tx);
      if (oy < 0 || ox < 0 || oy >= i32(G.oh) || ox >= i32(G.ow)) { return 0.0; }
      return src0[((b * G.cOut + grp * G.Mg + co) * G.oh + u32(oy)) * G.ow + u32(ox)];
    }
    default: {
      // x at (b, oy, ox) = k, (ci, ky, kx) = col
      let ci = col / G.khw;
      let r = col - ci * G.khw;
      let ky = r / G.kw;
      let kx = r - ky * G.kw;
      let ohw = G.oh * G.ow;
      let b = k / ohw;
      let p = k - b * ohw;
      let oy = p / G.ow;
      let ox = p - oy * G.ow;
      let iy = i32(oy * G.sH + ky * G.dH) - i32(G.pH);
      let ix = i32(ox * G.sW + kx * G.dW) - i32(G.pW);
      if (iy < 0 || ix < 0 || iy >= i32(G.h) || ix >= i32(G.w)) { return 0.0; }
      return src0[((b * G.cIn + grp * G.Cg + ci) * G.h + u32(iy)) * G.w + u32(ix)];
    }
  }
}

fn store(G: Geo, grp: u32, split: u32, m: u32, col: u32, v: f32) {
  switch MODE {
    case 0u: {
      let ohw = G.oh * G.ow;
      let b = col / ohw;
      let p = col - b * ohw;
      let co = grp * G.Mg + m;
      var r = v;
      if (BIAS != 0u) { r += bias[co]; }
      dst[(b * G.cOut + co) * ohw + p] = r;
    }
    case 1u: {
      let hw = G.h * G.w;
      let b = col / hw;
      let p = col - b * hw;
      let at = (b * G.cIn + grp * G.Cg + m) * hw + p;
      if (ACC != 0u) { dst[at] = dst[at] + v; } else { dst[at] = v; }
    }
    case 3u: {
      let cc = G.cntY * G.cntX;
      let b = col / cc;
      let p = col - b * cc;
      let jy = p / G.cntX;
      let jx = p - jy * G.cntX;
      let iy = G.iy0 + jy * G.sH;
      let ix = G.ix0 + jx * G.sW;
      let at = ((b * G.cIn + grp * G.Cg + m) * G.h + iy) * G.w + ix;
      if (ACC != 0u) { dst[at] = dst[at] + v; } else { dst[at] = v; }
    }
    default: {
      let at = (grp * G.Mg + m) * (G.Cg * G.khw) + col;
      if (SPLITK != 0u) {
        dst[split * pu(21u) + at] = v;
      } else if (ACC != 0u) {
        dst[at] = dst[at] + v;
      } else {
        dst[at] = v;
      }
    }
  }
}

@compute @workgroup_size(16, 16)
fn conv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  var G = geo();
  let M = pu(16u);
  var N = pu(17u);
  var K = pu(18u);
  var grp = wid.z;
  if (MODE == 3u) {
    let nph = G.sH * G.sW;
    grp = wid.z / nph;
    G = phase(G, wid.z - grp * nph);
    N = G.n * G.cntY * G.cntX;
    K = G.Mg * G.tY * G.tX;
  }
  var split = 0u;
  var kBeg = 0u;
  var kEnd = K;
  if (MODE == 2u) {
    let splits = pu(20u);
    grp = wid.z / splits;
    split = wid.z - grp * splits;
    kBeg = split * pu(19u);
    kEnd = min(K, kBeg + pu(19u));
  }
  let m0 = wid.y * 64u;
  let n0 = pu(22u) + wid.x * 64u;
  let tx = lid.x;
  let ty = lid.y;

  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);

  for (var k0 = kBeg; k0 < kEnd; k0 += 16u) {
    for (var q = 0u; q < 4u; q++) {
      let idx = li + 256u * q;
      let mm = idx >> 4u;
      let kk = idx & 15u;
      let gm = m0 + mm;
      let gk = k0 + kk;
      var av = 0.0;
      if (gm < M && gk < kEnd) { av = load_a(G, grp, gm, gk); }
      As[kk * 64u + mm] = av;
      var nn: u32;
      var kb: u32;
      if (MODE == 2u) { nn = idx >> 4u; kb = idx & 15u; } else { nn = idx & 63u; kb = idx >> 6u; }
      let gn = n0 + nn;
      let gkb = k0 + kb;
      var bv = 0.0;
      if (gn < N && gkb < kEnd) { bv = load_b(G, grp, gkb, gn); }
      Bs[kb * 64u + nn] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      let ar = kk * 64u + ty;
      let br = kk * 64u + tx;
      let b = vec4<f32>(Bs[br], Bs[br + 16u], Bs[br + 32u], Bs[br + 48u]);
      c0 += As[ar] * b;
      c1 += As[ar + 16u] * b;
      c2 += As[ar + 32u] * b;
      c3 += As[ar + 48u] * b;
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let gm = m0 + ty + 16u * i;
    if (gm >= M) { continue; }
    var row: vec4<f32>;
    switch i {
      case 0u: { row = c0; }
      case 1u: { row = c1; }
      case 2u: { row = c2; }
      default: { row = c3; }
    }
    for (var j = 0u; j < 4u; j++) {
      let gn = n0 + tx + 16u * j;
      if (gn >= N) { continue; }
      store(G, grp, split, gm, gn, row[j]);
    }
  }
}

// dst[i] (+)= Σ_s src0[s·total + i], s ascending.  Parameters as above (splits @20, total @21).
@compute @workgroup_size(WG)
fn conv_wgrad_reduce(@builtin(workgroup_id) wid: vec3<u32>,
                     @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) li: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + li;
  let total = pu(21u);
  if (i >= total) { return; }
  var s = 0.0;
  for (var k = 0u; k < pu(20u); k++) { s += src0[k * total + i]; }
  if (ACC != 0u) { dst[i] = dst[i] + s; } else { dst[i] = s; }
}
