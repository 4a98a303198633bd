// The static site's engine, in a Web Worker: corpus -> BPE tokenizer -> model training (WASM SIMD kernels on all
// cores when the page is cross-origin isolated, the TypeScript reference on one thread otherwise), checkpoints in
// IndexedDB that a reload resumes from, streamed sampling, attention maps, the guessing game, zip export/import.
//
// The step is the CLI trainer's (src/train/trainer.ts): the same DataOrder, learning-rate schedule, AdamW settings,
// gradient clip, validation windows and sampling RNG; the checkpoint holds weights, moments, step, data cursor and
// RNG state, so a resumed run computes what an uninterrupted one would, as `--resume` does.
//
// The backend is the user's choice per run: 'wasm' (the default), 'webgpu' (the GPU-resident trainer GpuModel and
// the KV-cache GpuDecoder on navigator.gpu in this worker) or 'auto' (WebGPU only on a hardware adapter, the CLI's
// rule in webgpu/choose.ts). On WebGPU the CPU Model stays as the host copy: checkpoints read the weights and AdamW
// moments back into it, so IndexedDB and the exported zip hold the same format whichever backend trained.
//
// Protocol: requests { id, op, args } are answered { id, ok } or { id, error }; events { ev, data } are pushed.
import { fromHfConfig, toHfConfig } from '../../src/checkpoint/hf-config.ts';
import { type NamedTensor, decodeSafetensors, encodeSafetensors } from '../../src/checkpoint/safetensors.ts';
import type { Backend } from '../../src/engine/backend.ts';
import { type ModelConfig, presetConfig, resolveConfig } from '../../src/engine/config.ts';
import { exportHfTensors, importHfTensors } from '../../src/engine/hf.ts';
import { InferenceSession } from '../../src/engine/inference.ts';
import { Model, countParams } from '../../src/engine/model.ts';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { browserPlatform, createBrowserWasmBackend } from '../../src/engine/wasm/browser.ts';
import { acquireDevice, adapterLabel, type GpuAcquire } from '../../src/engine/webgpu/device.ts';
import { autoPassOver } from '../../src/engine/webgpu/choose.ts';
import { type DecodePrecision, GpuDecoder } from '../../src/engine/webgpu/decode.ts';
import { GpuKernels } from '../../src/engine/webgpu/kernels.ts';
import { GpuModel } from '../../src/engine/webgpu/trainer.ts';
import { splitOf } from '../../src/data/shards.ts';
import { normalizeStoryWhitespace } from '../../src/data/hygiene.ts';
import { type Decoder, generateText } from '../../src/sample/generate.ts';
import { type PrecisionChoice, choosePrecision } from '../../src/sample/gpu-decoding.ts';
import { type InteractiveModel, type NeuronQuery, attentionOf, gameStory, playground, searchNeurons } from '../../src/server/interactive.ts';
import { fromHfJson } from '../../src/tokenizer/hf-json.ts';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { trainBpe } from '../../src/tokenizer/train.ts';
import { TRAIN_DEFAULTS } from '../../src/train/settings.ts';
import { Batch, validationLoss, validationLossAsync } from '../../src/train/batch.ts';
import { DataOrder, type DataCursor } from '../../src/train/data-order.ts';
import type { NeuronReport } from '../../src/inspect/neurons.ts';
import type { MetricsRecord } from '../../src/train/metrics.ts';
import { learningRate } from '../../src/train/schedule.ts';
import { Rng } from '../../src/util/rng.ts';
import { isGguf, isLlama2cCheckpoint, readGguf, readLlama2cModel } from '../../src/interop/index.ts';
import { readZip, writeZip } from '../../src/util/zip.ts';
import { splitStories } from './corpus.ts';
import { load, save } from './store.ts';

// generate() and the playground yield with setImmediate (Node); a MessageChannel tick is the worker's equivalent
const g = globalThis as unknown as { setImmediate?: (f: () => void) => void };
g.setImmediate ??= (f: () => void) => {
  const ch = new MessageChannel();
  ch.port1.onmessage = () => f();
  ch.port2.postMessage(0);
};
const tick = () => new Promise<void>((r) => g.setImmediate!(r));

/** Which kernels train and sample: the CLI's `--backend` values that exist in a browser. */
export type SiteBackend = 'wasm' | 'webgpu' | 'auto';

/** What the Train page can set (the CLI's names and defaults, smaller where a tab needs it). */
export interface SiteSettings {
  backend: SiteBackend;
  /** The GPU decoder's weights (`--gpu-precision`): 'auto' reads f16 copies on a hardware adapter with shader-f16. */
  gpuPrecision: PrecisionChoice;
  preset: string;
  steps: number;
  batchSize: number;
  seqLen: number;
  lr: number;
  warmupSteps: number;
  vocabSize: number;
  seed: number;
  valEvery: number;
  valBatches: number;
  sampleEvery: number;
  samplePrompt: string;
  sampleTokens: number;
  checkpointEvery: number;
}

