// Decontamination against GSM8K test: word n-gram overlap (13 and 8 words) of normalized questions. The test
// side is indexed once as 64-bit n-gram hashes (two 32-bit rolling hashes in an open-addressing table); each
// candidate question is then checked in one pass over its words, so memory does not grow with the stream.
import { HashSet64 } from '../util/hash-set.ts';

/** Lowercases, unifies quotes/dashes (NFKC), keeps letters and digits as words; "1,000" stays one word ("1000"). */
export function normalizeQuestion(q: string): string[] {
  const s = q
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u201a\u201b\u2032]/g, "'")
    .replace(/(\d),(?=\d{3}\b)/g, '$1')
    .replace(/'s\b/g, 's');
  return s.match(/[\p{L}\p{N}]+(?:\.\d+)?/gu) ?? [];
}

function wordHash(w: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < w.length; i++) {
    h ^= w.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

const SEED_A = 0x811c9dc5;
const SEED_B = 0x9747b28c;
const MUL_A = 0x01000193;
const MUL_B = 0x5bd1e995;

/** The 64-bit hashes (hi, lo pairs) of every n-gram of `words`; a text shorter than n yields one hash of all of it. */
export function ngramHashes(words: string[], n: number): Array<[number, number]> {
  if (words.length === 0) return [];
  const k = Math.min(n, words.length);
  const ha = words.map((w) => wordHash(w, SEED_A));
  const hb = words.map((w) => wordHash(w, SEED_B));
  const out: Array<[number, number]> = [];
  for (let i = 0; i + k <= words.length; i++) {
    let a = k;
    let b = k * 31;
    for (let j = i; j < i + k; j++) {
      a = (Math.imul(a, MUL_A) + ha[j]!) >>> 0;
      b = (Math.imul(b ^ (b >>> 15), MUL_B) + hb[j]!) >>> 0;
    }
    out.push([a >>> 0, (b | 1) >>> 0]);
  }
  return out;
}

/** What one question overlaps with. */
export interface Overlap {
  /** Shares at least one 13-gram (or the configured long n) with a test question. */
  long: boolean;
  /** Shares at least one 8-gram (or the configured short n). */
  short: boolean;
}

/** The n-gram index of a reference set (GSM8K test questions). */
export class NgramIndex {
  readonly longSet = new HashSet64();
  readonly shortSet = new HashSet64();
  questions = 0;
  constructor(
    readonly nLong = 13,
    readonly nShort = 8,
  ) {}

  add(question: string): void {
    const words = normalizeQuestion(question);
    for (const [a, b] of ngramHashes(words, this.nLong)) this.longSet.add(a, b);
    for (const [a, b] of ngramHashes(words, this.nShort)) this.shortSet.add(a, b);
    this.questions++;
  }

  /** Which n-gram sizes of `question` occur in the index. A question shorter than n is compared whole. */
  check(question: string): Overlap {
    const words = normalizeQuestion(question);
    const hit = (set: HashSet64, n: number) => {
      for (const [a, b] of ngramHashes(words, n)) if (set.has(a, b)) return true;
      return false;
    };
    const short = hit(this.shortSet, this.nShort);
    // every 13-gram contains 8-grams, so no 8-gram hit means no 13-gram hit (for questions of 13+ words)
    const long = (short || words.length < this.nLong) && hit(this.longSet, this.nLong);
    return { long, short };
  }

  get bytes(): number {
    return this.longSet.bytes + this.shortSet.bytes;
  }
}

/** Counts of a decontamination pass, as reported (the paper: 22 of 11.0M at 13-grams, 0.35% at 8-grams). */
export interface DecontamCounts {
  checked: number;
  overlap13: number;
  overlap8: number;
  /** Fractions of `checked`. */
  rate13: number;
  rate8: number;
  /** Rows dropped for overlap (at the long n, or at the short n with dropShort). */
  dropped: number;
}
