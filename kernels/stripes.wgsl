// Stripe detection kernels (Larix STRIPES_DETECT + STRIPES_MERGE, TomoPy stripes_detect3d.c),
// bit-exact with the TypeScript reference (lib/tomo/stripes_ref.ts) and the WASM kernel
// (wasm/stripes) for finite input. Run by lib/tomo/stripes_webgpu.ts.
//
// Layout: blocks of detector rows of a [Z angles, Y rows, X columns] volume, C order. The input
// block holds global rows [ya, ya + nin), outputs rows [y0, y0 + nout); mirror indices (c+m
// outside [0,n) → c−m) are taken in global coordinates.
//
// Exactness on any GPU: WGSL guarantees correctly rounded +, −, × but allows 2.5 ulp for
// division, so divisions use div_rn (integer long division, round to nearest even). No
// expression has the a*b+c shape a compiler could fuse. WGSL leaves NaN/inf arithmetic
// undefined, so the runner sends blocks holding non-finite values (and radius 0, whose 0/0 the
// C code relies on) to the WASM kernel.


struct Params {
  z: i32, y: i32, x: i32, ya: i32,
  nin: i32, y0: i32, nout: i32, size: i32,
  radius: i32, hl: i32, hd: i32, hw: i32,
  vl: i32, thr_v: i32, thr_d: i32, depth: i32,
  pad0: i32, pad1: i32, pad2: i32, pad3: i32,
};

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> fin: array<f32>;
@group(0) @binding(2) var<storage, read_write> fa: array<f32>;
@group(0) @binding(3) var<storage, read_write> fb: array<f32>;

// merging entry points use these instead (same group: no entry point touches both sets)
@group(0) @binding(0) var<uniform> Q: Params;
@group(0) @binding(1) var<storage, read> m1: array<u32>;
@group(0) @binding(2) var<storage, read_write> ma: array<u32>;
@group(0) @binding(3) var<storage, read_write> mb: array<u32>;
@group(0) @binding(4) var<storage, read_write> cz: array<i32>;
@group(0) @binding(5) var<storage, read_write> cx: array<i32>;

fn flat(g: vec3<u32>, n: vec3<u32>) -> i32 {
  return i32(g.x + g.y * n.x * 64u);
}

fn mir(c: i32, m: i32, n: i32) -> i32 {
  let a = c + m;
  if (a < 0 || a >= n) { return c - m; }
  return a;
}

fn at(k: i32, g: i32, i: i32) -> i32 {
  return (k * P.nin + (g - P.ya)) * P.x + i;
}

// Correctly rounded a / b for a ≥ 0, b > 0 (both finite): integer long division of the
// significands; zero, subnormal operands or results fall back to the native division.
fn div_rn(a: f32, b: f32) -> f32 {
  let ba = bitcast<u32>(a);
  let bb = bitcast<u32>(b);
  let ea = i32(ba >> 23u);
  let eb = i32(bb >> 23u);
  if (ea == 0 || eb == 0 || ea == 255 || eb == 255) { return a / b; }
  var ma = (ba & 0x7fffffu) | 0x800000u;
  let mbv = (bb & 0x7fffffu) | 0x800000u;
  var e = ea - eb + 127;
  if (ma < mbv) { ma = ma << 1u; e = e - 1; }
  var q = 0u;
  var r = ma;
  for (var t = 0; t < 25; t++) {
    q = q << 1u;
    if (r >= mbv) { r = r - mbv; q = q | 1u; }
    r = r << 1u;
  }
  let guard = q & 1u;
  q = q >> 1u;
  if (guard == 1u && (r != 0u || (q & 1u) == 1u)) { q = q + 1u; }
  if (q == 0x1000000u) { q = q >> 1u; e = e + 1; }
  if (e <= 0 || e >= 255) { return a / b; }
  return bitcast<f32>((u32(e) << 23u) | (q & 0x7fffffu));
}

// ---- detection ----

// gradient along X, step 2, over the input block → fa
@compute @workgroup_size(64)
fn grad(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let id = flat(g, n);
  if (id >= P.z * P.nin * P.x) { return; }
  let i = id % P.x;
  var i1 = i + 2;
  if (i1 >= P.x) { i1 = i - 2; }
  fa[id] = fin[id - i + i1] - fin[id];
}

