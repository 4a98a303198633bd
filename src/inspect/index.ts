// The inspect module's entry points: load a run, compute attention or neuron reports, save them where the dashboard looks.
import { mkdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readDocuments } from '../data/read.ts';
import type { Backend } from '../engine/backend.ts';
import { loadRunModel } from '../sample/load.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { type AttentionReport, LABEL_RULE, attentionForText, headStatsOver } from './attention.ts';
import { type NeuronReport, type NeuronScanOptions, scanNeurons, summarizeNeurons } from './neurons.ts';

export * from './attention.ts';
export * from './neurons.ts';
export { classifyWord, wordAround, WORD_CLASSES, type WordClass } from './word-class.ts';

/** Where the dashboard looks for a run's inspection reports (for a model file, e.g. a llama2.c .bin: beside it). */
export function inspectDir(runDir: string): string {
  return join(existsSync(runDir) && statSync(runDir).isFile() ? dirname(runDir) : runDir, 'inspect');
}

export interface InspectAttentionOptions {
  run: string;
  /** A tokenizer replacing the model's own (e.g. a llama2.c tokenizer.bin). */
  tokenizer?: string | null;
  text?: string | null;
  /** A data source (file, dir, hf:..., builtin:mini) for the per-head statistics. */
  data?: string | null;
  /** Texts of the source to use (default 200). */
  docs?: number;
  maxTokens?: number;
  onText?: (n: number) => void;
}

/**
 * The attention report of a run: statistics over `data` (or over `text` alone) and the maps of `text`.
 * @example const r = await inspectAttention(createRefBackend(), { run: 'runs/1M', data: 'builtin:mini', text: 'Lily saw Tom.' });
 */
export async function inspectAttention(backend: Backend, o: InspectAttentionOptions): Promise<AttentionReport> {
  if (!o.text && !o.data) throw new UserError('inspect attention: give --text <s>, --data <src>, or both');
  const { model, tokenizer } = loadRunModel(o.run, backend, { tokenizer: o.tokenizer ?? undefined });
  const opts = { maxTokens: o.maxTokens };
  const stats = o.data
    ? await headStatsOver(model, tokenizer, readDocuments(o.data), { ...opts, maxDocs: o.docs ?? 200, onText: o.onText })
    : await headStatsOver(model, tokenizer, [o.text!], opts);
  return {
    format: 'tinystories-attention',
    version: 1,
    run: o.run,
    arch: model.cfg.arch,
    nLayers: model.cfg.nLayers,
    nHeads: model.cfg.nHeads,
    source: o.data ?? 'text',
    texts: stats.texts,
    tokens: stats.tokens,
    rule: LABEL_RULE.text,
    heads: stats.heads,
    example: o.text ? attentionForText(model, tokenizer, o.text, opts) : undefined,
    createdAt: new Date().toISOString(),
  };
}

export interface InspectNeuronsOptions extends NeuronScanOptions {
  run: string;
  /** A tokenizer replacing the model's own (e.g. a llama2.c tokenizer.bin). */
  tokenizer?: string | null;
  data: string;
}

/**
 * The neuron report of a run over a data source.
 * @example const r = await inspectNeurons(backend, { run: 'runs/1M', data: 'builtin:mini', topK: 20 });
 */
export async function inspectNeurons(backend: Backend, o: InspectNeuronsOptions): Promise<NeuronReport> {
  const { model, tokenizer } = loadRunModel(o.run, backend, { tokenizer: o.tokenizer ?? undefined });
  const scan = await scanNeurons(model, tokenizer, readDocuments(o.data), o);
  return summarizeNeurons(model, tokenizer, scan, { run: o.run, source: o.data });
}

/** Writes a report as <run>/inspect/<name>.json (or to `out`); returns the path. */
export async function saveInspectReport(run: string, name: 'attention' | 'neurons', report: object, out?: string | null): Promise<string> {
  const path = out ?? join(inspectDir(run), `${name}.json`);
  if (!out) mkdirSync(inspectDir(run), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(report));
  return path;
}

/** Reads a saved report, or null when there is none; a malformed one is a UserError naming the file. */
export function readInspectReport<T extends AttentionReport | NeuronReport>(run: string, name: 'attention' | 'neurons'): T | null {
  const path = join(inspectDir(run), `${name}.json`);
  if (!existsSync(path) || !statSync(path).isFile()) return null;
  let obj: T;
  try {
    obj = JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const want = name === 'attention' ? 'tinystories-attention' : 'tinystories-neurons';
  if (obj.format !== want) throw new UserError(`${path}: not a ${want} report (format ${JSON.stringify(obj.format)})`);
  return obj;
}
