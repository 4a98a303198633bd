// Neuron inspection: stream a corpus through the model and keep, per MLP neuron, its top-k activations with context.
//
// Memory is O(layers x hidden x k x context), independent of the corpus: each neuron owns k fixed slots (value +
// context token ids) and a min-heap of slot indices; a new activation enters only when it beats the heap's minimum,
// replacing the minimum's slot in place. Windows of T tokens are cut from the concatenated token stream (stories
// separated by <|endoftext|>, as in training) and run B at a time.
import type { Model } from '../engine/model.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { UserError } from '../util/errors.ts';
import { type WordClass, classifyWord, wordAround } from './word-class.ts';

export interface NeuronScanOptions {
  /** Layers to scan (default all). */
  layers?: number[];
  /** Activations kept per neuron (default 20). */
  topK?: number;
  /** Context tokens kept before and after the activating token (default 10 and 4). */
  before?: number;
  after?: number;
  /** Tokens per window (default min(128, maxSeqLen)). */
  seqLen?: number;
  /** Windows per forward pass (default 4). */
  batch?: number;
  /** Stop after this many tokens (default: the whole source). */
  maxTokens?: number;
  /** Called after each forward pass with the tokens scanned so far. */
  onProgress?: (tokens: number) => void;
}

/** One of a neuron's top activations. */
export interface TopActivation {
  act: number;
  /** The activating token's text. */
  token: string;
  /** Text before and after it (within the window). */
  before: string;
  after: string;
  /** The whole word the token is part of. */
  word: string;
  wordClass: WordClass;
  /** The token starts a quotation (after an opening quote): where the paper found "I"/"We" neurons. */
  quoteStart: boolean;
}

export interface NeuronSummary {
  layer: number;
  neuron: number;
  /** Mean activation over every scanned token. */
  mean: number;
  max: number;
  top: TopActivation[];
  /** Most common words among the top activations, with counts. */
  commonWords: Array<{ word: string; count: number }>;
  /** Most common activating tokens (the BPE pieces themselves), with counts. */
  commonTokens: Array<{ token: string; count: number }>;
  /** Share of each word class among the top activations. */
  classShares: Partial<Record<WordClass, number>>;
  /** The majority class (share >= 0.5), else 'mixed'. */
  wordClass: WordClass | 'mixed';
  /** max(share of the most common word, share of the most common class) among the top activations. */
  consistency: number;
  quoteStartShare: number;
}

/** What `inspect neurons` writes (and the dashboard reads from <run>/inspect/neurons.json). */
export interface NeuronReport {
  format: 'tinystories-neurons';
  version: 1;
  run: string;
  arch: string;
  source: string;
  layers: number[];
  hidden: number;
  topK: number;
  tokens: number;
  seconds: number;
  /** Layer-major, every neuron of the scanned layers. */
  neurons: NeuronSummary[];
  /** Indices into `neurons`, most consistent first. */
  ranking: number[];
  createdAt: string;
}

/** The bounded top-k state of every neuron of the scanned layers. */
export class NeuronHeaps {
  readonly n: number;
  readonly k: number;
  readonly width: number;
  /** Slot values (neuron-major, k per neuron). */
  readonly vals: Float32Array;
  /** Slot contexts: `width` token ids per slot, -1 = outside the window. */
  readonly ctx: Int32Array;
  /** Heap order of each neuron's slots (min at [0]). */
  readonly heap: Int32Array;
  readonly count: Int32Array;
  /** Per neuron, the value a new activation must beat (-Infinity until the heap is full). */
  readonly threshold: Float32Array;
  readonly sum: Float64Array;
  readonly maxv: Float32Array;

  constructor(neurons: number, k: number, width: number) {
    this.n = neurons;
    this.k = k;
    this.width = width;
    this.vals = new Float32Array(neurons * k);
    this.ctx = new Int32Array(neurons * k * width).fill(-1);
    this.heap = new Int32Array(neurons * k);
    this.count = new Int32Array(neurons);
    this.threshold = new Float32Array(neurons).fill(-Infinity);
    this.sum = new Float64Array(neurons);
    this.maxv = new Float32Array(neurons).fill(-Infinity);
  }

  /** Bytes held (constant for a given shape: the point of the design). */
  bytes(): number {
    return this.vals.byteLength + this.ctx.byteLength + this.heap.byteLength + this.count.byteLength + this.threshold.byteLength + this.sum.byteLength + this.maxv.byteLength;
  }

