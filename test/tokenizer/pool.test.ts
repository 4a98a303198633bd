// Worker-thread encoding gives exactly the ids of the single-thread encoder, in input order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EncodePool, trainBpe } from '../../src/tokenizer/index.ts';
import { EDGE_CASES, makeStories } from './fixtures.ts';

test('EncodePool with 2 workers equals encode()', async () => {
  const tok = await trainBpe(makeStories(200), { vocabSize: 400 });
  const texts = [...makeStories(3000, 5), ...EDGE_CASES]; // > 1 job of 256 KB, so both workers take part
  const pool = new EncodePool(tok, 2);
  try {
    const { ids, offsets } = await pool.encode(texts);
    assert.equal(offsets.length, texts.length + 1);
    for (let i = 0; i < texts.length; i++) {
      assert.deepEqual(Array.from(ids.subarray(offsets[i]!, offsets[i + 1]!)), tok.encode(texts[i]!), `text ${i}`);
    }
    const again = await pool.encode(texts.slice(0, 10));
    assert.deepEqual(Array.from(again.ids.subarray(again.offsets[3]!, again.offsets[4]!)), tok.encode(texts[3]!));
  } finally {
    await pool.close();
  }
});

test('encodeMany keeps order (small input stays on this thread)', async () => {
  const tok = await trainBpe(makeStories(50), { vocabSize: 300 });
  const texts = makeStories(20, 3);
  const out = await tok.encodeMany(texts, { threads: 2 });
  assert.deepEqual(out.map((a) => Array.from(a)), texts.map((t) => tok.encode(t)));
});
