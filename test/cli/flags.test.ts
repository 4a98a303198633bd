// The CLI's one set of flag parsers (src/cli/_flags.ts): numbers with ranges, backend kinds, thread counts capped
// at the core count; and the commands that use them refuse bad values with one line naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { BACKEND_KINDS, intArg, num, numArg, parseBackendKind, parseNumber, parseThreads } from '../../src/cli/_flags.ts';
import { openBackend } from '../../src/engine/open-backend.ts';
import { UserError } from '../../src/util/errors.ts';
import { resolveThreads } from '../../src/util/threads.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'tinystories.mjs');
const userError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message);

test('numbers: ranges, integers and blanks are checked, and the error names the flag and the value', () => {
  assert.equal(parseNumber('--top-p', '0.9', { min: 0, max: 1 }), 0.9);
  assert.throws(() => parseNumber('--top-p', '2', { min: 0, max: 1 }), userError(/^--top-p: expected a number in \[0, 1\], got "2"$/));
  assert.throws(() => parseNumber('--n', '', { int: true }), userError(/^--n: expected an integer, got ""$/));
  assert.throws(() => parseNumber('--n', '1.5', { int: true, min: 1 }), userError(/^--n: expected an integer >= 1, got "1.5"$/));
  assert.throws(() => numArg('--val-fraction', { min: 0, below: 1 })('1'), userError(/^--val-fraction: expected a number in \[0, 1\), got "1"$/));
  assert.equal(intArg('--k', 3)('10'), 10);
  // num: absent stays undefined; negatives are refused unless the range allows them
  assert.equal(num('--x', undefined), undefined);
  assert.throws(() => num('--x', '-1'), userError(/>= 0/));
  assert.equal(num('--x', '-1', { min: -5 }), -1);
});

test('--backend: every known kind parses; anything else is an error, not a silent auto', () => {
  for (const k of BACKEND_KINDS) assert.equal(parseBackendKind(k), k);
  assert.equal(parseBackendKind(undefined), 'auto');
  assert.throws(() => parseBackendKind('gpu'), userError(/^--backend: expected auto, wasm, ref.*, got "gpu"$/));
});

test('thread counts above the core count are capped with a note; 0 means all cores', async () => {
  const notes: string[] = [];
  assert.equal(resolveThreads(999, '--threads', (l) => notes.push(l), 2), 2);
  assert.deepEqual(notes, ['note: --threads 999 is more than the 2 cores of this machine; using 2']);
  assert.equal(resolveThreads(0, '--threads', (l) => notes.push(l), 4), 4);
  assert.equal(resolveThreads(3, '--threads', (l) => notes.push(l), 4), 3);
  assert.equal(notes.length, 1);
  assert.equal(parseThreads('--threads', '999', 1, (l) => notes.push(l)), availableParallelism());
  // the backends every command opens go through the same cap (999 WASM workers once took ~8 GB)
  const log: string[] = [];
  const b = await openBackend('wasm', 999, (l) => log.push(l));
  try {
    assert.equal(b.threads, availableParallelism());
    assert.ok(log.some((l) => /--threads 999 is more than the \d+ cores? of this machine/.test(l)), log.join('\n'));
  } finally {
    b.dispose();
  }
});

test('gsm eval refuses an unknown --backend (it used to act as auto)', () => {
  for (const cmd of [['gsm', 'eval', '--data', 'x.jsonl', '--out', 'o']]) {
    const r = spawnSync(process.execPath, [CLI, ...cmd, '--run', 'nowhere', '--backend', 'gpu'], { encoding: 'utf8', cwd: ROOT });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^tinystories: --backend: expected auto, wasm, ref.*, got "gpu"\n$/);
  }
});

test('no command file under src/cli declares its own number or backend parser', () => {
  const dir = join(ROOT, 'src', 'cli');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== '_flags.ts')) {
    const src = readFileSync(join(dir, f), 'utf8');
    assert.doesNotMatch(src, /function (num|optNum|int|intFlag|fractionFlag|backendKind)\(/, `${f} declares its own flag parser`);
    assert.doesNotMatch(src, /as BackendKind/, `${f} casts --backend instead of parsing it`);
  }
});
