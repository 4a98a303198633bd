// Completions of story beginnings by a model: N per beginning, each from its own seeded sampler, stored in the
// out directory so a rerun with the same model and settings reuses them (and the judge's cache then answers).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../engine/backend.ts';
import { generate } from '../sample/generate.ts';
import { type GpuDecoding, generationBackendName } from '../sample/gpu-decoding.ts';
import { loadRunModel } from '../sample/load.ts';
import { rngFor } from '../synth/prompts.ts';
import { writeFileAtomicSync } from '../util/atomic.ts';
import type { ModelEntry } from './models.ts';
import { safeName } from './models.ts';
import type { SamplingConfig } from './report-types.ts';

export type { SamplingConfig };

export interface Completion {
  beginning: number;
  sample: number;
  text: string;
  tokens: number;
  /** 'eot' (the model ended the story) or 'length' (cut at maxTokens). */
  stop: 'eot' | 'length';
}

/** What a model's completions file records besides the texts. */
export interface CompletionSet {
  model: string;
  params: number;
  arch: string;
  key: string;
  completions: Completion[];
  /** Generated tokens per second (0 when loaded from the file). */
  tokensPerSecond: number;
  reused: boolean;
}

/** The key a stored completion set must match to be reused: weights, beginnings and sampling settings. */
export function completionKey(entry: ModelEntry, beginnings: string[], s: SamplingConfig, backendName: string): string {
  // the backend is part of the key: float rounding differs between backends and can change a sampled token
  return createHash('sha256').update(JSON.stringify({ w: entry.weightsSha256, b: beginnings, s, backend: backendName })).digest('hex').slice(0, 24);
}

/**
 * Generates (or reloads from `outDir`) the completions of every beginning by one model. Completion j of beginning i
 * draws from rngFor(seed, i, j), so any subset can be regenerated identically.
 */
export async function completeBeginnings(entry: ModelEntry, beginnings: string[], s: SamplingConfig, backend: Backend, outDir: string, onProgress?: (done: number, total: number) => void, gpu: GpuDecoding | null = null): Promise<CompletionSet> {
  const file = join(outDir, 'completions', `${safeName(entry.id)}.json`);
  const key = completionKey(entry, beginnings, s, generationBackendName(backend, gpu));
  if (existsSync(file)) {
    try {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as CompletionSet;
      if (stored.key === key && stored.completions.length === beginnings.length * s.completions) return { ...stored, tokensPerSecond: 0, reused: true };
    } catch {
      // unreadable: regenerate
    }
  }
  const { model, tokenizer } = loadRunModel(entry.path, backend);
  // with GPU decoding one decoder (KV cache) serves every completion of this model
  const session = gpu?.decoder(model);
  const completions: Completion[] = [];
  const total = beginnings.length * s.completions;
  let tokens = 0;
  const t0 = performance.now();
  for (let i = 0; i < beginnings.length; i++) {
    for (let j = 0; j < s.completions; j++) {
      let text = '';
      let n = 0;
      for await (const t of generate(model, tokenizer, beginnings[i]!, { temperature: s.temperature, topK: s.topK, topP: s.topP, maxTokens: s.maxTokens, rng: rngFor(s.seed, i, j), session })) {
        text += t.text;
        n++;
      }
      tokens += n;
      completions.push({ beginning: i, sample: j, text, tokens: n, stop: n >= s.maxTokens ? 'length' : 'eot' });
      onProgress?.(completions.length, total);
    }
  }
  gpu?.release(model);
  const secs = (performance.now() - t0) / 1000;
  const set: CompletionSet = { model: entry.id, params: model.numParams(), arch: model.cfg.arch, key, completions, tokensPerSecond: secs > 0 ? tokens / secs : 0, reused: false };
  writeFileAtomicSync(file, JSON.stringify(set, null, 1) + '\n');
  return set;
}
