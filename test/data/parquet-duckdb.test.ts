// Parquet as real writers produce it: files written by DuckDB (an independent implementation, like the Arrow/pandas
// writers behind Hugging Face's files) with Snappy compression and dictionary-encoded text, several row groups,
// an extra column, long and non-ASCII stories. Skips with a printed reason when @duckdb/node-api cannot load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDocuments } from '../../src/data/index.ts';
import { readParquetTexts } from '../../src/data/parquet.ts';

type DuckDb = typeof import('@duckdb/node-api');
let duck: DuckDb | undefined;
let why = '';
try {
  duck = await import('@duckdb/node-api');
} catch (e) {
  why = `@duckdb/node-api did not load (${(e as Error).message.split('\n')[0]})`;
}

/** Stories with repeats (so DuckDB dictionary-encodes them), paragraphs, quotes, accents, emoji and one long one. */
function stories(n: number): string[] {
  const base = [
    'Once upon a time, there was a little girl named Lily.\n\nShe loved to play "tag" with her dog.',
    'Tom saw a big, red ball. He said, “Can I play?” His mom said yes.',
    'Bé Lan có một con mèo. Con mèo rất thích cá. 🐟',
    'The sun was hot. Ben and Mia went to the lake — it was fun!',
    'A long story. ' + 'The bird sang and the tree grew taller every day. '.repeat(400),
  ];
  return Array.from({ length: n }, (_, i) => (i % 13 === 12 ? `Story number ${i}: a unique one.` : base[i % base.length]!));
}

/** Writes `texts` (plus an id column) with DuckDB's parquet writer. */
async function writeWithDuckDb(d: DuckDb, path: string, texts: string[], codec: 'SNAPPY' | 'ZSTD', rowGroup: number): Promise<void> {
  const inst = await d.DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  try {
    await conn.run('CREATE TABLE t (id INTEGER, text VARCHAR)');
    const app = await conn.createAppender('t');
    texts.forEach((s, i) => {
      app.appendInteger(i);
      app.appendVarchar(s);
      app.endRow();
    });
    app.closeSync();
    await conn.run(`COPY (SELECT * FROM t ORDER BY id) TO '${path.replaceAll("'", "''")}' (FORMAT PARQUET, COMPRESSION ${codec}, ROW_GROUP_SIZE ${rowGroup})`);
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

test('DuckDB-written Snappy + dictionary-encoded parquet reads back exactly, row group by row group', { skip: duck ? false : why }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-duck-'));
  try {
    const texts = stories(5000);
    const path = join(dir, 'train.parquet');
    await writeWithDuckDb(duck!, path, texts, 'SNAPPY', 2048);
    // the file really is what the test claims: several row groups, Snappy, dictionary pages for the text column
    const { asyncBufferFromFile, parquetMetadataAsync } = await import('hyparquet/src/node.js');
    const md = await parquetMetadataAsync(await asyncBufferFromFile(path));
    assert.ok(md.row_groups.length >= 3, `row groups: ${md.row_groups.length}`);
    for (const g of md.row_groups) {
      const col = g.columns.find((c) => c.meta_data?.path_in_schema.join('.') === 'text')!.meta_data!;
      assert.equal(col.codec, 'SNAPPY');
      assert.ok(col.encodings.some((e) => e === 'RLE_DICTIONARY' || e === 'PLAIN_DICTIONARY'), `encodings: ${col.encodings.join(', ')}`);
      assert.ok(col.dictionary_page_offset !== undefined, 'a dictionary page');
    }
    let bytes = 0;
    const back: string[] = [];
    for await (const s of readParquetTexts(path, (n) => (bytes += n))) back.push(s);
    assert.equal(back.length, texts.length);
    assert.deepEqual(back, texts);
    assert.ok(bytes > 0);
    // through the story reader (hygiene on, duplicates kept): the same stories in the same order
    const docs: string[] = [];
    for await (const s of readDocuments(path, { dedupe: false })) docs.push(s);
    assert.equal(docs.length, texts.length);
    assert.equal(docs[2], texts[2]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DuckDB-written ZSTD parquet (another codec Hugging Face files use) reads back exactly', { skip: duck ? false : why }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-duck-'));
  try {
    const texts = stories(300);
    const path = join(dir, 'valid.parquet');
    await writeWithDuckDb(duck!, path, texts, 'ZSTD', 100);
    const back: string[] = [];
    for await (const s of readParquetTexts(path)) back.push(s);
    assert.deepEqual(back, texts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
