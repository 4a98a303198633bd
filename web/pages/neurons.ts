// Neurons browser: search the saved neuron report; each neuron's top contexts with the activating token highlighted.
import { api, errorBox, h, runSelect } from '../util.ts';

interface Top { act: number; token: string; before: string; after: string; word: string; wordClass: string; quoteStart: boolean }
interface Neuron { layer: number; neuron: number; max: number; mean: number; top: Top[]; commonWords: Array<{ word: string; count: number }>; wordClass: string; consistency: number; quoteStartShare: number }
interface Page { total: number; offset: number; neurons: Neuron[]; layers: number[]; tokens: number; source: string; topK: number }

const CLASSES = ['name', 'pronoun', 'verb', 'noun', 'adjective', 'adverb', 'function', 'number', 'punctuation', 'newline', 'other', 'mixed'];

function context(t: Top, max: number): HTMLElement {
  const mark = h('mark', {}, t.token.replace(/\n/g, '⏎'));
  mark.style.background = `rgba(255, 170, 0, ${Math.max(0.15, Math.min(1, t.act / (max || 1)))})`;
  return h('div', { class: 'ctx', title: `activation ${t.act} · ${t.word} (${t.wordClass})` }, h('span', { class: 'muted' }, t.act.toFixed(2).padStart(6) + '  '), t.before.replace(/\n/g, '⏎').slice(-60), mark, t.after.replace(/\n/g, '⏎'));
}

export async function neuronsPage(root: HTMLElement): Promise<void> {
  root.append(h('h2', {}, 'Neurons'));
  const q = h('input', { type: 'search', placeholder: 'search a word (e.g. Lily, ran, ".") or a neuron number', 'data-role': 'neuron-search', size: 40 }) as HTMLInputElement;
  const layer = h('select', { 'data-role': 'neuron-layer' }, h('option', { value: '' }, 'all layers'));
  const cls = h('select', { 'data-role': 'neuron-class' }, h('option', { value: '' }, 'any class'), ...CLASSES.map((c) => h('option', { value: c }, c)));
  const info = h('p', { class: 'muted' });
  const cards = h('div', { class: 'cards', 'data-role': 'neuron-cards' });
  const more = h('button', { hidden: true }, 'More');
  const sort = h('select', { 'data-role': 'neuron-sort' }, h('option', { value: 'consistency' }, 'most consistent first'), h('option', { value: 'quote' }, 'quote starts first'));
  // the paper's first sightings: a neuron for the protagonist's name, one for action verbs, one for "I"/"We" opening a quote
  const presets = h('div', { class: 'controls' }, 'Look for: ',
    ...([['protagonist names', 'name', 'consistency'], ['action verbs', 'verb', 'consistency'], ['pronouns opening a quote', 'pronoun', 'quote']] as const).map(([label, c, o]) => {
      const b = h('button', { 'data-preset': c }, label);
      b.addEventListener('click', () => {
        cls.value = c;
        sort.value = o;
        q.value = '';
        void search(true);
      });
      return b;
    }));
  let offset = 0;
  const sel = await runSelect(() => void search(true));
  root.append(h('div', { class: 'controls' }, h('label', {}, 'run ', sel), q, layer, cls, sort), presets, info, cards, more);
  let seq = 0;
  async function search(reset: boolean) {
    // answers can arrive out of order while the user types: only the latest search may draw
    const mine = ++seq;
    try {
      const r = await api<Page>('/api/neurons', { id: sel.value, q: q.value, layer: layer.value, class: cls.value, sort: sort.value, offset: reset ? 0 : offset, limit: 30 });
      if (mine !== seq) return;
      if (reset) {
        offset = 0;
        cards.textContent = '';
      }
      if (layer.children.length === 1) for (const l of r.layers) layer.append(h('option', { value: l }, `layer ${l}`));
      info.textContent = `${r.total} neurons match · top ${r.topK} activations over ${r.tokens.toLocaleString('en-US')} tokens of ${r.source} · ${sort.value === 'quote' ? 'quote starts' : 'most consistent'} first`;
      for (const n of r.neurons) {
        cards.append(
          h('div', { class: 'card', 'data-neuron': `${n.layer}.${n.neuron}` },
            h('div', {}, h('b', {}, `L${n.layer} #${n.neuron}`), ` · ${n.wordClass} · consistency ${(n.consistency * 100).toFixed(0)}%` + (n.quoteStartShare >= 0.3 ? ` · quote start ${(n.quoteStartShare * 100).toFixed(0)}%` : '')),
            h('div', {}, ...n.commonWords.map((w) => h('span', { class: 'pill' }, `${w.word} ×${w.count}`))),
            ...n.top.slice(0, 8).map((t) => context(t, n.max)),
          ),
        );
      }
      offset += r.neurons.length;
      more.hidden = offset >= r.total;
    } catch (e) {
      if (mine !== seq) return;
      cards.textContent = '';
      cards.append(errorBox(e));
      info.textContent = '';
    }
  }
  let debounce = 0;
  q.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = window.setTimeout(() => void search(true), 250);
  });
  layer.addEventListener('change', () => void search(true));
  cls.addEventListener('change', () => void search(true));
  sort.addEventListener('change', () => void search(true));
  more.addEventListener('click', () => void search(false));
  await search(true);
}
