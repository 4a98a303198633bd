// Models behind the dashboard's interactive pages: a small cache of loaded runs and the guessing game's held-out
// stories (file I/O); the computations themselves are in interactive.ts, which the static site runs in the page.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readDocuments } from '../data/read.ts';
import { readFirstDocs } from '../data/shards.ts';
import type { Backend } from '../engine/backend.ts';
import { createRefBackend } from '../engine/ref/index.ts';
import type { Model } from '../engine/model.ts';
import type { Decoder } from '../sample/generate.ts';
import type { GpuDecoding } from '../sample/gpu-decoding.ts';
import { loadRunModel } from '../sample/load.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { runShardDir } from '../train/run-config.ts';
import { HttpError } from './paths.ts';
export { type GameStory, type PlaygroundOptions, type PlaygroundToken, attentionOf, gameStory, playground } from './interactive.ts';

interface Loaded {
  model: Model;
  tokenizer: Tokenizer;
  mtimeMs: number;
  /** Idle KV-cache sessions: each generation takes one (or makes one) and returns it, so concurrent streams never share a cache. */
  sessions: Decoder[];
  /** With GPU decoding: a GpuDecoder over the model's GPU weights. */
  newSession?: () => Decoder;
}

/** Loaded models keyed by weights directory, reloaded when model.safetensors changes, at most `max` kept. */
export class ModelCache {
  private readonly cache = new Map<string, Loaded>();
  private readonly backend: Backend;

  constructor(
    private readonly max = 3,
    backend?: Backend,
    /** Decode the playground on the GPU (the weights are uploaded per loaded model, freed when it leaves the cache). */
    private readonly gpu?: GpuDecoding,
  ) {
    this.backend = backend ?? createRefBackend();
  }

  private drop(dir: string): void {
    const old = this.cache.get(dir);
    if (!old) return;
    this.cache.delete(dir);
    this.gpu?.release(old.model);
  }

  get(dir: string): Loaded {
    const weights = join(dir, 'model.safetensors');
    if (!existsSync(weights)) throw new HttpError(404, `no model.safetensors in this run yet (training writes it at the first checkpoint)`);
    const mtimeMs = statSync(weights).mtimeMs;
    const hit = this.cache.get(dir);
    if (hit && hit.mtimeMs === mtimeMs) {
      this.cache.delete(dir);
      this.cache.set(dir, hit); // most recently used last
      return hit;
    }
    let loaded: Loaded;
    try {
      const { model, tokenizer } = loadRunModel(dir, this.backend);
      const gpu = this.gpu;
      loaded = { model, tokenizer, mtimeMs, sessions: [], newSession: gpu ? () => gpu.decoder(model) : undefined };
    } catch (e) {
      throw new HttpError(422, `cannot load the model: ${(e as Error).message.split('\n')[0]}`);
    }
    this.drop(dir);
    this.cache.set(dir, loaded);
    while (this.cache.size > this.max) this.drop(this.cache.keys().next().value!);
    return loaded;
  }
}

/** Held-out stories of a run: its validation split when the shards are readable, else the builtin mini corpus. */
export async function heldOutStories(runDir: string, tokenizer: Tokenizer, limit = 200): Promise<{ source: string; stories: string[] }> {
  try {
    // Only the bytes of the first `limit` validation stories are read, so a run on the full dataset costs kilobytes.
    const shardDir = runShardDir(runDir);
    const val = shardDir ? readFirstDocs(shardDir, 'val', limit) : null;
    if (val) {
      const stories = val.map((ids) => tokenizer.decode(ids.filter((t) => t !== tokenizer.eotId)).trim()).filter((t) => t.split(/\s+/).length >= 8);
      if (stories.length) return { source: 'validation split', stories };
    }
  } catch {
    // no readable shards: fall back below
  }
  const stories: string[] = [];
  for await (const d of readDocuments('builtin:mini')) {
    stories.push(d);
    if (stories.length >= limit) break;
  }
  return { source: 'builtin:mini (the run has no readable validation split)', stories: stories.reverse() };
}

