// Prelude of every tensor kernel (lib/tensor/webgpu/runtime.ts puts it before each kernels/<family>.wgsl):
// the parameter block at binding 0, sixteen vec4<u32> words, read as u32, f32 or i32 by index.

@group(0) @binding(0) var<uniform> P: array<vec4<u32>, 16>;

fn pu(i: u32) -> u32 { return P[i >> 2u][i & 3u]; }
fn pf(i: u32) -> f32 { return bitcast<f32>(P[i >> 2u][i & 3u]); }
fn pi(i: u32) -> i32 { return bitcast<i32>(P[i >> 2u][i & 3u]); }
