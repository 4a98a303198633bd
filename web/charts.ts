// Charts through uPlot: overlaid line series on a shared x axis, bar charts, and scatter-with-lines for emergence curves.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const PALETTE = ['#2f6fb3', '#d1495b', '#2e8b57', '#edae49', '#6a4c93', '#00798c', '#ef476f', '#8d6a9f', '#3d405b', '#81b29a'];

export function color(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

export interface Series {
  label: string;
  x: number[];
  y: number[];
}

/**
 * Overlays several (x, y) series that do not share x values (uPlot.join aligns them; gaps are spanned).
 * Returns the chart so callers can setData on live updates.
 */
export function lineChart(el: HTMLElement, title: string, xLabel: string, series: Series[], opts: { width?: number; height?: number; logX?: boolean; points?: boolean } = {}): uPlot {
  el.textContent = '';
  const data = alignSeries(series);
  const u = new uPlot(
    {
      title,
      width: opts.width ?? Math.min(1100, Math.max(400, el.clientWidth || 900)),
      height: opts.height ?? 300,
      scales: { x: { time: false, distr: opts.logX ? 3 : 1 } },
      axes: [{ label: xLabel }, {}],
      series: [{ label: xLabel }, ...series.map((s, i) => ({ label: s.label, stroke: color(i), width: 1.5, spanGaps: true, points: { show: opts.points ?? false, size: 6 } }))],
      legend: { live: true },
    },
    data,
    el,
  );
  return u;
}

/** The aligned table uPlot wants: [xs, ys1, ys2, ...] with nulls where a series has no point. */
export function alignSeries(series: Series[]): uPlot.AlignedData {
  if (series.length === 0) return [[]];
  const tables = series.map((s) => {
    // uPlot.join needs increasing x per table
    const idx = s.x.map((_, i) => i).filter((i) => Number.isFinite(s.x[i]!) && Number.isFinite(s.y[i]!)).sort((a, b) => s.x[a]! - s.x[b]!);
    return [idx.map((i) => s.x[i]!), idx.map((i) => s.y[i]!)] as uPlot.AlignedData;
  });
  return uPlot.join(tables);
}

/** A bar chart over categories (labels on the x axis). */
export function barChart(el: HTMLElement, title: string, labels: string[], bars: Array<{ label: string; values: number[] }>, opts: { width?: number; height?: number } = {}): uPlot {
  el.textContent = '';
  const xs = labels.map((_, i) => i);
  const n = bars.length;
  const u = new uPlot(
    {
      title,
      width: opts.width ?? 700,
      height: opts.height ?? 260,
      scales: { x: { time: false, range: [-0.6, labels.length - 0.4] } },
      axes: [{ values: (_u: uPlot, splits: number[]) => splits.map((s) => (Number.isInteger(s) ? labels[s] ?? '' : '')), space: 20 }, {}],
      series: [
        { label: 'bucket', value: (_u: uPlot, v: number) => labels[v] ?? '' },
        ...bars.map((b, i) => ({
          label: b.label,
          // grouped: series i of n takes the i-th slice of each bucket's 0.8-wide slot (x in bucket units)
          fill: color(i) + 'cc',
          stroke: color(i),
          paths: uPlot.paths.bars!({
            disp: {
              x0: { unit: 1, values: () => xs.map((x) => x - 0.4 + (i * 0.8) / n) },
              size: { unit: 1, values: () => [0.8 / n] },
            },
          } as uPlot.Series.BarsPathBuilderOpts),
          points: { show: false },
        })),
      ],
    },
    [xs, ...bars.map((b) => b.values)],
    el,
  );
  return u;
}

/** Counts pixels of a chart's canvas that are not blank (for tests and a sanity check that it drew). */
export function inkedPixels(root: HTMLElement): number {
  let n = 0;
  for (const c of root.querySelectorAll('canvas')) {
    const ctx = c.getContext('2d');
    if (!ctx || c.width === 0) continue;
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
  }
  return n;
}
