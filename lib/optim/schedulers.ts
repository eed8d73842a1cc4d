/**
 * Learning-rate schedulers with PyTorch 1.13's arithmetic (float64, the same formulas and order
 * of operations), so that a run here and in PyTorch change their learning rates on the same
 * steps to the same values.
 *
 * - {@link ReduceLROnPlateau}: `torch.optim.lr_scheduler.ReduceLROnPlateau`.
 * - {@link CosineAnnealingLR}: `torch.optim.lr_scheduler.CosineAnnealingLR` (its recursive form).
 *
 * Both save and restore their state (`stateDict` / `loadStateDict`), as plain JSON.
 *
 * @example
 * ```ts
 * const sched = new ReduceLROnPlateau(optimizer, { patience: 1 });
 * sched.step(validationLoss); // once per epoch
 * ```
 * @module
 */

/** What a scheduler needs of an optimiser: its parameter groups' learning rates. */
export interface HasParamGroups {
  paramGroups: { lr: number; initialLr?: number }[];
}

/** Options of {@link ReduceLROnPlateau} (PyTorch's names and defaults). */
export interface PlateauOptions {
  mode?: "min" | "max";
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: "rel" | "abs";
  cooldown?: number;
  /** One value, or one per parameter group. */
  minLr?: number | number[];
  eps?: number;
  /** Print a line when a learning rate is reduced (PyTorch's verbose). */
  verbose?: boolean;
}

/** The JSON state of a {@link ReduceLROnPlateau}. */
export interface PlateauState {
  kind: "ReduceLROnPlateau";
  best: number | null;
  numBadEpochs: number;
  cooldownCounter: number;
  lastEpoch: number;
  lrs: number[];
}

/** Reduces the learning rates by `factor` after `patience` epochs without improvement. */
export class ReduceLROnPlateau {
  readonly mode: "min" | "max";
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: "rel" | "abs";
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  readonly verbose: boolean;
  /** Best metric so far (±Infinity before the first step). */
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;

  constructor(readonly optimizer: HasParamGroups, o: PlateauOptions = {}) {
    this.factor = o.factor ?? 0.1;
    if (this.factor >= 1) throw new RangeError("ReduceLROnPlateau: factor should be < 1.0");
    this.mode = o.mode ?? "min";
    this.patience = o.patience ?? 10;
    this.threshold = o.threshold ?? 1e-4;
    this.thresholdMode = o.thresholdMode ?? "rel";
    this.cooldown = o.cooldown ?? 0;
    const n = optimizer.paramGroups.length;
    const m = o.minLr ?? 0;
    if (Array.isArray(m) && m.length !== n) {
      throw new RangeError(`ReduceLROnPlateau: expected ${n} min_lrs, got ${m.length}`);
    }
    this.minLrs = Array.isArray(m) ? m.slice() : new Array(n).fill(m);
    this.eps = o.eps ?? 1e-8;
    this.verbose = !!o.verbose;
    this.best = this.mode === "min" ? Infinity : -Infinity;
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === "min" && this.thresholdMode === "rel") return a < best * (1 - this.threshold);
    if (this.mode === "min") return a < best - this.threshold;
    if (this.thresholdMode === "rel") return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  /** Feeds one epoch's metric (e.g. the median validation loss). */
  step(metric: number): void {
    const current = Number(metric);
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const old = g.lr;
      const next = Math.max(old * this.factor, this.minLrs[i]);
      if (old - next > this.eps) {
        g.lr = next;
        if (this.verbose) {
          console.log(
            `Epoch ${this.lastEpoch}: reducing learning rate of group ${i} to ${
              next.toExponential(4)
            }.`,
          );
        }
      }
    });
  }

  /** The current learning rates. */
  get lrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): PlateauState {
    return {
      kind: "ReduceLROnPlateau",
      best: Number.isFinite(this.best) ? this.best : null,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
      lrs: this.lrs,
    };
  }

  loadStateDict(s: PlateauState): void {
    if (s.kind !== "ReduceLROnPlateau") {
      throw new TypeError(`not a ReduceLROnPlateau state: ${s.kind}`);
    }
    this.best = s.best ?? (this.mode === "min" ? Infinity : -Infinity);
    this.numBadEpochs = s.numBadEpochs;
    this.cooldownCounter = s.cooldownCounter;
    this.lastEpoch = s.lastEpoch;
    s.lrs.forEach((lr, i) => {
      if (this.optimizer.paramGroups[i]) this.optimizer.paramGroups[i].lr = lr;
    });
  }
}

