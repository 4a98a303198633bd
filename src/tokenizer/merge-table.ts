// Open-addressing hash table from a token pair (left id, right id) to its merge rank and merged id, and the
// O(n log n) merge loop over such a lookup that the BPE and sentencepiece encoders share.

/** Pair → (rank, merged id) lookup used by the BPE merge loop; faster than a Map keyed by packed doubles. */
export class MergeTable {
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly rankOf: Int32Array;
  private readonly resultOf: Int32Array;
  private readonly mask: number;
  readonly size: number;

  /** `pairs` holds (left, right) for rank 0, 1, 2, …; `results[r]` is the id the rank-r merge produces. */
  constructor(pairs: Int32Array, results: Int32Array) {
    const n = results.length;
    let cap = 16;
    while (cap < n * 2) cap <<= 1;
    this.mask = cap - 1;
    this.left = new Int32Array(cap).fill(-1);
    this.right = new Int32Array(cap);
    this.rankOf = new Int32Array(cap);
    this.resultOf = new Int32Array(cap);
    let size = 0;
    for (let r = 0; r < n; r++) {
      const a = pairs[2 * r]!;
      const b = pairs[2 * r + 1]!;
      let h = this.hash(a, b);
      while (this.left[h] !== -1 && !(this.left[h] === a && this.right[h] === b)) h = (h + 1) & this.mask;
      if (this.left[h] === -1) size++;
      // a repeated pair takes its last rank, as Hugging Face's merge map (a HashMap filled in file order) does
      this.left[h] = a;
      this.right[h] = b;
      this.rankOf[h] = r;
      this.resultOf[h] = results[r]!;
    }
    this.size = size;
  }

  private hash(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 7 & this.mask;
  }

  /** Slot of the pair, or -1 when the pair has no merge. */
  find(a: number, b: number): number {
    let h = this.hash(a, b);
    for (;;) {
      const l = this.left[h]!;
      if (l === -1) return -1;
      if (l === a && this.right[h] === b) return h;
      h = (h + 1) & this.mask;
    }
  }

  rank(slot: number): number {
    return this.rankOf[slot]!;
  }

  result(slot: number): number {
    return this.resultOf[slot]!;
  }
}

/** A pair-merge rule lookup: the slot of a pair's rule (or -1), and the rule's rank and merged symbol. */
export interface PairMerges {
  find(a: number, b: number): number;
  /** Lower merges first; a non-negative integer below 2^21 (it is packed with the position into one double). */
  rank(slot: number): number;
  result(slot: number): number;
}

/**
 * Merges the adjacent pair of lowest rank (leftmost on ties) in sym[0..n) until no pair has a rule, in O(n log n):
 * a linked list of symbols and a heap of (rank, position); merging keeps the left symbol's position, so positions
 * stay in text order, and entries made stale by an earlier merge are skipped when popped. Returns the new length
 * (the symbols compacted to the front of sym).
 */
export function heapMerge(sym: { [i: number]: number }, n: number, table: PairMerges): number {
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const alive = new Uint8Array(n).fill(1);
  const heap: number[] = [];
  const POS = 4294967296; // key = rank * 2^32 + position: lowest rank first, then leftmost
  const push = (key: number) => {
    heap.push(key);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p]! <= key) break;
      heap[i] = heap[p]!;
      i = p;
    }
    heap[i] = key;
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) break;
        const c = l + 1 < heap.length && heap[l + 1]! < heap[l]! ? l + 1 : l;
        if (heap[c]! >= last) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  };
  const pairAt = (i: number) => {
    const j = next[i]!;
    if (j < 0) return;
    const slot = table.find(sym[i]!, sym[j]!);
    if (slot >= 0) push(table.rank(slot) * POS + i);
  };
  for (let i = 0; i < n - 1; i++) pairAt(i);
  while (heap.length > 0) {
    const key = pop();
    const i = key % POS;
    const rank = (key - i) / POS;
    if (!alive[i]) continue;
    const j = next[i]!;
    if (j < 0) continue;
    const slot = table.find(sym[i]!, sym[j]!);
    if (slot < 0 || table.rank(slot) !== rank) continue; // stale entry
    sym[i] = table.result(slot);
    alive[j] = 0;
    const k = next[j]!;
    next[i] = k;
    if (k >= 0) prev[k] = i;
    if (prev[i]! >= 0) pairAt(prev[i]!);
    pairAt(i);
  }
  let len = 0;
  for (let i = 0; i >= 0 && i < n; i = next[i]!) sym[len++] = sym[i]!;
  return len;
}