  /** Offers value v for neuron i; returns the slot to fill with context, or -1 when v does not enter the top k. */
  offer(i: number, v: number): number {
    const k = this.k;
    const base = i * k;
    const c = this.count[i]!;
    if (c < k) {
      // the new slot is slot c; sift it up
      const slot = base + c;
      this.vals[slot] = v;
      let pos = c;
      this.heap[base + pos] = slot;
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        const ps = this.heap[base + parent]!;
        if (this.vals[ps]! <= v) break;
        this.heap[base + pos] = ps;
        pos = parent;
      }
      this.heap[base + pos] = slot;
      this.count[i] = c + 1;
      if (c + 1 === k) this.threshold[i] = this.vals[this.heap[base]!]!;
      return slot;
    }
    if (!(v > this.threshold[i]!)) return -1;
    // replace the minimum's slot and sift it down
    const slot = this.heap[base]!;
    this.vals[slot] = v;
    let pos = 0;
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= k) break;
      const r = l + 1;
      let child = l;
      if (r < k && this.vals[this.heap[base + r]!]! < this.vals[this.heap[base + l]!]!) child = r;
      const cs = this.heap[base + child]!;
      if (this.vals[cs]! >= v) break;
      this.heap[base + pos] = cs;
      pos = child;
    }
    this.heap[base + pos] = slot;
    this.threshold[i] = this.vals[this.heap[base]!]!;
    return slot;
  }

  /** A neuron's kept slots, highest value first. */
  sorted(i: number): number[] {
    const base = i * this.k;
    const slots = Array.from({ length: this.count[i]! }, (_, j) => base + j);
    return slots.sort((a, b) => this.vals[b]! - this.vals[a]!);
  }
}

/** Streams token windows of length T from texts (each text preceded by <|endoftext|> when the tokenizer has one). */
async function* tokenWindows(tokenizer: Tokenizer, texts: AsyncIterable<string> | Iterable<string>, T: number): AsyncGenerator<Int32Array> {
  const eot = tokenizer.eotId;
  let buf: number[] = [];
  for await (const text of texts) {
    if (eot >= 0) buf.push(eot);
    for (const id of tokenizer.encode(text)) buf.push(id);
    while (buf.length >= T) {
      yield Int32Array.from(buf.slice(0, T));
      buf = buf.slice(T);
    }
  }
  if (buf.length > 1) yield Int32Array.from(buf);
}

/** Scan state: heaps plus the layer map; `scan` feeds it, `summarize` turns it into a report. */
export interface NeuronScan {
  heaps: NeuronHeaps;
  layers: number[];
  hidden: number;
  before: number;
  tokens: number;
  seconds: number;
}

/**
 * Streams `texts` through the model, keeping each neuron's top-k activations with context. Memory does not grow
 * with the corpus.
 * @example const scan = await scanNeurons(model, tok, readDocuments('data/valid.txt'), { topK: 20, maxTokens: 1e6 });
 */