fn ga(k: i32, g: i32, i: i32) -> f32 {
  return abs(fa[at(k, g, i)]);
}

// ratio map with the smoothed-value fallback → fb (Z × nout × X)
@compute @workgroup_size(64)
fn ratio(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let id = flat(g, n);
  if (id >= P.z * P.nout * P.x) { return; }
  let i = id % P.x;
  let l = (id / P.x) % P.nout;
  let k = id / (P.x * P.nout);
  let j = P.y0 + l;
  let r = P.radius;
  var i1 = i - 1; var i2 = i + 1; var j1 = j - 1; var j2 = j + 1; var k1 = k - 1; var k2 = k + 1;
  if (i1 < 0) { i1 = i2; }
  if (i2 >= P.x) { i2 = i1; }
  if (j1 < 0) { j1 = j2; }
  if (j2 >= P.y) { j2 = j1; }
  if (k1 < 0) { k1 = k2; }
  if (k2 >= P.z) { k2 = k1; }
  var s = fin[at(k, j, i)] + fin[at(k, j, i1)];
  s = s + fin[at(k, j, i2)];
  s = s + fin[at(k, j1, i)];
  s = s + fin[at(k, j2, i)];
  s = s + fin[at(k1, j, i)];
  s = s + fin[at(k2, j, i)];
  var outv = 0.1428 * s;
  var mp = 0.0;
  for (var jm = -r; jm <= r; jm++) {
    let jj = mir(j, jm, P.y);
    for (var km = -r; km <= r; km++) {
      mp = mp + ga(mir(k, km, P.z), jj, i);
    }
  }
  let d = 2 * r + 1;
  mp = div_rn(mp, f32(d * d));
  var mh = 0.0;
  for (var jm = -1; jm <= 1; jm++) {
    let jj = mir(j, jm, P.y);
    for (var im = 1; im <= r; im++) {
      var ii = i + im;
      if (ii >= P.x) { ii = i - im; }
      mh = mh + ga(k, jj, ii);
    }
  }
  var mh2 = 0.0;
  for (var jm = -1; jm <= 1; jm++) {
    let jj = mir(j, jm, P.y);
    for (var im = -r; im <= -1; im++) {
      var ii = i + im;
      if (ii < 0) { ii = i - im; }
      mh2 = mh2 + ga(k, jj, ii);
    }
  }
  let r3 = f32(r * 3);
  mh = div_rn(mh, r3);
  mh2 = div_rn(mh2, r3);
  var minv = 0.0;
  if (mh >= mp && mh != 0.0) { outv = div_rn(mp, mh); }
  if (mh < mp && mp != 0.0) { outv = div_rn(mh, mp); }
  if (mh2 >= mp && mh2 != 0.0) { minv = div_rn(mp, mh2); }
  if (mh2 < mp && mp != 0.0) { minv = div_rn(mh2, mp); }
  if (outv > minv) { outv = minv; }
  fb[id] = outv;
}

// order key: integers in IEEE total order (−0 < +0); inputs here are finite
fn fkey(v: f32) -> i32 {
  let b = bitcast<i32>(v);
  return b ^ i32(u32(b >> 31u) >> 1u);
}

fn funkey(k: i32) -> f32 {
  return bitcast<f32>(k ^ i32(u32(k >> 31u) >> 1u));
}

// The sliding window of each column lives in a storage scratch buffer (scr, 2·size+1 keys per
// column): llvmpipe miscompiles element shifts in dynamically indexed private/function arrays,
// and on GPUs a window of hundreds of keys would spill to memory anyway.
@group(0) @binding(4) var<storage, read_write> scr: array<i32>;

fn colkey(k: i32, col: i32) -> i32 {
  return fkey(fb[k * P.nout * P.x + col]);
}

// first index in the sorted window scr[base .. base+n) whose key is ≥ v
fn lower_bound(base: i32, n: i32, v: i32) -> i32 {
  var lo = 0;
  var len = n;
  while (len > 0) {
    let half = len >> 1u;
    if (scr[base + lo + half] < v) { lo = lo + half + 1; len = len - half - 1; } else { len = half; }
  }
  return lo;
}

