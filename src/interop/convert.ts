// `convert`: any model source into our Hugging Face-format run directory (config.json, model.safetensors, tokenizer.json).
//
// The tensors are loaded into an engine Model first (every parameter present with its shape, nothing unknown), then
// written back from it, so the output holds exactly the parameters our loaders and transformers expect (a tied head
// once, no causal-mask buffers) in F32. The directory is assembled under a temporary name beside --out and renamed
// into place at the end: a failed conversion leaves nothing at --out.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { toHfConfig } from '../checkpoint/hf-config.ts';
import { findNonFinite, writeRunFiles } from '../checkpoint/run-dir.ts';
import { type NamedTensor, writeSafetensorsSync } from '../checkpoint/safetensors.ts';
import type { DownloadOptions } from '../data/hf.ts';
import type { ModelConfig } from '../engine/config.ts';
import { exportHfTensors, importHfTensors } from '../engine/hf.ts';
import { Model } from '../engine/model.ts';
import { createRefBackend } from '../engine/ref/index.ts';
import { UserError } from '../util/errors.ts';
import { fetchModelSource, readModelSource, type SourceOptions } from './resolve.ts';

/** What a conversion wrote. */
export interface ConvertResult {
  out: string;
  /** One line saying what was read. */
  source: string;
  config: ModelConfig;
  params: number;
  vocabSize: number;
}

/**
 * Converts a model source (see resolve.ts) into a run directory at `out`, which must not exist or be empty.
 * @example await convertToRun('stories260K.bin', 'runs/stories260K', { tokenizer: 'tok512.bin' })
 */
export async function convertToRun(spec: string, out: string, opts: SourceOptions & DownloadOptions = {}): Promise<ConvertResult> {
  const target = resolve(out);
  if (existsSync(target) && (!statSync(target).isDirectory() || readdirSync(target).length > 0)) {
    throw new UserError(`--out ${out}: already exists and is not an empty directory (choose a new run directory)`);
  }
  const local = await fetchModelSource(spec, opts);
  const src = readModelSource(local, { tokenizer: opts.tokenizer });
  const backend = createRefBackend();
  let tensors: NamedTensor[];
  let params: number;
  try {
    const model = new Model(src.config, backend, { seed: 0 });
    try {
      importHfTensors(model, src.tensors);
    } catch (e) {
      // name the source: importHfTensors only knows tensor names
      if (e instanceof UserError) throw new UserError(`${spec}: ${e.message.replace(/^import: /, '')}`);
      throw e;
    }
    tensors = [...exportHfTensors(model)].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    params = model.numParams();
  } finally {
    backend.dispose();
  }
  const bad = findNonFinite(tensors);
  if (bad) throw new UserError(`${spec}: tensor ${bad.name} holds ${bad.value} at element ${bad.index}; refusing to convert non-finite weights`);
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp, { recursive: true });
    writeRunFiles(tmp, { hfConfig: toHfConfig(src.config, { eotId: src.tokenizer.eotId }), tokenizerJson: src.tokenizer.toJSON() });
    writeSafetensorsSync(join(tmp, 'model.safetensors'), tensors, { format: 'pt', converted_from: src.source });
    if (existsSync(target)) rmdirSync(target); // empty (checked above)
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw new UserError(`--out ${out}: cannot write the run directory (${code})`);
    throw e;
  }
  return { out: target, source: src.source, config: src.config, params, vocabSize: src.config.vocabSize };
}
