// generate(): text generation as an async iterator of tokens with their probability and rank (KV-cached).
import { InferenceSession } from '../engine/inference.ts';
import type { Model } from '../engine/model.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { UserError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { type SamplingSettings, chooseToken, defaultSampling, rankOf, softmax } from './processors.ts';

/** One generated token. */
export interface GeneratedToken {
  id: number;
  /** The text this token completes (may be '' while a multi-byte character is still partial). */
  text: string;
  /** The model's probability of this token (softmax of the raw logits, before any processor). */
  prob: number;
  /** Its rank under the raw logits: 0 = the model's most likely token. */
  rank: number;
  /** Its probability in the distribution actually sampled from (after penalty, temperature, top-k, top-p). */
  sampledProb: number;
}

export interface GenerateOptions extends Partial<SamplingSettings> {
  /** Stop after this many new tokens (default 256). */
  maxTokens?: number;
  /** Seed of the sampler (default 1337); ignored when `rng` is given. */
  seed?: number;
  /** A generator to draw from (its state advances). */
  rng?: Rng;
  /** Stop at <|endoftext|> without yielding it (default true). */
  stopAtEot?: boolean;
  /** Start the context with <|endoftext|> (how stories begin in training; default true when the tokenizer has it). */
  prependEot?: boolean;
  /** Reuse a KV-cache decoder (reset first) instead of allocating a CPU InferenceSession per call: e.g. a GpuDecoder. */
  session?: Decoder;
  /** Stop early when aborted. */
  signal?: AbortSignal;
}

/**
 * A KV-cache decoder generation runs on: the CPU InferenceSession (synchronous) or the WebGPU GpuDecoder (its logits
 * come back asynchronously). Both slide the same way when the context is full (keep the last half, re-prefill).
 */
export interface Decoder {
  /** Positions the cache holds. */
  readonly ctx: number;
  /** Empties the cache. */
  reset(): void;
  /** Appends tokens; the logits after the last one (valid until the next call). */
  prefill(tokens: ArrayLike<number>): Float32Array | Promise<Float32Array>;
  /** Appends one token; the next-token logits (valid until the next call). */
  step(token: number): Float32Array | Promise<Float32Array>;
}

/** Prompt tokens the model sees (with the leading <|endoftext|>), and how many of them fit its context window. */
export function promptFit(model: Model, tokenizer: Tokenizer, prompt: string): { tokens: number; window: number } {
  return { tokens: tokenizer.encode(prompt).length + (tokenizer.eotId >= 0 ? 1 : 0), window: model.cfg.maxSeqLen };
}

/**
 * Generates a continuation of `prompt`, yielding each new token as it is chosen (streaming). A prompt longer than the
 * context window is cut to its last window (see promptFit to tell the user).
 * @example
 * for await (const t of generate(model, tok, 'Once upon a time', { temperature: 0.8, topK: 40, seed: 1 })) {
 *   process.stdout.write(t.text);
 * }
 */
export async function* generate(model: Model, tokenizer: Tokenizer, prompt: string | number[], opts: GenerateOptions = {}): AsyncGenerator<GeneratedToken> {
  const s: SamplingSettings = {
    temperature: opts.temperature ?? defaultSampling.temperature,
    topK: opts.topK ?? defaultSampling.topK,
    topP: opts.topP ?? defaultSampling.topP,
    repetitionPenalty: opts.repetitionPenalty ?? defaultSampling.repetitionPenalty,
  };
  const maxTokens = opts.maxTokens ?? 256;
  const rng = opts.rng ?? new Rng(opts.seed ?? 1337);
  const eot = tokenizer.eotId;
  const ids = typeof prompt === 'string' ? tokenizer.encode(prompt) : prompt.slice();
  const context: number[] = (opts.prependEot ?? eot >= 0) && eot >= 0 ? [eot, ...ids] : ids;
  if (context.length === 0) throw new UserError('empty prompt and the tokenizer has no <|endoftext|> to start from: give a prompt (--prompt)');
  const session = opts.session ?? new InferenceSession(model);
  // Only the last context window of a longer prompt can reach the next token: keep just that (prefilling the rest
  // would slide the cache over and over for nothing; a 10,000-word prompt took half a minute). Callers say so.
  if (context.length > session.ctx) context.splice(0, context.length - session.ctx);
  session.reset();
  const decoder = tokenizer.streamDecoder(context[context.length - 1]);
  let logits = await session.prefill(context);
  for (let n = 0; n < maxTokens; n++) {
    if (opts.signal?.aborted) return;
    const { token, sampledProb } = chooseToken(logits, context, s, rng);
    if (token === eot && (opts.stopAtEot ?? true)) return;
    const probs = softmax(logits);
    const out: GeneratedToken = { id: token, text: decoder.push(token), prob: probs[token]!, rank: rankOf(logits, token), sampledProb };
    context.push(token);
    yield out;
    if (n + 1 < maxTokens) logits = await session.step(token);
    // Let the event loop run (stdout flushes, Ctrl-C) between tokens.
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** Generates and returns the whole text (the prompt not included). */
export async function generateText(model: Model, tokenizer: Tokenizer, prompt: string | number[], opts: GenerateOptions = {}): Promise<string> {
  let text = '';
  for await (const t of generate(model, tokenizer, prompt, opts)) text += t.text;
  return text;
}
