// Optimiser updates, in place, one thread per element, following PyTorch 1.13's single-tensor
// Adam / AdamW / SGD step by step (each PyTorch in-place op is one rounded f32 step here too;
// scalars are computed in double on the host and rounded to f32 as PyTorch's CPU kernels do).
//
// adam (layout uwrww): param, grad, m, v
//   Parameters: [n, -, -, -, beta1 @4, 1−beta1 @5, beta2 @6, 1−beta2 @7, lr/bc1 @8,
//                sqrt(bc2) @9, eps @10, weightDecay @11, 1−lr·wd @12]
//   Overrides: WD (weight decay ≠ 0), DECOUPLED (AdamW)
// sgd (layout uwrw): param, grad, momentum buffer (any buffer when MOMENTUM = 0)
//   Parameters: [n, -, -, -, lr @4, momentum @5, 1−dampening @6, weightDecay @7]
//   Overrides: WD, MOMENTUM, FIRST (buffer created from this gradient), NESTEROV

override WG: u32 = 256;
override WD: u32 = 0;
override DECOUPLED: u32 = 0;
override MOMENTUM: u32 = 0;
override FIRST: u32 = 0;
override NESTEROV: u32 = 0;

fn elem(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m1: array<f32>;
@group(0) @binding(4) var<storage, read_write> m2: array<f32>;

@compute @workgroup_size(WG)
fn adam(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  var p = param[i];
  var g = grad[i];
  if (WD != 0u) {
    if (DECOUPLED != 0u) { p = p * pf(12u); } else { g = g + pf(11u) * p; }
  }
  var m = m1[i] * pf(4u);
  m = m + pf(5u) * g;
  var v = m2[i] * pf(6u);
  v = v + pf(7u) * g * g;
  let denom = sqrt(v) / pf(9u) + pf(10u);
  p = p + (-pf(8u) * m) / denom;
  m1[i] = m;
  m2[i] = v;
  param[i] = p;
}

@compute @workgroup_size(WG)
fn sgd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  var p = param[i];
  var d = grad[i];
  if (WD != 0u) { d = d + pf(7u) * p; }
  if (MOMENTUM != 0u) {
    var b: f32;
    if (FIRST != 0u) {
      b = d;
    } else {
      b = m1[i] * pf(5u);
      b = b + pf(6u) * d;
    }
    m1[i] = b;
    if (NESTEROV != 0u) { d = d + pf(5u) * b; } else { d = b; }
  }
  param[i] = p + (-pf(4u)) * d;
}
