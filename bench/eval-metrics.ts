// Evaluation throughput: (1) guess-rank + val-loss scoring in tokens/s for the 1M preset (vocab 4096, the trainer's
// default), peer in the same run: the engine's own forward-with-targets loss on the same windows (the cost of the
// rank/loss pass over the logits); (2) the memorization n-gram index on the shared TinyStories samples: build time
// and memory over growing subsets, a fitted scaling curve extrapolated to 2.1M stories, and index query time vs
// the brute-force peer (exact Rouge against every story).
// Usage: npx tsx bench/eval-metrics.ts [--quick]
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDocuments } from '../src/data/read.ts';
import { presetConfig } from '../src/engine/config.ts';
import { Model } from '../src/engine/model.ts';
import { modelScorer, scoreStream } from '../src/eval/lm-metrics.ts';
import { closestStory, NgramIndex } from '../src/eval/ngram-index.ts';
import { openBackend } from '../src/engine/open-backend.ts';
import { Rng } from '../src/util/rng.ts';
import { sharedData } from '../test/helpers/shared-data.ts';

const QUICK = process.argv.includes('--quick');
const SHARED = sharedData('tinystories');
const FILES = ['TinyStories-train_head2MiB_2316stories.txt', 'tinystoriesV2_train_first1727.txt', 'tinystories_hf_train_first1000.txt'];
const FULL_SET = 2_100_000;
const result: Record<string, unknown> = { bench: 'eval-metrics', date: new Date().toISOString(), quick: QUICK, cpu: cpus()[0]?.model, cores: cpus().length, node: process.version };

// ---- (1) scoring throughput
{
  const backends = ['ref', 'auto'];
  const T = 256;
  const B = 4;
  const windows = QUICK ? 8 : 32;
  const scoring: Array<Record<string, unknown>> = [];
  for (const kind of backends) {
    const backend = await openBackend(kind as 'ref' | 'auto', 0, () => {});
    const model = new Model(presetConfig('1M', { vocabSize: 4096, maxSeqLen: T }), backend, { seed: 1 });
    const rng = new Rng(2);
    const stream = Int32Array.from({ length: windows * T + 1 }, () => rng.int(4096));
    // warm-up of both paths at the timed shape (JIT, activation buffers)
    scoreStream(modelScorer(model), stream.subarray(0, B * T + 1), { window: T, batch: B });
    model.forward(stream.subarray(0, B * T), stream.subarray(1, B * T + 1), B, T);
    const m = scoreStream(modelScorer(model), stream, { window: T, batch: B });
    // peer: forward with targets (the engine's fused softmax + cross-entropy), same windows
    const x = new Int32Array(B * T);
    const y = new Int32Array(B * T);
    const t0 = performance.now();
    for (let w = 0; w < windows; w += B) {
      for (let i = 0; i < B; i++) {
        x.set(stream.subarray((w + i) * T, (w + i + 1) * T), i * T);
        y.set(stream.subarray((w + i) * T + 1, (w + i + 1) * T + 1), i * T);
      }
      model.forward(x, y, B, T);
    }
    const peer = (windows * T) / ((performance.now() - t0) / 1000);
    const row = { backend: backend.name, params: model.numParams(), tokens: m.tokens, scoreTokensPerS: Math.round(m.tokensPerSecond), peerForwardLossTokensPerS: Math.round(peer) };
    scoring.push(row);
    console.log(`score 1M (${row.params} params, vocab 4096, T ${T}) on ${backend.name}: guess-rank+loss ${row.scoreTokensPerS} tok/s; peer forward+loss ${row.peerForwardLossTokensPerS} tok/s`);
    backend.dispose();
  }
  result.scoring = scoring;
}