export const SITE_DEFAULTS: SiteSettings = {
  backend: 'wasm', gpuPrecision: 'auto', preset: '260K', steps: 200, batchSize: 8, seqLen: 128, lr: TRAIN_DEFAULTS.lr, warmupSteps: TRAIN_DEFAULTS.warmupSteps, vocabSize: 512,
  seed: TRAIN_DEFAULTS.seed, valEvery: 25, valBatches: 4, sampleEvery: 25, samplePrompt: TRAIN_DEFAULTS.samplePrompt, sampleTokens: 60, checkpointEvery: 10,
};

interface TrainState {
  step: number;
  totalSteps: number;
  cursor: DataCursor;
  rng: number[];
  tokens: number;
  wallSeconds: number;
  bestValLoss: number | null;
  lastValLoss: number | null;
}

/** The run record kept in IndexedDB under 'run'. */
interface RunRecord {
  id: string;
  settings: SiteSettings;
  model: ModelConfig;
  tokenizer: object;
  corpus: string;
  state: TrainState;
  metrics: MetricsRecord[];
  samples: Array<{ step: number; prompt: string; text: string }>;
  /** Training was on when this was saved: a reload continues it. */
  running: boolean;
  /** Loaded from a zip: weights only, no trainer state. */
  imported?: boolean;
}

/** The checkpoint kept under 'ckpt': the parameter buffer and AdamW moments (the model's own layout). */
interface CheckpointRecord {
  step: number;
  params: Float32Array;
  m: Float32Array | null;
  v: Float32Array | null;
}

/** A tokenized split: one stream of tokens, each document followed by <|endoftext|>. */
class TokenStream {
  constructor(readonly tokens: Uint16Array | Int32Array) {}
  get length(): number {
    return this.tokens.length;
  }
  window(start: number, length: number, out: Int32Array): Int32Array {
    for (let i = 0; i < length; i++) out[i] = this.tokens[start + i]!;
    return out;
  }
}

const post = (m: unknown, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);
const emit = (ev: string, data: unknown) => post({ ev, data });

let backend: Backend | null = null;
let backendInfo = { name: 'none', threads: 1, isolated: false, note: '' };
/** The current run's GPU half when it runs on WebGPU: the trainer's buffers and the weights its decoders read. */
let gpu: { model: GpuModel; precision: DecodePrecision } | null = null;
/** What trains and samples the current run, in words, e.g. "webgpu on … [nvidia, hardware]" or "wasm (auto: …)". */
let engineLine = '';
/** The host Model's weights lag the GPU's (steps ran since the last read-back). */
let hostStale = false;
let corpus: { name: string; train: string[]; val: string[] } | null = null;
let run: RunRecord | null = null;
let model: Model | null = null;
let tokenizer: Tokenizer | null = null;
let trainStream: TokenStream | null = null;
let valStream: TokenStream | null = null;
let training = false;
let stopRequested = false;
/** The step a reload resumed from (shown on the Train page). */
let resumedFrom: number | null = null;
const streams = new Map<number, AbortController>();
/** The neuron report of the current weights (computed on the first visit to the Neurons page, dropped when they change). */
let neuronReport: { step: number; report: NeuronReport } | null = null;

async function openBackend(): Promise<Backend> {
  if (backend) return backend;
  const isolated = (self as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const cores = Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1));
  if (isolated) {
    try {
      const base = new URL('./', self.location.href);
      const be = await createBrowserWasmBackend(browserPlatform({ wasmBase: base, workerUrl: new URL('kernel-worker.mjs', base) }), { threads: cores });
      backend = be;
      backendInfo = { name: be.name, threads: be.threads, isolated, note: `WebAssembly ${be.variant === 'relaxed' ? 'relaxed SIMD' : 'SIMD'} on ${be.threads} thread${be.threads > 1 ? 's' : ''} (cross-origin isolated)` };
      return be;
    } catch (e) {
      backendInfo.note = `the WebAssembly backend failed (${(e as Error).message.split('\n')[0]}); `;
    }
  }
  backend = createRefBackend();
  backendInfo = {
    name: backend.name, threads: 1, isolated,
    note: backendInfo.note + (isolated ? 'running the TypeScript reference on one thread' : 'this page is not cross-origin isolated, so SharedArrayBuffer is off: training runs on one thread (TypeScript reference kernels), several times slower'),
  };
  return backend;
}

let gpuDevice: Promise<GpuAcquire> | null = null;
let gpuKernels: { k: GpuKernels; software: boolean } | null = null;

/** This worker's WebGPU device (requested once), or why there is none. */
function gpuAcquire(): Promise<GpuAcquire> {
  gpuDevice ??= acquireDevice((navigator as Navigator & { gpu?: GPU }).gpu);
  return gpuDevice;
}

/** What the Train page shows before a run: the adapter, and what 'auto' would pick and why. */
async function gpuInfo(): Promise<{ adapter: string | null; auto: 'webgpu' | 'wasm'; why: string | null }> {
  const acq = await gpuAcquire();
  if (!acq.ok) return { adapter: null, auto: 'wasm', why: `no WebGPU device: ${acq.reason}` };
  const passOver = autoPassOver(acq.summary);
  return { adapter: adapterLabel(acq.summary), auto: passOver ? 'wasm' : 'webgpu', why: passOver };
}

