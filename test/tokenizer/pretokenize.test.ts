// The hand-written GPT-2 pre-tokenizer must split exactly like the GPT-2 regex (with Unicode White_Space).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GPT2_PATTERN, bytesToUnicode, pretokenize } from '../../src/tokenizer/pretokenize.ts';
import { Rng } from '../../src/util/rng.ts';
import { EDGE_CASES } from './fixtures.ts';

test('known splits', () => {
  assert.deepEqual(pretokenize("Hello world, it's 2024!"), ['Hello', ' world', ',', ' it', "'s", ' 2024', '!']);
  assert.deepEqual(pretokenize('a   b'), ['a', '  ', ' b']);
  assert.deepEqual(pretokenize('a\n\nb'), ['a', '\n', '\n', 'b']);
  assert.deepEqual(pretokenize('end   '), ['end', '   ']);
  assert.deepEqual(pretokenize(''), []);
});

test('scanner equals the regex on edge cases and random strings', () => {
  for (const s of EDGE_CASES) assert.deepEqual(pretokenize(s), s.match(GPT2_PATTERN) ?? [], JSON.stringify(s));
  const alphabet = ['a', 'Z', ' ', '  ', '\n', '\t', "'", 's', 't', 're', 'll', 'v', '1', '9', '!', '.', 'é', 'e\u0301',
    '😀', '\u0085', '\ufeff', '\u00a0', '\u3000', '٣', '\ud800', '\udc00', '日', '-', '\r\n', '<|endoftext|>'];
  const rng = new Rng(42);
  for (let k = 0; k < 20000; k++) {
    let s = '';
    const n = rng.int(14);
    for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
    assert.deepEqual(pretokenize(s), s.match(GPT2_PATTERN) ?? [], JSON.stringify(s));
  }
});

test('U+0085 is whitespace and U+FEFF is not, as in Hugging Face tokenizers (Rust)', () => {
  assert.deepEqual(pretokenize('!\u0085!'), ['!', '\u0085', '!']);
  assert.deepEqual(pretokenize('!\ufeff!'), ['!\ufeff!']);
});

test('bytes_to_unicode is GPT-2 map', () => {
  const m = bytesToUnicode();
  assert.equal(m.length, 256);
  assert.equal(new Set(m).size, 256);
  assert.equal(m[32], 'Ġ');
  assert.equal(m[10], 'Ċ');
  assert.equal(m[65], 'A');
  assert.equal(m[0], 'Ā');
});
