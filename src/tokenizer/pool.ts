// Parallel encoding on worker threads: texts are cut into ~256 KB jobs handed to whichever worker is free.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Tokenizer } from './tokenizer.ts';

/** Encoded texts: ids of text i are ids[offsets[i] .. offsets[i+1]). */
export interface EncodedBatch {
  ids: Int32Array;
  offsets: Int32Array;
}

const JOB_CHARS = 256 * 1024;

/** A set of worker threads each holding a copy of one tokenizer. Call close() when done. */
export class EncodePool {
  private readonly workers: Worker[] = [];
  private readonly ready: Promise<void>[] = [];
  private nextJob = 0;

  constructor(tokenizer: Tokenizer, threads = Math.min(2, availableParallelism())) {
    const url = new URL('./encode-worker.mjs', import.meta.url);
    for (let i = 0; i < Math.max(1, threads); i++) {
      const w = new Worker(url, { workerData: { data: tokenizer.data } });
      this.workers.push(w);
      this.ready.push(
        new Promise((resolve, reject) => {
          const onMsg = (m: { ready?: boolean }) => {
            if (m.ready) {
              w.off('message', onMsg);
              w.off('error', reject);
              resolve();
            }
          };
          w.on('message', onMsg);
          w.once('error', reject);
        }),
      );
    }
  }

  get threads(): number {
    return this.workers.length;
  }

  /** Encodes `texts` in parallel; the result is in input order. */
  async encode(texts: string[]): Promise<EncodedBatch> {
    await Promise.all(this.ready);
    const jobs: Array<{ start: number; end: number }> = [];
    let start = 0;
    let chars = 0;
    for (let i = 0; i < texts.length; i++) {
      chars += texts[i]!.length;
      if (chars >= JOB_CHARS || i === texts.length - 1) {
        jobs.push({ start, end: i + 1 });
        start = i + 1;
        chars = 0;
      }
    }
    const results = new Array<{ ids: Int32Array; lengths: Int32Array }>(jobs.length);
    let next = 0;
    const runWorker = async (w: Worker) => {
      while (next < jobs.length) {
        const j = next++;
        const job = this.nextJob++;
        const res = await new Promise<{ ids: Int32Array; lengths: Int32Array }>((resolve, reject) => {
          const onMsg = (m: { job: number; ids: Int32Array; lengths: Int32Array }) => {
            if (m.job !== job) return;
            w.off('message', onMsg);
            w.off('error', reject);
            resolve(m);
          };
          w.on('message', onMsg);
          w.once('error', reject);
          w.postMessage({ job, texts: texts.slice(jobs[j]!.start, jobs[j]!.end) });
        });
        results[j] = res;
      }
    };
    // two jobs in flight per worker, so a worker never waits for the main thread to hand it the next one
    await Promise.all([...this.workers, ...this.workers].map(runWorker));
    let total = 0;
    for (const r of results) total += r.ids.length;
    const ids = new Int32Array(total);
    const offsets = new Int32Array(texts.length + 1);
    let o = 0;
    let t = 0;
    for (const r of results) {
      ids.set(r.ids, o);
      for (let k = 0; k < r.lengths.length; k++) {
        offsets[t + 1] = offsets[t]! + r.lengths[k]!;
        t++;
      }
      o += r.ids.length;
    }
    return { ids, offsets };
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

/** Below this many characters, encodeMany stays on the calling thread (starting the workers costs ~0.3 s, and single-thread encode runs ~50 MB/s). */
export const PARALLEL_MIN_CHARS = 32_000_000;

/**
 * Encodes many texts, on `threads` worker threads when the input is large enough to pay for starting them.
 * @example const ids = await encodeMany(tok, stories, { threads: 2 });
 */
export async function encodeMany(
  tokenizer: Tokenizer,
  texts: string[],
  opts: { threads?: number } = {},
): Promise<Int32Array[]> {
  const threads = opts.threads ?? Math.min(2, availableParallelism());
  let chars = 0;
  for (const t of texts) chars += t.length;
  if (threads <= 1 || chars < PARALLEL_MIN_CHARS) return texts.map((t) => Int32Array.from(tokenizer.encode(t)));
  const pool = new EncodePool(tokenizer, threads);
  try {
    const { ids, offsets } = await pool.encode(texts);
    return texts.map((_, i) => ids.subarray(offsets[i]!, offsets[i + 1]!));
  } finally {
    await pool.close();
  }
}
