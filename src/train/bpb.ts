// Bits per byte: a loss that compares across tokenizers (vocab 512, 4096 or GPT-2's 50k) because it is measured
// against the text, not the tokens.
//
// Definition (used everywhere a bpb is shown): for a scored token sequence, bpb = (sum of the cross-entropy of
// every predicted token, in nats) / (ln 2 × the number of UTF-8 bytes those predicted tokens decode to). Special
// tokens such as <|endoftext|> decode to no story text, so they count 0 bytes while the nats of predicting them
// (the model's cost of ending a story) are kept: the figure is the price, in bits, of each byte of story text.
import type { TokenSplit } from '../data/shards.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { Batch, validationStarts } from './batch.ts';

/**
 * Bits per byte from a total loss in nats and the UTF-8 bytes of the text it was measured on (NaN for no bytes).
 * @example bitsPerByte(2.0 * 1000, 4000) // 1000 tokens at 2 nats, 4 bytes each: 0.7213 bits per byte
 */
export function bitsPerByte(totalNats: number, bytes: number): number {
  return bytes > 0 ? totalNats / (Math.LN2 * bytes) : NaN;
}

/** The UTF-8 bytes each token id decodes to (special tokens: 0), indexed by id. */
export function tokenByteLengths(tokenizer: Tokenizer): Uint32Array {
  const out = new Uint32Array(tokenizer.vocabSize);
  const special = new Set(tokenizer.data.specials.map((s) => s.id));
  const remap = tokenizer.data.remap;
  for (let id = 0; id < out.length; id++) {
    const base = remap ? remap.newToBase[id]! : id;
    out[id] = special.has(base) ? 0 : tokenizer.decodeBytes([id]).length;
  }
  return out;
}

/** UTF-8 bytes of a run of token ids by a tokenByteLengths table (ids outside it, e.g. padding, count 0). */
export function textBytes(table: Uint32Array, ids: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < ids.length; i++) n += table[ids[i]!] ?? 0;
  return n;
}

/**
 * UTF-8 bytes of the targets in the fixed validation windows that validationLoss scores (the first
 * min(batches × B, ⌊(length − 1) / T⌋) windows of T + 1 tokens, in order), and how many tokens they hold.
 */
export function validationTextBytes(split: TokenSplit, B: number, T: number, batches: number, table: Uint32Array): { tokens: number; bytes: number } {
  const starts = validationStarts(split.length, B, T, batches);
  const batch = new Batch(1, T);
  let bytes = 0;
  for (const start of starts) {
    batch.fill(split, [start]);
    bytes += textBytes(table, batch.y);
  }
  return { tokens: starts.length * T, bytes };
}
