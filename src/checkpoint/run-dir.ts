// The run directory: HF-loadable model files at the top, resumable checkpoints below, committed atomically.
//
// run/
//   config.json  model.safetensors  tokenizer.json     Hugging Face files (from_pretrained(run) loads the latest)
//   train_config.json                                  our resolved training settings
//   trainer_state.json                                 the commit point: which checkpoint is the latest, best val
//   metrics.jsonl  samples.jsonl                       append-only logs (cut back to the checkpoint on resume)
//   checkpoints/step-00000040/{model,optimizer}.safetensors + state.json   (keep-last-N)
//   best/{config.json, model.safetensors, tokenizer.json, state.json}      (best validation loss so far)
//
// A checkpoint is written into a temp directory, fsynced, renamed into place, and only then named in
// trainer_state.json (itself written by temp + rename). A kill -9 at any moment leaves the previous checkpoint
// intact and named, so a resume never reads a half-written one.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { HF_TOKENIZER_FILE, REMAP_FORMAT, TOPK_TOKENIZER_FILE } from '../tokenizer/hf-json.ts';
import type { ModelConfig } from '../engine/config.ts';
import { writeFileAtomicSync } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { fromHfConfig } from './hf-config.ts';
import { type NamedTensor, readSafetensors, writeSafetensorsSync } from './safetensors.ts';

/** Everything besides weights and optimizer moments that a bit-exact resume needs. */
export interface TrainState {
  /** Optimizer steps completed. */
  step: number;
  /** The run's total steps (fixed at the start, also in --minutes mode, so the schedule resumes unchanged). */
  totalSteps: number;
  /** Data order cursor. */
  cursor: { epoch: number; position: number };
  /** State of the run's Rng (sample stories during training draw from it). */
  rng: number[];
  tokens: number;
  /** Training seconds so far, summed over resumes. */
  wallSeconds: number;
  bestValLoss: number | null;
  bestStep: number | null;
  lastValLoss: number | null;
}

/** trainer_state.json */
export interface TrainerPointer {
  format: 'tinystories-run';
  version: 1;
  /** Relative path of the latest complete checkpoint. */
  latest: string;
  step: number;
  bestValLoss: number | null;
  bestStep: number | null;
}

export const CHECKPOINT_VERSION = 1;

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  }
}

