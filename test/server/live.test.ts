// The Runs table's "live" badge: a run is live while its metrics are fresh and it has neither reached its last step
// nor failed. A finished run used to show as live for a minute after its last write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunStore } from '../../src/server/runs.ts';

/** trainer_state.json naming the checkpoint at `step` as the latest (committed). */
const committed = (step: number) => (dir: string) => writeFileSync(join(dir, 'trainer_state.json'), JSON.stringify({ format: 'tinystories-run', version: 1, latest: `checkpoints/step-${step}`, step, bestValLoss: null, bestStep: null }));

/** A run directory with metrics up to `lastStep` (just written) of a `totalSteps` run. */
function fixtureRun(root: string, id: string, lastStep: number, totalSteps: number, extra: (dir: string) => void = () => {}): void {
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train_config.json'), JSON.stringify({ settings: { steps: totalSteps } }));
  const rows = [];
  for (let step = 1; step <= lastStep; step++) rows.push(JSON.stringify({ step, loss: 5 - step / 10, lr: 1e-3, tokens: step * 64, wall_s: step / 10, tokens_per_s: 640 }));
  writeFileSync(join(dir, 'metrics.jsonl'), rows.join('\n') + '\n');
  extra(dir);
}

test('fresh metrics: live while training, not live once the final checkpoint is committed or the run failed', () => {
  const root = mkdtempSync(join(tmpdir(), 'ts-live-'));
  try {
    fixtureRun(root, 'training', 10, 20, committed(8));
    fixtureRun(root, 'finished', 20, 20, committed(20));
    // metrics logged every few steps: the committed final checkpoint says the run is done
    fixtureRun(root, 'finished-sparse-log', 18, 20, committed(20));
    // resumed for more steps: rows past the final checkpoint
    fixtureRun(root, 'extended', 21, 20, committed(20));
    fixtureRun(root, 'diverged', 10, 20, (dir) => writeFileSync(join(dir, 'run_error.json'), JSON.stringify({ error: 'training diverged: the loss is NaN at step 10' })));
    const store = new RunStore(root);
    assert.equal(store.summary('training').live, true);
    assert.equal(store.summary('finished').live, false);
    assert.equal(store.summary('finished').step, 20);
    assert.equal(store.summary('finished-sparse-log').live, false);
    assert.equal(store.summary('extended').live, true);
    assert.equal(store.summary('diverged').live, false);
    assert.match(store.summary('diverged').error ?? '', /diverged/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the dashboard pages take the run types from the server (src/server/api-types.ts) instead of redeclaring them', async () => {
  const { readFileSync } = await import('node:fs');
  const page = (name: string) => readFileSync(join(import.meta.dirname, '..', '..', 'web', 'pages', name), 'utf8');
  for (const name of ['runs.ts', 'samples.ts', 'playground.ts', 'data.ts', 'evals.ts']) assert.match(page(name), /from '\.\.\/\.\.\/src\/server\/api-types\.ts'/, name);
  assert.doesNotMatch(page('runs.ts'), /interface RunRow|type Cols = Record<string, number\[\]>/);
  // the eval reports and data statistics too: no untyped stand-ins for the server's report shapes
  for (const name of ['evals.ts', 'data.ts']) assert.doesNotMatch(page(name), /: any\b|<any\b|as any\b|\bAny\b/, name);
});
