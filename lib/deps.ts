/**
 * The one place where npm packages are imported, with exact versions.
 *
 * Tools also run by URL (`deno run https://…/tools/x.ts`), where the import map of deno.json does
 * not apply, so library code imports third-party packages only through this module, using full
 * `npm:` specifiers. The pins equal those in deno.json `imports` (a test checks this).
 *
 * @module
 */
export { default as h5wasm } from "npm:h5wasm@0.10.3/node";
export { default as UTIF } from "npm:utif@3.1.0";
export * as YAML from "npm:yaml@2.9.1";
export { default as jpegJs } from "npm:jpeg-js@0.4.4";
