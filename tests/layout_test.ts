/**
 * The tree keeps its split: the generic core in lib/<folder>/ never imports a pipeline
 * (lib/pipelines/<name>/), each core folder has a mod.ts, and every pipeline's tools live in
 * tools/<name>/.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CORE = [
  "run",
  "io",
  "tensor",
  "nn",
  "optim",
  "data",
  "metrics",
  "viz",
  "tomo",
  "wasm",
  "dashboard",
];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...tsFiles(p));
    else if (e.isFile && e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** The relative module specifiers of a file, resolved to repository paths. */
function importsOf(file: string): string[] {
  const src = Deno.readTextFileSync(file);
  const re = /(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;
  return [...src.matchAll(re)].map((m) => normalize(join(dirname(file), m[1])));
}

Deno.test("layout: lib/'s generic folders import no pipeline folder", () => {
  const pipelines = join(ROOT, "lib", "pipelines");
  const bad: string[] = [];
  for (const core of CORE) {
    for (const f of tsFiles(join(ROOT, "lib", core))) {
      for (const i of importsOf(f)) {
        if (i.startsWith(pipelines + "/")) bad.push(`${f.slice(ROOT.length + 1)} → ${i}`);
      }
    }
  }
  assert.deepEqual(bad, []);
});

Deno.test("layout: every core folder and every pipeline folder has a mod.ts", () => {
  const dirs = [...CORE.map((c) => join(ROOT, "lib", c))];
  for (const e of Deno.readDirSync(join(ROOT, "lib", "pipelines"))) {
    if (e.isDirectory) dirs.push(join(ROOT, "lib", "pipelines", e.name));
  }
  for (const d of dirs) assert.ok(existsSync(join(d, "mod.ts")), `${d} has no mod.ts`);
  const libTop = [...Deno.readDirSync(join(ROOT, "lib"))].filter((e) => e.isDirectory)
    .map((e) => e.name);
  for (const d of libTop) {
    assert.ok([...CORE, "pipelines"].includes(d), `lib/${d}: neither core nor pipelines`);
  }
});

Deno.test("layout: a pipeline imports no other pipeline", () => {
  const root = join(ROOT, "lib", "pipelines");
  const bad: string[] = [];
  for (const e of Deno.readDirSync(root)) {
    if (!e.isDirectory) continue;
    const own = join(root, e.name) + "/";
    for (const f of tsFiles(join(root, e.name))) {
      for (const i of importsOf(f)) {
        if (i.startsWith(root + "/") && !i.startsWith(own)) bad.push(`${f} → ${i}`);
      }
    }
  }
  assert.deepEqual(bad, []);
});
