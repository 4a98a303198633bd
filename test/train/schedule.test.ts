// Learning-rate schedule and the seeded data order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learningRate } from '../../src/train/schedule.ts';
import { DataOrder } from '../../src/train/data-order.ts';

test('warmup is linear, cosine ends at the floor, constant stays flat', () => {
  const s = { lr: 1e-3, lrSchedule: 'cosine' as const, warmupSteps: 10, minLrRatio: 0.1 };
  assert.equal(learningRate(s, 0, 100), 1e-4);
  assert.ok(Math.abs(learningRate(s, 9, 100) - 1e-3) < 1e-15);
  assert.ok(Math.abs(learningRate(s, 10, 100) - 1e-3) < 1e-15);
  assert.ok(Math.abs(learningRate(s, 55, 100) - 5.5e-4) < 1e-12); // halfway: (max+min)/2
  assert.ok(Math.abs(learningRate(s, 100, 100) - 1e-4) < 1e-15);
  for (let i = 11; i < 100; i++) assert.ok(learningRate(s, i, 100) < learningRate(s, i - 1, 100));
  const c = { ...s, lrSchedule: 'constant' as const };
  assert.equal(learningRate(c, 50, 100), 1e-3);
});

test('data order: each epoch is a permutation of all windows, seeded, and resumes from its cursor', () => {
  const a = new DataOrder(1001, 10, 7);
  assert.equal(a.numWindows, 100);
  const first = a.next(100);
  assert.deepEqual([...first].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i * 10));
  assert.notDeepEqual(first, Array.from({ length: 100 }, (_, i) => i * 10));
  const second = a.next(100);
  assert.notDeepEqual(second, first);
  assert.deepEqual(new DataOrder(1001, 10, 7).next(100), first);
  assert.notDeepEqual(new DataOrder(1001, 10, 8).next(100), first);
  // resume mid-epoch from a saved cursor
  const b = new DataOrder(1001, 10, 7);
  b.next(37);
  const saved = { ...b.cursor };
  const rest = b.next(90);
  assert.deepEqual(new DataOrder(1001, 10, 7, saved).next(90), rest);
});
