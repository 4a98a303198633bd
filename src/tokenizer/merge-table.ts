// Open-addressing hash table from a token pair (left id, right id) to its merge rank and merged id.

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
