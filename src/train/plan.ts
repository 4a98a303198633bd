// Data-aware planning: how many passes over the training data a time budget may plan, and when to stop because
// validation loss has stopped improving (early stopping with patience).
//
// Why a cap on epochs: repeating data helps less each time, and a small corpus starts to overfit. A --minutes
// budget that would loop over a 60k-token corpus 37 times therefore plans at most `maxEpochs` passes, so the
// learning-rate schedule ends where training stops helping instead of being cut off by early stopping at a high
// learning rate. The default (20, in config.ts) comes from the learning check in BENCHMARKS.md: on the 0.85M-token
// shared sample the 260K llama's validation loss improved up to ~21 epochs (best at 22 of 30 minutes) and the 1M
// GPT-Neo was still improving at 14; early stopping catches a model that peaks sooner.

/**
 * The largest step count that stays within `maxEpochs` passes over `trainTokens` (null = no cap).
 * @example epochCapSteps(1_000_000, 4096, 4) // 977
 */
export function epochCapSteps(trainTokens: number, tokensPerStep: number, maxEpochs: number | null): number {
  if (maxEpochs === null) return Infinity;
  return Math.max(1, Math.floor((maxEpochs * trainTokens) / tokensPerStep));
}

/** Passes over the training data that `steps` optimizer steps make. */
export function epochsOf(steps: number, trainTokens: number, tokensPerStep: number): number {
  return trainTokens > 0 ? (steps * tokensPerStep) / trainTokens : 0;
}

/**
 * Validations since the best one: with validation every `valEvery` steps, the validations in (bestStep, step].
 * A pure function of the checkpointed state, so a resumed run stops exactly where an uninterrupted one would.
 */
export function validationsSinceBest(step: number, bestStep: number | null, valEvery: number): number {
  if (bestStep === null || valEvery <= 0) return 0;
  return Math.floor(step / valEvery) - Math.floor(bestStep / valEvery);
}

/**
 * Whether to stop early: `patience` validations in a row without a new best validation loss (patience 0 = never).
 * @example shouldStopEarly(1000, 500, 100, 5) // true: five validations (600..1000) without a better loss
 */
export function shouldStopEarly(step: number, bestStep: number | null, valEvery: number, patience: number): boolean {
  return patience > 0 && validationsSinceBest(step, bestStep, valEvery) >= patience;
}
