// Public surface of interop: readers and writers for other projects' model formats (llama2.c, GGUF, ...).
//
// The common shape every reader returns (consumed by resolve.ts, `convert` and every command taking --run):
//
//   interface ImportedModel {
//     config: ModelConfig;        // our engine config (arch 'llama' for llama2.c and GGUF)
//     tensors: NamedTensor[];     // Hugging Face names and layout, exactly what model.safetensors would hold
//                                 // (q/k rows in HF rotate-half order; no lm_head.weight when tied)
//     tokenizer: Tokenizer | null // our Tokenizer (byte-level BPE, or the 'sentencepiece' kind for llama2.c/Llama
//                                 // vocabularies); null when the file carries none and none was given.
//                                 // JSON.stringify(tokenizer.toJSON()) is a tokenizer.json that loadTokenizer reads back
//     source: string;             // one line saying what was read, e.g. "llama2.c v1 (stories260K_v1.bin)"
//   }
//
//   readLlama2cModel(bytes: Uint8Array, tokenizerBytes?: Uint8Array, name?: string): ImportedModel
//       llama2.c checkpoint: legacy (version 0), version 1 (fp32) or version 2 (int8 groups, runq.c); the optional
//       tokenizer.bin (llama2.c format) is checked against the model's vocab size.
//   readLlama2cTokenizer(bytes: Uint8Array, name?: string, vocabSize?: number): Tokenizer
//   isLlama2cCheckpoint(bytes: Uint8Array): boolean        (cheap sniff: v1/v2 magic, or a plausible legacy header)
//   readGguf(bytes: Uint8Array, name?: string): ImportedModel         (GGUF v2/v3, llama arch or our gpt2 (GPT-Neo)
//                                                                      export, F32/F16/Q8_0)
//   isGguf(bytes: Uint8Array): boolean                                (the "GGUF" magic)
//
// Writers (used by `tinystories export`):
//   writeLlama2c(model: ExportInput, version: 0 | 1 | 2): { model: Uint8Array; tokenizer: Uint8Array }
//   writeGguf(model: ExportInput, type: 'F32' | 'F16' | 'Q8_0'): Uint8Array[]   (chunks, in file order; Llama as
//       llama.cpp's llama architecture, GPT-Neo as its gpt2 architecture with the context cut to the local window)
//   where ExportInput = { config: ModelConfig; tensors: Map<string, NamedTensor> | NamedTensor[]; tokenizer: Tokenizer; name?: string }
//
// All of these work on Uint8Array with no Node-only imports (the browser site reuses them); errors about the input
// are UserError with one line naming the file (`name`) and what was expected.
export { type ImportedModel, type ExportInput } from './types.ts';
export { readLlama2cModel, writeLlama2c, isLlama2cCheckpoint, llama2cTokenOrder, permuteRope, quantizeQ80 } from './llama2c.ts';
export { readLlama2cTokenizer, writeLlama2cTokenizer } from './llama2c-tokenizer.ts';
export { readGguf, writeGguf, isGguf, toHalf, fromHalf, gptNeoGgufContext, type GgufType } from './gguf.ts';
