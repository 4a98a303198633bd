// Run directories as the dashboard sees them: discovery under the root, incrementally read metrics, summaries, samples.
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fromHfConfig } from '../checkpoint/hf-config.ts';
import { countParams } from '../engine/model.ts';
import { TRAIN_CONFIG, hasTrainConfig, peekTrainConfig, readRunError } from '../train/run-config.ts';
import { HttpError, runPath, walkableSubdirs } from './paths.ts';
import type { MetricColumns, RunDetailResponse, RunSummary } from './api-types.ts';

export type { MetricColumns, RunSummary };

/** Directories a walk never enters (parts of a run, or not runs at all). */
const SKIP = new Set(['checkpoints', 'best', 'shards', 'inspect', 'node_modules']);
const MAX_DEPTH = 3;

/** Whether a directory is a training run (or at least a model folder we can sample from). */
export function isRunDir(dir: string): boolean {
  return hasTrainConfig(dir) || existsSync(join(dir, 'metrics.jsonl')) || (existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'model.safetensors')));
}

/** Run ids (paths relative to root, '/'-separated) of every run up to three levels down, sorted. */
export function discoverRuns(root: string): string[] {
  const out: string[] = [];
  const realRoot = realpathSync(root);
  const walk = (dir: string, depth: number) => {
    // links out of the root are not runs
    for (const p of walkableSubdirs(dir, realRoot, SKIP)) {
      if (isRunDir(p)) out.push(relative(root, p).split(sep).join('/'));
      else if (depth < MAX_DEPTH) walk(p, depth + 1);
    }
  };
  walk(root, 1);
  return out;
}

const TRAIN_KEYS = ['step', 'loss', 'lr', 'tokens', 'wall_s', 'tokens_per_s'] as const;

function emptyColumns(): MetricColumns {
  return { step: [], loss: [], lr: [], tokens: [], wall_s: [], tokens_per_s: [], val_step: [], val_loss: [], val_bpb: [], val_tokens: [], val_wall_s: [] };
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}

/**
 * metrics.jsonl read incrementally: each refresh reads only the bytes appended since the last one (a file that
 * shrank, as on --resume, is read again from the start); a torn last line waits for its newline.
 */
export class MetricsTail {
  cols: MetricColumns = emptyColumns();
  private offset = 0;
  private rest = '';
  /** Bumped when the file was rewritten (clients must reload rather than append). */
  generation = 0;
  mtimeMs = 0;

  constructor(readonly path: string) {}

  /** Reads what was appended; returns the index of the first new training row and of the first new val row. */
  refresh(): { from: number; valFrom: number; reset: boolean } {
    const from = this.cols.step.length;
    const valFrom = this.cols.val_step.length;
    let size = 0;
    try {
      const st = statSync(this.path);
      size = st.size;
      this.mtimeMs = st.mtimeMs;
    } catch {
      size = 0;
    }
    let reset = false;
    if (size < this.offset) {
      this.cols = emptyColumns();
      this.offset = 0;
      this.rest = '';
      this.generation++;
      reset = true;
    }
    if (size > this.offset) {
      const fd = openSync(this.path, 'r');
      try {
        const buf = Buffer.alloc(size - this.offset);
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        this.offset += n;
        const text = this.rest + buf.subarray(0, n).toString('utf8');
        const lines = text.split('\n');
        this.rest = lines.pop() ?? '';
        for (const line of lines) this.addLine(line);
      } finally {
        closeSync(fd);
      }
    }
    return reset ? { from: 0, valFrom: 0, reset } : { from, valFrom, reset };
  }

  private addLine(line: string): void {
    if (!line.trim()) return;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // a torn line from a crash; the trainer rewrites the file on resume
    }
    if (typeof r.step !== 'number') return;
    const c = this.cols;
    if (typeof r.loss === 'number') for (const k of TRAIN_KEYS) c[k].push(num(r[k]));
    if (typeof r.val_loss === 'number') {
      c.val_step.push(r.step);
      c.val_loss.push(r.val_loss);
      c.val_bpb.push(num(r.val_bpb));
      c.val_tokens.push(num(r.tokens));
      c.val_wall_s.push(num(r.wall_s));
    }
  }
}

/**
 * Training rows from `from` on, cut to at most `max` rows by averaging consecutive buckets (loss, lr, tokens/s are
 * bucket means, so a downsampled curve is a smoothed one rather than a random subsample; step, tokens and wall time
 * are each bucket's last). Validation rows are few and all kept.
 */
