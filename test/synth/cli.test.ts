// The generate CLI surface: --dry-run prompts and cost estimate, --report, and one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
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
  const c = cli(['generate', '--count', 'many', '--out', '/tmp/x', '--model', 'm']);
  assert.equal(c.stderr.trim(), 'tinystories: --count: expected an integer >= 1, got "many"');
  const d = cli(['generate', '--report', tmpdir()]);
  assert.match(d.stderr.trim(), /^tinystories: .*no journal\.sqlite here/);
});
