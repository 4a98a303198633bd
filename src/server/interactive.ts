// The dashboard's interactive computations on a loaded model, with no Node imports (the static site runs them in a
// Web Worker): streamed generation with each token's probability, rank and alternatives, the guessing game's ranks
// per word, attention maps of a typed text, a search over a neuron report.
import { InferenceSession } from '../engine/inference.ts';
import type { Model } from '../engine/model.ts';
import { type AttentionMaps, type HeadStats, HeadStatsAccumulator, attentionForText, encodeForModel } from '../inspect/attention.ts';
import type { NeuronReport } from '../inspect/neurons.ts';
import type { Decoder } from '../sample/generate.ts';
import { type SamplingSettings, chooseToken, rankOf, softmax } from '../sample/processors.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { UserError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';

/** A model ready for the interactive pages, with idle KV-cache sessions (each generation takes one and returns it). */
export interface InteractiveModel {
  model: Model;
  tokenizer: Tokenizer;
  sessions: Decoder[];
  /** Makes a session when none is idle (e.g. a GPU decoder); default a CPU InferenceSession on the model's backend. */
  newSession?: () => Decoder;
}

/** Yields to the event loop between tokens (setImmediate on Node, a message tick in browsers). */
function nextTurn(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  return new Promise((r) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => r();
    ch.port2.postMessage(0);
  });
}

/** One streamed playground token. */
export interface PlaygroundToken {
  id: number;
  text: string;
  /** Probability under the raw logits. */
  prob: number;
  /** 0 = the model's favourite. */
  rank: number;
  /** The five most likely tokens at this step (raw logits). */
  alts: Array<{ text: string; prob: number }>;
}

export interface PlaygroundOptions extends SamplingSettings {
  maxTokens: number;
  seed: number;
}

function topAlternatives(probs: Float64Array, tokenizer: Tokenizer, n: number): Array<{ text: string; prob: number }> {
  const best: number[] = [];
  for (let i = 0; i < probs.length; i++) {
    if (best.length < n || probs[i]! > probs[best[best.length - 1]!]!) {
      best.push(i);
      best.sort((a, b) => probs[b]! - probs[a]!);
      if (best.length > n) best.pop();
    }
  }
  return best.map((i) => ({ text: i === tokenizer.eotId ? '<|endoftext|>' : tokenizer.decodeToken(i), prob: probs[i]! }));
}

/**
 * Streams a continuation of `prompt` token by token with each token's probability, rank and the top alternatives
 * (the sample module's generate() does not expose the distribution, so this loop reuses its processors).
 */
export async function* playground(m: InteractiveModel, prompt: string, o: PlaygroundOptions, signal?: AbortSignal): AsyncGenerator<PlaygroundToken, 'eot' | 'length' | 'aborted'> {
  const { model, tokenizer } = m;
  const eot = tokenizer.eotId;
  const ids = tokenizer.encode(prompt);
  const context = eot >= 0 ? [eot, ...ids] : ids;
  if (context.length === 0) throw new UserError('empty prompt and the tokenizer has no <|endoftext|> to start from');
  const session = m.sessions.pop() ?? m.newSession?.() ?? new InferenceSession(model);
  try {
    session.reset();
    const rng = new Rng(o.seed);
    const decoder = tokenizer.streamDecoder();
    let logits = await session.prefill(context);
    for (let n = 0; n < o.maxTokens; n++) {
      if (signal?.aborted) return 'aborted';
      const { token } = chooseToken(logits, context, o, rng);
      if (token === eot) return 'eot';
      const probs = softmax(logits);
      yield { id: token, text: decoder.push(token), prob: probs[token]!, rank: rankOf(logits, token), alts: topAlternatives(probs, tokenizer, 5) };
      context.push(token);
      if (n + 1 < o.maxTokens) logits = await session.step(token);
      await nextTurn();
    }
    return 'length';
  } finally {
    m.sessions.push(session);
  }
}

/** A held-out story for the guessing game, its words and the model's rank for each word. */
export interface GameStory {
  source: string;
  index: number;
  count: number;
  words: string[];
  /** Per word: the 1-based rank of the word's first token under the model (null where the context was full). */
  ranks: Array<number | null>;
  /** Per word: the model's three favourite next tokens. */
  guesses: string[][];
}

