// Greedy golden test: the tiny seeded model's greedy story must equal the stored one exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GOLDEN_PATH, GOLDEN_VERSION, type GoldenStory, makeGoldenStory } from './golden.ts';

test('the greedy story of the golden model equals the stored fixture', async () => {
  const stored = JSON.parse(readFileSync(GOLDEN_PATH, 'utf8')) as GoldenStory;
  assert.equal(stored.version, GOLDEN_VERSION, 'fixture version differs: regenerate with npx tsx test/sample/regen-golden.ts');
  const now = await makeGoldenStory();
  assert.equal(now.finalLoss, stored.finalLoss);
  assert.deepEqual(now.ids, stored.ids);
  assert.equal(now.text, stored.text);
});
