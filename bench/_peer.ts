/**
 * Runs a Python peer of a benchmark (`bench/peers/<script>`) with /usr/bin/python3 and
 * OMP_NUM_THREADS=2, and returns the JSON object of its last stdout line, or the reason it failed
 * (the last two stderr lines, also printed on stderr, so a failed peer is never silently null).
 *
 * @example
 * ```ts
 * import { runPeer } from "./_peer.ts";
 * const r = await runPeer("nsw_unet.py", ["step", "32"]);
 * if ("error" in r) console.log(r.error); else console.log(r.out.best);
 * ```
 * @module
 */

const HERE = decodeURIComponent(new URL(".", import.meta.url).pathname);

/** A peer's parsed last line, or why there is none. */
export type PeerResult = { out: Record<string, number> } | { error: string };

/** Runs `bench/peers/<script> ...args` and parses its last stdout line as JSON. */
export async function runPeer(script: string, args: string[]): Promise<PeerResult> {
  const r = await new Deno.Command("/usr/bin/python3", {
    args: [`${HERE}peers/${script}`, ...args],
    env: { OMP_NUM_THREADS: "2" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!r.success) {
    const e = dec.decode(r.stderr).trim().split("\n").slice(-2).join(" | ").slice(0, 300);
    console.error(`peer ${script} failed: ${e}`);
    return { error: e };
  }
  try {
    return { out: JSON.parse(dec.decode(r.stdout).trim().split("\n").pop()!) };
  } catch (e) {
    const msg = `peer ${script}: its last line is not JSON (${(e as Error).message})`;
    console.error(msg);
    return { error: msg };
  }
}
