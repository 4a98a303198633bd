// Checks the built-in English and Vietnamese word lists (shape, sizes, NFC, Vietnamese spelling) and their
// coverage of the words used in the released TinyStories data when that sample is present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  WORD_TAGS,
  builtinWordLists,
  loadWordListsFile,
  parseWordLists,
  type WordLang,
  type WordTag,
} from '../../src/synth/words/index.ts';
import { UserError } from '../../src/util/errors.ts';
import { sharedData, sharedSkip } from '../helpers/shared-data.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const wordsDir = join(root, 'src', 'synth', 'words');
const sharedVocab = sharedData('tinystories_vocab', 'instruction_words_data00-04.txt');

/** The JSON file as stored, without the loader's normalization, so NFC and sorting are checked on the bytes. */
function rawLists(lang: WordLang): Record<WordTag, string[]> {
  return JSON.parse(readFileSync(join(wordsDir, `${lang}.json`), 'utf8')) as Record<WordTag, string[]>;
}

// Bounds: around the paper's ~500 per tag; nouns run larger because the real data is noun-heavy.
const bounds: Record<WordLang, Record<WordTag, [number, number]>> = {
  en: { nouns: [600, 1000], verbs: [450, 650], adjectives: [420, 600] },
  vi: { nouns: [550, 850], verbs: [450, 700], adjectives: [420, 600] },
};

const compareByLang: Record<WordLang, (a: string, b: string) => number> = {
  en: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
  vi: new Intl.Collator('vi').compare,
};

for (const lang of ['en', 'vi'] as const) {
  test(`${lang}: exactly the three tags, sizes within bounds, 1,500-2,100 words in all`, () => {
    const lists = rawLists(lang);
    assert.deepEqual(Object.keys(lists).sort(), [...WORD_TAGS].sort());
    let total = 0;
    for (const tag of WORD_TAGS) {
      const [lo, hi] = bounds[lang][tag];
      const n = lists[tag].length;
      assert.ok(n >= lo && n <= hi, `${lang} ${tag}: ${n} words, expected ${lo}-${hi}`);
      total += n;
    }
    assert.ok(total >= 1500 && total <= 2100, `${lang}: ${total} words in all`);
  });

  test(`${lang}: entries are NFC, trimmed, lowercase, unique within a list and sorted`, () => {
    const lists = rawLists(lang);
    for (const tag of WORD_TAGS) {
      const list = lists[tag];
      for (const w of list) {
        assert.equal(typeof w, 'string');
        assert.equal(w, w.normalize('NFC'), `${lang} ${tag}: "${w}" is not NFC`);
        assert.equal(w, w.trim().replace(/\s+/g, ' '), `${lang} ${tag}: "${w}" has stray spaces`);
        assert.equal(w, w.toLowerCase(), `${lang} ${tag}: "${w}" is not lowercase`);
      }
      const dups = list.filter((w, i) => list.indexOf(w) !== i);
      assert.deepEqual(dups, [], `${lang} ${tag}: duplicates`);
      const sorted = [...list].sort(compareByLang[lang]);
      const firstOff = list.findIndex((w, i) => w !== sorted[i]);
      assert.equal(firstOff, -1, `${lang} ${tag}: not sorted at index ${firstOff} ("${list[firstOff]}")`);
    }
  });

  test(`${lang}: words shared between two tags stay few (homographs only)`, () => {
    const lists = rawLists(lang);
    for (const [a, b] of [['nouns', 'verbs'], ['nouns', 'adjectives'], ['verbs', 'adjectives']] as const) {
      const other = new Set(lists[b]);
      const shared = lists[a].filter((w) => other.has(w));
      assert.ok(shared.length <= 60, `${lang}: ${shared.length} words in both ${a} and ${b}: ${shared.join(', ')}`);
    }
  });
}

test('en: single lowercase words (a hyphen allowed), verbs in base form for a sample', () => {
  const lists = rawLists('en');
  for (const tag of WORD_TAGS) {
    const bad = lists[tag].filter((w) => !/^[a-z]+(-[a-z]+)?$/.test(w));
    assert.deepEqual(bad, [], `en ${tag}: not a plain lowercase word`);
  }
  const en = builtinWordLists('en');
  for (const v of ['run', 'jump', 'eat', 'sleep', 'play', 'hug', 'climb', 'share']) assert.ok(en.verbs.includes(v), v);
  for (const inflected of ['running', 'jumped', 'eats', 'played']) assert.ok(!en.verbs.includes(inflected), inflected);
  for (const n of ['dog', 'ball', 'mom', 'tree', 'cake', 'park']) assert.ok(en.nouns.includes(n), n);
  for (const a of ['happy', 'big', 'red', 'soft', 'brave', 'yummy']) assert.ok(en.adjectives.includes(a), a);
});

// Vietnamese letters (lowercase): the Latin base without f, j, w, z plus the vowels with their marks, and đ.
const VIETNAMESE = /^[abcdeghiklmnopqrstuvxyàáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ ]+$/;
const TONE_MARKS = new Set(['\u0300', '\u0301', '\u0309', '\u0303', '\u0323']);