/**
 * WebGPU for a run: the kernels on this worker's device, or null for WASM. 'webgpu' throws with the reason when
 * there is no adapter; 'auto' takes only a hardware adapter (choose.ts autoPassOver). Sets engineLine either way.
 */
async function openGpu(choice: SiteBackend): Promise<{ k: GpuKernels; software: boolean } | null> {
  const cpu = () => (backendInfo.note ? `wasm: ${backendInfo.note}` : 'wasm');
  if (choice === 'wasm') {
    engineLine = cpu();
    return null;
  }
  const acq = await gpuAcquire();
  if (!acq.ok) {
    if (choice === 'webgpu') throw new Error(`backend webgpu: ${acq.reason}; choose wasm`);
    engineLine = `${cpu()} (auto: no WebGPU device: ${acq.reason})`;
    return null;
  }
  const passOver = choice === 'auto' ? autoPassOver(acq.summary) : null;
  if (passOver) {
    engineLine = `${cpu()} (auto: ${passOver})`;
    return null;
  }
  engineLine = `webgpu on ${adapterLabel(acq.summary)}`;
  gpuKernels ??= { k: new GpuKernels(acq.device), software: acq.summary.software };
  return gpuKernels;
}

function checkBackend(choice: string): asserts choice is SiteBackend {
  if (!['wasm', 'webgpu', 'auto'].includes(choice)) throw new Error(`backend must be wasm, webgpu or auto, got '${choice}'`);
}

/**
 * Continues the current run on another backend: the host Model takes the GPU's weights and moments (or the GPU model
 * is built from the host's), as a checkpoint would carry them, so the next step computes what it would have.
 */
async function switchBackend(choice: string): Promise<void> {
  checkBackend(choice);
  if (!run || !model) throw new Error('no run to continue');
  // first: an unavailable WebGPU leaves the run as it was
  const k = await openGpu(choice);
  await syncHost(true);
  dropSessions();
  gpu?.model.dispose();
  gpu = null;
  run.settings = { ...run.settings, backend: choice };
  if (k) startGpu(k, model, run.settings.batchSize, seqLenOf(run), run.settings.gpuPrecision, model.optimizerState());
}

/** The run's GPU model (trainer buffers for B x T), from the host Model's weights and, when given, AdamW moments. */
function startGpu(opened: { k: GpuKernels; software: boolean }, host: Model, B: number, T: number, choice: PrecisionChoice, moments: { m: Float32Array; v: Float32Array } | null): void {
  // the CLI's rule: f16 decoder weights only on a hardware adapter with shader-f16, unless asked for by name
  const precision = choosePrecision(choice, opened.k.device, opened.software);
  const model = GpuModel.create(host.cfg, opened.k, { batch: B, seq: T, params: host.params });
  if (moments) model.loadOptimizerState(moments.m, moments.v);
  gpu = { model, precision };
  hostStale = false;
}

/** A KV-cache decoder on the current weights: the GPU decoder on WebGPU, else the CPU InferenceSession. */
function newSession(m: Model): Decoder {
  return gpu ? new GpuDecoder(gpu.model, { precision: gpu.precision }) : new InferenceSession(m);
}

/** Which decoder generations run on: 'cpu', 'webgpu f32' or 'webgpu f16'. */
function decoderLabel(): string {
  return gpu ? `webgpu ${gpu.precision}` : 'cpu';
}

/** Frees the idle generation sessions: GPU decoders on f16 hold a copy of the weights that training makes stale. */
function dropSessions(): void {
  for (const s of inferenceSessions.splice(0)) if (s instanceof GpuDecoder) s.dispose();
}

/** Reads the GPU's weights (and with `optimizer`, the AdamW moments) into the host Model. */
async function syncHost(optimizer: boolean): Promise<void> {
  if (!gpu || !model) return;
  if (hostStale) {
    // cleared before the read: a step that lands meanwhile marks the copy stale again
    hostStale = false;
    model.params.set(await gpu.model.read('params'));
  }
  if (optimizer) {
    const { m, v } = model.optimizerState();
    m.set(await gpu.model.read('m'));
    v.set(await gpu.model.read('v'));
  }
}

const BUILTIN_NAME = 'embedded corpus (builtin:mini)';

/** Sets the corpus from documents; the split is the CLI's (a seeded hash of each text, 5% validation). */
function setCorpus(name: string, raw: string[]): { name: string; docs: number; trainDocs: number; valDocs: number; chars: number } {
  // the CLI's whitespace normalization, so a file gives the same documents here as in `tinystories train`
  const docs = raw.map((d) => normalizeStoryWhitespace(d)).filter((d) => d.length > 0);
  const train: string[] = [];
  const val: string[] = [];
  for (const d of docs) (splitOf(d, SITE_DEFAULTS.seed, TRAIN_DEFAULTS.valFraction) === 'val' ? val : train).push(d);
  corpus = { name, train, val };
  return { name, docs: docs.length, trainDocs: train.length, valDocs: val.length, chars: docs.reduce((s, d) => s + d.length, 0) };
}

