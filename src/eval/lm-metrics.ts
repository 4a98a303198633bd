// Validation loss, perplexity and guess-rank (how many guesses the model needs for the true next token) over a
// held-out token stream, in one forward pass per window.
import type { Model } from '../engine/model.ts';
import { bitsPerByte } from '../train/bpb.ts';
import type { LmMetrics } from './report-types.ts';
import { summarize } from './stats.ts';

export type { LmMetrics };

/** Anything that gives next-token logits for a batch of windows: a Model, or a constructed scorer in tests. */
export interface NextTokenScorer {
  vocabSize: number;
  /** Longest window it accepts. */
  maxSeqLen: number;
  /** Logits (B*T, V) for inputs (B, T); row b*T+t predicts the token after inputs[b*T+t]. Valid until the next call. */
  logits(inputs: Int32Array, B: number, T: number): Float32Array;
  /**
   * Optional fast path: softmax probabilities (B*T, V) computed by the engine's fused softmax + cross-entropy kernel.
   * Ranks are the same as from logits (softmax is monotonic), so scoring then needs no exp() per vocabulary entry.
   */
  probs?(inputs: Int32Array, targets: Int32Array, B: number, T: number): Float32Array;
}

/** Wraps a Model as a scorer (a forward pass without targets keeps the logits). */
export function modelScorer(model: Model): NextTokenScorer {
  return {
    vocabSize: model.cfg.vocabSize,
    maxSeqLen: model.cfg.maxSeqLen,
    logits(inputs, B, T) {
      model.forward(inputs, null, B, T);
      return model.activations().get('logits')!.data;
    },
    probs(inputs, targets, B, T) {
      model.forward(inputs, targets, B, T);
      return model.activations().get('probs')!.data;
    },
  };
}

/** Guess-rank buckets: 1, 2, 3-4, 5-8, ..., up to the vocabulary. */
export function rankBucketLabels(vocabSize: number): string[] {
  const out = ['1', '2'];
  for (let lo = 3; lo <= vocabSize; lo = lo * 2 - 1) out.push(`${lo}-${Math.min(vocabSize, lo * 2 - 2)}`);
  return out;
}

function rankBucket(rank: number): number {
  return rank <= 2 ? rank - 1 : 1 + Math.ceil(Math.log2(rank - 1));
}

/**
 * Scores a token stream: windows of `window`+1 tokens (stride `window`, so every token but the first is predicted
 * once, from up to `window` tokens of context in its window). Guess-rank of a position = 1 + the number of tokens
 * with a higher logit than the true one (ties count when their id is lower, as sample's rank does).
 * With `exact`, logits are used even when the scorer offers probabilities (the probability path can only differ
 * for a true token whose float32 probability underflows to 0, i.e. ~100 nats below the top logit).
 * With `tokenBytes` (tokenByteLengths of the tokenizer), bits per byte of the predicted text are reported too.
 * @example scoreStream(modelScorer(model), Int32Array.from(ids), { window: 256, batch: 8 })
 */
export function scoreStream(scorer: NextTokenScorer, stream: Int32Array, opts: { window?: number; batch?: number; maxTokens?: number; exact?: boolean; tokenBytes?: Uint32Array; onProgress?: (done: number, total: number) => void } = {}): LmMetrics {
  const T = Math.min(opts.window ?? scorer.maxSeqLen, scorer.maxSeqLen);
  const B = Math.max(1, opts.batch ?? 8);
  const V = scorer.vocabSize;
  const limit = Math.min(stream.length - 1, opts.maxTokens ?? Infinity);
  const labels = rankBucketLabels(V);
  const counts = new Array<number>(labels.length).fill(0);
  const ranks: number[] = [];
  let lossSum = 0;
  let bytes = 0;
  let log2Sum = 0;
  let n = 0;
  let top1 = 0;
  let top5 = 0;
  let top10 = 0;
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  const useProbs = typeof scorer.probs === 'function' && !opts.exact;
  const t0 = performance.now();
  let pos = 0;
  while (pos < limit) {
    // fill up to B windows; the last one may be shorter (T' < T) and is run alone at its own length
    const starts: number[] = [];
    let len = T;
    while (starts.length < B && pos < limit) {
      const l = Math.min(T, limit - pos);
      if (starts.length > 0 && l < T) break;
      len = l;
      starts.push(pos);
      pos += l;
      if (l < T) break;
    }
    const b = starts.length;
    for (let i = 0; i < b; i++) {
      x.set(stream.subarray(starts[i]!, starts[i]! + len), i * len);
      y.set(stream.subarray(starts[i]! + 1, starts[i]! + len + 1), i * len);
    }
    const out = useProbs ? scorer.probs!(x.subarray(0, b * len), y.subarray(0, b * len), b, len) : scorer.logits(x.subarray(0, b * len), b, len);
    for (let i = 0; i < b; i++) {
      for (let t = 0; t < len; t++) {
        const row = (i * len + t) * V;
        const target = stream[starts[i]! + t + 1]!;
        if (opts.tokenBytes) bytes += opts.tokenBytes[target] ?? 0;
        const tv = out[row + target]!;
        let above = 0;
        for (let v = 0; v < V; v++) {
          const l = out[row + v]!;
          if (l > tv || (l === tv && v < target)) above++;
        }
        if (useProbs) {
          lossSum += -Math.log(Math.max(tv, 1e-45));
        } else {
          let max = -Infinity;
          for (let v = 0; v < V; v++) if (out[row + v]! > max) max = out[row + v]!;
          let sum = 0;
          for (let v = 0; v < V; v++) sum += Math.exp(out[row + v]! - max);
          lossSum += Math.log(sum) + max - tv;
        }
        const rank = above + 1;
        ranks.push(rank);
        log2Sum += Math.log2(rank);
        counts[Math.min(counts.length - 1, rankBucket(rank))]!++;
        if (rank === 1) top1++;
        if (rank <= 5) top5++;
        if (rank <= 10) top10++;
        n++;
      }
    }
    opts.onProgress?.(pos, limit);
  }
  const secs = (performance.now() - t0) / 1000;
  const rs = summarize(ranks);
  const sorted = Float64Array.from(ranks).sort();
  const loss = n ? lossSum / n : NaN;
  return {
    tokens: n,
    loss,
    perplexity: Math.exp(loss),
    bitsPerToken: loss / Math.LN2,
    bytes: opts.tokenBytes ? bytes : null,
    bitsPerByte: opts.tokenBytes ? bitsPerByte(lossSum, bytes) : null,
    rank: {
      mean: rs.mean,
      median: rs.median,
      p90: sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))]! : NaN,
      top1: n ? top1 / n : NaN,
      top5: n ? top5 / n : NaN,
      top10: n ? top10 / n : NaN,
      meanLog2: n ? log2Sum / n : NaN,
      histogram: { labels, counts },
    },
    tokensPerSecond: secs > 0 ? n / secs : 0,
    window: T,
  };
}

/** Joins documents into one stream the way training reads them: each story preceded by <|endoftext|> (when present). */
export function documentStream(docs: Iterable<number[] | Int32Array>, eotId: number): Int32Array {
  const parts: number[] = [];
  for (const d of docs) {
    if (eotId >= 0) parts.push(eotId);
    for (const id of d) parts.push(id);
  }
  return Int32Array.from(parts);
}