export function sliceColumns(c: MetricColumns, max: number, from = 0, valFrom = 0): Partial<MetricColumns> & { rows: number } {
  const n = Math.max(0, c.step.length - from);
  const buckets = Math.min(n, max);
  const out = { step: [] as number[], loss: [] as number[], lr: [] as number[], tokens: [] as number[], wall_s: [] as number[], tokens_per_s: [] as number[] };
  const mean = (a: number[], lo: number, hi: number) => {
    let sum = 0;
    for (let i = lo; i < hi; i++) sum += a[i]!;
    return sum / (hi - lo);
  };
  for (let b = 0; b < buckets; b++) {
    const lo = from + Math.floor((b * n) / buckets);
    const hi = from + Math.floor(((b + 1) * n) / buckets);
    out.step.push(c.step[hi - 1]!);
    out.tokens.push(c.tokens[hi - 1]!);
    out.wall_s.push(c.wall_s[hi - 1]!);
    out.loss.push(hi - lo === 1 ? c.loss[lo]! : mean(c.loss, lo, hi));
    out.lr.push(hi - lo === 1 ? c.lr[lo]! : mean(c.lr, lo, hi));
    out.tokens_per_s.push(hi - lo === 1 ? c.tokens_per_s[lo]! : mean(c.tokens_per_s, lo, hi));
  }
  return {
    rows: c.step.length,
    ...out,
    val_step: c.val_step.slice(valFrom),
    val_loss: c.val_loss.slice(valFrom),
    val_bpb: c.val_bpb.slice(valFrom),
    val_tokens: c.val_tokens.slice(valFrom),
    val_wall_s: c.val_wall_s.slice(valFrom),
  };
}

