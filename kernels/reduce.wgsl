// Reductions over axes (sum, max, min, argmax) and row-wise softmax / log-softmax.
//
// Summation order is fixed by the shape and the workgroup size alone (thread t folds elements
// t, t+WG, t+2·WG, … in order, then a fixed binary tree), never by timing: same inputs → same
// bytes. No atomics.
//
// reduce_*: x has its axes merged into alternating kept/reduced groups by the host.
//   Parameters: [nOut, nRed, nKept, nRedAxes, keptShape[8] @4, keptStride[8] @12,
//                redShape[8] @20, redStride[8] @28]
//   OP: 0 sum, 1 max, 2 min, 3 argmax (int32 index within the reduced set, first maximum,
//   NaN counts as the maximum as in PyTorch). ACC=1: out += result (sum only).
//   INNER=1: the reduced set is one contiguous run (offset = base + r).
// softmax_*: Parameters: [rows, cols]; LOG=1 for log-softmax.

override WG: u32 = 256;
override OP: u32 = 0;
override ACC: u32 = 0;
override INNER: u32 = 0;
override LOG: u32 = 0;

fn elem(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

var<workgroup> sv: array<f32, WG>;
var<workgroup> si: array<u32, WG>;

fn neg_inf() -> f32 { return bitcast<f32>(0xff800000u); }
fn pos_inf() -> f32 { return bitcast<f32>(0x7f800000u); }

fn is_nan(v: f32) -> bool { return v != v; }

fn init_val() -> f32 {
  switch OP {
    case 1u, 3u: { return neg_inf(); }
    case 2u: { return pos_inf(); }
    default: { return 0.0; }
  }
}

// true when (b, ib) should replace (a, ia)
fn better(a: f32, ia: u32, b: f32, ib: u32) -> bool {
  if (OP == 3u) {
    if (is_nan(a)) { return is_nan(b) && ib < ia; }
    if (is_nan(b)) { return true; }
    return b > a || (b == a && ib < ia);
  }
  return false;
}

fn combine(a: f32, b: f32) -> f32 {
  switch OP {
    case 1u: {
      if (is_nan(a) || is_nan(b)) { return a + b; }
      return max(a, b);
    }
    case 2u: {
      if (is_nan(a) || is_nan(b)) { return a + b; }
      return min(a, b);
    }
    default: { return a + b; }
  }
}

fn kept_base(o: u32) -> u32 {
  var rem = o;
  var off = 0u;
  for (var d = i32(pu(2u)) - 1; d >= 0; d--) {
    let du = u32(d);
    let n = pu(4u + du);
    off += (rem % n) * pu(12u + du);
    rem = rem / n;
  }
  return off;
}

fn red_off(r: u32) -> u32 {
  if (INNER != 0u) { return r; }
  var rem = r;
  var off = 0u;
  for (var d = i32(pu(3u)) - 1; d >= 0; d--) {
    let du = u32(d);
    let n = pu(20u + du);
    off += (rem % n) * pu(28u + du);
    rem = rem / n;
  }
  return off;
}

fn write_out(o: u32, v: f32, idx: u32) {
  if (OP == 3u) {
    out[o] = idx;
  } else if (ACC != 0u) {
    out[o] = bitcast<u32>(bitcast<f32>(out[o]) + v);
  } else {
    out[o] = bitcast<u32>(v);
  }
}

// one workgroup per output element
@compute @workgroup_size(WG)
fn reduce_wg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let o = wid.y * nwg.x + wid.x;
  if (o >= pu(0u)) { return; }
  let nRed = pu(1u);
  let base = kept_base(o);
  var acc = init_val();
  var ai = 0xffffffffu;
  for (var r = lid; r < nRed; r += WG) {
    let v = x[base + red_off(r)];
    if (OP == 3u) {
      if (better(acc, ai, v, r)) { acc = v; ai = r; }
    } else {
      acc = combine(acc, v);
    }
  }
  sv[lid] = acc;
  si[lid] = ai;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      if (OP == 3u) {
        if (better(sv[lid], si[lid], sv[lid + s], si[lid + s])) {
          sv[lid] = sv[lid + s];
          si[lid] = si[lid + s];
        }
      } else {
        sv[lid] = combine(sv[lid], sv[lid + s]);
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    write_out(o, sv[0], si[0]);
  }
}

