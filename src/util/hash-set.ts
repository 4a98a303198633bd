// A set of 64-bit hashes in an open-addressing table (two Uint32Arrays, linear probing): 16 bytes per entry at most,
// so exact-duplicate sets over millions of documents and n-gram indexes stay in tens of MB.
import { hash } from 'node:crypto';

/**
 * A set of 64-bit hashes given as (hi, lo) 32-bit halves; (0,0) marks an empty slot, so callers keep lo odd (or
 * otherwise never pass (0,0)). addText hashes a text itself (SHA-1 prefix): the chance of a false duplicate among
 * 3M documents is about 2.4e-7.
 * Example: `const seen = new HashSet64(); if (seen.addText(story)) keep(story);`
 */
export class HashSet64 {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private count = 0;
  /** Room for `capacity` entries before the first growth (the table doubles at half full). */
  constructor(capacity = 1 << 12) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.hi.byteLength + this.lo.byteLength;
  }

  /** Adds the hash of `text`; returns false if it was already present. */
  addText(text: string): boolean {
    const d = hash('sha1', text, 'buffer') as Buffer;
    const hi = d.readUInt32LE(0);
    const lo = d.readUInt32LE(4) | 1; // never (0,0): that marks an empty slot
    return this.add(hi >>> 0, lo >>> 0);
  }

  /** Adds (hi, lo) (unsigned 32-bit halves, not both 0); returns false if it was already present. */
  add(hi: number, lo: number): boolean {
    if ((this.count + 1) * 2 > this.hi.length) this.grow();
    const mask = this.hi.length - 1;
    let i = (hi ^ Math.imul(lo, 0x9e3779b1)) & mask;
    for (;;) {
      const h = this.hi[i]!;
      const l = this.lo[i]!;
      if (h === 0 && l === 0) {
        this.hi[i] = hi;
        this.lo[i] = lo;
        this.count++;
        return true;
      }
      if (h === hi && l === lo) return false;
      i = (i + 1) & mask;
    }
  }

  /** Whether (hi, lo) is in the set. */
  has(hi: number, lo: number): boolean {
    const mask = this.hi.length - 1;
    let i = (hi ^ Math.imul(lo, 0x9e3779b1)) & mask;
    for (;;) {
      const h = this.hi[i]!;
      const l = this.lo[i]!;
      if (h === 0 && l === 0) return false;
      if (h === hi && l === lo) return true;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    this.hi = new Uint32Array(oldHi.length * 2);
    this.lo = new Uint32Array(oldLo.length * 2);
    this.count = 0;
    for (let i = 0; i < oldHi.length; i++) if (oldHi[i] !== 0 || oldLo[i] !== 0) this.add(oldHi[i]!, oldLo[i]!);
  }
}
