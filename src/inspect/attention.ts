// Attention inspection: per layer/head probability maps for a text, per-head statistics over a corpus sample, head labels.
import type { Model } from '../engine/model.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { UserError } from '../util/errors.ts';

/** Attention probabilities of every layer and head over one text. */
export interface AttentionMaps {
  /** Token texts (the first is <|endoftext|> when it was prepended). */
  tokens: string[];
  ids: number[];
  nLayers: number;
  nHeads: number;
  /** [layer][head][query][key] probabilities (keys after the query are 0), rounded to 4 decimals. */
  probs: number[][][][];
}

export type HeadLabel = 'previous-token' | 'positional' | 'semantic' | 'mixed';

/** Statistics of one head, averaged over every query position after the first. */
export interface HeadStats {
  layer: number;
  head: number;
  /** Mean over queries of sum_j p_ij (i - j): how far back the head looks, in tokens. */
  meanDistance: number;
  /** Mean probability on the previous token (offset 1). */
  prevShare: number;
  /** Mean probability on the first position (the <|endoftext|> that starts each story: the "attention sink"). */
  firstShare: number;
  /** Mean probability on earlier occurrences of the query's own word, over queries whose word occurred before. */
  sameWordShare: number;
  /** What sameWordShare would be if the head attended uniformly over the keys it can see. */
  sameWordChance: number;
  /** Mean attention entropy (nats). */
  entropy: number;
  /** Mean entropy divided by log(keys visible): 0 = one key, 1 = uniform. */
  entropyNorm: number;
  /** Mean probability at offsets 0..OFFSETS-1 (0 = the query itself). */
  offsetMass: number[];
  /** The offset holding the most mass. */
  topOffset: number;
  label: HeadLabel;
  /** Which clause of the rule gave the label. */
  why: string;
}

export const OFFSETS = 8;

/** The labelling rule, in order; the first clause that holds names the head (thresholds exported for tests and docs). */
export const LABEL_RULE = {
  previousToken: 0.5,
  positionalFirst: 0.5,
  positionalOffset: 0.5,
  positionalLocal: 0.8,
  semanticShare: 0.2,
  semanticLift: 3,
  text: [
    'previous-token: prevShare >= 0.5',
    'positional: firstShare >= 0.5, or one fixed offset (other than 1) holds >= 0.5 of the mass, or offsets 0..3 together hold >= 0.8',
    'semantic: sameWordShare >= 0.2 and at least 3x its uniform-attention chance (attends to earlier mentions of the same word wherever they are)',
    'mixed: none of the above',
  ],
} as const;

/** Applies LABEL_RULE to a head's statistics. */
export function labelHead(s: Omit<HeadStats, 'label' | 'why'>): { label: HeadLabel; why: string } {
  const r = LABEL_RULE;
  if (s.prevShare >= r.previousToken) return { label: 'previous-token', why: `prevShare ${s.prevShare.toFixed(2)} >= ${r.previousToken}` };
  if (s.firstShare >= r.positionalFirst) return { label: 'positional', why: `firstShare ${s.firstShare.toFixed(2)} >= ${r.positionalFirst}` };
  const top = s.offsetMass[s.topOffset] ?? 0;
  if (s.topOffset !== 1 && top >= r.positionalOffset) return { label: 'positional', why: `offset ${s.topOffset} holds ${top.toFixed(2)} >= ${r.positionalOffset}` };
  const local = s.offsetMass.slice(0, 4).reduce((a, b) => a + b, 0);
  if (local >= r.positionalLocal) return { label: 'positional', why: `offsets 0..3 hold ${local.toFixed(2)} >= ${r.positionalLocal}` };
  if (s.sameWordShare >= r.semanticShare && s.sameWordShare >= r.semanticLift * s.sameWordChance) {
    return { label: 'semantic', why: `sameWordShare ${s.sameWordShare.toFixed(2)} >= ${r.semanticShare} and >= ${r.semanticLift}x chance ${s.sameWordChance.toFixed(3)}` };
  }
  return { label: 'mixed', why: 'no clause held' };
}

/** Options shared by the attention functions. */
export interface AttentionOptions {
  /** Start with <|endoftext|> as stories do in training (default true when the tokenizer has it). */
  prependEot?: boolean;
  /** At most this many tokens per text (default and maximum: the model's context). */
  maxTokens?: number;
}

