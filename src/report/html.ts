// Self-contained HTML reports: a page shell with inline CSS, tables and sections. No scripts or network needed,
// so a report opens offline from disk (charts are inline SVG from ./svg.ts).

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A value for a table cell: text (escaped), a number (integers as such, others with the table's digits), a number with its own digits, or raw HTML. */
export type Cell = string | number | null | undefined | { html: string } | { value: number | null; digits: number };

/** Formats a number for a table: fixed digits, "–" for null/NaN. */
export function fmt(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return x.toFixed(digits);
}

function cell(c: Cell, digits: number): { text: string; num: boolean } {
  if (c === null || c === undefined) return { text: '–', num: false };
  if (typeof c === 'number') return { text: fmt(c, Number.isInteger(c) ? 0 : digits), num: true };
  if (typeof c === 'string') return { text: escapeHtml(c), num: false };
  if ('value' in c) return { text: fmt(c.value, c.digits), num: true };
  return { text: c.html, num: false };
}

/**
 * An HTML table; numbers are right-aligned.
 * @example table(['model', 'grammar'], [['1M', 6.1]])
 */
export function table(headers: string[], rows: Cell[][], opts: { digits?: number; caption?: string; className?: string } = {}): string {
  const d = opts.digits ?? 2;
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((r) => '<tr>' + r.map((c) => {
      const { text, num } = cell(c, d);
      return num ? `<td class="num">${text}</td>` : `<td>${text}</td>`;
    }).join('') + '</tr>')
    .join('\n');
  const cap = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : '';
  return `<table class="${opts.className ?? 'data'}">${cap}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A titled section. `body` is HTML. */
export function section(title: string, body: string, note?: string): string {
  return `<section><h2>${escapeHtml(title)}</h2>${note ? `<p class="note">${escapeHtml(note)}</p>` : ''}\n${body}\n</section>`;
}

/** A definition list of key → value (values escaped). */
export function keyValues(entries: Array<[string, string | number | null | undefined]>): string {
  return '<dl class="kv">' + entries.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v === null || v === undefined ? '–' : String(v))}</dd>`).join('') + '</dl>';
}

/** A collapsible block around HTML content. */
export function detailsHtml(summary: string, html: string): string {
  return `<details><summary>${escapeHtml(summary)}</summary>${html}</details>`;
}

/** A collapsible block of preformatted text. */
export function details(summary: string, text: string): string {
  return `<details><summary>${escapeHtml(summary)}</summary><pre>${escapeHtml(text)}</pre></details>`;
}

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #1d2330; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #e3e6ee; padding-bottom: 4px; }
.sub { color: #5b6478; margin: 0 0 16px; } .note { color: #5b6478; margin: 4px 0 10px; }
table.data { border-collapse: collapse; margin: 8px 0 12px; font-variant-numeric: tabular-nums; }
table.data th, table.data td { border: 1px solid #dde1ea; padding: 4px 9px; text-align: left; vertical-align: top; }
table.data th { background: #f3f5f9; font-weight: 600; } table.data td.num { text-align: right; }
table.data caption { text-align: left; color: #5b6478; padding-bottom: 4px; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0; } dl.kv dt { color: #5b6478; } dl.kv dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
figure { margin: 10px 0 16px; display: inline-block; vertical-align: top; } figcaption { color: #5b6478; font-size: 13px; }
pre { white-space: pre-wrap; background: #f7f8fb; border: 1px solid #e3e6ee; padding: 8px; max-height: 320px; overflow: auto; }
details { margin: 4px 0; } summary { cursor: pointer; }
svg text { font: 11px system-ui, sans-serif; fill: #394155; }
ul.warn { color: #8a3b00; background: #fff6ec; border: 1px solid #f1d2b3; padding: 8px 8px 8px 28px; }
`;

/** A complete HTML document: title, optional subtitle, body HTML; CSS inline. */
export function page(title: string, body: string, opts: { subtitle?: string; extraCss?: string } = {}): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${CSS}${opts.extraCss ?? ''}</style></head>
<body><h1>${escapeHtml(title)}</h1>${opts.subtitle ? `<p class="sub">${escapeHtml(opts.subtitle)}</p>` : ''}
${body}
</body></html>
`;
}
