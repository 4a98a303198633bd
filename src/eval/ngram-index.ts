// Memorization check: an n-gram index over the training stories, built once, that finds the training stories
// closest to a completion; then exact Rouge-k precision (k = 2, 3, 4) against those candidates.
//
// Scale (2.1M stories, ~400M word 4-grams) is handled by three choices:
//  - n-grams are 32-bit hashes of lower-cased word 4-grams, and only those whose hash is 0 mod `sample` are indexed
//    (the same rule applies to queries, so a shared passage still shares ~1/sample of its 4-grams);
//  - the index is three typed arrays (sorted unique hashes, offsets, posting doc ids), built by sorting
//    (hash, doc) pairs with a two-pass radix sort: ~16 bytes per pair while building, ~4 after;
//  - n-grams in more than `maxPostings` stories (stock phrases: "once upon a time there") keep their count but no
//    posting list: they say nothing about which story is closest and would dominate the memory.
// Candidates are the stories sharing the most informative (highest idf) sampled n-grams; exact Rouge is computed
// against their text, fetched in one more streaming pass over the training source.
import { readFileSync } from 'node:fs';
import { words } from '../synth/vocab.ts';
import { writeFileAtomicSync } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import type { NgramIndexOptions } from './report-types.ts';

export type { NgramIndexOptions };

/** 32-bit FNV-1a of a string's UTF-16 code units. */
function hashWord(w: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes of every word n-gram of `ws`. */
export function ngramHashes(ws: string[], n: number): Uint32Array {
  const m = ws.length - n + 1;
  if (m <= 0) return new Uint32Array(0);
  const wh = ws.map(hashWord);
  const out = new Uint32Array(m);
  for (let i = 0; i < m; i++) {
    let h = n;
    for (let j = 0; j < n; j++) h = fmix32((Math.imul(h, 0x9e3779b1) + wh[i + j]!) >>> 0);
    out[i] = h;
  }
  return out;
}

function sampledUnique(ws: string[], n: number, sample: number): Uint32Array {
  const all = ngramHashes(ws, n);
  let k = 0;
  for (let i = 0; i < all.length; i++) if (all[i]! % sample === 0) all[k++] = all[i]!;
  const s = all.subarray(0, k).sort();
  let u = 0;
  for (let i = 0; i < s.length; i++) if (i === 0 || s[i] !== s[i - 1]) s[u++] = s[i]!;
  return s.slice(0, u);
}

/** A growable Uint32Array. */
class U32List {
  data = new Uint32Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

/** Sorts keys (and their values) ascending by key with a stable LSD radix sort on 16-bit digits. */
export function radixSortPairs(keys: Uint32Array, vals: Uint32Array): void {
  const n = keys.length;
  const k2 = new Uint32Array(n);
  const v2 = new Uint32Array(n);
  const count = new Uint32Array(65536);
  let srcK: Uint32Array = keys;
  let srcV: Uint32Array = vals;
  let dstK: Uint32Array = k2;
  let dstV: Uint32Array = v2;
  for (const shift of [0, 16]) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[(srcK[i]! >>> shift) & 0xffff]!++;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = count[d]!;
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const d = (srcK[i]! >>> shift) & 0xffff;
      const at = count[d]!++;
      dstK[at] = srcK[i]!;
      dstV[at] = srcV[i]!;
    }
    [srcK, dstK] = [dstK, srcK];
    [srcV, dstV] = [dstV, srcV];
  }
  // two passes: the sorted data is back in the original arrays
}

/** A candidate training story for a query. */
export interface Candidate {
  doc: number;
  score: number;
  shared: number;
}

const MAGIC = 'TSNGRAM1';

/** The index. Build with NgramIndex.build, query with candidates(). */
export class NgramIndex {
  private constructor(
    readonly n: number,
    readonly sample: number,
    readonly maxPostings: number,
    /** Stories indexed. */
    readonly docs: number,
    /** Sorted unique sampled n-gram hashes. */
    readonly keys: Uint32Array,
    /** Story counts per key (also for keys whose postings were dropped). */
    readonly df: Uint32Array,
    /** postings[offsets[i] .. offsets[i+1]) are the stories of keys[i]. */
    readonly offsets: Uint32Array,
    readonly postings: Uint32Array,
  ) {}

