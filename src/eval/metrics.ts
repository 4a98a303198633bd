// `eval metrics`: judge-free figures per model — validation loss/perplexity and guess-rank on a held-out source;
// for generated completions distinct-n, vocabulary adherence and memorization (Rouge-k against the closest
// training story via the n-gram index) — written as report.json + report.html.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cacheDir } from '../data/hf.ts';
import { readDocuments, resolveSource } from '../data/read.ts';
import type { Model } from '../engine/model.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { generate } from '../sample/generate.ts';
import { loadRunModel } from '../sample/load.ts';
import { rngFor } from '../synth/prompts.ts';
import type { BackendKind } from '../engine/open-backend.ts';
import { openBackendWithGpuDecoding, type GpuDecoding } from '../sample/gpu-decoding.ts';
import { tokenByteLengths } from '../train/bpb.ts';
import { writeFileAtomicSync } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { Progress } from '../util/progress.ts';
import { documentStream, modelScorer, scoreStream, type LmMetrics } from './lm-metrics.ts';
import { expandRuns, trainedContext, type ModelEntry } from './models.ts';
import { closestStory, fetchStories, NgramIndex, type NgramIndexOptions } from './ngram-index.ts';
import { loadBeginnings } from './prompts.ts';
import { metricsReportHtml } from './report-html.ts';
import { quantile, summarize } from './stats.ts';
import { childVocabulary, distinctN, vocabAdherence } from './text-metrics.ts';
import type { GenerationMetrics, MemorizationSummary, MetricsConfig, MetricsModelReport, MetricsReport, ScoringWindow } from './report-types.ts';

export type { GenerationMetrics, MemorizationSummary, MetricsConfig, MetricsModelReport, MetricsReport, ScoringWindow };

export const METRICS_DEFAULTS = {
  checkpoints: false,
  train: null,
  maxDocs: null,
  maxTokens: null,
  window: null,
  batch: 8,
  generate: true,
  beginnings: null,
  samples: 50,
  sampling: { temperature: 1, topK: 0, topP: 1, maxTokens: 300, seed: 1 },
  vocabFile: null,
  index: { n: 4, sample: 4, maxPostings: 20000 },
  candidates: 20,
  // scoring is batched matmuls: the WASM engine is ~8x the reference here (falls back to ref when it cannot load)
  backend: 'auto' as BackendKind,
  threads: 0,
};

/**
 * The window to score a model with: --window when given (capped at the model's positions), else the context it was
 * trained at, else its maximum positions. Scoring past the trained context measures untrained positions (RoPE or
 * learned position embeddings never seen in training), so a longer --window comes with a warning.
 * @example chooseWindow(null, 256, 512) // { used: 256, source: 'trained', trainedContext: 256, warning: null }
 */
export function chooseWindow(requested: number | null, trained: number | null, maxPositions: number): ScoringWindow {
  const trainedCtx = trained === null ? null : Math.min(trained, maxPositions);
  if (requested !== null) {
    const used = Math.min(requested, maxPositions);
    const warning = trainedCtx !== null && used > trainedCtx ? `--window ${used} is longer than the context this model was trained at (${trainedCtx}); positions past ${trainedCtx} were never trained, so the loss overstates what the model does at its own context` : null;
    return { used, source: 'flag', trainedContext: trainedCtx, warning };
  }
  if (trainedCtx !== null) return { used: trainedCtx, source: 'trained', trainedContext: trainedCtx, warning: null };
  return { used: maxPositions, source: 'max-positions', trainedContext: null, warning: null };
}

/** How a ScoringWindow reads in a log line: "256 (trained context)". */
export function describeWindow(w: ScoringWindow): string {
  return `${w.used} (${w.source === 'flag' ? '--window' : w.source === 'trained' ? 'trained context' : 'model maximum; no train_config.json'})`;
}

/** The first sentence of a story (at most 40 words), used as a generation prompt. */
export function firstSentence(story: string): string {
  const m = /^[\s\S]*?[.!?](?=\s|$)/.exec(story);
  const s = (m ? m[0] : story).trim();
  return s.split(/\s+/).slice(0, 40).join(' ');
}

