// Small random Llama models and a trained byte-level BPE for the interop tests, plus a greedy decoder on our engine.
import { exportHfTensors, importHfTensors } from '../../src/engine/hf.ts';
import type { LlamaConfig, ModelConfig } from '../../src/engine/config.ts';
import { InferenceSession } from '../../src/engine/inference.ts';
import { Model } from '../../src/engine/model.ts';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import type { NamedTensor } from '../../src/checkpoint/safetensors.ts';
import { trainBpe } from '../../src/tokenizer/train.ts';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { makeStories } from '../tokenizer/fixtures.ts';

let cachedTok: Promise<Tokenizer> | null = null;

/** A 300-token byte-level BPE trained on the test stories (<|endoftext|> is its last id). */
export function smallTokenizer(): Promise<Tokenizer> {
  cachedTok ??= trainBpe(makeStories(60), { vocabSize: 300 });
  return cachedTok;
}

/** A random Llama: GQA (4 heads, 2 kv heads), init std 0.3 so greedy choices are not near-ties. */
export function smallLlama(over: Partial<LlamaConfig> = {}): LlamaConfig {
  return { arch: 'llama', vocabSize: 300, maxSeqLen: 96, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, hiddenDim: 64, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true, ...over };
}

/** A model with random weights and its HF-named tensors. */
export function randomModel(config: ModelConfig, seed = 3, std = 0.3): { model: Model; tensors: NamedTensor[] } {
  const model = new Model(config, createRefBackend(), { seed, init: { std, scaleResidual: false } });
  const tensors = [...exportHfTensors(model)].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  return { model, tensors };
}

/** A model built from HF-named tensors. */
export function modelFrom(config: ModelConfig, tensors: NamedTensor[]): Model {
  const model = new Model(config, createRefBackend(), { seed: 0 });
  importHfTensors(model, new Map(tensors.map((t) => [t.name, t])));
  return model;
}

/** Greedy ids from `start` (KV cache), `n` of them, never stopping early. */
export function greedyIds(model: Model, start: number, n: number): number[] {
  const s = new InferenceSession(model);
  let logits = s.prefill([start]);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < logits.length; j++) if (logits[j]! > logits[best]!) best = j;
    out.push(best);
    if (i + 1 < n) logits = s.step(best);
  }
  return out;
}