/** Options of {@link CosineAnnealingLR}. */
export interface CosineOptions {
  /** Half period, in scheduler steps. */
  tMax: number;
  /** Lowest learning rate (default 0). */
  etaMin?: number;
}

/** The JSON state of a {@link CosineAnnealingLR}. */
export interface CosineState {
  kind: "CosineAnnealingLR";
  lastEpoch: number;
  stepCount: number;
  baseLrs: number[];
  lrs: number[];
}

/**
 * Cosine annealing from each group's initial learning rate to `etaMin` over `tMax` steps (and
 * back up, periodically, as PyTorch's does beyond tMax). Call `step()` after each epoch (or
 * optimiser step); construction sets the initial learning rates, as PyTorch's does.
 */
export class CosineAnnealingLR {
  readonly tMax: number;
  readonly etaMin: number;
  readonly baseLrs: number[];
  lastEpoch = 0;
  private stepCount = 1;

  constructor(readonly optimizer: HasParamGroups, o: CosineOptions) {
    if (!(o.tMax > 0)) throw new RangeError("CosineAnnealingLR: tMax must be > 0");
    this.tMax = o.tMax;
    this.etaMin = o.etaMin ?? 0;
    for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
  }

  private computeLr(): number[] {
    const e = this.lastEpoch, T = this.tMax, eta = this.etaMin;
    const groups = this.optimizer.paramGroups;
    if (e === 0) return groups.map((g) => g.lr);
    if ((e - 1 - T) % (2 * T) === 0) {
      return groups.map((g, i) => g.lr + (this.baseLrs[i] - eta) * (1 - Math.cos(Math.PI / T)) / 2);
    }
    return groups.map((g) =>
      (1 + Math.cos(Math.PI * e / T)) / (1 + Math.cos(Math.PI * (e - 1) / T)) * (g.lr - eta) + eta
    );
  }

  /** Advances one step and sets the groups' learning rates. */
  step(): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    const lrs = this.computeLr();
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = lrs[i]));
  }

  /** The closed form (what the recursion approximates): eta + (base − eta)(1 + cos(π e/T))/2. */
  closedForm(epoch = this.lastEpoch): number[] {
    return this.baseLrs.map((b) =>
      this.etaMin + (b - this.etaMin) * (1 + Math.cos(Math.PI * epoch / this.tMax)) / 2
    );
  }

  /** The current learning rates. */
  get lrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): CosineState {
    return {
      kind: "CosineAnnealingLR",
      lastEpoch: this.lastEpoch,
      stepCount: this.stepCount,
      baseLrs: this.baseLrs.slice(),
      lrs: this.lrs,
    };
  }

  loadStateDict(s: CosineState): void {
    if (s.kind !== "CosineAnnealingLR") {
      throw new TypeError(`not a CosineAnnealingLR state: ${s.kind}`);
    }
    this.lastEpoch = s.lastEpoch;
    this.stepCount = s.stepCount;
    s.baseLrs.forEach((b, i) => (this.baseLrs[i] = b));
    s.lrs.forEach((lr, i) => {
      if (this.optimizer.paramGroups[i]) this.optimizer.paramGroups[i].lr = lr;
    });
  }
}

/** Any scheduler's JSON state. */
export type SchedulerState = PlateauState | CosineState;
