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
import { openBackend, type BackendKind } from '../train/backend-choice.ts';
import { writeFileAtomicSync } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { Progress } from '../util/progress.ts';
import { aggregateScores, CI_METHOD, emergenceSeries, type EmergencePoint, type ModelScores } from './aggregate.ts';
import { JudgeCache, defaultJudgeCachePath } from './cache.ts';
import { completeBeginnings, type SamplingConfig } from './completions.ts';
import type { Dimension } from './grades.ts';
import { judgeCompletion, type JudgeOutcome, type JudgeSettings } from './judge.ts';
import { expandRuns, type ModelEntry } from './models.ts';
import { DEFAULT_BEGINNINGS, JUDGE_TURN1, JUDGE_TURN2, loadBeginnings } from './prompts.ts';
import { gptReportHtml } from './report-html.ts';

/** The judge: which API, which model, how to call it. */
export interface JudgeConfig {
  provider: ProviderName;
  baseURL?: string;
  model: string;
  temperature: number;
  /** Structured-output mode: ask turn 2 for JSON. */
  json: boolean;
  concurrency: number;
  rpm?: number;
  tpm?: number;
  /** Transport retries per call (scheduler). */
  maxRetries: number;
  /** Extra turn-2 tries after unreadable grades. */
  parseRetries: number;
  timeoutMs: number;
  /** Judge-call cache file; default defaultJudgeCachePath(out). */
  cache?: string;
  /** Price table overrides file (USD per 1M tokens). */
  pricesFile?: string;
}

export interface GptEvalConfig {
  runs: string[];
  /** Also evaluate every checkpoint of each run (score vs training step). */
  checkpoints: boolean;
  /** A beginnings file (YAML/JSON) or hf: spec; default the paper's 44 from the hub. */
  beginnings: string;
  /** Use only the first n beginnings (quick runs); null = all. */
  limit: number | null;
  sampling: SamplingConfig;
  judge: JudgeConfig;
  backend: BackendKind;
  threads: number;
  out: string;
}

export const GPT_EVAL_DEFAULTS = {
  checkpoints: false,
  beginnings: DEFAULT_BEGINNINGS,
  limit: null,
  sampling: { completions: 10, temperature: 1, topK: 0, topP: 1, maxTokens: 300, seed: 1 } satisfies SamplingConfig,
  judge: { temperature: 0, json: false, concurrency: 8, maxRetries: 6, parseRetries: 2, timeoutMs: 120_000 },
  backend: 'ref' as BackendKind,
  threads: 1,
};

/** Per-model section of report.json. */
export interface GptModelReport {
  id: string;
  path: string;
  run: string;
  step: number | null;
  params: number;
  arch: string;
  weightsSha256: string;
  completions: number;
  completionsReused: boolean;
  generationTokensPerSecond: number;
  meanCompletionTokens: number;
  cutAtMaxTokens: number;
  results: ModelScores;
  judgeUsage: Usage;
  judgeCalls: number;
  judgeCachedCalls: number;
  judgeCostUsd: number | null;
}

export interface GptEvalReport {
  kind: 'tinystories-gpt-eval';
  version: 1;
  created: string;
  config: Omit<GptEvalConfig, 'out'> & { out: string };
  beginnings: { source: string; count: number; sha256: string };
  judge: { provider: string; baseURL: string | null; model: string; reportedModels: string[]; temperature: number; json: boolean; turn1: string; turn2: string };
  seeds: { sampling: number; bootstrap: number; note: string };
  ci: string;
  cache: { path: string; hits: number; misses: number };
  models: GptModelReport[];
  emergence: {
    byParams: Record<Dimension | 'overall', EmergencePoint[]>;
    bySteps: Array<{ run: string; series: Record<Dimension | 'overall', EmergencePoint[]> }>;
  };
  /** Where each completion's judgment is listed. */
  files: { judgments: string; completions: string };
}

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
  const source = await resolveSource(config.beginnings);
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
  const backend = await openBackend(config.backend, config.threads, log);
  const reports: GptModelReport[] = [];
  const reportedModels = new Set<string>();
  const judgmentLines: string[] = [];
  try {
    for (const entry of models) {
      const gen = new Progress({ label: `generate ${entry.id}`, total: beginnings.length * config.sampling.completions, unit: 'stories', quiet: io.quiet });
      const set = await completeBeginnings(entry, beginnings, config.sampling, backend, config.out, (d) => gen.update(d));
      gen.done(set.reused ? '(reused)' : `${set.tokensPerSecond.toFixed(0)} tok/s`);
      const prog = new Progress({ label: `judge ${entry.id}`, total: set.completions.length, unit: 'stories', quiet: io.quiet });
      let done = 0;
      const outcomes: JudgeOutcome[] = await Promise.all(
        set.completions.map(async (c) => {
          const o = await judgeCompletion(beginnings[c.beginning]!, c.text, settings);
          prog.update(++done);
          return o;
        }),
      );
      prog.done();
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
        judgmentLines.push(JSON.stringify({ model: entry.id, beginning: c.beginning, sample: c.sample, completion: c.text, status: o.status, grades: o.grades, attempts: o.attempts, reason: o.reason, assessment: o.assessment, answer: o.answer }));
      });
      const results = aggregateScores(outcomes.map((o, k) => ({ beginning: set.completions[k]!.beginning, status: o.status, grades: o.grades })), 1);
      if (results.unparseable || results.failed) log(`judge ${entry.id}: ${results.unparseable} unparseable, ${results.failed} failed of ${results.total} (counted in report.json, not dropped)`);
      reports.push({
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
        meanCompletionTokens: set.completions.reduce((s, c) => s + c.tokens, 0) / Math.max(1, set.completions.length),
        cutAtMaxTokens: set.completions.filter((c) => c.stop === 'length').length,
        results,
        judgeUsage: usage,
        judgeCalls: calls,
        judgeCachedCalls: cached,
        judgeCostUsd: prices.cost(config.judge.model, usage),
      });
    }
  } finally {
    backend.dispose();
    cache.close();
  }
  const report = buildGptReport(config, source, beginnings, models, reports, [...reportedModels], { path: cachePath, hits: cache.hits, misses: cache.misses });
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

function buildGptReport(config: GptEvalConfig, source: string, beginnings: string[], models: ModelEntry[], reports: GptModelReport[], reportedModels: string[], cache: GptEvalReport['cache']): GptEvalReport {
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
    beginnings: { source: config.beginnings === source ? source : `${config.beginnings} (${source})`, count: beginnings.length, sha256: createHash('sha256').update(JSON.stringify(beginnings)).digest('hex') },
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
    models: reports,
    emergence: { byParams, bySteps },
    files: { judgments: 'judgments.jsonl', completions: 'completions/' },
  };
}
