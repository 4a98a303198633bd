// Prompt templates and seeded sampling: the released data's exact wording, the paper's, user templates, features.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderPrompt, resolveTemplate, samplePromptSpec, TEMPLATES } from '../../src/synth/prompts.ts';
import { FEATURES, featureDistributionFromFile, uniformFeatures } from '../../src/synth/features.ts';
import { loadWordLists } from '../../src/synth/words.ts';
import { Rng } from '../../src/util/rng.ts';
import { sharedData, sharedSkip } from '../helpers/shared-data.ts';

const lists = loadWordLists(join(import.meta.dirname, 'fixtures', 'words-en.json'));
const VOCAB = sharedData('tinystories_vocab');

test('the same seed gives the same prompts; another seed gives others', () => {
  const f = uniformFeatures();
  const a = Array.from({ length: 50 }, (_, i) => samplePromptSpec(1, i, lists, f));
  const b = Array.from({ length: 50 }, (_, i) => samplePromptSpec(1, i, lists, f));
  const c = Array.from({ length: 50 }, (_, i) => samplePromptSpec(2, i, lists, f));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // random access: index 37 alone equals index 37 in sequence
  assert.deepEqual(samplePromptSpec(1, 37, lists, f), a[37]);
  for (const s of a) {
    assert.ok(lists.verbs.includes(s.words[0]) && lists.nouns.includes(s.words[1]) && lists.adjectives.includes(s.words[2]));
  }
  // words are spread over the lists
  assert.ok(new Set(a.map((s) => s.words[0])).size > 15);
});

test('data wording reproduces the real record byte for byte; paper wording matches the paper', (t) => {
  const spec = { words: ['hang', 'foot', 'cute'] as [string, string, string], features: ['Dialogue' as const] };
  const data = renderPrompt(TEMPLATES.en.data, spec, 'en');
  assert.equal(data, 'Write a short story (3-5 paragraphs) which only uses very simple words that a 3 year old child would understand. The story should use the verb "hang", the noun "foot" and the adjective "cute". The story has the following features: the story should contain at least one dialogue. Remember to only use simple words!\n\nPossible story:');
  const paper = renderPrompt(TEMPLATES.en.paper, { words: ['decorate', 'thunder', 'ancient'], features: ['Dialogue', 'BadEnding'] }, 'en');
  assert.equal(paper, 'Write a short story (3-5 paragraphs) which only uses very simple words that a 3 year old child would likely understand. The story should use the verb "decorate", the noun "thunder" and the adjective "ancient". The story should have the following features: the story should contain at least one dialogue, the story has a bad ending. Remember to only use simple words!');
  const none = renderPrompt(TEMPLATES.en.data, { ...spec, features: [] }, 'en');
  assert.ok(!none.includes('features') && none.includes('"cute". Remember'));
  const path = join(VOCAB, 'example_all_data_record.json');
  const skip = sharedSkip(['tinystories_vocab', 'example_all_data_record.json']);
  if (skip) return t.skip(skip);
  const rec = JSON.parse(readFileSync(path, 'utf8'));
  assert.equal(data, rec.instruction['prompt:']);
});

test('user templates: placeholders filled, optional feature part, missing placeholder is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-tpl-'));
  const f = join(dir, 't.txt');
  writeFileSync(f, 'Tell a story with {verb}/{noun}/{adjective}.[[ Also: {features}.]]\n');
  const t = resolveTemplate('en', f);
  assert.equal(renderPrompt(t, { words: ['run', 'dog', 'big'], features: ['Twist'] }, 'en'), 'Tell a story with run/dog/big. Also: something unexpected happens / there is a plot twist.');
  assert.equal(renderPrompt(t, { words: ['run', 'dog', 'big'], features: [] }, 'en'), 'Tell a story with run/dog/big.');
  writeFileSync(f, 'Tell a story with {verb}.');
  assert.throws(() => resolveTemplate('en', f), /must contain \{noun\}/);
});

test('Vietnamese prompts carry the words and Vietnamese feature phrases', () => {
  const p = renderPrompt(TEMPLATES.vi.data, { words: ['chạy', 'con chó', 'to'], features: ['Dialogue'] }, 'vi');
  assert.ok(p.includes('động từ "chạy", danh từ "con chó" và tính từ "to"'));
  assert.ok(p.includes('ít nhất một đoạn hội thoại'));
  assert.equal(p, p.normalize('NFC'));
});

function checkFrequencies(path: string) {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { combinations: Array<{ features: string[]; probability: number }> };
  const dist = featureDistributionFromFile(path);
  const rng = new Rng(5);
  const n = 40_000;
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = dist.sample(rng).join(',');
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const total = raw.combinations.reduce((a, c) => a + c.probability, 0);
  for (const c of raw.combinations) {
    const key = FEATURES.filter((f) => c.features.includes(f)).join(',');
    const p = c.probability / total;
    const got = (counts.get(key) ?? 0) / n;
    assert.ok(Math.abs(got - p) < 4 * Math.sqrt((p * (1 - p)) / n) + 1e-3, `${key}: ${got} vs ${p}`);
  }
}

test('features sampled by the frequencies of a combinations file (fixture)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-feat-'));
  const f = join(dir, 'c.json');
  writeFileSync(f, JSON.stringify({ combinations: [{ features: ['Dialogue'], probability: 0.6 }, { features: ['Twist', 'Dialogue'], probability: 0.3 }, { features: ['BadEnding'], probability: 0.1 }] }));
  checkFrequencies(f);
  writeFileSync(f, JSON.stringify({ combinations: [{ features: ['Sparkle'], probability: 1 }] }));
  assert.throws(() => featureDistributionFromFile(f), /unknown feature "Sparkle"/);
});

test('features sampled by the real combination frequencies', (t) => {
  const path = join(VOCAB, 'feature_combinations.json');
  const skip = sharedSkip(['tinystories_vocab', 'feature_combinations.json']);
  if (skip) return t.skip(skip);
  checkFrequencies(path);
});

test('uniform features: each feature about half the time, all 64 subsets seen', () => {
  const d = uniformFeatures();
  const rng = new Rng(9);
  const seen = new Set<string>();
  let dialogue = 0;
  for (let i = 0; i < 4000; i++) {
    const s = d.sample(rng);
    seen.add(s.join(','));
    if (s.includes('Dialogue')) dialogue++;
  }
  assert.equal(seen.size, 64);
  assert.ok(Math.abs(dialogue / 4000 - 0.5) < 0.04);
});
