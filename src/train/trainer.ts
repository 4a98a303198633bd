// The training loop: prepare a run (tokenizer, shards, model), then AdamW steps with validation, samples and checkpoints.
//
// Everything that decides the next step's numbers is either in the checkpoint (weights, AdamW moments, step,
// data cursor, RNG state, total steps) or a pure function of it (the learning rate, the window order), so a run
// resumed from a checkpoint computes the same loss curve, bit for bit, as one that was never interrupted.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fromHfConfig, readModelConfigFile, toHfConfig } from '../checkpoint/hf-config.ts';
import { type LoadedCheckpoint, type TrainState, loadLatestCheckpoint, saveBest, saveCheckpoint, writeRunFiles } from '../checkpoint/run-dir.ts';
import type { NamedTensor } from '../checkpoint/safetensors.ts';
import type { Backend } from '../engine/backend.ts';
import { type ModelConfig, presetConfig, resolveConfig } from '../engine/config.ts';
import { exportHfTensors, importHfTensors } from '../engine/hf.ts';
import { InferenceSession } from '../engine/inference.ts';
import { Model } from '../engine/model.ts';
import { isHfSpec } from '../data/hf.ts';
import { readDocuments, resolveSource } from '../data/read.ts';
import { MANIFEST, type TokenShards, type TokenSplit, openShards, splitOf, tokenizeToShards } from '../data/shards.ts';
import { loadTokenizer } from '../tokenizer/hf-json.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { trainBpe } from '../tokenizer/train.ts';
import { writeFileAtomicSync } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { Progress, formatSeconds } from '../util/progress.ts';
import { Rng } from '../util/rng.ts';
import { generateText } from '../sample/generate.ts';
import { openBackend } from './backend-choice.ts';
import { RESUME_MUTABLE, type TrainSettings, TrainSettingsSchema } from './config.ts';
import { DataOrder } from './data-order.ts';
import { type MetricsRecord, appendJsonLine, readJsonLines, truncateJsonLines } from './metrics.ts';
import { learningRate } from './schedule.ts';
import { formatSettings, validateSettings } from './settings.ts';

/** train_config.json */
export interface TrainConfigFile {
  format: 'tinystories-train-config';
  version: 1;
  settings: TrainSettings;
  /** The model config actually built (vocabSize from the tokenizer). */
  model: ModelConfig;
  /** Where the token shards are (absolute, or relative to the run). */
  shards: string;
}

export interface TrainIO {
  /** Lines for the user (banner, notes, samples); default stderr. */
  log?: (line: string) => void;
  /** Where the progress bar goes; default stderr. */
  progressStream?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  /** Install a SIGINT handler: first Ctrl-C finishes the step, checkpoints and returns; a second exits at once. */
  handleSignals?: boolean;
  /** Print the resolved settings (default true unless quiet). */
  printConfig?: boolean;
  /** Called after each optimizer step with its metrics. */
  onStep?: (record: MetricsRecord) => void;
  /** Stops like a Ctrl-C when aborted. */
  signal?: AbortSignal;
}

export interface TrainResult {
  runDir: string;
  step: number;
  totalSteps: number;
  /** Loss of the last step. */
  loss: number;
  valLoss: number | null;
  bestValLoss: number | null;
  /** 'done' = reached totalSteps; 'interrupted' = Ctrl-C/abort; 'time' = over the --minutes budget. */
  reason: 'done' | 'interrupted' | 'time';
  /** Training seconds of this session. */
  seconds: number;
  tokensPerSecond: number;
  backend: string;
}

function defaultRunDir(preset: string): string {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return join('runs', `${preset}-${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`);
}

function isShardDir(path: string): boolean {
  return existsSync(join(path, MANIFEST));
}

/** The first `limit` training-split documents (the validation split is kept out of the tokenizer too). */
async function* firstTrainDocs(src: string, limit: number, seed: number, valFraction: number): AsyncGenerator<string> {
  let n = 0;
  for await (const d of readDocuments(src, { download: { quiet: false } })) {
    if (splitOf(d, seed, valFraction) !== 'train') continue;
    yield d;
    if (limit > 0 && ++n >= limit) return;
  }
}

