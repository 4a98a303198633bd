// The sentencepiece-kind tokenizer (llama2.c tokenizer.bin, Llama tokenizer.json): llama2.c's merge loop and the
// O(n log n) heap agree, byte fallback, the dummy prefix, and the tokenizer.json round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readLlama2cTokenizer, writeLlama2cTokenizer } from '../../src/interop/index.ts';
import { fromHfJson } from '../../src/tokenizer/hf-json.ts';
import { SentencePieceEncoder } from '../../src/tokenizer/sentencepiece.ts';
import { Rng } from '../../src/util/rng.ts';
import { sharedData, sharedSkip } from '../helpers/shared-data.ts';
import { smallTokenizer } from '../interop/fixtures.ts';
import { EDGE_CASES, makeStories } from './fixtures.ts';

function randomText(rng: Rng, n: number): string {
  const parts = ['Once', ' upon', ' a', ' time', ',', ' Lily', ' the', ' é', 'ü', ' 日本', '\n', '  ', 'ing', 'ed', '!', ' 🦊', 'x', 'q'];
  let s = '';
  while (s.length < n) s += parts[rng.int(parts.length)];
  return s;
}

test("the heap merge gives llama2.c's scan-merge ids on long texts (our BPE as a llama2.c vocabulary)", async () => {
  const sp = readLlama2cTokenizer(writeLlama2cTokenizer(await smallTokenizer()), 'tokenizer.bin');
  const enc = new SentencePieceEncoder(sp.data);
  const rng = new Rng(9);
  for (const text of [...makeStories(5), ...Array.from({ length: 20 }, () => randomText(rng, 400))]) {
    const scan: number[] = [];
    const heap: number[] = [];
    enc.encode(text, scan, 'scan');
    enc.encode(text, heap, 'heap');
    assert.deepEqual(heap, scan);
    assert.equal(sp.decode(heap), text);
  }
});

test('every edge case decodes back to exactly its text (the dummy prefix is dropped again), with byte fallback for characters without a piece', { skip: sharedSkip(['llama2c', 'tokenizer32000.bin']) }, () => {
  const tok = readLlama2cTokenizer(readFileSync(sharedData('llama2c', 'tokenizer32000.bin')), 'tokenizer32000.bin', 32000);
  const viaJson = fromHfJson(JSON.parse(JSON.stringify(tok.toJSON())), 'tokenizer.json');
  const enc = new SentencePieceEncoder(tok.data);
  const rng = new Rng(2);
  for (const text of [...EDGE_CASES, ...makeStories(3), randomText(rng, 2000)]) {
    if (text.includes('<s>') || text.includes('</s>') || text.includes('<unk>')) continue;
    const ids = tok.encode(text);
    assert.equal(tok.decode(ids), text, JSON.stringify(text));
    assert.deepEqual(viaJson.encode(text), ids, JSON.stringify(text));
    const scan: number[] = [];
    enc.encode(text, scan, 'scan');
    assert.deepEqual(scan, ids);
  }
  // a character with no piece falls back to its UTF-8 bytes <0xF0><0x9F>...
  const fox = tok.encode('🦊');
  assert.ok(fox.some((id) => tok.tokenString(id) === '<0xF0>'), JSON.stringify(fox.map((id) => tok.tokenString(id))));
});
