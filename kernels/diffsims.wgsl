// diffsims kernels: the Gaussian-spot detector pattern and its radial mean (f32).
//
// Spots arrive deduplicated (one per pixel, the last one of the list, no zero intensities) as
// vec4(px, py, intensity, 0). Each pattern pixel gathers every spot's separable weight: along an
// axis of n pixels, Σ over the mirror images j ∈ {s, −1−s, 2n−1−s} of kern[r + x − j] where
// |x − j| ≤ r (scipy's gaussian_filter with 'reflect' edges, as lib/pipelines/diffsims/
// kinematic.ts footprint()). Then one workgroup finds the maximum, and one invocation per radial
// bin sums its pixels (CSR list of pixel indices per bin) and divides by the maximum and the
// pixel count. `normalize` divides the pattern itself by the maximum.

struct Params {
  size: u32,
  n: u32,
  r: u32,
  nbins: u32,
};

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> spots: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> kern: array<f32>;
@group(0) @binding(3) var<storage, read_write> img: array<f32>;
@group(0) @binding(4) var<storage, read_write> maxv: array<f32>;
@group(0) @binding(5) var<storage, read> bin_start: array<u32>;
@group(0) @binding(6) var<storage, read> bin_pix: array<u32>;
@group(0) @binding(7) var<storage, read> bin_count: array<f32>;
@group(0) @binding(8) var<storage, read_write> prof: array<f32>;

fn weight(s: i32, x: i32) -> f32 {
  let n = i32(P.size);
  let r = i32(P.r);
  var js = array<i32, 3>(s, -1 - s, 2 * n - 1 - s);
  var w = 0.0;
  for (var q = 0; q < 3; q++) {
    let d = x - js[q];
    if (d >= -r && d <= r) {
      w += kern[r + d];
    }
  }
  return w;
}

@compute @workgroup_size(8, 8)
fn render(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= P.size || g.y >= P.size) {
    return;
  }
  let x = i32(g.x);
  let y = i32(g.y);
  var acc = 0.0;
  for (var i = 0u; i < P.n; i++) {
    let s = spots[i];
    let wy = weight(i32(s.y), y);
    if (wy == 0.0) {
      continue;
    }
    acc += (wy * s.z) * weight(i32(s.x), x);
  }
  img[g.y * P.size + g.x] = acc;
}

var<workgroup> part: array<f32, 256>;

@compute @workgroup_size(256)
fn pattern_max(@builtin(local_invocation_id) l: vec3<u32>) {
  let total = P.size * P.size;
  var m = 0.0;
  for (var i = l.x; i < total; i += 256u) {
    m = max(m, img[i]);
  }
  part[l.x] = m;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (l.x < w) {
      part[l.x] = max(part[l.x], part[l.x + w]);
    }
    workgroupBarrier();
  }
  if (l.x == 0u) {
    maxv[0] = part[0];
  }
}

@compute @workgroup_size(64)
fn radial(@builtin(global_invocation_id) g: vec3<u32>) {
  let b = g.x;
  if (b >= P.nbins) {
    return;
  }
  var acc = 0.0;
  for (var i = bin_start[b]; i < bin_start[b + 1u]; i++) {
    acc += img[bin_pix[i]];
  }
  let m = maxv[0];
  let c = bin_count[b];
  prof[b] = select(0.0, acc / m / c, c > 0.0 && m > 0.0);
}

@compute @workgroup_size(64)
fn normalize(@builtin(global_invocation_id) g: vec3<u32>) {
  let i = g.x;
  if (i >= P.size * P.size) {
    return;
  }
  let m = maxv[0];
  if (m > 0.0) {
    img[i] = img[i] / m;
  }
}
