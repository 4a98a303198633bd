// Bits per byte: nats over the text ÷ (ln 2 × its UTF-8 bytes), with special tokens counting no bytes; one
// definition shared by training (metrics.jsonl), eval metrics and the dashboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreStream } from '../../src/eval/lm-metrics.ts';
import { bitsPerByte, textBytes, tokenByteLengths } from '../../src/train/bpb.ts';
import { trainBpe } from '../../src/tokenizer/train.ts';
import { makeStories } from './fixture-stories.ts';

const tok = await trainBpe(['Über den Wolken, café, naïve — 日本語 text. ', ...makeStories(60, 3)], { vocabSize: 320, specialTokens: ['<|endoftext|>'] });
const table = tokenByteLengths(tok);

test('bitsPerByte is total nats over ln 2 times the bytes', () => {
  assert.equal(bitsPerByte(8 * Math.LN2, 8), 1);
  assert.ok(Math.abs(bitsPerByte(2.0 * 1000, 4000) - 2000 / (Math.LN2 * 4000)) < 1e-15);
  assert.ok(Number.isNaN(bitsPerByte(1, 0)));
});

test('the byte table counts the UTF-8 bytes of the decoded text, multi-byte characters included, and 0 for <|endoftext|>', () => {
  const text = 'Über den Wolken, café, naïve — 日本語 text. Tom ran to the park.';
  const ids = tok.encode(text);
  assert.equal(textBytes(table, ids), Buffer.byteLength(text, 'utf8'));
  assert.equal(table[tok.eotId], 0);
  const two = tok.encode('Lily smiled.<|endoftext|>Tom ran.');
  assert.equal(textBytes(table, two), Buffer.byteLength('Lily smiled.Tom ran.', 'utf8'));
});

test('scoreStream reports bits per byte of the predicted tokens: a uniform model pays log2 V bits per token', () => {
  const V = tok.vocabSize;
  const ids = Int32Array.from(tok.encode(makeStories(4, 9).join('<|endoftext|>')));
  const uniform = { vocabSize: V, maxSeqLen: 16, logits: (_x: Int32Array, B: number, T: number) => new Float32Array(B * T * V) };
  const m = scoreStream(uniform, ids, { window: 16, batch: 2, tokenBytes: table });
  const bytes = textBytes(table, ids.subarray(1));
  assert.equal(m.bytes, bytes);
  assert.ok(Math.abs(m.bitsPerByte! - (m.tokens * Math.log2(V)) / bytes) < 1e-9, `${m.bitsPerByte}`);
  assert.equal(scoreStream(uniform, ids, { window: 16 }).bitsPerByte, null);
});
