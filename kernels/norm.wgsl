// Batch normalisation over [n, c, hw] (channel axis 1), forward and backward, with an optional
// fused activation after the affine transform (ACT: 0 none, 1 relu, 2 leaky relu).
//
// Per-channel statistics use one workgroup per channel with a fixed reduction order (thread t
// folds p = t, t+WG, … of every batch item in order, then a binary tree): reproducible bytes.
// Variance is two-pass (Σ(x − mean)²), biased for normalisation, unbiased for running stats.
//
// Parameters: [n, c, hw, -, eps @4, momentum @5, slope @6]
// Overrides: BATCH (1: batch statistics, 0: running statistics), RUNNING (running stats given),
//            AFFINE (gamma/beta given), ACT, HAS_DG / HAS_DB (parameter gradients wanted).
//
// bn_stats   (layout urwwww):   x, mean, invstd, runningMean, runningVar
// bn_apply   (layout urrrrrw):  x, mean, invstd, gamma, beta, y
//                               y = act(x·a + b), a = invstd·gamma, b = beta − mean·a (as PyTorch)
// bn_bwd_reduce (layout urrrrw): x, y, dy, mean, stats[2c] = (Σ dz, Σ dz·(x − mean)),
//                               dz = dy · act'(y)
// bn_bwd_dx  (layout urrrrrrw): x, y, dy, mean, invstd, gamma, stats, dx
// bn_param_grads (layout urrww): stats, invstd, dgamma (+= Σ dz·x̂), dbeta (+= Σ dz)

override WG: u32 = 256;
override BATCH: u32 = 1;
override RUNNING: u32 = 0;
override AFFINE: u32 = 1;
override ACT: u32 = 0;
override HAS_DG: u32 = 1;
override HAS_DB: u32 = 1;

var<workgroup> sv: array<f32, WG>;
var<workgroup> sw: array<f32, WG>;

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

fn wg_sum2(lid: u32, v: vec2<f32>) -> vec2<f32> {
  sv[lid] = v.x;
  sw[lid] = v.y;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      sv[lid] = sv[lid] + sv[lid + s];
      sw[lid] = sw[lid] + sw[lid + s];
    }
    workgroupBarrier();
  }
  let r = vec2<f32>(sv[0], sw[0]);
  workgroupBarrier();
  return r;
}

// ---------------------------------------------------------------- statistics

@group(0) @binding(1) var<storage, read> sx: array<f32>;
@group(0) @binding(2) var<storage, read_write> smean: array<f32>;
@group(0) @binding(3) var<storage, read_write> sinv: array<f32>;
@group(0) @binding(4) var<storage, read_write> srm: array<f32>;
@group(0) @binding(5) var<storage, read_write> srv: array<f32>;

@compute @workgroup_size(WG)
fn bn_stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let ch = wid.y * nwg.x + wid.x;
  let n = pu(0u);
  let c = pu(1u);
  let hw = pu(2u);
  if (ch >= c) { return; }
  let eps = pf(4u);
  if (BATCH == 0u) {
    if (lid == 0u) {
      smean[ch] = srm[ch];
      sinv[ch] = 1.0 / sqrt(srv[ch] + eps);
    }
    return;
  }
  let cnt = f32(n * hw);
  var s = 0.0;
  for (var b = 0u; b < n; b++) {
    let base = (b * c + ch) * hw;
    for (var p = lid; p < hw; p += WG) { s += sx[base + p]; }
  }
  let mean = wg_sum(lid, s) / cnt;
  var q = 0.0;
  for (var b = 0u; b < n; b++) {
    let base = (b * c + ch) * hw;
    for (var p = lid; p < hw; p += WG) {
      let d = sx[base + p] - mean;
      q += d * d;
    }
  }
  let ss = wg_sum(lid, q);
  if (lid == 0u) {
    let v = ss / cnt;
    smean[ch] = mean;
    sinv[ch] = 1.0 / sqrt(v + eps);
    if (RUNNING != 0u) {
      let mom = pf(5u);
      let unb = select(v, ss / (cnt - 1.0), cnt > 1.0);
      srm[ch] = mom * mean + (1.0 - mom) * srm[ch];
      srv[ch] = mom * unb + (1.0 - mom) * srv[ch];
    }
  }
}

// ---------------------------------------------------------------- apply

@group(0) @binding(1) var<storage, read> ax: array<f32>;
@group(0) @binding(2) var<storage, read> amean: array<f32>;
@group(0) @binding(3) var<storage, read> ainv: array<f32>;
@group(0) @binding(4) var<storage, read> agamma: array<f32>;
@group(0) @binding(5) var<storage, read> abeta: array<f32>;
@group(0) @binding(6) var<storage, read_write> ay: array<f32>;