/** Reads the settings saved in a run (for --resume). */
export function readTrainConfig(runDir: string): TrainConfigFile {
  const path = join(runDir, 'train_config.json');
  if (!existsSync(path)) throw new UserError(`${runDir}: not a run directory (no train_config.json)`);
  let obj: TrainConfigFile;
  try {
    obj = JSON.parse(readFileSync(path, 'utf8')) as TrainConfigFile;
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (obj.format !== 'tinystories-train-config' || obj.version !== 1) throw new UserError(`${path}: not a version-1 train config`);
  const parsed = TrainSettingsSchema.safeParse(obj.settings);
  if (!parsed.success) throw new UserError(`${path}: settings do not match this version (${parsed.error.issues[0]!.message})`);
  return { ...obj, settings: parsed.data };
}

/** Checks that a resume changes only settings that keep the remaining steps' computation unchanged. */
export function checkResumeSettings(saved: TrainSettings, next: TrainSettings): void {
  for (const key of Object.keys(saved) as Array<keyof TrainSettings>) {
    if (RESUME_MUTABLE.includes(key)) continue;
    if (JSON.stringify(saved[key]) !== JSON.stringify(next[key])) {
      throw new UserError(`--resume: --${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} was ${JSON.stringify(saved[key])} in this run; it cannot change on resume (it would change the training computation)`);
    }
  }
}

/** The schedule's warmup: the setting, capped at a tenth of the run so short runs still decay. */
export function effectiveWarmup(s: TrainSettings, totalSteps: number): number {
  return Math.min(s.warmupSteps, Math.floor(totalSteps / 10));
}

/** Mean loss over fixed validation windows (the first valBatches*B windows of the split, in order). */
export function validationLoss(model: Model, split: TokenSplit, B: number, T: number, batches: number): number | null {
  const windows = Math.min(batches * B, Math.floor((split.length - 1) / T));
  if (windows < 1) return null;
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  const w = new Int32Array(T + 1);
  let sum = 0;
  let count = 0;
  for (let start = 0; start < windows; start += B) {
    const b = Math.min(B, windows - start);
    for (let i = 0; i < b; i++) {
      split.window((start + i) * T, T + 1, w);
      x.set(w.subarray(0, T), i * T);
      y.set(w.subarray(1, T + 1), i * T);
    }
    sum += model.forward(x, y, b, T) * b;
    count += b;
  }
  return sum / count;
}

function optimizerTensors(model: Model): NamedTensor[] {
  const { m, v } = model.optimizerState();
  return [
    { name: 'adamw.m', shape: [m.length], data: m.slice() },
    { name: 'adamw.v', shape: [v.length], data: v.slice() },
  ];
}

function restoreOptimizer(model: Model, tensors: Map<string, NamedTensor>, where: string): void {
  const { m, v } = model.optimizerState();
  const tm = tensors.get('adamw.m');
  const tv = tensors.get('adamw.v');
  if (!tm || !tv || tm.data.length !== m.length || tv.data.length !== v.length) throw new UserError(`${where}: optimizer state does not match the model (${model.nParams} parameters)`);
  m.set(tm.data);
  v.set(tv.data);
}

interface Prepared {
  runDir: string;
  settings: TrainSettings;
  tokenizer: Tokenizer;
  shards: TokenShards;
  modelConfig: ModelConfig;
  checkpoint: LoadedCheckpoint | null;
  T: number;
}

async function prepareFresh(s: TrainSettings, log: (l: string) => void): Promise<Prepared> {
  if (s.steps !== null && s.minutes !== null) throw new UserError('give --steps or --minutes, not both');
  // Everything that can be checked without the data is checked before the slow work (tokenizer, shards).
  let base: ModelConfig;
  if (s.modelConfig) base = readModelConfigFile(s.modelConfig);
  else {
    try {
      base = presetConfig(s.preset);
    } catch (e) {
      throw e instanceof UserError ? new UserError(`--preset: ${e.message}`) : e;
    }
  }
  resolveConfig({ ...base, vocabSize: base.vocabSize ?? s.vocabSize } as ModelConfig);
  if (s.tokenizer && !existsSync(s.tokenizer)) throw new UserError(`--tokenizer: ${s.tokenizer}: file not found`);
  if (!isHfSpec(s.data)) {
    try {
      await resolveSource(s.data); // a local path or builtin: checked now (an hf: file is downloaded later)
    } catch (e) {
      throw e instanceof UserError ? new UserError(`--data: ${e.message}`) : e;
    }
  }
  const runDir = resolve(s.out ?? defaultRunDir(s.modelConfig ? basename(s.modelConfig).replace(/\.json$/, '') : s.preset));
  if (existsSync(join(runDir, 'train_config.json'))) {
    throw new UserError(`${runDir} already holds a run; continue it with --resume ${s.out ?? runDir} or choose another --out`);
  }
  try {
    mkdirSync(runDir, { recursive: true });
  } catch (e) {
    throw new UserError(`--out: ${runDir}: cannot create the run directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const shardInput = isShardDir(s.data);
  // Tokenizer: given, the one the shards were made with, or trained on the data now.
  let tokenizer: Tokenizer;
  if (s.tokenizer) tokenizer = loadTokenizer(s.tokenizer);
  else if (shardInput) {
    const manifest = JSON.parse(readFileSync(join(s.data, MANIFEST), 'utf8')) as { options: { tokenizer: string } };
    if (!existsSync(manifest.options.tokenizer)) throw new UserError(`${s.data}: its tokenizer ${manifest.options.tokenizer} is gone; pass --tokenizer`);
    tokenizer = loadTokenizer(manifest.options.tokenizer);
  } else {
    const t0 = performance.now();
    if (!s.quiet) log(`training a ${s.vocabSize}-token BPE tokenizer on ${s.tokenizerDocs > 0 ? `up to ${s.tokenizerDocs} documents of ` : ''}${s.data}`);
    tokenizer = await trainBpe(firstTrainDocs(s.data, s.tokenizerDocs, s.seed, s.valFraction), { vocabSize: s.vocabSize, specialTokens: ['<|endoftext|>'] });
    if (!s.quiet) log(`tokenizer: ${tokenizer.vocabSize} tokens in ${formatSeconds((performance.now() - t0) / 1000)}`);
  }
  if (tokenizer.eotId < 0) throw new UserError('the tokenizer has no <|endoftext|> token, which training needs between stories');
  const tokPath = join(runDir, 'tokenizer.json');
  writeFileAtomicSync(tokPath, JSON.stringify(tokenizer.toJSON()));
  // Token shards: given, or made from the raw data inside the run (resumable).
  let shardDir: string;
  if (shardInput) shardDir = resolve(s.data);
  else {
    shardDir = join(runDir, 'shards');
    await tokenizeToShards({ data: s.data, tokenizer: tokPath, out: shardDir, valFraction: s.valFraction, seed: s.seed, quiet: s.quiet });
  }
  const shards = openShards(shardDir, { tokenizer });
  const modelConfig = { ...base, vocabSize: tokenizer.vocabSize } as ModelConfig;
  const T = Math.min(s.seqLen, resolveConfig(modelConfig).maxSeqLen);
  if (T < s.seqLen) log(`note: seqLen ${s.seqLen} exceeds the model's context; using ${T}`);
  const cfgFile: TrainConfigFile = { format: 'tinystories-train-config', version: 1, settings: { ...s, out: runDir }, model: modelConfig, shards: shardInput ? shardDir : 'shards' };
  writeRunFiles(runDir, { hfConfig: toHfConfig(modelConfig, { eotId: tokenizer.eotId }), tokenizerJson: tokenizer.toJSON(), trainConfig: cfgFile });
  return { runDir, settings: cfgFile.settings, tokenizer, shards, modelConfig, checkpoint: null, T };
}

async function prepareResume(runDirArg: string, overrides: Partial<TrainSettings>): Promise<Prepared> {
  const runDir = resolve(runDirArg);
  const saved = readTrainConfig(runDir);
  if (overrides.out != null && resolve(overrides.out) !== runDir) throw new UserError(`--out: a resumed run stays in ${runDir}; drop --out (or copy the run directory first)`);
  const merged = { ...saved.settings, ...overrides, out: runDir };
  if (overrides.steps != null) merged.minutes = null;
  else if (overrides.minutes != null) merged.steps = null;
  const s = validateSettings(TrainSettingsSchema, merged);
  checkResumeSettings(saved.settings, s);
  const tokenizer = loadTokenizer(join(runDir, 'tokenizer.json'));
  const shardDir = resolve(runDir, saved.shards);
  if (saved.shards === 'shards') {
    // A run killed while tokenizing: finish it (tokenizeToShards resumes and skips finished shards).
    await tokenizeToShards({ data: s.data, tokenizer: join(runDir, 'tokenizer.json'), out: shardDir, valFraction: s.valFraction, seed: s.seed, quiet: s.quiet });
  }
  const shards = openShards(shardDir, { tokenizer });
  const checkpoint = loadLatestCheckpoint(runDir);
  const hf = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const modelConfig = fromHfConfig(hf, join(runDir, 'config.json'));
  const T = Math.min(s.seqLen, resolveConfig(modelConfig).maxSeqLen);
  // Persist changed mutable settings (e.g. a longer --steps) so the next resume sees them.
  writeFileAtomicSync(join(runDir, 'train_config.json'), JSON.stringify({ ...saved, settings: s }, null, 2) + '\n');
  return { runDir, settings: s, tokenizer, shards, modelConfig, checkpoint, T };
}

/** Seconds per optimizer step: the faster of two forward+backward passes over the first batch after a warmup pass (no update). */
function measureStepSeconds(model: Model, split: TokenSplit, B: number, T: number, accum: number): number {
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  const w = new Int32Array(T + 1);
  for (let b = 0; b < B; b++) {
    split.window(Math.min(b * T, split.length - T - 1), T + 1, w);
    x.set(w.subarray(0, T), b * T);
    y.set(w.subarray(1), b * T);
  }
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    model.zeroGrad();
    model.forward(x, y, B, T);
    model.backward();
    if (i > 0) best = Math.min(best, (performance.now() - t0) / 1000);
  }
  model.zeroGrad();
  return best * accum;
}

/**
 * Trains a model: a fresh run from `settings`, or `resume` (a run directory) continued with `settings` as overrides.
 * Returns when the run reaches its total steps, is interrupted (Ctrl-C / abort: after a checkpoint) or runs out of
 * its --minutes budget. A checkpoint is always written at the end.
 */
export async function train(settings: Partial<TrainSettings>, io: TrainIO = {}, resume: string | null = null): Promise<TrainResult> {
  const log = io.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const p = resume ? await prepareResume(resume, settings) : await prepareFresh(validateSettings(TrainSettingsSchema, settings), log);
  const s = p.settings;
  const { runDir, tokenizer, shards, T } = p;
  const B = s.batchSize;
  if (shards.train.length < T + 1) throw new UserError(`${s.data}: the training split has ${shards.train.length} tokens, fewer than one sequence of ${T + 1}; use more data or a smaller --seq-len`);
  const backend: Backend = await openBackend(s.backend, s.threads, log);
  try {
    const model = new Model(p.modelConfig, backend, { seed: s.seed, batch: B, seq: T });
    let state: TrainState;
    if (p.checkpoint) {
      importHfTensors(model, p.checkpoint.model);
      restoreOptimizer(model, p.checkpoint.optimizer, p.checkpoint.dir);
      state = p.checkpoint.state;
    } else {
      state = { step: 0, totalSteps: 0, cursor: { epoch: 0, position: 0 }, rng: new Rng(s.seed ^ 0x5eed).state(), tokens: 0, wallSeconds: 0, bestValLoss: null, bestStep: null, lastValLoss: null };
    }
    // Anything a crashed session logged after its checkpoint is redone, so it is cut from the logs first.
    truncateJsonLines(join(runDir, 'metrics.jsonl'), state.step);
    truncateJsonLines(join(runDir, 'samples.jsonl'), state.step);

    let totalSteps: number;
    let measured: number | null = null;
    if (s.steps !== null) totalSteps = s.steps;
    else if (s.minutes !== null && p.checkpoint && !('minutes' in settings)) totalSteps = state.totalSteps;
    else if (s.minutes !== null) {
      measured = measureStepSeconds(model, shards.train, B, T, s.gradAccum);
      // Validation forward passes cost about a third of a training step per batch.
      const overhead = s.valEvery > 0 ? (s.valBatches / 3 / s.valEvery) * measured : 0;
      totalSteps = state.step + Math.max(1, Math.floor((s.minutes * 60) / (measured + overhead)));
    } else totalSteps = p.checkpoint ? state.totalSteps : 1000;
    state.totalSteps = totalSteps;
    const warmup = effectiveWarmup(s, totalSteps);
    const schedule = { lr: s.lr, lrSchedule: s.lrSchedule, warmupSteps: warmup, minLrRatio: s.minLrRatio };

    const tokensPerStep = B * T * s.gradAccum;
    if (state.step >= totalSteps) {
      log(`${runDir} is already at step ${state.step} of ${totalSteps}; pass a larger --steps (or --minutes) to train on`);
      const last = readJsonLines<MetricsRecord>(join(runDir, 'metrics.jsonl')).at(-1);
      return { runDir, step: state.step, totalSteps, loss: last?.loss ?? NaN, valLoss: state.lastValLoss, bestValLoss: state.bestValLoss, reason: 'done', seconds: 0, tokensPerSecond: 0, backend: backend.name };
    }
    if (io.printConfig ?? !s.quiet) {
      log(`run ${runDir}`);
      log(formatSettings(s as unknown as Record<string, unknown>));
    }
    if (!s.quiet) {
      const what = s.modelConfig ?? s.preset;
      log(
        `model ${what} (${p.modelConfig.arch}, ${(model.numParams() / 1e6).toFixed(2)}M params, vocab ${tokenizer.vocabSize}) on ${backend.name}` +
          `${backend.threads > 1 ? ` x${backend.threads}` : ''}; data ${shards.train.length.toLocaleString('en-US')} train / ${shards.val.length.toLocaleString('en-US')} val tokens`,
      );
      const from = state.step > 0 ? `steps ${state.step + 1}-${totalSteps}` : `${totalSteps} steps`;
      log(`training ${from} of ${tokensPerStep.toLocaleString('en-US')} tokens${measured !== null ? ` (${formatSeconds(measured)}/step measured, for ${s.minutes} min)` : ''}`);
    }

    const order = new DataOrder(shards.train.length, T, s.seed, state.cursor);
    const rng = Rng.fromState(state.rng);
    const x = new Int32Array(B * T);
    const y = new Int32Array(B * T);
    const w = new Int32Array(T + 1);
    let session: InferenceSession | null = null;
    let stop: 'interrupted' | 'time' | null = null;
    const onSigint = () => {
      if (stop) {
        log('\nsecond Ctrl-C: exiting without a checkpoint');
        process.exit(130);
      }
      stop = 'interrupted';
      log('\nCtrl-C: finishing this step and writing a checkpoint (Ctrl-C again to quit at once)');
    };
    if (io.handleSignals) process.on('SIGINT', onSigint);
    const onAbort = () => {
      stop ??= 'interrupted';
    };
    io.signal?.addEventListener('abort', onAbort);
    const startStep = state.step;
    const progressOpts = { label: 'train', total: Math.max(1, totalSteps - startStep), unit: 'steps', quiet: s.quiet, stream: io.progressStream };
    const progress = new Progress(progressOpts);
    // --minutes: the step count is re-set from the real pace (validation and checkpoints included) when 10%, 25%
    // and 50% of the budget have passed, so the cosine ends when the budget does. Saved with the next checkpoint.
    const calibrations = measured === null ? [] : [0.1, 0.25, 0.5];
    const say = (line: string) => {
      if (!s.quiet && (io.progressStream ?? process.stderr).isTTY) (io.progressStream ?? process.stderr).write('\r\x1b[2K');
      log(line);
    };
    const sessionStart = performance.now();
    const wallBase = state.wallSeconds;
    let lastLoss = NaN;
    let stepSecondsSum = 0;
    let checkpointedStep = -1;
    const checkpoint = () => {
      checkpointedStep = state.step;
      state.cursor = { ...order.cursor };
      state.rng = rng.state();
      state.wallSeconds = wallBase + (performance.now() - sessionStart) / 1000;
      saveCheckpoint(runDir, { step: state.step, model: hfTensors(model), optimizer: optimizerTensors(model), state, keepLast: s.keepLast });
    };
    try {
      while (state.step < totalSteps && !stop) {
        const t0 = performance.now();
        model.zeroGrad();
        let lossSum = 0;
        for (let micro = 0; micro < s.gradAccum; micro++) {
          const starts = order.next(B);
          for (let b = 0; b < B; b++) {
            shards.train.window(starts[b]!, T + 1, w);
            x.set(w.subarray(0, T), b * T);
            y.set(w.subarray(1), b * T);
          }
          lossSum += model.forward(x, y, B, T);
          model.backward();
        }
        if (s.gradAccum > 1) backend.scale(model.grads, model.nParams, 1 / s.gradAccum);
        const gradNorm = s.gradClip > 0 ? model.clipGradNorm(s.gradClip) : model.gradNorm();
        const lr = learningRate(schedule, state.step, totalSteps);
        model.adamwStep({ lr, beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay, t: state.step + 1, decayEmbeddings: s.decayEmbeddings });
        state.step++;
        state.tokens += tokensPerStep;
        const stepSeconds = (performance.now() - t0) / 1000;
        stepSecondsSum += stepSeconds;
        lastLoss = lossSum / s.gradAccum;
        const record: MetricsRecord = {
          step: state.step,
          loss: lastLoss,
          lr,
          grad_norm: gradNorm,
          tokens_per_s: Math.round(tokensPerStep / stepSeconds),
          wall_s: Math.round((wallBase + (performance.now() - sessionStart) / 1000) * 1000) / 1000,
          tokens: state.tokens,
        };
        const last = state.step >= totalSteps;
        if ((s.valEvery > 0 && state.step % s.valEvery === 0) || last) {
          const val = validationLoss(model, shards.val, B, T, s.valBatches);
          if (val !== null) {
            record.val_loss = val;
            state.lastValLoss = val;
            if (state.bestValLoss === null || val < state.bestValLoss) {
              state.bestValLoss = val;
              state.bestStep = state.step;
              saveBest(runDir, state.step, val, hfTensors(model));
            }
          }
        }
        appendJsonLine(join(runDir, 'metrics.jsonl'), record);
        io.onStep?.(record);
        if (s.sampleEvery > 0 && state.step % s.sampleEvery === 0) {
          session ??= new InferenceSession(model);
          const text = await generateText(model, tokenizer, s.samplePrompt, { maxTokens: s.sampleTokens, temperature: 0.8, topK: 0, rng, session });
          appendJsonLine(join(runDir, 'samples.jsonl'), { step: state.step, prompt: s.samplePrompt, text });
          if (!s.quiet) say(`step ${state.step} sample: ${s.samplePrompt}${text.replace(/\s+/g, ' ')}`);
        }
        const elapsed = (performance.now() - sessionStart) / 1000;
        if (calibrations.length && state.step - startStep >= 3 && elapsed >= calibrations[0]! * s.minutes! * 60) {
          calibrations.shift();
          const perStep = elapsed / (state.step - startStep);
          totalSteps = Math.max(state.step + 1, state.step + Math.floor((s.minutes! * 60 - elapsed) / perStep));
          state.totalSteps = totalSteps;
          schedule.warmupSteps = effectiveWarmup(s, totalSteps);
          progressOpts.total = Math.max(1, totalSteps - startStep);
        }
        if (s.minutes !== null && measured !== null && elapsed > s.minutes * 60 * 1.25 + 30) stop ??= 'time';
        if (last || stop || (s.checkpointEvery > 0 && state.step % s.checkpointEvery === 0)) checkpoint();
        const tps = Math.round(tokensPerStep / stepSeconds);
        progress.update(state.step - startStep, `step ${state.step}/${totalSteps} loss ${lastLoss.toFixed(3)}${state.lastValLoss !== null ? ` val ${state.lastValLoss.toFixed(3)}` : ''} ${formatRate(tps)} tok/s`);
        // Let signals and timers run between steps.
        await new Promise<void>((r) => setImmediate(r));
      }
      if (checkpointedStep !== state.step) checkpoint(); // stopped between steps: the checkpoint is still written
      progress.done();
    } finally {
      if (io.handleSignals) process.off('SIGINT', onSigint);
      io.signal?.removeEventListener('abort', onAbort);
    }
    const seconds = (performance.now() - sessionStart) / 1000;
    const steps = state.step - startStep;
    return {
      runDir,
      step: state.step,
      totalSteps,
      loss: lastLoss,
      valLoss: state.lastValLoss,
      bestValLoss: state.bestValLoss,
      reason: stop ?? 'done',
      seconds,
      tokensPerSecond: steps > 0 ? (steps * tokensPerStep) / stepSecondsSum : 0,
      backend: backend.name,
    };
  } finally {
    backend.dispose();
  }
}

function hfTensors(model: Model): NamedTensor[] {
  return [...exportHfTensors(model)].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
}

function formatRate(x: number): string {
  return x >= 1e4 ? `${(x / 1e3).toFixed(1)}k` : String(x);
}
