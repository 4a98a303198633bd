// Logits processors and the seeded sampler: the small pieces generation is assembled from (as transformers.js does).
import type { Rng } from '../util/rng.ts';

/** How to turn a row of logits into the next token. */
export interface SamplingSettings {
  /** 0 = greedy (argmax); otherwise logits are divided by it. */
  temperature: number;
  /** Keep only the k most likely tokens (0 = off). */
  topK: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 = off). */
  topP: number;
  /** > 1 discourages tokens already in the context (Keskar et al., as Hugging Face applies it); 1 = off. */
  repetitionPenalty: number;
}

export const defaultSampling: SamplingSettings = { temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1 };

/** In place: for each distinct token in `context`, a positive logit is divided by `penalty`, a negative one multiplied. */
export function applyRepetitionPenalty(logits: Float32Array, context: ArrayLike<number>, penalty: number): void {
  if (penalty === 1) return;
  const seen = new Set<number>();
  for (let i = 0; i < context.length; i++) {
    const t = context[i]!;
    if (seen.has(t) || t < 0 || t >= logits.length) continue;
    seen.add(t);
    logits[t] = logits[t]! > 0 ? logits[t]! / penalty : logits[t]! * penalty;
  }
}

/** In place: logits /= temperature (temperature > 0). */
export function applyTemperature(logits: Float32Array, temperature: number): void {
  if (temperature === 1) return;
  for (let i = 0; i < logits.length; i++) logits[i] = logits[i]! / temperature;
}

/** Softmax of logits in float64 (exactness matters more than speed for one row). */
export function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = logits[i] === -Infinity ? 0 : Math.exp(logits[i]! - max);
    p[i] = e;
    sum += e;
  }
  for (let i = 0; i < p.length; i++) p[i]! /= sum;
  return p;
}

/** Token ids sorted by descending probability; ties broken by lower id (stable and deterministic). */
function sortedIds(probs: Float64Array): Uint32Array {
  const ids = new Uint32Array(probs.length);
  for (let i = 0; i < ids.length; i++) ids[i] = i;
  ids.sort((a, b) => probs[b]! - probs[a]! || a - b);
  return ids;
}

/** In place: zero all but the k most likely tokens, then renormalize. */
export function applyTopK(probs: Float64Array, k: number): void {
  if (k <= 0 || k >= probs.length) return;
  const ids = sortedIds(probs);
  for (let r = k; r < ids.length; r++) probs[ids[r]!] = 0;
  normalize(probs);
}

/** In place: keep the smallest most-likely set whose mass reaches p (always at least one token), renormalize. */
export function applyTopP(probs: Float64Array, p: number): void {
  if (p >= 1) return;
  const ids = sortedIds(probs);
  let mass = 0;
  let r = 0;
  for (; r < ids.length; r++) {
    mass += probs[ids[r]!]!;
    if (mass >= p) {
      r++;
      break;
    }
  }
  for (; r < ids.length; r++) probs[ids[r]!] = 0;
  normalize(probs);
}

function normalize(p: Float64Array): void {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += p[i]!;
  for (let i = 0; i < p.length; i++) p[i]! /= s;
}

/** Index of the largest value (lowest index on ties). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/** Draws an index from a normalized distribution with one uniform number from `rng`. */
export function sampleIndex(probs: Float64Array, rng: Rng): number {
  const u = rng.next();
  let c = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! <= 0) continue;
    c += probs[i]!;
    last = i;
    if (u < c) return i;
  }
  return last; // rounding left u above the total mass
}

/** The rank (0 = most likely) of `token` among `logits`: how many tokens score strictly higher. */
export function rankOf(logits: Float32Array, token: number): number {
  const v = logits[token]!;
  let r = 0;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > v || (logits[i] === v && i < token)) r++;
  return r;
}

/**
 * Chooses the next token from raw logits: repetition penalty, temperature (0 = greedy), top-k, top-p, then a seeded
 * draw. `logits` is not modified. Returns the token and the processed distribution's probability of it.
 */
export function chooseToken(logits: Float32Array, context: ArrayLike<number>, s: SamplingSettings, rng: Rng): { token: number; sampledProb: number } {
  const work = Float32Array.from(logits);
  applyRepetitionPenalty(work, context, s.repetitionPenalty);
  if (s.temperature <= 0) return { token: argmax(work), sampledProb: 1 };
  applyTemperature(work, s.temperature);
  const probs = softmax(work);
  applyTopK(probs, s.topK);
  applyTopP(probs, s.topP);
  const token = sampleIndex(probs, rng);
  return { token, sampledProb: probs[token]! };
}
