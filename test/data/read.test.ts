// readDocuments over every source form: TinyStories .txt (streamed across chunk boundaries), JSON/JSONL(.gz), parquet,
// Instruct, GSM8K, TinyGSM {question, code}, directories, builtin:mini; format detection, sizes, progress, and one-line
// errors for bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  detectFormat,
  newHygieneReport,
  readDocuments,
  readTextChunks,
  sourceSizeBytes,
  splitStream,
  BUILTIN_CORPUS_DIR,
  type HygieneReport,
} from '../../src/data/index.ts';
import { renderTinyGsm } from '../../src/data/tinygsm-text.ts';
import { renderTinyGsm as gsmRenderTinyGsm } from '../../src/gsm/tinygsm.ts';
import { UserError } from '../../src/util/errors.ts';
import { writeParquet } from './parquet-writer.ts';

let dir: string;
const p = (name: string) => join(dir, name);

async function collect(src: string, opts: Parameters<typeof readDocuments>[1] = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const s of readDocuments(src, opts)) out.push(s);
  return out;
}

async function* fromArray(chunks: string[]): AsyncGenerator<string> {
  for (const c of chunks) yield c;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ts-data-read-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('splitStream finds a separator split at every position across two chunks', async () => {
  const text = 'first story\n<|endoftext|>\nsecond “story”\n<|endoftext|>\n';
  for (let cut = 0; cut <= text.length; cut++) {
    const pieces: string[] = [];
    for await (const piece of splitStream(fromArray([text.slice(0, cut), text.slice(cut)]), '<|endoftext|>')) pieces.push(piece);
    assert.deepEqual(pieces, text.split('<|endoftext|>'), `cut at ${cut}`);
  }
  // one character per chunk
  const pieces: string[] = [];
  for await (const piece of splitStream(fromArray([...text]), '<|endoftext|>')) pieces.push(piece);
  assert.deepEqual(pieces, text.split('<|endoftext|>'));
});

test('readTextChunks reassembles multi-byte characters split between reads', async () => {
  const text = 'Mia’s “cat” 🐱 said ⭐ '.repeat(50);
  writeFileSync(p('mb.txt'), text);
  for (const size of [1, 2, 3, 5, 7, 64]) {
    let s = '';
    for await (const c of readTextChunks(p('mb.txt'), undefined, size)) s += c;
    assert.equal(s, text, `chunk size ${size}`);
  }
});

test('a TinyStories .txt over 2 MiB: separator across the 1 MiB read boundary, a “ across the 2 MiB one', async () => {
  const MiB = 1 << 20;
  // story 1 fills the file so that "<|endoftext|>" starts 5 bytes before 1 MiB
  const s1 = 'Once upon a time ' + 'la '.repeat(Math.floor((MiB - 5 - 1 - 17) / 3));
  const s1Bytes = Buffer.byteLength(s1) + 1; // + "\n"
  const pad = 'x'.repeat(MiB - 5 - s1Bytes);
  const story1 = s1 + pad;
  assert.equal(Buffer.byteLength(story1 + '\n'), MiB - 5);
  // story 2 puts the 3-byte “ at bytes 2 MiB - 1 .. 2 MiB + 1
  const head = story1 + '\n<|endoftext|>\n';
  const before2 = 2 * MiB - 1 - Buffer.byteLength(head) - 4; // "Tom " then filler
  const story2 = 'Tom ' + 'y'.repeat(before2) + '“quoted” end.';
  const story3 = 'The last story.';
  const text = `${head}${story2}\n<|endoftext|>\n${story3}\n<|endoftext|>\n`;
  assert.equal(Buffer.from(text).subarray(MiB - 5, MiB + 8).toString(), '<|endoftext|>');
  assert.equal(Buffer.from(text).subarray(2 * MiB - 1, 2 * MiB + 2).toString(), '“');
  writeFileSync(p('big.txt'), text);
  const report = newHygieneReport();
  let last = 0;
  const got = await collect(p('big.txt'), { report, onBytes: (b, total) => ((last = b), assert.equal(total, Buffer.byteLength(text))) });
  assert.deepEqual(got, [story1.trimEnd(), story2, story3]);
  assert.equal(report.bytesRead, Buffer.byteLength(text));
  assert.equal(last, Buffer.byteLength(text));
  // streamed in 1 MiB reads, never as one string
  let chunks = 0;
  let longest = 0;
  for await (const c of readTextChunks(p('big.txt'))) {
    chunks++;
    longest = Math.max(longest, c.length);
  }
  assert.equal(chunks, 3);
  assert.ok(longest <= MiB);
});

test('V1/V2 .txt normalization: leading blank lines, trailing spaces, blank lines between paragraphs', async () => {
  writeFileSync(
    p('v2.txt'),
    '\nOnce there was a dog.  \n\nIt ran. \n<|endoftext|>\n\nA cat sat.\nThe end.\n<|endoftext|>\n   \n<|endoftext|>\nOnce there was a dog.\nIt ran.\n<|endoftext|>\n',
  );
  const report = newHygieneReport();
  assert.deepEqual(await collect(p('v2.txt'), { report }), ['Once there was a dog.\nIt ran.', 'A cat sat.\nThe end.']);
  assert.equal(report.duplicatesRemoved, 1);
  assert.equal(report.emptyDropped, 1);
  assert.equal(report.documents, 2);
  // a last story without a final separator is still a story
  writeFileSync(p('nofinal.txt'), 'One.\n<|endoftext|>\nTwo.');
  assert.deepEqual(await collect(p('nofinal.txt')), ['One.', 'Two.']);
});

test('JSONL, JSON arrays (pretty-printed, `story` field) and gzip', async () => {
  const rows = [{ text: 'First “story”.\n\nSecond paragraph.' }, { text: 'Brace } and bracket ] and \\" inside.', id: 7 }, { text: 'Third.' }];
  const jsonl = rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  writeFileSync(p('a.jsonl'), jsonl);
  const want = ['First “story”.\nSecond paragraph.', 'Brace } and bracket ] and \\" inside.', 'Third.'];
  assert.deepEqual(await collect(p('a.jsonl')), want);
  writeFileSync(p('a.jsonl.gz'), gzipSync(jsonl));
  assert.deepEqual(await collect(p('a.jsonl.gz')), want);
  writeFileSync(p('b.json'), JSON.stringify(rows.map((r) => ({ story: r.text, instruction: { prompt: 'x' } })), null, 2));
  assert.deepEqual(await collect(p('b.json')), want);
  assert.equal(await detectFormat(p('b.json')), 'json');
});

test('parquet `text` column, several row groups, uncompressed and gzip', async () => {
  const texts = Array.from({ length: 23 }, (_, i) => `Story ${i}: Lily said â€œhi.â€\n\nThe end.`);
  for (const codec of ['UNCOMPRESSED', 'GZIP'] as const) {
    writeFileSync(p(`t-${codec}.parquet`), writeParquet({ id: texts.map(String), text: texts }, { rowGroupSize: 10, codec }));
    const report = newHygieneReport();
    const got = await collect(p(`t-${codec}.parquet`), { report });
    assert.equal(got.length, 23);
    assert.equal(got[22], 'Story 22: Lily said “hi.”\nThe end.');
    assert.equal(report.mojibakeRepairs, 46);
    assert.equal(report.bytesRead, statSync(p(`t-${codec}.parquet`)).size);
  }
  writeFileSync(p('nostory.parquet'), writeParquet({ title: ['a'] }));
  await assert.rejects(collect(p('nostory.parquet')), (e: Error) => e instanceof UserError && /no "text" or "story" column \(columns: title\)/.test(e.message));
  assert.equal(await detectFormat(p('nostory.parquet')), 'parquet');
});

test('Instruct .txt yields the Story part; GSM8K .jsonl yields question + answer', async () => {
  writeFileSync(
    p('instruct.txt'),
    'Features: Dialogue\nWords: run, red, happy\nStory: \n\nTom ran.\n"Hi," he said.\n<|endoftext|>\nRandom sentence: It was red.\nStory: \n\nA red ball.\n<|endoftext|>\n',
  );
  assert.equal(await detectFormat(p('instruct.txt')), 'instruct-txt');
  assert.deepEqual(await collect(p('instruct.txt')), ['Tom ran.\n"Hi," he said.', 'A red ball.']);
  writeFileSync(
    p('gsm.jsonl'),
    JSON.stringify({ question: 'Ann has 2 apples and buys 3. How many?', answer: 'She has 2+3=<<2+3=5>>5.\n#### 5' }) + '\n',
  );
  assert.equal(await detectFormat(p('gsm.jsonl')), 'gsm8k-jsonl');
  assert.deepEqual(await collect(p('gsm.jsonl')), ['Ann has 2 apples and buys 3. How many?\nShe has 2+3=<<2+3=5>>5.\n#### 5']);
});

test('TinyGSM {question, code} records without text are rendered as their function', async () => {
  const rows = [
    { question: 'Ann has 2 apples and buys 3.\nHow many?', code: 'def simple_math_problem() -> int:\n    """\n    Ann has 2 apples and buys 3.\n    How many?\n    """\n    result = 2 + 3\n    return result\n' },
    { question: 'Bo has 4 pens. He loses 1. How many?', code: '  pens = 4\n  result = pens - 1' },
    { question: 'Not used.', code: 'not used', text: 'A text field wins.' },
  ];
  writeFileSync(p('tinygsm.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  assert.equal(await detectFormat(p('tinygsm.jsonl')), 'json');
  const want = [
    'def simple_math_problem() -> int:\n    """\n    Ann has 2 apples and buys 3.\n    How many?\n    """\n    result = 2 + 3\n    return result',
    'def simple_math_problem() -> int:\n    """\n    Bo has 4 pens. He loses 1. How many?\n    """\n    pens = 4\n    result = pens - 1\n    return result',
    'A text field wins.',
  ];
  assert.deepEqual(await collect(p('tinygsm.jsonl')), want);
  // the same rendering src/gsm uses (re-exported there), up to the whitespace normalization's final newline
  assert.equal(gsmRenderTinyGsm, renderTinyGsm);
  assert.equal(renderTinyGsm(rows[1]!), want[1] + '\n');
  writeFileSync(p('tinygsm-bad.jsonl'), JSON.stringify({ question: 'Q?', code: 42 }) + '\n');
  await assert.rejects(collect(p('tinygsm-bad.jsonl')), (e: Error) => e instanceof UserError && /tinygsm-bad\.jsonl record 1: .*TinyGSM "question"\/"code"/.test(e.message));
});

test('a directory reads its supported files sorted, recursively, skipping hidden files and partial downloads', async () => {
  const d = join(dir, 'corpus');
  mkdirSync(join(d, 'sub'), { recursive: true });
  writeFileSync(join(d, 'b.txt'), 'Story B.\n<|endoftext|>\n');
  writeFileSync(join(d, 'a.jsonl'), '{"text":"Story A."}\n');
  writeFileSync(join(d, 'sub', 'c.txt'), 'Story C.\n<|endoftext|>\nStory A.\n<|endoftext|>\n');
  writeFileSync(join(d, '.hidden.txt'), 'Hidden.\n<|endoftext|>\n');
  writeFileSync(join(d, 'x.txt.part'), 'Partial.\n<|endoftext|>\n');
  writeFileSync(join(d, 'notes.md'), '# not data');
  const report: HygieneReport = newHygieneReport();
  assert.deepEqual(await collect(d, { report }), ['Story A.', 'Story B.', 'Story C.']);
  assert.equal(report.duplicatesRemoved, 1);
  const size = await sourceSizeBytes(d);
  assert.equal(size, ['b.txt', 'a.jsonl', 'sub/c.txt'].reduce((s, f) => s + statSync(join(d, f)).size, 0));
  assert.equal(report.bytesRead, size);
});

test('builtin:mini reads the embedded corpus', async () => {
  const got = await collect('builtin:mini');
  assert.ok(got.length >= 1, 'the embedded corpus has stories');
  assert.ok(got.every((s) => s.length > 0 && !s.includes('<|endoftext|>')));
  assert.ok((await sourceSizeBytes('builtin:mini'))! > 0);
  assert.ok(BUILTIN_CORPUS_DIR.endsWith('corpus/'));
});

test('bad input gives one clear UserError naming the file and what was expected', async () => {
  const rejectsWith = async (src: string, re: RegExp) =>
    assert.rejects(collect(src), (e: Error) => {
      assert.ok(e instanceof UserError, `${src}: ${e.stack}`);
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'), e.message);
      return true;
    });
  await rejectsWith(p('missing.txt'), /missing\.txt: no such file or directory/);
  writeFileSync(p('data.csv'), 'a,b\n');
  await rejectsWith(p('data.csv'), /data\.csv: unsupported file type; expected \.txt, \.json, \.jsonl/);
  writeFileSync(p('bad.jsonl'), '{"text":"ok"}\n{"text": nope}\n');
  await rejectsWith(p('bad.jsonl'), /bad\.jsonl: record 2 is not valid JSON/);
  writeFileSync(p('nofield.jsonl'), '{"text":"ok"}\n{"body":"x"}\n');
  await rejectsWith(p('nofield.jsonl'), /nofield\.jsonl record 2: expected an object with a string "text" or "story" field/);
  writeFileSync(p('trunc.json'), '[{"text":"ok"}, {"text":"cut');
  await rejectsWith(p('trunc.json'), /trunc\.json: the JSON text ends inside record 2/);
  writeFileSync(p('scalar.jsonl'), '"just a string"\n');
  await rejectsWith(p('scalar.jsonl'), /record 1 should be a JSON object/);
  writeFileSync(p('badinstruct.txt'), 'Features: Dialogue\nStory: x\n<|endoftext|>\nOops, no header\nStory: y\n<|endoftext|>\n');
  await rejectsWith(p('badinstruct.txt'), /badinstruct\.txt record 2, line 1: expected a header line starting with one of Features:/);
  await rejectsWith('builtin:large', /unknown builtin corpus/);
  await rejectsWith('hf:nope', /expected hf:<owner>\/<repo>/);
  const empty = join(dir, 'emptydir');
  mkdirSync(empty);
  await rejectsWith(empty, /no \.txt, \.json, \.jsonl or \.parquet files/);
  assert.equal(await sourceSizeBytes(p('missing.txt')), undefined);
});

test('a broken line in a .jsonl is named by its line number', async () => {
  const rejectsWith = async (src: string, re: RegExp) =>
    assert.rejects(collect(src), (e: Error) => {
      assert.ok(e instanceof UserError, `${src}: ${e.stack}`);
      assert.match(e.message, re);
      return true;
    });
  // an unbalanced line swallows the rest of the file: the record that never closes starts on line 3
  writeFileSync(p('unbalanced.jsonl'), '{"text":"a"}\n\n{"text": oops\n{"text":"b"}\n{"text":"c"}\n');
  await rejectsWith(p('unbalanced.jsonl'), /unbalanced\.jsonl: the JSON text ends inside record 2, which starts on line 3 \(a broken line/);
  writeFileSync(p('badline.jsonl'), '{"text":"a"}\n{"text":"b"}\n{"text":"c"}\n{"text": nope}\n');
  await rejectsWith(p('badline.jsonl'), /badline\.jsonl: record 4 is not valid JSON; it starts on line 4/);
  writeFileSync(p('scalarline.jsonl'), '{"text":"a"}\n\n42\n');
  await rejectsWith(p('scalarline.jsonl'), /record 2 should be a JSON object, found "42\\n" on line 3/);
  // pretty-printed records span lines; the count follows them
  writeFileSync(p('pretty.json'), '[\n  {\n    "text": "a"\n  },\n  {\n    "text": bad\n  }\n]\n');
  await rejectsWith(p('pretty.json'), /record 2 is not valid JSON; it starts on line 5/);
});

test('a corrupt or cut .gz names the file; an upper-case .GZ is gunzipped too', async () => {
  const rejectsWith = async (src: string, re: RegExp) =>
    assert.rejects(collect(src), (e: Error) => {
      assert.ok(e instanceof UserError, `${src}: ${e.stack}`);
      assert.match(e.message, re);
      return true;
    });
  // before: a bare "incorrect header check" / "unexpected end of file" with no file name
  writeFileSync(p('notgz.jsonl.gz'), '{"text":"plain, not gzipped"}\n');
  await rejectsWith(p('notgz.jsonl.gz'), /notgz\.jsonl\.gz: not a valid gzip file \(incorrect header check\)/);
  const gz = gzipSync(Buffer.from('{"text":"Once upon a time."}\n'.repeat(50)));
  writeFileSync(p('cut.jsonl.gz'), gz.subarray(0, gz.length - 12));
  await rejectsWith(p('cut.jsonl.gz'), /cut\.jsonl\.gz: not a valid gzip file \(unexpected end of file\)/);
  writeFileSync(p('UPPER.TXT.GZ'), gzipSync(Buffer.from('Once upon a time.\n<|endoftext|>\nThe end.\n')));
  assert.deepEqual(await collect(p('UPPER.TXT.GZ')), ['Once upon a time.', 'The end.']);
});
