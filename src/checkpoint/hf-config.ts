// Hugging Face config.json for our models: GPTNeoForCausalLM / LlamaForCausalLM fields, written and read back.
import { existsSync, readFileSync } from 'node:fs';
import type { GptNeoConfig, LlamaConfig, ModelConfig } from '../engine/config.ts';
import { resolveConfig } from '../engine/config.ts';
import { UserError } from '../util/errors.ts';

/** Token ids that go into config.json (bos/eos); -1 when the tokenizer has no end-of-text token. */
export interface HfTokenIds {
  eotId: number;
}

/** Compresses per-layer attention kinds into HF's attention_types: [[pattern, repeats], ...]. */
function attentionTypes(layers: Array<'global' | 'local'>): Array<[Array<'global' | 'local'>, number]> {
  const n = layers.length;
  for (let p = 1; p <= n; p++) {
    if (n % p !== 0) continue;
    if (layers.every((l, i) => l === layers[i % p])) return [[layers.slice(0, p), n / p]];
  }
  return [[layers, 1]];
}

/**
 * The Hugging Face config.json object for a model config, so `AutoModelForCausalLM.from_pretrained(run_dir)` builds
 * the same network (GPTNeoForCausalLM with attention_types/window_size, or LlamaForCausalLM with rope_theta).
 */
export function toHfConfig(config: ModelConfig, ids: HfTokenIds): Record<string, unknown> {
  const r = resolveConfig(config);
  const eos = ids.eotId >= 0 ? ids.eotId : null;
  if (r.arch === 'gpt-neo') {
    const c = config as GptNeoConfig;
    const layers = r.windows.map((w) => (w > 0 ? 'local' : 'global')) as Array<'global' | 'local'>;
    return {
      architectures: ['GPTNeoForCausalLM'],
      model_type: 'gpt_neo',
      vocab_size: r.vocabSize,
      max_position_embeddings: r.maxSeqLen,
      hidden_size: r.dim,
      num_layers: r.nLayers,
      num_heads: r.nHeads,
      intermediate_size: c.intermediateSize ?? null,
      window_size: c.windowSize,
      attention_types: attentionTypes(layers),
      attention_layers: layers,
      activation_function: 'gelu_new',
      layer_norm_epsilon: r.normEps,
      resid_dropout: 0,
      embed_dropout: 0,
      attention_dropout: 0,
      classifier_dropout: 0.1,
      initializer_range: 0.02,
      use_cache: true,
      tie_word_embeddings: r.tiedEmbeddings,
      bos_token_id: eos,
      eos_token_id: eos,
      torch_dtype: 'float32',
    };
  }
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: r.vocabSize,
    max_position_embeddings: r.maxSeqLen,
    hidden_size: r.dim,
    intermediate_size: r.hidden,
    num_hidden_layers: r.nLayers,
    num_attention_heads: r.nHeads,
    num_key_value_heads: r.nKvHeads,
    head_dim: r.headSize,
    hidden_act: 'silu',
    rms_norm_eps: r.normEps,
    rope_theta: r.ropeTheta,
    rope_scaling: null,
    attention_bias: false,
    attention_dropout: 0,
    mlp_bias: false,
    pretraining_tp: 1,
    initializer_range: 0.02,
    use_cache: true,
    tie_word_embeddings: r.tiedEmbeddings,
    bos_token_id: eos,
    eos_token_id: eos,
    torch_dtype: 'float32',
  };
}

