// distinct-n and vocabulary adherence on texts with known answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childVocabulary, distinctN, vocabAdherence } from '../../src/eval/text-metrics.ts';
import { sharedData, sharedSkip } from '../helpers/shared-data.ts';

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

const SHARED_VOCAB = sharedData('tinystories_vocab', 'instruction_words_data00-04.txt');
const SHARED_STORIES = sharedData('tinystories', 'tinystoriesV2_train_first1727.txt');

test('real TinyStories stay inside the child vocabulary (with the released instruction words)', { skip: sharedSkip(['tinystories_vocab', 'instruction_words_data00-04.txt'], ['tinystories', 'tinystoriesV2_train_first1727.txt']) }, async () => {
  const { readDocuments } = await import('../../src/data/read.ts');
  const stories: string[] = [];
  for await (const s of readDocuments(SHARED_STORIES)) if (stories.push(s) >= 300) break;
  const withShared = vocabAdherence(stories, childVocabulary(SHARED_VOCAB));
  const builtinOnly = vocabAdherence(stories, childVocabulary());
  assert.ok(withShared.oovShare < 0.05, `OOV ${withShared.oovShare}`);
  assert.ok(withShared.oovShare <= builtinOnly.oovShare);
  const adult = vocabAdherence(['The committee ratified the amendment notwithstanding considerable bureaucratic opposition.'], childVocabulary(SHARED_VOCAB));
  assert.ok(adult.oovShare > 0.5, `adult text OOV ${adult.oovShare}`);
});
