// Data-aware planning: the epoch cap on a time budget and early stopping's patience count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { epochCapSteps, epochsOf, shouldStopEarly, validationsSinceBest } from '../../src/train/plan.ts';

test('the epoch cap allows at most maxEpochs passes over the training tokens; null means no cap', () => {
  assert.equal(epochCapSteps(1_000_000, 4096, 4), 976);
  assert.ok(epochsOf(976, 1_000_000, 4096) <= 4 && epochsOf(977, 1_000_000, 4096) > 4);
  assert.equal(epochCapSteps(60_000, 4096, 4), 58);
  assert.equal(epochCapSteps(100, 4096, 1), 1, 'at least one step');
  assert.equal(epochCapSteps(60_000, 4096, null), Infinity);
});

test('early stopping counts validations since the best one and stops after `patience` of them', () => {
  assert.equal(validationsSinceBest(1000, 500, 100), 5);
  assert.equal(validationsSinceBest(550, 500, 100), 0);
  assert.equal(validationsSinceBest(600, 550, 50), 1);
  assert.equal(validationsSinceBest(600, null, 50), 0);
  assert.equal(shouldStopEarly(1000, 500, 100, 5), true);
  assert.equal(shouldStopEarly(900, 500, 100, 5), false);
  assert.equal(shouldStopEarly(5000, 100, 100, 0), false, 'patience 0 turns it off');
  assert.equal(shouldStopEarly(5000, 100, 0, 3), false, 'no validations, no early stop');
});
