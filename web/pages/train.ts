// Train (static site only): pick a corpus and a preset, train a tokenizer and a model in the page's engine worker with
// a live loss curve and samples, pause/resume, export the run as a zip. `#train?preset=260K&steps=50` starts at once;
// `&backend=webgpu` (or auto, wasm) picks what trains and samples.
import type uPlot from 'uplot';
import { alignSeries, lineChart, type Series } from '../charts.ts';
import { source } from '../source.ts';
import { errorBox, fmt, fmtCount, h } from '../util.ts';

interface Summary {
  id: string; params: number; step: number; totalSteps: number; lastLoss: number | null; bestValLoss: number | null; tokensPerSecond: number | null;
  running: boolean; imported: boolean; corpus: string; resumedFrom: number | null; settings: Record<string, number | string>;
  /** What the run's kernels are ('wasm' or 'webgpu'), and in words with the adapter or why auto passed WebGPU over. */
  backend: string; engine: string;
}
interface MetricsRecord { step: number; loss: number; val_loss?: number; tokens_per_s: number }

const PRESETS = ['260K', '1M', '3M'];
const BACKENDS = ['wasm', 'webgpu', 'auto'];

/** Hash parameters after '?', e.g. #train?preset=260K&steps=50. */
function hashParams(): URLSearchParams {
  const i = location.hash.indexOf('?');
  return new URLSearchParams(i >= 0 ? location.hash.slice(i + 1) : '');
}