async function loadCorpus(args: { kind: 'builtin' } | { kind: 'docs'; name: string; docs: string[] }): Promise<ReturnType<typeof setCorpus>> {
  if (args.kind === 'builtin') {
    const res = await fetch(new URL('corpus/mini.txt', self.location.href));
    if (!res.ok) throw new Error(`the embedded corpus did not load (HTTP ${res.status})`);
    const info = setCorpus(BUILTIN_NAME, splitStories(await res.text()));
    await save({ corpus: undefined });
    return info;
  }
  const info = setCorpus(args.name, args.docs);
  await save({ corpus: { name: args.name, docs: args.docs } });
  return info;
}

/** Makes `name` the corpus again (after a reload): the embedded one is fetched, a dropped one read back from IndexedDB. */
async function ensureCorpus(name: string): Promise<void> {
  if (corpus && corpus.name === name) return;
  if (name === BUILTIN_NAME) {
    await loadCorpus({ kind: 'builtin' });
    return;
  }
  const stored = await load<{ name: string; docs: string[] }>('corpus');
  if (!stored || stored.name !== name) throw new Error(`the corpus this run trained on (${name}) is no longer stored in this browser: load it again to resume the run`);
  setCorpus(stored.name, stored.docs);
}

function tokenize(docs: string[], tok: Tokenizer): TokenStream {
  const parts: number[][] = [];
  let n = 0;
  for (const d of docs) {
    const ids = tok.encode(d);
    ids.push(tok.eotId);
    parts.push(ids);
    n += ids.length;
  }
  const out = tok.vocabSize <= 65536 ? new Uint16Array(n) : new Int32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return new TokenStream(out);
}

/** The host model's weights under their Hugging Face names (what the zip export and IndexedDB hold). */
function hfTensors(m: Model): NamedTensor[] {
  return [...exportHfTensors(m)].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
}

function seqLenOf(r: RunRecord): number {
  return Math.min(r.settings.seqLen, resolveConfig(r.model).maxSeqLen);
}

async function checkpoint(running: boolean): Promise<void> {
  if (!run || !model) return;
  // on WebGPU the host Model takes the GPU's weights and moments: the stored checkpoint is the same either way
  await syncHost(true);
  const { m, v } = model.optimizerState();
  run.running = running;
  const ck: CheckpointRecord = { step: run.state.step, params: model.params.slice(), m: m.slice(), v: v.slice() };
  await save({ run: { ...run, metrics: run.metrics.slice(), samples: run.samples.slice() }, ckpt: ck });
  emit('checkpoint', { step: run.state.step });
}

function disposeModel(): void {
  model = null;
  neuronReport = null;
  dropSessions();
  gpu?.model.dispose();
  gpu = null;
  hostStale = false;
  // the WASM backend's bump allocator never frees: a new model gets a new backend
  if (backend && backend.name !== 'ref') {
    backend.dispose();
    backend = null;
  }
}

function summary(): unknown {
  if (!run) return null;
  const last = run.metrics.at(-1);
  const s = run.state;
  const tps = run.metrics.slice(-10).map((r) => r.tokens_per_s);
  return {
    id: run.id, arch: run.model.arch, params: countParams(run.model), dim: run.model.dim, layers: run.model.nLayers,
    step: s.step, totalSteps: s.totalSteps, tokens: s.tokens, bestValLoss: s.bestValLoss, lastLoss: last?.loss ?? null,
    tokensPerSecond: tps.length ? tps.reduce((a, b) => a + b, 0) / tps.length : null, live: training, checkpoints: [],
    corpus: run.corpus, settings: run.settings, imported: run.imported ?? false, running: training, resumedFrom,
    backend: gpu ? 'webgpu' : 'wasm', engine: engineLine,
  };
}

/** Starts a fresh run: tokenizer, tokens, model; then trains. */
async function startFresh(partial: Partial<SiteSettings>): Promise<void> {
  if (training) throw new Error('training is already running: pause it first');
  resumedFrom = null;
  const settings: SiteSettings = { ...SITE_DEFAULTS, ...partial };
  checkBackend(settings.backend);
  if (!['auto', 'f16', 'f32'].includes(settings.gpuPrecision)) throw new Error(`gpuPrecision must be auto, f16 or f32, got '${settings.gpuPrecision}'`);
  const base = presetConfig(settings.preset);
  // before the tokenizer's seconds: an unavailable backend fails at once
  const k = await openGpu(settings.backend);
  if (!corpus) await loadCorpus({ kind: 'builtin' });
  const c = corpus!;
  emit('status', { phase: 'tokenizer', text: `training a ${settings.vocabSize}-token BPE tokenizer on ${c.train.length} stories of the ${c.name}…` });
  await tick();
  const t0 = performance.now();
  const tok = await trainBpe(c.train, { vocabSize: settings.vocabSize, specialTokens: ['<|endoftext|>'] });
  emit('status', { phase: 'tokenize', text: `tokenizer: ${tok.vocabSize} tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s; tokenizing…` });
  await tick();
  const modelConfig = { ...base, vocabSize: tok.vocabSize } as ModelConfig;
  disposeModel();
  tokenizer = tok;
  trainStream = tokenize(c.train, tok);
  valStream = tokenize(c.val, tok);
  run = {
    id: `browser-${settings.preset}`, settings, model: modelConfig, tokenizer: tok.toJSON(), corpus: c.name,
    state: { step: 0, totalSteps: settings.steps, cursor: { epoch: 0, position: 0 }, rng: new Rng(settings.seed ^ 0x5eed).state(), tokens: 0, wallSeconds: 0, bestValLoss: null, lastValLoss: null },
    metrics: [], samples: [], running: true,
  };
  const be = await openBackend();
  model = new Model(modelConfig, be, { seed: settings.seed, batch: settings.batchSize, seq: seqLenOf(run) });
  if (k) startGpu(k, model, settings.batchSize, seqLenOf(run), settings.gpuPrecision, null);
  emit('runs', {});
  await trainLoop(false);
}

