// Playground: prompt → streamed generation over SSE; tokens colored by probability, top alternatives on hover.
import { source } from '../source.ts';
import { api, h, hideTip, probColor, runSelect, showTip } from '../util.ts';
import type { RunDetailResponse } from '../../src/server/api-types.ts';

export async function playgroundPage(root: HTMLElement, onLeave: (f: () => void) => void): Promise<void> {
  root.append(h('h2', {}, 'Playground'));
  const ckpt = h('select', { 'data-role': 'checkpoint' });
  const fillCheckpoints = async (id: string) => {
    const d = await api<RunDetailResponse>('/api/run', { id });
    ckpt.textContent = '';
    ckpt.append(h('option', { value: 'latest' }, 'latest'));
    if (d.summary.hasBest) ckpt.append(h('option', { value: 'best' }, 'best'));
    for (const c of [...d.checkpoints].reverse()) ckpt.append(h('option', { value: c }, c));
  };
  const sel = await runSelect((id) => void fillCheckpoints(id));
  if (sel.value) await fillCheckpoints(sel.value);
  const prompt = h('textarea', { 'data-role': 'prompt' }) as HTMLTextAreaElement;
  prompt.value = localStorage.getItem('ts.prompt') ?? 'Once upon a time, there was a little girl named Lily.';
  const num = (role: string, value: number, step: number, min: number, max: number) => h('input', { type: 'number', 'data-role': role, value, step, min, max }) as HTMLInputElement;
  const temp = num('temperature', 0.8, 0.1, 0, 5);
  const topK = num('topK', 40, 1, 0, 100000);
  const topP = num('topP', 0.95, 0.05, 0.05, 1);
  const maxTokens = num('maxTokens', 150, 10, 1, 2000);
  const seed = h('input', { type: 'number', 'data-role': 'seed', placeholder: 'random', min: 0, step: 1 }) as HTMLInputElement;
  const go = h('button', { 'data-role': 'generate' }, 'Generate');
  const stop = h('button', { 'data-role': 'stop', disabled: true }, 'Stop');
  const out = h('div', { class: 'gen', 'data-role': 'output' });
  const info = h('p', { class: 'muted', 'data-role': 'gen-info' });
  root.append(
    h('div', { class: 'controls' }, h('label', {}, 'run ', sel), h('label', {}, 'weights ', ckpt)),
    prompt,
    h('div', { class: 'controls' }, h('label', {}, 'temperature ', temp), h('label', {}, 'top-k ', topK), h('label', {}, 'top-p ', topP), h('label', {}, 'max tokens ', maxTokens), h('label', {}, 'seed ', seed), go, stop),
    out,
    info,
    h('p', { class: 'muted' }, 'Each token is colored by the probability the model gave it (red = unlikely, green = likely); hover for the top alternatives.'),
  );
  let close: (() => void) | null = null;
  const finish = () => {
    close?.();
    close = null;
    go.disabled = false;
    stop.disabled = true;
  };
  go.addEventListener('click', () => {
    finish();
    localStorage.setItem('ts.prompt', prompt.value);
    out.textContent = '';
    out.append(h('span', { class: 'prompt' }, prompt.value));
    info.textContent = 'generating…';
    const q: Record<string, string> = { id: sel.value, checkpoint: ckpt.value, prompt: prompt.value, temperature: temp.value, topK: topK.value, topP: topP.value, maxTokens: maxTokens.value, seed: seed.value };
    const t0 = performance.now();
    let first: number | null = null;
    let n = 0;
    go.disabled = true;
    stop.disabled = false;
    let open = true;
    close = source().stream('/api/generate', q, {
      token: (t: { text: string; prob: number; rank: number; alts: Array<{ text: string; prob: number }> }) => {
        if (first === null) first = performance.now() - t0;
        n++;
        // a token holding part of a multi-byte character has no text yet (the next one completes it): a thin sliver
        const span = h('span', { class: t.text ? 'tok' : 'tok partial', 'data-prob': t.prob.toFixed(4) }, t.text);
        span.style.background = probColor(t.prob);
        const tip = `p = ${t.prob.toFixed(3)}, rank ${t.rank + 1}\n` + t.alts.map((a) => `${JSON.stringify(a.text)}  ${a.prob.toFixed(3)}`).join('\n');
        span.addEventListener('mousemove', (e) => showTip(tip, e));
        span.addEventListener('mouseleave', hideTip);
        out.append(span);
      },
      done: (d: { stop: string; tokens: number; ms: number; seed: number; decoder?: string }) => {
        open = false;
        info.textContent = `${d.tokens} tokens, stopped by ${d.stop}; first token after ${first?.toFixed(0) ?? '–'} ms, ${(d.tokens / (d.ms / 1000)).toFixed(1)} tokens/s; seed ${d.seed}${d.decoder ? `; decoder ${d.decoder}` : ''}`;
        // where the in-page engine decoded ('cpu', 'webgpu f32', 'webgpu f16')
        if (d.decoder) info.dataset.decoder = d.decoder;
        info.dataset.firstTokenMs = String(first ?? '');
        finish();
      },
      failure: (d: { error: string }) => {
        open = false;
        info.textContent = 'error: ' + d.error;
        finish();
      },
    }, () => {
      if (open) info.textContent = n ? info.textContent : 'connection failed';
      open = false;
      finish();
    });
  });
  stop.addEventListener('click', () => {
    info.textContent = 'stopped';
    finish();
  });
  onLeave(finish);
}
