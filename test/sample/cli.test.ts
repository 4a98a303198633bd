// `tinystories sample` end to end: --json tokens with prob/rank, prompt from stdin, seeds, --num, bad flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { train } from '../../src/train/trainer.ts';
import { TINY_NEO, writeStoriesFile } from '../train/fixture-stories.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');
const dir = mkdtempSync(join(tmpdir(), 'sample-cli-'));
const data = join(dir, 'stories.txt');
writeStoriesFile(data, 80, 5);
writeFileSync(join(dir, 'tiny.json'), JSON.stringify(TINY_NEO));
const run = (await train({ modelConfig: join(dir, 'tiny.json'), data, out: join(dir, 'run'), vocabSize: 300, steps: 5, batchSize: 4, seqLen: 32, backend: 'ref', quiet: true }, { log: () => {} })).runDir;

const sample = (args: string[], input?: string) => spawnSync(process.execPath, [CLI, 'sample', '--run', run, ...args], { encoding: 'utf8', input });

test('--json: one line per sample with tokens, probabilities and ranks; greedy picks rank 0', () => {
  const r = sample(['--prompt', 'Once upon a time', '--temperature', '0', '--max-tokens', '8', '--json', '--num', '2']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  for (const s of lines) {
    assert.equal(s.prompt, 'Once upon a time');
    assert.ok(s.tokens.length <= 8 && ['eot', 'length'].includes(s.stop));
    assert.equal(s.tokens.map((t: { text: string }) => t.text).join(''), s.text);
    for (const t of s.tokens) {
      assert.equal(t.rank, 0);
      assert.ok(t.prob > 0 && t.prob <= 1);
    }
  }
  assert.deepEqual(lines[0].tokens, lines[1].tokens); // greedy: both samples equal
});

test('prompt from stdin, --num with a separator, the same --seed gives the same text', () => {
  const a = sample(['--seed', '4', '--max-tokens', '6', '--num', '2'], 'Tom went\n');
  assert.equal(a.status, 0, a.stderr);
  assert.ok(a.stdout.startsWith('Tom went'));
  assert.equal(a.stdout.split('\n---\n').length, 2);
  const b = sample(['--seed', '4', '--max-tokens', '6', '--num', '2'], 'Tom went\n');
  assert.equal(b.stdout, a.stdout);
  const c = sample(['Lily', '--seed', '4', '--max-tokens', '6']);
  assert.ok(c.stdout.startsWith('Lily'));
});

test('bad settings are one-line errors naming the flag', () => {
  const r = sample(['--top-p', '2']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^tinystories: --top-p: /);
  const u = sample(['--nucleus=0.5']);
  assert.match(u.stderr, /unknown option --nucleus/);
});

test('a 10,000-word prompt says that only the last context window is used (and generates from it)', () => {
  const long = Array.from({ length: 10_000 }, (_, i) => ['Tom', 'went', 'to', 'the', 'park', 'with', 'Lily'][i % 7]).join(' ');
  const r = sample(['--seed', '1', '--max-tokens', '3', '--temperature', '0', '--json'], long);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /sample: the prompt is \d+ tokens but the model's context window is 64: only the last 64 tokens of it are used/);
  assert.equal(JSON.parse(r.stdout).prompt, long);
  const short = sample(['--seed', '1', '--max-tokens', '3', '--temperature', '0', '--json'], 'Tom went to the park');
  assert.doesNotMatch(short.stderr, /context window/);
});

test('sample --help states the real default of --repetition-penalty', async () => {
  const { SAMPLE_DEFAULTS } = await import('../../src/sample/config.ts');
  const r = spawnSync(process.execPath, [CLI, 'sample', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const m = /--repetition-penalty=\S+ \(default ([\d.]+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.equal(Number(m[1]), SAMPLE_DEFAULTS.repetitionPenalty);
});
