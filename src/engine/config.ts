// Model configurations (GPT-Neo as Hugging Face's GPTNeoForCausalLM, llama as llama2.c) and the named presets.
import { UserError } from '../util/errors.ts';

/** GPT-Neo, Hugging Face `GPTNeoForCausalLM` semantics (field names map to HF's config.json as noted). */
export interface GptNeoConfig {
  arch: 'gpt-neo';
  /** vocab_size */
  vocabSize: number;
  /** max_position_embeddings (rows of wpe; the longest sequence the model can see). */
  maxSeqLen: number;
  /** hidden_size */
  dim: number;
  /** num_layers */
  nLayers: number;
  /** num_heads */
  nHeads: number;
  /** intermediate_size; default 4 * dim (HF: `intermediate_size or 4 * hidden_size`). */
  intermediateSize?: number;
  /** window_size of the local attention layers. */
  windowSize: number;
  /** One entry per layer (HF's expanded attention_types); default alternates global, local, global, ... */
  attentionLayers?: Array<'global' | 'local'>;
  /** layer_norm_epsilon; default 1e-5. */
  layerNormEps?: number;
  /** tie_word_embeddings: the LM head is wte (HF's default, true); false gives a separate lm_head.weight. */
  tiedEmbeddings?: boolean;
}

/** Llama, llama2.c `model.py` semantics (RMSNorm, RoPE, SwiGLU, GQA, no biases). */
export interface LlamaConfig {
  arch: 'llama';
  vocabSize: number;
  /** max_seq_len */
  maxSeqLen: number;
  dim: number;
  nLayers: number;
  nHeads: number;
  /** n_kv_heads; default nHeads. */
  nKvHeads?: number;
  /** FFN hidden width; default computed as llama2.c does from dim and multipleOf. */
  hiddenDim?: number;
  /** multiple_of; default 32 (llama2.c train.py's default, used for the stories15M/42M/110M models). */
  multipleOf?: number;
  /** norm_eps; default 1e-5. */
  normEps?: number;
  /** RoPE base; default 10000. */
  ropeTheta?: number;
  /** LM head shares tok_embeddings (llama2.c model.py always ties); default true. */
  tiedEmbeddings?: boolean;
}

export type ModelConfig = GptNeoConfig | LlamaConfig;

/** A configuration with every default filled in and every derived size computed. */
export interface ResolvedConfig {
  arch: 'gpt-neo' | 'llama';
  vocabSize: number;
  maxSeqLen: number;
  dim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  headSize: number;
  /** MLP hidden width H (gpt-neo: intermediate size; llama: SwiGLU hidden_dim). */
  hidden: number;
  /** Per layer: 0 for global attention, else the local window. */
  windows: number[];
  /** Score scale: 1 for GPT-Neo (no scaling), 1/sqrt(headSize) for llama. */
  attnScale: number;
  normEps: number;
  ropeTheta: number;
  tiedEmbeddings: boolean;
  /** The config as given (for checkpoints). */
  source: ModelConfig;
}

/** llama2.c's FeedForward width: hidden = multiple_of * ceil(int(2 * 4 * dim / 3) / multiple_of). */
export function llamaHiddenDim(dim: number, multipleOf: number): number {
  const h = Math.floor((2 * 4 * dim) / 3);
  return multipleOf * Math.ceil(h / multipleOf);
}

