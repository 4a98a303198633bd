// `eval gpt`: the paper's GPT-Eval end to end — beginnings → completions per model → two-turn judge → aggregates,
// emergence curves → report.json + report.html (+ completions/ and judgments.jsonl) in the out directory.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveSource } from '../data/read.ts';
import { createProvider, type ProviderName } from '../llm/index.ts';
import { PriceTable } from '../llm/pricing.ts';
import { Scheduler, type SchedulerOptions } from '../llm/scheduler.ts';
import type { ChatProvider, Usage } from '../llm/types.ts';
import type { BackendKind } from '../engine/open-backend.ts';
import { openBackendWithGpuDecoding } from '../sample/gpu-decoding.ts';
import { writeFileAtomicSync } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { Progress } from '../util/progress.ts';
import { aggregateScores, CI_METHOD, emergenceSeries, type EmergencePoint, type ModelScores } from './aggregate.ts';
import { JudgeCache, defaultJudgeCachePath } from './cache.ts';
import { completeBeginnings, type CompletionSet, type SamplingConfig } from './completions.ts';
import type { Dimension, Grades } from './grades.ts';
import { judgeCompletion, type JudgeOutcome, type JudgeSettings } from './judge.ts';
import { expandRuns, type ModelEntry } from './models.ts';
import { BUILTIN_BEGINNINGS, DEFAULT_BEGINNINGS, JUDGE_TURN1, JUDGE_TURN2, loadBeginnings } from './prompts.ts';
import { gptReportHtml } from './report-html.ts';
import type { GptEvalConfig, GptEvalReport, GptModelReport, JudgeConfig } from './report-types.ts';

export type { GptEvalConfig, GptEvalReport, GptModelReport, JudgeConfig };

export const GPT_EVAL_DEFAULTS = {
  checkpoints: false,
  beginnings: DEFAULT_BEGINNINGS,
  limit: null,
  sampling: { completions: 10, temperature: 1, topK: 0, topP: 1, maxTokens: 300, seed: 1 } satisfies SamplingConfig,
  judge: { temperature: 0, json: false, concurrency: 8, maxRetries: 6, parseRetries: 2, timeoutMs: 120_000 },
  // the WASM engine when it loads (~4x the reference per generated token for the 1M preset), else the reference
  backend: 'auto' as BackendKind,
  threads: 0,
};

/** Hooks for tests and the CLI. */
export interface GptEvalIO {
  log?: (line: string) => void;
  quiet?: boolean;
  /** A provider to use instead of createProvider (tests). */
  provider?: ChatProvider;
  /** Scheduler overrides (tests shorten backoff). */
  scheduler?: SchedulerOptions;
}

