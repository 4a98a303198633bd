// Exact and near-duplicate detection with MinHash/LSH.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NearDuplicateIndex } from '../../src/synth/dedup.ts';
import { words } from '../../src/synth/vocab.ts';
import { Rng } from '../../src/util/rng.ts';

const VOCAB = 'the a dog cat ran played big small happy sad tree park ball mom dad said went home day sun sky bird sang song jumped friend kind'.split(' ');
function story(rng: Rng, n = 120): string {
  return Array.from({ length: n }, () => VOCAB[rng.int(VOCAB.length)]).join(' ');
}
function jaccard(a: string, b: string, k = 5): number {
  const sh = (s: string) => {
    const w = words(s);
    const out = new Set<string>();
    for (let i = 0; i + k <= w.length; i++) out.add(w.slice(i, i + k).join(' '));
    return out;
  };
  const A = sh(a);
  const B = sh(b);
  let inter = 0;
  for (const x of A) if (B.has(x)) inter++;
  return inter / (A.size + B.size - inter);
}

test('exact duplicates ignore case and spacing; near duplicates are found; different stories are not', () => {
  const rng = new Rng(3);
  const idx = new NearDuplicateIndex();
  const stories = Array.from({ length: 300 }, () => story(rng));
  stories.forEach((s, i) => idx.add(`s${i}`, s));
  assert.equal(idx.check(stories[10]!.toUpperCase().replace(/ /g, '  '))?.kind, 'exact');
  // change 2 words out of 120: Jaccard of 5-shingles stays around 0.85
  const w = stories[42]!.split(' ');
  w[30] = 'zebra';
  w[90] = 'zebra';
  const near = w.join(' ');
  assert.ok(jaccard(near, stories[42]!) > 0.8);
  const hit = idx.check(near);
  assert.equal(hit?.kind, 'near');
  assert.equal(hit?.of, 's42');
  let falsePositives = 0;
  for (let i = 0; i < 200; i++) if (idx.check(story(rng))) falsePositives++;
  assert.equal(falsePositives, 0);
});

test('signature similarity estimates the shingle Jaccard', () => {
  const rng = new Rng(11);
  const idx = new NearDuplicateIndex({ numPerm: 256, bands: 32 });
  const base = story(rng, 200).split(' ');
  for (const changes of [0, 5, 15, 40]) {
    const other = base.slice();
    for (let c = 0; c < changes; c++) other[rng.int(other.length)] = 'zebra';
    const a = base.join(' ');
    const b = other.join(' ');
    const est = NearDuplicateIndex.similarity(idx.signature(a), idx.signature(b));
    assert.ok(Math.abs(est - jaccard(a, b)) < 0.1, `changes ${changes}: est ${est} vs ${jaccard(a, b)}`);
  }
});

test('threshold decides: a story at ~0.5 Jaccard is kept at 0.8, flagged at 0.4', () => {
  const rng = new Rng(5);
  const a = story(rng, 200).split(' ');
  const b = a.slice();
  for (let i = 0; i < 200; i += 14) b[i] = 'zebra';
  const j = jaccard(a.join(' '), b.join(' '));
  assert.ok(j > 0.4 && j < 0.7, String(j));
  const strict = new NearDuplicateIndex({ threshold: 0.8 });
  strict.add('a', a.join(' '));
  assert.equal(strict.check(b.join(' ')), undefined);
  const loose = new NearDuplicateIndex({ threshold: 0.4, numPerm: 128, bands: 32 });
  loose.add('a', a.join(' '));
  assert.equal(loose.check(b.join(' '))?.kind, 'near');
});