  /**
   * Builds the index from a stream of stories (their order defines the story ids 0, 1, 2, ...).
   * @example const idx = await NgramIndex.build(readDocuments('train.txt'), { sample: 4 });
   */
  static async build(stories: AsyncIterable<string> | Iterable<string>, opts: NgramIndexOptions = {}, onProgress?: (docs: number) => void): Promise<NgramIndex> {
    const n = opts.n ?? 4;
    const sample = Math.max(1, Math.floor(opts.sample ?? 4));
    const maxPostings = opts.maxPostings ?? 20000;
    const hashes = new U32List();
    const docIds = new U32List();
    let doc = 0;
    for await (const s of stories) {
      const grams = sampledUnique(words(s), n, sample);
      for (let i = 0; i < grams.length; i++) {
        hashes.push(grams[i]!);
        docIds.push(doc);
      }
      doc++;
      if (onProgress && doc % 10000 === 0) onProgress(doc);
    }
    const keysAll = hashes.data.subarray(0, hashes.length);
    const valsAll = docIds.data.subarray(0, docIds.length);
    radixSortPairs(keysAll, valsAll);
    // one pass to count unique keys and kept postings
    let uniq = 0;
    let kept = 0;
    for (let i = 0; i < keysAll.length; ) {
      let j = i + 1;
      while (j < keysAll.length && keysAll[j] === keysAll[i]) j++;
      uniq++;
      if (j - i <= maxPostings) kept += j - i;
      i = j;
    }
    const keys = new Uint32Array(uniq);
    const df = new Uint32Array(uniq);
    const offsets = new Uint32Array(uniq + 1);
    const postings = new Uint32Array(kept);
    let u = 0;
    let p = 0;
    for (let i = 0; i < keysAll.length; ) {
      let j = i + 1;
      while (j < keysAll.length && keysAll[j] === keysAll[i]) j++;
      keys[u] = keysAll[i]!;
      df[u] = j - i;
      offsets[u] = p;
      if (j - i <= maxPostings) {
        postings.set(valsAll.subarray(i, j), p);
        p += j - i;
      }
      u++;
      i = j;
    }
    offsets[uniq] = p;
    onProgress?.(doc);
    return new NgramIndex(n, sample, maxPostings, doc, keys, df, offsets, postings);
  }

  /** Bytes held by the index arrays. */
  memoryBytes(): number {
    return this.keys.byteLength + this.df.byteLength + this.offsets.byteLength + this.postings.byteLength;
  }

  private find(h: number): number {
    let lo = 0;
    let hi = this.keys.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = this.keys[mid]!;
      if (k === h) return mid;
      if (k < h) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /**
   * The `top` stories sharing the most informative sampled n-grams with `text`, best first (score = sum of
   * log(docs/df) over shared n-grams). Empty when nothing rare enough is shared.
   */
  candidates(text: string, top = 10): Candidate[] {
    const grams = sampledUnique(words(text), this.n, this.sample);
    const score = new Map<number, { score: number; shared: number }>();
    for (let g = 0; g < grams.length; g++) {
      const i = this.find(grams[g]!);
      if (i < 0) continue;
      const a = this.offsets[i]!;
      const b = this.offsets[i + 1]!;
      if (b === a) continue;
      const idf = Math.log(this.docs / this.df[i]!) + 1e-3;
      for (let p = a; p < b; p++) {
        const d = this.postings[p]!;
        const e = score.get(d);
        if (e) {
          e.score += idf;
          e.shared++;
        } else score.set(d, { score: idf, shared: 1 });
      }
    }
    return [...score.entries()]
      .map(([doc, e]) => ({ doc, score: e.score, shared: e.shared }))
      .sort((x, y) => y.score - x.score || x.doc - y.doc)
      .slice(0, top);
  }

  /** Writes the index to a file (header JSON + the four arrays). */
  save(path: string): void {
    const header = Buffer.from(JSON.stringify({ n: this.n, sample: this.sample, maxPostings: this.maxPostings, docs: this.docs, keys: this.keys.length, postings: this.postings.length }));
    const head = Buffer.alloc(16);
    head.write(MAGIC, 0, 'latin1');
    head.writeUInt32LE(header.length, 8);
    const pad = Buffer.alloc((4 - ((16 + header.length) % 4)) % 4);
    const parts = [head, header, pad, this.keys, this.df, this.offsets, this.postings].map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    const total = parts.reduce((s, a) => s + a.byteLength, 0);
    const buf = new Uint8Array(total);
    let off = 0;
    for (const a of parts) {
      buf.set(a, off);
      off += a.byteLength;
    }
    writeFileAtomicSync(path, buf);
  }

  /** Reads an index written by save(). */
  static load(path: string): NgramIndex {
    const buf = readFileSync(path);
    if (buf.length < 16 || buf.toString('latin1', 0, 8) !== MAGIC) throw new UserError(`${path}: not an n-gram index file (expected magic ${MAGIC}); delete it to rebuild`);
    const hl = buf.readUInt32LE(8);
    const h = JSON.parse(buf.toString('utf8', 16, 16 + hl)) as { n: number; sample: number; maxPostings: number; docs: number; keys: number; postings: number };
    let off = 16 + hl;
    off += (4 - (off % 4)) % 4;
    const ab = new ArrayBuffer(buf.length - off);
    new Uint8Array(ab).set(buf.subarray(off));
    let o = 0;
    const take = (len: number) => {
      const a = new Uint32Array(ab, o, len);
      o += len * 4;
      return a;
    };
    const keys = take(h.keys);
    const df = take(h.keys);
    const offsets = take(h.keys + 1);
    const postings = take(h.postings);
    return new NgramIndex(h.n, h.sample, h.maxPostings, h.docs, keys, df, offsets, postings);
  }
}

function gramCounts(ws: string[], k: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + k <= ws.length; i++) {
    const g = ws.slice(i, i + k).join(' ');
    m.set(g, (m.get(g) ?? 0) + 1);
  }
  return m;
}

