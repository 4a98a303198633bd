// The generate CLI surface: --dry-run prompts and cost estimate, --report, and one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const root = join(import.meta.dirname, '..', '..');
const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
  spawnSync(process.execPath, ['bin/tinystories.mjs', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });

test('generate --dry-run prints seeded prompts and an estimate, sends nothing, needs no key', () => {
  const args = ['generate', '--dry-run', '--count', '1000', '--model', 'gpt-4o-mini', '--seed', '5', '--show', '3', '--lang', 'vi'];
  const a = cli(args, { OPENAI_API_KEY: undefined });
  assert.equal(a.status, 0, a.stderr);
  assert.equal((a.stdout.match(/^--- ts-s5-\d{7}-a0/gm) ?? []).length, 3);
  assert.match(a.stdout, /Hãy viết một câu chuyện ngắn/);
  assert.match(a.stdout, /estimate: 1000 records, ~1050 story requests/);
  assert.match(a.stdout, /cost: ~\$0\.\d+; at most ~\$\d/);
  const b = cli(args, { OPENAI_API_KEY: undefined });
  assert.equal(b.stdout, a.stdout, 'same seed, same prompts');
});

test('errors are one clear line; --report on a non-run directory says so', () => {
  const r = cli(['generate', '--count', '5', '--out', mkdtempSync(join(tmpdir(), 'ts-cli-')), '--model', 'gpt-4o-mini'], { OPENAI_API_KEY: undefined });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim(), 'tinystories: OPENAI_API_KEY is not set; export it (keys are read from the environment only)');
  // a fresh path: a fixed one such as /tmp/x may already exist as a file on the machine running the tests
  const c = cli(['generate', '--count', 'many', '--out', join(mkdtempSync(join(tmpdir(), 'ts-cli-')), 'run'), '--model', 'm']);
  assert.equal(c.stderr.trim(), 'tinystories: --count: expected an integer >= 1, got "many"');
  const d = cli(['generate', '--report', tmpdir()]);
  assert.match(d.stderr.trim(), /^tinystories: .*no journal\.sqlite here/);
});

test('bad --base-url, --out that is a file, and a bad --max-tokens in --dry-run fail up front with one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-cli-'));
  const key = { OPENAI_API_KEY: 'test-key' };
  // before: a malformed URL was only seen as connection errors, retried for minutes
  for (const url of ['notaurl', 'ftp://127.0.0.1/v1']) {
    const r = cli(['generate', '--count', '1', '--out', join(dir, 'run'), '--model', 'm', '--base-url', url, '--max-retries', '0'], key);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim(), `tinystories: --base-url: expected an http:// or https:// URL such as http://127.0.0.1:8000/v1, got "${url}"`);
  }
  // before: a raw "EEXIST: file already exists, mkdir ..."
  const file = join(dir, 'stories.jsonl');
  writeFileSync(file, '{"story":"Once upon a time."}\n');
  for (const args of [
    ['generate', '--count', '1', '--out', file, '--model', 'm', '--base-url', 'http://127.0.0.1:9/v1'],
    ['translate', '--in', file, '--out', file, '--model', 'm', '--base-url', 'http://127.0.0.1:9/v1'],
  ]) {
    const r = cli(args, key);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim(), `tinystories: --out ${file}: is a file; expected a directory (new or existing)`);
  }
  // before: exit 0 with "at most ~$NaN if every story used --max-tokens NaN"
  const nan = cli(['generate', '--dry-run', '--count', '2', '--model', 'gpt-4o-mini', '--max-tokens', 'abc']);
  assert.equal(nan.status, 1);
  assert.equal(nan.stderr.trim(), 'tinystories: --max-tokens: expected an integer >= 1, got "abc"');
  assert.doesNotMatch(nan.stdout, /NaN/);
  // before: the prompts were printed first, then the error
  const prices = cli(['generate', '--dry-run', '--count', '2', '--prices', join(dir, 'missing.json')]);
  assert.equal(prices.status, 1);
  assert.equal(prices.stdout, '');
  assert.match(prices.stderr.trim(), /^tinystories: .*missing\.json: cannot read price table/);
});
