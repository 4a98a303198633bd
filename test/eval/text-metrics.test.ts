// distinct-n and vocabulary adherence on texts with known answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childVocabulary, distinctN, vocabAdherence } from '../../src/eval/text-metrics.ts';

test('distinct-n pools n-grams over texts', () => {
  assert.deepEqual(distinctN(['a b a b'], 1), { distinct: 0.5, unique: 2, total: 4 });
  assert.deepEqual(distinctN(['a b a b', 'c'], 2), { distinct: 2 / 3, unique: 2, total: 3 });
  assert.ok(Number.isNaN(distinctN(['x'], 2).distinct));
});

test('vocabulary adherence: names left out, possessives reduced, OOV words listed', () => {
  const vocab = new Set(['the', 'dog', 'was', 'happy', 'on', 'hill', 'saw']);
  const v = vocabAdherence(['The dog was happy on the zorgle hill. Lily saw the dog\'s zorgle.'], vocab);
  // counted: the dog was happy on the zorgle hill saw the dog's zorgle = 12 (Lily is a name); OOV: zorgle ×2
  assert.equal(v.words, 12);
  assert.equal(v.oovShare, 2 / 12);
  assert.deepEqual(v.topOov, [{ word: 'zorgle', count: 2 }]);
  const child = childVocabulary();
  const c = vocabAdherence(['The dog jumped and played.', 'They saw photosynthesis, it was mitochondrial.'], child);
  assert.deepEqual(c.topOov.map((o) => o.word).sort(), ['mitochondrial', 'photosynthesis']);
  assert.equal(c.perText.n, 2);
  assert.equal(c.perText.min, 0);
});
