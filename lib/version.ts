/**
 * Lumen's version, embedded as a constant so that it is known however a module is loaded (from a
 * checkout, by URL, from a bundle). It equals `version` in deno.json (a test checks this).
 *
 * @module
 */

/** The Lumen version (semver), the same as deno.json `version`. */
export const VERSION = "0.1.0";
