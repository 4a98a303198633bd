// Trainer and tokenizer behaviour on our own fixture stories: sizes, determinism, round trips, specials, save/load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer, trainBpe, Tokenizer } from '../../src/tokenizer/index.ts';
import { UserError } from '../../src/util/errors.ts';
import { EDGE_CASES, makeStories } from './fixtures.ts';

const stories = makeStories(300);

test('trains to the requested vocab size with <|endoftext|> last', async () => {
  for (const vocabSize of [300, 512]) {
    const tok = await trainBpe(stories, { vocabSize, minFrequency: 1 });
    assert.equal(tok.vocabSize, vocabSize);
    assert.equal(tok.eotId, vocabSize - 1);
    assert.equal(tok.data.merges.length / 2, vocabSize - 257);
    assert.equal(tok.tokenString(32), 'Ġ');
  }
});

test('merges follow frequency: the first merge is the most frequent byte pair', async () => {
  const tok = await trainBpe(['aaab aaab aaab xy'], { vocabSize: 258, minFrequency: 1 });
  // pre-tokens: "aaab" ×1, " aaab" ×2, " xy": pair (a,a) occurs 6 times, more than any other
  assert.equal(tok.tokenString(256), 'aa');
});

test('training is deterministic and an async source gives the same result', async () => {
  const a = await trainBpe(stories, { vocabSize: 400 });
  async function* gen() {
    for (const s of stories) yield s;
  }
  const b = await trainBpe(gen(), { vocabSize: 400 });
  assert.deepEqual(JSON.stringify(a.toJSON()), JSON.stringify(b.toJSON()));
});

test('training stops early when no pair reaches min frequency', async () => {
  const tok = await trainBpe(['abc'], { vocabSize: 1000, minFrequency: 2 });
  assert.equal(tok.vocabSize, 257);
});

test('bad vocab size is a UserError', async () => {
  await assert.rejects(trainBpe(stories, { vocabSize: 100 }), UserError);
});

test('encode/decode round trip: NFC text exactly, any string up to NFC and lone surrogates', async () => {
  const tok = await trainBpe(stories, { vocabSize: 512 });
  for (const s of [...stories.slice(0, 20), ...EDGE_CASES]) {
    const ids = tok.encode(s);
    assert.equal(tok.decode(ids), s.normalize('NFC'), JSON.stringify(s));
    for (const id of ids) assert.ok(id >= 0 && id < tok.vocabSize);
  }
  assert.equal(tok.decode(tok.encode('x\ud800y')), 'x\ufffdy');
  assert.equal(tok.decode([]), '');
  assert.deepEqual(tok.encode(''), []);
});

test('<|endoftext|> is one id, never merged with its neighbours, and never learned from text', async () => {
  const tok = await trainBpe(stories.map((s) => s + '<|endoftext|>'), { vocabSize: 512 });
  const ids = tok.encode('The end.<|endoftext|>Once');
  assert.equal(ids.filter((i) => i === tok.eotId).length, 1);
  assert.equal(tok.decode(ids), 'The end.<|endoftext|>Once');
  assert.ok(!tok.data.tokens.slice(0, tok.eotId).some((t) => t.includes('endoftext')));
  assert.equal(tok.decodeToken(tok.eotId), '<|endoftext|>');
});

test('stream decoder holds back partial UTF-8 characters', async () => {
  const tok = await trainBpe(stories, { vocabSize: 300 });
  const text = 'Bà ấy 😀 ok';
  const ids = tok.encode(text);
  const d = tok.streamDecoder();
  let out = '';
  for (const id of ids) {
    const piece = d.push(id);
    assert.ok(!piece.includes('\ufffd'));
    out += piece;
  }
  out += d.end();
  assert.equal(out, text);
});

test('save and load give identical ids; bad files are UserErrors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tok-'));
  try {
    const tok = await trainBpe(stories, { vocabSize: 512, minFrequency: 1 });
    assert.equal(tok.eotId, 511);
    const path = join(dir, 'tokenizer.json');
    tok.save(path);
    const json = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(json.model.type, 'BPE');
    assert.deepEqual(json.normalizer, { type: 'NFC' });
    assert.equal(json.pre_tokenizer.type, 'ByteLevel');
    assert.deepEqual(json.added_tokens[0], { id: tok.eotId, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    for (const p of [path, dir]) {
      const back = loadTokenizer(p);
      for (const s of [...stories.slice(0, 30), ...EDGE_CASES]) assert.deepEqual(back.encode(s), tok.encode(s));
    }
    assert.throws(() => loadTokenizer(join(dir, 'missing.json')), UserError);
    assert.throws(() => new Tokenizer({ ...tok.data, merges: Int32Array.from([1, 2]) }), /missing from the vocabulary/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pre-token cache does not change results', async () => {
  const tok = await trainBpe(stories, { vocabSize: 512 });
  const first = stories.slice(0, 50).map((s) => tok.encode(s));
  tok.clearCache();
  assert.deepEqual(stories.slice(0, 50).map((s) => tok.encode(s)), first);
});
