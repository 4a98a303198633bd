// Evaluations: GPT-Eval reports side by side, emergence curves, guess-rank histograms, memorization worst cases.
import { barChart, lineChart } from '../charts.ts';
import { api, errorBox, fmt, fmtCount, h, table } from '../util.ts';
import type { ScoreSummary } from '../../src/eval/aggregate.ts';
import type { MetricsModelReport } from '../../src/eval/report-types.ts';
import type { EvalEntry, EvalsResponse } from '../../src/server/api-types.ts';

const DIMS = ['grammar', 'creativity', 'consistency', 'plot', 'overall'] as const;

type GptEntry = Extract<EvalEntry, { kind: 'gpt-eval'; error?: undefined }>;
type MetricsEntry = Extract<EvalEntry, { kind: 'metrics'; error?: undefined }>;

// report.json files are read defensively (older ones lack some fields), hence the optional chaining below
function scoreCell(s: ScoreSummary | undefined): string {
  if (!s || !Number.isFinite(s.mean)) return '–';
  return `${s.mean.toFixed(2)} [${s.ci95?.[0]?.toFixed(2)}, ${s.ci95?.[1]?.toFixed(2)}]`;
}

export async function evalsPage(root: HTMLElement): Promise<void> {
  root.append(h('h2', {}, 'Evaluations'));
  const { reports } = await api<EvalsResponse>('/api/evals');
  if (reports.length === 0) {
    root.append(h('p', { class: 'muted' }, 'No evaluation reports under the runs directory yet. Write one with `tinystories eval gpt --run ... --out <runs>/evals/gpt` or `tinystories eval metrics --run ... --out <runs>/evals/metrics`.'));
    return;
  }
  const gpt = reports.filter((r): r is GptEntry => r.kind === 'gpt-eval' && !!r.report);
  const metrics = reports.filter((r): r is MetricsEntry => r.kind === 'metrics' && !!r.report);
  for (const r of reports.filter((x) => x.error)) root.append(errorBox(new Error(`${r.id}: ${r.error}`)));

  if (gpt.length) {
    root.append(h('h3', {}, 'GPT-Eval: mean score [95% CI] per dimension'));
    const rows: string[][] = [];
    for (const r of gpt) for (const m of r.report.models ?? []) rows.push([r.id || '.', m.id, fmtCount(m.params), String(m.step ?? '–'), ...DIMS.map((d) => scoreCell(d === 'overall' ? m.results?.overall : m.results?.scores?.[d])), `${m.results?.graded ?? '–'}/${m.results?.total ?? '–'}`]);
    root.append(table(['report', 'model', 'params', 'step', ...DIMS, 'graded'], rows, [2, 3]));
    // emergence: score vs parameters (all reports), and vs step (per run)
    const byParams = DIMS.map((d) => ({ label: d, x: [] as number[], y: [] as number[] }));
    for (const r of gpt) for (const [i, d] of DIMS.entries()) for (const p of r.report.emergence?.byParams?.[d] ?? []) {
      byParams[i]!.x.push(p.x);
      byParams[i]!.y.push(p.mean);
    }
    if (byParams.some((s) => s.x.length)) {
      const el = h('div', { class: 'chart', 'data-chart': 'emergence-params' });
      root.append(el);
      lineChart(el, 'score vs parameters', 'parameters', byParams, { logX: true, points: true });
    }
    for (const r of gpt) for (const run of r.report.emergence?.bySteps ?? []) {
      const el = h('div', { class: 'chart', 'data-chart': 'emergence-steps' });
      root.append(el);
      lineChart(el, `score vs training step: ${run.run}`, 'step', DIMS.map((d) => ({ label: d, x: (run.series?.[d] ?? []).map((p) => p.x), y: (run.series?.[d] ?? []).map((p) => p.mean) })), { points: true });
    }
    for (const r of gpt) for (const m of r.report.models ?? []) {
      const ages = m.results?.ages;
      if (!ages) continue;
      const labels = Object.keys(ages) as Array<keyof typeof ages>;
      const el = h('div', { class: 'chart', 'data-chart': 'ages' });
      root.append(el);
      barChart(el, `age groups the judge assigned: ${m.id}`, labels, [{ label: m.id, values: labels.map((k) => ages[k]) }], { height: 200 });
    }
  }

  if (metrics.length) {
    root.append(h('h3', {}, 'Automatic metrics'));
    const rows: string[][] = [];
    for (const r of metrics) for (const m of r.report.models ?? []) {
      rows.push([r.id || '.', m.id, fmtCount(m.params), String(m.step ?? '–'), fmt(m.lm?.loss), fmt(m.lm?.bitsPerByte), m.window ? `${m.window.used} (${m.window.source})` : fmtCount(m.lm?.window), fmt(m.lm?.perplexity, 2), fmt(m.lm?.rank?.mean, 2), fmt(m.lm?.rank?.top1, 3), fmt(m.generation?.distinct?.[2], 3), fmt(m.memorization?.rouge?.[4]?.mean, 3)]);
    }
    root.append(table(['report', 'model', 'params', 'step', 'val loss (nats/token)', 'bits/byte', 'window', 'perplexity', 'mean guess-rank', 'top-1', 'distinct-2', 'rouge-4 mean'], rows, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
    // loss and guess-rank against training step, one line per run (model ids are run@step-N for checkpoints)
    for (const r of metrics) {
      const byRun = new Map<string, MetricsModelReport[]>();
      for (const m of r.report.models ?? []) if (typeof m.step === 'number' && m.lm) byRun.set(String(m.id).split('@')[0]!, [...(byRun.get(String(m.id).split('@')[0]!) ?? []), m]);
      if (![...byRun.values()].some((ms) => ms.length >= 2)) continue;
      for (const [key, label] of [['loss', 'validation loss'], ['rank', 'mean guess-rank']] as const) {
        const el = h('div', { class: 'chart', 'data-chart': `metrics-${key}-steps` });
        root.append(el);
        lineChart(el, `${label} vs training step (${r.id || '.'})`, 'step', [...byRun].map(([run, ms]) => ({ label: run, x: ms.map((m) => m.step!), y: ms.map((m) => (key === 'loss' ? m.lm.loss : m.lm.rank?.mean)) })), { points: true, height: 240 });
      }
    }
    for (const r of metrics) {
      const models = (r.report.models ?? []).filter((m) => m.lm?.rank?.histogram);
      if (!models.length) continue;
      const labels: string[] = models[0]!.lm.rank.histogram.labels;
      const el = h('div', { class: 'chart', 'data-chart': 'rank-histogram' });
      root.append(el);
      barChart(el, `guess-rank histogram (${r.id || '.'})`, labels, models.map((m) => {
        const c: number[] = m.lm.rank.histogram.counts;
        const total = c.reduce((a, b) => a + b, 0) || 1;
        return { label: m.id, values: c.map((v) => v / total) };
      }), { width: 900 });
    }
    for (const r of metrics) for (const m of r.report.models ?? []) {
      const worst = m.memorization?.worst ?? [];
      if (!worst.length) continue;
      root.append(h('h3', {}, `memorization worst cases: ${m.id}`));
      root.append(table(['rouge-4', 'completion', 'closest training story'], worst.map((w) => [fmt(w.rouge4), w.completion.slice(0, 300), w.story.slice(0, 300)]), [0]));
    }
  }
}
