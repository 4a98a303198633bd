// Runs page: the table of runs and overlaid loss curves (train and val vs step / tokens / wall time), live.
import type uPlot from 'uplot';
import { alignSeries, lineChart, type Series } from '../charts.ts';
import { source } from '../source.ts';
import { api, errorBox, fmt, fmtCount, h, table } from '../util.ts';
import type { MetricColumns, MetricsAllResponse, MetricsSlice, RunsResponse, RunSummary } from '../../src/server/api-types.ts';

// the server's own response types (no redeclared copies that drift)
type Cols = MetricsSlice;
type RunRow = RunSummary;
type XKey = 'step' | 'tokens' | 'wall_s';

const X_LABEL: Record<XKey, string> = { step: 'step', tokens: 'tokens', wall_s: 'wall time (s)' };

export async function runsPage(root: HTMLElement, onLeave: (f: () => void) => void): Promise<void> {
  root.append(h('h2', {}, 'Runs'));
  const [list, all] = await Promise.all([api<RunsResponse>('/api/runs'), api<MetricsAllResponse>('/api/metrics-all', { max: 1000 })]);
  const metrics = all.runs;
  let runs = list.runs;
  root.append(h('p', { class: 'muted' }, runs.length ? `${runs.length} run(s) in ${list.root}` : `No runs in ${list.root} yet: train one into it (\`tinystories train --out ${list.root}/first-run\`) and it appears here, live.`));
  const tableBox = h('div', { 'data-role': 'runs-table' });
  root.append(tableBox);
  const drawTable = () => {
    tableBox.textContent = '';
    tableBox.append(
      table(
        ['run', 'model', 'params', 'step', 'tokens seen', 'best val loss', 'bits/byte', 'last loss', 'tokens/s', ''],
        runs.map((r) => [
          r.id, r.arch ? `${r.arch} d${r.dim} L${r.layers}` : '–', fmtCount(r.params), r.step === null ? '–' : `${r.step}${r.totalSteps ? ' / ' + r.totalSteps : ''}`, fmtCount(r.tokens),
          fmt(r.bestValLoss), fmt(r.bestValBpb ?? null), fmt(r.lastLoss), fmtCount(r.tokensPerSecond), r.error ? [r.error, 'error'] : r.live ? h('span', { class: 'live' }, 'live') : '',
        ]),
        [2, 3, 4, 5, 6, 7, 8],
      ),
    );
  };
  drawTable();
  let xKey: XKey = (localStorage.getItem('ts.runs.x') as XKey) || 'step';
  const xSel = h('select', { 'data-role': 'x-axis' }, ...(['step', 'tokens', 'wall_s'] as XKey[]).map((k) => h('option', { value: k, selected: k === xKey }, X_LABEL[k])));
  root.append(h('div', { class: 'controls' }, h('label', {}, 'x axis ', xSel), h('span', { class: 'muted', 'data-role': 'live-status' }, 'live updates: connecting…')));
  const trainEl = h('div', { class: 'chart', 'data-chart': 'train-loss' });
  const valEl = h('div', { class: 'chart', 'data-chart': 'val-loss' });
  // bits per byte: the validation loss measured against the text, comparable across tokenizers
  const bpbEl = h('div', { class: 'chart', 'data-chart': 'val-bpb' });
  root.append(trainEl, valEl, bpbEl);
  const ids = () => runs.filter((r) => metrics[r.id] && !metrics[r.id]!.error).map((r) => r.id);
  const trainSeries = (): Series[] => ids().map((id) => ({ label: id, x: metrics[id]![xKey] ?? [], y: metrics[id]!.loss ?? [] }));
  const valSeries = (): Series[] => ids().map((id) => ({ label: id, x: metrics[id]![`val_${xKey}` as keyof MetricColumns] ?? [], y: metrics[id]!.val_loss ?? [] }));
  const bpbSeries = (): Series[] => ids().map((id) => ({ label: id, x: metrics[id]![`val_${xKey}` as keyof MetricColumns] ?? [], y: (metrics[id]!.val_bpb ?? []).map((v) => v ?? NaN) }));
  let train: uPlot | null = null;
  let val: uPlot | null = null;
  let bpb: uPlot | null = null;
  const draw = () => {
    train?.destroy();
    val?.destroy();
    bpb?.destroy();
    train = lineChart(trainEl, 'train loss', X_LABEL[xKey], trainSeries());
    val = lineChart(valEl, 'validation loss (nats/token)', X_LABEL[xKey], valSeries(), { points: true });
    bpb = lineChart(bpbEl, 'validation bits per byte', X_LABEL[xKey], bpbSeries(), { points: true });
  };
  draw();
  xSel.addEventListener('change', () => {
    xKey = xSel.value as XKey;
    localStorage.setItem('ts.runs.x', xKey);
    draw();
  });

  // live updates: append rows to the runs' columns; redraw at most once a second
  let dirty = false;
  const status = root.querySelector('[data-role=live-status]')!;
  const onMetrics = (m: Cols & { id: string; from: number; valFrom: number; summary: RunRow }) => {
    const cur = metrics[m.id];
    const have = cur?.rows ?? 0;
    if (!cur || cur.error || m.from > have) {
      // unknown run, or rows missed between the page's fetch and this event: fetch the run again
      void api<Cols>('/api/metrics', { id: m.id, max: 1000 }).then((c) => {
        metrics[m.id] = c;
        dirty = true;
      });
    } else {
      // the event may overlap rows the page already fetched: append only the new ones
      const skip = have - m.from;
      for (const k of ['step', 'loss', 'lr', 'tokens', 'wall_s', 'tokens_per_s'] as const) (cur[k] ??= []).push(...(m[k] ?? []).slice(skip));
      const vals = m.val_step ?? [];
      const lastVal = cur.val_step?.at(-1) ?? -Infinity;
      const vskip = vals.findIndex((s) => s > lastVal);
      if (vskip >= 0) for (const k of ['val_step', 'val_loss', 'val_bpb', 'val_tokens', 'val_wall_s'] as const) (cur[k] ??= []).push(...(m[k] ?? []).slice(vskip));
      cur.rows = Math.max(have, m.from + (m.step?.length ?? 0));
    }
    const i = runs.findIndex((r) => r.id === m.id);
    if (i >= 0) runs[i] = m.summary;
    dirty = true;
  };
  const reload = async () => {
    const [l, a] = await Promise.all([api<RunsResponse>('/api/runs'), api<MetricsAllResponse>('/api/metrics-all', { max: 1000 })]);
    runs = l.runs;
    Object.assign(metrics, a.runs);
    dirty = true;
  };
  const closeLive = source().stream('/api/live', {}, {
    hello: () => (status.textContent = 'live updates: on'),
    metrics: onMetrics,
    runs: () => void reload().catch((e) => root.append(errorBox(e))),
    reset: () => void reload().catch((e) => root.append(errorBox(e))),
  }, () => (status.textContent = 'live updates: reconnecting…'));
  const timer = setInterval(() => {
    if (!dirty) return;
    dirty = false;
    drawTable();
    if (train && val && train.series.length - 1 === ids().length) {
      train.setData(alignSeries(trainSeries()));
      val.setData(alignSeries(valSeries()));
      bpb?.setData(alignSeries(bpbSeries()));
    } else draw();
  }, 1000);
  onLeave(() => {
    closeLive();
    clearInterval(timer);
    train?.destroy();
    val?.destroy();
    bpb?.destroy();
  });
}
