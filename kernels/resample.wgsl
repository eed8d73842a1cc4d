// Resampling of [n, c, h, w] images: upsampling (nearest, bilinear) and grid_sample (bilinear,
// zero padding, align_corners true/false), forward and backward. PyTorch 1.13 CPU formulas.
//
// Every backward is a gather, summed in the order in which PyTorch's CPU kernels scatter
// (output points in raster order, corners nw, ne, sw, se), with no float atomics, so results
// are reproducible. grid_sample's input gradient, whose sources are arbitrary, first buckets the
// sample points by the cell of their top-left corner with a counting sort (integer atomics for
// counts and slots only, then each bucket is sorted by point index), then each input pixel merges
// the four buckets that can reach it in point order.
//
// upsample: Parameters [n, c, h, w, oh, ow, alignCorners, -, scaleH @8, scaleW @9] (f32 scales:
//   nearest and bilinear without align_corners use PyTorch's in/out or 1/scale_factor; with
//   align_corners (in−1)/(out−1)).
//   up_nearest_fwd / up_bilinear_fwd (urw): x, y;  *_bwd (urw): dy, dx.
// grid_sample: Parameters [n, c, h, w, oh, ow, alignCorners, -, cells @8]
//   gs_fwd (urrw): x, grid, y;  gs_dgrid (urrrw): x, grid, dy, dgrid
//   gs_count (urw): grid, counts;  gs_fill (urrww): grid, offsets, cursor, entries
//   gs_sort (urw): offsets, entries;  gs_dx (urrrrw): grid, dy, offsets, entries, dx
// scan (exclusive prefix sum of u32, blocks of 1024): Parameters [len, blocks]
//   scan_blocks (urww): src, dst, blockSums;  scan_sums (uw): blockSums;
//   scan_add (urw): blockSums, dst

override WG: u32 = 256;

fn elem(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

// ---------------------------------------------------------------- upsampling

@group(0) @binding(1) var<storage, read> us: array<f32>;
@group(0) @binding(2) var<storage, read_write> ud: array<f32>;

fn nearest_idx(o: i32, insz: i32, outsz: i32, scale: f32) -> i32 {
  if (outsz == insz) { return o; }
  if (outsz == 2 * insz) { return o >> 1u; }
  return min(i32(floor(f32(o) * scale)), insz - 1);
}

struct Lin { i0: i32, i1: i32, l0: f32, l1: f32, }

fn linear_idx(o: i32, insz: i32, scale: f32, align: bool) -> Lin {
  var src: f32;
  if (align) {
    src = scale * f32(o);
  } else {
    src = max(scale * (f32(o) + 0.5) - 0.5, 0.0);
  }
  var r: Lin;
  r.i0 = i32(src);
  r.i1 = r.i0 + select(0, 1, r.i0 < insz - 1);
  r.l1 = min(max(src - f32(r.i0), 0.0), 1.0);
  r.l0 = 1.0 - r.l1;
  return r;
}

@compute @workgroup_size(WG)
fn up_nearest_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  let H = pi(2u);
  let W = pi(3u);
  let OH = pu(4u);
  let OW = pu(5u);
  if (i >= pu(0u) * pu(1u) * OH * OW) { return; }
  let ox = i32(i % OW);
  let oy = i32((i / OW) % OH);
  let plane = i / (OW * OH);
  let iy = nearest_idx(oy, H, i32(OH), pf(8u));
  let ix = nearest_idx(ox, W, i32(OW), pf(9u));
  ud[i] = us[plane * u32(H * W) + u32(iy * W + ix)];
}

