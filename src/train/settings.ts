// The training settings: one typed defaults object (zod schema), overridden by a config file and --key=value flags.
import { z } from 'zod';

const int = () => z.number().int();

/** Every setting of `tinystories train`, with its default. Keys are camelCase here, kebab-case as flags. */
export const TrainSettingsSchema = z.strictObject({
  /** Model preset (see `PRESETS`: 1M, 3M, 8M, 28M, 33M, 260K, 15M, bench-r, ...). */
  preset: z.string().default('1M'),
  /** A model config file instead of a preset: a Hugging Face config.json or our ModelConfig JSON. */
  modelConfig: z.string().nullable().default(null),
  /** Start from this model's weights (a run or `tinystories convert` output, or any source `--run` takes) with a fresh optimizer; it brings its config and tokenizer. */
  init: z.string().nullable().default(null),
  /** Training data: a token-shard directory, a file, a directory, hf:<owner>/<repo>/<path>, builtin:tinystories or builtin:mini. */
  data: z.string().default('builtin:tinystories'),
  /** Run directory (default runs/<preset>-<date>). */
  out: z.string().nullable().default(null),
  /** A tokenizer.json to use; without it a BPE tokenizer of vocabSize is trained on the data and saved in the run. */
  tokenizer: z.string().nullable().default(null),
  vocabSize: int().min(257).default(4096),
  /** Documents read to train the tokenizer (0 = all). */
  tokenizerDocs: int().min(0).default(20000),
  /** Seed of the weights' init, the data order and the in-training samples. */
  seed: int().default(1337),
  /** Total optimizer steps (a resumed run continues up to this count). */
  steps: int().positive().nullable().default(null),
  /** Train for this many minutes instead: the step count (and so the schedule) is set from the measured step time. */
  minutes: z.number().positive().nullable().default(null),
  /** Sequences per micro-batch (B). */
  batchSize: int().positive().default(16),
  /** Tokens per sequence (T); at most the model's context. */
  seqLen: int().positive().default(256),
  /** Micro-batches per optimizer step. */
  gradAccum: int().positive().default(1),
  /** Peak learning rate (the TinyStories paper used a constant 5e-4 for much longer runs). */
  lr: z.number().positive().default(2e-3),
  lrSchedule: z.enum(['cosine', 'constant']).default('cosine'),
  /** Linear warmup steps (capped at a tenth of the run). */
  warmupSteps: int().min(0).default(100),
  /** Cosine floor as a fraction of lr. */
  minLrRatio: z.number().min(0).max(1).default(0.1),
  weightDecay: z.number().min(0).default(0.1),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.95),
  eps: z.number().positive().default(1e-8),
  /** Global gradient-norm clip (0 = off). */
  gradClip: z.number().min(0).default(1),
  /** Also apply weight decay to embeddings (norms and biases are never decayed). */
  decayEmbeddings: z.boolean().default(false),
  /** Share of documents held out for validation when tokenizing raw data. */
  valFraction: z.number().gt(0).lt(1).default(0.05),
  /** Validate every N steps (0 = only at the end). */
  valEvery: int().min(0).default(100),
  /** Batches of the validation split per validation (fixed windows from its start). */
  valBatches: int().positive().default(8),
  /** Early stopping: stop after this many validations in a row without a new best val loss (0 = never). */
  patience: int().min(0).default(5),
  /** With --minutes, plan at most this many passes over the training tokens (null = no cap; see plan.ts). */
  maxEpochs: z.number().positive().nullable().default(20),
  /** Write a sample story every N steps (0 = never). */
  sampleEvery: int().min(0).default(500),
  samplePrompt: z.string().default('Once upon a time'),
  sampleTokens: int().positive().default(80),
  /** Checkpoint every N steps (0 = only at the end and on Ctrl-C). */
  checkpointEvery: int().min(0).default(200),
  /** Step checkpoints kept (older ones are deleted). */
  keepLast: int().positive().default(2),
  backend: z.enum(['auto', 'wasm', 'ref', 'webgpu']).default('auto'),
  /** Worker threads for the WASM backend (0 = all cores). */
  threads: int().min(0).default(0),
  /** No progress bar or banner. */
  quiet: z.boolean().default(false),
});

export type TrainSettings = z.infer<typeof TrainSettingsSchema>;

/** The defaults, as a plain object. */
export const TRAIN_DEFAULTS: TrainSettings = TrainSettingsSchema.parse({});

/**
 * Settings a resumed run may change: they do not alter the computation of the remaining steps (except `steps` and
 * `minutes`, which extend or shorten the run as asked). Changing any other setting on --resume is an error.
 */
export const RESUME_MUTABLE: ReadonlyArray<keyof TrainSettings> = [
  'steps',
  'minutes',
  'out',
  'valEvery',
  'patience',
  'maxEpochs',
  'sampleEvery',
  'sampleTokens',
  'samplePrompt',
  'checkpointEvery',
  'keepLast',
  'backend',
  'threads',
  'quiet',
];
