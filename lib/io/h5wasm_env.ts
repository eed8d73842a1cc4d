/**
 * Keeps h5wasm's start-up from reading the whole environment.
 *
 * h5wasm's Emscripten module starts as soon as `npm:h5wasm/node` is imported, and its start-up
 * copies every environment variable (`for (x in process.env)`), which in Deno needs unscoped
 * `--allow-env`. It starts asynchronously, whether or not the tool ever opens an HDF5 file, so
 * hiding the environment when an HDF5 file is first opened is too late for a tool that reads
 * something else (inspect on a YAML file failed after it had printed its answer).
 *
 * This module is imported by lib/deps.ts before h5wasm (ES modules run in import order): unless
 * unscoped env access is granted, it puts an empty object in place of `process.env` at once;
 * {@link restoreEnvAfter} puts the real one back when h5wasm's start-up has settled. HDF5 reads
 * no environment variable for plain file access, so tools need no `--allow-env` for it.
 *
 * @example
 * ```ts
 * import { restoreEnvAfter } from "./h5wasm_env.ts"; // first
 * import h5wasm from "npm:h5wasm@0.10.3/node";
 * restoreEnvAfter(h5wasm.ready);
 * ```
 * @module
 */
import process from "node:process";

let saved: PropertyDescriptor | undefined;
let hidden = false;

function hide(): void {
  let granted = false;
  try {
    granted = Deno.permissions.querySync({ name: "env" }).state === "granted";
  } catch {
    granted = false;
  }
  if (granted) return;
  saved = Object.getOwnPropertyDescriptor(process, "env");
  try {
    Object.defineProperty(process, "env", { value: {}, configurable: true, writable: true });
    hidden = true;
  } catch {
    // a runtime that forbids it: h5wasm then asks for env access as before
  }
}

hide();

/**
 * True while `process.env` is hidden (h5wasm has not finished starting).
 *
 * @example
 * ```ts
 * if (envHidden()) console.log("h5wasm is still starting");
 * ```
 */
export function envHidden(): boolean {
  return hidden;
}

/**
 * Puts the real `process.env` back once `ready` settles (resolves or rejects).
 *
 * @example
 * ```ts
 * restoreEnvAfter(Promise.resolve());
 * ```
 */
export function restoreEnvAfter(ready: Promise<unknown>): void {
  const restore = () => {
    if (!hidden) return;
    hidden = false;
    if (saved) Object.defineProperty(process, "env", saved);
    else delete (process as { env?: unknown }).env;
  };
  ready.then(restore, restore);
}