@compute @workgroup_size(WG)
fn up_nearest_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  let H = pi(2u);
  let W = pi(3u);
  let OH = pi(4u);
  let OW = pi(5u);
  if (i >= pu(0u) * pu(1u) * u32(H * W)) { return; }
  let ix = i32(i % u32(W));
  let iy = i32((i / u32(W)) % u32(H));
  let plane = i / u32(W * H);
  let sh = pf(8u);
  let sw = pf(9u);
  // outputs o with nearest(o) == i lie near [i/scale, (i+1)/scale); check exactly
  var oy0 = max(0, i32(floor(f32(iy) / sh)) - 2);
  var oy1 = min(OH - 1, i32(ceil(f32(iy + 1) / sh)) + 2);
  var ox0 = max(0, i32(floor(f32(ix) / sw)) - 2);
  var ox1 = min(OW - 1, i32(ceil(f32(ix + 1) / sw)) + 2);
  if (iy == H - 1) { oy1 = OH - 1; }
  if (ix == W - 1) { ox1 = OW - 1; }
  if (OH == H || OH == 2 * H) { oy0 = max(0, iy * (OH / H) - 1); oy1 = min(OH - 1, iy * (OH / H) + 2); }
  if (OW == W || OW == 2 * W) { ox0 = max(0, ix * (OW / W) - 1); ox1 = min(OW - 1, ix * (OW / W) + 2); }
  var acc = 0.0;
  let obase = plane * u32(OH * OW);
  for (var oy = oy0; oy <= oy1; oy++) {
    if (nearest_idx(oy, H, OH, sh) != iy) { continue; }
    for (var ox = ox0; ox <= ox1; ox++) {
      if (nearest_idx(ox, W, OW, sw) != ix) { continue; }
      acc += us[obase + u32(oy * OW + ox)];
    }
  }
  ud[i] = acc;
}

@compute @workgroup_size(WG)
fn up_bilinear_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  let H = pi(2u);
  let W = pi(3u);
  let OH = pu(4u);
  let OW = pu(5u);
  if (i >= pu(0u) * pu(1u) * OH * OW) { return; }
  let ox = i32(i % OW);
  let oy = i32((i / OW) % OH);
  let plane = i / (OW * OH);
  let align = pu(6u) != 0u;
  let a = linear_idx(oy, H, pf(8u), align);
  let b = linear_idx(ox, W, pf(9u), align);
  let base = plane * u32(H * W);
  let r0 = base + u32(a.i0 * W);
  let r1 = base + u32(a.i1 * W);
  ud[i] = a.l0 * (b.l0 * us[r0 + u32(b.i0)] + b.l1 * us[r0 + u32(b.i1)]) +
          a.l1 * (b.l0 * us[r1 + u32(b.i0)] + b.l1 * us[r1 + u32(b.i1)]);
}

fn inv_range(i: i32, scale: f32, align: bool, outsz: i32) -> vec2<i32> {
  if (scale <= 0.0) { return vec2<i32>(0, outsz - 1); }
  var lo: f32;
  var hi: f32;
  if (align) {
    lo = f32(i - 1) / scale;
    hi = f32(i + 1) / scale;
  } else {
    lo = (f32(i - 1) + 0.5) / scale - 0.5;
    hi = (f32(i + 1) + 0.5) / scale - 0.5;
  }
  return vec2<i32>(max(0, i32(floor(lo)) - 2), min(outsz - 1, i32(ceil(hi)) + 2));
}

@compute @workgroup_size(WG)
fn up_bilinear_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  let H = pi(2u);
  let W = pi(3u);
  let OH = pi(4u);
  let OW = pi(5u);
  if (i >= pu(0u) * pu(1u) * u32(H * W)) { return; }
  let ix = i32(i % u32(W));
  let iy = i32((i / u32(W)) % u32(H));
  let plane = i / u32(W * H);
  let align = pu(6u) != 0u;
  let sh = pf(8u);
  let sw = pf(9u);
  let ry = inv_range(iy, sh, align, OH);
  let rx = inv_range(ix, sw, align, OW);
  let obase = plane * u32(OH * OW);
  var acc = 0.0;
  for (var oy = ry.x; oy <= ry.y; oy++) {
    let a = linear_idx(oy, H, sh, align);
    if (a.i0 != iy && a.i1 != iy) { continue; }
    for (var ox = rx.x; ox <= rx.y; ox++) {
      let b = linear_idx(ox, W, sw, align);
      if (b.i0 != ix && b.i1 != ix) { continue; }
      let g = us[obase + u32(oy * OW + ox)];
      if (a.i0 == iy && b.i0 == ix) { acc += a.l0 * b.l0 * g; }
      if (a.i0 == iy && b.i1 == ix) { acc += a.l0 * b.l1 * g; }
      if (a.i1 == iy && b.i0 == ix) { acc += a.l1 * b.l0 * g; }
      if (a.i1 == iy && b.i1 == ix) { acc += a.l1 * b.l1 * g; }
    }
  }
  ud[i] = acc;
}

// ---------------------------------------------------------------- grid_sample

struct Pt {
  ix: f32, iy: f32,
  x0: i32, y0: i32,
  nw: f32, ne: f32, sw: f32, se: f32,
  ok: bool,
}

