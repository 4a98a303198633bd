// The test runner's fast tier (`npm test -- --fast`): slow files are left out, the list of slow files names only
// files that exist, and the whole suite stays the default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
// @ts-expect-error: a plain .mjs script without type declarations
import { FAST_EXCEPTIONS, isSlow, SLOW } from '../../scripts/run-tests.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
function testFiles(dir = join(ROOT, 'test')): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.ts')) out.push(relative(ROOT, p).split('\\').join('/'));
  }
  return out;
}

test('every entry of the slow list names existing test files, and the fast tier leaves exactly those out', () => {
  const files = testFiles();
  for (const prefix of Object.keys(SLOW as Record<string, string>)) assert.ok(files.some((f) => f.startsWith(prefix)), `SLOW names ${prefix}, which matches no test file`);
  for (const f of FAST_EXCEPTIONS as string[]) assert.ok(files.includes(f), `FAST_EXCEPTIONS names ${f}, which does not exist`);
  assert.equal(isSlow('test/sandbox/sandbox.test.ts'), true);
  assert.equal(isSlow('test/train/resume.test.ts'), true);
  assert.equal(isSlow('test/train/schedule.test.ts'), false);
  assert.equal(isSlow('test/util/run-tests.test.ts'), false);
  const fast = files.filter((f) => !isSlow(f));
  assert.ok(fast.length >= 20 && fast.length < files.length, `${fast.length} fast of ${files.length}`);
});

test('--fast with a filter that matches only slow files says so and fails; without --fast the same filter runs them', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'run-tests.mjs'), '--fast', 'test/sandbox/'], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no test files found under test\/ matching test\/sandbox\/ in the fast tier/);
  const one = spawnSync(process.execPath, [join(ROOT, 'scripts', 'run-tests.mjs'), '--fast', 'test/util/atomic.test.ts'], { encoding: 'utf8', cwd: ROOT });
  assert.equal(one.status, 0, one.stdout + one.stderr);
  assert.match(one.stdout, /run-tests: 1 test files \(fast tier: 0 slow files left out/);
});
