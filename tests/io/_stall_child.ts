/**
 * A long-lived process for tests/io/hostile_hdf5_stall_test.ts: describes each file named in its
 * arguments, prints one line per file (`ok N` with the tree's size, or the error line), then
 * `done`, and stays alive until its stdin closes, so that the test can look at what is still
 * running in it.
 *
 * @module
 */
import { describe } from "../../lib/io/describe/mod.ts";

for (const path of Deno.args) {
  try {
    const d = await describe(path) as unknown as { tree: unknown[] };
    console.log(`ok ${d.tree.length}`);
  } catch (e) {
    console.log((e as Error).message.split("\n")[0]);
  }
}
console.log("done");
await Deno.stdin.read(new Uint8Array(1));
