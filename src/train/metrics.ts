// metrics.jsonl: one JSON object per line, appended as training goes; on resume, cut back to the checkpoint's step.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../util/atomic.ts';

/** One line of metrics.jsonl. val_loss only on validation steps. */
export interface MetricsRecord {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
  tokens_per_s: number;
  /** Seconds of training so far, summed across resumes. */
  wall_s: number;
  tokens: number;
  /** Bits per byte of this step's training text (src/train/bpb.ts). */
  bpb?: number;
  val_loss?: number;
  /** Bits per byte of the validation windows' text. */
  val_bpb?: number;
}

/** Appends one record as a line (a kill -9 can leave at most a partial last line, which readers skip). */
export function appendJsonLine(path: string, record: object): void {
  appendFileSync(path, JSON.stringify(record) + '\n');
}

/** Parses a JSONL file, skipping a torn last line. */
export function readJsonLines<T = Record<string, unknown>>(path: string): T[] {
  if (!existsSync(path)) return [];
  const out: T[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a line torn by a crash; everything after it is rewritten on resume
    }
  }
  return out;
}

/** Rewrites a JSONL file keeping only records with `step <= step` (drops what a crashed run logged after its checkpoint). */
export function truncateJsonLines(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readJsonLines<{ step: number }>(path).filter((r) => typeof r.step === 'number' && r.step <= step);
  writeFileAtomicSync(path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
}
