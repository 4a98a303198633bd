// Conversion between the model's packed parameter buffer and Hugging Face tensor names and layouts.
import { numel } from './layout.ts';
import type { Model } from './model.ts';
import { UserError } from '../util/errors.ts';

/** A named tensor in Hugging Face's layout (row-major, PyTorch shapes). */
export interface HfTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * The model's parameters as Hugging Face tensors (copies), in paramTable order: GPTNeoForCausalLM names
 * (`transformer.h.0.attn.attention.q_proj.weight`, ...) or LlamaForCausalLM names (`model.layers.0.self_attn.q_proj.weight`,
 * `mlp.gate_proj`/`up_proj`/`down_proj` = llama2.c's w1/w3/w2). A tied LM head is not repeated as `lm_head.weight`
 * (as HF's safetensors omit tied weights). Llama q/k use HF's rotate-half RoPE layout (llama2.c's interleaved-pair
 * checkpoints need HF's permute when converted).
 */
export function exportHfTensors(model: Model): Map<string, HfTensor> {
  const out = new Map<string, HfTensor>();
  let off = 0;
  for (const spec of model.table) {
    const cols = numel(spec.shape) / spec.shape[0]!;
    for (const part of spec.parts) {
      const start = off + part.rowStart * cols;
      const shape = spec.shape.length === 1 ? [part.rows] : [part.rows, ...spec.shape.slice(1)];
      out.set(part.hfName, { shape, data: model.params.slice(start, start + part.rows * cols) });
    }
    off += numel(spec.shape);
  }
  return out;
}

/** Names in HF checkpoints that are buffers, not parameters (GPT-Neo's causal mask and masked_bias, rotary caches). */
export function isIgnoredBuffer(name: string): boolean {
  return /\.attn\.attention\.(bias|masked_bias)$/.test(name) || /rotary_emb\.inv_freq$/.test(name);
}

/**
 * Loads Hugging Face tensors into the model (the inverse of exportHfTensors). Every parameter must be present with
 * its exact shape; `lm_head.weight` of a tied model and HF's non-parameter buffers are accepted and ignored;
 * any other unknown name is an error.
 */
export function importHfTensors(model: Model, tensors: Map<string, HfTensor>): void {
  const seen = new Set<string>();
  let off = 0;
  for (const spec of model.table) {
    const cols = numel(spec.shape) / spec.shape[0]!;
    for (const part of spec.parts) {
      const t = tensors.get(part.hfName);
      const shape = spec.shape.length === 1 ? [part.rows] : [part.rows, ...spec.shape.slice(1)];
      if (!t) throw new UserError(`import: tensor ${part.hfName} is missing (expected shape [${shape.join(', ')}])`);
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]) || t.data.length !== numel(shape)) {
        throw new UserError(`import: tensor ${part.hfName} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
      }
      model.params.set(t.data, off + part.rowStart * cols);
      seen.add(part.hfName);
    }
    off += numel(spec.shape);
  }
  for (const name of tensors.keys()) {
    if (seen.has(name) || isIgnoredBuffer(name)) continue;
    if (name === 'lm_head.weight' && model.cfg.tiedEmbeddings) continue;
    throw new UserError(`import: unexpected tensor ${name} for a ${model.cfg.arch} model with this config`);
  }
}
