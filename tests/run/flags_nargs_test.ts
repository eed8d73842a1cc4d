import assert from "node:assert/strict";
import { commandLine, defineTool, parseFlags, usage } from "../../lib/run/flags.ts";

const meta = defineTool({
  name: "t",
  summary: "argparse-style lists and aliases",
  permissions: [],
  flags: {
    hdfRoot: { type: "string", aliases: ["hdf-file"], help: "scan" },
    patchSize: { type: "list", of: "int", default: [1801, 256], help: "H W" },
    betas: { type: "list", of: "number", short: "b", default: [0.5, 0.999], help: "b1 b2" },
    phases: { type: "list", help: "names" },
    intensity: { type: "int", short: "I", aliases: ["I0"], help: "flux" },
    verbose: { type: "boolean", short: "v", help: "chatty" },
  },
});

Deno.test("flags: lists separated by spaces as argparse's nargs, commas, or repeated", () => {
  const f = parseFlags(meta, ["--patch-size", "1801", "256", "-b", "0.5", "0.99", "-v"]);
  assert.deepEqual(f.patchSize, [1801, 256]);
  assert.deepEqual(f.betas, [0.5, 0.99]);
  assert.equal(f.verbose, true);
  assert.deepEqual(parseFlags(meta, ["--patch-size", "800,80"]).patchSize, [800, 80]);
  // an inline value is one item (argparse too): what follows is a positional
  assert.throws(() => parseFlags(meta, ["--patch-size=800", "80"]), /80: unexpected argument/);
  // string lists take words up to the next flag (the tool has no positionals)
  assert.deepEqual(parseFlags(meta, ["--phases", "t6", "t7", "t8", "-v"]).phases, [
    "t6",
    "t7",
    "t8",
  ]);
  // numeric lists stop at the first non-number
  const withArgs = defineTool({ ...meta, args: [{ name: "FILE", help: "f", optional: true }] });
  const g = parseFlags(withArgs, ["--patch-size", "20", "32", "scan.nxs"]);
  assert.deepEqual([g.patchSize, g._], [[20, 32], ["scan.nxs"]]);
  assert.deepEqual(parseFlags(withArgs, ["--phases", "t6", "x.json"])._, ["x.json"]);
});

Deno.test("flags: aliases are the same flag; --help lists them; commandLine renders the values", () => {
  const f = parseFlags(meta, ["--hdf-file", "119617.nxs", "--I0", "40000"]);
  assert.equal(f.hdfRoot, "119617.nxs");
  assert.equal(f.intensity, 40000);
  assert.equal(parseFlags(meta, ["-I", "7"]).intensity, 7);
  assert.match(usage(meta), /--hdf-root, --hdf-file VALUE/);
  assert.equal(
    commandLine(
      meta,
      parseFlags(meta, ["--hdf-file", "a b.nxs", "--patch-size", "20", "32", "-v"]),
    ),
    "t --hdf-root 'a b.nxs' --patch-size 20 32 --verbose",
  );
  assert.throws(
    () => defineTool({ ...meta, flags: { x: { type: "int", aliases: ["bad alias"], help: "" } } }),
    /bad alias/,
  );
});
