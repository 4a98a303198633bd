// Whole models on WebGPU follow the reference backend: the GPU-resident trainer (one command buffer per step, only
// loss and grad norm read back) and the engine's Model on the synchronous WebGPU bridge, for gpt-neo and llama.
// Skips with the reason where WebGPU has no adapter.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { Model } from '../../src/engine/model.ts';
import { InferenceSession } from '../../src/engine/inference.ts';
import type { ModelConfig } from '../../src/engine/config.ts';
import type { Backend } from '../../src/engine/backend.ts';
import { nodeDevice } from '../../src/engine/webgpu/node.ts';
import { GpuKernels } from '../../src/engine/webgpu/kernels.ts';
import { GpuModel } from '../../src/engine/webgpu/trainer.ts';
import { GpuDecoder } from '../../src/engine/webgpu/decode.ts';
import { createWebGpuSyncBackend } from '../../src/engine/webgpu/sync.ts';
import { Rng } from '../../src/util/rng.ts';
import { maxDiff } from '../helpers/max-diff.ts';

const B = 2;
const T = 13;
const STEPS = 3;
const OPT = { lr: 3e-3, weightDecay: 0.1 };
const cases: Array<[string, ModelConfig]> = [
  ['gpt-neo (local + global layers, no score scale)', { arch: 'gpt-neo', vocabSize: 50, maxSeqLen: 16, dim: 32, nLayers: 2, nHeads: 4, windowSize: 4, intermediateSize: 64 }],
  ['llama (RMSNorm, RoPE, SwiGLU, GQA, untied head)', { arch: 'llama', vocabSize: 50, maxSeqLen: 16, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, hiddenDim: 48, tiedEmbeddings: false }],
];

function batch(V: number): { x: Int32Array; y: Int32Array } {
  const rng = new Rng(9);
  const x = Int32Array.from({ length: B * T }, () => rng.int(V));
  const y = Int32Array.from({ length: B * T }, () => rng.int(V));
  y[5] = -1; // an ignored position
  return { x, y };
}

/** The reference run: STEPS steps with clipping at 1.0; losses, norms, the last step's grads and final params. */
function trainRef(cfg: ModelConfig, be: Backend): { losses: number[]; norms: number[]; grads: Float32Array; params: Float32Array } {
  const model = new Model(cfg, be, { seed: 3 });
  const { x, y } = batch(model.cfg.vocabSize);
  const losses: number[] = [];
  const norms: number[] = [];
  let grads = new Float32Array(0);
  for (let t = 1; t <= STEPS; t++) {
    model.zeroGrad();
    losses.push(model.forward(x, y, B, T));
    model.backward();
    if (t === STEPS) grads = Float32Array.from(model.grads);
    norms.push(model.clipGradNorm(1.0));
    model.adamwStep({ ...OPT, t });
  }
  return { losses, norms, grads, params: Float32Array.from(model.params) };
}

const acq = await nodeDevice();
if (!acq.ok) console.log(`# skipping the WebGPU model tests: ${acq.reason}`);

describe('webgpu: the GPU-resident trainer follows the reference', { skip: acq.ok ? false : `no WebGPU adapter: ${acq.ok ? '' : acq.reason}` }, () => {
  let k: GpuKernels;
  before(() => {
    if (acq.ok) k = new GpuKernels(acq.device);
  });
  after(() => k?.dispose());
  for (const [name, cfg] of cases) {
    it(`${name}: losses, grad norms and parameters after ${STEPS} steps submitted back to back`, async () => {
      const want = trainRef(cfg, createRefBackend());
      const m = GpuModel.create(cfg, k, { batch: B, seq: T, seed: 3 });
      try {
        const { x, y } = batch(m.cfg.vocabSize);
        // every step is submitted before any result is awaited: the read-backs must not serialise the steps
        const pending = [];
        for (let t = 1; t <= STEPS; t++) pending.push(m.step(x, y, B, T, { ...OPT, t, maxGradNorm: 1.0 }));
        const got = await Promise.all(pending);
        got.forEach((r, i) => {
          assert.ok(Math.abs(r.loss - want.losses[i]!) < 1e-5, `step ${i + 1} loss ${r.loss} vs reference ${want.losses[i]}`);
          assert.ok(Math.abs(r.gradNorm - want.norms[i]!) < 1e-4 * want.norms[i]!, `step ${i + 1} grad norm ${r.gradNorm} vs reference ${want.norms[i]}`);
        });
        // Adam divides by sqrt(v), so a coordinate whose gradient is near float32 noise moves by a noisy fraction of
        // lr: parameters agree to a small fraction of one step's size, the losses and gradients above to 1e-5
        const { diff } = maxDiff(await m.read('params'), want.params);
        assert.ok(diff < 0.02 * OPT.lr * STEPS, `parameters differ by ${diff} after ${STEPS} steps`);
        const g = maxDiff(await m.read('grads'), want.grads);
        assert.ok(g.diff < 1e-4 * g.scale, `last step's gradients differ by ${g.diff} (largest ${g.scale})`);
        // evaluation reuses the buffers: the loss of the trained parameters, and logits of the right size
        const evalLoss = await m.loss(x, y, B, T);
        assert.ok(Number.isFinite(evalLoss) && evalLoss < want.losses[0]!, `eval loss ${evalLoss} after training`);
        assert.equal((await m.logits(x, B, T)).length, B * T * m.cfg.vocabSize);
      } finally {
        m.dispose();
      }
    });
  }
});

