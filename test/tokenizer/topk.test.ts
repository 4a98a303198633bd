// Top-K vocabulary restriction: frequencies, coverage, fallback id, save/load of the restricted tokenizer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer, restrictToTopK, trainBpe, type Tokenizer } from '../../src/tokenizer/index.ts';
import { UserError } from '../../src/util/errors.ts';
import { GPT2_DIR, makeStories } from './fixtures.ts';
import { hasSharedData } from '../helpers/shared-data.ts';

async function base(): Promise<Tokenizer> {
  if (hasSharedData('tokenizer', 'vocab.json')) return loadTokenizer(GPT2_DIR);
  console.log(`# ${GPT2_DIR} absent: using a tokenizer trained on fixtures as the base`);
  return trainBpe(makeStories(300), { vocabSize: 512, minFrequency: 1 });
}

test('keeps the K most frequent tokens, maps the rest to the fallback, reports coverage', async () => {
  const tok = await base();
  const corpus = makeStories(200);
  const K = 60;
  const { tokenizer: small, coverage, corpusTokens } = await restrictToTopK(tok, corpus, { k: K });
  assert.equal(small.vocabSize, K);
  const fallback = small.data.remap!.fallbackId;
  assert.equal(fallback, K - 1);
  assert.equal(small.decode([small.eotId]), '<|endoftext|>');

  // recount independently and check coverage and which tokens survived
  const counts = new Map<number, number>();
  for (const s of corpus) for (const id of tok.encode(s)) counts.set(id, (counts.get(id) ?? 0) + 1);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  assert.equal(corpusTokens, total);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, K - 2);
  const keptSet = new Set(top.map(([id]) => id));
  const keptCount = top.reduce((a, [, c]) => a + c, 0);
  assert.ok(Math.abs(coverage - keptCount / total) < 1e-12);
  assert.ok(coverage > 0.3 && coverage < 1);

  const s = corpus[0]!;
  const baseIds = tok.encode(s);
  const smallIds = small.encode(s);
  assert.equal(smallIds.length, baseIds.length);
  for (let i = 0; i < baseIds.length; i++) {
    if (keptSet.has(baseIds[i]!)) assert.equal(small.decode([smallIds[i]!]), tok.decode([baseIds[i]!]));
    else assert.equal(smallIds[i], fallback);
  }
  assert.ok(smallIds.every((id) => id >= 0 && id < K));
});

test('restricted tokenizer saves and loads with the same ids', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'topk-'));
  try {
    const { tokenizer } = await restrictToTopK(await base(), makeStories(50), { k: 100, fallback: '<unk>' });
    const path = join(dir, 'top100.json');
    tokenizer.save(path);
    const back = loadTokenizer(path);
    assert.equal(back.vocabSize, 100);
    assert.equal(back.data.remap!.fallbackContent, '<unk>');
    for (const s of makeStories(20, 99)) assert.deepEqual(back.encode(s), tokenizer.encode(s));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad K is a UserError', async () => {
  const tok = await base();
  await assert.rejects(restrictToTopK(tok, ['x'], { k: 1 }), UserError);
  await assert.rejects(restrictToTopK(tok, ['x'], { k: tok.vocabSize + 1 }), UserError);
});
