/**
 * A file that makes HDF5 loop, described in a long-lived process: the stalled work is stopped
 * for good. Deno's `Worker.terminate()` leaves a worker that is busy inside WebAssembly running
 * (its thread stays runnable for as long as the process lives), so where the process may run
 * Deno the HDF5 work runs in a child process, which is killed and reaped
 * (lib/io/describe/hdf5_process.ts). No timing: the test waits for the process to say it is
 * done, then lists its threads and children with `ps`.
 */
import assert from "node:assert/strict";
import { H5File } from "../../lib/io/hdf5.ts";
import { ROOT } from "../_helpers.ts";
import { writeLoopingNexus } from "../fixtures/hostile/make_hostile.ts";

/** Runs tests/io/_stall_child.ts on `files`; returns its lines and what `ps` shows in it. */
async function longLived(perms: string[], files: string[]) {
  const p = new Deno.Command("deno", {
    args: ["run", "--quiet", ...perms, `${ROOT}/tests/io/_stall_child.ts`, ...files],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("done\n")) {
    const r = await reader.read();
    if (r.done) break;
    out += r.value;
  }
  const ps = (args: string) =>
    new TextDecoder().decode(
      new Deno.Command("bash", { args: ["-c", `ps ${args} || true`] }).outputSync().stdout,
    ).trim().split("\n").filter(Boolean);
  const children = ps(`-o pid=,stat=,comm= --ppid ${p.pid}`);
  const threads = ps(`-L -o stat=,comm= -p ${p.pid}`);
  await p.stdin.close();
  reader.releaseLock();
  await p.stdout.cancel().catch(() => {});
  await p.status;
  return { lines: out.trim().split("\n"), children, threads };
}

Deno.test("hostile hdf5: a stalled HDF5 describe leaves nothing running in a long-lived process", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const loop = await writeLoopingNexus(`${dir}/loop.nxs`);
    const good = `${dir}/good.h5`;
    const f = await H5File.open(good, "w");
    f.write("/x", { dtype: "int32", shape: [3], data: new Int32Array([1, 2, 3]) });
    f.close();
    const r = await longLived(["--allow-read", "--allow-run=deno"], [loop, good]);
    assert.match(r.lines[0], /loop\.nxs: the HDF5 library made no progress for 5 s \(stopped\)/);
    assert.equal(r.lines[1], "ok 1", "the next file is described as before");
    assert.deepEqual(r.children, [], "the HDF5 child process was killed and reaped");
    const spinning = r.threads.filter((t) => /^R/.test(t) && /worker/.test(t));
    assert.deepEqual(spinning, [], r.threads.join("; "));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
