// Which models an evaluation covers: run directories (their latest weights), optionally every checkpoint of a run
// (for score-vs-step curves), each identified by a label, its path, its step and a hash of its weights.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { hasTrainConfig, readTrainConfig } from '../train/run-config.ts';
import { SNAPSHOT_MARKER } from '../interop/hf-model.ts';
import { UserError } from '../util/errors.ts';

/** One model to evaluate. */
export interface ModelEntry {
  /** Label in tables: the run name, with @step-N for a checkpoint. */
  id: string;
  /** The directory loadRunModel reads. */
  path: string;
  /** The run directory it belongs to. */
  run: string;
  /** Training step of these weights, when known. */
  step: number | null;
  /** sha256 of model.safetensors (first 16 hex digits): the model's identity in report.json. */
  weightsSha256: string;
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** The step of a run dir (trainer_state.json), a checkpoint or best/ (state.json), or a step-N folder name. */
export function stepOf(dir: string): number | null {
  for (const f of ['state.json', 'trainer_state.json']) {
    const j = readJson(join(dir, f));
    if (j && typeof j.step === 'number') return j.step;
  }
  const m = /step-0*(\d+)$/.exec(basename(dir));
  return m ? Number(m[1]) : null;
}

/**
 * The context length (tokens per sequence) a model was trained at: `seqLen` from the train_config.json of its run
 * (looked up in the folder itself, then the run above a best/ or checkpoints/step-N folder). Null for a model
 * without one (an imported Hugging Face or llama2.c model, or a config this version cannot read).
 */
export function trainedContext(dir: string): number | null {
  const p = resolve(dir);
  const candidates = [p];
  if (basename(p) === 'best') candidates.push(dirname(p));
  if (/^step-\d+$/.test(basename(p)) && basename(dirname(p)) === 'checkpoints') candidates.push(dirname(dirname(p)));
  for (const c of candidates) {
    if (!hasTrainConfig(c)) continue;
    try {
      return readTrainConfig(c).settings.seqLen;
    } catch (e) {
      if (e instanceof UserError) return null;
      throw e;
    }
  }
  return null;
}

/**
 * sha256 (16 hex digits) of a model's weights: a directory's model.safetensors (or an imported folder's
 * pytorch_model.bin / shard index), or a model file itself (llama2.c .bin, .gguf).
 */
export function weightsHash(dir: string): string {
  const names = ['model.safetensors', 'pytorch_model.bin', 'model.safetensors.index.json', 'pytorch_model.bin.index.json'];
  const f = statSync(dir).isDirectory() ? names.map((n) => join(dir, n)).find((p) => existsSync(p)) : dir;
  if (!f) throw new UserError(`${dir}: no model.safetensors (is this a run directory?)`);
  return createHash('sha256').update(readFileSync(f)).digest('hex').slice(0, 16);
}

function runName(path: string): string {
  const p = resolve(path);
  const b = basename(p);
  const hub = readJson(join(p, SNAPSHOT_MARKER)); // a hub model in the cache: name it owner/repo[@rev]
  if (hub && typeof hub.repo === 'string') return hub.revision === 'main' ? hub.repo : `${hub.repo}@${String(hub.revision)}`;
  if (b === 'best') return `${basename(dirname(p))}/best`;
  if (/^step-\d+$/.test(b) && basename(dirname(p)) === 'checkpoints') return `${basename(dirname(dirname(p)))}@${b}`;
  return b;
}

/**
 * The models for a list of run paths. With `checkpoints`, each run directory also contributes every committed
 * checkpoint under checkpoints/ (sorted by step), labelled run@step-N.
 */
export function expandRuns(paths: string[], checkpoints = false): ModelEntry[] {
  const out: ModelEntry[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    if (!existsSync(p)) throw new UserError(`--run ${p}: no such run directory or model file`);
    const entries: Array<{ path: string; id: string }> = [];
    const ck = join(p, 'checkpoints');
    if (checkpoints && existsSync(ck)) {
      const steps = readdirSync(ck).filter((n) => /^step-\d+$/.test(n) && existsSync(join(ck, n, 'model.safetensors'))).sort();
      for (const s of steps) entries.push({ path: join(ck, s), id: `${basename(resolve(p))}@${s.replace(/^step-0*/, 'step-') || 'step-0'}` });
    }
    // the run's own weights (the latest) unless they are the same file as its last checkpoint
    const own = { path: p, id: runName(p) };
    const ownHash = weightsHash(p);
    const last = entries.at(-1);
    if (!last || weightsHash(last.path) !== ownHash) entries.push(own);
    for (const e of entries) {
      let id = e.id;
      for (let k = 2; seen.has(id); k++) id = `${e.id}#${k}`;
      seen.add(id);
      out.push({ id, path: e.path, run: resolve(p), step: stepOf(e.path), weightsSha256: weightsHash(e.path) });
    }
  }
  return out;
}

/** A file-name-safe form of a model id. */
export function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._@-]+/g, '_');
}
