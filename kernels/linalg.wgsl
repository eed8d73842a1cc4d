// The linalg family, batched SGEMM: C[b] = alpha · op(A[b]) · op(B[b]) + beta · C[b], row-major.
//
// Tiling: a workgroup of 16×16 threads computes a 64×64 tile of C; each thread owns a 4×4
// block (rows ty + 16·i, columns tx + 16·j, so that neighbouring threads read neighbouring
// shared-memory words). K advances in steps of 16 through two 64×16 tiles in workgroup memory,
// loaded so that consecutive threads read consecutive global addresses for every transpose.
// The summation order over K is fixed (k ascending), so results are reproducible bit for bit.
//
// Parameters (binding 0): [M, N, K, -, lda, ldb, ldc, -, strideA, strideB, strideC, -,
//                          offA, offB, offC, -, alpha @16, beta @17]
// Dispatch: (ceil(N/64), ceil(M/64), batch).  TA/TB: 1 = operand stored transposed.

override TA: u32 = 0;
override TB: u32 = 0;

@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

var<workgroup> As: array<f32, 1024>; // [16 k][64 m]
var<workgroup> Bs: array<f32, 1024>; // [16 k][64 n]

@compute @workgroup_size(16, 16)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let M = pu(0u);
  let N = pu(1u);
  let K = pu(2u);
  let lda = pu(4u);
  let ldb = pu(5u);
  let ldc = pu(6u);
  let bz = wid.z;
  let aBase = pu(12u) + bz * pu(8u);
  let bBase = pu(13u) + bz * pu(9u);
  let cBase = pu(14u) + bz * pu(10u);
  let m0 = wid.y * 64u;
  let n0 = wid.x * 64u;
  let tx = lid.x;
  let ty = lid.y;

  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);

  for (var k0 = 0u; k0 < K; k0 += 16u) {
    for (var q = 0u; q < 4u; q++) {
      let idx = li + 256u * q;
      // A tile element (mm, kk)
      var mm: u32;
      var kk: u32;
      if (TA == 0u) { mm = idx >> 4u; kk = idx & 15u; } else { mm = idx & 63u; kk = idx >> 6u; }
      let gm = m0 + mm;
      let gk = k0 + kk;
      var av = 0.0;
      if (gm < M && gk < K) {
        if (TA == 0u) { av = A[aBase + gm * lda + gk]; } else { av = A[aBase + gk * lda + gm]; }
      }
      As[kk * 64u + mm] = av;
      // B tile element (kk, nn)
      var nn: u32;
      var kb: u32;
      if (TB == 0u) { nn = idx & 63u; kb = idx >> 6u; } else { nn = idx >> 4u; kb = idx & 15u; }
      let gn = n0 + nn;
      let gkb = k0 + kb;
      var bv = 0.0;
      if (gn < N && gkb < K) {
        if (TB == 0u) { bv = B[bBase + gkb * ldb + gn]; } else { bv = B[bBase + gn * ldb + gkb]; }
      }
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

  let alpha = pf(16u);
  let beta = pf(17u);
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
      let at = cBase + gm * ldc + gn;
      var v = alpha * row[j];
      if (beta != 0.0) { v += beta * C[at]; }
      C[at] = v;
    }
  }
}
