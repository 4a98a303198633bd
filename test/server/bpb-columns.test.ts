// The dashboard's data carries bits per byte: val_bpb as a column beside val_loss (NaN for old runs that did not log
// it) and the Runs table's bits/byte at the best validation loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsTail, RunStore, sliceColumns } from '../../src/server/runs.ts';

const root = mkdtempSync(join(tmpdir(), 'bpb-cols-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

const rec = (step: number, val?: number, bpb?: number) => JSON.stringify({ step, loss: 5 - step / 10, lr: 1e-3, grad_norm: 1, tokens_per_s: 100, wall_s: step, tokens: step * 64, bpb: 1.5, ...(val !== undefined ? { val_loss: val } : {}), ...(bpb !== undefined ? { val_bpb: bpb } : {}) });

test('val_bpb is a validation column; the summary reports the bpb of the best validation loss', () => {
  const run = join(root, 'r1');
  mkdirSync(run);
  writeFileSync(join(run, 'metrics.jsonl'), [rec(1), rec(2, 4.0, 1.40), rec(3), rec(4, 3.5, 1.25), rec(6, 3.7, 1.30)].join('\n') + '\n');
  const tail = new MetricsTail(join(run, 'metrics.jsonl'));
  tail.refresh();
  const cols = sliceColumns(tail.cols, 100);
  assert.deepEqual(cols.val_loss, [4.0, 3.5, 3.7]);
  assert.deepEqual(cols.val_bpb, [1.40, 1.25, 1.30]);
  const s = new RunStore(root).summary('r1');
  assert.equal(s.bestValLoss, 3.5);
  assert.equal(s.bestValBpb, 1.25);
});

test('a run logged before bits per byte existed has NaN in the column and no bits/byte in its summary', () => {
  const run = join(root, 'old');
  mkdirSync(run);
  writeFileSync(join(run, 'metrics.jsonl'), [rec(1), rec(2, 4.0)].join('\n') + '\n');
  const tail = new MetricsTail(join(run, 'metrics.jsonl'));
  tail.refresh();
  assert.ok(Number.isNaN(tail.cols.val_bpb[0]));
  const s = new RunStore(root).summary('old');
  assert.equal(s.bestValLoss, 4.0);
  assert.equal(s.bestValBpb, null);
});
