// Hugging Face model repositories: `hf:<owner>/<repo>[@revision]` → the files a model needs, in the local cache.
//
// Only what loading needs is downloaded, probing in this order (a 404 moves on to the next candidate):
//   config.json (required)
//   weights: model.safetensors | model.safetensors.index.json + its shards | pytorch_model.bin | pytorch_model.bin.index.json + shards
//   tokenizer: tokenizer.json | vocab.json + merges.txt (optional: `--tokenizer` can supply one)
// Each file goes through downloadHf (same cache, Range resume, ETag/sha checks, HF_TOKEN, HF_ENDPOINT). When all are
// in, `<snapshot>/.tinystories-model.json` lists them, so later runs use the cache without any network access.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type DownloadOptions, downloadHf, HfNotFoundError, type HfFileSpec, hfCachePath } from '../data/hf.ts';
import { writeFileAtomicSync } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';

/** A model repository on the hub. */
export interface HfModelSpec {
  owner: string;
  repo: string;
  revision: string;
}

/** The marker written into a complete snapshot. */
export const SNAPSHOT_MARKER = '.tinystories-model.json';

/** Whether `s` names a hub model repository (`hf:owner/repo` or `hf:owner/repo@rev`, no path inside it). */
export function isHfModelSpec(s: string): boolean {
  return /^hf:[^/@\s]+\/[^/@\s]+(@[^/\s]+)?\/?$/.test(s);
}

/** Parses `hf:<owner>/<repo>[@<revision>]` (a revision containing `/` is written URL-encoded). */
export function parseHfModelSpec(s: string): HfModelSpec {
  const m = /^hf:([^/@\s]+)\/([^/@\s]+)(?:@([^/\s]+))?\/?$/.exec(s);
  if (!m) throw new UserError(`${JSON.stringify(s)}: expected hf:<owner>/<repo>[@<revision>], e.g. hf:roneneldan/TinyStories-1M`);
  let revision = m[3] ?? 'main';
  try {
    revision = decodeURIComponent(revision);
  } catch {
    throw new UserError(`${JSON.stringify(s)}: the revision is not valid URL encoding`);
  }
  return { owner: m[1]!, repo: m[2]!, revision };
}

function fileSpec(m: HfModelSpec, path: string): HfFileSpec {
  return { type: 'model', owner: m.owner, repo: m.repo, revision: m.revision, path };
}

/** The local snapshot directory of a model repository (where its files are, or will be, cached). */
export function hfModelDir(m: HfModelSpec): string {
  return dirname(hfCachePath(fileSpec(m, 'config.json')));
}

/** The snapshot directory if every needed file is already cached (no network), else null. */
export function cachedHfModel(spec: string): string | null {
  const dir = hfModelDir(parseHfModelSpec(spec));
  return existsSync(join(dir, SNAPSHOT_MARKER)) ? dir : null;
}

/**
 * Downloads what a model repository needs into the cache (once) and returns the snapshot directory, a folder that
 * the local Hugging Face folder reader loads. A repository without tokenizer files is fine here (`--tokenizer` can
 * supply one); the loader says so when none is found.
 * @example const dir = await downloadHfModel('hf:roneneldan/TinyStories-1M');
 */
export async function downloadHfModel(spec: string, opts: DownloadOptions = {}): Promise<string> {
  const m = parseHfModelSpec(spec);
  const dir = hfModelDir(m);
  if (existsSync(join(dir, SNAPSHOT_MARKER))) return dir;
  const get = (path: string) => downloadHf(fileSpec(m, path), opts);
  const tryGet = async (path: string): Promise<string | null> => {
    try {
      return await get(path);
    } catch (e) {
      if (e instanceof HfNotFoundError) return null;
      throw e;
    }
  };
  const files: string[] = [];
  if (!(await tryGet('config.json'))) throw new UserError(`${spec}: the repository has no config.json (is it a model repository? check the owner, name and revision)`);
  files.push('config.json');
  const shards = async (index: string) => {
    let map: Record<string, string>;
    try {
      map = JSON.parse(readFileSync(join(dir, index), 'utf8')).weight_map;
    } catch (e) {
      throw new UserError(`${join(dir, index)}: not a valid shard index (${(e as Error).message})`);
    }
    if (!map || typeof map !== 'object') throw new UserError(`${join(dir, index)}: no weight_map`);
    const names = [...new Set(Object.values(map))];
    for (const n of names) {
      if (typeof n !== 'string' || n.includes('/') || n.startsWith('.')) throw new UserError(`${join(dir, index)}: bad shard file name ${JSON.stringify(n)}`);
      await get(n);
    }
    files.push(index, ...names);
  };
  if (await tryGet('model.safetensors')) files.push('model.safetensors');
  else if (await tryGet('model.safetensors.index.json')) await shards('model.safetensors.index.json');
  else if (await tryGet('pytorch_model.bin')) files.push('pytorch_model.bin');
  else if (await tryGet('pytorch_model.bin.index.json')) await shards('pytorch_model.bin.index.json');
  else throw new UserError(`${spec}: the repository has no weights (expected model.safetensors, a sharded model.safetensors.index.json, or pytorch_model.bin)`);
  if (await tryGet('tokenizer.json')) files.push('tokenizer.json');
  else if ((await tryGet('vocab.json')) && (await tryGet('merges.txt'))) files.push('vocab.json', 'merges.txt');
  writeFileAtomicSync(join(dir, SNAPSHOT_MARKER), JSON.stringify({ repo: `${m.owner}/${m.repo}`, revision: m.revision, files }, null, 2) + '\n');
  return dir;
}
