// Seeded, resumable order of training windows: each epoch visits every window of T+1 tokens once, shuffled.
//
// The order is a pure function of (seed, epoch), so the saved cursor (epoch, position) is all a resume needs.
import { Rng } from '../util/rng.ts';

/** Where the data order stands; saved in the checkpoint. */
export interface DataCursor {
  epoch: number;
  /** Index of the next window in this epoch's permutation. */
  position: number;
}

/** Deals out window start offsets (in tokens) into a token stream of `numTokens`, windows of T+1 at stride T. */
export class DataOrder {
  readonly numWindows: number;
  private perm: Uint32Array | null = null;
  private permEpoch = -1;
  cursor: DataCursor;

  constructor(
    readonly numTokens: number,
    readonly T: number,
    readonly seed: number,
    cursor: DataCursor = { epoch: 0, position: 0 },
  ) {
    this.numWindows = Math.floor((numTokens - 1) / T);
    if (this.numWindows < 1) throw new Error(`data order: ${numTokens} tokens do not fill one window of ${T + 1}`);
    this.cursor = { ...cursor };
  }

  private permutation(epoch: number): Uint32Array {
    if (this.permEpoch !== epoch) {
      const perm = new Uint32Array(this.numWindows);
      for (let i = 0; i < perm.length; i++) perm[i] = i;
      // Mix seed and epoch so consecutive epochs (and seeds) give unrelated orders.
      new Rng((Math.imul(this.seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0).shuffle(perm);
      this.perm = perm;
      this.permEpoch = epoch;
    }
    return this.perm!;
  }

  /** The next `B` window start offsets; advances the cursor (wrapping into the next epoch). */
  next(B: number): number[] {
    const starts: number[] = [];
    for (let b = 0; b < B; b++) {
      if (this.cursor.position >= this.numWindows) this.cursor = { epoch: this.cursor.epoch + 1, position: 0 };
      starts.push(this.permutation(this.cursor.epoch)[this.cursor.position]! * this.T);
      this.cursor.position++;
    }
    return starts;
  }
}