fn unnorm(coord: f32, size: i32, align: bool) -> f32 {
  if (align) { return ((coord + 1.0) / 2.0) * f32(size - 1); }
  return ((coord + 1.0) * f32(size) - 1.0) / 2.0;
}

fn sample_pt(gx: f32, gy: f32, H: i32, W: i32, align: bool) -> Pt {
  var p: Pt;
  p.ix = unnorm(gx, W, align);
  p.iy = unnorm(gy, H, align);
  // NaN or far outside: no corner is inside
  p.ok = p.ix > -2.0 && p.iy > -2.0 && p.ix < f32(W) + 1.0 && p.iy < f32(H) + 1.0;
  if (!p.ok) { return p; }
  let fx = floor(p.ix);
  let fy = floor(p.iy);
  p.x0 = i32(fx);
  p.y0 = i32(fy);
  let x1 = fx + 1.0;
  let y1 = fy + 1.0;
  p.nw = (x1 - p.ix) * (y1 - p.iy);
  p.ne = (p.ix - fx) * (y1 - p.iy);
  p.sw = (x1 - p.ix) * (p.iy - fy);
  p.se = (p.ix - fx) * (p.iy - fy);
  return p;
}

fn inside(y: i32, x: i32, H: i32, W: i32) -> bool {
  return y >= 0 && x >= 0 && y < H && x < W;
}

@group(0) @binding(1) var<storage, read> gs_x: array<f32>;
@group(0) @binding(2) var<storage, read> gs_grid: array<f32>;
@group(0) @binding(3) var<storage, read_write> gs_y: array<f32>;

// one thread per (b, point); loops over channels
@compute @workgroup_size(WG)
fn gs_fwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  let C = pu(1u);
  let H = pi(2u);
  let W = pi(3u);
  let np = pu(4u) * pu(5u);
  if (i >= pu(0u) * np) { return; }
  let b = i / np;
  let p = i - b * np;
  let s = sample_pt(gs_grid[2u * i], gs_grid[2u * i + 1u], H, W, pu(6u) != 0u);
  let hw = u32(H * W);
  for (var ch = 0u; ch < C; ch++) {
    var v = 0.0;
    if (s.ok) {
      let base = (b * C + ch) * hw;
      if (inside(s.y0, s.x0, H, W)) { v += gs_x[base + u32(s.y0 * W + s.x0)] * s.nw; }
      if (inside(s.y0, s.x0 + 1, H, W)) { v += gs_x[base + u32(s.y0 * W + s.x0 + 1)] * s.ne; }
      if (inside(s.y0 + 1, s.x0, H, W)) { v += gs_x[base + u32((s.y0 + 1) * W + s.x0)] * s.sw; }
      if (inside(s.y0 + 1, s.x0 + 1, H, W)) { v += gs_x[base + u32((s.y0 + 1) * W + s.x0 + 1)] * s.se; }
    }
    gs_y[(b * C + ch) * np + p] = v;
  }
}

@group(0) @binding(3) var<storage, read> gd_dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> gd_dgrid: array<f32>;

@compute @workgroup_size(WG)
fn gs_dgrid(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  let C = pu(1u);
  let H = pi(2u);
  let W = pi(3u);
  let np = pu(4u) * pu(5u);
  if (i >= pu(0u) * np) { return; }
  let b = i / np;
  let p = i - b * np;
  let align = pu(6u) != 0u;
  let s = sample_pt(gs_grid[2u * i], gs_grid[2u * i + 1u], H, W, align);
  var gix = 0.0;
  var giy = 0.0;
  if (s.ok) {
    let x0 = f32(s.x0);
    let y0 = f32(s.y0);
    let x1 = x0 + 1.0;
    let y1 = y0 + 1.0;
    let hw = u32(H * W);
    for (var ch = 0u; ch < C; ch++) {
      let g = gd_dy[(b * C + ch) * np + p];
      let base = (b * C + ch) * hw;
      if (inside(s.y0, s.x0, H, W)) {
        let v = gs_x[base + u32(s.y0 * W + s.x0)];
        gix -= v * (y1 - s.iy) * g;
        giy -= v * (x1 - s.ix) * g;
      }
      if (inside(s.y0, s.x0 + 1, H, W)) {
        let v = gs_x[base + u32(s.y0 * W + s.x0 + 1)];
        gix += v * (y1 - s.iy) * g;
        giy -= v * (s.ix - x0) * g;
      }
      if (inside(s.y0 + 1, s.x0, H, W)) {
        let v = gs_x[base + u32((s.y0 + 1) * W + s.x0)];
        gix -= v * (s.iy - y0) * g;
        giy += v * (x1 - s.ix) * g;
      }
      if (inside(s.y0 + 1, s.x0 + 1, H, W)) {
        let v = gs_x[base + u32((s.y0 + 1) * W + s.x0 + 1)];
        gix += v * (s.iy - y0) * g;
        giy += v * (s.ix - x0) * g;
      }
    }
  }
  var mx = f32(W) / 2.0;
  var my = f32(H) / 2.0;
  if (align) {
    mx = f32(W - 1) / 2.0;
    my = f32(H - 1) / 2.0;
  }
  gd_dgrid[2u * i] = gix * mx;
  gd_dgrid[2u * i + 1u] = giy * my;
}