// one thread per output element (small reduced sets)
@compute @workgroup_size(WG)
fn reduce_thread(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let o = elem(wid, nwg, lid);
  if (o >= pu(0u)) { return; }
  let nRed = pu(1u);
  let base = kept_base(o);
  var acc = init_val();
  var ai = 0xffffffffu;
  for (var r = 0u; r < nRed; r++) {
    let v = x[base + red_off(r)];
    if (OP == 3u) {
      if (better(acc, ai, v, r)) { acc = v; ai = r; }
    } else {
      acc = combine(acc, v);
    }
  }
  write_out(o, acc, ai);
}

// ---------------------------------------------------------------- softmax

@group(0) @binding(1) var<storage, read> sx: array<f32>;
@group(0) @binding(2) var<storage, read_write> sy: array<f32>;
// backward: y at 1, dy at 2, dx at 3
@group(0) @binding(1) var<storage, read> by: array<f32>;
@group(0) @binding(2) var<storage, read> bdy: array<f32>;
@group(0) @binding(3) var<storage, read_write> bdx: array<f32>;

fn wg_max(lid: u32, v: f32) -> f32 {
  sv[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      let a = sv[lid];
      let b = sv[lid + s];
      sv[lid] = select(max(a, b), a + b, is_nan(a) || is_nan(b));
    }
    workgroupBarrier();
  }
  let r = sv[0];
  workgroupBarrier();
  return r;
}

fn wg_sum(lid: u32, v: f32) -> f32 {
  sv[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { sv[lid] = sv[lid] + sv[lid + s]; }
    workgroupBarrier();
  }
  let r = sv[0];
  workgroupBarrier();
  return r;
}

// one workgroup per row
@compute @workgroup_size(WG)
fn softmax_wg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= pu(0u)) { return; }
  let cols = pu(1u);
  let base = row * cols;
  var m = neg_inf();
  for (var c = lid; c < cols; c += WG) {
    let v = sx[base + c];
    m = select(max(m, v), m + v, is_nan(m) || is_nan(v));
  }
  m = wg_max(lid, m);
  var s = 0.0;
  for (var c = lid; c < cols; c += WG) { s += exp(sx[base + c] - m); }
  s = wg_sum(lid, s);
  if (LOG != 0u) {
    let ls = log(s);
    for (var c = lid; c < cols; c += WG) { sy[base + c] = (sx[base + c] - m) - ls; }
  } else {
    let inv = 1.0 / s;
    for (var c = lid; c < cols; c += WG) { sy[base + c] = exp(sx[base + c] - m) * inv; }
  }
}

// one thread per row (short rows)
@compute @workgroup_size(WG)
fn softmax_thread(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let row = elem(wid, nwg, lid);
  if (row >= pu(0u)) { return; }
  let cols = pu(1u);
  let base = row * cols;
  var m = neg_inf();
  for (var c = 0u; c < cols; c++) {
    let v = sx[base + c];
    m = select(max(m, v), m + v, is_nan(m) || is_nan(v));
  }
  var s = 0.0;
  for (var c = 0u; c < cols; c++) { s += exp(sx[base + c] - m); }
  if (LOG != 0u) {
    let ls = log(s);
    for (var c = 0u; c < cols; c++) { sy[base + c] = (sx[base + c] - m) - ls; }
  } else {
    let inv = 1.0 / s;
    for (var c = 0u; c < cols; c++) { sy[base + c] = exp(sx[base + c] - m) * inv; }
  }
}

// softmax:     dx = y · (dy − Σ dy·y)
// log-softmax: dx = dy − exp(y) · Σ dy
@compute @workgroup_size(WG)
fn softmax_bwd_wg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= pu(0u)) { return; }
  let cols = pu(1u);
  let base = row * cols;
  var s = 0.0;
  for (var c = lid; c < cols; c += WG) {
    if (LOG != 0u) { s += bdy[base + c]; } else { s += bdy[base + c] * by[base + c]; }
  }
  s = wg_sum(lid, s);
  for (var c = lid; c < cols; c += WG) {
    let y = by[base + c];
    let g = bdy[base + c];
    if (LOG != 0u) { bdx[base + c] = g - exp(y) * s; } else { bdx[base + c] = y * (g - s); }
  }
}

@compute @workgroup_size(WG)
fn softmax_bwd_thread(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let row = elem(wid, nwg, lid);
  if (row >= pu(0u)) { return; }
  let cols = pu(1u);
  let base = row * cols;
  var s = 0.0;
  for (var c = 0u; c < cols; c++) {
    if (LOG != 0u) { s += bdy[base + c]; } else { s += bdy[base + c] * by[base + c]; }
  }
  for (var c = 0u; c < cols; c++) {
    let y = by[base + c];
    let g = bdy[base + c];
    if (LOG != 0u) { bdx[base + c] = g - exp(y) * s; } else { bdx[base + c] = y * (g - s); }
  }
}
