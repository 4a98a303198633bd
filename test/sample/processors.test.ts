// Logits processors and the seeded sampler, checked against hand-computed distributions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyRepetitionPenalty, applyTopK, applyTopP, chooseToken, rankOf, sampleIndex, softmax } from '../../src/sample/processors.ts';
import { Rng } from '../../src/util/rng.ts';

const close = (a: ArrayLike<number>, b: number[], eps = 1e-12) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < eps, `index ${i}: ${a[i]} vs ${b[i]}`);
};

test('repetition penalty divides positive and multiplies negative logits of seen tokens, once each', () => {
  const l = new Float32Array([2, -2, 1, 4]);
  applyRepetitionPenalty(l, [0, 1, 1, 0], 2);
  assert.deepEqual([...l], [1, -4, 1, 4]);
});

test('top-k and top-p keep the right tokens and renormalize', () => {
  const p = new Float64Array([0.1, 0.4, 0.2, 0.3]);
  applyTopK(p, 2);
  close(p, [0, 4 / 7, 0, 3 / 7]);
  const q = new Float64Array([0.1, 0.4, 0.2, 0.3]);
  applyTopP(q, 0.65); // 0.4 + 0.3 = 0.7 >= 0.65
  close(q, [0, 4 / 7, 0, 3 / 7]);
  const r = new Float64Array([0.1, 0.4, 0.2, 0.3]);
  applyTopP(r, 0.01); // always at least the top token
  close(r, [0, 1, 0, 0]);
});

test('softmax, rank and greedy choice', () => {
  const l = new Float32Array([1, 3, 2, 3]);
  const p = softmax(l);
  const z = Math.exp(1) + 2 * Math.exp(3) + Math.exp(2);
  close(p, [Math.exp(1) / z, Math.exp(3) / z, Math.exp(2) / z, Math.exp(3) / z]);
  assert.equal(rankOf(l, 1), 0);
  assert.equal(rankOf(l, 3), 1); // tie broken by id
  assert.equal(rankOf(l, 0), 3);
  assert.equal(chooseToken(l, [], { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 }, new Rng(1)).token, 1);
  assert.equal(chooseToken(l, [1], { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 2 }, new Rng(1)).token, 3);
});

test('seeded sampling is reproducible and follows the distribution', () => {
  const probs = new Float64Array([0.5, 0.25, 0.25, 0]);
  const counts = [0, 0, 0, 0];
  const rng = new Rng(42);
  for (let i = 0; i < 20000; i++) counts[sampleIndex(probs, rng)]!++;
  assert.equal(counts[3], 0);
  assert.ok(Math.abs(counts[0]! / 20000 - 0.5) < 0.02 && Math.abs(counts[1]! / 20000 - 0.25) < 0.02);
  const l = new Float32Array([0.3, 1.2, -0.5, 0.9, 0.1]);
  const s = { temperature: 0.8, topK: 4, topP: 0.95, repetitionPenalty: 1.1 };
  const draw = (seed: number) => {
    const g = new Rng(seed);
    return Array.from({ length: 30 }, () => chooseToken(l, [1], s, g).token);
  };
  assert.deepEqual(draw(5), draw(5));
  assert.notDeepEqual(draw(5), draw(6));
  assert.ok(!draw(5).includes(2)); // top-k 4 drops the least likely token
});