// ---- (2) n-gram index scaling
if (!existsSync(SHARED)) {
  console.log(`index: skipped, ${SHARED} is absent`);
} else {
  const stories: string[] = [];
  for (const f of FILES) for await (const s of readDocuments(join(SHARED, f))) stories.push(s);
  // readDocuments dedups within a call only; drop the HF copies of V1 stories across files
  const unique = [...new Set(stories)];
  const sizes = QUICK ? [500, unique.length] : [250, 500, 1000, 2000, unique.length];
  const points: Array<{ stories: number; seconds: number; bytes: number; keys: number; postings: number; pairs: number }> = [];
  for (const n of sizes) {
    const sub = unique.slice(0, n);
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    const idx = await NgramIndex.build(sub, { n: 4, sample: 4, maxPostings: 20000 });
    const seconds = (performance.now() - t0) / 1000;
    const pairs = idx.df.reduce((a, b) => a + b, 0);
    points.push({ stories: n, seconds, bytes: idx.memoryBytes(), keys: idx.keys.length, postings: idx.postings.length, pairs });
    console.log(`index ${n} stories: ${seconds.toFixed(3)} s, ${(idx.memoryBytes() / 1e6).toFixed(2)} MB, ${idx.keys.length} keys, ${pairs} (story, 4-gram) pairs, ${((seconds / pairs) * 1e9).toFixed(0)} ns per pair`);
  }
  // fits: time and pairs linear in stories (least squares through the origin); unique keys as c·n^β (log-log fit)
  const slope = (ys: number[]) => points.reduce((s, p, i) => s + p.stories * ys[i]!, 0) / points.reduce((s, p) => s + p.stories * p.stories, 0);
  const secPerStory = slope(points.map((p) => p.seconds));
  const pairsPerStory = slope(points.map((p) => p.pairs));
  const lx = points.map((p) => Math.log(p.stories));
  const ly = points.map((p) => Math.log(p.keys));
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  const beta = lx.reduce((s, x, i) => s + (x - mx) * (ly[i]! - my), 0) / lx.reduce((s, x) => s + (x - mx) ** 2, 0);
  const c = Math.exp(my - beta * mx);
  const keysFull = Math.min(c * FULL_SET ** beta, pairsPerStory * FULL_SET);
  const pairsFull = pairsPerStory * FULL_SET;
  // index arrays: keys + df + offsets (12 B/key) + postings (4 B/pair, an upper bound: stock phrases are dropped);
  // build peak: (hash, doc) pairs with doubling growth (≤ 16 B/pair) + the radix sort's copies (8 B/pair)
  const indexBytesFull = 12 * keysFull + 4 * pairsFull;
  const buildPeakFull = 24 * pairsFull + indexBytesFull;
  const extrapolation = { stories: FULL_SET, buildSeconds: secPerStory * FULL_SET, pairs: Math.round(pairsFull), keys: Math.round(keysFull), keysExponent: beta, indexGB: indexBytesFull / 1e9, buildPeakGB: buildPeakFull / 1e9 };
  console.log(`extrapolated to ${FULL_SET} stories: build ${(extrapolation.buildSeconds / 60).toFixed(1)} min (reading the source not included), ${extrapolation.pairs.toExponential(2)} pairs, keys ~ n^${beta.toFixed(2)} → ${extrapolation.keys.toExponential(2)}, index ${extrapolation.indexGB.toFixed(2)} GB, build peak ≤ ${extrapolation.buildPeakGB.toFixed(2)} GB`);

  // A longer reach than the 4k real stories: synthetic stories of 8-12 sentences drawn at random from the sample's
  // sentences. They reuse the sample's sentences, so their unique 4-grams grow slower than real data's: these
  // points check that build time per (story, 4-gram) pair stays flat at larger sizes, not the key count.
  const sentences = unique.flatMap((st) => st.split(/(?<=[.!?])\s+/)).filter((x) => x.length > 10);
  const synth = (n: number, seed: number) => {
    const r = new Rng(seed);
    return Array.from({ length: n }, () => Array.from({ length: 8 + r.int(5) }, () => sentences[r.int(sentences.length)]!).join(' '));
  };
  const synthPoints: typeof points = [];
  for (const n of QUICK ? [8000] : [8000, 16000, 32000, 64000]) {
    const docs = synth(n, n);
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    const idx = await NgramIndex.build(docs, { n: 4, sample: 4, maxPostings: 20000 });
    const seconds = (performance.now() - t0) / 1000;
    const pairs = idx.df.reduce((a, b) => a + b, 0);
    synthPoints.push({ stories: n, seconds, bytes: idx.memoryBytes(), keys: idx.keys.length, postings: idx.postings.length, pairs });
    console.log(`index ${n} synthetic stories: ${seconds.toFixed(3)} s, ${(idx.memoryBytes() / 1e6).toFixed(2)} MB index, ${idx.keys.length} keys, ${pairs} pairs, ${((seconds / pairs) * 1e9).toFixed(0)} ns per pair`);
  }

  // query speed: index candidates + exact Rouge vs brute force over every story
  const idx = await NgramIndex.build(unique, { n: 4, sample: 4, maxPostings: 20000 });
  const rng = new Rng(5);
  const queries = Array.from({ length: QUICK ? 5 : 20 }, () => unique[rng.int(unique.length)]!.split(' ').slice(0, 60).join(' ') + ' and then they went home.');
  let t0 = performance.now();
  const viaIndex = queries.map((q) => closestStory(q, idx.candidates(q, 20).map((x) => ({ doc: x.doc, text: unique[x.doc]! }))));
  const indexMs = (performance.now() - t0) / queries.length;
  t0 = performance.now();
  const brute = queries.map((q) => closestStory(q, unique.map((text, doc) => ({ doc, text }))));
  const bruteMs = (performance.now() - t0) / queries.length;
  const agree = viaIndex.filter((v, i) => v.rouge[4] === brute[i]!.rouge[4]).length;
  console.log(`query (${unique.length} stories): index + exact Rouge ${indexMs.toFixed(2)} ms; peer brute force ${bruteMs.toFixed(1)} ms; same Rouge-4 on ${agree}/${queries.length}`);
  result.index = { points, synthPoints, extrapolation, queryMs: indexMs, bruteForceQueryMs: bruteMs, agree, queries: queries.length };
}

const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'eval-metrics.jsonl');
mkdirSync(dirname(out), { recursive: true });
appendFileSync(out, JSON.stringify(result) + '\n');
console.log(`appended to ${out}`);