describe('webgpu: the GPU-resident trainer keeps no T x T attention buffer', { skip: acq.ok ? false : 'no WebGPU adapter' }, () => {
  // at T=256 one layer's B*NH*T*T probabilities (512 KiB here) would outweigh everything else this tiny model holds;
  // equal second differences of the byte count over T = 64, 128, 256 rule out any T x T term
  const LONG = 256;
  const long: Array<[string, ModelConfig]> = [
    ['gpt-neo (a local layer of window 100)', { arch: 'gpt-neo', vocabSize: 24, maxSeqLen: LONG, dim: 16, nLayers: 2, nHeads: 2, windowSize: 100, intermediateSize: 16 }],
    ['llama (GQA 2:1, scaled scores)', { arch: 'llama', vocabSize: 24, maxSeqLen: LONG, dim: 16, nLayers: 2, nHeads: 2, nKvHeads: 1, hiddenDim: 16 }],
  ];
  for (const [name, cfg] of long) {
    it(`${name}: allocated bytes are linear in T, and one step at T=${LONG} gives the reference gradients`, async () => {
      const k = new GpuKernels((acq as { device: GPUDevice }).device);
      try {
        const bytes = [LONG / 4, LONG / 2, LONG].map((T) => {
          const m = GpuModel.create(cfg, k, { batch: 1, seq: T, seed: 3 });
          const b = m.bytes;
          m.dispose();
          return b;
        });
        const [b1, b2, b4] = bytes as [number, number, number];
        assert.equal(b4 - b2, 2 * (b2 - b1), `bytes at T = ${LONG / 4}, ${LONG / 2}, ${LONG}: ${bytes.join(', ')} are not linear in T`);

        const ref = new Model(cfg, createRefBackend(), { seed: 3 });
        const rng = new Rng(11);
        const V = ref.cfg.vocabSize;
        const x = Int32Array.from({ length: LONG }, () => rng.int(V));
        const y = Int32Array.from({ length: LONG }, () => rng.int(V));
        ref.zeroGrad();
        const loss = ref.forward(x, y, 1, LONG);
        ref.backward();
        const m = GpuModel.create(cfg, k, { batch: 1, seq: LONG, seed: 3 });
        try {
          const r = await m.step(x, y, 1, LONG, { lr: 1e-3, t: 1 });
          assert.ok(Math.abs(r.loss - loss) < 1e-5, `loss ${r.loss} vs reference ${loss}`);
          assert.ok(Math.abs(r.gradNorm - ref.gradNorm()) < 1e-4 * ref.gradNorm(), `grad norm ${r.gradNorm} vs reference ${ref.gradNorm()}`);
          const g = maxDiff(await m.read('grads'), ref.grads);
          assert.ok(g.diff < 1e-4 * g.scale, `gradients differ by ${g.diff} (largest ${g.scale})`);
        } finally {
          m.dispose();
        }
      } finally {
        k.dispose();
      }
    });
  }
});

describe('webgpu: an inference-only GpuModel', { skip: acq.ok ? false : 'no WebGPU adapter' }, () => {
  it('holds no gradients or AdamW moments, gives the training model\'s loss, and refuses to train', async () => {
    const k = new GpuKernels((acq as { device: GPUDevice }).device);
    const cfg: ModelConfig = { arch: 'llama', vocabSize: 24, maxSeqLen: 32, dim: 16, nLayers: 2, nHeads: 2, nKvHeads: 1, hiddenDim: 16 };
    const train = GpuModel.create(cfg, k, { batch: 2, seq: 16, seed: 5 });
    const infer = GpuModel.create(cfg, k, { batch: 2, seq: 16, params: await train.read('params'), inference: true });
    try {
      // a training model holds params + grads + two moments; the inference model the params alone (and activations)
      assert.ok(train.bytes - infer.bytes >= 3 * 4 * train.nParams, `inference model ${infer.bytes} bytes vs training ${train.bytes} with ${train.nParams} params`);
      const rng = new Rng(2);
      const x = Int32Array.from({ length: 32 }, () => rng.int(24));
      const y = Int32Array.from({ length: 32 }, () => rng.int(24));
      assert.equal(await infer.loss(x, y, 2, 16), await train.loss(x, y, 2, 16));
      assert.throws(() => infer.step(x, y, 2, 16, { lr: 1e-3, t: 1 }), /inference: true/);
      await assert.rejects(infer.read('m'), /inference: true/);
    } finally {
      infer.dispose();
      train.dispose();
      k.dispose();
    }
  });
});