/** Builds the n-gram index over a training source, or loads it from the cache when the source is unchanged. */
export async function loadOrBuildIndex(train: string, opts: Required<NgramIndexOptions>, quiet = false): Promise<{ index: NgramIndex; seconds: number; cached: boolean; path: string }> {
  const path = await resolveSource(train);
  const st = statSync(path);
  const key = createHash('sha256').update(JSON.stringify({ p: resolve(path), size: st.size, mtime: st.mtimeMs, opts })).digest('hex').slice(0, 20);
  const file = join(cacheDir(), 'ngram-index', `${key}.bin`);
  const t0 = performance.now();
  if (existsSync(file)) {
    try {
      return { index: NgramIndex.load(file), seconds: (performance.now() - t0) / 1000, cached: true, path: file };
    } catch {
      // a damaged cache file is rebuilt below
    }
  }
  const prog = new Progress({ label: 'n-gram index', unit: 'stories', quiet });
  const index = await NgramIndex.build(readDocuments(train), opts, (d) => prog.update(d));
  prog.done();
  const seconds = (performance.now() - t0) / 1000;
  mkdirSync(join(cacheDir(), 'ngram-index'), { recursive: true });
  index.save(file);
  return { index, seconds, cached: false, path: file };
}

const ROUGE_BINS = ['0-.1', '.1-.2', '.2-.3', '.3-.4', '.4-.5', '.5-.6', '.6-.7', '.7-.8', '.8-.9', '.9-1'];

/** Rouge-2/3/4 of each text against its closest training story (index candidates, then exact Rouge). */
export async function memorization(texts: string[], index: NgramIndex, train: string, candidates: number, worstN = 5, log?: (l: string) => void): Promise<MemorizationSummary> {
  const cands = texts.map((t) => index.candidates(t, candidates));
  const need = new Set<number>();
  for (const c of cands) for (const x of c) need.add(x.doc);
  log?.(`memorization: reading ${need.size} candidate stories from ${train}`);
  const stories = await fetchStories(readDocuments(train), need);
  const results = texts.map((t, i) => closestStory(t, cands[i]!.filter((c) => stories.has(c.doc)).map((c) => ({ doc: c.doc, text: stories.get(c.doc)! }))));
  const rouge = {} as MemorizationSummary['rouge'];
  const counts = {} as Record<2 | 3 | 4, number[]>;
  for (const k of [2, 3, 4] as const) {
    const xs = results.map((r) => r.rouge[k]);
    const s = summarize(xs);
    rouge[k] = { mean: s.mean, median: s.median, p95: quantile(xs, 0.95), max: s.max };
    counts[k] = new Array<number>(10).fill(0);
    for (const x of xs) counts[k][Math.min(9, Math.floor(x * 10))]!++;
  }
  const order = results.map((r, i) => ({ r, i })).sort((a, b) => b.r.rouge[4] - a.r.rouge[4] || b.r.rouge[3] - a.r.rouge[3] || a.i - b.i);
  const worst = order.slice(0, worstN).filter((o) => o.r.closestDoc >= 0).map(({ r, i }) => ({ index: i, completion: texts[i]!, story: stories.get(r.closestDoc) ?? '', storyId: r.closestDoc, rouge2: r.rouge[2], rouge3: r.rouge[3], rouge4: r.rouge[4] }));
  return { completions: texts.length, rouge, over05: results.filter((r) => r.rouge[4] > 0.5).length / Math.max(1, results.length), histogram: { labels: ROUGE_BINS, counts }, worst };
}

async function generateCompletions(model: Model, tokenizer: Tokenizer, prompts: string[], s: MetricsConfig['sampling'], gpu: GpuDecoding | null): Promise<string[]> {
  const session = gpu?.decoder(model);
  const out: string[] = [];
  for (let i = 0; i < prompts.length; i++) {
    let text = '';
    for await (const t of generate(model, tokenizer, prompts[i]!, { ...s, rng: rngFor(s.seed, i, 0), session })) text += t.text;
    out.push(text);
  }
  gpu?.release(model);
  return out;
}

