// Samples page: the stories a run wrote during training (grouped by step), and one prompt sampled from every checkpoint.
import { source } from '../source.ts';
import { api, h, runSelect } from '../util.ts';
import type { RunDetailResponse, SamplesResponse } from '../../src/server/api-types.ts';

/** Generates from one checkpoint over SSE and resolves with the text. */
function sampleFrom(id: string, checkpoint: string, prompt: string, maxTokens: number, onText: (t: string) => void): Promise<string> {
  return new Promise((ok) => {
    let text = '';
    let close: () => void = () => {};
    const end = () => {
      close();
      ok(text);
    };
    close = source().stream('/api/generate', { id, checkpoint, prompt, maxTokens, temperature: 0 }, {
      token: (t: { text: string }) => {
        text += t.text;
        onText(text);
      },
      done: end,
      failure: end,
    }, end);
  });
}

export async function samplesPage(root: HTMLElement): Promise<void> {
  root.append(h('h2', {}, 'Samples per checkpoint'));
  const box = h('div');
  const compare = h('div', { 'data-role': 'checkpoint-samples' });
  const prompt = h('input', { type: 'text', size: 50, value: 'Once upon a time, there was a little girl named Lily.', 'data-role': 'ckpt-prompt' }) as HTMLInputElement;
  const go = h('button', { 'data-role': 'sample-checkpoints' }, 'Sample every checkpoint (greedy)');
  const show = async (id: string) => {
    box.textContent = 'loading…';
    compare.textContent = '';
    const r = await api<SamplesResponse>('/api/samples', { id });
    box.textContent = '';
    box.append(h('h3', {}, 'Written during training'));
    if (r.checkpoints.length === 0) box.append(h('p', { class: 'muted' }, 'No samples yet (training writes one every --sample-every steps).'));
    for (const c of [...r.checkpoints].reverse()) {
      box.append(h('h3', {}, `step ${c.step}`));
      for (const s of c.samples) box.append(h('div', { class: 'gen', 'data-role': 'sample' }, h('span', { class: 'prompt' }, s.prompt), s.text));
    }
  };
  const sel = await runSelect((id) => void show(id));
  go.addEventListener('click', async () => {
    go.disabled = true;
    compare.textContent = '';
    const d = await api<RunDetailResponse>('/api/run', { id: sel.value });
    const names = [...d.checkpoints, ...(d.summary.hasBest ? ['best'] : []), 'latest'];
    for (const name of names) {
      const out = h('div', { class: 'gen', 'data-checkpoint': name }, h('span', { class: 'prompt' }, prompt.value));
      const body = h('span');
      out.append(body);
      compare.append(h('h3', {}, name), out);
      await sampleFrom(sel.value, name, prompt.value, 80, (t) => (body.textContent = t));
    }
    go.disabled = false;
  });
  root.append(h('div', { class: 'controls' }, h('label', {}, 'run ', sel), prompt, go), compare, box);
  if (sel.value) await show(sel.value);
}
