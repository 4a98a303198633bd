// KV-cache inference: equals the training forward position by position, respects local windows, slides when full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model } from '../../src/engine/model.ts';
import { InferenceSession } from '../../src/engine/inference.ts';
import type { ModelConfig } from '../../src/engine/config.ts';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { Rng } from '../../src/util/rng.ts';

const CONFIGS: ModelConfig[] = [
  { arch: 'gpt-neo', vocabSize: 17, maxSeqLen: 12, dim: 16, nLayers: 2, nHeads: 4, windowSize: 3 },
  { arch: 'llama', vocabSize: 17, maxSeqLen: 12, dim: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, multipleOf: 8 },
];

function model(cfg: ModelConfig): Model {
  const m = new Model(cfg, createRefBackend(), { seed: 11 });
  for (let i = 0; i < m.params.length; i++) m.params[i] = m.params[i]! * 20; // make attention patterns sharp
  return m;
}

/** Logits of the last position of a full forward over `ids`. */
function lastLogits(m: Model, ids: number[]): Float32Array {
  m.forward(Int32Array.from(ids), null, 1, ids.length);
  const l = m.activations().get('logits')!;
  const V = m.cfg.vocabSize;
  return l.data.slice((ids.length - 1) * V, ids.length * V);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

for (const cfg of CONFIGS) {
  test(`${cfg.arch}: prefill + step logits equal the full forward at every position (chunks 1, 3, 64)`, () => {
    const m = model(cfg);
    const rng = new Rng(1);
    const ids = Array.from({ length: 12 }, () => rng.int(17));
    for (const chunk of [1, 3, 64]) {
      const s = new InferenceSession(m, { chunk });
      const first = s.prefill(ids.slice(0, 5));
      assert.ok(maxDiff(first, lastLogits(m, ids.slice(0, 5))) < 1e-4, `chunk ${chunk} prefill`);
      for (let t = 5; t < 12; t++) {
        const got = s.step(ids[t]!).slice();
        assert.ok(maxDiff(got, lastLogits(m, ids.slice(0, t + 1))) < 1e-4, `chunk ${chunk} step ${t}`);
      }
      assert.equal(s.pos, 12);
      s.reset();
      assert.equal(s.pos, 0);
      assert.ok(maxDiff(s.prefill(ids.slice(0, 2)), lastLogits(m, ids.slice(0, 2))) < 1e-4);
    }
  });

  test(`${cfg.arch}: a full context slides (keeps the last tokens, re-prefills them)`, () => {
    const m = model(cfg);
    const rng = new Rng(2);
    const s = new InferenceSession(m, { chunk: 4, keepOnSlide: 5 });
    const all: number[] = [];
    for (let t = 0; t < 30; t++) {
      const tok = rng.int(17);
      all.push(tok);
      const got = s.step(tok).slice();
      const ctx = s.context();
      assert.ok(ctx.length <= 12 && ctx.length >= 1);
      assert.deepEqual(ctx, all.slice(all.length - ctx.length), 'the cache holds the most recent tokens');
      assert.ok(maxDiff(got, lastLogits(m, ctx)) < 1e-4, `step ${t}`);
    }
    // slides happen when full: after 12 tokens the context drops to 5 and grows again
    assert.equal(s.pos, ((30 - 12 - 1) % 7) + 6);
  });

  test(`${cfg.arch}: activation views of the last token match the training forward's`, () => {
    const m = model(cfg);
    const ids = [1, 5, 2, 9, 4, 4, 7];
    const s = new InferenceSession(m, { chunk: 3 });
    s.prefill(ids);
    const a = s.activations();
    m.forward(Int32Array.from(ids), null, 1, ids.length);
    const full = m.activations();
    const T = ids.length, NH = m.cfg.nHeads, C = m.cfg.dim, H = m.cfg.hidden;
    for (let l = 0; l < m.cfg.nLayers; l++) {
      const p = a.get(`h.${l}.attn.probs`)!;
      assert.deepEqual(p.shape, [NH, T]);
      const fp = full.get(`h.${l}.attn.probs`)!.data;
      for (let h = 0; h < NH; h++) {
        let sum = 0;
        for (let j = 0; j < T; j++) {
          sum += p.data[h * T + j]!;
          assert.ok(Math.abs(p.data[h * T + j]! - fp[(h * T + T - 1) * T + j]!) < 1e-5);
        }
        assert.ok(Math.abs(sum - 1) < 1e-5);
      }
      assert.ok(maxDiff(a.get(`h.${l}.mlp.act`)!.data, full.get(`h.${l}.mlp.act`)!.data.subarray((T - 1) * H, T * H)) < 1e-4);
      assert.ok(maxDiff(a.get(`h.${l}.resid_pre`)!.data, full.get(`h.${l}.resid_pre`)!.data.subarray((T - 1) * C, T * C)) < 1e-4);
      assert.ok(maxDiff(a.get(`h.${l}.resid_mid`)!.data, full.get(`h.${l}.resid_mid`)!.data.subarray((T - 1) * C, T * C)) < 1e-4);
    }
    if (cfg.arch === 'gpt-neo') {
      // layer 1 is local (window 3): the last query sees only the last 3 keys
      const p = a.get('h.1.attn.probs')!.data;
      for (let j = 0; j < T - 3; j++) assert.equal(p[j], 0);
    }
    assert.throws(() => s.step(17), /outside the vocabulary/);
  });
}

test('training activations: named views with shapes, views (not copies) into the activation buffer', () => {
  const m = model(CONFIGS[0]!);
  m.forward(Int32Array.from([1, 2, 3, 4, 5, 6]), null, 2, 3);
  const a = m.activations();
  assert.deepEqual(a.get('h.0.attn.probs')!.shape, [2, 4, 3, 3]);
  assert.deepEqual(a.get('h.1.mlp.act')!.shape, [2, 3, 64]);
  assert.deepEqual(a.get('resid_final')!.shape, [2, 3, 16]);
  assert.deepEqual(a.get('logits')!.shape, [2, 3, 17]);
  // one activation buffer, separate from the parameters; a second forward updates the same views in place
  const logits = a.get('logits')!.data;
  assert.equal(a.get('h.0.resid_pre')!.data.buffer, logits.buffer);
  assert.notEqual(logits.buffer, m.params.buffer);
  const before = logits[0];
  m.forward(Int32Array.from([6, 5, 4, 3, 2, 1]), null, 2, 3);
  assert.notEqual(logits[0], before);
  // with targets, probabilities replace the logits (same memory) until backward overwrites them with dlogits
  const y = Int32Array.from([1, 2, 3, 4, 5, 6]);
  m.forward(Int32Array.from([6, 5, 4, 3, 2, 1]), y, 2, 3);
  const after = m.activations();
  assert.ok(!after.has('logits'));
  const probs = after.get('probs')!;
  assert.equal(probs.data.buffer, logits.buffer);
  assert.ok(Math.abs(probs.data.subarray(0, 17).reduce((s, v) => s + v, 0) - 1) < 1e-5);
  m.zeroGrad();
  m.backward();
  assert.ok(!m.activations().has('probs'));
  // keepLogits: a separate probs buffer, logits survive
  const k = new Model(CONFIGS[0]!, createRefBackend(), { seed: 11, keepLogits: true });
  k.forward(Int32Array.from([6, 5, 4]), Int32Array.from([1, 2, 3]), 1, 3);
  const ka = k.activations();
  assert.ok(ka.has('logits') && ka.has('probs'));
  assert.notEqual(ka.get('logits')!.data.byteOffset, ka.get('probs')!.data.byteOffset);
});
