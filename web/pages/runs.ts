// Runs page: the table of runs and overlaid loss curves (train and val vs step / tokens / wall time), live.
import type uPlot from 'uplot';
import { alignSeries, lineChart, type Series } from '../charts.ts';
import { api, errorBox, fmt, fmtCount, h, table } from '../util.ts';

type Cols = Record<string, number[]> & { rows?: number; generation?: number; error?: string };
type XKey = 'step' | 'tokens' | 'wall_s';

interface RunRow {
  id: string; arch: string | null; params: number | null; dim: number | null; layers: number | null; step: number | null; totalSteps: number | null; tokens: number | null;
  bestValLoss: number | null; lastLoss: number | null; tokensPerSecond: number | null; live: boolean; error?: string; checkpoints: string[];
}

const X_LABEL: Record<XKey, string> = { step: 'step', tokens: 'tokens', wall_s: 'wall time (s)' };

export async function runsPage(root: HTMLElement, onLeave: (f: () => void) => void): Promise<void> {
  root.append(h('h2', {}, 'Runs'));
  const [list, all] = await Promise.all([api<{ root: string; runs: RunRow[] }>('/api/runs'), api<{ runs: Record<string, Cols> }>('/api/metrics-all', { max: 1000 })]);
  const metrics = all.runs;
  let runs = list.runs;
  root.append(h('p', { class: 'muted' }, runs.length ? `${runs.length} run(s) in ${list.root}` : `No runs in ${list.root} yet: train one into it (\`tinystories train --out ${list.root}/first-run\`) and it appears here, live.`));
  const tableBox = h('div', { 'data-role': 'runs-table' });
  root.append(tableBox);
  const drawTable = () => {
    tableBox.textContent = '';
    tableBox.append(
      table(
        ['run', 'model', 'params', 'step', 'tokens seen', 'best val loss', 'last loss', 'tokens/s', ''],
        runs.map((r) => [
          r.id, r.arch ? `${r.arch} d${r.dim} L${r.layers}` : '–', fmtCount(r.params), r.step === null ? '–' : `${r.step}${r.totalSteps ? ' / ' + r.totalSteps : ''}`, fmtCount(r.tokens),
          fmt(r.bestValLoss), fmt(r.lastLoss), fmtCount(r.tokensPerSecond), r.error ? [r.error, 'error'] : r.live ? h('span', { class: 'live' }, 'live') : '',
        ]),
        [2, 3, 4, 5, 6, 7],
      ),
    );
  };
  drawTable();
  let xKey: XKey = (localStorage.getItem('ts.runs.x') as XKey) || 'step';
  const xSel = h('select', { 'data-role': 'x-axis' }, ...(['step', 'tokens', 'wall_s'] as XKey[]).map((k) => h('option', { value: k, selected: k === xKey }, X_LABEL[k])));
  root.append(h('div', { class: 'controls' }, h('label', {}, 'x axis ', xSel), h('span', { class: 'muted', 'data-role': 'live-status' }, 'live updates: connecting…')));
  const trainEl = h('div', { class: 'chart', 'data-chart': 'train-loss' });
  const valEl = h('div', { class: 'chart', 'data-chart': 'val-loss' });
  root.append(trainEl, valEl);
  const ids = () => runs.filter((r) => metrics[r.id] && !metrics[r.id]!.error).map((r) => r.id);
  const trainSeries = (): Series[] => ids().map((id) => ({ label: id, x: metrics[id]![xKey] ?? [], y: metrics[id]!.loss ?? [] }));
  const valSeries = (): Series[] => ids().map((id) => ({ label: id, x: metrics[id]![`val_${xKey}` as string] ?? [], y: metrics[id]!.val_loss ?? [] }));
  let train: uPlot | null = null;
  let val: uPlot | null = null;
  const draw = () => {
    train?.destroy();
    val?.destroy();
    train = lineChart(trainEl, 'train loss', X_LABEL[xKey], trainSeries());
    val = lineChart(valEl, 'validation loss', X_LABEL[xKey], valSeries(), { points: true });
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
  const es = new EventSource('/api/live');
  es.addEventListener('hello', () => (status.textContent = 'live updates: on'));
  es.addEventListener('metrics', (ev) => {
    const m = JSON.parse((ev as MessageEvent).data) as Cols & { id: string; from: number; valFrom: number; summary: RunRow };
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
      for (const k of ['step', 'loss', 'lr', 'tokens', 'wall_s', 'tokens_per_s']) (cur[k] ??= []).push(...(m[k] ?? []).slice(skip));
      const vals = m.val_step ?? [];
      const lastVal = cur.val_step?.at(-1) ?? -Infinity;
      const vskip = vals.findIndex((s) => s > lastVal);
      if (vskip >= 0) for (const k of ['val_step', 'val_loss', 'val_tokens', 'val_wall_s']) (cur[k] ??= []).push(...(m[k] ?? []).slice(vskip));
      cur.rows = Math.max(have, m.from + (m.step?.length ?? 0));
    }
    const i = runs.findIndex((r) => r.id === m.id);
    if (i >= 0) runs[i] = m.summary;
    dirty = true;
  });
  const reload = async () => {
    const [l, a] = await Promise.all([api<{ runs: RunRow[] }>('/api/runs'), api<{ runs: Record<string, Cols> }>('/api/metrics-all', { max: 1000 })]);
    runs = l.runs;
    Object.assign(metrics, a.runs);
    dirty = true;
  };
  es.addEventListener('runs', () => void reload().catch((e) => root.append(errorBox(e))));
  es.addEventListener('reset', () => void reload().catch((e) => root.append(errorBox(e))));
  es.onerror = () => (status.textContent = 'live updates: reconnecting…');
  const timer = setInterval(() => {
    if (!dirty) return;
    dirty = false;
    drawTable();
    if (train && val && train.series.length - 1 === ids().length) {
      train.setData(alignSeries(trainSeries()));
      val.setData(alignSeries(valSeries()));
    } else draw();
  }, 1000);
  onLeave(() => {
    es.close();
    clearInterval(timer);
    train?.destroy();
    val?.destroy();
  });
}
