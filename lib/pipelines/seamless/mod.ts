/**
 * SEAMLeSS EM alignment pipeline: stack sampling (gen_stack), the multiscale alignment network
 * (pyramid), its mask-weighted penalties, the training schedule and run, stack alignment with
 * the chunked Pearson measure, network lineage, and synthetic EM-like stacks.
 *
 * @module
 */
export * from "./gen_stack.ts";
export * from "./masks.ts";
export * from "./pyramid.ts";
export * from "./penalties.ts";
export * from "./schedule.ts";
export * from "./trainer.ts";
export * from "./train_run.ts";
export * from "./align.ts";
export * from "./cpc.ts";
export * from "./net_hist.ts";
export * from "./flags.ts";
export * from "./synth.ts";
export * from "./synth_score.ts";
export * from "./train_flags.ts";
