// `eval compare`: puts the models of several GPT-Eval report.json files (or several `eval metrics` reports) side by
// side in one report, after checking that they were measured the same way (judge, beginnings, sampling; held-out
// data and scoring limits); differences are listed, not hidden.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { emergenceSeries } from './aggregate.ts';
import type { GptEvalReport, GptModelReport } from './gpt-eval.ts';
import type { MetricsModelReport, MetricsReport } from './metrics.ts';
import { gptReportHtml, metricsReportHtml } from './report-html.ts';

function readJsonReport(path: string): { file: string; r: { kind?: unknown; version?: unknown } } {
  const file = path.endsWith('.json') ? path : join(path, 'report.json');
  try {
    return { file, r: JSON.parse(readFileSync(file, 'utf8')) as { kind?: unknown; version?: unknown } };
  } catch (e) {
    throw new UserError(`${file}: cannot read a report (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Whether a report.json (or a directory holding one) is an `eval metrics` report. */
export function isMetricsReport(path: string): boolean {
  return readJsonReport(path).r.kind === 'tinystories-metrics';
}

/** Reads an `eval metrics` report.json (or the directory holding one). */
export function readMetricsReport(path: string): MetricsReport {
  const { file, r } = readJsonReport(path);
  if (r.kind !== 'tinystories-metrics' || r.version !== 1) throw new UserError(`${file}: not an eval metrics report.json (kind ${JSON.stringify(r.kind)}, version ${r.version})`);
  return r as MetricsReport;
}

/** One line per setting (label, getter) on which a report differs from the first. */
function settingIssues<R>(reports: Array<{ name: string; report: R }>, fields: Array<[string, (r: R) => unknown]>): string[] {
  const issues: string[] = [];
  const base = reports[0]!;
  for (const other of reports.slice(1)) {
    for (const [label, get] of fields) {
      const a = get(base.report);
      const b = get(other.report);
      if (JSON.stringify(a) !== JSON.stringify(b)) issues.push(`${label}: ${JSON.stringify(a)} in ${base.name}, ${JSON.stringify(b)} in ${other.name}`);
    }
  }
  return issues;
}

/**
 * Reads two or more reports, lists how they were measured differently (an error with `strict`) and concatenates
 * their models in the given order, ids made unique (`id#2`, ...).
 */
function mergeReports<R extends { models: M[] }, M extends { id: string }>(paths: string[], read: (path: string) => R, issuesOf: (reports: Array<{ name: string; report: R }>) => string[], strict: boolean): { first: R; models: M[]; issues: string[] } {
  if (paths.length < 2) throw new UserError('eval compare: give at least two report.json files (or eval output directories)');
  const reports = paths.map((p) => ({ name: p, report: read(p) }));
  const issues = issuesOf(reports);
  if (strict && issues.length) throw new UserError(`eval compare: the reports were not measured the same way: ${issues[0]}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`);
  const seen = new Set<string>();
  const models: M[] = [];
  for (const { report } of reports) {
    for (const m of report.models) {
      let id = m.id;
      for (let k = 2; seen.has(id); k++) id = `${m.id}#${k}`;
      seen.add(id);
      models.push({ ...m, id });
    }
  }
  return { first: reports[0]!.report, models, issues };
}

/** Settings that must agree for held-out losses to be comparable; one line per difference. */
export function metricsComparabilityIssues(reports: Array<{ name: string; report: MetricsReport }>): string[] {
  const fields: Array<[string, (r: MetricsReport) => unknown]> = [
    ['held-out data', (r) => r.data.source],
    ['held-out stories', (r) => r.data.documents],
    ['--score-tokens', (r) => r.config.maxTokens],
    ['--window', (r) => r.config.window],
  ];
  return settingIssues(reports, fields);
}

/**
 * Merges `eval metrics` reports (models in the given order; ids made unique) and writes report.json + report.html
 * into `out`: loss in nats/token and bits per byte side by side (only bits per byte compares across tokenizers).
 */
export function compareMetricsReports(paths: string[], out: string, strict = false): { report: MetricsReport & { comparedFrom: string[]; comparability: string[] }; issues: string[] } {
  const { first, models, issues } = mergeReports<MetricsReport, MetricsModelReport>(paths, readMetricsReport, metricsComparabilityIssues, strict);
  const report = { ...first, created: new Date().toISOString(), models, comparedFrom: paths.map((p) => resolve(p)), comparability: issues };
  writeFileAtomicSync(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileAtomicSync(join(out, 'report.html'), metricsReportHtml(report));
  return { report, issues };
}

/** Reads a GPT-Eval report.json (or the directory holding one). */
export function readGptReport(path: string): GptEvalReport {
  const { file, r } = readJsonReport(path);
  if (r.kind !== 'tinystories-gpt-eval' || r.version !== 1) throw new UserError(`${file}: not a GPT-Eval report.json (kind ${JSON.stringify(r.kind)}, version ${r.version})`);
  return r as GptEvalReport;
}

/** Settings that must agree for scores to be comparable; returns one line per difference. */
export function comparabilityIssues(reports: Array<{ name: string; report: GptEvalReport }>): string[] {
  const fields: Array<[string, (r: GptEvalReport) => unknown]> = [
    ['judge model', (r) => r.judge.model],
    ['judge provider', (r) => r.judge.provider],
    ['judge temperature', (r) => r.judge.temperature],
    ['judge JSON mode', (r) => r.judge.json],
    ['beginnings (sha256)', (r) => r.beginnings.sha256],
    ['completions per beginning', (r) => r.config.sampling.completions],
    ['temperature', (r) => r.config.sampling.temperature],
    ['top-k/top-p', (r) => `${r.config.sampling.topK}/${r.config.sampling.topP}`],
    ['max tokens', (r) => r.config.sampling.maxTokens],
  ];
  return settingIssues(reports, fields);
}

/**
 * Merges reports into one (models in the given order; ids made unique), recomputes the emergence series and
 * writes report.json + report.html into `out`. With `strict`, any comparability issue is an error.
 */
export function compareReports(paths: string[], out: string, strict = false): { report: GptEvalReport & { comparedFrom: string[]; comparability: string[] }; issues: string[] } {
  const { first, models, issues } = mergeReports<GptEvalReport, GptModelReport>(paths, readGptReport, comparabilityIssues, strict);
  const latest = new Map<string, GptModelReport>();
  for (const m of models) latest.set(m.run, m);
  const runs = [...new Set(models.map((m) => m.run))];
  const report = {
    ...first,
    created: new Date().toISOString(),
    models,
    emergence: {
      byParams: emergenceSeries([...latest.values()].map((m) => ({ id: m.id, x: m.params, scores: m.results }))),
      bySteps: runs
        .map((run) => ({ run, series: emergenceSeries(models.filter((m) => m.run === run).map((m) => ({ id: m.id, x: m.step, scores: m.results }))) }))
        .filter((s) => s.series.overall.length > 1),
    },
    comparedFrom: paths.map((p) => resolve(p)),
    comparability: issues,
  };
  writeFileAtomicSync(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileAtomicSync(join(out, 'report.html'), gptReportHtml(report, issues));
  return { report, issues };
}
