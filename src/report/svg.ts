// Inline SVG charts for reports: grouped bars with error bars, line charts (optionally log x) with error bars, and
// histograms. Pure string builders: deterministic output, no scripts, render in any browser offline.
import { escapeHtml as esc } from './html.ts';

/** A colour-blind-friendly palette (Okabe-Ito, without black). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#7f7f7f'];

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function frame(width: number, height: number, legendRows = 0): Frame {
  return { width, height, left: 52, right: 14, top: 14 + legendRows * 16, bottom: 44 };
}

/** "Nice" tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi === lo) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(3)}`;
}

function legend(names: string[], f: Frame): string {
  let x = f.left;
  return names
    .map((n, i) => {
      const s = `<rect x="${x}" y="4" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 14}" y="13">${esc(n)}</text>`;
      x += 24 + n.length * 6.5;
      return s;
    })
    .join('');
}

function open(f: Frame, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}"><title>${esc(title)}</title><rect width="100%" height="100%" fill="#fff"/>`;
}

function yAxis(f: Frame, ticks: number[], y: (v: number) => number, label?: string): string {
  let s = '';
  for (const t of ticks) {
    const py = y(t);
    s += `<line x1="${f.left}" x2="${f.width - f.right}" y1="${py}" y2="${py}" stroke="#e6e9f0"/><text x="${f.left - 6}" y="${py + 4}" text-anchor="end">${tickLabel(t)}</text>`;
  }
  if (label) s += `<text transform="translate(12 ${(f.top + f.height - f.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(label)}</text>`;
  return s;
}

function r(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

export interface BarSeries {
  name: string;
  values: Array<number | null>;
  /** Error bar ends (e.g. a 95% CI), same length as values. */
  lo?: Array<number | null>;
  hi?: Array<number | null>;
}

/**
 * Grouped bar chart with optional error bars.
 * @example barChart({ categories: ['grammar', 'plot'], series: [{ name: '1M', values: [6, 4], lo: [5.5, 3.6], hi: [6.5, 4.4] }], yMax: 10 })
 */
export function barChart(o: { categories: string[]; series: BarSeries[]; title?: string; yLabel?: string; yMin?: number; yMax?: number; width?: number; height?: number }): string {
  const f = frame(o.width ?? 560, o.height ?? 300, o.series.length > 1 ? 1 : 0);
  const all = o.series.flatMap((s) => [...s.values, ...(s.hi ?? [])]).filter((v): v is number => v !== null && Number.isFinite(v));
  const yMin = o.yMin ?? 0;
  const yMax = o.yMax ?? Math.max(1e-9, ...all) * 1.1;
  const ticks = niceTicks(yMin, yMax);
  const ph = f.height - f.top - f.bottom;
  const y = (v: number) => f.top + ph - ((Math.min(Math.max(v, yMin), yMax) - yMin) / (yMax - yMin)) * ph;
  const pw = f.width - f.left - f.right;
  const groupW = pw / Math.max(1, o.categories.length);
  const barW = (groupW * 0.8) / Math.max(1, o.series.length);
  let s = open(f, o.title ?? 'bar chart') + yAxis(f, ticks, y, o.yLabel);
  if (o.series.length > 1) s += legend(o.series.map((x) => x.name), f);
  o.categories.forEach((c, ci) => {
    const gx = f.left + ci * groupW + groupW * 0.1;
    o.series.forEach((se, si) => {
      const v = se.values[ci];
      const x = gx + si * barW;
      if (v !== null && v !== undefined && Number.isFinite(v)) {
        s += `<rect x="${r(x)}" y="${r(y(v))}" width="${r(barW * 0.92)}" height="${r(y(yMin) - y(v))}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(`${se.name} ${c}: ${v.toFixed(2)}`)}</title></rect>`;
        const lo = se.lo?.[ci];
        const hi = se.hi?.[ci];
        if (lo !== null && lo !== undefined && hi !== null && hi !== undefined && Number.isFinite(lo) && Number.isFinite(hi)) {
          const cx = x + barW * 0.46;
          s += `<path d="M${r(cx)} ${r(y(lo))}V${r(y(hi))}M${r(cx - 4)} ${r(y(lo))}h8M${r(cx - 4)} ${r(y(hi))}h8" stroke="#222" stroke-width="1.3" fill="none"/>`;
        }
      }
    });
    s += `<text x="${r(f.left + ci * groupW + groupW / 2)}" y="${f.height - f.bottom + 16}" text-anchor="middle">${esc(c)}</text>`;
  });
  s += `<line x1="${f.left}" x2="${f.width - f.right}" y1="${y(yMin)}" y2="${y(yMin)}" stroke="#888"/>`;
  return s + '</svg>';
}

export interface LinePoint {
  x: number;
  y: number;
  lo?: number;
  hi?: number;
  label?: string;
}

export interface LineSeries {
  name: string;
  points: LinePoint[];
}

