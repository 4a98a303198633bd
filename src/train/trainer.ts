// The training loop: prepare a run (tokenizer, shards, model), then AdamW steps with validation, samples and checkpoints.
//
// Everything that decides the next step's numbers is either in the checkpoint (weights, AdamW moments, step,
// data cursor, RNG state, total steps) or a pure function of it (the learning rate, the window order), so a run
// resumed from a checkpoint computes the same loss curve, bit for bit, as one that was never interrupted.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { configFieldName, fromHfConfig, isHfConfigFile, readModelConfigFile, toHfConfig } from '../checkpoint/hf-config.ts';
import { type LoadedCheckpoint, type TrainState, loadLatestCheckpoint, saveBest, saveCheckpoint, writeRunFiles } from '../checkpoint/run-dir.ts';
import type { NamedTensor } from '../checkpoint/safetensors.ts';
import type { Backend } from '../engine/backend.ts';
import { createRefBackend } from '../engine/ref/index.ts';
import { type ModelConfig, presetConfig, resolveConfig } from '../engine/config.ts';
import { exportHfTensors, importHfTensors } from '../engine/hf.ts';
import { InferenceSession } from '../engine/inference.ts';
import { Model } from '../engine/model.ts';
import { isHfSpec } from '../data/hf.ts';
import { readDocuments, resolveSource } from '../data/read.ts';
import { type TokenShards, isShardDir, openShards, readManifest, shardTokenizerPath, splitOf, tokenizeToShards, tokenizerFingerprint } from '../data/shards.ts';
import { readModelSource } from '../interop/resolve.ts';
import { HF_TOKENIZER_FILE, loadTokenizer, tokenizerFileIn, tokenizerFileName } from '../tokenizer/hf-json.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { trainBpe } from '../tokenizer/train.ts';
import { writeFileAtomicSync } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { Progress, formatSeconds } from '../util/progress.ts';
import { Rng } from '../util/rng.ts';
import { generateText } from '../sample/generate.ts';
import { openCpuBackend } from '../engine/open-backend.ts';
import { openGpuKernels } from '../engine/webgpu/choose.ts';
import { bitsPerByte, tokenByteLengths, validationTextBytes } from './bpb.ts';
import { RESUME_MUTABLE, type TrainSettings, TrainSettingsSchema } from './settings.ts';
import { Batch } from './batch.ts';
import { type StepEngine, TrainingDiverged, cpuStepEngine, gpuStepEngine } from './step-engine.ts';
import { DataOrder } from './data-order.ts';
import { checkTrainingMemory } from './memory.ts';
import { type MetricsRecord, appendJsonLine, readJsonLines, truncateJsonLines } from './metrics.ts';
import { RUN_ERROR, type TrainConfigFile, hasTrainConfig, readTrainConfig, writeTrainConfig } from './run-config.ts';
import { epochCapSteps, epochsOf, shouldStopEarly } from './plan.ts';
import { learningRate } from './schedule.ts';
import { StopRequest } from './stop.ts';
import { formatSettings, validateSettings } from './configurator.ts';

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
  /** Bits per byte of the last validation (null before one in this session). */
  valBpb: number | null;
  bestValLoss: number | null;
  /** Bits per byte of the best validation loss (null when there was none). */
  bestValBpb: number | null;
  /** Step of the best validation loss (its weights are in best/). */
  bestStep: number | null;
  /**
   * 'done' = reached totalSteps; 'interrupted' = Ctrl-C/abort; 'time' = over the --minutes budget;
   * 'stalled' = early stopping (--patience validations without a better val loss).
   */
  reason: 'done' | 'interrupted' | 'time' | 'stalled';
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

