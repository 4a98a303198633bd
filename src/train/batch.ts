// The batch loader (llm.c's dataloader, nanoGPT's get_batch): windows of T+1 tokens into input and target rows.
import type { TokenSplit } from '../data/shards.ts';

/** Input (x) and target (y) buffers of B rows of T tokens: the one loader of training, validation and step timing. */
export class Batch {
  /** (B, T) input ids. */
  readonly x: Int32Array;
  /** (B, T) target ids: x shifted left by one token. */
  readonly y: Int32Array;
  private readonly window: Int32Array;

  constructor(
    readonly B: number,
    readonly T: number,
  ) {
    this.x = new Int32Array(B * T);
    this.y = new Int32Array(B * T);
    this.window = new Int32Array(T + 1);
  }

  /**
   * Loads one row per start offset (at most B) from `split`: row b holds tokens [start, start + T) as inputs and
   * [start + 1, start + T] as targets. Returns the number of rows filled.
   * @example batch.fill(shards.train, order.next(B)); model.forward(batch.x, batch.y, B, T);
   */
  fill(split: TokenSplit, starts: readonly number[]): number {
    const { T, window: w } = this;
    for (let b = 0; b < starts.length; b++) {
      split.window(starts[b]!, T + 1, w);
      this.x.set(w.subarray(0, T), b * T);
      this.y.set(w.subarray(1), b * T);
    }
    return starts.length;
  }
}

/**
 * Start offsets of the fixed validation windows: the first min(batches × B, ⌊(length − 1) / T⌋) windows of T + 1
 * tokens of the split, in order (the same every validation, so losses compare across steps and runs).
 */
export function validationStarts(length: number, B: number, T: number, batches: number): number[] {
  const windows = Math.max(0, Math.min(batches * B, Math.floor((length - 1) / T)));
  return Array.from({ length: windows }, (_, i) => i * T);
}