/** Line chart (points joined in x order) with optional error bars and a log-scaled x axis (for parameter counts). */
export function lineChart(o: { series: LineSeries[]; title?: string; xLabel?: string; yLabel?: string; logX?: boolean; yMin?: number; yMax?: number; width?: number; height?: number }): string {
  const f = frame(o.width ?? 560, o.height ?? 300, o.series.length > 1 ? 1 : 0);
  const pts = o.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const tx = (v: number) => (o.logX ? Math.log10(Math.max(v, 1e-12)) : v);
  let xLo = Math.min(...pts.map((p) => tx(p.x)));
  let xHi = Math.max(...pts.map((p) => tx(p.x)));
  if (!Number.isFinite(xLo)) [xLo, xHi] = [0, 1];
  if (xHi === xLo) [xLo, xHi] = [xLo - 0.5, xHi + 0.5];
  const ys = pts.flatMap((p) => [p.y, p.lo ?? p.y, p.hi ?? p.y]);
  const yMin = o.yMin ?? (ys.length ? Math.min(...ys) : 0);
  let yMax = o.yMax ?? (ys.length ? Math.max(...ys) : 1);
  if (yMax === yMin) yMax = yMin + 1;
  const pad = o.yMin === undefined && o.yMax === undefined ? (yMax - yMin) * 0.08 : 0;
  const y0 = yMin - pad;
  const y1 = yMax + pad;
  const ph = f.height - f.top - f.bottom;
  const pw = f.width - f.left - f.right;
  const X = (v: number) => f.left + 8 + ((tx(v) - xLo) / (xHi - xLo)) * (pw - 16);
  const Y = (v: number) => f.top + ph - ((v - y0) / (y1 - y0)) * ph;
  let s = open(f, o.title ?? 'line chart') + yAxis(f, niceTicks(y0, y1).filter((t) => t >= y0 && t <= y1), Y, o.yLabel);
  if (o.series.length > 1) s += legend(o.series.map((x) => x.name), f);
  const xt = o.logX ? niceLogTicks(xLo, xHi) : niceTicks(xLo, xHi, 6);
  for (const t of xt) {
    const v = o.logX ? 10 ** t : t;
    if (t < xLo - 1e-9 || t > xHi + 1e-9) continue;
    s += `<text x="${r(X(v))}" y="${f.height - f.bottom + 16}" text-anchor="middle">${tickLabel(v)}</text><line x1="${r(X(v))}" x2="${r(X(v))}" y1="${f.height - f.bottom}" y2="${f.height - f.bottom + 4}" stroke="#888"/>`;
  }
  if (o.xLabel) s += `<text x="${(f.left + f.width - f.right) / 2}" y="${f.height - 6}" text-anchor="middle">${esc(o.xLabel + (o.logX ? ' (log scale)' : ''))}</text>`;
  s += `<line x1="${f.left}" x2="${f.width - f.right}" y1="${f.height - f.bottom}" y2="${f.height - f.bottom}" stroke="#888"/>`;
  o.series.forEach((se, si) => {
    const col = PALETTE[si % PALETTE.length];
    const sorted = se.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    if (sorted.length > 1) s += `<polyline fill="none" stroke="${col}" stroke-width="2" points="${sorted.map((p) => `${r(X(p.x))},${r(Y(p.y))}`).join(' ')}"/>`;
    for (const p of sorted) {
      if (p.lo !== undefined && p.hi !== undefined && Number.isFinite(p.lo) && Number.isFinite(p.hi)) {
        s += `<path d="M${r(X(p.x))} ${r(Y(p.lo))}V${r(Y(p.hi))}" stroke="${col}" stroke-width="1.2"/>`;
      }
      s += `<circle cx="${r(X(p.x))}" cy="${r(Y(p.y))}" r="3.5" fill="${col}"><title>${esc(`${se.name}${p.label ? ' ' + p.label : ''}: x=${tickLabel(p.x)} y=${p.y.toFixed(3)}`)}</title></circle>`;
    }
  });
  return s + '</svg>';
}

function niceLogTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    out.push(e);
    if (hi - lo < 2) out.push(e + Math.log10(3));
  }
  return out;
}

/** Histogram from precomputed bins (labels and counts), one or several series side by side. */
export function histogram(o: { labels: string[]; series: Array<{ name: string; counts: number[] }>; title?: string; yLabel?: string; normalize?: boolean; width?: number; height?: number }): string {
  const series = o.series.map((s) => {
    const total = s.counts.reduce((a, b) => a + b, 0) || 1;
    return { name: s.name, values: s.counts.map((c) => (o.normalize ? c / total : c)) };
  });
  return barChart({ categories: o.labels, series, title: o.title, yLabel: o.yLabel ?? (o.normalize ? 'share' : 'count'), width: o.width, height: o.height });
}

/** Wraps a chart in a <figure> with a caption. */
export function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
}