function writeJson(path: string, obj: unknown): void {
  writeFileAtomicSync(path, JSON.stringify(obj, null, 2) + '\n');
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: ${code === 'ENOENT' ? 'not found' : code ? `cannot read (${code})` : `not valid JSON (${(e as Error).message})`}`);
  }
}

export function stepDirName(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/**
 * The static files of a run: the HF config and generation config, and (when given) the tokenizer (HF tokenizer.json
 * object) and a train_config.json object (training writes its own through src/train/run-config.ts).
 */
export function writeRunFiles(runDir: string, files: { hfConfig: object; tokenizerJson?: object; trainConfig?: object }): void {
  mkdirSync(runDir, { recursive: true });
  writeJson(join(runDir, 'config.json'), files.hfConfig);
  writeJson(join(runDir, 'generation_config.json'), generationConfig(files.hfConfig as Record<string, unknown>));
  if (files.tokenizerJson) {
    // our top-K remap format never poses as Hugging Face's tokenizer.json
    const name = (files.tokenizerJson as { format?: unknown }).format === REMAP_FORMAT ? TOPK_TOKENIZER_FILE : HF_TOKENIZER_FILE;
    writeFileAtomicSync(join(runDir, name), JSON.stringify(files.tokenizerJson));
  }
  if (files.trainConfig) writeJson(join(runDir, 'train_config.json'), files.trainConfig);
}

/** The first tensor holding a NaN or an infinity, with the element's index; null when every value is finite. */
export function findNonFinite(tensors: Iterable<NamedTensor>): { name: string; index: number; value: number } | null {
  for (const t of tensors) {
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i]!)) return { name: t.name, index: i, value: d[i]! };
    }
  }
  return null;
}

// Weights are checked before they are written: a diverged run must never leave NaN weights as latest or best.
function assertFinite(tensors: NamedTensor[], what: string): void {
  const bad = findNonFinite(tensors);
  if (bad) throw new Error(`refusing to write ${what}: ${bad.name}[${bad.index}] is ${bad.value}`);
}

function generationConfig(hf: Record<string, unknown>): object {
  return { bos_token_id: hf.bos_token_id ?? null, eos_token_id: hf.eos_token_id ?? null, max_length: hf.max_position_embeddings };
}

export interface CheckpointInput {
  step: number;
  model: NamedTensor[];
  optimizer: NamedTensor[];
  state: TrainState;
  /** Keep this many step checkpoints (older ones are deleted after the new one is committed). */
  keepLast: number;
}

/**
 * Writes best/ (weights + config.json + tokenizer.json: loadable on its own) for a new best validation loss. Each file
 * is atomic; a crash between files is repaired by the resumed run, which recomputes the same validation.
 */
export function saveBest(runDir: string, step: number, valLoss: number, model: NamedTensor[]): void {
  if (!Number.isFinite(valLoss)) throw new Error(`refusing to write best/ for a validation loss of ${valLoss}`);
  assertFinite(model, 'best/');
  const best = join(runDir, 'best');
  mkdirSync(best, { recursive: true });
  for (const f of ['config.json', HF_TOKENIZER_FILE, TOPK_TOKENIZER_FILE, 'generation_config.json']) {
    if (existsSync(join(runDir, f))) writeFileAtomicSync(join(best, f), readFileSync(join(runDir, f)));
  }
  const meta = { format: 'pt', step: String(step), val_loss: String(valLoss) };
  writeSafetensorsSync(join(best, 'model.safetensors'), model, meta);
  writeJson(join(best, 'state.json'), { step, valLoss });
}

/** Writes and commits a checkpoint (see the file comment for the protocol). Synchronous, so a signal handler can finish it. */
export function saveCheckpoint(runDir: string, c: CheckpointInput): void {
  assertFinite(c.model, `the step-${c.step} checkpoint`);
  const ckDir = join(runDir, 'checkpoints');
  mkdirSync(ckDir, { recursive: true });
  const name = stepDirName(c.step);
  const final = join(ckDir, name);
  const tmp = join(ckDir, `.tmp-${name}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  // transformers refuses safetensors whose metadata format is not 'pt' (or tf/flax/mlx).
  const meta = { tinystories_checkpoint_version: String(CHECKPOINT_VERSION), step: String(c.step) };
  writeSafetensorsSync(join(tmp, 'model.safetensors'), c.model, { format: 'pt', ...meta });
  writeSafetensorsSync(join(tmp, 'optimizer.safetensors'), c.optimizer, meta);
  writeJson(join(tmp, 'state.json'), { format: 'tinystories-train-state', version: CHECKPOINT_VERSION, ...c.state });
  fsyncDir(tmp);
  rmSync(final, { recursive: true, force: true }); // a leftover of a crashed run that never got committed
  renameSync(tmp, final);
  fsyncDir(ckDir);
  // The HF-facing weights at the top of the run, then the commit point.
  writeSafetensorsSync(join(runDir, 'model.safetensors'), c.model, { format: 'pt', ...meta });
  const pointer: TrainerPointer = {
    format: 'tinystories-run',
    version: 1,
    latest: `checkpoints/${name}`,
    step: c.step,
    bestValLoss: c.state.bestValLoss,
    bestStep: c.state.bestStep,
  };
  writeJson(join(runDir, 'trainer_state.json'), pointer);
  pruneCheckpoints(ckDir, c.keepLast, name);
}

