// Small DOM and data helpers shared by the pages.
import { source } from './source.ts';

/** Creates an element: h('td', { class: 'num' }, '1.23'). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | number | boolean | null | undefined> = {}, ...children: Array<Node | string | null | undefined>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/** GETs JSON from the data source (the HTTP API, or the in-page engine on the static site); failures throw one line. */
export function api<T = any>(path: string, params: Record<string, string | number | null | undefined> = {}): Promise<T> {
  return source().json<T>(path, params);
}

export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(digits);
}

export function fmtCount(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v >= 1e9) return (v / 1e9).toFixed(2) + 'B';
  if (v >= 1e6) return (v / 1e6).toFixed(2) + 'M';
  if (v >= 1e4) return (v / 1e3).toFixed(1) + 'k';
  return String(Math.round(v));
}

export function errorBox(e: unknown): HTMLElement {
  return h('p', { class: 'error' }, (e as Error).message ?? String(e));
}

/** A table from a header row and body rows (cells: text, or [text, class]). */
export function table(head: string[], rows: Array<Array<string | Node | [string, string]>>, numeric: number[] = []): HTMLTableElement {
  const t = h('table');
  const tr = h('tr');
  head.forEach((c, i) => tr.append(h('th', { class: numeric.includes(i) ? 'num' : null }, c)));
  t.append(h('thead', {}, tr));
  const body = h('tbody');
  for (const r of rows) {
    const row = h('tr');
    r.forEach((c, i) => {
      if (Array.isArray(c)) row.append(h('td', { class: c[1] }, c[0]));
      else row.append(h('td', { class: numeric.includes(i) ? 'num' : null }, c));
    });
    body.append(row);
  }
  t.append(body);
  return t;
}

/** Thrown by pages that need a run when the runs directory has none; main.ts shows it as a hint, not an error. */
export class NoRunsError extends Error {}

/** A <select> of run ids, remembering the last choice in localStorage. */
export async function runSelect(onChange: (id: string) => void, key = 'run'): Promise<HTMLSelectElement> {
  const { runs, root } = await api<{ root: string; runs: Array<{ id: string; error?: string }> }>('/api/runs');
  if (runs.length === 0) {
    throw new NoRunsError(source().mode === 'site'
      ? 'No model in this browser yet: train one on the Train page (it takes a minute), or drop a run .zip onto the page.'
      : `No runs in ${root} yet. Train one into it, e.g. \`tinystories train --out ${root}/first-run\`; it shows up here within seconds.`);
  }
  const sel = h('select', { 'data-role': 'run' });
  for (const r of runs) sel.append(h('option', { value: r.id }, r.id));
  const saved = localStorage.getItem('ts.' + key);
  if (saved && runs.some((r) => r.id === saved)) sel.value = saved;
  sel.addEventListener('change', () => {
    localStorage.setItem('ts.' + key, sel.value);
    onChange(sel.value);
  });
  return sel;
}

/** Floating tooltip near the pointer. */
export function showTip(text: string, ev: MouseEvent): void {
  const tip = document.getElementById('tip')!;
  tip.textContent = text;
  tip.hidden = false;
  tip.style.left = ev.clientX + 12 + 'px';
  tip.style.top = ev.clientY + 14 + 'px';
}

export function hideTip(): void {
  document.getElementById('tip')!.hidden = true;
}

/** Color for a probability: red (unlikely) to green (likely). */
export function probColor(p: number): string {
  const hue = Math.round(120 * Math.max(0, Math.min(1, p)));
  return `hsl(${hue}, 75%, 82%)`;
}
