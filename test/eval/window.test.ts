// `eval metrics` scores a model at the context it was trained at (train_config.json), says which window it used,
// and warns when asked for more; imported models (no train config) fall back to their maximum positions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseWindow, METRICS_DEFAULTS, runMetrics } from '../../src/eval/metrics.ts';
import { trainedContext } from '../../src/eval/models.ts';
import { TRAIN_DEFAULTS } from '../../src/train/settings.ts';
import { makeRun, writeStories } from './fixture-runs.ts';

const tmp = mkdtempSync(join(tmpdir(), 'eval-window-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const heldOut = join(tmp, 'valid.txt');
writeStories(heldOut, 6, 99);

/** A fixture run whose train_config.json says it was trained at `seqLen` (the fixture model has 64 positions). */
async function runTrainedAt(dir: string, seqLen: number | null): Promise<void> {
  await makeRun(dir, { dim: 16, steps: [5] });
  if (seqLen === null) rmSync(join(dir, 'train_config.json'));
  else writeFileSync(join(dir, 'train_config.json'), JSON.stringify({ format: 'tinystories-train-config', version: 1, settings: { ...TRAIN_DEFAULTS, seqLen }, model: {}, shards: 'shards' }));
}

test('the window defaults to the trained context, a --window overrides it (capped at the positions) with a warning past training', () => {
  assert.deepEqual(chooseWindow(null, 256, 512), { used: 256, source: 'trained', trainedContext: 256, warning: null });
  assert.deepEqual(chooseWindow(null, null, 512), { used: 512, source: 'max-positions', trainedContext: null, warning: null });
  assert.deepEqual(chooseWindow(128, 256, 512), { used: 128, source: 'flag', trainedContext: 256, warning: null });
  const longer = chooseWindow(512, 256, 512);
  assert.equal(longer.used, 512);
  assert.match(longer.warning!, /longer than the context this model was trained at \(256\)/);
  assert.equal(chooseWindow(4096, null, 512).used, 512);
  assert.equal(chooseWindow(4096, null, 512).warning, null);
  // a seqLen above the model's positions was trained at the positions
  assert.equal(chooseWindow(null, 1024, 512).used, 512);
});

test('trainedContext reads the run config from the run, its best/ and its checkpoints, and is null without one', async () => {
  const run = join(tmp, 'ctx');
  await runTrainedAt(run, 24);
  assert.equal(trainedContext(run), 24);
  assert.equal(trainedContext(join(run, 'checkpoints', 'step-00000005')), 24);
  assert.equal(trainedContext(join(run, 'best')), 24);
  const imported = join(tmp, 'imported');
  await runTrainedAt(imported, null);
  assert.equal(trainedContext(imported), null);
});

test('eval metrics scores at the trained context by default, logs the window, and warns for a longer --window', async () => {
  const run = join(tmp, 'trained24');
  await runTrainedAt(run, 24);
  const lines: string[] = [];
  const base = { ...METRICS_DEFAULTS, runs: [run], data: heldOut, generate: false };
  const r = await runMetrics({ ...base, out: join(tmp, 'w1') }, { log: (l) => lines.push(l), quiet: false });
  assert.equal(r.models[0]!.lm.window, 24);
  assert.deepEqual(r.models[0]!.window, { used: 24, source: 'trained', trainedContext: 24, warning: null });
  assert.ok(lines.some((l) => /window 24 \(trained context\)/.test(l)), lines.join('\n'));
  const warned: string[] = [];
  const r2 = await runMetrics({ ...base, window: 48, out: join(tmp, 'w2') }, { log: (l) => warned.push(l), quiet: true });
  assert.equal(r2.models[0]!.lm.window, 48);
  assert.ok(warned.some((l) => /^warning: .*--window 48 is longer than the context this model was trained at \(24\)/.test(l)), warned.join('\n'));
  const imported = join(tmp, 'imported2');
  await runTrainedAt(imported, null);
  const r3 = await runMetrics({ ...base, runs: [imported], out: join(tmp, 'w3') }, { log: () => {}, quiet: true });
  assert.deepEqual(r3.models[0]!.window, { used: 64, source: 'max-positions', trainedContext: null, warning: null });
});
