// The TinyStories paper's vocabulary restriction: keep the K most frequent tokens of a base tokenizer on a corpus.
import { check } from '../util/errors.ts';
import { Tokenizer } from './tokenizer.ts';

export interface TopKOptions {
  /** Size of the restricted vocabulary, special tokens and the fallback token included. */
  k: number;
  /** Text of the id every dropped token maps to (default `<|unk|>`). */
  fallback?: string;
  onProgress?: (docs: number) => void;
}

export interface TopKResult {
  tokenizer: Tokenizer;
  /** Share of the corpus' tokens that keep their own id (0..1). */
  coverage: number;
  /** Tokens counted in the corpus. */
  corpusTokens: number;
  /** Distinct base tokens seen in the corpus. */
  distinctSeen: number;
}

/**
 * Counts base-token frequencies over `docs`, keeps every special token plus the most frequent others (ties: the
 * smaller base id), and maps the rest to one fallback id (the last id, K-1). New ids follow base-id order.
 * @example const { tokenizer, coverage } = await restrictToTopK(loadTokenizer('gpt-neo/'), readDocuments(src), { k: 10000 });
 */
export async function restrictToTopK(
  base: Tokenizer,
  docs: AsyncIterable<string> | Iterable<string>,
  opts: TopKOptions,
): Promise<TopKResult> {
  check(!base.data.remap, 'the base tokenizer is already restricted to top-K; start from the full tokenizer');
  const specials = base.data.specials.map((s) => s.id);
  const k = opts.k;
  check(Number.isInteger(k) && k >= specials.length + 2, `K must be an integer ≥ ${specials.length + 2}, got ${k}`);
  check(k <= base.vocabSize, `K (${k}) is larger than the base vocabulary (${base.vocabSize})`);
  const counts = new Float64Array(base.vocabSize);
  const ids: number[] = [];
  let n = 0;
  for await (const doc of docs as AsyncIterable<string>) {
    ids.length = 0;
    base.encodeInto(doc, ids);
    for (const id of ids) counts[id]!++;
    if (++n % 1000 === 0) opts.onProgress?.(n);
  }
  const specialSet = new Set(specials);
  const order: number[] = [];
  let total = 0;
  let distinct = 0;
  for (let id = 0; id < counts.length; id++) {
    total += counts[id]!;
    if (counts[id]! > 0) distinct++;
    if (!specialSet.has(id)) order.push(id);
  }
  order.sort((a, b) => counts[b]! - counts[a]! || a - b);
  const kept = [...specials, ...order.slice(0, k - specials.length - 1)].sort((a, b) => a - b);
  let keptCount = 0;
  for (const id of kept) keptCount += counts[id]!;
  const coverage = total > 0 ? keptCount / total : 1;
  const tokenizer = new Tokenizer({
    ...base.data,
    remap: {
      newToBase: Int32Array.from([...kept, -1]),
      fallbackId: kept.length,
      fallbackContent: opts.fallback ?? '<|unk|>',
      coverage,
    },
  });
  return { tokenizer, coverage, corpusTokens: total, distinctSeen: distinct };
}
