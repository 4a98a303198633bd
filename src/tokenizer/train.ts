// Byte-level BPE training: a streamed pre-token frequency table, then merges driven by incremental pair counts.
import { check } from '../util/errors.ts';
import { BYTE_CHARS, splitPretokens } from './pretokenize.ts';
import { Tokenizer } from './tokenizer.ts';

export interface TrainProgress {
  phase: 'count' | 'merge';
  /** count: documents read; merge: merges made. */
  done: number;
  /** merge: merges wanted. */
  total?: number;
  /** count: UTF-16 characters read so far. */
  chars?: number;
  /** count: distinct pre-tokens so far. */
  distinct?: number;
}

export interface TrainOptions {
  /** Final vocabulary size including the 256 byte tokens and the special tokens. */
  vocabSize: number;
  /** Default ['<|endoftext|>']; they get the last ids. */
  specialTokens?: string[];
  /** Stop when the most frequent pair occurs fewer times than this (default 2). */
  minFrequency?: number;
  onProgress?: (p: TrainProgress) => void;
}

/**
 * Counts pre-tokens of a stream of documents: memory grows with the number of distinct pre-tokens, not the corpus.
 * Special tokens inside the text are cut out (never learned); text is NFC-normalized first.
 */
export async function countPretokens(
  docs: AsyncIterable<string> | Iterable<string>,
  specialTokens: string[],
  onProgress?: (p: TrainProgress) => void,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let ndocs = 0;
  let chars = 0;
  const add = (text: string) => {
    const t = text.normalize('NFC');
    splitPretokens(t, (s, e) => {
      const piece = t.slice(s, e);
      counts.set(piece, (counts.get(piece) ?? 0) + 1);
    });
  };
  for await (const doc of docs as AsyncIterable<string>) {
    let parts = [doc];
    for (const sp of specialTokens) parts = parts.flatMap((p) => p.split(sp));
    for (const p of parts) if (p.length > 0) add(p);
    ndocs++;
    chars += doc.length;
    if (onProgress && ndocs % 256 === 0) onProgress({ phase: 'count', done: ndocs, chars, distinct: counts.size });
  }
  onProgress?.({ phase: 'count', done: ndocs, chars, distinct: counts.size });
  return counts;
}

/**
 * Trains a byte-level BPE tokenizer (GPT-2 style, NFC) whose tokenizer.json Hugging Face libraries load.
 * Ties between equally frequent pairs go to the pair with the smaller (left id, right id), so training is
 * deterministic. Ids: 0..255 are the bytes, then merges in order, then the special tokens.
 * @example const tok = await trainBpe(['Once upon a time...'], { vocabSize: 512 });
 */
export async function trainBpe(docs: AsyncIterable<string> | Iterable<string>, opts: TrainOptions): Promise<Tokenizer> {
  const specials = opts.specialTokens ?? ['<|endoftext|>'];
  check(Number.isInteger(opts.vocabSize), `vocab size must be an integer, got ${opts.vocabSize}`);
  check(
    opts.vocabSize >= 256 + specials.length,
    `vocab size must be at least ${256 + specials.length} (256 bytes + ${specials.length} special tokens), got ${opts.vocabSize}`,
  );
  const counts = await countPretokens(docs, specials, opts.onProgress);
  return trainFromCounts(counts, opts);
}

