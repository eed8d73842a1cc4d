// bench-permissions: --allow-read --allow-write=/tmp --allow-env --allow-run=/usr/bin/python3,deno --allow-sys
/**
 * diffsims XL's kinematical simulation on 2 cores: profiles per second of the full per-orientation
 * path (reciprocal lattice → Ewald excitation error → |F|² with Lobato factors → Gaussian spots
 * on a 515 × 515 detector → 256-bin radial mean → crop 13:160, divided by the maximum) for
 * CsPbBr3 at relrod 0.2 Å⁻¹, sigma 2 px, against numpy + scipy written the way diffsims does it
 * (bench/peers/diffsims_simulate.py: whole-image gaussian_filter, np.bincount). Both sides run as
 * two processes side by side on half of the same orientations each (how `--shard` spreads
 * simulation over cores); each reports its compute time without start-up, and the rate is all
 * profiles over the slower process's time. Result line: `diffsims_simulate_profiles_per_s`.
 *
 * @module
 */
import { DEMO_CIFS } from "../lib/pipelines/diffsims/demo_cifs.ts";
import { parseCif } from "../lib/pipelines/diffsims/cif.ts";
import {
  electronWavelength,
  integrate,
  kinematicSpots,
  type Phase,
  preparePhase,
  radialBins,
  renderPattern,
} from "../lib/pipelines/diffsims/kinematic.ts";
import { randomRotation } from "../lib/pipelines/diffsims/orientations.ts";
import { SimRng } from "../lib/data/rng.ts";

const N = 240, SIZE = 515, NBINS = 256, SIGMA = 2, RELROD = 0.2, CAL = 0.00588;
const HERE = new URL(".", import.meta.url).pathname;

interface Job {
  basis: number[];
  atoms: Phase["atoms"];
  rots: number[][];
  wavelength: number;
  calibration: number;
  relrod: number;
  size: number;
  sigma: number;
  nbins: number;
}

/** Simulates the job's profiles; returns compute seconds and a checksum. */
function simulate(job: Job): { seconds: number; profiles: number; checksum: number } {
  const t0 = performance.now();
  const ph: Phase = { name: "x", basis: job.basis, atoms: job.atoms, scattering: "lobato" };
  const rb = radialBins(job.size, job.nbins);
  let checksum = 0;
  for (const rot of job.rots) {
    const spots = kinematicSpots(ph, rot, {
      wavelength: job.wavelength,
      calibration: job.calibration,
      relrod: job.relrod,
      size: job.size,
    });
    const prof = integrate(renderPattern(spots, job.size, job.sigma), rb).subarray(13, 160);
    let mx = 1e-30;
    for (const v of prof) mx = Math.max(mx, v);
    for (const v of prof) checksum += v / mx;
  }
  return { seconds: (performance.now() - t0) / 1000, profiles: job.rots.length, checksum };
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!r.success) throw new Error(`${cmd}: ${dec.decode(r.stderr).trim().split("\n").pop()}`);
  return JSON.parse(dec.decode(r.stdout).trim().split("\n").pop()!) as {
    seconds: number;
    profiles: number;
    checksum: number;
  };
}

if (Deno.args[0] === "--child") {
  console.log(JSON.stringify(simulate(JSON.parse(Deno.readTextFileSync(Deno.args[1])))));
  Deno.exit(0);
}
const prefix = Deno.args[0] ?? "";
if ("diffsims_simulate_profiles_per_s".startsWith(prefix)) {
  const ph = preparePhase(parseCif(DEMO_CIFS.cspbbr3, "cspbbr3.cif"), "cspbbr3", "lobato");
  const rng = new SimRng(3);
  const rots = Array.from({ length: N }, () => randomRotation(rng));
  const dir = await Deno.makeTempDir({ prefix: "lumen_bench_diffsims_" });
  const files = [0, 1].map((h) => {
    const job: Job = {
      basis: ph.basis,
      atoms: ph.atoms,
      rots: rots.slice((h * N) / 2, ((h + 1) * N) / 2),
      wavelength: electronWavelength(200),
      calibration: CAL,
      relrod: RELROD,
      size: SIZE,
      sigma: SIGMA,
      nbins: NBINS,
    };
    const f = `${dir}/half${h}.json`;
    Deno.writeTextFileSync(f, JSON.stringify(job));
    return f;
  });
  const self = new URL(import.meta.url).pathname;
  const ours = await Promise.all(
    files.map((f) => run("deno", ["run", "--quiet", "--allow-read", self, "--child", f])),
  );
  let peer: typeof ours | null = null, peerError: string | undefined;
  try {
    peer = await Promise.all(
      files.map((f) =>
        run("/usr/bin/python3", [`${HERE}peers/diffsims_simulate.py`, f], {
          OMP_NUM_THREADS: "1",
          OPENBLAS_NUM_THREADS: "1",
        })
      ),
    );
  } catch (e) {
    peerError = (e as Error).message.slice(0, 300);
    console.error(`peer failed: ${peerError}`);
  }
  await Deno.remove(dir, { recursive: true });
  const rate = (r: typeof ours) => N / Math.max(...r.map((x) => x.seconds));
  const o = rate(ours), p = peer ? rate(peer) : null;
  const sum = (r: typeof ours) => r.reduce((a, x) => a + x.checksum, 0);
  console.log(JSON.stringify({
    bench: "diffsims_simulate_profiles_per_s",
    unit: "profiles/s",
    ours: o,
    peer: p,
    ratio: p ? o / p : null,
    profiles: N,
    processes: 2,
    checksum_rel_diff: peer ? Math.abs(sum(ours) - sum(peer)) / sum(peer) : null,
    ...(peerError ? { peer_error: peerError } : {}),
  }));
}