/** Loads the saved run and checkpoint (after a reload); returns null when there is none. */
async function restore(): Promise<unknown> {
  if (model && run) return summary();
  const saved = await load<RunRecord>('run');
  const ck = await load<CheckpointRecord>('ckpt');
  if (!saved || !ck) return null;
  run = saved;
  tokenizer = fromHfJson(run.tokenizer, 'saved tokenizer');
  trainStream = valStream = null;
  if (!run.imported) {
    try {
      await ensureCorpus(run.corpus);
      trainStream = tokenize(corpus!.train, tokenizer);
      valStream = tokenize(corpus!.val, tokenizer);
    } catch (e) {
      // the weights still load for sampling; training cannot continue on other data
      run.running = false;
      emit('status', { phase: 'error', text: (e as Error).message });
    }
  }
  const be = await openBackend();
  model = new Model(run.model, be, { seed: run.settings.seed, batch: run.settings.batchSize, seq: seqLenOf(run) });
  model.params.set(ck.params);
  if (ck.m && ck.v) {
    const { m, v } = model.optimizerState();
    m.set(ck.m);
    v.set(ck.v);
  }
  // runs saved before the backend choice existed trained on WASM
  run.settings = { ...SITE_DEFAULTS, ...run.settings };
  let k: Awaited<ReturnType<typeof openGpu>> = null;
  try {
    k = await openGpu(run.settings.backend);
  } catch (e) {
    // the checkpoint does not depend on the backend: continue on WASM and say why
    engineLine = `wasm (${(e as Error).message})`;
    emit('status', { phase: 'error', text: `${(e as Error).message}: this run continues on WASM` });
  }
  if (k) startGpu(k, model, run.settings.batchSize, seqLenOf(run), run.settings.gpuPrecision, ck.m && ck.v ? { m: ck.m, v: ck.v } : null);
  // what the closed tab logged after its checkpoint is redone, so it is cut (the CLI truncates its JSONL the same way)
  run.metrics = run.metrics.filter((r) => r.step <= ck.step);
  run.samples = run.samples.filter((r) => r.step <= ck.step);
  emit('runs', {});
  if (run.running && !run.imported) {
    // the tab closed (or reloaded) while training: continue from the checkpoint, as `train --resume` does
    resumedFrom = ck.step;
    trainLoop(true).catch((e) => emit('status', { phase: 'error', text: (e as Error).message }));
  }
  return summary();
}