test('vi: only Vietnamese letters, at most one tone mark per syllable, most entries carry diacritics', () => {
  const lists = rawLists('vi');
  for (const tag of WORD_TAGS) {
    const list = lists[tag];
    const badLetters = list.filter((w) => !VIETNAMESE.test(w));
    assert.deepEqual(badLetters, [], `vi ${tag}: letters outside the Vietnamese alphabet`);
    const badTones = list.filter((w) =>
      w.split(' ').some((syl) => [...syl.normalize('NFD')].filter((c) => TONE_MARKS.has(c)).length > 1),
    );
    assert.deepEqual(badTones, [], `vi ${tag}: a syllable with two tone marks`);
    const marked = list.filter((w) => /[^\x00-\x7f]/.test(w)).length / list.length;
    assert.ok(marked >= 0.85, `vi ${tag}: only ${(marked * 100).toFixed(0)}% of entries have Vietnamese diacritics`);
    // One placement convention throughout (hòa, khỏe, thủy — not hoà, khoẻ, thuỷ), so lookups by string agree.
    const oldStyle = list.filter((w) => /(^|[^q])(o[àáảãạèéẻẽẹ]|u[ỳýỷỹỵ])(?![a-zà-ỹ])/.test(w));
    assert.deepEqual(oldStyle, [], `vi ${tag}: old-style tone placement`);
  }
});

test('vi: a sample of everyday words is present with the right tag and spelling', () => {
  const vi = builtinWordLists('vi');
  const sample: Record<WordTag, string[]> = {
    nouns: ['mèo', 'chó', 'bánh mì', 'xe đạp', 'bà ngoại', 'mặt trời', 'cầu vồng', 'quả bóng', 'con đường'],
    verbs: ['chạy', 'nhảy', 'ăn', 'ngủ', 'đọc', 'vẽ', 'hát', 'chia sẻ', 'giúp đỡ'],
    adjectives: ['đẹp', 'vui vẻ', 'nhỏ', 'ngọt', 'dũng cảm', 'xanh', 'ướt', 'tò mò', 'mềm mại'],
  };
  for (const tag of WORD_TAGS) {
    for (const w of sample[tag]) {
      assert.ok(vi[tag].includes(w), `vi ${tag}: missing "${w}"`);
    }
  }
  // Unaccented spellings are different words (meo ≠ mèo); none of these should sneak in.
  for (const w of ['meo', 'banh mi', 'xe dap', 'nhay', 'dep', 'vui ve', 'ngu']) {
    for (const tag of WORD_TAGS) assert.ok(!vi[tag].includes(w), `vi ${tag}: unaccented "${w}"`);
  }
});

test('builtinWordLists: cached, frozen, same content as the files', () => {
  const en = builtinWordLists('en');
  assert.equal(builtinWordLists('en'), en);
  assert.ok(Object.isFrozen(en) && Object.isFrozen(en.nouns));
  assert.deepEqual([...en.verbs], rawLists('en').verbs);
  assert.throws(() => builtinWordLists('fr' as WordLang), UserError);
});

test('parseWordLists: normalizes to NFC and trims, rejects bad shapes with the field named', () => {
  const nfd = 'me\u0300o'; // "mèo" decomposed
  const lists = parseWordLists(JSON.stringify({ nouns: [` ${nfd} `], verbs: ['chạy'], adjectives: ['đẹp'] }), 'x.json');
  assert.deepEqual(lists.nouns, ['mèo']);
  assert.equal(lists.nouns[0]!.length, 3);

  const bad: Array<[unknown, RegExp]> = [
    [[], /expected a JSON object/],
    [{ nouns: ['a'], verbs: ['b'] }, /"adjectives" must be a non-empty array/],
    [{ nouns: [], verbs: ['b'], adjectives: ['c'] }, /"nouns" must be a non-empty array/],
    [{ nouns: ['a', 3], verbs: ['b'], adjectives: ['c'] }, /nouns\[1\] must be a non-empty string/],
    [{ nouns: ['a'], verbs: ['b', ' '], adjectives: ['c'] }, /verbs\[1\] must be a non-empty string/],
    // The NFC and NFD forms of one word are the same word.
    [{ nouns: ['mèo', nfd], verbs: ['b'], adjectives: ['c'] }, /x\.json: nouns\[1\] "mèo" is a duplicate/],
  ];
  for (const [data, re] of bad) {
    assert.throws(() => parseWordLists(JSON.stringify(data), 'x.json'), (e: unknown) => e instanceof UserError && re.test(e.message));
  }
  assert.throws(() => parseWordLists('{"nouns": [', 'x.json'), (e: unknown) => e instanceof UserError && /x\.json: not valid JSON/.test(e.message));
});

test('loadWordListsFile: reads a user file; a missing file is a UserError naming the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'words-'));
  try {
    const file = join(dir, 'mine.json');
    writeFileSync(file, JSON.stringify({ nouns: ['kite'], verbs: ['fly'], adjectives: ['windy'] }));
    assert.deepEqual(loadWordListsFile(file).verbs, ['fly']);
    const missing = join(dir, 'nope.json');
    assert.throws(() => loadWordListsFile(missing), (e: unknown) => e instanceof UserError && e.message.includes(missing));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Measured 86.9% (1,393 of 1,603) when the lists were written; the margin allows small edits to the lists.
const MIN_COVERAGE = 0.85;

test(
  'en: covers the words used in the released TinyStories data (shared sample)',
  { skip: sharedSkip(['tinystories_vocab', 'instruction_words_data00-04.txt']) },
  () => {
    const ref = readFileSync(sharedVocab, 'utf8').split('\n').map((w) => w.trim()).filter(Boolean);
    assert.equal(new Set(ref).size, 1603, 'the shared sample should hold 1,603 distinct words');
    const en = builtinWordLists('en');
    const ours = new Set(WORD_TAGS.flatMap((t) => en[t]));
    const covered = ref.filter((w) => ours.has(w.toLowerCase())).length;
    const share = covered / ref.length;
    console.log(`coverage of the released data's words: ${covered}/${ref.length} = ${(share * 100).toFixed(1)}%`);
    assert.ok(share >= MIN_COVERAGE, `coverage ${(share * 100).toFixed(1)}% < ${MIN_COVERAGE * 100}%`);
  },
);