@compute @workgroup_size(WG)
fn bn_apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let n = pu(0u);
  let c = pu(1u);
  let hw = pu(2u);
  if (i >= n * c * hw) { return; }
  let ch = (i / hw) % c;
  var a = ainv[ch];
  var b = -amean[ch] * a;
  if (AFFINE != 0u) {
    a = ainv[ch] * agamma[ch];
    b = abeta[ch] - amean[ch] * a;
  }
  var y = ax[i] * a + b;
  if (ACT == 1u) { y = select(0.0, y, y > 0.0); }
  if (ACT == 2u) { y = select(pf(6u) * y, y, y > 0.0); }
  ay[i] = y;
}

// ---------------------------------------------------------------- backward

fn act_grad(y: f32, dy: f32) -> f32 {
  if (ACT == 1u) { return select(0.0, dy, y > 0.0); }
  if (ACT == 2u) { return select(pf(6u) * dy, dy, y > 0.0); }
  return dy;
}

@group(0) @binding(1) var<storage, read> gx: array<f32>;
@group(0) @binding(2) var<storage, read> gy: array<f32>;
@group(0) @binding(3) var<storage, read> gdy: array<f32>;
@group(0) @binding(4) var<storage, read> gmean: array<f32>;
@group(0) @binding(5) var<storage, read_write> gstats: array<f32>;

@compute @workgroup_size(WG)
fn bn_bwd_reduce(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let ch = wid.y * nwg.x + wid.x;
  let n = pu(0u);
  let c = pu(1u);
  let hw = pu(2u);
  if (ch >= c) { return; }
  let mean = gmean[ch];
  var acc = vec2<f32>(0.0);
  for (var b = 0u; b < n; b++) {
    let base = (b * c + ch) * hw;
    for (var p = lid; p < hw; p += WG) {
      var dz = gdy[base + p];
      if (ACT != 0u) { dz = act_grad(gy[base + p], dz); }
      acc += vec2<f32>(dz, dz * (gx[base + p] - mean));
    }
  }
  let r = wg_sum2(lid, acc);
  if (lid == 0u) {
    gstats[2u * ch] = r.x;
    gstats[2u * ch + 1u] = r.y;
  }
}

@group(0) @binding(1) var<storage, read> dx_x: array<f32>;
@group(0) @binding(2) var<storage, read> dx_y: array<f32>;
@group(0) @binding(3) var<storage, read> dx_dy: array<f32>;
@group(0) @binding(4) var<storage, read> dx_mean: array<f32>;
@group(0) @binding(5) var<storage, read> dx_inv: array<f32>;
@group(0) @binding(6) var<storage, read> dx_gamma: array<f32>;
@group(0) @binding(7) var<storage, read> dx_stats: array<f32>;
@group(0) @binding(8) var<storage, read_write> dx_out: array<f32>;

@compute @workgroup_size(WG)
fn bn_bwd_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  let n = pu(0u);
  let c = pu(1u);
  let hw = pu(2u);
  if (i >= n * c * hw) { return; }
  let ch = (i / hw) % c;
  var dz = dx_dy[i];
  if (ACT != 0u) { dz = act_grad(dx_y[i], dz); }
  let inv = dx_inv[ch];
  var w = 1.0;
  if (AFFINE != 0u) { w = dx_gamma[ch]; }
  if (BATCH != 0u) {
    let cnt = f32(n * hw);
    let k = dx_stats[2u * ch + 1u] * inv * inv / cnt;
    let gm = dx_stats[2u * ch] / cnt;
    let proj = (dx_x[i] - dx_mean[ch]) * k;
    dx_out[i] = (dz - gm - proj) * inv * w;
  } else {
    dx_out[i] = dz * inv * w;
  }
}

@group(0) @binding(1) var<storage, read> pg_stats: array<f32>;
@group(0) @binding(2) var<storage, read> pg_inv: array<f32>;
@group(0) @binding(3) var<storage, read_write> pg_dgamma: array<f32>;
@group(0) @binding(4) var<storage, read_write> pg_dbeta: array<f32>;

@compute @workgroup_size(WG)
fn bn_param_grads(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let ch = (wid.y * nwg.x + wid.x) * WG + lid;
  if (ch >= pu(1u)) { return; }
  if (HAS_DG != 0u) { pg_dgamma[ch] = pg_dgamma[ch] + pg_stats[2u * ch + 1u] * pg_inv[ch]; }
  if (HAS_DB != 0u) { pg_dbeta[ch] = pg_dbeta[ch] + pg_stats[2u * ch]; }
}
