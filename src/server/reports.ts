// Reports the dashboard finds under its roots: evaluation reports (eval gpt / eval metrics), generation runs (synth),
// and dataset statistics (token-shard manifests of runs, corpus statistics of generated stories).
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { manifestSplits, readManifest } from '../data/shards.ts';
import { computeStats, type CorpusStats } from '../data/stats.ts';
import { runShardDir } from '../train/run-config.ts';
import { HttpError, runPath, walkableSubdirs } from './paths.ts';
import type { DatasetSummary, ReportKind } from './api-types.ts';

export type { DatasetSummary, ReportKind };

const SKIP = new Set(['checkpoints', 'best', 'shards', 'inspect', 'node_modules', 'completions']);
const MAX_DEPTH = 4;

export interface FoundReport {
  /** Directory of the report, relative to the root ('/'-separated; '' = the root itself). */
  id: string;
  kind: ReportKind;
  mtimeMs: number;
}

/** The kind of a report.json object, or null when it is none we show. */
export function reportKind(obj: unknown): ReportKind | null {
  if (!obj || typeof obj !== 'object') return null;
  const o = obj as Record<string, unknown>;
  if (o.kind === 'tinystories-gpt-eval') return 'gpt-eval';
  if (o.kind === 'tinystories-metrics') return 'metrics';
  if (typeof o.accepted === 'number' && o.attempts && typeof o.attempts === 'object' && o.requests && typeof o.requests === 'object') return 'generation';
  return null;
}

/** Every report.json under `root` (four levels down) that is an eval or generation report. */
export function discoverReports(root: string): FoundReport[] {
  const out: FoundReport[] = [];
  const realRoot = realpathSync(root);
  const visit = (dir: string, depth: number) => {
    const path = join(dir, 'report.json');
    if (existsSync(path)) {
      try {
        const kind = reportKind(JSON.parse(readFileSync(path, 'utf8')));
        if (kind) out.push({ id: relative(root, dir).split(sep).join('/'), kind, mtimeMs: statSync(path).mtimeMs });
      } catch {
        // not JSON (half-written reports do not exist: writers rename into place); ignore
      }
    }
    if (depth >= MAX_DEPTH) return;
    for (const p of walkableSubdirs(dir, realRoot, SKIP)) visit(p, depth + 1);
  };
  visit(root, 0);
  return out;
}

/** The report of a directory found by discoverReports (400/404 on a bad id). */
export function readReport(root: string, id: string): { kind: ReportKind; report: Record<string, unknown> } {
  const dir = id === '' ? root : runPath(root, id);
  const path = join(dir, 'report.json');
  if (!existsSync(path)) throw new HttpError(404, `no report.json in ${JSON.stringify(id)}`);
  let obj: unknown;
  try {
    obj = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new HttpError(422, `${id}/report.json is not valid JSON (${(e as Error).message})`);
  }
  const kind = reportKind(obj);
  if (!kind) throw new HttpError(422, `${id}/report.json is not an evaluation or generation report`);
  return { kind, report: obj as Record<string, unknown> };
}


/** Reads the shard manifest a run was trained on; null when the run names none or it is unreadable. */
export function runDataset(runDir: string, id: string): DatasetSummary | null {
  try {
    const shardDir = runShardDir(runDir);
    if (!shardDir) return null;
    const m = readManifest(shardDir);
    return { run: id, source: m.options.data, vocabSize: m.vocabSize, complete: m.complete, splits: manifestSplits(m) };
  } catch {
    return null;
  }
}

const statsCache = new Map<string, { key: string; stats: Promise<CorpusStats> }>();

/** Corpus statistics of a generation run's stories file, computed once per file version. */
export function generationStats(root: string, id: string): Promise<CorpusStats> | null {
  const dir = id === '' ? root : runPath(root, id);
  const file = ['stories.txt', 'stories.jsonl'].map((f) => join(dir, f)).find((p) => existsSync(p));
  if (!file) return null;
  const st = statSync(file);
  const key = `${st.size}:${st.mtimeMs}`;
  const hit = statsCache.get(file);
  if (hit && hit.key === key) return hit.stats;
  const stats = computeStats(file);
  statsCache.set(file, { key, stats });
  stats.catch(() => statsCache.delete(file));
  return stats;
}