/** Token ids of a text as the model sees it (with the leading <|endoftext|>), cut to the context. */
export function encodeForModel(model: Model, tokenizer: Tokenizer, text: string, opts: AttentionOptions = {}): number[] {
  const eot = tokenizer.eotId;
  const ids = tokenizer.encode(text);
  const all = (opts.prependEot ?? eot >= 0) && eot >= 0 ? [eot, ...ids] : ids;
  const max = Math.min(opts.maxTokens ?? model.cfg.maxSeqLen, model.cfg.maxSeqLen);
  return all.slice(0, max);
}

function forwardProbs(model: Model, ids: number[]): Array<{ data: Float32Array; T: number }> {
  const T = ids.length;
  model.forward(Int32Array.from(ids), null, 1, T);
  const acts = model.activations();
  const out: Array<{ data: Float32Array; T: number }> = [];
  for (let l = 0; l < model.cfg.nLayers; l++) out.push({ data: acts.get(`h.${l}.attn.probs`)!.data, T });
  return out;
}

/**
 * Attention probabilities of every layer and head for one text (one forward pass over the whole text).
 * @example const maps = attentionForText(model, tokenizer, 'Lily saw a cat. Lily smiled.'); maps.probs[0][3]
 */
export function attentionForText(model: Model, tokenizer: Tokenizer, text: string, opts: AttentionOptions = {}): AttentionMaps {
  const ids = encodeForModel(model, tokenizer, text, opts);
  if (ids.length === 0) throw new UserError('inspect attention: the text is empty');
  const NH = model.cfg.nHeads;
  const layers = forwardProbs(model, ids);
  const T = ids.length;
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  const probs = layers.map(({ data }) =>
    Array.from({ length: NH }, (_, h) => Array.from({ length: T }, (_, i) => Array.from(data.subarray((h * T + i) * T, (h * T + i) * T + T), round))),
  );
  return { tokens: ids.map((id) => tokenizer.decodeToken(id)), ids, nLayers: model.cfg.nLayers, nHeads: NH, probs };
}

/** Normalized word of a token for the same-word statistic ('' for punctuation, spaces and specials). */
export function wordKey(text: string): string {
  const w = text.trim().toLowerCase();
  return /[\p{L}\p{N}]/u.test(w) ? w : '';
}

/** Accumulates head statistics over texts; call add() per text, then result(). */
export class HeadStatsAccumulator {
  private readonly L: number;
  private readonly NH: number;
  private readonly n: Float64Array;
  private readonly dist: Float64Array;
  private readonly prev: Float64Array;
  private readonly first: Float64Array;
  private readonly ent: Float64Array;
  private readonly entNorm: Float64Array;
  private readonly sameN: Float64Array;
  private readonly same: Float64Array;
  private readonly chance: Float64Array;
  private readonly offsets: Float64Array;
  texts = 0;
  tokens = 0;

  constructor(
    private readonly model: Model,
    private readonly tokenizer: Tokenizer,
  ) {
    this.L = model.cfg.nLayers;
    this.NH = model.cfg.nHeads;
    const n = this.L * this.NH;
    this.n = new Float64Array(n);
    this.dist = new Float64Array(n);
    this.prev = new Float64Array(n);
    this.first = new Float64Array(n);
    this.ent = new Float64Array(n);
    this.entNorm = new Float64Array(n);
    this.sameN = new Float64Array(n);
    this.same = new Float64Array(n);
    this.chance = new Float64Array(n);
    this.offsets = new Float64Array(n * OFFSETS);
  }

  /** Runs the model over one text's ids and adds every query position (after the first) to the statistics. */
  addIds(ids: number[]): void {
    if (ids.length < 2) return;
    const words = ids.map((id) => wordKey(this.tokenizer.decodeToken(id)));
    this.addProbs(words, forwardProbs(this.model, ids).map((x) => x.data));
  }