async function trainLoop(resumed: boolean): Promise<void> {
  if (!run || !model || !tokenizer || !trainStream || !valStream) throw new Error('no run to train: start one first');
  if (run.imported) throw new Error('a model opened from a file has no trainer state; start a new run to train');
  const r = run;
  const m = model;
  const tok = tokenizer;
  const s = r.settings;
  const B = s.batchSize;
  const T = seqLenOf(r);
  if (trainStream.length < T + 1) throw new Error(`the training split has ${trainStream.length} tokens, fewer than one sequence of ${T + 1}: use more data or a shorter sequence length`);
  training = true;
  stopRequested = false;
  const state = r.state;
  const warmup = Math.min(s.warmupSteps, Math.floor(state.totalSteps / 10));
  const schedule = { lr: s.lr, lrSchedule: TRAIN_DEFAULTS.lrSchedule, warmupSteps: warmup, minLrRatio: TRAIN_DEFAULTS.minLrRatio };
  const order = new DataOrder(trainStream.length, T, s.seed, state.cursor);
  const rng = Rng.fromState(state.rng);
  const batch = new Batch(B, T);
  const tokensPerStep = B * T;
  const g = gpu;
  dropSessions();
  const adamw = (lr: number) => ({ lr, beta1: TRAIN_DEFAULTS.beta1, beta2: TRAIN_DEFAULTS.beta2, eps: TRAIN_DEFAULTS.eps, weightDecay: TRAIN_DEFAULTS.weightDecay, t: state.step + 1, decayEmbeddings: TRAIN_DEFAULTS.decayEmbeddings });
  const sessionStart = performance.now();
  const wallBase = state.wallSeconds;
  emit('status', { phase: 'train', resumed, step: state.step, engine: engineLine, text: resumed ? `resumed from the checkpoint at step ${state.step}` : `training ${state.totalSteps} steps of ${tokensPerStep} tokens` });
  try {
    const save = async (running: boolean) => {
      state.cursor = { ...order.cursor };
      state.rng = rng.state();
      state.wallSeconds = wallBase + (performance.now() - sessionStart) / 1000;
      await checkpoint(running);
    };
    while (state.step < state.totalSteps && !stopRequested) {
      const t0 = performance.now();
      batch.fill(trainStream, order.next(B));
      const lr = learningRate(schedule, state.step, state.totalSteps);
      let loss: number;
      let gradNorm: number;
      if (g) {
        // one command buffer: forward, backward, clipping, AdamW; only the loss and norms come back
        const r = await g.model.step(batch.x, batch.y, B, T, { ...adamw(lr), maxGradNorm: TRAIN_DEFAULTS.gradClip });
        hostStale = true;
        if (!Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm) || !Number.isFinite(r.paramSumsq)) {
          // the update already ran on the GPU: stop before a checkpoint can store non-finite weights
          throw new Error(`step ${state.step + 1}: training diverged on the GPU (loss ${r.loss}, gradient norm ${r.gradNorm}, sum of squared weights ${r.paramSumsq}); the last checkpoint is kept`);
        }
        loss = r.loss;
        gradNorm = r.gradNorm;
      } else {
        m.zeroGrad();
        loss = m.forward(batch.x, batch.y, B, T);
        m.backward();
        gradNorm = TRAIN_DEFAULTS.gradClip > 0 ? m.clipGradNorm(TRAIN_DEFAULTS.gradClip) : m.gradNorm();
        m.adamwStep(adamw(lr));
      }
      state.step++;
      state.tokens += tokensPerStep;
      const stepSeconds = (performance.now() - t0) / 1000;
      const record: MetricsRecord = {
        step: state.step, loss, lr, grad_norm: gradNorm, tokens_per_s: Math.round(tokensPerStep / stepSeconds),
        wall_s: Math.round((wallBase + (performance.now() - sessionStart) / 1000) * 1000) / 1000, tokens: state.tokens,
      };
      const last = state.step >= state.totalSteps;
      if ((s.valEvery > 0 && state.step % s.valEvery === 0) || last) {
        const val = g ? await validationLossAsync((x, y, rows, T) => g.model.loss(x, y, rows, T), valStream, B, T, s.valBatches) : validationLoss(m, valStream, B, T, s.valBatches);
        if (val !== null) {
          record.val_loss = val;
          state.lastValLoss = val;
          if (state.bestValLoss === null || val < state.bestValLoss) state.bestValLoss = val;
        }
      }
      r.metrics.push(record);
      emit('step', { record, summary: summary() });
      if (s.sampleEvery > 0 && state.step % s.sampleEvery === 0) {
        // a decoder per sample: an f16 one copies the weights when made
        const session = newSession(m);
        let text: string;
        try {
          text = await generateText(m, tok, s.samplePrompt, { maxTokens: s.sampleTokens, temperature: 0.8, topK: 0, rng, session });
        } finally {
          if (session instanceof GpuDecoder) session.dispose();
        }
        r.samples.push({ step: state.step, prompt: s.samplePrompt, text });
        emit('sample', { step: state.step, prompt: s.samplePrompt, text });
      }
      if (last || (s.checkpointEvery > 0 && state.step % s.checkpointEvery === 0)) await save(!last);
      await tick(); // let pause and other requests in between steps
    }
    if (stopRequested && state.step < state.totalSteps) await save(false);
  } finally {
    training = false;
    dropSessions();
  }
  emit('status', { phase: state.step >= state.totalSteps ? 'done' : 'paused', step: state.step, text: state.step >= state.totalSteps ? `done: step ${state.step}` : `paused at step ${state.step}` });
  emit('runs', {});
}

/** The model for the interactive pages; on WebGPU its generations run on GPU decoders over the live weights. */
function loaded(): InteractiveModel {
  if (!model || !tokenizer) throw new Error('no model in this browser yet: train one on the Train page or drop a run .zip');
  const m = model;
  return { model: m, tokenizer, sessions: inferenceSessions, newSession: () => newSession(m) };
}

/** loaded() with the host Model's weights brought up to date (the pages that read them on the CPU). */
async function loadedOnHost(): Promise<InteractiveModel> {
  const m = loaded();
  await syncHost(false);
  return m;
}
const inferenceSessions: Decoder[] = [];

async function generateStream(sid: number, a: Record<string, string>): Promise<void> {
  const abort = new AbortController();
  streams.set(sid, abort);
  const send = (event: string, data: unknown) => post({ ev: 'stream', data: { sid, event, data } });
  const num = (k: string, d: number) => (a[k] === undefined || a[k] === '' ? d : Number(a[k]));
  const opts = {
    temperature: num('temperature', 0.8), topK: num('topK', 0), topP: num('topP', 1), repetitionPenalty: num('repetitionPenalty', 1),
    maxTokens: num('maxTokens', 200), seed: num('seed', Math.floor(Math.random() * 2 ** 31)),
  };
  const t0 = performance.now();
  let n = 0;
  try {
    const it = playground(loaded(), a.prompt ?? '', opts, abort.signal);
    for (;;) {
      const r = await it.next();
      if (r.done) {
        send('done', { stop: r.value, tokens: n, ms: performance.now() - t0, seed: opts.seed, decoder: decoderLabel() });
        break;
      }
      n++;
      send('token', r.value);
    }
  } catch (e) {
    send('failure', { error: (e as Error).message.split('\n')[0] });
  } finally {
    streams.delete(sid);
  }
}

