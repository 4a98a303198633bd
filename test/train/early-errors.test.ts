// Bad train/quickstart settings fail at once: one line naming the flag or file, exit 1, before any tokenizer or data work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/train/trainer.ts';
import { TINY_NEO, writeStoriesFile } from './fixture-stories.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');
const dir = mkdtempSync(join(tmpdir(), 'train-early-'));
const data = join(dir, 'stories.txt');
writeStoriesFile(data, 60, 3);
// port 9 (discard) refuses connections: an offline hub without touching the network
const env = { ...process.env, TINYSTORIES_HF_ENDPOINT: 'http://127.0.0.1:9', TINYSTORIES_CACHE: join(dir, 'cache') };
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 60_000 });

/** Exit 1 with exactly one stderr line matching `line`, no tokenizer/download work started, and no run dir made. */
function assertEarlyError(r: ReturnType<typeof cli>, line: RegExp, out: string): void {
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0]!, line);
  assert.ok(!existsSync(out), `${out} should not have been created`);
}

test('train: an unknown --preset is reported before the tokenizer is trained', () => {
  const out = join(dir, 'preset');
  assertEarlyError(cli(['train', '--preset', '2M', '--data', 'builtin:mini', '--out', out, '--steps', '1']), /^tinystories: --preset: unknown model preset "2M"; expected one of .*gpt-neo-1M/, out);
});

test('train: a missing, unreadable or invalid --model-config names the file before any data work', () => {
  const out = join(dir, 'mc');
  assertEarlyError(cli(['train', '--model-config', join(dir, 'nope.json'), '--data', data, '--out', out]), /^tinystories: .*nope\.json: model config file not found$/, out);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ ...TINY_NEO, nHeads: 5 }));
  assertEarlyError(cli(['train', '--model-config', bad, '--data', data, '--out', out]), /^tinystories: .*bad\.json: dim 32 is not divisible by nHeads 5$/, out);
  const notObject = join(dir, 'null.json');
  writeFileSync(notObject, 'null');
  assertEarlyError(cli(['train', '--model-config', notObject, '--data', data, '--out', out]), /^tinystories: .*null\.json: expected a JSON object/, out);
  assertEarlyError(cli(['train', '--model-config', dir, '--data', data, '--out', out]), /^tinystories: .*: cannot read the model config \(EISDIR\)$/, out);
});

test('train: a missing --data or --tokenizer is reported before the run directory is made', () => {
  const out = join(dir, 'data');
  assertEarlyError(cli(['train', '--preset', '1M', '--data', join(dir, 'missing.txt'), '--out', out, '--steps', '1']), /^tinystories: --data: .*missing\.txt: no such file or directory/, out);
  assertEarlyError(cli(['train', '--preset', '1M', '--data', 'builtin:nope', '--out', out, '--steps', '1']), /^tinystories: --data: builtin:nope: unknown builtin corpus/, out);
  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  const r = cli(['train', '--preset', '1M', '--data', data, '--out', join(file, 'run'), '--steps', '1']);
  assert.equal(r.status, 1);
  assert.match(r.stderr.trim(), /^tinystories: --out: .*a-file\/run: cannot create the run directory \(ENOTDIR\)$/);
  assertEarlyError(cli(['train', '--preset', '1M', '--data', data, '--tokenizer', join(dir, 'tok.json'), '--out', out]), /^tinystories: --tokenizer: .*tok\.json: file not found$/, out);
});

test('train --resume: another --out is refused instead of being silently ignored; another --model-config is refused', async () => {
  const neo = join(dir, 'neo.json');
  writeFileSync(neo, JSON.stringify(TINY_NEO));
  const settings = { modelConfig: neo, data, out: join(dir, 'run'), vocabSize: 300, steps: 2, batchSize: 2, seqLen: 16, backend: 'ref' as const, quiet: true, valEvery: 0, sampleEvery: 0 };
  const run = (await train(settings, { log: () => {} })).runDir;
  const elsewhere = join(dir, 'elsewhere');
  assertEarlyError(cli(['train', '--resume', run, '--steps', '3', '--out', elsewhere]), /^tinystories: --out: a resumed run stays in /, elsewhere);
  const p = cli(['train', '--resume', run, '--model-config', join(dir, 'other.json')]);
  assert.equal(p.status, 1);
  assert.match(p.stderr.trim(), /^tinystories: --resume: --model-config was ".*neo\.json" in this run; it cannot change/);
  const notRun = cli(['train', '--resume', dir]);
  assert.equal(notRun.status, 1);
  assert.match(notRun.stderr.trim(), /^tinystories: .*: not a run directory \(no train_config\.json\)$/);
});

test('quickstart: an unknown --preset or an --out holding a run is reported before the download', () => {
  const out = join(dir, 'qs');
  assertEarlyError(cli(['quickstart', '--minutes', '0.01', '--out', out, '--preset=2M', '--download-timeout=5']), /^tinystories: --preset: unknown model preset "2M"/, out);
  const r = cli(['quickstart', '--minutes', '0.01', '--out', join(dir, 'run'), '--download-timeout=5']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^tinystories: --out: .*run already holds a run/m);
  assert.doesNotMatch(r.stderr, /downloading|offline/);
});