fn win_remove(base: i32, n: i32, v: i32) {
  let p = lower_bound(base, n, v);
  var t = p;
  while (t + 1 < n) { scr[base + t] = scr[base + t + 1]; t = t + 1; }
}

fn win_insert(base: i32, n: i32, v: i32) {
  let q = lower_bound(base, n, v);
  var t = n;
  while (t > q) { scr[base + t] = scr[base + t - 1]; t = t - 1; }
  scr[base + q] = v;
}

fn win_replace(base: i32, n: i32, old: i32, nw: i32) {
  if (old == nw) { return; }
  let p = lower_bound(base, n, old);
  if (nw > old) {
    let q = lower_bound(base, n, nw);
    var t = p;
    while (t + 1 < q) { scr[base + t] = scr[base + t + 1]; t = t + 1; }
    scr[base + q - 1] = nw;
  } else {
    let q = lower_bound(base, p, nw);
    var t = p;
    while (t > q) { scr[base + t] = scr[base + t - 1]; t = t - 1; }
    scr[base + q] = nw;
  }
}

// multiplicity of index t in the mirrored window of k (2·size+1 indices c+m, m ∈ [−size, size],
// c+m outside [0,Z) replaced by c−m): main range plus the left or right mirrored range
fn mult(k: i32, t: i32) -> i32 {
  let s = P.size;
  var c = 0;
  if (t >= max(k - s, 0) && t <= min(k + s, P.z - 1)) { c++; }
  if (k <= s - 1 && t >= 2 * k + 1 && t <= k + s) { c++; }
  if (k >= P.z - s && t >= k - s && t <= 2 * k - P.z) { c++; }
  return c;
}

// vertical "median" (element size−1 of the sorted window), one column per invocation → fa
@compute @workgroup_size(64)
fn median(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let col = flat(g, n);
  if (col >= P.nout * P.x) { return; }
  let s = P.size;
  let wn = 2 * s + 1;
  let base = col * wn;
  let stride = P.nout * P.x;
  // window of k = 0: rows 0..s plus mirrored 1..s, insertion-sorted
  var c = 0;
  for (var t = 0; t <= s; t++) { win_insert(base, c, colkey(t, col)); c++; }
  for (var t = 1; t <= s; t++) { win_insert(base, c, colkey(t, col)); c++; }
  fa[col] = funkey(scr[base + s - 1]);
  for (var k = 0; k + 1 < P.z; k++) {
    if (k >= s && k + 1 + s <= P.z - 1) {
      win_replace(base, wn, colkey(k - s, col), colkey(k + s + 1, col));
    } else {
      // near the ends: every index of both windows lies in [k−s, k+1+s]; remove what the
      // window of k+1 holds fewer times, then insert what it holds more times
      var m = wn;
      for (var t = k - s; t <= k + s + 1; t++) {
        for (var d = mult(k + 1, t) - mult(k, t); d < 0; d++) {
          win_remove(base, m, colkey(t, col));
          m--;
        }
      }
      for (var t = k - s; t <= k + s + 1; t++) {
        for (var d = mult(k + 1, t) - mult(k, t); d > 0; d--) {
          win_insert(base, m, colkey(t, col));
          m++;
        }
      }
    }
    fa[(k + 1) * stride + col] = funkey(scr[base + s - 1]);
  }
}

// ---- merging (one u32 per voxel, 0/1) ----

fn mat(k: i32, g: i32, i: i32) -> i32 {
  return (k * Q.nin + (g - Q.ya)) * Q.x + i;
}

// depth step: ma = step-1 mask of the output rows, mb = after the depth rule
@compute @workgroup_size(64)
fn m_depth(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let id = flat(g, n);
  if (id >= Q.z * Q.nout * Q.x) { return; }
  let i = id % Q.x;
  let l = (id / Q.x) % Q.nout;
  let k = id / (Q.x * Q.nout);
  let j = Q.y0 + l;
  let v = m1[mat(k, j, i)];
  var o = v;
  if (v == 1u && Q.depth != 0) {
    var c = 0;
    for (var ym = -Q.hd; ym <= Q.hd; ym++) {
      if (m1[mat(k, mir(j, ym, Q.y), i)] == 1u) { c++; }
    }
    if (c > Q.thr_d) { o = 0u; }
  }
  ma[id] = v;
  mb[id] = o;
}