  /**
   * Adds one text's attention: `words[i]` the normalized word of position i ('' = none), `layers[l]` the (NH,T,T)
   * probabilities of layer l. Public so the statistics can be checked on constructed attention patterns.
   */
  addProbs(words: string[], layers: Float32Array[]): void {
    const T = words.length;
    if (T < 2) return;
    const windows = this.model.cfg.windows;
    for (let l = 0; l < this.L; l++) {
      const data = layers[l]!;
      const win = windows[l]!;
      for (let h = 0; h < this.NH; h++) {
        const s = l * this.NH + h;
        for (let i = 1; i < T; i++) {
          const row = data.subarray((h * T + i) * T, (h * T + i) * T + T);
          const j0 = win > 0 ? Math.max(0, i - win + 1) : 0;
          let d = 0;
          let e = 0;
          let sameP = 0;
          let sameCount = 0;
          for (let j = j0; j <= i; j++) {
            const p = row[j]!;
            d += p * (i - j);
            if (p > 0) e -= p * Math.log(p);
            if (j < i && words[i] !== '' && words[j] === words[i]) {
              sameP += p;
              sameCount++;
            }
          }
          const visible = i - j0 + 1;
          this.n[s]!++;
          this.dist[s]! += d;
          this.prev[s]! += row[i - 1]!;
          this.first[s]! += row[0]!;
          this.ent[s]! += e;
          this.entNorm[s]! += visible > 1 ? e / Math.log(visible) : 0;
          for (let o = 0; o < OFFSETS && o <= i; o++) this.offsets[s * OFFSETS + o]! += row[i - o]!;
          if (sameCount > 0) {
            this.sameN[s]!++;
            this.same[s]! += sameP;
            this.chance[s]! += sameCount / visible;
          }
        }
      }
    }
    this.texts++;
    this.tokens += T;
  }

  /** Adds one text (encoded as the model sees it, cut to the context). */
  add(text: string, opts: AttentionOptions = {}): void {
    this.addIds(encodeForModel(this.model, this.tokenizer, text, opts));
  }

  /** Per-head statistics and labels (layer-major order). */
  result(): HeadStats[] {
    const out: HeadStats[] = [];
    for (let l = 0; l < this.L; l++) {
      for (let h = 0; h < this.NH; h++) {
        const s = l * this.NH + h;
        const n = this.n[s]! || 1;
        const sn = this.sameN[s]! || 1;
        const offsetMass = Array.from(this.offsets.subarray(s * OFFSETS, (s + 1) * OFFSETS), (v) => v / n);
        let topOffset = 0;
        for (let o = 1; o < OFFSETS; o++) if (offsetMass[o]! > offsetMass[topOffset]!) topOffset = o;
        const base = {
          layer: l,
          head: h,
          meanDistance: this.dist[s]! / n,
          prevShare: this.prev[s]! / n,
          firstShare: this.first[s]! / n,
          sameWordShare: this.same[s]! / sn,
          sameWordChance: this.chance[s]! / sn,
          entropy: this.ent[s]! / n,
          entropyNorm: this.entNorm[s]! / n,
          offsetMass,
          topOffset,
        };
        out.push({ ...base, ...labelHead(base) });
      }
    }
    return out;
  }
}

/** What `inspect attention` writes (and the dashboard reads from <run>/inspect/attention.json). */
export interface AttentionReport {
  format: 'tinystories-attention';
  version: 1;
  run: string;
  arch: string;
  nLayers: number;
  nHeads: number;
  /** Where the statistics came from: a data source, or 'text' for the one text given. */
  source: string;
  texts: number;
  tokens: number;
  rule: readonly string[];
  heads: HeadStats[];
  /** The maps of the text given with --text. */
  example?: AttentionMaps;
  createdAt: string;
}

/**
 * Per-head statistics over up to `maxDocs` texts.
 * @example const heads = await headStatsOver(model, tok, readDocuments('builtin:mini'), { maxDocs: 100 });
 */
export async function headStatsOver(
  model: Model,
  tokenizer: Tokenizer,
  texts: AsyncIterable<string> | Iterable<string>,
  opts: AttentionOptions & { maxDocs?: number; onText?: (n: number) => void } = {},
): Promise<{ heads: HeadStats[]; texts: number; tokens: number }> {
  const acc = new HeadStatsAccumulator(model, tokenizer);
  const max = opts.maxDocs ?? 200;
  for await (const t of texts) {
    if (acc.texts >= max) break;
    acc.add(t, opts);
    opts.onText?.(acc.texts);
  }
  if (acc.texts === 0) throw new UserError('inspect attention: no texts to compute head statistics from');
  return { heads: acc.result(), texts: acc.texts, tokens: acc.tokens };
}