function readJsonFile(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/** The runs root and its per-run caches. */
export class RunStore {
  private tails = new Map<string, MetricsTail>();
  private ids: string[] = [];
  private scannedAt = 0;

  constructor(readonly root: string) {}

  /** Run ids, rescanned at most every `maxAgeMs`. */
  list(maxAgeMs = 2000): string[] {
    if (Date.now() - this.scannedAt > maxAgeMs) {
      this.ids = discoverRuns(this.root);
      this.scannedAt = Date.now();
    }
    return this.ids;
  }

  /** A run's directory (400 for a bad id, 404 for one that is not a run). */
  dir(id: string): string {
    const p = runPath(this.root, id);
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new HttpError(404, `no run ${JSON.stringify(id)} in the runs directory`);
    }
    if (!st.isDirectory() || !isRunDir(p)) throw new HttpError(404, `${JSON.stringify(id)} is not a run directory (no train_config.json, metrics.jsonl or config.json + model.safetensors)`);
    return p;
  }

  /** The run's metrics, refreshed from the file. */
  metrics(id: string): { tail: MetricsTail; from: number; valFrom: number; reset: boolean } {
    const dir = this.dir(id);
    let t = this.tails.get(id);
    if (!t) {
      t = new MetricsTail(join(dir, 'metrics.jsonl'));
      this.tails.set(id, t);
    }
    return { tail: t, ...t.refresh() };
  }

  /** Checkpoint names (step-N) of a run, oldest first. */
  checkpoints(id: string): string[] {
    const d = join(this.dir(id), 'checkpoints');
    if (!existsSync(d)) return [];
    return readdirSync(d).filter((n) => /^step-\d+$/.test(n) && existsSync(join(d, n, 'model.safetensors'))).sort();
  }

  /** The directory of a run's weights: '' or 'latest' (the run), 'best', or a checkpoint name from checkpoints(). */
  weightsDir(id: string, checkpoint: string | null): string {
    const dir = this.dir(id);
    if (!checkpoint || checkpoint === 'latest') return dir;
    if (checkpoint === 'best') {
      if (!existsSync(join(dir, 'best', 'model.safetensors'))) throw new HttpError(404, `run ${id} has no best/ checkpoint yet`);
      return join(dir, 'best');
    }
    if (!this.checkpoints(id).includes(checkpoint)) throw new HttpError(404, `run ${id} has no checkpoint ${JSON.stringify(checkpoint)} (see /api/run?id=${encodeURIComponent(id)})`);
    return join(dir, 'checkpoints', checkpoint);
  }

  /** The Runs-table row of a run; a malformed run gets a row with `error` instead of failing the list. */
  summary(id: string): RunSummary {
    const s: RunSummary = {
      id, arch: null, params: null, dim: null, layers: null, step: null, totalSteps: null, tokens: null, bestValLoss: null, bestValBpb: null,
      lastLoss: null, tokensPerSecond: null, checkpoints: [], hasBest: false, inspect: { attention: false, neurons: false }, updatedAt: null, live: false,
    };
    try {
      const dir = this.dir(id);
      s.checkpoints = this.checkpoints(id);
      s.hasBest = existsSync(join(dir, 'best', 'model.safetensors'));
      s.inspect = { attention: existsSync(join(dir, 'inspect', 'attention.json')), neurons: existsSync(join(dir, 'inspect', 'neurons.json')) };
      const hf = readJsonFile(join(dir, 'config.json'));
      if (hf) {
        const cfg = fromHfConfig(hf, join(id, 'config.json'));
        s.arch = cfg.arch;
        s.params = countParams(cfg);
        s.dim = cfg.dim;
        s.layers = cfg.nLayers;
      }
      const { tail } = this.metrics(id);
      const c = tail.cols;
      const n = c.step.length;
      if (n > 0) {
        s.step = c.step[n - 1]!;
        s.tokens = c.tokens[n - 1]!;
        s.lastLoss = c.loss[n - 1]!;
        const recent = c.tokens_per_s.slice(Math.max(0, n - 20)).filter((v) => Number.isFinite(v));
        s.tokensPerSecond = recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : null;
        s.updatedAt = tail.mtimeMs;
        s.live = Date.now() - tail.mtimeMs < 60_000;
      }
      if (c.val_loss.length) {
        s.bestValLoss = Math.min(...c.val_loss);
        const bpb = c.val_bpb[c.val_loss.indexOf(s.bestValLoss)]!;
        s.bestValBpb = Number.isFinite(bpb) ? bpb : null;
      }
      const ptr = readJsonFile(join(dir, 'trainer_state.json'));
      if (ptr && typeof ptr.bestValLoss === 'number') s.bestValLoss = s.bestValLoss === null ? ptr.bestValLoss : Math.min(s.bestValLoss, ptr.bestValLoss);
      if (ptr && typeof ptr.latest === 'string' && /^checkpoints\/step-\d+$/.test(ptr.latest)) {
        const st = readJsonFile(join(dir, ptr.latest, 'state.json'));
        if (st && typeof st.totalSteps === 'number') s.totalSteps = st.totalSteps;
      }
      const steps = peekTrainConfig(dir)?.settings?.steps;
      if (s.totalSteps === null && typeof steps === 'number') s.totalSteps = steps;
      const failed = readRunError(dir); // e.g. training diverged: shown instead of a healthy row
      if (failed) s.error = failed;
      // A run whose final checkpoint is committed (at its last step, with no metrics after it) or that failed is not
      // live, however recent its last metrics write: a finished run used to show "live" for a minute. Rows past the
      // final checkpoint mean it was resumed for more steps, so it is live again.
      const committed = ptr && typeof ptr.step === 'number' ? ptr.step : null;
      const finished = committed !== null && s.totalSteps !== null && committed >= s.totalSteps && (s.step ?? -1) <= committed;
      if (failed || finished) s.live = false;
    } catch (e) {
      s.error = (e as Error).message.split('\n')[0];
    }
    return s;
  }

  /** Details of one run: summary, HF config, training settings, checkpoints. */
  detail(id: string): RunDetailResponse {
    const dir = this.dir(id);
    const safe = (name: string) => {
      try {
        return readJsonFile(join(dir, name));
      } catch (e) {
        return { error: `${name}: ${(e as Error).message.split('\n')[0]}` };
      }
    };
    return { summary: this.summary(id), config: safe('config.json'), trainConfig: safe(TRAIN_CONFIG), trainerState: safe('trainer_state.json'), checkpoints: this.checkpoints(id) };
  }

  /** samples.jsonl grouped by step (the stories written during training, one group per checkpoint interval). */
  samples(id: string): Array<{ step: number; samples: Array<{ prompt: string; text: string }> }> {
    const path = join(this.dir(id), 'samples.jsonl');
    if (!existsSync(path)) return [];
    const byStep = new Map<number, Array<{ prompt: string; text: string }>>();
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line) as { step?: unknown; prompt?: unknown; text?: unknown };
        if (typeof r.step !== 'number') continue;
        const list = byStep.get(r.step) ?? [];
        list.push({ prompt: String(r.prompt ?? ''), text: String(r.text ?? '') });
        byStep.set(r.step, list);
      } catch {
        // torn last line
      }
    }
    return [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([step, samples]) => ({ step, samples }));
  }
}
