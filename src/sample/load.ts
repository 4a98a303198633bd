// Loads a model for generation: any model source (run directory, HF folder or repo, llama2.c, GGUF) into a Model on a backend.
import { dirname } from 'node:path';
import { findNonFinite, findUp } from '../checkpoint/run-dir.ts';
import { tokenizerFingerprint } from '../data/shards.ts';
import type { Backend } from '../engine/backend.ts';
import { importHfTensors } from '../engine/hf.ts';
import { Model } from '../engine/model.ts';
import { readModelSource, type SourceOptions } from '../interop/resolve.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { TRAIN_CONFIG, peekTrainConfig } from '../train/run-config.ts';
import { UserError } from '../util/errors.ts';

/**
 * The model and tokenizer of a run directory (its latest weights), a run's best/ or checkpoints/step-N folder, a
 * Hugging Face model folder (safetensors, sharded, or pytorch_model.bin), a cached `hf:<owner>/<repo>`, a llama2.c
 * checkpoint or a GGUF file (see src/interop/resolve.ts). `opts.tokenizer` replaces the source's tokenizer.
 * @example const { model, tokenizer } = loadRunModel('runs/1M', createRefBackend());
 */
export function loadRunModel(path: string, backend: Backend, opts: SourceOptions = {}): { model: Model; tokenizer: Tokenizer; dir: string; source: string } {
  const src = readModelSource(path, opts);
  const bad = findNonFinite(src.tensors.values());
  if (bad) throw new UserError(`${src.source}: ${bad.name} holds ${bad.value} (element ${bad.index}); these weights are not finite (the training run diverged)`);
  // A run records its tokenizer's fingerprint: another tokenizer of the same size would decode garbage silently.
  const trainConfig = findUp(src.dir, TRAIN_CONFIG);
  const recorded = trainConfig ? peekTrainConfig(dirname(trainConfig))?.tokenizerFingerprint : undefined;
  if (typeof recorded === 'string' && tokenizerFingerprint(src.tokenizer) !== recorded) {
    throw new UserError(`${src.source}: the tokenizer is not the one this model was trained with (its fingerprint differs from the one in ${trainConfig})`);
  }
  const model = new Model(src.config, backend, { seed: 0 });
  importHfTensors(model, src.tensors);
  return { model, tokenizer: src.tokenizer, dir: src.dir, source: src.source };
}
