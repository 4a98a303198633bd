// Exact and near-duplicate detection: a normalised-text hash set, and MinHash signatures over word shingles
// indexed by LSH bands (candidates are confirmed by the signature's Jaccard estimate).
import { createHash } from 'node:crypto';
import { words } from './vocab.ts';

export interface MinHashOptions {
  /** Hash functions per signature (default 64); must equal bands * rows. */
  numPerm?: number;
  bands?: number;
  /** Words per shingle (default 5). */
  shingle?: number;
  /** Estimated Jaccard similarity at or above which a story is a near duplicate (default 0.8). */
  threshold?: number;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Key for exact-duplicate detection: lower-cased words joined by one space, hashed. */
export function exactKey(text: string): string {
  return createHash('sha1').update(words(text).join(' ')).digest('base64');
}

/** MinHash + LSH index of accepted stories. */
export class NearDuplicateIndex {
  readonly numPerm: number;
  readonly bands: number;
  readonly rows: number;
  readonly shingle: number;
  readonly threshold: number;
  private readonly seeds: Uint32Array;
  private readonly buckets: Array<Map<number, number[]>>;
  private readonly sigs: Uint32Array[] = [];
  private readonly ids: string[] = [];
  private readonly exact = new Map<string, string>();

  constructor(opts: MinHashOptions = {}) {
    this.numPerm = opts.numPerm ?? 64;
    this.bands = opts.bands ?? 16;
    this.rows = this.numPerm / this.bands;
    if (!Number.isInteger(this.rows)) throw new Error(`numPerm ${this.numPerm} is not a multiple of bands ${this.bands}`);
    this.shingle = opts.shingle ?? 5;
    this.threshold = opts.threshold ?? 0.8;
    this.seeds = new Uint32Array(this.numPerm);
    let x = 0x2545f491;
    for (let i = 0; i < this.numPerm; i++) {
      x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x297a2d39) >>> 0;
      this.seeds[i] = x | 1;
    }
    this.buckets = Array.from({ length: this.bands }, () => new Map());
  }

  /** Number of stories indexed. */
  get size(): number {
    return this.ids.length;
  }

  /** The MinHash signature of a text's word shingles. */
  signature(text: string): Uint32Array {
    const ws = words(text);
    const sig = new Uint32Array(this.numPerm).fill(0xffffffff);
    const k = Math.min(this.shingle, Math.max(1, ws.length));
    for (let i = 0; i + k <= ws.length; i++) {
      const h = fnv1a(ws.slice(i, i + k).join(' '));
      for (let p = 0; p < this.numPerm; p++) {
        let v = Math.imul(h ^ this.seeds[p]!, 0x9e3779b1);
        v ^= v >>> 15;
        v = Math.imul(v, 0x85ebca77);
        v = (v ^ (v >>> 13)) >>> 0;
        if (v < sig[p]!) sig[p] = v;
      }
    }
    return sig;
  }

  /** Fraction of equal signature slots: an estimate of the shingle-set Jaccard similarity. */
  static similarity(a: Uint32Array, b: Uint32Array): number {
    let eq = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === b[i]) eq++;
    return eq / a.length;
  }

  private bandKey(sig: Uint32Array, band: number): number {
    let h = 0x811c9dc5 ^ band;
    for (let r = 0; r < this.rows; r++) h = Math.imul(h ^ sig[band * this.rows + r]!, 0x01000193);
    return h >>> 0;
  }

  /** Checks `text` against the index: 'exact' or 'near' with the id it duplicates, or undefined when new. */
  check(text: string, sig = this.signature(text)): { kind: 'exact' | 'near'; of: string; similarity: number } | undefined {
    const ek = exactKey(text);
    const same = this.exact.get(ek);
    if (same !== undefined) return { kind: 'exact', of: same, similarity: 1 };
    let best: { of: string; similarity: number } | undefined;
    const tried = new Set<number>();
    for (let b = 0; b < this.bands; b++) {
      const list = this.buckets[b]!.get(this.bandKey(sig, b));
      if (!list) continue;
      for (const idx of list) {
        if (tried.has(idx)) continue;
        tried.add(idx);
        const s = NearDuplicateIndex.similarity(sig, this.sigs[idx]!);
        if (s >= this.threshold && (!best || s > best.similarity)) best = { of: this.ids[idx]!, similarity: s };
      }
    }
    return best ? { kind: 'near', ...best } : undefined;
  }

  /** Adds an accepted story. */
  add(id: string, text: string, sig = this.signature(text)): void {
    const idx = this.ids.length;
    this.ids.push(id);
    this.sigs.push(sig);
    this.exact.set(exactKey(text), id);
    for (let b = 0; b < this.bands; b++) {
      const key = this.bandKey(sig, b);
      const list = this.buckets[b]!.get(key);
      if (list) list.push(idx);
      else this.buckets[b]!.set(key, [idx]);
    }
  }
}