/** Splits a story into words and computes the model's rank for each (one forward pass over the story). */
export function gameStory(m: InteractiveModel, story: string, meta: { source: string; index: number; count: number }): GameStory {
  const { model, tokenizer } = m;
  const eot = tokenizer.eotId;
  const words: string[] = [];
  const starts: number[] = [];
  for (const match of story.matchAll(/\S+/g)) {
    words.push(match[0]);
    starts.push(match.index!);
  }
  const ids = tokenizer.encode(story);
  const ctx = eot >= 0 ? [eot, ...ids] : ids;
  const V = model.cfg.vocabSize;
  // Rank of ctx[p] for every p >= 1: windows of the model's context overlapping by half, so each prediction sees
  // at least half a context of history (one forward pass when the story fits).
  const T = Math.min(ctx.length, model.cfg.maxSeqLen);
  const half = Math.max(1, Math.floor(T / 2));
  const rankAt = new Array<number>(ctx.length).fill(0);
  const topAt: string[][] = new Array(ctx.length);
  for (let s = 0; ; s += half) {
    const end = Math.min(ctx.length, s + T);
    model.forward(Int32Array.from(ctx.slice(s, end)), null, 1, end - s);
    const logits = model.activations().get('logits')!.data;
    for (let p = s === 0 ? 1 : s + T - half; p < end; p++) {
      const row = logits.subarray((p - s - 1) * V, (p - s) * V);
      rankAt[p] = rankOf(row, ctx[p]!) + 1;
      topAt[p] = topAlternatives(softmax(row), tokenizer, 3).map((a) => a.text.trim());
    }
    if (end === ctx.length) break;
  }
  // character offset where each token starts (tokens carry their leading space)
  const tokStart: number[] = [];
  let off = 0;
  for (const id of ids) {
    tokStart.push(off);
    off += tokenizer.decodeToken(id).length;
  }
  const shift = eot >= 0 ? 1 : 0;
  const ranks: Array<number | null> = [];
  const guesses: string[][] = [];
  let t = 0;
  for (const st of starts) {
    // the token that covers the word's first character
    while (t + 1 < ids.length && tokStart[t + 1]! <= st) t++;
    const pos = t + shift; // position of this token in ctx
    if (pos < 1 || pos >= ctx.length) {
      ranks.push(null);
      guesses.push([]);
      continue;
    }
    ranks.push(rankAt[pos]!);
    guesses.push(topAt[pos] ?? []);
  }
  return { ...meta, words, ranks, guesses };
}

/** Attention maps of a typed text with per-head statistics over that text. */
export function attentionOf(m: InteractiveModel, text: string, maxTokens: number): { maps: AttentionMaps; heads: HeadStats[]; totalTokens: number } {
  const { model, tokenizer } = m;
  const acc = new HeadStatsAccumulator(model, tokenizer);
  acc.addIds(encodeForModel(model, tokenizer, text, { maxTokens }));
  const heads = acc.result();
  const totalTokens = tokenizer.encode(text).length + (tokenizer.eotId >= 0 ? 1 : 0);
  return { maps: attentionForText(model, tokenizer, text, { maxTokens }), heads, totalTokens };
}

/** A search of the Neurons page. */
export interface NeuronQuery {
  /** A word (matched in common words and top contexts) or a neuron number; '' = all. */
  q: string;
  layer: string | null;
  cls: string | null;
  /** 'quote': neurons whose top activations open quotations (the paper's "I"/"We" at a quote start) first. */
  sort: 'consistency' | 'quote';
  offset: number;
  limit: number;
}

/** One page of a neuron report's neurons matching a search, in ranking order. */
export function searchNeurons(report: NeuronReport, o: NeuronQuery) {
  const q = o.q.trim().toLowerCase();
  const order = o.sort === 'quote' ? [...report.ranking].sort((a, b) => report.neurons[b]!.quoteStartShare - report.neurons[a]!.quoteStartShare) : report.ranking;
  const hits = order.filter((i) => {
    const n = report.neurons[i]!;
    if (o.layer !== null && String(n.layer) !== o.layer) return false;
    if (o.cls !== null && n.wordClass !== o.cls) return false;
    if (!q) return true;
    if (/^\d+$/.test(q) && String(n.neuron) === q) return true;
    return n.commonWords.some((w) => w.word.toLowerCase().includes(q)) || n.top.some((t) => t.word.toLowerCase().includes(q));
  });
  return {
    arch: report.arch, source: report.source, tokens: report.tokens, topK: report.topK, layers: report.layers, hidden: report.hidden,
    total: hits.length, offset: o.offset, neurons: hits.slice(o.offset, o.offset + o.limit).map((i) => report.neurons[i]!),
  };
}