function posInt(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new UserError(`model config: ${field} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** Fills defaults, derives sizes and validates; throws UserError naming the bad field. */
export function resolveConfig(c: ModelConfig): ResolvedConfig {
  const vocabSize = posInt(c.vocabSize, 'vocabSize');
  const maxSeqLen = posInt(c.maxSeqLen, 'maxSeqLen');
  const dim = posInt(c.dim, 'dim');
  const nLayers = posInt(c.nLayers, 'nLayers');
  const nHeads = posInt(c.nHeads, 'nHeads');
  if (dim % nHeads !== 0) throw new UserError(`model config: dim ${dim} is not divisible by nHeads ${nHeads}`);
  const headSize = dim / nHeads;
  if (c.arch === 'gpt-neo') {
    const windowSize = posInt(c.windowSize, 'windowSize');
    const layers = c.attentionLayers ?? Array.from({ length: nLayers }, (_, i) => (i % 2 === 0 ? 'global' : 'local'));
    if (layers.length !== nLayers) throw new UserError(`model config: attentionLayers has ${layers.length} entries, expected nLayers = ${nLayers}`);
    for (const a of layers) if (a !== 'global' && a !== 'local') throw new UserError(`model config: attentionLayers entries must be "global" or "local", got ${JSON.stringify(a)}`);
    return {
      arch: 'gpt-neo',
      vocabSize,
      maxSeqLen,
      dim,
      nLayers,
      nHeads,
      nKvHeads: nHeads,
      headSize,
      hidden: c.intermediateSize === undefined ? 4 * dim : posInt(c.intermediateSize, 'intermediateSize'),
      windows: layers.map((a) => (a === 'local' ? windowSize : 0)),
      attnScale: 1,
      normEps: c.layerNormEps ?? 1e-5,
      ropeTheta: 0,
      tiedEmbeddings: c.tiedEmbeddings ?? true,
      source: c,
    };
  }
  if (c.arch === 'llama') {
    const nKvHeads = c.nKvHeads === undefined ? nHeads : posInt(c.nKvHeads, 'nKvHeads');
    if (nHeads % nKvHeads !== 0) throw new UserError(`model config: nHeads ${nHeads} is not divisible by nKvHeads ${nKvHeads}`);
    if (headSize % 2 !== 0) throw new UserError(`model config: head size ${headSize} must be even for RoPE`);
    const multipleOf = c.multipleOf === undefined ? 32 : posInt(c.multipleOf, 'multipleOf');
    return {
      arch: 'llama',
      vocabSize,
      maxSeqLen,
      dim,
      nLayers,
      nHeads,
      nKvHeads,
      headSize,
      hidden: c.hiddenDim === undefined ? llamaHiddenDim(dim, multipleOf) : posInt(c.hiddenDim, 'hiddenDim'),
      windows: new Array<number>(nLayers).fill(0),
      attnScale: 1 / Math.sqrt(headSize),
      normEps: c.normEps ?? 1e-5,
      ropeTheta: c.ropeTheta ?? 10000,
      tiedEmbeddings: c.tiedEmbeddings ?? true,
      source: c,
    };
  }
  throw new UserError(`model config: arch must be "gpt-neo" or "llama", got ${JSON.stringify((c as { arch?: unknown }).arch)}`);
}

function neo(dim: number, nLayers: number): GptNeoConfig {
  return { arch: 'gpt-neo', vocabSize: 50257, maxSeqLen: 512, dim, nLayers, nHeads: 16, windowSize: 256, layerNormEps: 1e-5 };
}

/**
 * Named presets. GPT-Neo ones follow the TinyStories paper (16 heads, context 512, window 256, GPT-Neo's 50257
 * vocab unless overridden; the released HF checkpoints use max_position_embeddings 2048: pass maxSeqLen 2048 to
 * load them). llama ones follow llama2.c's stories260K (multiple_of 4 → hidden 172, vocab 512) and stories15M.
 * `bench-r` is the engine benchmark's config R.
 */
export const PRESETS: Readonly<Record<string, ModelConfig>> = {
  'gpt-neo-1M': neo(64, 8),
  'gpt-neo-3M': neo(128, 8),
  'gpt-neo-8M': neo(256, 8),
  'gpt-neo-28M': neo(512, 8),
  'gpt-neo-33M': neo(768, 4),
  'gpt-neo-1L-21M': neo(1024, 1),
  'gpt-neo-2L-33M': neo(1024, 2),
  'llama-260K': { arch: 'llama', vocabSize: 512, maxSeqLen: 512, dim: 64, nLayers: 5, nHeads: 8, nKvHeads: 4, multipleOf: 4, normEps: 1e-5 },
  'llama-15M': { arch: 'llama', vocabSize: 32000, maxSeqLen: 256, dim: 288, nLayers: 6, nHeads: 6, nKvHeads: 6, multipleOf: 32, normEps: 1e-5 },
  'bench-r': { arch: 'gpt-neo', vocabSize: 4096, maxSeqLen: 256, dim: 256, nLayers: 4, nHeads: 8, windowSize: 256, attentionLayers: ['global', 'global', 'global', 'global'], layerNormEps: 1e-5 },
};

/** A preset by name (short names like "1M", "33M", "260K", "15M" also work), with optional overrides (e.g. vocabSize). */
export function presetConfig(name: string, overrides: Partial<{ vocabSize: number; maxSeqLen: number }> = {}): ModelConfig {
  const key = PRESETS[name] ? name : PRESETS[`gpt-neo-${name}`] ? `gpt-neo-${name}` : PRESETS[`llama-${name}`] ? `llama-${name}` : null;
  if (!key) throw new UserError(`unknown model preset "${name}"; expected one of ${Object.keys(PRESETS).join(', ')}`);
  const base = PRESETS[key]!;
  const out = { ...base, ...overrides } as ModelConfig;
  if (out.arch === 'gpt-neo' && base.arch === 'gpt-neo' && base.attentionLayers) out.attentionLayers = [...base.attentionLayers];
  return out;
}
