import assert from "node:assert/strict";
import { demoArgv } from "../../lib/run/demo.ts";
import { defineTool, parseFlags } from "../../lib/run/flags.ts";

Deno.test("demoArgv: long flags in order, bare booleans, lists as argparse's nargs; parseFlags reads them back", () => {
  const argv = demoArgv({
    mode: "patch",
    "patch-size": "128,64",
    sinograms: [1000, 1500],
    quiet: true,
    verbose: false,
    threads: undefined,
    seed: 0,
  });
  assert.deepEqual(argv, [
    "--mode",
    "patch",
    "--patch-size",
    "128,64",
    "--sinograms",
    "1000",
    "1500",
    "--quiet",
    "--seed",
    "0",
  ]);
  const meta = defineTool({
    name: "t",
    summary: "t",
    permissions: [],
    flags: {
      mode: { type: "string", help: "m" },
      seed: { type: "number", help: "s" },
      list: { type: "list", of: "int", help: "l" },
    },
  });
  const f = parseFlags(meta, demoArgv({ mode: "patch", seed: 3, list: [4, 5], quiet: true }));
  assert.deepEqual([f.mode, f.seed, f.list, f.quiet], ["patch", 3, [4, 5], true]);
});