/** The merge phase of trainBpe on an existing pre-token frequency table. */
export function trainFromCounts(counts: Map<string, number>, opts: TrainOptions): Tokenizer {
  const specials = opts.specialTokens ?? ['<|endoftext|>'];
  const minFrequency = opts.minFrequency ?? 2;
  const target = opts.vocabSize - specials.length; // non-special tokens wanted
  const K = opts.vocabSize; // pair key = left * K + right (every id < K)

  // words: the distinct pre-tokens as byte-id sequences, laid out in one array
  const enc = new TextEncoder();
  const entries = [...counts.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const nWords = entries.length;
  const off = new Int32Array(nWords);
  const len = new Int32Array(nWords);
  const freq = new Float64Array(nWords);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let w = 0; w < nWords; w++) {
    const b = enc.encode(entries[w]![0]);
    chunks.push(b);
    off[w] = total;
    len[w] = b.length;
    freq[w] = entries[w]![1];
    total += b.length;
  }
  const sym = new Int32Array(total);
  for (let w = 0; w < nWords; w++) sym.set(chunks[w]!, off[w]!);
  chunks.length = 0;

  const tokens: string[] = BYTE_CHARS.slice();
  const tokenIds = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const merges: number[] = [];

  const pairCount = new Map<number, number>();
  const where = new Map<number, number[]>();
  const addWhere = (key: number, w: number) => {
    let list = where.get(key);
    if (!list) where.set(key, (list = []));
    if (list[list.length - 1] !== w) list.push(w);
  };
  for (let w = 0; w < nWords; w++) {
    const o = off[w]!;
    for (let i = 0; i + 1 < len[w]!; i++) {
      const key = sym[o + i]! * K + sym[o + i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + freq[w]!);
      addWhere(key, w);
    }
  }

  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);

  const wanted = Math.max(0, target - 256);
  const changed = new Set<number>();
  const bump = (key: number, delta: number) => {
    const c = (pairCount.get(key) ?? 0) + delta;
    if (c <= 0) pairCount.delete(key);
    else pairCount.set(key, c);
  };
  while (tokens.length < target && heap.size > 0) {
    const top = heap.pop();
    const actual = pairCount.get(top.key) ?? 0;
    if (actual !== top.count) {
      if (actual > 0) heap.push(actual, top.key); // stale entry: requeue with the current count
      continue;
    }
    if (actual < minFrequency) break;
    const a = Math.floor(top.key / K);
    const b = top.key - a * K;
    const str = tokens[a]! + tokens[b]!;
    let c = tokenIds.get(str);
    if (c === undefined) {
      c = tokens.length;
      tokens.push(str);
      tokenIds.set(str, c);
    }
    merges.push(a, b);
    changed.clear();
    for (const w of where.get(top.key) ?? []) {
      const o = off[w]!;
      let n = len[w]!;
      const f = freq[w]!;
      for (let i = 0; i + 1 < n; i++) {
        if (sym[o + i] !== a || sym[o + i + 1] !== b) continue;
        if (i > 0) {
          const x = sym[o + i - 1]!;
          bump(x * K + a, -f);
          const nk = x * K + c;
          bump(nk, f);
          changed.add(nk);
          addWhere(nk, w);
        }
        if (i + 2 < n) {
          const y = sym[o + i + 2]!;
          bump(b * K + y, -f);
          const nk = c * K + y;
          bump(nk, f);
          changed.add(nk);
          addWhere(nk, w);
        }
        sym[o + i] = c;
        sym.copyWithin(o + i + 1, o + i + 2, o + n);
        n--;
      }
      len[w] = n;
    }
    pairCount.delete(top.key);
    where.delete(top.key);
    for (const key of changed) {
      const cnt = pairCount.get(key);
      if (cnt !== undefined && cnt > 0) heap.push(cnt, key);
    }
    if (opts.onProgress && merges.length % 64 === 0) {
      opts.onProgress({ phase: 'merge', done: merges.length / 2, total: wanted });
    }
  }
  opts.onProgress?.({ phase: 'merge', done: merges.length / 2, total: wanted });

  const specialList = specials.map((content, i) => ({ id: tokens.length + i, content }));
  return new Tokenizer({
    tokens: [...tokens, ...specials],
    merges: Int32Array.from(merges),
    specials: specialList,
    normalizer: 'NFC',
  });
}

/** Max-heap of (count, pair key): highest count first, then the smaller key. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.counts.length;
  }
  private before(c1: number, k1: number, c2: number, k2: number): boolean {
    return c1 > c2 || (c1 === c2 && k1 < k2);
  }
  push(count: number, key: number): void {
    const cs = this.counts;
    const ks = this.keys;
    let i = cs.length;
    cs.push(count);
    ks.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(count, key, cs[p]!, ks[p]!)) break;
      cs[i] = cs[p]!;
      ks[i] = ks[p]!;
      i = p;
    }
    cs[i] = count;
    ks[i] = key;
  }
  pop(): { count: number; key: number } {
    const cs = this.counts;
    const ks = this.keys;
    const top = { count: cs[0]!, key: ks[0]! };
    const lc = cs.pop()!;
    const lk = ks.pop()!;
    const n = cs.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const m = r < n && this.before(cs[r]!, ks[r]!, cs[l]!, ks[l]!) ? r : l;
        if (!this.before(cs[m]!, ks[m]!, lc, lk)) break;
        cs[i] = cs[m]!;
        ks[i] = ks[m]!;
        i = m;
      }
      cs[i] = lc;
      ks[i] = lk;
    }
    return top;
  }
}