describe('webgpu: resuming the GPU-resident trainer', { skip: acq.ok ? false : 'no WebGPU adapter' }, () => {
  it('a trainer rebuilt from read-back params and AdamW moments continues bit for bit like the uninterrupted one', async () => {
    const k = new GpuKernels((acq as { device: GPUDevice }).device);
    const cfg = cases[1]![1];
    const whole = GpuModel.create(cfg, k, { batch: B, seq: T, seed: 3 });
    const first = GpuModel.create(cfg, k, { batch: B, seq: T, seed: 3 });
    try {
      const { x, y } = batch(whole.cfg.vocabSize);
      const opt = (t: number) => ({ ...OPT, t, maxGradNorm: 1.0 });
      const wholeLosses = [];
      for (let t = 1; t <= 4; t++) wholeLosses.push((await whole.step(x, y, B, T, opt(t))).loss);
      for (let t = 1; t <= 2; t++) await first.step(x, y, B, T, opt(t));
      const resumed = GpuModel.create(cfg, k, { batch: B, seq: T, params: await first.read('params') });
      try {
        resumed.loadOptimizerState(await first.read('m'), await first.read('v'));
        const losses = [(await resumed.step(x, y, B, T, opt(3))).loss, (await resumed.step(x, y, B, T, opt(4))).loss];
        assert.deepEqual(losses, wholeLosses.slice(2));
        assert.deepEqual(await resumed.read('params'), await whole.read('params'));
      } finally {
        resumed.dispose();
      }
    } finally {
      whole.dispose();
      first.dispose();
      k.dispose();
    }
  });
});

describe('webgpu: KV-cache decoding on the GPU follows the reference', { skip: acq.ok ? false : 'no WebGPU adapter' }, () => {
  for (const [name, cfg] of cases) {
    it(`${name}: a chunked prefill and single-token steps give InferenceSession's logits`, async () => {
      const ref = new InferenceSession(new Model(cfg, createRefBackend(), { seed: 5 }));
      const k = new GpuKernels((acq as { device: GPUDevice }).device);
      const m = GpuModel.create(cfg, k, { batch: 1, seq: 1, seed: 5 });
      const dec = new GpuDecoder(m, { chunk: 2 });
      try {
        const prompt = [1, 2, 3, 4, 5];
        const check = (got: Float32Array, want: Float32Array, what: string) => {
          const { diff, scale } = maxDiff(got, want);
          assert.ok(diff < 1e-4 * Math.max(1, scale), `${what}: logits differ by ${diff}`);
        };
        check(await dec.prefill(prompt), Float32Array.from(ref.prefill(prompt)), 'prefill');
        for (const tok of [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]) check(await dec.step(tok), Float32Array.from(ref.step(tok)), `position ${dec.pos}`);
        assert.equal(dec.pos, 16);
        // a full cache slides as InferenceSession does: the last 8 tokens re-prefilled, then the new one
        for (const tok of [1, 2]) check(await dec.step(tok), Float32Array.from(ref.step(tok)), `after sliding, position ${dec.pos}`);
        assert.equal(dec.pos, ref.pos);
        assert.deepEqual(dec.context(), ref.context());
      } finally {
        dec.dispose();
        m.dispose();
        k.dispose();
      }
    });
  }
});

describe('webgpu: the engine Model on the synchronous WebGPU backend follows the reference', { skip: acq.ok ? false : 'no WebGPU adapter' }, () => {
  let be: Backend;
  before(async () => {
    be = await createWebGpuSyncBackend();
  });
  after(() => be?.dispose());
  for (const [name, cfg] of cases) {
    it(`${name}: losses and gradients`, () => {
      const want = trainRef(cfg, createRefBackend());
      const got = trainRef(cfg, be);
      got.losses.forEach((l, i) => assert.ok(Math.abs(l - want.losses[i]!) < 1e-5, `step ${i + 1} loss ${l} vs reference ${want.losses[i]}`));
      const g = maxDiff(got.grads, want.grads);
      assert.ok(g.diff < 1e-4 * g.scale, `gradients differ by ${g.diff} (largest ${g.scale})`);
    });

    it(`${name}: KV-cache prefill and decode steps give the reference's logits`, () => {
      const logits = (backend: Backend) => {
        const model = new Model(cfg, backend, { seed: 5 });
        const session = new InferenceSession(model);
        const out = [Float32Array.from(session.prefill([1, 2, 3]))];
        for (const tok of [4, 5, 6, 7, 8, 9, 10, 11]) out.push(Float32Array.from(session.step(tok)));
        return out;
      };
      const want = logits(createRefBackend());
      const got = logits(be);
      want.forEach((w, i) => {
        const { diff, scale } = maxDiff(got[i]!, w);
        assert.ok(diff < 1e-4 * Math.max(1, scale), `position ${i + 2}: logits differ by ${diff}`);
      });
    });
  }
});