export async function trainPage(root: HTMLElement, onLeave: (f: () => void) => void): Promise<void> {
  root.append(h('h2', {}, 'Train in this tab'));
  if (source().mode !== 'site') {
    root.append(h('p', { class: 'muted' }, 'Training in the page is part of the static site (`npm run build:site`, then serve site/). Here, train with `tinystories train --out <runs>/my-run` and watch it on the Runs page.'));
    return;
  }
  const { site, openFiles } = await import('../site/boot.ts');
  const { fetchCorpus } = await import('../site/corpus.ts');
  const { engine, backend } = site();
  const q = hashParams();
  let fromLink = q.has('preset') || q.has('steps');
  const defaults = (await engine.call<{ defaults: Record<string, number | string> }>('hello')).defaults;

  const num = (role: string, label: string, value: number, min: number, max: number, step = 1) => {
    const input = h('input', { type: 'number', id: `train-${role}`, 'data-role': role, value, min, max, step }) as HTMLInputElement;
    return { input, el: h('label', { for: `train-${role}` }, label + ' ', input) };
  };
  const preset = h('select', { id: 'train-preset', 'data-role': 'preset' }, ...PRESETS.map((p) => h('option', { value: p }, p))) as HTMLSelectElement;
  preset.value = q.get('preset') ?? String(defaults.preset);
  const steps = num('steps', 'steps', Number(q.get('steps') ?? defaults.steps), 1, 100000);
  const batch = num('batch', 'batch', Number(q.get('batch') ?? defaults.batchSize), 1, 64);
  const seq = num('seq', 'sequence length', Number(q.get('seq') ?? defaults.seqLen), 8, 512, 8);
  const vocab = num('vocab', 'vocabulary', Number(q.get('vocab') ?? defaults.vocabSize), 257, 8192, 1);
  const lr = num('lr', 'learning rate', Number(q.get('lr') ?? defaults.lr), 0.00001, 0.1, 0.0001);
  const sampleEvery = num('sample-every', 'sample every', Number(q.get('sampleEvery') ?? defaults.sampleEvery), 0, 10000);
  const backendSel = h('select', { id: 'train-backend', 'data-role': 'backend-choice' }, ...BACKENDS.map((b) => h('option', { value: b }, b))) as HTMLSelectElement;
  backendSel.value = q.get('backend') ?? String(defaults.backend);
  // the GPU decoder's weights: a link may ask for f32 (what the CPU computes) over the f16 copy 'auto' takes
  let gpuPrecision = q.get('gpuPrecision') ?? String(defaults.gpuPrecision);
  const ckptEvery = num('checkpoint-every', 'save every', Number(q.get('checkpointEvery') ?? defaults.checkpointEvery), 1, 10000);

  const start = h('button', { 'data-role': 'start' }, 'Start a new run');
  const pause = h('button', { 'data-role': 'pause', disabled: true }, 'Pause');
  const resume = h('button', { 'data-role': 'resume', disabled: true }, 'Resume');
  const exportBtn = h('button', { 'data-role': 'export', disabled: true }, 'Download run (.zip)');
  const status = h('p', { 'data-role': 'train-status', role: 'status', 'aria-live': 'polite' });
  const stepEl = h('span', { 'data-role': 'step' });
  const stats = h('p', { class: 'muted', 'data-role': 'train-stats' });
  const engineEl = h('p', { class: 'muted', 'data-role': 'train-engine' });
  const gpuEl = h('span', { class: 'muted', 'data-role': 'gpu-info' });
  const chartEl = h('div', { class: 'chart', 'data-chart': 'site-loss' });
  const samples = h('div', { 'data-role': 'site-samples' });
  const finalSample = h('div', { class: 'gen', 'data-role': 'final-sample' });
  const finalBox = h('section', { hidden: true, 'aria-label': 'a story from the trained model' }, h('h3', {}, 'A story from the trained model'), finalSample);

  // data: embedded corpus, a file, or a URL (the Hugging Face hub serves CORS)
  const corpusInfo = h('span', { class: 'muted', 'data-role': 'corpus-info' });
  const fileInput = h('input', { type: 'file', id: 'train-file', multiple: true, accept: '.txt,.json,.jsonl,.parquet,.zip,.gguf,.bin', 'data-role': 'corpus-file' }) as HTMLInputElement;
  const url = h('input', { type: 'text', id: 'train-url', size: 48, placeholder: 'hf:roneneldan/TinyStories/TinyStories-valid.txt', 'data-role': 'corpus-url' }) as HTMLInputElement;
  const fetchBtn = h('button', { 'data-role': 'corpus-fetch' }, 'Fetch');
  const builtinBtn = h('button', { 'data-role': 'corpus-builtin' }, 'Use the embedded corpus');
  const progress = h('progress', { 'data-role': 'corpus-progress', max: 1, value: 0, hidden: true }) as HTMLProgressElement;
  const showCorpus = async () => {
    const c = await engine.call<{ name: string; trainDocs: number; valDocs: number } | null>('corpusInfo');
    corpusInfo.textContent = c ? `${c.name}: ${c.trainDocs.toLocaleString('en-US')} training / ${c.valDocs.toLocaleString('en-US')} validation stories` : 'the embedded corpus (loaded when a run starts)';
  };
  const onProgress = (done: number, total: number | null) => {
    progress.hidden = false;
    progress.max = total ?? done * 2;
    progress.value = done;
    corpusInfo.textContent = `read ${(done / 1e6).toFixed(2)} MB${total ? ` of ${(total / 1e6).toFixed(2)} MB` : ''}…`;
  };
  fileInput.addEventListener('change', async () => {
    const files = [...(fileInput.files ?? [])];
    if (!files.length) return;
    try {
      const said = await openFiles(files);
      progress.hidden = true;
      if (/\.(zip|gguf|bin)$/i.test(files[0]!.name)) corpusInfo.textContent = said;
      else await showCorpus();
    } catch (e) {
      corpusInfo.textContent = (e as Error).message;
    }
  });
  fetchBtn.addEventListener('click', async () => {
    try {
      const { name, docs } = await fetchCorpus(url.value, onProgress);
      await engine.call('corpus', { kind: 'docs', name, docs });
      progress.hidden = true;
      await showCorpus();
    } catch (e) {
      corpusInfo.textContent = (e as Error).message;
    }
  });
  builtinBtn.addEventListener('click', async () => {
    await engine.call('corpus', { kind: 'builtin' });
    await showCorpus();
  });

  root.append(
    h('p', { class: 'muted', 'data-role': 'backend' }, `Engine: ${backend}. Everything runs in this tab; the run is saved in the browser and a reload continues it from its last checkpoint.`),
    h('h3', {}, 'Data'),
    h('div', { class: 'controls' }, corpusInfo, progress),
    h('div', { class: 'controls' }, builtinBtn, h('label', { for: 'train-file' }, 'or a file (.txt, .jsonl, .parquet; a run .zip, a .gguf, or a llama2.c .bin with its tokenizer.bin opens that model) ', fileInput)),
    h('div', { class: 'controls' }, h('label', { for: 'train-url' }, 'or from the web ', url), fetchBtn),
    h('h3', {}, 'Model and schedule'),
    h('div', { class: 'controls' }, h('label', { for: 'train-preset' }, 'preset ', preset), steps.el, batch.el, seq.el, vocab.el, lr.el, sampleEvery.el, ckptEvery.el),
    h('div', { class: 'controls' }, h('label', { for: 'train-backend', title: 'wasm: WebAssembly SIMD kernels; webgpu: train and sample on the GPU (navigator.gpu); auto: WebGPU only on a hardware adapter' }, 'backend ', backendSel), start, pause, resume, exportBtn),
    h('div', { class: 'controls' }, gpuEl),
    status,
    engineEl,
    h('p', {}, stepEl),
    stats,
    finalBox,
    chartEl,
    h('h3', {}, 'Samples during training'),
    samples,
  );
  await showCorpus();
  // the adapter (asked once, in the worker) and what auto picks on it, before any run
  void engine.call<{ adapter: string | null; auto: string; why: string | null }>('gpuInfo').then((g) => {
    gpuEl.textContent = `WebGPU: ${g.adapter ?? 'none'}; auto picks ${g.auto}${g.why ? ` (${g.why})` : ''}`;
    gpuEl.dataset.auto = g.auto;
  }, (e: Error) => (gpuEl.textContent = `WebGPU: ${e.message}`));

  const metrics: MetricsRecord[] = [];
  let chart: uPlot | null = null;
  const series = (): Series[] => [
    { label: 'train loss', x: metrics.map((m) => m.step), y: metrics.map((m) => m.loss) },
    { label: 'validation loss', x: metrics.filter((m) => m.val_loss !== undefined).map((m) => m.step), y: metrics.filter((m) => m.val_loss !== undefined).map((m) => m.val_loss!) },
  ];
  let dirty = false;
  const draw = () => {
    if (chart) chart.setData(alignSeries(series()));
    else chart = lineChart(chartEl, 'loss', 'step', series(), { height: 260 });
  };
  const timer = setInterval(() => {
    if (dirty) draw();
    dirty = false;
  }, 500);
  const showSummary = (s: Summary | null) => {
    if (!s) {
      stepEl.textContent = '';
      return;
    }
    stepEl.textContent = s.imported ? `${s.id}: opened from a file` : `step ${s.step} / ${s.totalSteps}`;
    stepEl.dataset.step = String(s.step);
    if (s.engine) {
      engineEl.textContent = `Training and sampling on ${s.engine}`;
      engineEl.dataset.backend = s.backend;
    }
    stats.dataset.tokensPerSecond = String(s.tokensPerSecond ?? '');
    // the first and the latest losses, for a glance (and the browser test) that training lowers the loss
    if (metrics.length) {
      const mean = (xs: MetricsRecord[]) => xs.reduce((a, r) => a + r.loss, 0) / xs.length;
      stats.dataset.firstLoss = mean(metrics.slice(0, 5)).toFixed(4);
      stats.dataset.lastLoss = mean(metrics.slice(-5)).toFixed(4);
    }
    stats.textContent = `${s.id} · ${fmtCount(s.params)} parameters · loss ${fmt(s.lastLoss)} · best validation loss ${fmt(s.bestValLoss)} · ${fmtCount(s.tokensPerSecond)} tokens/s · data: ${s.corpus}`;
    pause.disabled = !s.running;
    // a finished run continues when the steps field asks for more (the schedule stretches, as with `--resume --steps`)
    resume.disabled = s.running || s.imported;
    start.disabled = s.running;
    exportBtn.disabled = false;
  };
  const addSample = (d: { step: number; prompt: string; text: string }) => {
    samples.prepend(h('div', { class: 'gen', 'data-role': 'sample', 'data-step': d.step }, h('b', {}, `step ${d.step}: `), h('span', { class: 'prompt' }, d.prompt), d.text));
  };
  const loadRun = async () => {
    const [m, s, smp] = await Promise.all([source().json('/api/metrics'), engine.call<Summary | null>('summary'), source().json('/api/samples')]);
    metrics.length = 0;
    for (let i = 0; i < (m.step?.length ?? 0); i++) {
      const vi = (m.val_step as number[]).indexOf(m.step[i]);
      metrics.push({ step: m.step[i], loss: m.loss[i], tokens_per_s: m.tokens_per_s[i], ...(vi >= 0 ? { val_loss: m.val_loss[vi] } : {}) });
    }
    samples.textContent = '';
    for (const c of smp.checkpoints) for (const x of c.samples) addSample({ step: c.step, ...x });
    // the form shows the saved run's settings (what Resume continues), unless a demo link just set it
    if (s && !s.imported && !fromLink) {
      preset.value = String(s.settings.preset);
      steps.input.value = String(s.totalSteps);
      batch.input.value = String(s.settings.batchSize);
      seq.input.value = String(s.settings.seqLen);
      vocab.input.value = String(s.settings.vocabSize);
      lr.input.value = String(s.settings.lr);
      sampleEvery.input.value = String(s.settings.sampleEvery);
      ckptEvery.input.value = String(s.settings.checkpointEvery);
      backendSel.value = String(s.settings.backend ?? 'wasm');
      gpuPrecision = String(s.settings.gpuPrecision ?? 'auto');
    }
    showSummary(s);
    draw();
  };
  const sampleStory = () => {
    finalBox.hidden = false;
    finalSample.textContent = '';
    delete finalSample.dataset.done;
    const prompt = 'Once upon a time';
    finalSample.append(h('span', { class: 'prompt' }, prompt));
    source().stream('/api/generate', { prompt, maxTokens: 120, temperature: 0.8, seed: 1 }, {
      token: (t: { text: string }) => finalSample.append(t.text),
      done: () => (finalSample.dataset.done = 'true'),
      failure: (d: { error: string }) => finalSample.append(errorBox(new Error(d.error))),
    });
  };
  const offs = [
    engine.on('step', (d: { record: MetricsRecord; summary: Summary }) => {
      metrics.push(d.record);
      dirty = true;
      showSummary(d.summary);
    }),
    engine.on('sample', addSample),
    engine.on('status', (d: { phase: string; text: string; step?: number }) => {
      status.textContent = d.text;
      status.dataset.phase = d.phase;
      if (d.phase === 'train' && d.step !== undefined && (d as { resumed?: boolean }).resumed) status.dataset.resumedFrom = String(d.step);
      if (d.phase === 'error') status.classList.add('error');
      else status.classList.remove('error');
      if (d.phase === 'train' || d.phase === 'paused' || d.phase === 'done') void engine.call<Summary | null>('summary').then(showSummary);
      if (d.phase === 'done') sampleStory();
    }),
    engine.on('runs', () => void loadRun().then(showCorpus)),
  ];
  onLeave(() => {
    offs.forEach((f) => f());
    clearInterval(timer);
    chart?.destroy();
  });

  const settings = () => ({
    preset: preset.value, steps: Number(steps.input.value), batchSize: Number(batch.input.value), seqLen: Number(seq.input.value),
    vocabSize: Number(vocab.input.value), lr: Number(lr.input.value), sampleEvery: Number(sampleEvery.input.value), checkpointEvery: Number(ckptEvery.input.value),
    // an unknown ?backend= leaves the select empty: the worker names the bad value
    backend: backendSel.value || (q.get('backend') ?? ''), gpuPrecision,
  });
  start.addEventListener('click', () => {
    metrics.length = 0;
    samples.textContent = '';
    finalBox.hidden = true;
    chart?.destroy();
    chart = null;
    start.disabled = true;
    void engine.call('train', settings());
  });
  pause.addEventListener('click', () => void engine.call('pause'));
  // the checkpoint does not depend on the backend: Resume continues on the one selected now
  resume.addEventListener('click', () => void engine.call('resume', { steps: Number(steps.input.value), backend: backendSel.value }).catch((e: Error) => {
    status.textContent = e.message;
    status.classList.add('error');
  }));
  exportBtn.addEventListener('click', async () => {
    try {
      const bytes = await engine.call<Uint8Array>('exportZip');
      const s = await engine.call<Summary | null>('summary');
      const a = h('a', { href: URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' })), download: `${s?.id ?? 'run'}-step${s?.step ?? 0}.zip` });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (e) {
      status.textContent = (e as Error).message;
    }
  });

  await loadRun();
  const current = await engine.call<Summary | null>('summary');
  if (current?.resumedFrom !== null && current?.resumedFrom !== undefined) {
    status.textContent = `resumed from the checkpoint saved at step ${current.resumedFrom}`;
    status.dataset.resumedFrom = String(current.resumedFrom);
  }
  else if (current && !current.imported && current.step < current.totalSteps) status.textContent = `saved run at step ${current.step} of ${current.totalSteps}: Resume continues it`;
  // the demo link starts at once; the hash loses its parameters so a reload resumes instead of restarting
  if (fromLink) {
    history.replaceState(null, '', '#/train');
    if (!current?.running) start.click();
    fromLink = false;
  }
}
