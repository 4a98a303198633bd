// Loads a trained model for generation: a run directory (or its best/ or a checkpoint) into a Model on a backend.
import { loadModelFiles } from '../checkpoint/run-dir.ts';
import type { Backend } from '../engine/backend.ts';
import { importHfTensors } from '../engine/hf.ts';
import { Model } from '../engine/model.ts';
import { loadTokenizer } from '../tokenizer/hf-json.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { UserError } from '../util/errors.ts';

/**
 * The model and tokenizer of a run directory (its latest weights), a run's best/ or checkpoints/step-N folder, or any
 * folder with a Hugging Face config.json + model.safetensors + tokenizer.json (gpt_neo or llama).
 * @example const { model, tokenizer } = loadRunModel('runs/1M', createRefBackend());
 */
export function loadRunModel(path: string, backend: Backend): { model: Model; tokenizer: Tokenizer; dir: string } {
  const files = loadModelFiles(path);
  const tokenizer = loadTokenizer(files.tokenizerPath);
  if (tokenizer.vocabSize > files.config.vocabSize) {
    throw new UserError(`${files.tokenizerPath}: ${tokenizer.vocabSize} tokens but the model's vocab_size is ${files.config.vocabSize}`);
  }
  const model = new Model(files.config, backend, { seed: 0 });
  importHfTensors(model, files.tensors);
  return { model, tokenizer, dir: files.dir };
}