// cell of a point: (y0 + 1, x0 + 1) in [0, h] × [0, w], per batch item; -1 when it touches nothing
fn cell_of(s: Pt, b: u32, H: i32, W: i32) -> i32 {
  if (!s.ok || s.y0 < -1 || s.x0 < -1 || s.y0 > H - 1 || s.x0 > W - 1) { return -1; }
  return i32(b) * (H + 1) * (W + 1) + (s.y0 + 1) * (W + 1) + (s.x0 + 1);
}

@group(0) @binding(1) var<storage, read> gc_grid: array<f32>;
@group(0) @binding(2) var<storage, read_write> gc_counts: array<atomic<u32>>;

@compute @workgroup_size(WG)
fn gs_count(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  let H = pi(2u);
  let W = pi(3u);
  let np = pu(4u) * pu(5u);
  if (i >= pu(0u) * np) { return; }
  let s = sample_pt(gc_grid[2u * i], gc_grid[2u * i + 1u], H, W, pu(6u) != 0u);
  let cell = cell_of(s, i / np, H, W);
  if (cell >= 0) { atomicAdd(&gc_counts[u32(cell)], 1u); }
}

@group(0) @binding(2) var<storage, read> gf_off: array<u32>;
@group(0) @binding(3) var<storage, read_write> gf_cursor: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> gf_entries: array<u32>;

@compute @workgroup_size(WG)
fn gs_fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  let H = pi(2u);
  let W = pi(3u);
  let np = pu(4u) * pu(5u);
  if (i >= pu(0u) * np) { return; }
  let s = sample_pt(gc_grid[2u * i], gc_grid[2u * i + 1u], H, W, pu(6u) != 0u);
  let cell = cell_of(s, i / np, H, W);
  if (cell < 0) { return; }
  let slot = atomicAdd(&gf_cursor[u32(cell)], 1u);
  gf_entries[gf_off[u32(cell)] + slot] = i - (i / np) * np;
}

@group(0) @binding(1) var<storage, read> so_off: array<u32>;
@group(0) @binding(2) var<storage, read_write> so_entries: array<u32>;

// insertion sort of each bucket (buckets hold a few points for any smooth warp)
@compute @workgroup_size(WG)
fn gs_sort(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let cell = elem(wid, nwg, lid);
  if (cell >= pu(8u)) { return; }
  let beg = so_off[cell];
  let end = so_off[cell + 1u];
  for (var a = beg + 1u; a < end; a++) {
    let v = so_entries[a];
    var j = a;
    while (j > beg && so_entries[j - 1u] > v) {
      so_entries[j] = so_entries[j - 1u];
      j--;
    }
    so_entries[j] = v;
  }
}

@group(0) @binding(2) var<storage, read> gx_dy: array<f32>;
@group(0) @binding(3) var<storage, read> gx_off: array<u32>;
@group(0) @binding(4) var<storage, read> gx_entries: array<u32>;
@group(0) @binding(5) var<storage, read_write> gx_dx: array<f32>;

