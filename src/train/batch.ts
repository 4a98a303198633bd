// The batch loader (llm.c's dataloader, nanoGPT's get_batch): windows of T+1 tokens into input and target rows.
import type { Model } from '../engine/model.ts';

/** What the loader reads: a split's token stream (a shard split on disk, or the browser site's in-memory tokens). */
export interface TokenWindows {
  readonly length: number;
  /** Copies tokens [start, start + length) into out. */
  window(start: number, length: number, out: Int32Array): Int32Array;
}

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
  fill(split: TokenWindows, starts: readonly number[]): number {
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

/**
 * The fixed validation windows of `split` (validationStarts) loaded B at a time into one reused Batch; `rows` is
 * how many rows each holds (the last may hold fewer). Shared by validationLoss and the GPU trainer's validation.
 */
export function* validationBatches(split: TokenWindows, B: number, T: number, batches: number): Generator<{ batch: Batch; rows: number }> {
  const starts = validationStarts(split.length, B, T, batches);
  const batch = new Batch(B, T);
  for (let i = 0; i < starts.length; i += B) yield { batch, rows: batch.fill(split, starts.slice(i, i + B)) };
}

/**
 * Mean loss over the fixed validation windows of `split` (validationStarts), in batches of B; null when the split
 * holds no window.
 * @example const val = validationLoss(model, shards.val, 8, 256, 20);
 */
export function validationLoss(model: Model, split: TokenWindows, B: number, T: number, batches: number): number | null {
  let sum = 0;
  let count = 0;
  for (const { batch, rows } of validationBatches(split, B, T, batches)) {
    sum += model.forward(batch.x, batch.y, rows, T) * rows;
    count += rows;
  }
  return count > 0 ? sum / count : null;
}

/**
 * validationLoss for a model whose forward pass resolves later (the GPU-resident GpuModel: `(x, y, rows, T) =>
 * gpu.loss(x, y, rows, T)`): the same windows, batches and weighting.
 */
export async function validationLossAsync(loss: (x: Int32Array, y: Int32Array, rows: number, T: number) => Promise<number>, split: TokenWindows, B: number, T: number, batches: number): Promise<number | null> {
  let sum = 0;
  let count = 0;
  for (const { batch, rows } of validationBatches(split, B, T, batches)) {
    sum += (await loss(batch.x, batch.y, rows, T)) * rows;
    count += rows;
  }
  return count > 0 ? sum / count : null;
}