/** The first `limit` training-split documents (the validation split is kept out of the tokenizer too). */
async function* firstTrainDocs(src: string, limit: number, seed: number, valFraction: number): AsyncGenerator<string> {
  let n = 0;
  for await (const d of readDocuments(src, { download: { quiet: false } })) {
    if (splitOf(d, seed, valFraction) !== 'train') continue;
    yield d;
    if (limit > 0 && ++n >= limit) return;
  }
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

export { validationLoss } from './batch.ts';

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

export { TrainingDiverged } from './step-engine.ts';

interface Prepared {
  runDir: string;
  settings: TrainSettings;
  tokenizer: Tokenizer;
  shards: TokenShards;
  modelConfig: ModelConfig;
  checkpoint: LoadedCheckpoint | null;
  /** --init: the weights a fresh run starts from (HF names), instead of a random init. */
  initTensors?: Map<string, NamedTensor>;
  T: number;
}

/** Both splits must hold at least one sequence of T + 1 tokens: training needs one, and so does validation. */
function checkSplits(shards: TokenShards, T: number, s: TrainSettings): void {
  if (shards.train.length < T + 1) throw new UserError(`${s.data}: the training split has ${shards.train.length} tokens, fewer than one sequence of ${T + 1}; use more data or a smaller --seq-len`);
  if (shards.val.length < T + 1) {
    throw new UserError(
      `${s.data}: the validation split has ${shards.val.length} tokens (${shards.val.docs} documents), fewer than one sequence of ${T + 1}; ` +
        `use more data, a larger --val-fraction (now ${s.valFraction}) or a smaller --seq-len`,
    );
  }
}

/** A run directory a fresh start made (and what was in it before), so a start that fails can take it back. */
interface CreatedRunDir {
  runDir: string;
  /** Entries of an --out directory that existed before; null when this start created the directory. */
  existed: Set<string> | null;
}

/**
 * Removes what a failed fresh start wrote, unless it committed a checkpoint (then the run can be resumed): a retry of
 * the same command then finds --out as it was.
 */
function removeFailedStart(c: CreatedRunDir): void {
  if (existsSync(join(c.runDir, 'trainer_state.json'))) return;
  if (c.existed === null) rmSync(c.runDir, { recursive: true, force: true });
  else for (const name of readdirSync(c.runDir)) if (!c.existed.has(name)) rmSync(join(c.runDir, name), { recursive: true, force: true });
}

async function prepareFresh(s: TrainSettings, log: (l: string) => void, created: { value: CreatedRunDir | null }): Promise<Prepared> {
  if (s.steps !== null && s.minutes !== null) throw new UserError('give --steps or --minutes, not both');
  // Everything that can be checked without the data is checked before the slow work (tokenizer, shards).
  if (s.init && (s.modelConfig || s.tokenizer)) throw new UserError('--init brings its own model config and tokenizer; drop --model-config / --tokenizer');
  const init = s.init ? readModelSource(s.init) : null;
  let base: ModelConfig;
  if (init) base = init.config;
  else if (s.modelConfig) base = readModelConfigFile(s.modelConfig);
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
  // Tokenizer: given, the one the shards were made with (found relative to the shard directory), or trained below.
  const manifest = isShardDir(s.data) ? readManifest(s.data) : null;
  let given = init ? init.tokenizer : s.tokenizer ? loadTokenizer(s.tokenizer) : null;
  if (!given && manifest) {
    const path = shardTokenizerPath(s.data, manifest);
    if (!path) throw new UserError(`${s.data}: its tokenizer ${manifest.tokenizerFile ?? manifest.options.tokenizer} is gone; pass --tokenizer`);
    given = loadTokenizer(path);
  }
  // The memory the model needs, before anything is allocated (an absurd size names its field).
  const sized = resolveConfig({ ...base, vocabSize: given?.vocabSize ?? s.vocabSize } as ModelConfig);
  const hfFile = s.modelConfig !== null && isHfConfigFile(s.modelConfig);
  checkTrainingMemory(sized, s.batchSize, Math.min(s.seqLen, sized.maxSeqLen), s.init ? `--init ${s.init}` : (s.modelConfig ?? `--preset ${s.preset}`), (k) =>
    k === 'T' ? '--seq-len' : k === 'B' ? '--batch-size' : k === 'vocabSize' ? 'the vocabulary (--vocab-size or the tokenizer)' : configFieldName(sized.arch, k, hfFile),
  );
  const runDir = resolve(s.out ?? defaultRunDir(s.init ? `${basename(resolve(s.init))}-ft` : s.modelConfig ? basename(s.modelConfig).replace(/\.json$/, '') : s.preset));
  if (hasTrainConfig(runDir)) {
    throw new UserError(`${runDir} already holds a run; continue it with --resume ${s.out ?? runDir} or choose another --out`);
  }
  let existed: Set<string> | null = null;
  try {
    if (existsSync(runDir)) existed = new Set(readdirSync(runDir));
    mkdirSync(runDir, { recursive: true });
  } catch (e) {
    throw new UserError(`--out: ${runDir}: cannot create the run directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  created.value = { runDir, existed };
  let tokenizer: Tokenizer;
  if (given) tokenizer = given;
  else {
    const t0 = performance.now();
    if (!s.quiet) log(`training a ${s.vocabSize}-token BPE tokenizer on ${s.tokenizerDocs > 0 ? `up to ${s.tokenizerDocs} documents of ` : ''}${s.data}`);
    tokenizer = await trainBpe(firstTrainDocs(s.data, s.tokenizerDocs, s.seed, s.valFraction), { vocabSize: s.vocabSize, specialTokens: ['<|endoftext|>'] });
    if (!s.quiet) log(`tokenizer: ${tokenizer.vocabSize} tokens in ${formatSeconds((performance.now() - t0) / 1000)}`);
  }
  if (tokenizer.eotId < 0) throw new UserError('the tokenizer has no <|endoftext|> token, which training needs between stories');
  // The run's tokenizer is written once, here; shards made below name this file instead of reading it back. A top-K
  // remap is our format, not Hugging Face's: it goes to tokenizer.topk.json so tokenizer.json never misleads HF tools.
  const tokPath = join(runDir, tokenizerFileName(tokenizer));
  writeFileAtomicSync(tokPath, JSON.stringify(tokenizer.toJSON()));
  // Token shards: given, or made from the raw data inside the run (resumable).
  let shardDir: string;
  if (manifest) shardDir = resolve(s.data);
  else {
    shardDir = join(runDir, 'shards');
    const made = await tokenizeToShards({ data: s.data, tokenizer, tokenizerFile: tokPath, out: shardDir, valFraction: s.valFraction, seed: s.seed, quiet: s.quiet });
    if (made.replacedChars > 0) log(`note: ${made.replacedChars} invalid UTF-8 sequences in ${s.data} were replaced by U+FFFD`);
  }
  const shards = openShards(shardDir, { tokenizer });
  const modelConfig = init ? base : ({ ...base, vocabSize: tokenizer.vocabSize } as ModelConfig); // --init keeps its (maybe padded) vocab
  const T = Math.min(s.seqLen, resolveConfig(modelConfig).maxSeqLen);
  if (T < s.seqLen) log(`note: seqLen ${s.seqLen} exceeds the model's context; using ${T}`);
  checkSplits(shards, T, s);
  const cfgFile: TrainConfigFile = {
    format: 'tinystories-train-config',
    version: 1,
    settings: { ...s, out: runDir },
    model: modelConfig,
    shards: manifest ? shardDir : 'shards',
    tokenizerFingerprint: tokenizerFingerprint(tokenizer),
  };
  writeRunFiles(runDir, { hfConfig: toHfConfig(modelConfig, { eotId: tokenizer.eotId }) });
  writeTrainConfig(runDir, cfgFile);
  return { runDir, settings: cfgFile.settings, tokenizer, shards, modelConfig, checkpoint: null, T, initTensors: init?.tensors };
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
  const tokPath = tokenizerFileIn(runDir) ?? join(runDir, HF_TOKENIZER_FILE);
  const tokenizer = loadTokenizer(tokPath);
  if (saved.tokenizerFingerprint !== undefined && tokenizerFingerprint(tokenizer) !== saved.tokenizerFingerprint) {
    throw new UserError(`${tokPath}: not the tokenizer this run was trained with (its fingerprint differs from the one in train_config.json); put the run's own tokenizer.json back`);
  }
  const shardDir = resolve(runDir, saved.shards);
  if (saved.shards === 'shards') {
    // A run killed while tokenizing: finish it (tokenizeToShards resumes and skips finished shards).
    await tokenizeToShards({ data: s.data, tokenizer, tokenizerFile: tokPath, out: shardDir, valFraction: s.valFraction, seed: s.seed, quiet: s.quiet });
  }
  const shards = openShards(shardDir, { tokenizer });
  const checkpoint = loadLatestCheckpoint(runDir);
  const hf = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const modelConfig = fromHfConfig(hf, join(runDir, 'config.json'));
  const T = Math.min(s.seqLen, resolveConfig(modelConfig).maxSeqLen);
  // Persist changed mutable settings (e.g. a longer --steps) so the next resume sees them.
  writeTrainConfig(runDir, { ...saved, settings: s });
  rmSync(join(runDir, RUN_ERROR), { force: true }); // a diverged session's mark; this session reports for itself
  return { runDir, settings: s, tokenizer, shards, modelConfig, checkpoint, T };
}

/**
 * The run's total steps: --steps as given; --minutes from the measured step time (capped at --max-epochs passes over
 * the data), or the saved count when a resume does not change --minutes; else the saved count or 1000. `measured` is
 * the step time when it was measured (then the loop re-plans from the real pace).
 */
async function planTotalSteps(p: Prepared, state: TrainState, engine: StepEngine, minutesGiven: boolean, log: (line: string) => void): Promise<{ totalSteps: number; measured: number | null }> {
  const s = p.settings;
  const B = s.batchSize;
  const T = p.T;
  if (s.steps !== null) return { totalSteps: s.steps, measured: null };
  if (s.minutes === null) return { totalSteps: p.checkpoint ? state.totalSteps : 1000, measured: null };
  if (p.checkpoint && !minutesGiven) return { totalSteps: state.totalSteps, measured: null };
  const measured = await engine.measureStepSeconds(p.shards.train, B, T, s.gradAccum);
  // Validation forward passes cost about a third of a training step per batch.
  const overhead = s.valEvery > 0 ? (s.valBatches / 3 / s.valEvery) * measured : 0;
  let totalSteps = state.step + Math.max(1, Math.floor((s.minutes * 60) / (measured + overhead)));
  // Data-aware: never plan more passes over the data than help (plan.ts).
  const cap = epochCapSteps(p.shards.train.length, B * T * s.gradAccum, s.maxEpochs);
  if (totalSteps > cap && cap > state.step) {
    if (!s.quiet) log(`planning ${cap} steps = ${s.maxEpochs} epochs of the ${p.shards.train.length.toLocaleString('en-US')} training tokens instead of the ${totalSteps} that ${s.minutes} min allow: more passes over this data stop helping (--max-epochs to change)`);
    totalSteps = cap;
  }
  return { totalSteps, measured };
}

/**
 * Trains a model: a fresh run from `settings`, or `resume` (a run directory) continued with `settings` as overrides.
 * Returns when the run reaches its total steps, is interrupted (Ctrl-C / abort: after a checkpoint) or runs out of
 * its --minutes budget. A checkpoint is always written at the end.
 */
export async function train(settings: Partial<TrainSettings>, io: TrainIO = {}, resume: string | null = null): Promise<TrainResult> {
  const log = io.log ?? ((l: string) => process.stderr.write(l + '\n'));
  // A fresh start that fails before its first checkpoint takes back what it wrote, so the same command can be rerun.
  const created: { value: CreatedRunDir | null } = { value: null };
  try {
    const p = resume ? await prepareResume(resume, settings) : await prepareFresh(validateSettings(TrainSettingsSchema, settings), log, created);
    return await trainPrepared(p, settings, io, log);
  } catch (e) {
    if (created.value) removeFailedStart(created.value);
    throw e;
  }
}

async function trainPrepared(p: Prepared, settings: Partial<TrainSettings>, io: TrainIO, log: (line: string) => void): Promise<TrainResult> {
  const s = p.settings;
  const { runDir, tokenizer, shards, T } = p;
  const B = s.batchSize;
  checkSplits(shards, T, s);
  const engine = await openStepEngine(p, log);
  try {
    const model = engine.host;
    let state: TrainState;
    if (p.checkpoint) state = p.checkpoint.state;
    else state = { step: 0, totalSteps: 0, cursor: { epoch: 0, position: 0 }, rng: new Rng(s.seed ^ 0x5eed).state(), tokens: 0, wallSeconds: 0, bestValLoss: null, bestStep: null, lastValLoss: null };
    // Anything a crashed session logged after its checkpoint is redone, so it is cut from the logs first.
    truncateJsonLines(join(runDir, 'metrics.jsonl'), state.step);
    truncateJsonLines(join(runDir, 'samples.jsonl'), state.step);

    const plan = await planTotalSteps(p, state, engine, 'minutes' in settings, log);
    const measured = plan.measured;
    let totalSteps = plan.totalSteps;
    state.totalSteps = totalSteps;
    const warmup = effectiveWarmup(s, totalSteps);
    const schedule = { lr: s.lr, lrSchedule: s.lrSchedule, warmupSteps: warmup, minLrRatio: s.minLrRatio };

    const tokensPerStep = B * T * s.gradAccum;
    if (state.step >= totalSteps) {
      log(`${runDir} is already at step ${state.step} of ${totalSteps}; pass a larger --steps (or --minutes) to train on`);
      const last = readJsonLines<MetricsRecord>(join(runDir, 'metrics.jsonl')).at(-1);
      return { runDir, step: state.step, totalSteps, loss: last?.loss ?? NaN, valLoss: state.lastValLoss, valBpb: null, bestValLoss: state.bestValLoss, bestValBpb: null, bestStep: state.bestStep, reason: 'done', seconds: 0, tokensPerSecond: 0, backend: engine.name };
    }
    if (io.printConfig ?? !s.quiet) {
      log(`run ${runDir}`);
      log(formatSettings(s as unknown as Record<string, unknown>));
    }
    if (!s.quiet) {
      const what = s.init ? `--init ${s.init}` : (s.modelConfig ?? s.preset);
      log(
        `model ${what} (${p.modelConfig.arch}, ${(model.numParams() / 1e6).toFixed(2)}M params, vocab ${tokenizer.vocabSize}) on ${engine.name}` +
          `${engine.where}; data ${shards.train.length.toLocaleString('en-US')} train / ${shards.val.length.toLocaleString('en-US')} val tokens`,
      );
      const from = state.step > 0 ? `steps ${state.step + 1}-${totalSteps}` : `${totalSteps} steps`;
      log(`training ${from} of ${tokensPerStep.toLocaleString('en-US')} tokens${measured !== null ? ` (${formatSeconds(measured)}/step measured, for ${s.minutes} min)` : ''}, ${epochsOf(totalSteps, shards.train.length, tokensPerStep).toFixed(1)} epochs`);
      if (s.patience > 0 && s.valEvery > 0) log(`early stopping: after ${s.patience} validations (${s.patience * s.valEvery} steps) without a better val loss (--patience 0 turns it off)`);
    }

    // Bits per byte (bpb.ts): the validation windows are fixed, so their text's bytes are counted once.
    const byteTable = tokenByteLengths(tokenizer);
    const valText = validationTextBytes(shards.val, B, T, s.valBatches, byteTable);
    let lastValBpb: number | null = null;
    const order = new DataOrder(shards.train.length, T, s.seed, state.cursor);
    const rng = Rng.fromState(state.rng);
    const stepData = { batch: new Batch(B, T), split: shards.train, order, s, byteTable };
    let session: InferenceSession | null = null;
    let checkpointedStep = -1;
    const stop = new StopRequest({ handleSignals: io.handleSignals, signal: io.signal, log, lastCheckpoint: () => checkpointedStep });
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
    const checkpoint = async () => {
      await engine.sync(true);
      checkpointedStep = state.step;
      state.cursor = { ...order.cursor };
      state.rng = rng.state();
      state.wallSeconds = wallBase + (performance.now() - sessionStart) / 1000;
      saveCheckpoint(runDir, { step: state.step, model: hfTensors(model), optimizer: optimizerTensors(model), state, keepLast: s.keepLast });
    };
    try {
      while (state.step < totalSteps && !stop.reason) {
        const t0 = performance.now();
        const lr = learningRate(schedule, state.step, totalSteps);
        const { loss: stepLoss, gradNorm, textBytes: stepBytes } = await engine.step(stepData, state.step, lr);
        state.step++;
        state.tokens += tokensPerStep;
        const stepSeconds = (performance.now() - t0) / 1000;
        stepSecondsSum += stepSeconds;
        lastLoss = stepLoss;
        const record: MetricsRecord = {
          step: state.step,
          loss: lastLoss,
          lr,
          grad_norm: gradNorm,
          tokens_per_s: Math.round(tokensPerStep / stepSeconds),
          wall_s: Math.round((wallBase + (performance.now() - sessionStart) / 1000) * 1000) / 1000,
          tokens: state.tokens,
          bpb: bitsPerByte(stepLoss * tokensPerStep, stepBytes),
        };
        const last = state.step >= totalSteps;
        if ((s.valEvery > 0 && state.step % s.valEvery === 0) || last) {
          const val = await engine.validationLoss(shards.val, B, T, s.valBatches);
          if (val !== null) {
            record.val_loss = val;
            lastValBpb = bitsPerByte(val * valText.tokens, valText.bytes);
            record.val_bpb = lastValBpb;
            state.lastValLoss = val;
            if (Number.isFinite(val) && (state.bestValLoss === null || val < state.bestValLoss)) {
              state.bestValLoss = val;
              state.bestStep = state.step;
              await engine.sync(false);
              saveBest(runDir, state.step, val, hfTensors(model));
            }
            if (!last && shouldStopEarly(state.step, state.bestStep, s.valEvery, s.patience)) {
              stop.request('stalled');
              say(`early stop at step ${state.step}: val loss has not improved for ${s.patience} validations (best ${state.bestValLoss!.toFixed(3)} at step ${state.bestStep}, kept in best/)`);
            }
          }
        }
        appendJsonLine(join(runDir, 'metrics.jsonl'), record);
        io.onStep?.(record);
        if (s.sampleEvery > 0 && state.step % s.sampleEvery === 0) {
          await engine.sync(false); // the GPU trainer's samples run on the host copy of the weights
          session ??= new InferenceSession(model);
          const text = await generateText(model, tokenizer, s.samplePrompt, { maxTokens: s.sampleTokens, temperature: 0.8, topK: 0, rng, session });
          appendJsonLine(join(runDir, 'samples.jsonl'), { step: state.step, prompt: s.samplePrompt, text });
          if (!s.quiet) say(`step ${state.step} sample: ${s.samplePrompt}${text.replace(/\s+/g, ' ')}`);
        }
        const elapsed = (performance.now() - sessionStart) / 1000;
        // never after the last step: a re-plan then would add a step past the epoch cap
        if (!last && calibrations.length && state.step - startStep >= 3 && elapsed >= calibrations[0]! * s.minutes! * 60) {
          calibrations.shift();
          const perStep = elapsed / (state.step - startStep);
          const planned = totalSteps;
          totalSteps = Math.min(Math.max(state.step + 1, state.step + Math.floor((s.minutes! * 60 - elapsed) / perStep)), Math.max(state.step + 1, epochCapSteps(shards.train.length, tokensPerStep, s.maxEpochs)));
          if (!s.quiet && totalSteps !== planned) {
            say(`re-planned: ${planned} → ${totalSteps} steps, from the pace so far (${formatSeconds(perStep)}/step with validation and checkpoints) so the schedule ends with the ${s.minutes}-minute budget`);
          }
          state.totalSteps = totalSteps;
          schedule.warmupSteps = effectiveWarmup(s, totalSteps);
          progressOpts.total = Math.max(1, totalSteps - startStep);
        }
        if (s.minutes !== null && measured !== null && elapsed > s.minutes * 60 * 1.25 + 30) stop.request('time');
        if (last || stop.reason || (s.checkpointEvery > 0 && state.step % s.checkpointEvery === 0)) await checkpoint();
        const tps = Math.round(tokensPerStep / stepSeconds);
        progress.update(state.step - startStep, `step ${state.step}/${totalSteps} loss ${lastLoss.toFixed(3)}${state.lastValLoss !== null ? ` val ${state.lastValLoss.toFixed(3)}` : ''}${lastValBpb !== null ? ` (${lastValBpb.toFixed(3)} bpb)` : ''} ${formatRate(tps)} tok/s`);
        // Let signals and timers run between steps.
        await new Promise<void>((r) => setImmediate(r));
      }
      if (checkpointedStep !== state.step) await checkpoint(); // stopped between steps: the checkpoint is still written
      progress.done();
    } catch (e) {
      if (e instanceof TrainingDiverged) {
        const kept = checkpointedStep >= 0 ? checkpointedStep : p.checkpoint ? p.checkpoint.state.step : null;
        e.message =
          `training diverged at ${e.message}; nothing of that step was saved. Try a smaller --lr (now ${s.lr}) or more --warmup-steps` +
          (kept !== null ? `; ${runDir} keeps its step-${kept} checkpoint` : '; no checkpoint had been written');
        // The dashboard shows the run as failed (a resume clears the mark).
        if (kept !== null) writeFileAtomicSync(join(runDir, RUN_ERROR), JSON.stringify({ step: state.step + 1, error: e.message }) + '\n');
      }
      throw e;
    } finally {
      stop.dispose();
    }
    const seconds = (performance.now() - sessionStart) / 1000;
    const steps = state.step - startStep;
    return {
      runDir,
      step: state.step,
      totalSteps,
      loss: lastLoss,
      valLoss: state.lastValLoss,
      valBpb: lastValBpb,
      bestValLoss: state.bestValLoss,
      bestValBpb: state.bestValLoss === null ? null : bitsPerByte(state.bestValLoss * valText.tokens, valText.bytes),
      bestStep: state.bestStep,
      reason: stop.reason ?? 'done',
      seconds,
      tokensPerSecond: steps > 0 ? (steps * tokensPerStep) / stepSecondsSum : 0,
      backend: engine.name,
    };
  } finally {
    engine.dispose();
  }
}

/**
 * The run's step engine with its starting weights (a fresh init, --init or the checkpoint's, with its AdamW moments).
 * webgpu, and auto on a hardware adapter: the GPU-resident trainer, its host copy on the reference backend with
 * weights only (no activations: the host only exports checkpoints and runs samples). Otherwise the engine's Model
 * on WASM or the reference, its activations reserved for B x T up front.
 */
async function openStepEngine(p: Prepared, log: (line: string) => void): Promise<StepEngine> {
  const s = p.settings;
  const gpu = s.backend === 'webgpu' || s.backend === 'auto' ? await openGpuKernels(s.backend, log) : null;
  let backend: Backend;
  try {
    backend = gpu ? createRefBackend() : await openCpuBackend(s.backend, s.threads, log);
  } catch (e) {
    gpu?.kernels.dispose();
    throw e;
  }
  try {
    const model = new Model(p.modelConfig, backend, gpu ? { seed: s.seed } : { seed: s.seed, batch: s.batchSize, seq: p.T });
    if (p.checkpoint) {
      importHfTensors(model, p.checkpoint.model);
      restoreOptimizer(model, p.checkpoint.optimizer, p.checkpoint.dir);
    } else if (p.initTensors) importHfTensors(model, p.initTensors); // --init: the given weights, a fresh optimizer
    return gpu ? await gpuStepEngine(model, gpu, s.batchSize, p.T, p.checkpoint !== null) : cpuStepEngine(model, backend);
  } catch (e) {
    backend.dispose();
    gpu?.kernels.dispose();
    throw e;
  }
}

function hfTensors(model: Model): NamedTensor[] {
  return [...exportHfTensors(model)].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
}

function formatRate(x: number): string {
  return x >= 1e4 ? `${(x / 1e3).toFixed(1)}k` : String(x);
}
