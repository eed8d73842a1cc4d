/**
 * The one place where npm packages are imported, with exact versions.
 *
 * Tools also run by URL (`deno run https://…/tools/x.ts`), where the import map of deno.json does
 * not apply, so library code imports third-party packages only through this module, using full
 * `npm:` specifiers. The pins equal those in deno.json `imports` (a test checks this).
 *
 * @module
 */
// First: hides the environment from h5wasm's start-up, which otherwise needs unscoped --allow-env
// (see lib/io/h5wasm_env.ts); ES modules run in import order.
import { restoreEnvAfter } from "./io/h5wasm_env.ts";
import h5wasm from "npm:h5wasm@0.10.3/node";
restoreEnvAfter(h5wasm.ready);
export { h5wasm };
export { default as UTIF } from "npm:utif@3.1.0";
export * as YAML from "npm:yaml@2.9.1";
export { default as jpegJs } from "npm:jpeg-js@0.4.4";

/** The onnxruntime-web pin (kept in a variable: see {@link loadOnnxRuntime}). */
const ORT = "npm:onnxruntime-web@1.30.0";

/**
 * onnxruntime-web, loaded on first use (it is large, about 140 MB, and only ONNX inference needs
 * it): the plain build (wasm execution provider) and the `/webgpu` build (webgpu and wasm
 * providers; the plain build reports "webgpu backend not found"). The specifier is computed so
 * that Deno does not fetch the package up front for every tool run by URL.
 */
export const loadOnnxRuntime = (): Promise<typeof import("npm:onnxruntime-web@1.30.0")> =>
  import(ORT);
/** onnxruntime-web's WebGPU build; see {@link loadOnnxRuntime}. */
export const loadOnnxRuntimeWebGpu = (): Promise<
  typeof import("npm:onnxruntime-web@1.30.0/webgpu")
> => import(`${ORT}/webgpu`);
