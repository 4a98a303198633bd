// The shapes shared by every interop reader and writer (see index.ts for the contract).
import type { NamedTensor } from '../checkpoint/safetensors.ts';
import type { ModelConfig } from '../engine/config.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';

/** A model read from another project's format, in our terms. */
export interface ImportedModel {
  config: ModelConfig;
  /** Hugging Face names and layout (q/k rows rotate-half), as model.safetensors holds them; no lm_head when tied. */
  tensors: NamedTensor[];
  /** The vocabulary, or null when the file carries none and none was given. */
  tokenizer: Tokenizer | null;
  /** One line saying what was read, e.g. "llama2.c v1 (stories260K_v1.bin)". */
  source: string;
}

/** A model to write in another project's format. */
export interface ExportInput {
  config: ModelConfig;
  /** Hugging Face names and layout, as exportHfTensors or model.safetensors give them. */
  tensors: Map<string, NamedTensor> | NamedTensor[];
  tokenizer: Tokenizer;
  /** A name for metadata (GGUF general.name). */
  name?: string;
}

/** The tensors of an ExportInput by name. */
export function tensorMap(t: ExportInput['tensors']): Map<string, NamedTensor> {
  return t instanceof Map ? t : new Map(t.map((x) => [x.name, x]));
}