// prefix counts along Z of ma, one column per invocation: cz[k·stride + col], k ∈ [0, Z]
@compute @workgroup_size(64)
fn m_prefix_z(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let col = flat(g, n);
  let stride = Q.nout * Q.x;
  if (col >= stride) { return; }
  var acc = 0;
  cz[col] = 0;
  for (var k = 0; k < Q.z; k++) {
    acc += i32(ma[k * stride + col]);
    cz[(k + 1) * stride + col] = acc;
  }
}

// prefix counts along X of ma, one (k, row) per invocation: cx[row·(X+1) + i], i ∈ [0, X]
@compute @workgroup_size(64)
fn m_prefix_x(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let row = flat(g, n);
  if (row >= Q.z * Q.nout) { return; }
  var acc = 0;
  cx[row * (Q.x + 1)] = 0;
  for (var i = 0; i < Q.x; i++) {
    acc += i32(ma[row * Q.x + i]);
    cx[row * (Q.x + 1) + i + 1] = acc;
  }
}

fn cntz(col: i32, a: i32, b: i32) -> i32 {
  if (a > b) { return 0; }
  let stride = Q.nout * Q.x;
  return cz[(b + 1) * stride + col] - cz[a * stride + col];
}

fn cntx(row: i32, a: i32, b: i32) -> i32 {
  if (a > b) { return 0; }
  return cx[row * (Q.x + 1) + b + 1] - cx[row * (Q.x + 1) + a];
}

fn count_window(col: i32, k: i32, h: i32) -> i32 {
  var s = cntz(col, max(k - h, 0), min(k + h, Q.z - 1));
  if (k < h) { s += cntz(col, 2 * k + 1, k + h); }
  if (k + h > Q.z - 1) { s += cntz(col, k - h, 2 * k - Q.z); }
  return s;
}

fn count_step(id: i32, thr: i32) {
  let col = id % (Q.nout * Q.x);
  let k = id / (Q.nout * Q.x);
  let v = ma[id];
  var o = v;
  if (v == 1u && count_window(col, k, Q.hl) < thr) { o = 0u; }
  mb[id] = o;
}

// vertical consistency: ma → mb
@compute @workgroup_size(64)
fn m_vertical(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let id = flat(g, n);
  if (id >= Q.z * Q.nout * Q.x) { return; }
  count_step(id, Q.thr_v);
}

// short stripes: ma → mb
@compute @workgroup_size(64)
fn m_short(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let id = flat(g, n);
  if (id >= Q.z * Q.nout * Q.x) { return; }
  count_step(id, Q.hl);
}

// one merging pass: ma → mb
@compute @workgroup_size(64)
fn m_merge(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let id = flat(g, n);
  if (id >= Q.z * Q.nout * Q.x) { return; }
  let v = ma[id];
  if (v != 0u) { mb[id] = v; return; }
  let i = id % Q.x;
  let row = id / Q.x;
  let col = id % (Q.nout * Q.x);
  let k = id / (Q.nout * Q.x);
  let hw = Q.hw;
  let X = Q.x;
  let left = cntx(row, max(i - hw, 0), i) > 0 || (i < hw && cntx(row, 2 * i + 1, i + hw) > 0);
  let right = cntx(row, i, min(i + hw, X - 1)) > 0 || (i + hw > X - 1 && cntx(row, i - hw, 2 * i - X) > 0);
  var hit = left && right;
  if (!hit) {
    let vl = Q.vl;
    let up = cntz(col, max(k - vl, 0), k) > 0 || (k < vl && cntz(col, 2 * k + 1, k + vl) > 0);
    let down = cntz(col, k, min(k + vl, Q.z - 1)) > 0 || (k + vl > Q.z - 1 && cntz(col, k - vl, 2 * k - Q.z) > 0);
    hit = up && down;
  }
  if (hit) { mb[id] = 1u; } else { mb[id] = 0u; }
}
