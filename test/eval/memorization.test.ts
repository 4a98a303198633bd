// Memorization: exact Rouge-k on known cases, the radix sort, and the n-gram index's retrieval against brute force
// (fixture stories; the shared TinyStories sample when present).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closestStory, NgramIndex, radixSortPairs, rougePrecision } from '../../src/eval/ngram-index.ts';
import { readDocuments } from '../../src/data/read.ts';
import { Rng } from '../../src/util/rng.ts';
import { makeStories } from '../train/fixture-stories.ts';
import { sharedData, sharedSkip } from '../helpers/shared-data.ts';

const SHARED = sharedData('tinystories');

test('Rouge-k precision on known cases (with clipped counts)', () => {
  const c = 'The cat sat on the mat.';
  const r = 'the cat sat on a mat';
  assert.equal(rougePrecision(c, r, 2), 3 / 5);
  assert.equal(rougePrecision(c, r, 3), 2 / 4);
  assert.equal(rougePrecision(c, r, 4), 1 / 3);
  assert.equal(rougePrecision('a b a b a b', 'a b', 2), 1 / 5);
  assert.equal(rougePrecision('one two', 'one two three', 4), 0);
  assert.equal(rougePrecision(c, c, 4), 1);
});

test('radix sort orders keys and keeps equal keys in input order', () => {
  const r = new Rng(1);
  const n = 5000;
  const keys = Uint32Array.from({ length: n }, () => r.nextU32() % 300);
  const vals = Uint32Array.from({ length: n }, (_, i) => i);
  const want = [...keys].map((k, i) => [k, i]).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  radixSortPairs(keys, vals);
  assert.deepEqual([...keys], want.map((w) => w[0]));
  assert.deepEqual([...vals], want.map((w) => w[1]));
  const big = Uint32Array.from([0xffffffff, 0, 0x80000000, 0x7fffffff]);
  radixSortPairs(big, new Uint32Array(4));
  assert.deepEqual([...big], [0, 0x7fffffff, 0x80000000, 0xffffffff]);
});

function bruteForce(text: string, stories: string[]) {
  return closestStory(text, stories.map((s, doc) => ({ doc, text: s })));
}

test('index candidates find the same closest story as brute force; save/load round trip', async () => {
  const stories = makeStories(400, 7).map((s, i) => `${s} Story number ${i} had a ${['red', 'blue', 'green'][i % 3]} ${['kite', 'drum', 'sock'][(i * 7) % 3]} and ${i * 13} stars.`);
  const idx = await NgramIndex.build(stories, { sample: 2, maxPostings: 1000 });
  assert.equal(idx.docs, 400);
  const r = new Rng(3);
  const queries: string[] = [];
  for (let q = 0; q < 12; q++) {
    const s = stories[r.int(stories.length)]!.split(' ');
    const a = r.int(s.length - 20);
    queries.push(`Then something new happened to a zebra. ${s.slice(a, a + 20).join(' ')} The zebra went to sleep.`);
  }
  queries.push('Completely different words about quantum chromodynamics and gauge fields appear here now.');
  for (const q of queries) {
    const cands = idx.candidates(q, 20);
    const viaIndex = closestStory(q, cands.map((c) => ({ doc: c.doc, text: stories[c.doc]! })));
    const exact = bruteForce(q, stories);
    assert.deepEqual(viaIndex.rouge, exact.rouge, q);
  }
  assert.deepEqual(idx.candidates(queries.at(-1)!), []);
  const dir = mkdtempSync(join(tmpdir(), 'ngram-'));
  try {
    idx.save(join(dir, 'i.bin'));
    const back = NgramIndex.load(join(dir, 'i.bin'));
    assert.equal(back.docs, idx.docs);
    assert.deepEqual(back.candidates(queries[0]!), idx.candidates(queries[0]!));
    assert.equal(back.memoryBytes(), idx.memoryBytes());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // stock phrases keep their count but no postings when over maxPostings
  const capped = await NgramIndex.build(stories, { sample: 1, maxPostings: 50 });
  let dropped = 0;
  for (let i = 0; i < capped.keys.length; i++) if (capped.df[i]! > 50) {
    dropped++;
    assert.equal(capped.offsets[i + 1]! - capped.offsets[i]!, 0);
  }
  assert.ok(dropped > 0);
});

test('shared sample: HF-form copies of training stories are found verbatim; V2 stories are not memorized', { skip: sharedSkip('tinystories') }, async () => {
  const train = join(SHARED, 'TinyStories-train_head2MiB_2316stories.txt');
  const idx = await NgramIndex.build(readDocuments(train), {});
  assert.equal(idx.docs > 2000, true);
  const stories: string[] = [];
  for await (const s of readDocuments(train)) stories.push(s);
  const copies: string[] = [];
  for await (const s of readDocuments(join(SHARED, 'tinystories_hf_train_first1000.txt'))) if (copies.push(s) >= 300) break;
  let exact = 0;
  for (let i = 0; i < 300; i += 15) {
    const c = idx.candidates(copies[i]!, 5);
    const best = closestStory(copies[i]!, c.map((x) => ({ doc: x.doc, text: stories[x.doc]! })));
    if (best.rouge[4] > 0.95) exact++;
  }
  assert.ok(exact >= 19, `${exact}/20 copies found`);
  const v2: string[] = [];
  for await (const s of readDocuments(join(SHARED, 'tinystoriesV2_train_first1727.txt'))) if (v2.push(s) >= 40) break;
  const r4 = v2.map((s) => closestStory(s, idx.candidates(s, 10).map((x) => ({ doc: x.doc, text: stories[x.doc]! }))).rouge[4]);
  const mean = r4.reduce((a, b) => a + b, 0) / r4.length;
  assert.ok(mean < 0.3, `V2 mean Rouge-4 ${mean}`);
});