export async function scanNeurons(model: Model, tokenizer: Tokenizer, texts: AsyncIterable<string> | Iterable<string>, opts: NeuronScanOptions = {}): Promise<NeuronScan> {
  const cfg = model.cfg;
  const layers = opts.layers ?? Array.from({ length: cfg.nLayers }, (_, l) => l);
  for (const l of layers) if (!(Number.isInteger(l) && l >= 0 && l < cfg.nLayers)) throw new UserError(`inspect neurons: --layer ${l} is outside 0..${cfg.nLayers - 1}`);
  const k = opts.topK ?? 20;
  if (!(Number.isInteger(k) && k >= 1)) throw new UserError(`inspect neurons: --top must be a positive integer, got ${k}`);
  const before = opts.before ?? 10;
  const after = opts.after ?? 4;
  const width = before + 1 + after;
  const T = Math.min(opts.seqLen ?? 128, cfg.maxSeqLen);
  const B = opts.batch ?? 4;
  const H = cfg.hidden;
  const heaps = new NeuronHeaps(layers.length * H, k, width);
  const maxTokens = opts.maxTokens ?? Infinity;
  const t0 = performance.now();
  let tokens = 0;
  const batch: Int32Array[] = [];
  const input = new Int32Array(B * T);

  const run = (wins: Int32Array[]) => {
    // windows of one forward share T; a short last window runs on its own
    const t = wins[0]!.length;
    const b = wins.length;
    for (let w = 0; w < b; w++) input.set(wins[w]!, w * t);
    model.forward(input, null, b, t);
    const acts = model.activations();
    for (let li = 0; li < layers.length; li++) {
      const a = acts.get(`h.${layers[li]}.mlp.act`)!.data;
      const n0 = li * H;
      for (let w = 0; w < b; w++) {
        const win = wins[w]!;
        for (let p = 0; p < t; p++) {
          const row = (w * t + p) * H;
          for (let h = 0; h < H; h++) {
            const v = a[row + h]!;
            const i = n0 + h;
            heaps.sum[i]! += v;
            if (v > heaps.maxv[i]!) heaps.maxv[i] = v;
            if (v <= heaps.threshold[i]!) continue;
            const slot = heaps.offer(i, v);
            if (slot < 0) continue;
            const c = slot * width;
            for (let q = 0; q < width; q++) {
              const src = p - before + q;
              heaps.ctx[c + q] = src >= 0 && src < t ? win[src]! : -1;
            }
          }
        }
      }
    }
    tokens += b * t;
    opts.onProgress?.(tokens);
  };

  for await (const win of tokenWindows(tokenizer, texts, T)) {
    if (tokens + batch.length * T >= maxTokens) break;
    if (win.length < T) {
      if (batch.length) run(batch.splice(0));
      run([win]);
      continue;
    }
    batch.push(win);
    if (batch.length === B) run(batch.splice(0));
    // let the event loop breathe (progress output, Ctrl-C)
    await new Promise<void>((r) => setImmediate(r));
  }
  if (batch.length) run(batch.splice(0));
  if (tokens === 0) throw new UserError('inspect neurons: the data gave no tokens to scan');
  return { heaps, layers, hidden: H, before, tokens, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Whether a token opens a quotation: it follows “, or a straight quote that the token hugs (`"I`); a straight quote
 * followed by a space-led token closes one (`!" Mia said`).
 */
export function opensQuote(before: string, token: string): boolean {
  if (/“$/.test(before)) return true;
  return /(^|[\s(\[:,])"$/.test(before) && token !== '' && !/^\s/.test(token);
}

function topEntries<K>(counts: Map<K, number>): Array<[K, number]> {
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
}

/** Turns a scan into per-neuron summaries (contexts decoded, words classed) and a consistency ranking. */
export function summarizeNeurons(model: Model, tokenizer: Tokenizer, scan: NeuronScan, meta: { run: string; source: string }): NeuronReport {
  const { heaps, layers, hidden, before } = scan;
  const width = heaps.width;
  const tokText = new Map<number, string>();
  const text = (id: number) => {
    let s = tokText.get(id);
    if (s === undefined) {
      s = id === tokenizer.eotId ? '\n' : tokenizer.decodeToken(id);
      tokText.set(id, s);
    }
    return s;
  };
  // pass 1: decode and class every kept activation
  const tops: TopActivation[][] = [];
  const names = new Set<string>();
  for (let i = 0; i < layers.length * hidden; i++) {
    const top: TopActivation[] = [];
    for (const slot of heaps.sorted(i)) {
      const ids = Array.from(heaps.ctx.subarray(slot * width, (slot + 1) * width));
      const strs = ids.map((id) => (id < 0 ? '' : text(id)));
      const w = wordAround(strs, before);
      const prevText = strs.slice(0, before).join('');
      const wordClass = classifyWord(w.word, w.sentenceStart, w.prevWord);
      if (wordClass === 'name') names.add(w.word);
      top.push({
        act: Math.round(heaps.vals[slot]! * 1e4) / 1e4,
        token: strs[before]!,
        before: strs.slice(0, before).join(''),
        after: strs.slice(before + 1).join(''),
        word: w.word,
        wordClass,
        quoteStart: opensQuote(prevText, strs[before]!),
      });
    }
    tops.push(top);
  }
  // pass 2: a word seen as a name mid-sentence is a name at a sentence start too ("Lily was..." after a period)
  for (const top of tops) for (const t of top) if (t.wordClass === 'noun' && names.has(t.word)) t.wordClass = 'name';
  const neurons: NeuronSummary[] = [];
  for (let li = 0; li < layers.length; li++) {
    for (let h = 0; h < hidden; h++) {
      const i = li * hidden + h;
      const top = tops[i]!;
      const words = new Map<string, number>();
      const toks = new Map<string, number>();
      const classes = new Map<WordClass, number>();
      let quotes = 0;
      for (const t of top) {
        const key = t.word.trim() || t.token;
        words.set(key, (words.get(key) ?? 0) + 1);
        toks.set(t.token, (toks.get(t.token) ?? 0) + 1);
        classes.set(t.wordClass, (classes.get(t.wordClass) ?? 0) + 1);
        if (t.quoteStart) quotes++;
      }
      const n = top.length || 1;
      const wordList = topEntries(words);
      const classList = topEntries(classes);
      const classShares: Partial<Record<WordClass, number>> = {};
      for (const [c, v] of classList) classShares[c] = v / n;
      const topClass = classList[0];
      const consistency = Math.max((wordList[0]?.[1] ?? 0) / n, (topClass?.[1] ?? 0) / n);
      neurons.push({
        layer: layers[li]!,
        neuron: h,
        mean: scan.tokens ? heaps.sum[i]! / scan.tokens : 0,
        max: heaps.maxv[i]!,
        top,
        commonWords: wordList.slice(0, 5).map(([word, count]) => ({ word, count })),
        commonTokens: topEntries(toks).slice(0, 5).map(([token, count]) => ({ token, count })),
        classShares,
        wordClass: topClass && topClass[1] / n >= 0.5 ? topClass[0] : 'mixed',
        consistency,
        quoteStartShare: quotes / n,
      });
    }
  }
  const ranking = neurons.map((_, i) => i).sort((a, b) => neurons[b]!.consistency - neurons[a]!.consistency || neurons[b]!.max - neurons[a]!.max);
  return {
    format: 'tinystories-neurons',
    version: 1,
    run: meta.run,
    arch: model.cfg.arch,
    source: meta.source,
    layers,
    hidden,
    topK: heaps.k,
    tokens: scan.tokens,
    seconds: scan.seconds,
    neurons,
    ranking,
    createdAt: new Date().toISOString(),
  };
}
