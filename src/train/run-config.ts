// train_config.json, the run's training settings + model config + shard location: its one reader and writer.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ModelConfig } from '../engine/config.ts';
import { writeFileAtomicSync } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { type TrainSettings, TrainSettingsSchema } from './settings.ts';

export const TRAIN_CONFIG = 'train_config.json';

/** train_config.json */
export interface TrainConfigFile {
  format: 'tinystories-train-config';
  version: 1;
  settings: TrainSettings;
  /** The model config actually built (vocabSize from the tokenizer). */
  model: ModelConfig;
  /** Where the token shards are (absolute, or relative to the run). */
  shards: string;
  /** tokenizerFingerprint() of the run's tokenizer.json (absent in runs made before it was recorded). */
  tokenizerFingerprint?: string;
}

/** Whether `runDir` holds a training run (its train_config.json exists). */
export function hasTrainConfig(runDir: string): boolean {
  return existsSync(join(runDir, TRAIN_CONFIG));
}

/** Reads and checks a run's train_config.json (for --resume); every problem is a UserError naming the file. */
export function readTrainConfig(runDir: string): TrainConfigFile {
  const path = join(runDir, TRAIN_CONFIG);
  if (!existsSync(path)) throw new UserError(`${runDir}: not a run directory (no ${TRAIN_CONFIG})`);
  let obj: TrainConfigFile;
  try {
    obj = JSON.parse(readFileSync(path, 'utf8')) as TrainConfigFile;
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (obj?.format !== 'tinystories-train-config' || obj.version !== 1) throw new UserError(`${path}: not a version-1 train config`);
  const parsed = TrainSettingsSchema.safeParse(obj.settings);
  if (!parsed.success) throw new UserError(`${path}: settings do not match this version (${parsed.error.issues[0]!.message})`);
  return { ...obj, settings: parsed.data };
}

/** Writes a run's train_config.json atomically. */
export function writeTrainConfig(runDir: string, cfg: TrainConfigFile): void {
  writeFileAtomicSync(join(runDir, TRAIN_CONFIG), JSON.stringify(cfg, null, 2) + '\n');
}

/**
 * A run's train_config.json read leniently, for viewers (dashboard, reports) that show what they can: null when it is
 * missing or not a JSON object; fields are as written (unchecked).
 */
export function peekTrainConfig(runDir: string): Partial<TrainConfigFile> | null {
  try {
    const obj = JSON.parse(readFileSync(join(runDir, TRAIN_CONFIG), 'utf8')) as unknown;
    return typeof obj === 'object' && obj !== null && !Array.isArray(obj) ? (obj as Partial<TrainConfigFile>) : null;
  } catch {
    return null;
  }
}

/** The shard directory a run was trained on (absolute); null when its train_config.json is unreadable or names none. */
export function runShardDir(runDir: string): string | null {
  const shards = peekTrainConfig(runDir)?.shards;
  return typeof shards === 'string' ? resolve(runDir, shards) : null;
}

/** run_error.json: written when training stopped on an error the run should show (a divergence), removed on resume. */
export const RUN_ERROR = 'run_error.json';

/** The error a run stopped on (see RUN_ERROR), or null. */
export function readRunError(runDir: string): string | null {
  try {
    const obj = JSON.parse(readFileSync(join(runDir, RUN_ERROR), 'utf8')) as { error?: unknown };
    return typeof obj.error === 'string' ? obj.error : null;
  } catch {
    return null;
  }
}
