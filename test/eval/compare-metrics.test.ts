// `eval compare` on `eval metrics` reports: models side by side with nats/token and bits per byte; reports scored
// on different held-out data are flagged (an error with --strict).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareMetricsReports, isMetricsReport } from '../../src/eval/compare.ts';
import { METRICS_DEFAULTS, runMetrics } from '../../src/eval/metrics.ts';
import { makeRun, writeStories } from './fixture-runs.ts';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'compare-metrics-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const a = join(tmp, 'a');
const b = join(tmp, 'b');
await makeRun(a, { dim: 16, steps: [5], seed: 1 });
await makeRun(b, { dim: 16, steps: [5], seed: 2 });
const heldOut = join(tmp, 'valid.txt');
const other = join(tmp, 'other.txt');
writeStories(heldOut, 5, 99);
writeStories(other, 5, 98);
const quiet = { quiet: true, log: () => {} };
const base = { ...METRICS_DEFAULTS, generate: false, data: heldOut };
await runMetrics({ ...base, runs: [a], out: join(tmp, 'ra') }, quiet);
await runMetrics({ ...base, runs: [b], out: join(tmp, 'rb') }, quiet);
await runMetrics({ ...base, runs: [b], data: other, out: join(tmp, 'rc') }, quiet);

test('two metrics reports merge into one with loss and bits per byte per model', () => {
  assert.equal(isMetricsReport(join(tmp, 'ra')), true);
  const { report, issues } = compareMetricsReports([join(tmp, 'ra'), join(tmp, 'rb')], join(tmp, 'cmp'));
  assert.deepEqual(issues, []);
  assert.deepEqual(report.models.map((m) => m.id), ['a', 'b']);
  for (const m of report.models) assert.ok(m.lm.bitsPerByte! > 0 && Number.isFinite(m.lm.bitsPerByte!));
  const html = readFileSync(join(tmp, 'cmp', 'report.html'), 'utf8');
  assert.match(html, /bits\/byte/);
});

test('different held-out data is listed as an issue, and refused with --strict', () => {
  const { issues } = compareMetricsReports([join(tmp, 'ra'), join(tmp, 'rc')], join(tmp, 'cmp2'));
  assert.equal(issues.length, 1);
  assert.match(issues[0]!, /^held-out data: /);
  assert.throws(() => compareMetricsReports([join(tmp, 'ra'), join(tmp, 'rc')], join(tmp, 'cmp3'), true), /not measured the same way: held-out data/);
});

test('CLI: eval compare prints nats/token and bits/byte per model', () => {
  const r = spawnSync(process.execPath, ['bin/tinystories.mjs', 'eval', 'compare', join(tmp, 'ra'), join(tmp, 'rb'), '--out', join(tmp, 'cmp4')], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^a: loss \d+\.\d{4} nats\/token, \d+\.\d{4} bits\/byte \(window 64, /m);
  assert.match(r.stdout, /^b: loss /m);
});