function pruneCheckpoints(ckDir: string, keepLast: number, latest: string): void {
  const names = readdirSync(ckDir).filter((n) => /^step-\d+$/.test(n)).sort();
  const keep = new Set(names.slice(Math.max(0, names.length - Math.max(1, keepLast))));
  keep.add(latest);
  for (const n of names) if (!keep.has(n)) rmSync(join(ckDir, n), { recursive: true, force: true });
  for (const n of readdirSync(ckDir)) if (n.startsWith('.tmp-')) rmSync(join(ckDir, n), { recursive: true, force: true });
}

/** A committed checkpoint, read back. */
export interface LoadedCheckpoint {
  dir: string;
  state: TrainState;
  model: Map<string, NamedTensor>;
  optimizer: Map<string, NamedTensor>;
}

/** The committed latest checkpoint of a run (for --resume); null when the run never reached its first checkpoint. */
export function loadLatestCheckpoint(runDir: string): LoadedCheckpoint | null {
  const pointerPath = join(runDir, 'trainer_state.json');
  if (!existsSync(pointerPath)) return null;
  const pointer = readJson<TrainerPointer>(pointerPath);
  if (pointer.format !== 'tinystories-run' || pointer.version !== 1) throw new UserError(`${pointerPath}: unknown format/version (expected tinystories-run v1)`);
  const dir = join(runDir, pointer.latest);
  const state = readJson<TrainState & { version: number }>(join(dir, 'state.json'));
  if (state.version !== CHECKPOINT_VERSION) throw new UserError(`${dir}/state.json: version ${state.version}, expected ${CHECKPOINT_VERSION}`);
  return {
    dir,
    state,
    model: readSafetensors(join(dir, 'model.safetensors')).tensors,
    optimizer: readSafetensors(join(dir, 'optimizer.safetensors')).tensors,
  };
}

/** A model to sample from: its config, HF-named tensors, and the tokenizer.json path. */
export interface LoadedModelFiles {
  config: ModelConfig;
  tensors: Map<string, NamedTensor>;
  tokenizerPath: string;
  /** The directory the weights came from. */
  dir: string;
}

/** `file` in `start` or up to `levels` directories above it (a run's best/ or checkpoints/step-N find the run's files). */
export function findUp(start: string, file: string, levels = 3): string | null {
  let d = resolve(start);
  for (let i = 0; i <= levels; i++) {
    if (existsSync(join(d, file))) return join(d, file);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return null;
}

/**
 * Loads the weights of a run directory (the latest), a run's best/ or checkpoints/step-N directory, or any folder
 * with a Hugging Face config.json + model.safetensors (+ tokenizer.json) of a gpt_neo or llama model.
 */
export function loadModelFiles(path: string): LoadedModelFiles {
  if (!existsSync(path)) throw new UserError(`${path}: no such run or checkpoint directory`);
  const dir = statSync(path).isDirectory() ? path : dirname(path);
  const weights = statSync(path).isDirectory() ? join(dir, 'model.safetensors') : path;
  if (!existsSync(weights)) throw new UserError(`${dir}: no model.safetensors (is this a run directory? a run writes one at its first checkpoint)`);
  const configPath = findUp(dir, 'config.json');
  if (!configPath) throw new UserError(`${dir}: no config.json here or in the directories above`);
  const tokenizerPath = findUp(dir, HF_TOKENIZER_FILE) ?? findUp(dir, TOPK_TOKENIZER_FILE);
  if (!tokenizerPath) throw new UserError(`${dir}: no tokenizer.json (or tokenizer.topk.json) here or in the directories above`);
  const config = fromHfConfig(readJson<Record<string, unknown>>(configPath), configPath);
  const tensors = readSafetensors(weights).tensors;
  const bad = findNonFinite(tensors.values());
  if (bad) {
    throw new UserError(`${weights}: ${bad.name} holds ${bad.value} (element ${bad.index}); the weights are not finite, so the training run that wrote them diverged`);
  }
  return { config, tensors, tokenizerPath, dir };
}
