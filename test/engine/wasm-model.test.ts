// A whole model trained a few steps on the WASM backend follows the reference backend: same losses, same gradients.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { createWasmBackend } from '../../src/engine/wasm/node.ts';
import { Model } from '../../src/engine/model.ts';
import { presetConfig, type ModelConfig } from '../../src/engine/config.ts';
import type { Backend } from '../../src/engine/backend.ts';
import { Rng } from '../../src/util/rng.ts';

function train(cfg: ModelConfig, be: Backend, B: number, T: number, steps: number): { losses: number[]; grads: Float32Array } {
  const model = new Model(cfg, be, { seed: 3 });
  const rng = new Rng(9);
  const V = model.cfg.vocabSize;
  const x = Int32Array.from({ length: B * T }, () => rng.int(V));
  const y = Int32Array.from({ length: B * T }, () => rng.int(V));
  y[5] = -1; // an ignored position
  const losses: number[] = [];
  let grads = new Float32Array(0);
  for (let t = 1; t <= steps; t++) {
    model.zeroGrad();
    losses.push(model.forward(x, y, B, T));
    model.backward();
    model.clipGradNorm(1.0);
    if (t === steps) grads = Float32Array.from(model.grads);
    model.adamwStep({ lr: 3e-3, weightDecay: 0.1, t });
  }
  return { losses, grads };
}

const cases: Array<[string, ModelConfig]> = [
  ['gpt-neo (local + global layers)', { ...presetConfig('1M', { vocabSize: 300, maxSeqLen: 48 }), windowSize: 8 } as ModelConfig],
  ['llama (RMSNorm, RoPE, SwiGLU, GQA)', presetConfig('260K', { maxSeqLen: 48 })],
];

describe('wasm backend trains like the reference', () => {
  for (const [name, cfg] of cases) {
    it(name, async () => {
      const be = await createWasmBackend({ threads: 2 });
      try {
        const want = train(cfg, createRefBackend(), 2, 37, 3);
        const got = train(cfg, be, 2, 37, 3);
        for (let i = 0; i < want.losses.length; i++) {
          assert.ok(Math.abs(got.losses[i]! - want.losses[i]!) < 1e-5, `step ${i + 1} loss ${got.losses[i]} vs reference ${want.losses[i]}`);
        }
        let maxAbs = 0;
        let maxDiff = 0;
        for (let i = 0; i < want.grads.length; i++) {
          maxAbs = Math.max(maxAbs, Math.abs(want.grads[i]!));
          maxDiff = Math.max(maxDiff, Math.abs(got.grads[i]! - want.grads[i]!));
        }
        assert.ok(maxDiff < 1e-4 * maxAbs, `gradients differ by ${maxDiff} (largest gradient ${maxAbs})`);
      } finally {
        be.dispose();
      }
    });
  }
});