async function exportZip(): Promise<Uint8Array> {
  const { model: m, tokenizer: tok } = await loadedOnHost();
  const enc = new TextEncoder();
  const parts = encodeSafetensors(hfTensors(m), { format: 'pt' });
  const st = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    st.set(p, o);
    o += p.length;
  }
  return writeZip([
    { name: 'config.json', data: enc.encode(JSON.stringify(toHfConfig(run!.model, { eotId: tok.eotId }), null, 2) + '\n') },
    { name: 'model.safetensors', data: st },
    { name: 'tokenizer.json', data: enc.encode(JSON.stringify(tok.toJSON())) },
  ]);
}

/** Opens a run zip (config.json + model.safetensors + tokenizer.json, possibly inside one folder) as the current model. */
async function importZip(name: string, bytes: Uint8Array): Promise<unknown> {
  if (training) throw new Error('pause training before opening another model');
  const entries = [...readZip(bytes, name).values()];
  const find = (f: string) => entries.find((e) => e.name === f || e.name.endsWith('/' + f));
  const cfg = find('config.json');
  const st = find('model.safetensors');
  const tj = find('tokenizer.json');
  if (!cfg || !st || !tj) throw new Error(`${name}: expected config.json, model.safetensors and tokenizer.json in the zip (found ${entries.map((e) => e.name).join(', ') || 'nothing'})`);
  const dec = new TextDecoder();
  const modelConfig = fromHfConfig(JSON.parse(dec.decode(cfg.data)) as Record<string, unknown>, `${name}: config.json`);
  const tok = fromHfJson(JSON.parse(dec.decode(tj.data)), `${name}: tokenizer.json`);
  const tensors = decodeSafetensors(st.data, `${name}: model.safetensors`).tensors;
  return useModel(name.replace(/\.zip$/i, ''), modelConfig, tensors, tok);
}

/**
 * Opens another project's model through src/interop: a GGUF file, or a llama2.c checkpoint (.bin) dropped together
 * with its tokenizer.bin.
 */
async function importModel(files: Array<{ name: string; bytes: Uint8Array }>): Promise<unknown> {
  if (training) throw new Error('pause training before opening another model');
  const gguf = files.find((f) => isGguf(f.bytes));
  let imported;
  if (gguf) imported = readGguf(gguf.bytes, gguf.name);
  else {
    const ckpt = files.find((f) => isLlama2cCheckpoint(f.bytes) && !/tok/i.test(f.name)) ?? files.find((f) => isLlama2cCheckpoint(f.bytes));
    if (!ckpt) throw new Error(`${files.map((f) => f.name).join(' + ')}: not a GGUF file or a llama2.c checkpoint`);
    const tokFile = files.find((f) => f !== ckpt);
    imported = readLlama2cModel(ckpt.bytes, tokFile?.bytes, ckpt.name);
  }
  if (!imported.tokenizer) throw new Error(`${imported.source}: no vocabulary; drop the model together with its tokenizer.bin`);
  const main = gguf ?? files[0]!;
  return useModel(main.name.replace(/\.(gguf|bin)$/i, ''), imported.config, new Map(imported.tensors.map((t) => [t.name, t])), imported.tokenizer);
}

/** Makes a loaded model the page's current one (saved in the browser like a trained run, without trainer state). */
async function useModel(id: string, modelConfig: ModelConfig, tensors: Map<string, NamedTensor>, tok: Tokenizer): Promise<unknown> {
  disposeModel();
  const be = await openBackend();
  // an opened model samples on the CPU backend
  await openGpu('wasm');
  const m = new Model(modelConfig, be, { seed: 0 });
  importHfTensors(m, tensors);
  model = m;
  tokenizer = tok;
  inferenceSessions.length = 0;
  run = {
    id, settings: { ...SITE_DEFAULTS, seqLen: Math.min(SITE_DEFAULTS.seqLen, resolveConfig(modelConfig).maxSeqLen) }, model: modelConfig, tokenizer: tok.toJSON(), corpus: '(none)',
    state: { step: 0, totalSteps: 0, cursor: { epoch: 0, position: 0 }, rng: [], tokens: 0, wallSeconds: 0, bestValLoss: null, lastValLoss: null },
    metrics: [], samples: [], running: false, imported: true,
  };
  await save({ run, ckpt: { step: 0, params: m.params.slice(), m: null, v: null } satisfies CheckpointRecord });
  emit('runs', {});
  return summary();
}

/** Columns of the metrics as the server's /api/metrics answers them. */
function columns(): Record<string, unknown> {
  const ms = run?.metrics ?? [];
  const vals = ms.filter((r) => r.val_loss !== undefined);
  return {
    rows: ms.length, generation: 0,
    step: ms.map((r) => r.step), loss: ms.map((r) => r.loss), lr: ms.map((r) => r.lr), tokens: ms.map((r) => r.tokens), wall_s: ms.map((r) => r.wall_s), tokens_per_s: ms.map((r) => r.tokens_per_s),
    val_step: vals.map((r) => r.step), val_loss: vals.map((r) => r.val_loss!), val_tokens: vals.map((r) => r.tokens), val_wall_s: vals.map((r) => r.wall_s),
  };
}

