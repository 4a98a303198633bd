// Atomic writes: the target gets all of the new content or keeps the old, and no temp file is ever left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeFileAtomicSync } from '../../src/util/atomic.ts';

test('writes replace the old content whole, in new and existing directories', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
  const p = join(dir, 'sub', 'a.txt');
  writeFileAtomicSync(p, 'old');
  assert.equal(readFileSync(p, 'utf8'), 'old');
  await writeFileAtomic(p, [Buffer.from('ne'), Buffer.from('w')]);
  assert.equal(readFileSync(p, 'utf8'), 'new');
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['a.txt']);
});

test('a failed rename (target is a directory) throws and leaves no temp file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
  const target = join(dir, 'taken');
  mkdirSync(target);
  writeFileSync(join(target, 'inside'), 'x');
  assert.throws(() => writeFileAtomicSync(target, 'data'));
  await assert.rejects(writeFileAtomic(target, 'data'));
  assert.deepEqual(readdirSync(dir), ['taken']);
});
