/**
 * SEAMLeSS EM alignment pipeline (issue 11): stack sampling so far.
 *
 * @module
 */
export * from "./gen_stack.ts";
