/**
 * Optimisers (SGD with momentum, Adam, AdamW), learning-rate schedulers (ReduceLROnPlateau,
 * cosine annealing) and gradient clipping, with PyTorch 1.13's semantics.
 *
 * @module
 */
export * from "./optimizer.ts";
export * from "./sgd.ts";
export * from "./adam.ts";
export * from "./adamw.ts";
export * from "./schedulers.ts";
export * from "./clip.ts";
