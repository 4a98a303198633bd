// Model sources: what `--run <model>` and `convert <model>` accept, resolved to one shape (config, HF tensors, tokenizer).
//
//   <model> is one of
//     a run directory (its latest weights), its best/ or checkpoints/step-N   (config.json/tokenizer.json found upwards)
//     a Hugging Face model folder: config.json + model.safetensors | model.safetensors.index.json + shards |
//                                  pytorch_model.bin | pytorch_model.bin.index.json + shards,
//                                  with tokenizer.json or vocab.json + merges.txt
//     hf:<owner>/<repo>[@revision]  a hub model repository (fetchModelSource downloads it into the cache first)
//     a file: model.safetensors / pytorch_model.bin (config.json beside it), a llama2.c checkpoint (.bin, with
//             --tokenizer a llama2.c tokenizer.bin, or tokenizer.bin beside it), or a .gguf file
//   and `--tokenizer <file>` replaces the source's tokenizer: tokenizer.json, a vocab.json + merges.txt folder, or a
//   llama2.c tokenizer.bin.
// Formats are recognised by their bytes (ZIP, GGUF magic, llama2.c header, safetensors header), not by extension.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fromHfConfig } from '../checkpoint/hf-config.ts';
import { findUp } from '../checkpoint/run-dir.ts';
import { decodeSafetensors, type NamedTensor } from '../checkpoint/safetensors.ts';
import type { ModelConfig } from '../engine/config.ts';
import { isIgnoredBuffer } from '../engine/hf.ts';
import type { DownloadOptions } from '../data/hf.ts';
import { HF_TOKENIZER_FILE, loadTokenizer, TOPK_TOKENIZER_FILE } from '../tokenizer/hf-json.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { UserError } from '../util/errors.ts';
import { cachedHfModel, downloadHfModel, isHfModelSpec } from './hf-model.ts';
import { isGguf, isLlama2cCheckpoint, readGguf, readLlama2cModel, readLlama2cTokenizer } from './index.ts';
import { readTorchStateDict } from './torch-pickle.ts';

/** A model ready to load: our config, HF-named tensors, the tokenizer, and where it came from. */
export interface ModelSource {
  config: ModelConfig;
  tensors: Map<string, NamedTensor>;
  tokenizer: Tokenizer;
  /** One line saying what was read, e.g. "Hugging Face folder runs/x (pytorch_model.bin, F16)". */
  source: string;
  /** The directory the weights came from. */
  dir: string;
}

/** Options for resolving a model source. */
export interface SourceOptions {
  /** A tokenizer file to use instead of the source's own (required for a llama2.c .bin without tokenizer.bin beside it). */
  tokenizer?: string;
}