// one thread per input element (b, ch, y, x): merges the buckets of cells (y, x), (y, x+1),
// (y+1, x), (y+1, x+1) — points whose nw corner is at (y−1..y, x−1..x) — in point order
@compute @workgroup_size(WG)
fn gs_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = elem(wid, nwg, lid);
  let C = pu(1u);
  let H = pi(2u);
  let W = pi(3u);
  let np = pu(4u) * pu(5u);
  let hw = u32(H * W);
  if (i >= pu(0u) * C * hw) { return; }
  let x = i32(i % u32(W));
  let y = i32((i / u32(W)) % u32(H));
  let bc = i / hw;
  let b = bc / C;
  let align = pu(6u) != 0u;
  let cb = i32(b) * (H + 1) * (W + 1);
  var cur: array<u32, 4>;
  var end: array<u32, 4>;
  for (var q = 0; q < 4; q++) {
    let cy = y + (q >> 1u);
    let cx = x + (q & 1);
    let cell = u32(cb + cy * (W + 1) + cx);
    cur[q] = gx_off[cell];
    end[q] = gx_off[cell + 1u];
  }
  var acc = 0.0;
  loop {
    var best = 0xffffffffu;
    var bq = -1;
    for (var q = 0; q < 4; q++) {
      if (cur[q] < end[q]) {
        let p = gx_entries[cur[q]];
        if (p < best) { best = p; bq = q; }
      }
    }
    if (bq < 0) { break; }
    cur[bq] += 1u;
    let gi = b * np + best;
    let s = sample_pt(gc_grid[2u * gi], gc_grid[2u * gi + 1u], H, W, align);
    let g = gx_dy[bc * np + best];
    // the corner of this point that lands on (y, x)
    if (s.y0 == y && s.x0 == x) { acc += s.nw * g; }
    else if (s.y0 == y && s.x0 + 1 == x) { acc += s.ne * g; }
    else if (s.y0 + 1 == y && s.x0 == x) { acc += s.sw * g; }
    else { acc += s.se * g; }
  }
  gx_dx[i] = acc;
}

// ---------------------------------------------------------------- exclusive scan (u32)

var<workgroup> sc: array<u32, 256>;

@group(0) @binding(1) var<storage, read> sc_src: array<u32>;
@group(0) @binding(2) var<storage, read_write> sc_dst: array<u32>;
@group(0) @binding(3) var<storage, read_write> sc_blocks: array<u32>;

// inclusive scan of sc[0..256) in place (Hillis–Steele); returns nothing
fn wg_scan(lid: u32) {
  for (var off = 1u; off < 256u; off = off << 1u) {
    var v = 0u;
    if (lid >= off) { v = sc[lid - off]; }
    workgroupBarrier();
    sc[lid] += v;
    workgroupBarrier();
  }
}

@compute @workgroup_size(256)
fn scan_blocks(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let blk = wid.y * nwg.x + wid.x;
  if (blk >= pu(1u)) { return; }
  let len = pu(0u);
  let base = blk * 1024u + lid * 4u;
  var v = vec4<u32>(0u);
  for (var k = 0u; k < 4u; k++) {
    if (base + k < len) { v[k] = sc_src[base + k]; }
  }
  let t = v.x + v.y + v.z + v.w;
  sc[lid] = t;
  workgroupBarrier();
  wg_scan(lid);
  let excl = sc[lid] - t;
  var run = excl;
  for (var k = 0u; k < 4u; k++) {
    if (base + k < len) { sc_dst[base + k] = run; }
    run += v[k];
  }
  if (lid == 255u) { sc_blocks[blk] = sc[255]; }
}

@group(0) @binding(1) var<storage, read_write> ss_blocks: array<u32>;

// one workgroup: exclusive scan of the block sums in chunks of 256, carrying the total
@compute @workgroup_size(256)
fn scan_sums(@builtin(local_invocation_index) lid: u32) {
  let nb = pu(1u);
  var carry = 0u;
  for (var c0 = 0u; c0 < nb; c0 += 256u) {
    var v = 0u;
    if (c0 + lid < nb) { v = ss_blocks[c0 + lid]; }
    sc[lid] = v;
    workgroupBarrier();
    wg_scan(lid);
    let total = sc[255];
    if (c0 + lid < nb) { ss_blocks[c0 + lid] = carry + sc[lid] - v; }
    carry += total;
    workgroupBarrier();
  }
}

@group(0) @binding(1) var<storage, read> sa_blocks: array<u32>;

@compute @workgroup_size(256)
fn scan_add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let blk = wid.y * nwg.x + wid.x;
  if (blk >= pu(1u)) { return; }
  let len = pu(0u);
  let add = sa_blocks[blk];
  for (var k = 0u; k < 4u; k++) {
    let i = blk * 1024u + lid * 4u + k;
    if (i < len) { sc_dst[i] += add; }
  }
}
