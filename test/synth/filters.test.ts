// Quality filters, one by one, on hand-written stories; Vietnamese NFC; real stories pass when the data is present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildVocabulary, checkStory, cleanStory, isRefusal, languageMatches, oovShare } from '../../src/synth/filters.ts';
import { inflections, words } from '../../src/synth/vocab.ts';
import { loadWordLists, wordListsFor } from '../../src/synth/words.ts';
import { sharedData, sharedSkip } from '../helpers/shared-data.ts';

const lists = loadWordLists(join(import.meta.dirname, 'fixtures', 'words-en.json'));
const vocab = buildVocabulary(lists, 'en');
const viLists = loadWordLists(join(import.meta.dirname, 'fixtures', 'words-vi.json'));
const viVocab = buildVocabulary(viLists, 'vi');

const good =
  'Once upon a time, there was a little girl named Mia. Mia had a red ball. She liked to play with it in the park.\n' +
  'One day, the ball went up into a big tree. Mia was sad. "Can you help me?" she asked her friend Ben.\n' +
  'Ben was kind. He liked to climb. He went up the tree and got the ball. Mia was happy and gave Ben a hug.\n' +
  'They played with the ball all day. In the end, they shared the ball and had a nice nap.';

test('a good story passes; each filter fires on its own defect', () => {
  const req = ['climb', 'ball', 'red'];
  const opts = { lang: 'en' as const };
  assert.equal(checkStory(good, req, vocab, opts), undefined);
  assert.equal(checkStory('', req, vocab, opts), 'empty');
  assert.equal(checkStory("I'm sorry, but I can't write that story.", req, vocab, opts), 'refusal');
  assert.equal(checkStory('Mia had a red ball. She liked to climb.', req, vocab, opts), 'too_short');
  assert.equal(checkStory(good, req, vocab, { ...opts, maxWords: 50 }), 'too_long');
  assert.equal(checkStory(good, ['swim', 'ball', 'red'], vocab, opts), 'missing_words');
  const fancy = good.replace('They played with the ball all day.', 'Subsequently, their extraordinary perambulations encompassed magnificent botanical conservatories, labyrinthine promenades, ornamental fountains and melancholic philosophical contemplations regarding ephemeral existence, mortality, transcendence.');
  assert.equal(checkStory(fancy, req, vocab, { ...opts, maxOovShare: 0.15 }), 'oov');
  assert.equal(checkStory(fancy, req, vocab, { ...opts, maxOovShare: 1 }), undefined);
  const french = 'Il était une fois une petite fille qui aimait jouer avec une balle rouge dans le parc. '.repeat(6) + 'climb ball red';
  assert.equal(checkStory(french, req, vocab, opts), 'language');
});

test('required words may be inflected', () => {
  const opts = { lang: 'en' as const };
  const s = good.replace('He liked to climb.', 'He climbed fast.').replace('Mia had a red ball.', 'Mia had two red balls.');
  assert.equal(checkStory(s, ['climb', 'ball', 'red'], vocab, opts), undefined);
  for (const [w, f] of [['hang', 'hung'], ['foot', 'feet'], ['happy', 'happier'], ['stop', 'stopped'], ['bake', 'baking'], ['cry', 'cried'], ['box', 'boxes'], ['big', 'biggest']]) {
    assert.ok(inflections(w!).has(f!), `${w} -> ${f}`);
  }
  assert.ok(!inflections('cat').has('catch'));
});

test('meta-text is stripped, refusals are recognised', () => {
  const wrapped = "Sure! Here's a short story for you:\n\n**The Red Ball**\n\n" + good + '\n\nI hope you enjoyed this story!';
  const c = cleanStory(wrapped);
  assert.equal(c.text, good);
  assert.equal(c.stripped, true);
  assert.equal(cleanStory(good).stripped, false);
  assert.ok(isRefusal("I'm sorry, but I can't help with that request."));
  assert.ok(!isRefusal(good + ' "I am sorry," said Ben. ' + good));
});

test('Vietnamese: NFC output from decomposed input, language check, word check on syllables', () => {
  const story =
    'Ngày xưa, có một bạn nhỏ tên là Lan. Lan có một con mèo rất dễ thương. Lan thích chơi với con mèo trong công viên.\n' +
    'Một hôm, con mèo chạy lên cái cây. Lan buồn lắm. "Bạn giúp mình nhé!" Lan nói với bạn Nam.\n' +
    'Nam rất tốt bụng. Nam leo lên cây và ôm con mèo xuống. Lan vui lắm. Hai bạn cùng chơi cả ngày.';
  const decomposed = story.normalize('NFD');
  assert.notEqual(decomposed, story);
  const c = cleanStory(decomposed);
  assert.equal(c.text, story);
  assert.equal(c.text, c.text.normalize('NFC'));
  assert.ok(languageMatches(story, 'vi'));
  assert.ok(!languageMatches(story, 'en'));
  assert.ok(!languageMatches(good, 'vi'));
  assert.equal(checkStory(c.text, ['chơi', 'con mèo', 'dễ thương'], viVocab, { lang: 'vi', minWords: 30, maxOovShare: 0.6 }), undefined);
  assert.equal(checkStory(c.text, ['bơi', 'con mèo', 'dễ thương'], viVocab, { lang: 'vi', minWords: 30, maxOovShare: 0.6 }), 'missing_words');
  // the word check is on whole syllables: "ôm" does not match inside "ômg"
  assert.deepEqual(words('Cô bé ôm con mèo.'), ['cô', 'bé', 'ôm', 'con', 'mèo']);
});

test('names do not count as out-of-vocabulary', () => {
  assert.equal(oovShare('Zorblax and Quintessa play with a ball. Zorblax is happy.', vocab), 0);
  assert.ok(oovShare('They play with a zorblax.', vocab) > 0.15);
});

test('real TinyStories stories pass the filters with the bundled list and with the real data\'s word list', (t) => {
  const storiesPath = sharedData('tinystories', 'tinystories_hf_train_first1000.txt');
  const wordsPath = sharedData('tinystories_vocab', 'instruction_words_data00-04.txt');
  const skip = sharedSkip(['tinystories', 'tinystories_hf_train_first1000.txt'], ['tinystories_vocab', 'instruction_words_data00-04.txt']);
  if (skip) return t.skip(skip);
  const wl = readFileSync(wordsPath, 'utf8').split('\n').filter(Boolean);
  const stories = readFileSync(storiesPath, 'utf8').split('<|endoftext|>').map((s) => s.trim()).filter(Boolean);
  for (const v of [buildVocabulary({ nouns: wl, verbs: [], adjectives: [] }, 'en'), buildVocabulary(wordListsFor('en'), 'en')]) {
    const failed = stories.filter((s) => checkStory(cleanStory(s).text, [], v, { lang: 'en' }) !== undefined);
    assert.ok(failed.length / stories.length < 0.005, `${failed.length}/${stories.length} real stories rejected`);
  }
});