/** Keeps tensors that are parameters (drops HF's causal-mask and rotary buffers before they are decoded). */
const keepParam = (name: string) => !isIgnoredBuffer(name);

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function readJson(path: string): Record<string, unknown> {
  let obj: unknown;
  try {
    obj = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: ${code === 'ENOENT' ? 'not found' : code ? `cannot read (${code})` : `not valid JSON (${(e as Error).message})`}`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new UserError(`${path}: expected a JSON object`);
  return obj as Record<string, unknown>;
}

function isSafetensors(bytes: Uint8Array): boolean {
  if (bytes.byteLength < 10) return false;
  const len = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return len > 0 && len <= bytes.byteLength - 8 && bytes[8] === 0x7b; // '{'
}

/** Reads a weights file of a Hugging Face folder: safetensors or pytorch_model.bin, recognised by content. */
function readWeightsFile(path: string): Map<string, NamedTensor> {
  const bytes = readBytes(path);
  if (isSafetensors(bytes)) return decodeSafetensors(bytes, path, keepParam).tensors;
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return readTorchStateDict(bytes, path, { keep: keepParam });
  throw new UserError(`${path}: neither a safetensors file nor a PyTorch ZIP checkpoint (pytorch_model.bin)`);
}

/** The weights of a folder: a single file or a sharded index; null when the folder has none. */
function readFolderWeights(dir: string): { tensors: Map<string, NamedTensor>; file: string } | null {
  for (const single of ['model.safetensors', 'pytorch_model.bin']) {
    const p = join(dir, single);
    if (existsSync(p)) return { tensors: readWeightsFile(p), file: single };
  }
  for (const index of ['model.safetensors.index.json', 'pytorch_model.bin.index.json']) {
    const p = join(dir, index);
    if (!existsSync(p)) continue;
    const map = readJson(p).weight_map as Record<string, string> | undefined;
    if (!map || typeof map !== 'object') throw new UserError(`${p}: no weight_map (expected a sharded checkpoint index)`);
    const tensors = new Map<string, NamedTensor>();
    for (const shard of new Set(Object.values(map))) {
      if (typeof shard !== 'string' || shard.includes('/') || shard.startsWith('.')) throw new UserError(`${p}: bad shard file name ${JSON.stringify(shard)}`);
      for (const [k, v] of readWeightsFile(join(dir, shard))) tensors.set(k, v);
    }
    for (const name of Object.keys(map)) {
      if (keepParam(name) && !tensors.has(name)) throw new UserError(`${p}: tensor ${name} is listed but its shard ${map[name]} lacks it`);
    }
    return { tensors, file: index };
  }
  return null;
}

/** A tokenizer file given with --tokenizer: tokenizer.json, a vocab.json + merges.txt folder, or a llama2.c tokenizer.bin. */
export function readTokenizerFile(path: string, vocabSize?: number): Tokenizer {
  if (!existsSync(path)) throw new UserError(`${path}: tokenizer file not found`);
  if (statSync(path).isDirectory()) return loadTokenizer(path);
  const bytes = readBytes(path);
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] === 0x7b) return loadTokenizer(path); // JSON
  return readLlama2cTokenizer(bytes, path, vocabSize);
}

function checkVocab(tokenizer: Tokenizer, config: ModelConfig, tokWhere: string, modelWhere: string): void {
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new UserError(`${tokWhere}: the tokenizer has ${tokenizer.vocabSize} tokens but the model ${modelWhere} has vocab_size ${config.vocabSize}; they do not belong together`);
  }
}

/** A directory: a run (or its best/, checkpoints/step-N) or a Hugging Face model folder. */
function readFolder(dir: string, opts: SourceOptions, label: string, weightsFile?: string): ModelSource {
  const weights = weightsFile ? { tensors: readWeightsFile(weightsFile), file: basename(weightsFile) } : readFolderWeights(dir);
  if (!weights) {
    throw new UserError(
      `${dir}: no model weights (expected model.safetensors, pytorch_model.bin or a sharded *.index.json; a run writes model.safetensors at its first checkpoint)`,
    );
  }
  const configPath = findUp(dir, 'config.json');
  if (!configPath) throw new UserError(`${dir}: no config.json here or in the directories above`);
  const config = fromHfConfig(readJson(configPath), configPath);
  let tokenizer: Tokenizer;
  let tokWhere: string;
  if (opts.tokenizer) {
    tokenizer = readTokenizerFile(opts.tokenizer, config.vocabSize);
    tokWhere = opts.tokenizer;
  } else {
    const tj = findUp(dir, HF_TOKENIZER_FILE) ?? findUp(dir, TOPK_TOKENIZER_FILE);
    if (tj) {
      tokenizer = loadTokenizer(tj);
      tokWhere = tj;
    } else if (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt'))) {
      tokenizer = loadTokenizer(dir);
      tokWhere = join(dir, 'vocab.json');
    } else {
      throw new UserError(`${dir}: no tokenizer.json (or vocab.json + merges.txt) here or above; pass --tokenizer <file>`);
    }
  }
  checkVocab(tokenizer, config, tokWhere, dir);
  return { config, tensors: weights.tensors, tokenizer, source: `${label} ${dir} (${weights.file})`, dir };
}

/** A single file: llama2.c checkpoint, GGUF, or one weights file of a Hugging Face folder. */
function readFile(path: string, opts: SourceOptions): ModelSource {
  const bytes = readBytes(path);
  const dir = dirname(path);
  if (isSafetensors(bytes) || (bytes[0] === 0x50 && bytes[1] === 0x4b)) {
    // One weights file of a folder: config.json and the tokenizer come from around it.
    return readFolder(dir, opts, 'model file in', path);
  }
  if (isGguf(bytes) || isLlama2cCheckpoint(bytes)) {
    let tokBytes: Uint8Array | undefined;
    let tokPath: string | undefined;
    const gguf = isGguf(bytes);
    if (!gguf) {
      tokPath = opts.tokenizer ?? (existsSync(join(dir, 'tokenizer.bin')) ? join(dir, 'tokenizer.bin') : undefined);
      if (tokPath && !statSync(tokPath).isDirectory()) tokBytes = readBytes(tokPath);
    }
    const jsonTokenizer = tokPath && (statSync(tokPath).isDirectory() || tokBytes?.[0] === 0x7b);
    const imported = gguf ? readGguf(bytes, path) : readLlama2cModel(bytes, undefined, path);
    // read here (not by readLlama2cModel) so that errors name the tokenizer file
    let tokenizer = tokBytes && !jsonTokenizer ? readLlama2cTokenizer(tokBytes, tokPath, imported.config.vocabSize) : imported.tokenizer;
    let tokWhere = path;
    if (opts.tokenizer && (gguf || jsonTokenizer)) {
      tokenizer = readTokenizerFile(opts.tokenizer, imported.config.vocabSize);
      tokWhere = opts.tokenizer;
    } else if (tokPath) tokWhere = tokPath;
    if (!tokenizer) throw new UserError(`${path}: a llama2.c checkpoint carries no vocabulary; pass --tokenizer <tokenizer.bin> (llama2.c format) or put tokenizer.bin beside it`);
    checkVocab(tokenizer, imported.config, tokWhere, path);
    return { config: imported.config, tensors: new Map(imported.tensors.map((t) => [t.name, t])), tokenizer, source: imported.source, dir };
  }
  throw new UserError(`${path}: not a model file this reads (expected a run or Hugging Face folder, model.safetensors, pytorch_model.bin, a llama2.c .bin or a .gguf)`);
}

/**
 * Resolves a local model source (see the file comment) synchronously. An `hf:` repository must already be in the
 * cache (fetchModelSource downloads it; every CLI command that takes --run does so first).
 * @example const { config, tensors, tokenizer } = readModelSource('runs/1M/best');
 */
export function readModelSource(spec: string, opts: SourceOptions = {}): ModelSource {
  if (spec.startsWith('hf:')) {
    if (!isHfModelSpec(spec)) throw new UserError(`${JSON.stringify(spec)}: a model is named hf:<owner>/<repo>[@<revision>] (no path inside the repository)`);
    const dir = cachedHfModel(spec);
    if (!dir) throw new UserError(`${spec}: not downloaded yet (tinystories convert ${spec} --out <dir> fetches it, as does any command taking --run)`);
    return { ...readFolder(dir, opts, spec), source: `${spec} (cached in ${dir})` };
  }
  if (!existsSync(spec)) throw new UserError(`${spec}: no such run directory, model folder or model file`);
  if (statSync(spec).isDirectory()) {
    const label = existsSync(join(spec, 'trainer_state.json')) || existsSync(join(dirname(resolve(spec)), 'trainer_state.json')) ? 'run' : 'Hugging Face folder';
    return readFolder(spec, opts, label);
  }
  return readFile(spec, opts);
}

/**
 * Makes a model source local: downloads an `hf:<owner>/<repo>[@rev]` repository into the cache (once) and returns
 * the snapshot folder; any other source is returned unchanged.
 */
export async function fetchModelSource(spec: string, opts: DownloadOptions = {}): Promise<string> {
  if (!spec.startsWith('hf:')) return spec;
  if (!isHfModelSpec(spec)) throw new UserError(`${JSON.stringify(spec)}: a model is named hf:<owner>/<repo>[@<revision>] (no path inside the repository)`);
  return downloadHfModel(spec, opts);
}

/** A short display name for a model source (the file or folder name, or owner/repo). */
export function sourceName(spec: string): string {
  return spec.startsWith('hf:') ? spec.slice(3) : basename(resolve(spec));
}
