// The golden run shared by make-golden.ts (writes the fixtures) and golden.test.ts (compares against them).
import type { Backend } from '../../src/engine/backend.ts';
import type { ModelConfig } from '../../src/engine/config.ts';
import { Model } from '../../src/engine/model.ts';
import { Rng } from '../../src/util/rng.ts';

export const GOLDEN_MAGIC = 'tinystories-engine-golden';
/** Bump when the run below changes on purpose (then regenerate with `npx tsx test/engine/make-golden.ts`). */
export const GOLDEN_VERSION = 1;

export const GOLDEN_CONFIGS: Record<'gpt-neo' | 'llama', ModelConfig> = {
  // window 4 < T = 8, so the local layer's mask matters
  'gpt-neo': { arch: 'gpt-neo', vocabSize: 32, maxSeqLen: 8, dim: 16, nLayers: 2, nHeads: 4, windowSize: 4 },
  llama: { arch: 'llama', vocabSize: 32, maxSeqLen: 8, dim: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, multipleOf: 8 },
};

export interface Golden {
  magic: string;
  version: number;
  arch: string;
  config: ModelConfig;
  seed: number;
  B: number;
  T: number;
  inputs: number[];
  targets: number[];
  /** (B, T, V) logits of the first forward. */
  logits: number[];
  loss: number;
  /** Gradient of the first loss, per parameter tensor (paramTable names). */
  grads: Record<string, number[]>;
  /** Losses of the first 10 AdamW steps (lr 1e-2, wd 0.1, clip 1.0) on seeded batches. */
  trainLosses: number[];
}

const r9 = (x: number) => Number(x.toPrecision(9)); // 9 significant digits round-trip a float32

function batch(rng: Rng, n: number, V: number): { x: Int32Array; y: Int32Array } {
  const x = Int32Array.from({ length: n }, () => rng.int(V));
  const y = x.map((v) => (3 * v + 1) % V); // a learnable next-token map, so 10 steps visibly reduce the loss
  return { x, y };
}

/** Runs the golden procedure on a backend and returns what the fixture stores. */
export function runGolden(arch: 'gpt-neo' | 'llama', backend: Backend): Golden {
  const config = GOLDEN_CONFIGS[arch];
  const seed = 1234;
  const B = 2;
  const T = 8;
  const model = new Model(config, backend, { seed });
  const V = model.cfg.vocabSize;
  const rng = new Rng(seed + 1);
  const first = batch(rng, B * T, V);
  first.y[5] = -1; // one ignored target
  model.forward(first.x, null, B, T);
  const logits = Array.from(model.activations().get('logits')!.data, r9);
  model.zeroGrad();
  const loss = model.forward(first.x, first.y, B, T);
  model.backward();
  const grads: Record<string, number[]> = {};
  let off = 0;
  for (const s of model.table) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    grads[s.name] = Array.from(model.grads.subarray(off, off + n), r9);
    off += n;
  }
  const trainLosses: number[] = [];
  for (let t = 1; t <= 10; t++) {
    const { x, y } = t === 1 ? first : batch(rng, B * T, V);
    model.zeroGrad();
    trainLosses.push(model.forward(x, y, B, T));
    model.backward();
    model.clipGradNorm(1.0);
    model.adamwStep({ lr: 1e-2, t, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8 });
  }
  return {
    magic: GOLDEN_MAGIC,
    version: GOLDEN_VERSION,
    arch,
    config,
    seed,
    B,
    T,
    inputs: Array.from(first.x),
    targets: Array.from(first.y),
    logits,
    loss: r9(loss),
    grads,
    trainLosses: trainLosses.map(r9),
  };
}

/** Largest absolute difference divided by the largest |want|: the error relative to the tensor's scale. */
export function maxRelToScale(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 1e-12;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  let d = 0;
  for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(got[i]! - want[i]!));
  return d / scale;
}
