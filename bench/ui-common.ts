// Shared helpers of the dashboard and inspect benchmarks: flags, result lines, stories, a run directory with given weights.
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHfConfig } from '../src/checkpoint/hf-config.ts';
import { writeSafetensorsSync } from '../src/checkpoint/safetensors.ts';
import { readDocuments } from '../src/data/read.ts';
import { exportHfTensors } from '../src/engine/hf.ts';
import type { Model } from '../src/engine/model.ts';
import type { Tokenizer } from '../src/tokenizer/tokenizer.ts';
import { sharedData } from '../test/helpers/shared-data.ts';

export const QUICK = process.argv.includes('--quick');
export const SHARED_STORIES = sharedData('tinystories');

/** Stories to feed the models: the shared TinyStories sample when present, else the builtin mini corpus. */
export async function benchStories(limit = Infinity): Promise<{ source: string; docs: string[] }> {
  const source = existsSync(SHARED_STORIES) ? SHARED_STORIES : 'builtin:mini';
  const docs: string[] = [];
  for await (const d of readDocuments(source)) {
    docs.push(d);
    if (docs.length >= limit) break;
  }
  return { source, docs };
}

/** Writes a loadable run directory (config.json, model.safetensors, tokenizer.json) for a model's current weights. */
export function writeRunDir(dir: string, model: Model, tokenizer: Tokenizer): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(toHfConfig(model.cfg.source, { eotId: tokenizer.eotId })));
  writeSafetensorsSync(join(dir, 'model.safetensors'), [...exportHfTensors(model)].map(([name, t]) => ({ name, shape: t.shape, data: t.data })), { format: 'pt' });
  tokenizer.save(join(dir, 'tokenizer.json'));
}

/** Appends one JSON line to bench/results/<name>.jsonl with the machine and the figures. */
export function record(name: string, figures: Record<string, unknown>): void {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const line = { bench: name, date: new Date().toISOString(), quick: QUICK, node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, ...figures };
  appendFileSync(join(dir, `${name}.jsonl`), JSON.stringify(line) + '\n');
}
