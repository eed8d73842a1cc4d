/**
 * Child process of tests/io/hostile_tar_test.ts: lists (or extracts, with a second argument)
 * a tar archive and prints the entries and the peak resident memory as one JSON line.
 *
 * @module
 */
import { extractTar, listTar } from "../../lib/io/tar.ts";

const [archive, dest] = Deno.args;
let peak = 0;
const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 20);
const entries = dest
  ? (await extractTar(archive, dest), [])
  : (await listTar(archive)).map((e) => [e.name, e.size]);
clearInterval(timer);
peak = Math.max(peak, Deno.memoryUsage().rss);
console.log(JSON.stringify({ entries, rss: peak }));