/**
 * Rouge-k precision of `candidate` against `reference`: the share of the candidate's word k-grams (with
 * multiplicity) that also occur in the reference, clipped by the reference's count. 0 when the candidate has none.
 */
export function rougePrecision(candidate: string | string[], reference: string | string[], k: number): number {
  const c = gramCounts(Array.isArray(candidate) ? candidate : words(candidate), k);
  const r = gramCounts(Array.isArray(reference) ? reference : words(reference), k);
  let total = 0;
  let hit = 0;
  for (const [g, n] of c) {
    total += n;
    hit += Math.min(n, r.get(g) ?? 0);
  }
  return total ? hit / total : 0;
}

/** The closest training story of one completion, per k. */
export interface MemorizationResult {
  /** Max Rouge-k precision over the candidates, for k = 2, 3, 4. */
  rouge: { 2: number; 3: number; 4: number };
  /** The story with the highest Rouge-4 (then Rouge-3, Rouge-2) precision, or -1 when there were no candidates. */
  closestDoc: number;
  candidates: number;
}

/** Exact Rouge-2/3/4 precision of a completion against candidate stories' texts (all of them when from brute force). */
export function closestStory(completion: string, stories: Array<{ doc: number; text: string }>): MemorizationResult {
  const cw = words(completion);
  let best: MemorizationResult = { rouge: { 2: 0, 3: 0, 4: 0 }, closestDoc: -1, candidates: stories.length };
  let bestKey = -1;
  for (const s of stories) {
    const sw = words(s.text);
    const r = { 2: rougePrecision(cw, sw, 2), 3: rougePrecision(cw, sw, 3), 4: rougePrecision(cw, sw, 4) };
    const key = r[4] * 1e6 + r[3] * 1e3 + r[2];
    if (key > bestKey) {
      bestKey = key;
      best = { rouge: { 2: Math.max(best.rouge[2], r[2]), 3: Math.max(best.rouge[3], r[3]), 4: r[4] }, closestDoc: s.doc, candidates: stories.length };
    } else {
      best.rouge[2] = Math.max(best.rouge[2], r[2]);
      best.rouge[3] = Math.max(best.rouge[3], r[3]);
    }
  }
  return best;
}

/**
 * Texts of the given story ids, read in one pass over the same story stream the index was built from.
 * @example const texts = await fetchStories(readDocuments('train.txt'), new Set([3, 17]));
 */
export async function fetchStories(stories: AsyncIterable<string> | Iterable<string>, ids: Set<number>): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (ids.size === 0) return out;
  let doc = 0;
  for await (const s of stories) {
    if (ids.has(doc)) {
      out.set(doc, s);
      if (out.size === ids.size) break;
    }
    doc++;
  }
  return out;
}
