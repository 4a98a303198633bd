// The `sample` command's settings: one typed defaults object, strict overrides (see train/configurator.ts).
import { z } from 'zod';

export const SampleSettingsSchema = z.strictObject({
  /** A model source: run directory (or best/, checkpoints/step-N), HF model folder, hf:<owner>/<repo>, llama2.c .bin or .gguf. */
  run: z.string().nullable().default(null),
  /** A tokenizer replacing the model's own (tokenizer.json, vocab.json + merges.txt folder, or llama2.c tokenizer.bin). */
  tokenizer: z.string().nullable().default(null),
  /** Prompt text; without it, read from stdin when piped, else the story starts from <|endoftext|>. */
  prompt: z.string().nullable().default(null),
  /** 0 = greedy. */
  temperature: z.number().min(0).default(0.8),
  /** 0 = off. */
  topK: z.number().int().min(0).default(0),
  /** 1 = off. */
  topP: z.number().gt(0).max(1).default(0.95),
  /** 1 = off; > 1 discourages repeating tokens already in the context. */
  repetitionPenalty: z.number().positive().default(1),
  maxTokens: z.number().int().positive().default(300),
  /** Sampler seed; null = a random seed (printed with --json). */
  seed: z.number().int().nullable().default(null),
  /** Number of samples. */
  num: z.number().int().positive().default(1),
  /** One JSON object per sample (tokens with prob and rank) instead of streamed text. */
  json: z.boolean().default(false),
  /** 'ref' (the TS reference, fast enough for one sequence of a small model), 'wasm' or 'auto'. */
  backend: z.enum(['auto', 'wasm', 'ref', 'webgpu']).default('ref'),
  threads: z.number().int().min(0).default(1),
  /** With --backend webgpu: the weights the GPU decoder reads; 'auto' = f16 on a hardware adapter with shader-f16, else f32. */
  gpuPrecision: z.enum(['auto', 'f16', 'f32']).default('auto'),
});

export type SampleSettings = z.infer<typeof SampleSettingsSchema>;
export const SAMPLE_DEFAULTS: SampleSettings = SampleSettingsSchema.parse({});
