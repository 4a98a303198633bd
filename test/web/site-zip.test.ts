// The site's run export format: the store-only zip writer (src/util/zip.ts) read back by the interop reader and
// checked by an independent implementation (Python's zipfile verifies every CRC-32), when python3 is present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, readZip, writeZip } from '../../src/util/zip.ts';

const python = (() => {
  try {
    execFileSync('python3', ['-c', 'import zipfile'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const entries = [
  { name: 'config.json', data: new TextEncoder().encode('{"model_type": "llama"}\n') },
  { name: 'model.safetensors', data: Uint8Array.from({ length: 70_001 }, (_, i) => (i * 31) & 0xff) },
  { name: 'dir/tokenizer – ünïcode.json', data: new Uint8Array(0) },
];

test('crc32 gives the standard check value for "123456789"', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
});

test('a written zip reads back entry for entry, byte for byte, and is the same bytes every time', () => {
  const zip = writeZip(entries);
  const back = readZip(zip, 'test.zip');
  assert.deepEqual([...back.keys()], entries.map((e) => e.name));
  for (const e of entries) assert.deepEqual(back.get(e.name)!.data, e.data);
  assert.deepEqual(writeZip(entries), zip);
});

test('Python\'s zipfile opens the archive and finds every CRC-32 correct', { skip: python ? false : 'python3 not found' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-zip-'));
  try {
    const p = join(dir, 'run.zip');
    writeFileSync(p, writeZip(entries));
    const out = execFileSync('python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.testzip(), [i.file_size for i in z.infolist()], z.namelist()[2])', p], { encoding: 'utf8' });
    assert.equal(out.trim(), `None [${entries.map((e) => e.data.length).join(', ')}] ${entries[2]!.name}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
