// Max and average pooling over [n, c, h, w] (1-D pooling: h = kh = 1), forward and backward.
// Backward passes gather (one thread per input element, visiting the windows that contain it
// in the order PyTorch's CPU kernel scatters them) instead of scattering with atomics, so
// results are deterministic. ceil_mode = false; average pooling counts padding (PyTorch's
// default count_include_pad = true) and ignores dilation.
//
// Parameters: [n, c, h, w, oh, ow, kh, kw, strideH, strideW, padH, padW, dilH, dilW]
// max_fwd (urww): x, y, idx (int32, flat iy·w + ix within the plane)
// max_bwd (urrw): dy, idx, dx
// avg_fwd (urw):  x, y
// avg_bwd (urw):  dy, dx

override WG: u32 = 256;

fn elem(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

@group(0) @binding(1) var<storage, read> mx: array<f32>;
@group(0) @binding(2) var<storage, read_write> my: array<f32>;
@group(0) @binding(3) var<storage, read_write> midx: array<i32>;

@compute @workgroup_size(WG)
fn max_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  let H = pi(2u);
  let W = pi(3u);
  let OH = pu(4u);
  let OW = pu(5u);
  let total = pu(0u) * pu(1u) * OH * OW;
  if (i >= total) { return; }
  let ox = i32(i % OW);
  let oy = i32((i / OW) % OH);
  let plane = i / (OW * OH);
  let base = plane * u32(H * W);
  let dH = pi(12u);
  let dW = pi(13u);
  var ih0 = oy * pi(8u) - pi(10u);
  var iw0 = ox * pi(9u) - pi(11u);
  let ih1 = min(ih0 + (pi(6u) - 1) * dH + 1, H);
  let iw1 = min(iw0 + (pi(7u) - 1) * dW + 1, W);
  while (ih0 < 0) { ih0 += dH; }
  while (iw0 < 0) { iw0 += dW; }
  var best = bitcast<f32>(0xff800000u);
  var bi = ih0 * W + iw0;
  for (var iy = ih0; iy < ih1; iy += dH) {
    for (var ix = iw0; ix < iw1; ix += dW) {
      let v = mx[base + u32(iy * W + ix)];
      if (v > best || v != v) {
        best = v;
        bi = iy * W + ix;
      }
    }
  }
  my[i] = best;
  midx[i] = bi;
}

@group(0) @binding(1) var<storage, read> bdy: array<f32>;
@group(0) @binding(2) var<storage, read> bidx: array<i32>;
@group(0) @binding(3) var<storage, read_write> bdx: array<f32>;

@compute @workgroup_size(WG)
fn max_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  let H = pu(2u);
  let W = pu(3u);
  let OH = pi(4u);
  let OW = pi(5u);
  let total = pu(0u) * pu(1u) * H * W;
  if (i >= total) { return; }
  let ix = i32(i % W);
  let iy = i32((i / W) % H);
  let plane = i / (W * H);
  let obase = plane * u32(OH * OW);
  let sH = pi(8u);
  let sW = pi(9u);
  let pH = pi(10u);
  let pW = pi(11u);
  let dH = pi(12u);
  let dW = pi(13u);
  let me = iy * i32(W) + ix;
  var acc = 0.0;
  // ky descending = oy ascending: the raster order in which PyTorch scatters
  for (var ky = pi(6u) - 1; ky >= 0; ky--) {
    let ty = iy + pH - ky * dH;
    if (ty < 0 || ty % sH != 0) { continue; }
    let oy = ty / sH;
    if (oy >= OH) { continue; }
    for (var kx = pi(7u) - 1; kx >= 0; kx--) {
      let tx = ix + pW - kx * dW;
      if (tx < 0 || tx % sW != 0) { continue; }
      let ox = tx / sW;
      if (ox >= OW) { continue; }
      let o = obase + u32(oy * OW + ox);
      if (bidx[o] == me) { acc += bdy[o]; }
    }
  }
  bdx[i] = acc;
}

@group(0) @binding(1) var<storage, read> ax: array<f32>;
@group(0) @binding(2) var<storage, read_write> ay: array<f32>;

@compute @workgroup_size(WG)
fn avg_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  let H = pi(2u);
  let W = pi(3u);
  let OH = pu(4u);
  let OW = pu(5u);
  let total = pu(0u) * pu(1u) * OH * OW;
  if (i >= total) { return; }
  let ox = i32(i % OW);
  let oy = i32((i / OW) % OH);
  let plane = i / (OW * OH);
  let base = plane * u32(H * W);
  let pH = pi(10u);
  let pW = pi(11u);
  var ih0 = oy * pi(8u) - pH;
  var iw0 = ox * pi(9u) - pW;
  var ih1 = min(ih0 + pi(6u), H + pH);
  var iw1 = min(iw0 + pi(7u), W + pW);
  let div = f32((ih1 - ih0) * (iw1 - iw0));
  ih0 = max(ih0, 0);
  iw0 = max(iw0, 0);
  ih1 = min(ih1, H);
  iw1 = min(iw1, W);
  var s = 0.0;
  for (var iy = ih0; iy < ih1; iy++) {
    for (var ix = iw0; ix < iw1; ix++) { s += ax[base + u32(iy * W + ix)]; }
  }
  ay[i] = s / div;
}

@compute @workgroup_size(WG)
fn avg_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  let H = pi(2u);
  let W = pi(3u);
  let OH = pi(4u);
  let OW = pi(5u);
  let total = pu(0u) * pu(1u) * u32(H * W);
  if (i >= total) { return; }
  let ix = i32(i % u32(W));
  let iy = i32((i / u32(W)) % u32(H));
  let plane = i / u32(W * H);
  let obase = plane * u32(OH * OW);
  let kH = pi(6u);
  let kW = pi(7u);
  let sH = pi(8u);
  let sW = pi(9u);
  let pH = pi(10u);
  let pW = pi(11u);
  // windows oy with oy·sH − pH ≤ iy < oy·sH − pH + kH
  let oy0 = max(0, (iy + pH - kH + sH) / sH);
  let oy1 = min(OH - 1, (iy + pH) / sH);
  let ox0 = max(0, (ix + pW - kW + sW) / sW);
  let ox1 = min(OW - 1, (ix + pW) / sW);
  var acc = 0.0;
  for (var oy = oy0; oy <= oy1; oy++) {
    let h0 = oy * sH - pH;
    let h1 = min(h0 + kH, H + pH);
    if (iy < h0 || iy >= h0 + kH) { continue; }
    for (var ox = ox0; ox <= ox1; ox++) {
      let w0 = ox * sW - pW;
      let w1 = min(w0 + kW, W + pW);
      if (ix < w0 || ix >= w0 + kW) { continue; }
      let div = f32((h1 - h0) * (w1 - w0));
      acc += ax[obase + u32(oy * OW + ox)] / div;
    }
  }
  ay[i] = acc;
}