const ops: Record<string, (a: any) => unknown> = {
  hello: async () => {
    await openBackend();
    return { ...backendInfo, cores: navigator.hardwareConcurrency || 1, defaults: SITE_DEFAULTS };
  },
  restore: () => restore(),
  gpuInfo: () => gpuInfo(),
  corpus: (a) => loadCorpus(a),
  corpusInfo: () => (corpus ? { name: corpus.name, trainDocs: corpus.train.length, valDocs: corpus.val.length } : null),
  train: (a: Partial<SiteSettings>) => {
    // answered at once; progress comes as events (a failure as an 'error' event)
    startFresh(a).catch((e) => emit('status', { phase: 'error', text: (e as Error).message }));
    return true;
  },
  resume: async (a: { steps?: number; backend?: string }) => {
    if (training) return true;
    if (!run) throw new Error('nothing to resume');
    if (a.backend && a.backend !== run.settings.backend && !run.imported) await switchBackend(a.backend);
    if (a.steps && a.steps > run.state.totalSteps) run.state.totalSteps = a.steps;
    trainLoop(true).catch((e) => emit('status', { phase: 'error', text: (e as Error).message }));
    return true;
  },
  pause: () => {
    stopRequested = true;
    return true;
  },
  summary: () => summary(),
  runs: () => ({ root: 'this browser', runs: run ? [summary()] : [] }),
  run: () => ({ checkpoints: [], summary: { hasBest: false, ...(summary() as object) } }),
  metrics: () => ({ id: run?.id, ...columns() }),
  metricsAll: () => ({ runs: run ? { [run.id]: columns() } : {} }),
  samples: () => {
    const byStep = new Map<number, Array<{ prompt: string; text: string }>>();
    for (const s of run?.samples ?? []) byStep.set(s.step, [...(byStep.get(s.step) ?? []), { prompt: s.prompt, text: s.text }]);
    return { id: run?.id, checkpoints: [...byStep].map(([step, samples]) => ({ step, samples })) };
  },
  generate: (a: { sid: number; params: Record<string, string> }) => {
    void generateStream(a.sid, a.params);
    return true;
  },
  cancel: (a: { sid: number }) => {
    streams.get(a.sid)?.abort();
    return true;
  },
  attention: async (a: { text: string; maxTokens?: number }) => {
    if (!a.text?.trim()) throw new Error("query parameter 'text' is empty");
    return { id: run?.id, ...attentionOf(await loadedOnHost(), a.text, Math.min(128, Math.max(2, Number(a.maxTokens ?? 64)))) };
  },
  game: async (a: { index?: number }) => {
    const stories = (corpus?.val.length ? corpus.val : corpus?.train ?? []).filter((t) => t.split(/\s+/).length >= 8).slice(0, 200);
    if (stories.length === 0) throw new Error('no held-out stories: load a corpus on the Train page first');
    const index = Number(a.index ?? 0) % stories.length;
    return gameStory(await loadedOnHost(), stories[index]!, { source: `validation split of the ${corpus!.name}`, index, count: stories.length });
  },
  neurons: async (a: NeuronQuery) => {
    const m = await loadedOnHost();
    const step = run?.state.step ?? 0;
    if (!neuronReport || neuronReport.step !== step || training) {
      // the CLI's scan (src/inspect/neurons.ts) over the corpus's validation split, then its training split
      const { scanNeurons, summarizeNeurons } = await import('../../src/inspect/neurons.ts');
      const texts = corpus ? [...corpus.val, ...corpus.train] : [];
      if (!texts.length) throw new Error('no corpus to scan: load one on the Train page');
      const scan = await scanNeurons(m.model, m.tokenizer, texts, { topK: 10, maxTokens: 8_000 });
      neuronReport = { step, report: summarizeNeurons(m.model, m.tokenizer, scan, { run: run?.id ?? 'browser', source: corpus!.name }) };
    }
    return { id: run?.id, ...searchNeurons(neuronReport.report, { q: a.q ?? '', layer: a.layer || null, cls: a.cls || null, sort: a.sort === 'quote' ? 'quote' : 'consistency', offset: Number(a.offset ?? 0), limit: Number(a.limit ?? 30) }) };
  },
  exportZip: () => exportZip(),
  importZip: (a: { name: string; bytes: Uint8Array }) => importZip(a.name, a.bytes),
  importModel: (a: { files: Array<{ name: string; bytes: Uint8Array }> }) => importModel(a.files),
  forget: async () => {
    if (training) throw new Error('pause training first');
    disposeModel();
    run = null;
    tokenizer = null;
    await save({ run: undefined, ckpt: undefined });
    emit('runs', {});
    return true;
  },
};

self.onmessage = async (e: MessageEvent<{ id: number; op: string; args: unknown }>) => {
  const { id, op, args } = e.data;
  try {
    const f = ops[op];
    if (!f) throw new Error(`engine worker: unknown request ${op}`);
    const ok = await f(args ?? {});
    post({ id, ok }, ok instanceof Uint8Array ? [ok.buffer] : []);
  } catch (err) {
    post({ id, error: (err as Error).message ?? String(err) });
  }
};
