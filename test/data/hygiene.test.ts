// Text hygiene: whitespace normalization, cp1252 mojibake repair, NFC, exact-duplicate removal, and their counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashSet64, Hygiene, newHygieneReport, normalizeStoryWhitespace, readDocuments, repairMojibake } from '../../src/data/index.ts';
import { sharedData, sharedSkip } from '../helpers/shared-data.ts';

/**
 * Produces the mojibake the HF copy has: UTF-8 bytes read as cp1252, the undefined bytes (0x81 0x8D 0x8F 0x90 0x9D)
 * dropped, or kept as C1 controls (the other common decoder behaviour) with `keepUndefined`.
 */
function toMojibake(s: string, keepUndefined = false): string {
  const high = '€\u0000‚ƒ„…†‡ˆ‰Š‹Œ\u0000Ž\u0000\u0000‘’“”•–—˜™š›œ\u0000žŸ';
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b < 0x80 || b >= 0xa0) out += String.fromCharCode(b);
    else if (high[b - 0x80] !== '\u0000') out += high[b - 0x80];
    else if (keepUndefined) out += String.fromCharCode(b);
  }
  return out;
}

test('whitespace: leading blank lines, trailing spaces and blank lines between paragraphs', () => {
  assert.equal(normalizeStoryWhitespace('\n\nOnce upon a time.  \nThe end. \n'), 'Once upon a time.\nThe end.');
  assert.equal(normalizeStoryWhitespace('A.\n\nB.\n\n\nC.'), 'A.\nB.\nC.');
  assert.equal(normalizeStoryWhitespace(' A.\r\n  B.\r\n'), 'A.\n  B.');
  assert.equal(normalizeStoryWhitespace('clean text\nstays'), 'clean text\nstays');
  assert.equal(normalizeStoryWhitespace(' \n \t\n'), '');
});

test('mojibake: generic cp1252 round trip repairs quotes, dashes, accents and emoji', () => {
  const samples = ['He said, “Wow!”', 'It’s Tom’s ball — a red one…', 'café naïve Zoë', 'sparkles ✨ and 😀', 'Ω ≈ 3 € · ©', 'a star ⭐ and 🐶'];
  for (const s of samples) {
    const broken = toMojibake(s, true);
    assert.notEqual(broken, s);
    const r = repairMojibake(broken);
    assert.equal(r.text, s, JSON.stringify(broken));
    assert.ok(r.repairs > 0);
  }
  // with the undefined byte dropped, ⭐ (E2 AD 90) cannot be rebuilt: it is left as it is, not garbled further
  assert.deepEqual(repairMojibake(toMojibake('a star ⭐')), { text: toMojibake('a star ⭐'), repairs: 0 });
  const r = repairMojibake('He said, â€œWow!â€\u009d and â€™');
  assert.equal(r.text, 'He said, “Wow!” and ’');
  assert.equal(r.repairs, 3);
});

test('mojibake: the HF copy’s lost 0x9D byte of ” is restored; clean text is left alone', () => {
  // `â€` followed by a non-continuation character: the 0x9D byte of E2 80 9D was dropped by the cp1252 decode
  assert.deepEqual(repairMojibake('“Hi,â€ he said.â€'), { text: '“Hi,” he said.”', repairs: 2 });
  for (const clean of ['Ângela went to São Paulo.', 'Plain ASCII text.', 'Über naïve café — “quoted” ’', 'Ã', 'â']) {
    assert.deepEqual(repairMojibake(clean), { text: clean, repairs: 0 }, clean);
  }
});

test('NFC, empty documents and duplicates are counted in the report', () => {
  const report = newHygieneReport();
  const h = new Hygiene({}, report);
  const decomposed = 'Zoe\u0308 went home.'; // e + combining diaeresis
  assert.equal(h.clean(decomposed), 'Zoë went home.');
  assert.equal(h.clean('Zoë went home.'), undefined, 'same text after NFC is a duplicate');
  assert.equal(h.clean('\n  \n'), undefined);
  assert.equal(h.clean('A new story.  \n'), 'A new story.');
  assert.equal(h.clean('\nA new story.'), undefined, 'duplicate after whitespace normalization');
  assert.equal(h.clean('It’s â€œfineâ€\u009d.'), 'It’s “fine”.');
  assert.deepEqual(report, { documents: 3, nfcChanged: 1, mojibakeRepairs: 2, duplicatesRemoved: 2, emptyDropped: 1, bytesRead: 0, rawChars: report.rawChars, replacedChars: 0, controlChars: 0 });
});

test('each hygiene step can be turned off', () => {
  const report = newHygieneReport();
  const h = new Hygiene({ nfc: false, repairMojibake: false, dedupe: false }, report);
  assert.equal(h.clean('Zoe\u0308'), 'Zoe\u0308');
  assert.equal(h.clean('â€œ'), 'â€œ');
  assert.equal(h.clean('â€œ'), 'â€œ');
  assert.deepEqual(report, { documents: 3, nfcChanged: 0, mojibakeRepairs: 0, duplicatesRemoved: 0, emptyDropped: 0, bytesRead: 0, rawChars: report.rawChars, replacedChars: 0, controlChars: 0 });
});

test('HashSet64 keeps every distinct text through table growth', () => {
  const s = new HashSet64(4);
  for (let i = 0; i < 50_000; i++) assert.equal(s.addText(`story ${i}`), true);
  for (let i = 0; i < 50_000; i += 7) assert.equal(s.addText(`story ${i}`), false);
  assert.equal(s.size, 50_000);
});

const SHARED = sharedData('tinystories');
test('real data: the HF copy (with mojibake) cleans to exactly the V1 .txt stories', { skip: sharedSkip('tinystories') }, async () => {
  const v1: string[] = [];
  for await (const s of readDocuments(`${SHARED}/TinyStories-train_head2MiB_2316stories.txt`, { dedupe: false })) {
    if (v1.length < 1000) v1.push(s);
  }
  const report = newHygieneReport();
  const hf: string[] = [];
  for await (const s of readDocuments(`${SHARED}/tinystories_hf_train_first1000.txt`, { report })) hf.push(s);
  assert.equal(hf.length, 1000);
  let same = 0;
  for (let i = 0; i < 1000; i++) if (hf[i] === v1[i]) same++;
  assert.equal(same, 1000);
  assert.ok(report.mojibakeRepairs > 83, `repairs ${report.mojibakeRepairs}`);
  assert.ok(!hf.some((s) => /â€|Ã/.test(s)));
  // without the repair, the 83 stories SOURCES.md lists as mojibaked differ
  let differ = 0;
  let i = 0;
  for await (const s of readDocuments(`${SHARED}/tinystories_hf_train_first1000.txt`, { repairMojibake: false })) if (s !== v1[i++]) differ++;
  assert.equal(differ, 83);
});