/** Runs `eval metrics` and writes report.json + report.html into config.out. */
export async function runMetrics(config: MetricsConfig, io: { log?: (l: string) => void; quiet?: boolean } = {}): Promise<MetricsReport> {
  const log = io.log ?? ((l: string) => process.stderr.write(l + '\n'));
  if (config.runs.length === 0) throw new UserError('eval metrics: give at least one --run <run-dir>');
  mkdirSync(config.out, { recursive: true });
  const docs: string[] = [];
  for await (const d of readDocuments(config.data)) {
    docs.push(d);
    if (config.maxDocs !== null && docs.length >= config.maxDocs) break;
  }
  if (docs.length === 0) throw new UserError(`--data ${config.data}: no stories found`);
  const models = expandRuns(config.runs, config.checkpoints);
  const vocab = childVocabulary(config.vocabFile ?? undefined);
  const prompts = config.generate ? (config.beginnings ? loadBeginnings(config.beginnings) : docs.slice(0, config.samples).map(firstSentence)) : [];
  let idx: Awaited<ReturnType<typeof loadOrBuildIndex>> | null = null;
  if (config.train && config.generate) idx = await loadOrBuildIndex(config.train, config.index, io.quiet);
  const { backend, gpu, name: backendName } = await openBackendWithGpuDecoding(config.backend, config.threads, log);
  const reports: MetricsModelReport[] = [];
  try {
    for (const entry of models) {
      const { model, tokenizer } = loadRunModel(entry.path, backend);
      const stream = documentStream(docs.map((d) => tokenizer.encode(d)), tokenizer.eotId);
      const total = Math.min(stream.length - 1, config.maxTokens ?? Infinity);
      const window = chooseWindow(config.window, trainedContext(entry.path), model.cfg.maxSeqLen);
      if (window.warning) log(`warning: ${entry.id}: ${window.warning}`);
      if (!io.quiet) log(`${entry.id}: scoring with window ${describeWindow(window)}`);
      const prog = new Progress({ label: `score ${entry.id}`, total, unit: 'tok', quiet: io.quiet });
      const lm = scoreStream(modelScorer(model), stream, { window: window.used, tokenBytes: tokenByteLengths(tokenizer), batch: config.batch, maxTokens: config.maxTokens ?? undefined, onProgress: (d) => prog.update(d) });
      prog.done(`loss ${lm.loss.toFixed(3)} bpb ${lm.bitsPerByte!.toFixed(3)}`);
      let generation: GenerationMetrics | null = null;
      let mem: MemorizationSummary | null = null;
      if (config.generate && prompts.length) {
        const texts = await generateCompletions(model, tokenizer, prompts, config.sampling, gpu);
        generation = { completions: texts.length, distinct: { 1: distinctN(texts, 1).distinct, 2: distinctN(texts, 2).distinct, 3: distinctN(texts, 3).distinct }, vocab: vocabAdherence(texts, vocab) };
        // Memorization is measured on what the model wrote (the completion, without the prompt), as in the paper.
        if (idx && config.train) mem = await memorization(texts, idx.index, config.train, config.candidates, 5, io.quiet ? undefined : log);
      }
      reports.push({ id: entry.id, path: entry.path, weightsSha256: entry.weightsSha256, step: entry.step, params: model.numParams(), window, lm, generation, memorization: mem });
    }
  } finally {
    gpu?.dispose();
    backend.dispose();
  }
  let reference: MetricsReport['reference'] = null;
  if (config.generate) {
    // The held-out stories as a model would have continued them: the text after the first sentence (the prompt).
    const ref = docs.slice(0, Math.max(prompts.length, 1)).map((d) => {
      const head = firstSentence(d);
      return d.startsWith(head) ? d.slice(head.length).trim() : d;
    });
    reference = {
      texts: ref.length,
      distinct: { 1: distinctN(ref, 1).distinct, 2: distinctN(ref, 2).distinct, 3: distinctN(ref, 3).distinct },
      vocab: vocabAdherence(ref, vocab),
      memorization: idx && config.train ? await memorization(ref, idx.index, config.train, config.candidates) : null,
    };
  }
  const report: MetricsReport = {
    kind: 'tinystories-metrics',
    version: 1,
    created: new Date().toISOString(),
    config: { ...config, out: resolve(config.out) },
    data: { source: config.data, documents: docs.length },
    models: reports,
    reference,
    backend: backendName,
    memorizationIndex: idx ? { docs: idx.index.docs, n: idx.index.n, sample: idx.index.sample, maxPostings: idx.index.maxPostings, bytes: idx.index.memoryBytes(), buildSeconds: idx.seconds, cached: idx.cached, path: idx.path } : null,
  };
  writeFileAtomicSync(join(config.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileAtomicSync(join(config.out, 'report.html'), metricsReportHtml(report));
  return report;
}
