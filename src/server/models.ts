// Models behind the dashboard's interactive pages: a small cache, streamed generation with alternatives, the
// guessing game's held-out stories and ranks, attention for a typed text.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readDocuments } from '../data/read.ts';
import { HEADER_BYTES, HEADER_INTS, MANIFEST, SHARD_MAGIC, SHARD_VERSION, type ShardManifest } from '../data/shards.ts';
import type { Backend } from '../engine/backend.ts';
import { createRefBackend } from '../engine/ref/index.ts';
import { InferenceSession } from '../engine/inference.ts';
import type { Model } from '../engine/model.ts';
import { type AttentionMaps, type HeadStats, HeadStatsAccumulator, attentionForText, encodeForModel } from '../inspect/attention.ts';
import { loadRunModel } from '../sample/load.ts';
import { type SamplingSettings, chooseToken, rankOf, softmax } from '../sample/processors.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { Rng } from '../util/rng.ts';
import { HttpError } from './paths.ts';

interface Loaded {
  model: Model;
  tokenizer: Tokenizer;
  mtimeMs: number;
  /** Idle KV-cache sessions: each generation takes one (or makes one) and returns it, so concurrent streams never share a cache. */
  sessions: InferenceSession[];
}

/** Loaded models keyed by weights directory, reloaded when model.safetensors changes, at most `max` kept. */
export class ModelCache {
  private readonly cache = new Map<string, Loaded>();
  private readonly backend: Backend;

  constructor(
    private readonly max = 3,
    backend?: Backend,
  ) {
    this.backend = backend ?? createRefBackend();
  }

  get(dir: string): Loaded {
    const weights = join(dir, 'model.safetensors');
    if (!existsSync(weights)) throw new HttpError(404, `no model.safetensors in this run yet (training writes it at the first checkpoint)`);
    const mtimeMs = statSync(weights).mtimeMs;
    const hit = this.cache.get(dir);
    if (hit && hit.mtimeMs === mtimeMs) {
      this.cache.delete(dir);
      this.cache.set(dir, hit); // most recently used last
      return hit;
    }
    let loaded: Loaded;
    try {
      const { model, tokenizer } = loadRunModel(dir, this.backend);
      loaded = { model, tokenizer, mtimeMs, sessions: [] };
    } catch (e) {
      throw new HttpError(422, `cannot load the model: ${(e as Error).message.split('\n')[0]}`);
    }
    this.cache.set(dir, loaded);
    while (this.cache.size > this.max) this.cache.delete(this.cache.keys().next().value!);
    return loaded;
  }
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
export async function* playground(m: Loaded, prompt: string, o: PlaygroundOptions, signal?: AbortSignal): AsyncGenerator<PlaygroundToken, 'eot' | 'length' | 'aborted'> {
  const { model, tokenizer } = m;
  const eot = tokenizer.eotId;
  const ids = tokenizer.encode(prompt);
  const context = eot >= 0 ? [eot, ...ids] : ids;
  if (context.length === 0) throw new HttpError(400, 'empty prompt and the tokenizer has no <|endoftext|> to start from');
  const session = m.sessions.pop() ?? new InferenceSession(model);
  try {
    session.reset();
    const rng = new Rng(o.seed);
    const decoder = tokenizer.streamDecoder();
    let logits = session.prefill(context);
    for (let n = 0; n < o.maxTokens; n++) {
      if (signal?.aborted) return 'aborted';
      const { token } = chooseToken(logits, context, o, rng);
      if (token === eot) return 'eot';
      const probs = softmax(logits);
      yield { id: token, text: decoder.push(token), prob: probs[token]!, rank: rankOf(logits, token), alts: topAlternatives(probs, tokenizer, 5) };
      context.push(token);
      if (n + 1 < o.maxTokens) logits = session.step(token);
      await new Promise<void>((r) => setImmediate(r));
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

/**
 * The first `limit` documents of a run's first validation shard, reading only the bytes they occupy (the shard
 * format of src/data/shards.ts: a header, ndoc+1 uint32 offsets, then the tokens), so a run trained on the full
 * dataset costs the server kilobytes, not the gigabytes openShards would read.
 */
function readValDocs(shardDir: string, limit: number): { eotId: number; docs: number[][] } | null {
  const manifest = JSON.parse(readFileSync(join(shardDir, MANIFEST), 'utf8')) as ShardManifest;
  const entry = manifest.shards.filter((e) => e.split === 'val').sort((a, b) => a.index - b.index)[0];
  if (!entry) return null;
  const fd = openSync(join(shardDir, entry.file), 'r');
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    readSync(fd, header, 0, HEADER_BYTES, 0);
    const h = new Int32Array(header.buffer, header.byteOffset, HEADER_INTS);
    if (h[0] !== SHARD_MAGIC || h[1] !== SHARD_VERSION) return null;
    const bpt = h[2]!;
    const ndoc = h[4]!;
    const n = Math.min(limit, ndoc);
    const offBuf = Buffer.alloc((n + 1) * 4);
    readSync(fd, offBuf, 0, offBuf.length, HEADER_BYTES);
    const offsets = Array.from({ length: n + 1 }, (_, i) => offBuf.readUInt32LE(i * 4));
    const tokBase = HEADER_BYTES + (ndoc + 1) * 4;
    const tokBuf = Buffer.alloc(offsets[n]! * bpt);
    readSync(fd, tokBuf, 0, tokBuf.length, tokBase);
    const tok = (i: number) => (bpt === 2 ? tokBuf.readUInt16LE(i * 2) : tokBuf.readUInt32LE(i * 4));
    const docs = Array.from({ length: n }, (_, d) => Array.from({ length: offsets[d + 1]! - offsets[d]! }, (_, i) => tok(offsets[d]! + i)));
    return { eotId: manifest.eotId, docs };
  } finally {
    closeSync(fd);
  }
}

/** Held-out stories of a run: its validation split when the shards are readable, else the builtin mini corpus. */
export async function heldOutStories(runDir: string, tokenizer: Tokenizer, limit = 200): Promise<{ source: string; stories: string[] }> {
  try {
    const shardsRel = (JSON.parse(readFileSync(join(runDir, 'train_config.json'), 'utf8')) as { shards?: string }).shards;
    const val = shardsRel ? readValDocs(resolve(runDir, shardsRel), limit) : null;
    if (val) {
      const stories = val.docs.map((ids) => tokenizer.decode(ids.filter((t) => t !== val.eotId)).trim()).filter((t) => t.split(/\s+/).length >= 8);
      if (stories.length) return { source: 'validation split', stories };
    }
  } catch {
    // no readable shards: fall back below
  }
  const stories: string[] = [];
  for await (const d of readDocuments('builtin:mini')) {
    stories.push(d);
    if (stories.length >= limit) break;
  }
  return { source: 'builtin:mini (the run has no readable validation split)', stories: stories.reverse() };
}

/** Splits a story into words and computes the model's rank for each (one forward pass over the story). */
export function gameStory(m: Loaded, story: string, meta: { source: string; index: number; count: number }): GameStory {
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
export function attentionOf(m: Loaded, text: string, maxTokens: number): { maps: AttentionMaps; heads: HeadStats[]; totalTokens: number } {
  const { model, tokenizer } = m;
  const acc = new HeadStatsAccumulator(model, tokenizer);
  acc.addIds(encodeForModel(model, tokenizer, text, { maxTokens }));
  const heads = acc.result();
  const totalTokens = tokenizer.encode(text).length + (tokenizer.eotId >= 0 ? 1 : 0);
  return { maps: attentionForText(model, tokenizer, text, { maxTokens }), heads, totalTokens };
}
