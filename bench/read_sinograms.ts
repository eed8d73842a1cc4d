// bench-permissions: --allow-read --allow-write=/tmp --allow-env --allow-run=/usr/bin/python3 --allow-sys
/**
 * Benchmark `read_sinograms`: read every sinogram of a detector-row range of a chunked scan and
 * normalise it (flat/dark, −log), Lumen (`openScan` + `readSinograms`: h5wasm hyperslabs and the
 * Rust/SIMD kernel) against h5py + numpy doing the same slice and formula
 * (bench/peers/read_sinograms.py).
 *
 * The scan is made once by the peer script under /tmp: i12 layout, 1801 projections + 20 darks
 * + 40 flats, 64 × 2560 uint16 frames in chunks (1, 64, 2560) as a detector writes them
 * (≈ 610 MB). Both sides read rows [24, 40) (16 sinograms of 1801 × 2560) from the page cache.
 *
 * Output: one JSON line `{"bench": "read_sinograms", "unit": "s", "ours", "peer", "ratio"}`
 * with ratio = peer / ours (above 1: Lumen is faster), medians of REPS runs after one warm-up;
 * plus the raw-read times of both sides, and the largest difference between the two results.
 *
 *   deno run <permissions above> bench/read_sinograms.ts [NAME-PREFIX]
 *
 * @module
 */
import { openScan } from "../lib/io/nexus.ts";
import { readSinograms } from "../lib/tomo/normalise.ts";
import { existsSync } from "node:fs";

const NAME = "read_sinograms";
const ANGLES = 1801, ROWS = 64, COLS = 2560;
const R0 = 24, R1 = 40;
const REPS = 5;
const PY = "/usr/bin/python3";
const PEER = new URL("./peers/read_sinograms.py", import.meta.url).pathname;
const DIR = "/tmp/lumen_bench";
const FILE = `${DIR}/read_sinograms_v1_${ANGLES}x${ROWS}x${COLS}.nxs`;

function py(args: string[]): string {
  const r = new Deno.Command(PY, { args: [PEER, ...args], stdout: "piped", stderr: "piped" })
    .outputSync();
  if (!r.success) throw new Error(`${PEER} ${args[0]}: ${new TextDecoder().decode(r.stderr)}`);
  return new TextDecoder().decode(r.stdout);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

if (import.meta.main) {
  const prefix = Deno.args[0] ?? "";
  if (NAME.startsWith(prefix)) {
    Deno.mkdirSync(DIR, { recursive: true });
    if (!existsSync(FILE)) {
      console.error(`${NAME}: writing ${FILE} with h5py (once)…`);
      py(["make", FILE + ".part", String(ANGLES), String(ROWS), String(COLS)]);
      Deno.renameSync(FILE + ".part", FILE);
    }

    // Ours: one warm-up (compiles the kernel, faults the page cache in), then REPS runs.
    const scan = await openScan(FILE);
    let sum = 0;
    const ours: number[] = [];
    const rawOurs: number[] = [];
    for (let i = 0; i <= REPS; i++) {
      const t = performance.now();
      const s = await readSinograms(scan, R0, R1);
      const dt = (performance.now() - t) / 1000;
      if (i > 0) ours.push(dt);
      if (i === REPS) {
        sum = 0;
        for (const v of s.data) sum += v;
      }
      const t2 = performance.now();
      const P = scan.projections;
      for (const [start, n] of P.runs(0, P.count, 409)) {
        P.file.withHyperslab(P.path, [start, R0, 0], [n, R1 - R0, COLS], () => {});
      }
      if (i > 0) rawOurs.push((performance.now() - t2) / 1000);
    }
    scan.close();

    // Peer: h5py + numpy, same slice and formula, one warm-up run inside the script's REPS+1.
    const peer = JSON.parse(py(["run", FILE, String(R0), String(R1), String(REPS + 1)]));
    const peerS: number[] = peer.normalised_s.slice(1);
    const peerRaw: number[] = peer.raw_s.slice(1);
    const relSum = Math.abs(sum - peer.checksum) / Math.abs(peer.checksum);
    const o = median(ours), p = median(peerS);
    console.log(JSON.stringify({
      bench: NAME,
      unit: "s",
      ours: +o.toFixed(4),
      peer: +p.toFixed(4),
      ratio: +(p / o).toFixed(3),
      peer_name: "h5py 3.7 + numpy (Debian)",
      shape: [R1 - R0, ANGLES, COLS],
      chunks: [1, ROWS, COLS],
      dtype: "uint16",
      mb_read: +((ANGLES * (R1 - R0) * COLS * 2) / 1e6).toFixed(1),
      ours_runs: ours.map((x) => +x.toFixed(4)),
      peer_runs: peerS.map((x) => +x.toFixed(4)),
      raw_read_ours: +median(rawOurs).toFixed(4),
      raw_read_peer: +median(peerRaw).toFixed(4),
      checksum_rel_diff: relSum,
    }));
    if (!(relSum < 1e-5)) {
      console.error(
        `${NAME}: results differ from the peer's (relative checksum difference ${relSum})`,
      );
      Deno.exit(1);
    }
  }
}
