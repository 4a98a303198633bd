// Attention: heatmaps per layer/head for a typed text, and the head-label table (saved corpus statistics or this text's).
import { api, errorBox, fmt, h, runSelect, table } from '../util.ts';

interface Maps { tokens: string[]; nLayers: number; nHeads: number; probs: number[][][][] }
interface Head { layer: number; head: number; label: string; meanDistance: number; prevShare: number; firstShare: number; sameWordShare: number; entropyNorm: number; why: string }

/** Paints a T x T probability matrix into a canvas, one pixel per cell (CSS scales it up). */
function paint(canvas: HTMLCanvasElement, m: number[][]): void {
  const T = m.length;
  canvas.width = T;
  canvas.height = T;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(T, T);
  for (let i = 0; i < T; i++) {
    for (let j = 0; j < T; j++) {
      const p = Math.sqrt(m[i]![j] ?? 0); // sqrt: small probabilities stay visible
      const o = (i * T + j) * 4;
      img.data[o] = 255 - Math.round(200 * p);
      img.data[o + 1] = 255 - Math.round(150 * p);
      img.data[o + 2] = 255 - Math.round(60 * p);
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

function headTable(heads: Head[]): HTMLTableElement {
  return table(
    ['layer.head', 'label', 'mean distance', 'prev token', 'first token', 'same word', 'entropy (norm)', 'rule clause'],
    heads.map((x) => [`${x.layer}.${x.head}`, x.label, fmt(x.meanDistance, 1), fmt(x.prevShare, 2), fmt(x.firstShare, 2), fmt(x.sameWordShare, 2), fmt(x.entropyNorm, 2), [x.why, 'muted']]),
    [2, 3, 4, 5, 6],
  );
}

export async function attentionPage(root: HTMLElement): Promise<void> {
  root.append(h('h2', {}, 'Attention'));
  const text = h('textarea', { 'data-role': 'attn-text' }) as HTMLTextAreaElement;
  text.value = localStorage.getItem('ts.attn.text') ?? 'Lily and Tom went to the park. Lily saw a big dog. Tom said, "Look, Lily!"';
  const go = h('button', { 'data-role': 'attn-go' }, 'Show attention');
  const grid = h('div', { class: 'heads', 'data-role': 'heads' });
  const note = h('p', { class: 'muted', 'data-role': 'truncated' });
  const big = h('div');
  const labels = h('div');
  const saved = h('div');
  const sel = await runSelect(() => void loadSaved());
  root.append(h('div', { class: 'controls' }, h('label', {}, 'run ', sel)), text, h('div', { class: 'controls' }, go), note, grid, big, labels, saved);

  const showBig = (maps: Maps, l: number, hd: number) => {
    big.textContent = '';
    const c = h('canvas', { 'data-role': 'big-heatmap' }) as HTMLCanvasElement;
    paint(c, maps.probs[l]![hd]!);
    const scale = Math.max(6, Math.floor(560 / maps.tokens.length));
    c.style.width = c.style.height = maps.tokens.length * scale + 'px';
    // one label per row, aligned with the heatmap's rows
    const list = h('div', { class: 'toklist' }, ...maps.tokens.map((t, i) => h('div', { style: `height:${scale}px;line-height:${scale}px;font-size:${Math.min(11, scale)}px;overflow:hidden;white-space:pre` }, `${i} ${JSON.stringify(t)}`)));
    big.append(h('h3', {}, `layer ${l}, head ${hd} (rows: queries, columns: keys)`), h('div', { class: 'bigmap' }, c, list));
    c.addEventListener('mousemove', (e) => {
      const r = c.getBoundingClientRect();
      const i = Math.floor(((e.clientY - r.top) / r.height) * maps.tokens.length);
      const j = Math.floor(((e.clientX - r.left) / r.width) * maps.tokens.length);
      c.title = `${JSON.stringify(maps.tokens[i])} → ${JSON.stringify(maps.tokens[j])}: ${(maps.probs[l]![hd]![i]?.[j] ?? 0).toFixed(3)}`;
    });
  };
  const run = async () => {
    localStorage.setItem('ts.attn.text', text.value);
    grid.textContent = 'computing…';
    try {
      const r = await api<{ maps: Maps; heads: Head[]; totalTokens: number }>('/api/attention', { id: sel.value, text: text.value });
      grid.textContent = '';
      note.textContent = r.totalTokens > r.maps.tokens.length ? `showing the first ${r.maps.tokens.length} of ${r.totalTokens} tokens` : '';
      const heads = new Map(r.heads.map((x) => [`${x.layer}.${x.head}`, x]));
      for (let l = 0; l < r.maps.nLayers; l++) {
        for (let hd = 0; hd < r.maps.nHeads; hd++) {
          const c = h('canvas') as HTMLCanvasElement;
          paint(c, r.maps.probs[l]![hd]!);
          c.style.width = c.style.height = '84px';
          const fig = h('figure', { 'data-head': `${l}.${hd}` }, c, h('figcaption', {}, `${l}.${hd} ${heads.get(`${l}.${hd}`)?.label ?? ''}`));
          fig.addEventListener('click', () => {
            grid.querySelectorAll('figure').forEach((f) => f.classList.remove('sel'));
            fig.classList.add('sel');
            showBig(r.maps, l, hd);
          });
          grid.append(fig);
        }
      }
      showBig(r.maps, 0, 0);
      labels.textContent = '';
      labels.append(h('h3', {}, 'Head labels from this text alone'), headTable(r.heads));
    } catch (e) {
      grid.textContent = '';
      grid.append(errorBox(e));
    }
  };
  const loadSaved = async () => {
    saved.textContent = '';
    try {
      const r = await api<{ heads: Head[]; texts: number; tokens: number; source: string; rule: string[] }>('/api/inspect/attention', { id: sel.value });
      saved.append(h('h3', {}, `Head labels over ${r.texts} texts, ${r.tokens} tokens of ${r.source} (inspect/attention.json)`), h('ul', { class: 'muted' }, ...r.rule.map((s) => h('li', {}, s))), headTable(r.heads));
    } catch (e) {
      saved.append(h('p', { class: 'muted' }, (e as Error).message));
    }
  };
  go.addEventListener('click', () => void run());
  await loadSaved();
}
