// TinyStoriesInstruct records (typed parse, byte-for-byte write-back, edits) and GSM8K records (final answers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  formatInstructRecord,
  formatGsm8kRecord,
  parseGsm8kFinalAnswer,
  parseInstructRecord,
  readGsm8k,
  readInstructRecords,
  toGsm8kRecord,
  type InstructRecord,
} from '../../src/data/index.ts';
import { UserError } from '../../src/util/errors.ts';
import { sharedData, sharedSkip } from '../helpers/shared-data.ts';

async function* chunked(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function records(text: string, size = 1 << 20): Promise<InstructRecord[]> {
  const out: InstructRecord[] = [];
  for await (const r of readInstructRecords(chunked(text, size))) out.push(r);
  return out;
}

const FIXTURE = [
  'Features: Dialogue, Twist\nWords: quit, oak, gloomy\nSummary: Sara and Ben play.\nStory: \n\nSara and Ben were playing.\n"Ben," she said.\n<|endoftext|>\n',
  // a different order, a multi-line summary, a random sentence, no Features
  'Random sentence: The sky was pink.\nSummary: Two lines\nof summary.\nWords: ride,work , upset\nStory: \n\nLily liked to ride.\n\nShe rode every day.  \n<|endoftext|>\n',
  // only a story, with the value on the key line, CRLF line ends
  'Story: A one-line story.\r\nAnd a second line.\r\n<|endoftext|>\n',
  // Story first, then a header key (any order)
  'Story: \n\nTom ran home.\nFeatures: BadEnding\n<|endoftext|>\n',
].join('');

test('Instruct: typed fields in any order, multi-line values', async () => {
  const rs = await records(FIXTURE);
  assert.equal(rs.length, 4);
  const [a, b, c, d] = rs.map(({ layout: _, ...rest }) => rest);
  assert.deepEqual(a, {
    features: ['Dialogue', 'Twist'],
    words: ['quit', 'oak', 'gloomy'],
    summary: 'Sara and Ben play.',
    story: 'Sara and Ben were playing.\n"Ben," she said.',
  });
  assert.deepEqual(b, {
    randomSentence: 'The sky was pink.',
    summary: 'Two lines\nof summary.',
    words: ['ride', 'work', 'upset'],
    story: 'Lily liked to ride.\n\nShe rode every day.',
  });
  assert.deepEqual(c, { story: 'A one-line story.\r\nAnd a second line.' });
  assert.deepEqual(d, { story: 'Tom ran home.', features: ['BadEnding'] });
  assert.deepEqual(rs[1]!.layout!.fields.map((f) => f.key), ['Random sentence', 'Summary', 'Words', 'Story']);
});

test('Instruct: writing the parsed records back gives the same bytes, whatever the read chunk size', async () => {
  const variants = [
    FIXTURE,
    FIXTURE.slice(0, -1), // no newline after the last separator
    FIXTURE + '\n\n', // whitespace after the last separator
    'Summary: no final separator\nStory: \n\nThe end.\n',
    '\nFeatures: Foreshadowing\nStory: leading newline before the first key\n<|endoftext|>\n',
  ];
  for (const text of variants) {
    for (const size of [1, 3, 13, 1 << 20]) {
      const rs = await records(text, size);
      assert.equal(rs.map(formatInstructRecord).join(''), text, `chunk ${size}: ${JSON.stringify(text.slice(-30))}`);
    }
  }
});

test('Instruct: edited fields are written canonically, untouched ones byte-for-byte; new records get the canonical form', async () => {
  const [r] = await records(FIXTURE.split('<|endoftext|>\n')[0] + '<|endoftext|>\n');
  r!.words = ['jump', 'blue', 'brave'];
  delete r!.summary;
  r!.randomSentence = 'A bird sang.';
  assert.equal(
    formatInstructRecord(r!),
    'Features: Dialogue, Twist\nWords: jump, blue, brave\nRandom sentence: A bird sang.\nStory: \n\nSara and Ben were playing.\n"Ben," she said.\n<|endoftext|>\n',
  );
  const fresh = formatInstructRecord({ story: 'A cat napped.', words: ['nap', 'cat', 'soft'], features: ['Dialogue'], summary: 'A cat naps.' });
  assert.equal(fresh, 'Features: Dialogue\nWords: nap, cat, soft\nSummary: A cat naps.\nStory: \n\nA cat napped.\n<|endoftext|>\n');
  const back = parseInstructRecord(fresh.replace('<|endoftext|>\n', ''));
  assert.deepEqual({ ...back, layout: undefined }, { features: ['Dialogue'], words: ['nap', 'cat', 'soft'], summary: 'A cat naps.', story: 'A cat napped.', layout: undefined });
});

test('Instruct: a record that does not start with a header line is a UserError with record and line', () => {
  assert.throws(
    () => parseInstructRecord('\nOnce upon a time\nStory: x', 'f.txt record 9'),
    (e: Error) => e instanceof UserError && /^f\.txt record 9, line 2: expected a header line/.test(e.message),
  );
});

const INSTRUCT = sharedData('tinystories_instruct', 'TinyStoriesInstruct-train_first2records.txt');
test('real data: the TinyStoriesInstruct sample round-trips byte-for-byte', { skip: sharedSkip(['tinystories_instruct', 'TinyStoriesInstruct-train_first2records.txt']) }, async () => {
  const original = readFileSync(INSTRUCT);
  const rs: InstructRecord[] = [];
  for await (const r of readInstructRecords(INSTRUCT)) rs.push(r);
  assert.equal(rs.length, 2);
  assert.deepEqual(rs[0]!.words, ['quit', 'oak', 'gloomy']);
  assert.deepEqual(rs[1]!.features, ['Dialogue', 'BadEnding', 'MoralValue']);
  assert.match(rs[1]!.summary!, /^Lily steals a new bike/);
  assert.match(rs[0]!.story!, /^Sara and Ben were playing in the park\./);
  assert.ok(rs[0]!.story!.endsWith('They went home and had a cozy and happy time.'));
  assert.ok(Buffer.from(rs.map(formatInstructRecord).join(''), 'utf8').equals(original));
});

test('GSM8K: final answers with thousands commas, negatives and decimals', async () => {
  assert.equal(parseGsm8kFinalAnswer('Natalia sold 48+24 = <<48+24=72>>72 clips.\n#### 72'), 72);
  assert.equal(parseGsm8kFinalAnswer('...\n#### 1,234'), 1234);
  assert.equal(parseGsm8kFinalAnswer('...\n#### 1,000,000\n'), 1_000_000);
  assert.equal(parseGsm8kFinalAnswer('#### -5'), -5);
  assert.equal(parseGsm8kFinalAnswer('#### 2.5'), 2.5);
  assert.equal(parseGsm8kFinalAnswer('no final line'), undefined);
  const r = toGsm8kRecord({ question: 'Q?', answer: 'A.\n#### 1,234' }, 'x.jsonl record 1');
  assert.deepEqual(r, { question: 'Q?', answer: 'A.\n#### 1,234', finalAnswer: 1234 });
  assert.throws(() => toGsm8kRecord({ question: 'Q?' }, 'x.jsonl record 4'), /x\.jsonl record 4: expected an object with string fields "question" and "answer"/);
  assert.throws(() => toGsm8kRecord({ question: 'Q?', answer: 'none' }, 'x.jsonl record 5'), /record 5: the answer does not end with a "#### <number>" line/);
  const dir = mkdtempSync(join(tmpdir(), 'ts-gsm-'));
  const line = formatGsm8kRecord({ question: 'Janet’s ducks lay 16 eggs.', answer: 'x\n#### 18' });
  assert.equal(line, '{"question":"Janet’s ducks lay 16 eggs.","answer":"x\\n#### 18"}');
  writeFileSync(join(dir, 'g.jsonl'), line + '\n');
  const back = [];
  for await (const g of readGsm8k(join(dir, 'g.jsonl'))) back.push(g);
  assert.deepEqual(back, [{ question: 'Janet’s ducks lay 16 eggs.', answer: 'x\n#### 18', finalAnswer: 18 }]);
  rmSync(dir, { recursive: true, force: true });
});

const GSM = sharedData('gsm8k');
test('real data: all GSM8K problems parse, with the counts SOURCES.md states', { skip: sharedSkip('gsm8k') }, async () => {
  let n = 0;
  let commas = 0;
  let negatives = 0;
  let decimals = 0;
  for (const f of ['train.part1.jsonl', 'train.part2.jsonl', 'test_minus_holdout.jsonl']) {
    for await (const r of readGsm8k(join(GSM, f))) {
      n++;
      if (/####\s*-?\d{1,3}(,\d{3})+\s*$/.test(r.answer)) commas++;
      if (r.finalAnswer < 0) negatives++;
      if (!Number.isInteger(r.finalAnswer)) decimals++;
    }
  }
  assert.equal(n, 8592);
  assert.equal(commas, 93);
  assert.equal(negatives, 5);
  assert.equal(decimals, 0);
});