/** Runs GPT-Eval and writes report.json, report.html, judgments.jsonl and completions/ into config.out. */
export async function runGptEval(config: GptEvalConfig, io: GptEvalIO = {}): Promise<GptEvalReport> {
  const log = io.log ?? ((l: string) => process.stderr.write(l + '\n'));
  if (config.runs.length === 0) throw new UserError('eval gpt: give at least one --run <run-dir>');
  if (!(config.sampling.completions >= 1)) throw new UserError(`--completions: expected a positive integer, got ${config.sampling.completions}`);
  mkdirSync(config.out, { recursive: true });
  const source = config.beginnings === BUILTIN_BEGINNINGS ? BUILTIN_BEGINNINGS : await resolveSource(config.beginnings);
  let beginnings = loadBeginnings(source);
  if (config.limit !== null) beginnings = beginnings.slice(0, config.limit);
  const models = expandRuns(config.runs, config.checkpoints);
  const provider = io.provider ?? createProvider({ provider: config.judge.provider, baseURL: config.judge.baseURL, timeoutMs: config.judge.timeoutMs });
  const scheduler = new Scheduler(provider, {
    concurrency: config.judge.concurrency,
    rpm: config.judge.rpm,
    tpm: config.judge.tpm,
    maxRetries: config.judge.maxRetries,
    timeoutMs: config.judge.timeoutMs,
    onRetry: (i) => log(`judge: retry ${i.attempt} after ${i.error.kind} (${Math.round(i.delayMs)} ms)`),
    ...io.scheduler,
  });
  const cachePath = config.judge.cache ?? defaultJudgeCachePath(config.out);
  const cache = new JudgeCache(cachePath);
  const prices = config.judge.pricesFile ? PriceTable.fromFile(config.judge.pricesFile) : new PriceTable();
  const settings: JudgeSettings = {
    scheduler,
    providerName: provider.name,
    model: config.judge.model,
    cache,
    temperature: config.judge.temperature,
    json: config.judge.json,
    parseRetries: config.judge.parseRetries,
  };
  const { backend, gpu, name: backendName } = await openBackendWithGpuDecoding(config.backend, config.threads, log);
  const reportedModels = new Set<string>();
  const perModelLines: string[][] = models.map(() => []);
  // Generation (CPU) and judging (network) overlap: a model's completions go to the judge while the next model
  // generates. One progress line counts both.
  const perModel = beginnings.length * config.sampling.completions;
  const prog = new Progress({ label: 'eval gpt', total: 2 * perModel * models.length, unit: 'steps', quiet: io.quiet });
  let generated = 0;
  let judged = 0;
  const tick = () => prog.update(generated + judged, `generated ${generated}/${perModel * models.length}, judged ${judged}/${perModel * models.length}`);
  const pending: Array<Promise<GptModelReport>> = [];
  let reports: GptModelReport[];
  try {
    try {
      for (const [mi, entry] of models.entries()) {
        const base = generated;
        const set = await completeBeginnings(entry, beginnings, config.sampling, backend, config.out, (d) => {
          generated = base + d;
          tick();
        }, gpu);
        generated = base + set.completions.length;
        tick();
        const job = Promise.all(
          set.completions.map(async (c) => {
            const o = await judgeCompletion(beginnings[c.beginning]!, c.text, settings);
            judged++;
            tick();
            return o;
          }),
        ).then((outcomes) => modelReport(entry, set, outcomes, perModelLines[mi]!));
        job.catch(() => {}); // observed below; keeps a failure during a later generation from being unhandled
        pending.push(job);
      }
    } finally {
      gpu?.dispose();
      backend.dispose();
      // a generation error still waits for the judge calls in flight, so the cache is closed after them
      await Promise.allSettled(pending);
    }
    reports = await Promise.all(pending);
  } finally {
    prog.done();
    cache.close();
  }
  const judgmentLines = perModelLines.flat();

  function modelReport(entry: ModelEntry, set: CompletionSet, outcomes: JudgeOutcome[], lines: string[]): GptModelReport {
    const usage: Usage = { inputTokens: 0, outputTokens: 0 };
    let calls = 0;
    let cached = 0;
    outcomes.forEach((o, k) => {
      const c = set.completions[k]!;
      usage.inputTokens += o.usage.inputTokens;
      usage.outputTokens += o.usage.outputTokens;
      calls += o.calls;
      cached += o.cachedCalls;
      if (o.judgeModel) reportedModels.add(o.judgeModel);
      lines.push(JSON.stringify({ model: entry.id, beginning: c.beginning, sample: c.sample, completion: c.text, status: o.status, grades: o.grades, attempts: o.attempts, reason: o.reason, assessment: o.assessment, answer: o.answer }));
    });
    const results = aggregateScores(outcomes.map((o, k) => ({ beginning: set.completions[k]!.beginning, status: o.status, grades: o.grades })), 1);
    if (results.unparseable || results.failed) log(`judge ${entry.id}: ${results.unparseable} unparseable, ${results.failed} failed of ${results.total} (counted in report.json, not dropped)`);
    return {
      id: entry.id,
      path: entry.path,
      run: entry.run,
      step: entry.step,
      params: set.params,
      arch: set.arch,
      weightsSha256: entry.weightsSha256,
      completions: set.completions.length,
      completionsReused: set.reused,
      generationTokensPerSecond: set.tokensPerSecond,
      meanCompletionTokens: set.completions.reduce((n, c) => n + c.tokens, 0) / Math.max(1, set.completions.length),
      cutAtMaxTokens: set.completions.filter((c) => c.stop === 'length').length,
      results,
      judgeUsage: usage,
      judgeCalls: calls,
      judgeCachedCalls: cached,
      judgeCostUsd: prices.cost(config.judge.model, usage),
      examples: outcomes
        .map((o, k) => ({ o, c: set.completions[k]! }))
        .filter(({ o, c }) => o.status === 'graded' && c.sample === 0)
        .slice(0, 3)
        .map(({ o, c }) => ({ beginning: c.beginning, completion: c.text, grades: o.grades!, answer: o.answer ?? '' })),
    };
  }
  const report = buildGptReport(config, source, beginnings, models, reports, [...reportedModels], { path: cachePath, hits: cache.hits, misses: cache.misses }, backendName);
  writeFileAtomicSync(join(config.out, 'judgments.jsonl'), judgmentLines.join('\n') + '\n');
  writeFileAtomicSync(join(config.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileAtomicSync(join(config.out, 'report.html'), gptReportHtml(report));
  const total = reports.reduce((n, r) => n + r.results.total, 0);
  const failed = reports.reduce((n, r) => n + r.results.failed, 0);
  if (total > 0 && failed === total) {
    const first = judgmentLines.map((l) => JSON.parse(l) as { reason: string | null }).find((j) => j.reason)?.reason ?? 'unknown error';
    throw new UserError(`eval gpt: every judge call failed (${failed} completions; first error: ${first}); the report in ${config.out} lists them`);
  }
  return report;
}

function buildGptReport(config: GptEvalConfig, source: string, beginnings: string[], models: ModelEntry[], reports: GptModelReport[], reportedModels: string[], cache: GptEvalReport['cache'], backend: string): GptEvalReport {
  // score vs size: one point per run, its latest weights (the last entry of each run)
  const latest = new Map<string, GptModelReport>();
  for (const r of reports) latest.set(r.run, r);
  const byParams = emergenceSeries([...latest.values()].map((r) => ({ id: r.id, x: r.params, scores: r.results })));
  const runs = [...new Set(models.map((m) => m.run))];
  const bySteps = runs
    .map((run) => ({ run, series: emergenceSeries(reports.filter((r) => r.run === run).map((r) => ({ id: r.id, x: r.step, scores: r.results }))) }))
    .filter((s) => s.series.overall.length > 1);
  return {
    kind: 'tinystories-gpt-eval',
    version: 1,
    created: new Date().toISOString(),
    config: { ...config, out: resolve(config.out) },
    beginnings: { source: config.beginnings === source ? source : `${config.beginnings} (${source})`, count: beginnings.length, sha256: createHash('sha256').update(JSON.stringify(beginnings)).digest('hex'), texts: beginnings },
    judge: {
      provider: config.judge.provider,
      baseURL: config.judge.baseURL ?? null,
      model: config.judge.model,
      reportedModels,
      temperature: config.judge.temperature,
      json: config.judge.json,
      turn1: JUDGE_TURN1,
      turn2: JUDGE_TURN2,
    },
    seeds: { sampling: config.sampling.seed, bootstrap: 1, note: 'completion j of beginning i samples from rngFor(seed, i, j) (src/synth/prompts.ts)' },
    ci: CI_METHOD,
    cache,
    backend,
    models: reports,
    emergence: { byParams, bySteps },
    files: { judgments: 'judgments.jsonl', completions: 'completions/' },
  };
}
