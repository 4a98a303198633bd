// Data-aware training: a time budget plans at most --max-epochs passes over the data, and early stopping ends a
// run --patience validations after its best one (whose weights stay in best/), saying so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonLines, type MetricsRecord } from '../../src/train/metrics.ts';
import { epochCapSteps } from '../../src/train/plan.ts';
import { train } from '../../src/train/trainer.ts';
import { openShards } from '../../src/data/shards.ts';
import { TINY_NEO, writeStoriesFile } from './fixture-stories.ts';

const dir = mkdtempSync(join(tmpdir(), 'data-aware-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'stories.txt');
writeStoriesFile(data, 15, 5);
const neo = join(dir, 'neo.json');
writeFileSync(neo, JSON.stringify(TINY_NEO));
const base = { data, modelConfig: neo, vocabSize: 300, batchSize: 4, seqLen: 16, backend: 'ref' as const, sampleEvery: 0, checkpointEvery: 0, valFraction: 0.2 };

test('--minutes plans no more than --max-epochs passes over the training tokens, and says so', async () => {
  const lines: string[] = [];
  const r = await train({ ...base, minutes: 0.05, maxEpochs: 0.5, valEvery: 0, patience: 0, out: join(dir, 'capped') }, { log: (l) => lines.push(l), printConfig: false });
  const trainTokens = openShards(join(r.runDir, 'shards')).train.length;
  assert.equal(r.totalSteps, epochCapSteps(trainTokens, 4 * 16, 0.5));
  assert.equal(r.reason, 'done');
  assert.ok(lines.some((l) => new RegExp(`^planning ${r.totalSteps} steps = 0.5 epochs of the .* training tokens instead of the \\d+ that 0.05 min allow`).test(l)), lines.join('\n'));
});

test('early stopping: the run stops `patience` validations after its best, keeps the best weights, and says why', async () => {
  const lines: string[] = [];
  const r = await train({ ...base, steps: 400, valEvery: 5, valBatches: 2, patience: 2, lr: 3e-2, lrSchedule: 'constant', warmupSteps: 0, out: join(dir, 'stalled') }, { log: (l) => lines.push(l), printConfig: false });
  assert.equal(r.reason, 'stalled');
  assert.ok(r.step < 400);
  assert.equal(r.step, r.bestStep! + 2 * 5);
  const m = readJsonLines<MetricsRecord>(join(r.runDir, 'metrics.jsonl'));
  assert.equal(m.at(-1)!.step, r.step);
  const vals = m.filter((x) => x.val_loss !== undefined);
  const best = Math.min(...vals.map((x) => x.val_loss!));
  assert.equal(r.bestValLoss, best);
  assert.ok(vals.filter((x) => x.step > r.bestStep!).every((x) => x.val_loss! >= best));
  assert.equal(JSON.parse(readFileSync(join(r.runDir, 'best', 'state.json'), 'utf8')).step, r.bestStep);
  assert.ok(lines.some((l) => /^early stopping: after 2 validations \(10 steps\) without a better val loss/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => new RegExp(`^early stop at step ${r.step}: val loss has not improved for 2 validations \\(best .* at step ${r.bestStep}, kept in best/\\)`).test(l)), lines.join('\n'));
});
