// Samples page: the stories a run wrote during training, grouped by step, newest first.
import { api, h, runSelect } from '../util.ts';

export async function samplesPage(root: HTMLElement): Promise<void> {
  root.append(h('h2', {}, 'Samples per checkpoint'));
  const box = h('div');
  const show = async (id: string) => {
    box.textContent = 'loading…';
    const r = await api<{ checkpoints: Array<{ step: number; samples: Array<{ prompt: string; text: string }> }> }>('/api/samples', { id });
    box.textContent = '';
    if (r.checkpoints.length === 0) box.append(h('p', { class: 'muted' }, 'No samples yet (training writes one every --sample-every steps).'));
    for (const c of [...r.checkpoints].reverse()) {
      box.append(h('h3', {}, `step ${c.step}`));
      for (const s of c.samples) box.append(h('div', { class: 'gen', 'data-role': 'sample' }, h('span', { class: 'prompt' }, s.prompt), s.text));
    }
  };
  const sel = await runSelect((id) => void show(id));
  root.append(h('div', { class: 'controls' }, h('label', {}, 'run ', sel)), box);
  if (sel.value) await show(sel.value);
}
