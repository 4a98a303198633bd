// Loss, perplexity and guess-rank on constructed cases with known answers, and against the engine's own loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { Model } from '../../src/engine/model.ts';
import type { ModelConfig } from '../../src/engine/config.ts';
import { modelScorer, rankBucketLabels, scoreStream, type NextTokenScorer } from '../../src/eval/lm-metrics.ts';
import { Rng } from '../../src/util/rng.ts';
import { TINY_NEO } from '../train/fixture-stories.ts';

const V = 50;

function stream(n: number, seed = 1): Int32Array {
  const r = new Rng(seed);
  return Int32Array.from({ length: n }, () => r.int(V));
}

/** A scorer that sees the stream: `f(target)` gives each token's logit. */
function constructed(s: Int32Array, f: (v: number, target: number) => number, maxSeqLen = 16): NextTokenScorer {
  // windows are taken in order, so the scorer can find its position by matching inputs against the stream
  let cursor = 0;
  return {
    vocabSize: V,
    maxSeqLen,
    logits(inputs, B, T) {
      const out = new Float32Array(B * T * V);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          const target = s[cursor + b * T + t + 1]!;
          for (let v = 0; v < V; v++) out[(b * T + t) * V + v] = f(v, target);
        }
      }
      cursor += B * T;
      return out;
    },
  };
}

test('a model that always predicts the true token: guess-rank 1, loss ~0, perplexity 1', () => {
  const s = stream(200);
  const m = scoreStream(constructed(s, (v, t) => (v === t ? 50 : 0)), s, { window: 16, batch: 3 });
  assert.equal(m.tokens, 199);
  assert.equal(m.rank.mean, 1);
  assert.equal(m.rank.median, 1);
  assert.equal(m.rank.top1, 1);
  assert.ok(m.loss >= 0 && m.loss < 1e-12, String(m.loss));
  assert.ok(Math.abs(m.perplexity - 1) < 1e-12);
  assert.equal(m.rank.histogram.counts[0], 199);
});

test('uniform logits: loss ln V, perplexity V; ties ranked by id; the worst model has rank V', () => {
  const s = stream(101, 2);
  const u = scoreStream(constructed(s, () => 0), s, { window: 10, batch: 4 });
  assert.ok(Math.abs(u.loss - Math.log(V)) < 1e-9);
  assert.ok(Math.abs(u.perplexity - V) < 1e-6);
  const targets = Array.from(s.subarray(1));
  assert.ok(Math.abs(u.rank.mean - (targets.reduce((a, b) => a + b, 0) / targets.length + 1)) < 1e-9);
  const worst = scoreStream(constructed(s, (v, t) => (v === t ? -5 : 0)), s, { window: 10, batch: 4 });
  assert.equal(worst.rank.mean, V);
  assert.equal(worst.rank.histogram.counts.reduce((a, b) => a + b, 0), 100);
  // rank V falls in the last bucket
  assert.equal(worst.rank.histogram.counts.at(-1), 100);
  assert.deepEqual(rankBucketLabels(50), ['1', '2', '3-4', '5-8', '9-16', '17-32', '33-50']);
});

test('a real model: same loss as the engine computes, whatever the batching; a rigged model ranks its token first', () => {
  const cfg = { ...TINY_NEO, vocabSize: 64, maxSeqLen: 16 } as ModelConfig;
  const model = new Model(cfg, createRefBackend(), { seed: 3 });
  const r = new Rng(5);
  const s = Int32Array.from({ length: 16 * 4 + 1 }, () => r.int(64));
  const a = scoreStream(modelScorer(model), s, { window: 16, batch: 1 });
  const b = scoreStream(modelScorer(model), s, { window: 16, batch: 3 });
  assert.ok(Math.abs(a.loss - b.loss) < 1e-6);
  // the probability fast path and the exact logits path agree
  const exact = scoreStream(modelScorer(model), s, { window: 16, batch: 3, exact: true });
  assert.ok(Math.abs(exact.loss - a.loss) < 1e-5, `${exact.loss} vs ${a.loss}`);
  assert.deepEqual(exact.rank.histogram.counts, a.rank.histogram.counts);
  assert.equal(exact.rank.mean, a.rank.mean);
  // the engine's own loss over the same 4 windows
  const x = s.slice(0, 64);
  const y = s.slice(1, 65);
  const engineLoss = model.forward(x, y, 4, 16);
  assert.ok(Math.abs(a.loss - engineLoss) < 1e-4, `${a.loss} vs ${engineLoss}`);
  assert.ok(a.rank.mean > 1 && a.rank.mean < 64);
  // rig the model: a zero final norm weight and a bias along token 7's (enlarged) embedding → always predicts 7
  const C = model.cfg.dim;
  for (let i = 0; i < C; i++) model.p.wte[7 * C + i]! *= 20;
  model.p.lnfw.fill(0);
  model.p.lnfb!.set(model.p.wte.subarray(7 * C, 8 * C).map((w) => w * 5));
  const sevens = new Int32Array(40).fill(7);
  const rig = scoreStream(modelScorer(model), sevens, { window: 16, batch: 2 });
  assert.equal(rig.rank.mean, 1);
  assert.ok(rig.loss < 1e-3, String(rig.loss));
  assert.equal(rig.tokens, 39);
});

test('the WASM backend scores the same as the reference', async () => {
  const { openBackend } = await import('../../src/engine/open-backend.ts');
  let wasm;
  try {
    wasm = await openBackend('wasm', 1);
  } catch (e) {
    console.log(`skipping the WASM comparison: ${(e as Error).message}`);
    return;
  }
  try {
    const cfg = { ...TINY_NEO, vocabSize: 64, maxSeqLen: 16 } as ModelConfig;
    const r = new Rng(8);
    const s = Int32Array.from({ length: 16 * 3 + 5 }, () => r.int(64));
    const a = scoreStream(modelScorer(new Model(cfg, createRefBackend(), { seed: 4 })), s, { window: 16, batch: 2 });
    const b = scoreStream(modelScorer(new Model(cfg, wasm, { seed: 4 })), s, { window: 16, batch: 2 });
    assert.ok(Math.abs(a.loss - b.loss) < 1e-4, `${a.loss} vs ${b.loss}`);
    assert.equal(a.tokens, b.tokens);
    assert.ok(Math.abs(a.rank.mean - b.rank.mean) < 0.05);
  } finally {
    wasm.dispose();
  }
});