function num(obj: Record<string, unknown>, key: string, where: string, fallback?: number): number {
  const v = obj[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UserError(`${where}: field "${key}" must be a number, got ${JSON.stringify(obj[key])}`);
  return v;
}

/** HF's expand_attention_types_params: [[["global","local"], 4]] → 8 layer kinds. */
function expandAttentionTypes(types: unknown, where: string): Array<'global' | 'local'> {
  if (!Array.isArray(types)) throw new UserError(`${where}: attention_types must be a list of [pattern, repeats]`);
  const out: Array<'global' | 'local'> = [];
  for (const item of types) {
    if (!Array.isArray(item) || !Array.isArray(item[0]) || typeof item[1] !== 'number') throw new UserError(`${where}: attention_types entries must be [pattern, repeats]`);
    for (let i = 0; i < item[1]; i++) out.push(...(item[0] as Array<'global' | 'local'>));
  }
  return out;
}

/** Our model config from a Hugging Face config.json object (gpt_neo or llama); `where` names the file in errors. */
export function fromHfConfig(hf: Record<string, unknown>, where = 'config.json'): ModelConfig {
  const type = hf.model_type;
  if (type === 'gpt_neo') {
    const nLayers = num(hf, 'num_layers', where);
    const layers = Array.isArray(hf.attention_layers) ? (hf.attention_layers as Array<'global' | 'local'>) : expandAttentionTypes(hf.attention_types, where);
    const c: GptNeoConfig = {
      arch: 'gpt-neo',
      vocabSize: num(hf, 'vocab_size', where),
      maxSeqLen: num(hf, 'max_position_embeddings', where),
      dim: num(hf, 'hidden_size', where),
      nLayers,
      nHeads: num(hf, 'num_heads', where),
      windowSize: num(hf, 'window_size', where, 256),
      attentionLayers: layers,
      layerNormEps: num(hf, 'layer_norm_epsilon', where, 1e-5),
    };
    if (typeof hf.intermediate_size === 'number') c.intermediateSize = hf.intermediate_size;
    if (hf.tie_word_embeddings === false) c.tiedEmbeddings = false; // HF ties GPT-Neo's head unless told otherwise
    if (hf.activation_function !== undefined && hf.activation_function !== 'gelu_new') {
      throw new UserError(`${where}: activation_function ${JSON.stringify(hf.activation_function)} is not supported (only gelu_new)`);
    }
    resolveConfig(c);
    return c;
  }
  if (type === 'llama') {
    const dim = num(hf, 'hidden_size', where);
    const nHeads = num(hf, 'num_attention_heads', where);
    if (typeof hf.head_dim === 'number' && hf.head_dim !== dim / nHeads) throw new UserError(`${where}: head_dim ${hf.head_dim} != hidden_size / num_attention_heads is not supported`);
    if (hf.rope_scaling !== undefined && hf.rope_scaling !== null) throw new UserError(`${where}: rope_scaling is not supported`);
    const c: LlamaConfig = {
      arch: 'llama',
      vocabSize: num(hf, 'vocab_size', where),
      maxSeqLen: num(hf, 'max_position_embeddings', where),
      dim,
      nLayers: num(hf, 'num_hidden_layers', where),
      nHeads,
      nKvHeads: num(hf, 'num_key_value_heads', where, nHeads),
      hiddenDim: num(hf, 'intermediate_size', where),
      normEps: num(hf, 'rms_norm_eps', where, 1e-6),
      ropeTheta: num(hf, 'rope_theta', where, 10000),
      tiedEmbeddings: hf.tie_word_embeddings === undefined ? false : Boolean(hf.tie_word_embeddings),
    };
    resolveConfig(c);
    return c;
  }
  throw new UserError(`${where}: model_type ${JSON.stringify(type)} is not supported (expected "gpt_neo" or "llama")`);
}

const HF_NAMES: Record<'gpt-neo' | 'llama', Record<string, string>> = {
  'gpt-neo': { nLayers: 'num_layers', dim: 'hidden_size', hidden: 'intermediate_size', nHeads: 'num_heads', vocabSize: 'vocab_size' },
  llama: { nLayers: 'num_hidden_layers', dim: 'hidden_size', hidden: 'intermediate_size', nHeads: 'num_attention_heads', vocabSize: 'vocab_size' },
};

/**
 * How a model config file spells a size field of ResolvedConfig (`nLayers`, `dim`, `hidden`, `nHeads`, `vocabSize`):
 * Hugging Face's key in a config.json (`num_hidden_layers`), else our ModelConfig key (`hidden` is `intermediateSize`
 * for gpt-neo and `hiddenDim` for llama).
 */
export function configFieldName(arch: 'gpt-neo' | 'llama', key: string, hf: boolean): string {
  if (hf) return HF_NAMES[arch][key] ?? key;
  return key === 'hidden' ? (arch === 'llama' ? 'hiddenDim' : 'intermediateSize') : key;
}

/** Whether a model config file is a Hugging Face config.json (has model_type), not our ModelConfig JSON. */
export function isHfConfigFile(path: string): boolean {
  try {
    return typeof (JSON.parse(readFileSync(path, 'utf8')) as { model_type?: unknown }).model_type === 'string';
  } catch {
    return false;
  }
}

/**
 * Reads a model config file: a Hugging Face config.json (has model_type) or our own ModelConfig JSON (has arch; its
 * vocabSize may be left out, as the vocabulary comes from the tokenizer).
 */
export function readModelConfigFile(path: string): ModelConfig {
  if (!existsSync(path)) throw new UserError(`${path}: model config file not found`);
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${path}: ${code ? `cannot read the model config (${code})` : `not valid JSON (${(e as Error).message})`}`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new UserError(`${path}: expected a JSON object (a Hugging Face config.json or a model config)`);
  if (typeof obj.model_type === 'string') return fromHfConfig(obj, path);
  if (obj.arch === 'gpt-neo' || obj.arch === 'llama') {
    try {
      // The vocabulary comes from the tokenizer when the file leaves it out: any size checks the other fields.
      resolveConfig({ ...obj, vocabSize: obj.vocabSize ?? 256 } as unknown as ModelConfig);
    } catch (e) {
      // Name the file: resolveConfig's messages only say "model config: <field> ...".
      if (e instanceof UserError) throw new UserError(`${path}: ${e.message.replace(/^model config: /, '')}`);
      throw e;
    }
    return obj as unknown as ModelConfig;
  }
  throw new UserError(`${path}: expected a Hugging Face config.json (model_type gpt_neo or llama) or a model config with arch "gpt-neo" or "llama"`);
}
