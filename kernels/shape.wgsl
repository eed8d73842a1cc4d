// The shape family: strided copy (permute, slice, pad, concat, expand and their backwards),
// fill, casts. Data are handled as raw 32-bit words, so one pipeline serves float32 and int32.
//
// Parameters (binding 0, 64 u32 words):
//   copy_strided: [n, ndim, -, -, shape[8] @4, srcStride[8] @12, dstStride[8] @20,
//                  srcOff @28, dstOff @29]      ACC=1: dst += src (float32 only)
//   fill (uw):    [n, valueBits, offset]
//   cast_*:       [n]
// Element e = (group.y * groups.x + group.x) * WG + local.

override WG: u32 = 256;
override ACC: u32 = 0;

fn elem(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(WG)
fn copy_strided(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  var rem = i;
  var so = pu(28u);
  var d_o = pu(29u);
  for (var d = i32(pu(1u)) - 1; d >= 0; d--) {
    let du = u32(d);
    let n = pu(4u + du);
    let c = rem % n;
    rem = rem / n;
    so += c * pu(12u + du);
    d_o += c * pu(20u + du);
  }
  if (ACC != 0u) {
    dst[d_o] = bitcast<u32>(bitcast<f32>(dst[d_o]) + bitcast<f32>(src[so]));
  } else {
    dst[d_o] = src[so];
  }
}

@group(0) @binding(1) var<storage, read_write> fdst: array<u32>;

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  fdst[pu(2u) + i] = pu(1u);
}

@compute @workgroup_size(WG)
fn cast_i2f(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  dst[i] = bitcast<u32>(f32(bitcast<i32>(src[i])));
}

@compute @workgroup_size(WG)
fn cast_f2i(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  if (i >= pu(0u)) { return; }
  // truncation toward zero, saturating (NaN gives 0), explicitly: not every driver saturates
  let f = bitcast<f32>(src[i]);
  var r = 0;
  if (f >= 2147483648.0) {
    r = 2147483647;
  } else if (f <= -2147483648.0) {
    r = -2147483647 - 1;
  } else if (f == f) {
    r = i32(f);
  }
  dst[i] = bitcast<u32>(r);
}
