// builtin:tinystories: the embedded TinyStories V1 + V2 sample (gzip, inside the package) reads as 4,042 distinct
// real stories, carries its CDLA-Sharing-1.0 attribution, and is part of the published files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { newHygieneReport } from '../../src/data/hygiene.ts';
import { BUILTIN_TINYSTORIES_DIR, readDocuments, resolveSource } from '../../src/data/read.ts';

const root = new URL('../../', import.meta.url).pathname;

test('builtin:tinystories reads 4,043 stories, one of them a duplicate across V1 and V2', async () => {
  const report = newHygieneReport();
  const docs: string[] = [];
  for await (const d of readDocuments('builtin:tinystories', { report })) docs.push(d);
  assert.equal(docs.length, 4042);
  assert.equal(report.duplicatesRemoved, 1);
  assert.match(docs[0]!, /^One day, a little girl named Lily found a needle/);
  assert.ok(docs.some((d) => d.startsWith('Once upon a time there was a little boy named Ben')), 'the V2 file is read too');
  assert.equal(await resolveSource('builtin:tinystories'), BUILTIN_TINYSTORIES_DIR);
});

test('the sample is compressed, attributed under CDLA-Sharing-1.0, and inside the package files', () => {
  const files = readdirSync(BUILTIN_TINYSTORIES_DIR);
  const gz = files.filter((f) => f.endsWith('.txt.gz'));
  assert.equal(gz.length, 2);
  const bytes = gz.reduce((a, f) => a + statSync(join(BUILTIN_TINYSTORIES_DIR, f)).size, 0);
  assert.ok(bytes < 1.2e6, `${bytes} bytes compressed`);
  const sources = readFileSync(join(BUILTIN_TINYSTORIES_DIR, 'SOURCES.md'), 'utf8');
  assert.match(sources, /CDLA-Sharing-1\.0/);
  assert.match(sources, /Eldan/);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };
  const rel = relative(root, BUILTIN_TINYSTORIES_DIR);
  assert.ok(pkg.files.some((f) => rel === f || rel.startsWith(f.replace(/\/$/, '') + '/')), `package.json files covers ${rel}`);
});
