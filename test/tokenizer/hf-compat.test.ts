// Our tokenizer.json files load in Hugging Face tokenizers (Rust `tokenizers` and pure-JS `@huggingface/tokenizers`)
// and encode to identical ids; GPT-2's vocab.json + merges.txt give the same ids as the Rust library's own loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { loadTokenizer, trainBpe, type Tokenizer } from '../../src/tokenizer/index.ts';
import { fromHfJson } from '../../src/tokenizer/hf-json.ts';
import { UserError } from '../../src/util/errors.ts';
import { EDGE_CASES, GPT2_DIR, makeStories, sharedStories } from './fixtures.ts';
import { sharedSkip } from '../helpers/shared-data.ts';

// `tokenizers` is a CommonJS native addon
const rust = createRequire(import.meta.url)('tokenizers') as typeof import('tokenizers');

async function rustIds(rt: import('tokenizers').Tokenizer, texts: string[]): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < texts.length; i += 512) {
    const enc = await rt.encodeBatch(texts.slice(i, i + 512));
    for (const e of enc) out.push(e.getIds());
  }
  return out;
}

function firstMismatch(ours: Tokenizer, texts: string[], theirs: number[][]): string | undefined {
  for (let i = 0; i < texts.length; i++) {
    const a = ours.encode(texts[i]!);
    if (JSON.stringify(a) !== JSON.stringify(theirs[i])) return `text ${i} ${JSON.stringify(texts[i]!.slice(0, 80))}`;
  }
  return undefined;
}

async function checkTrained(tok: Tokenizer, texts: string[], jsLimit: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hfc-'));
  try {
    const path = join(dir, 'tokenizer.json');
    tok.save(path);
    const rt = rust.Tokenizer.fromFile(path);
    assert.equal(firstMismatch(tok, texts, await rustIds(rt, texts)), undefined, 'Rust tokenizers ids differ');
    const js = new JsTokenizer(JSON.parse(readFileSync(path, 'utf8')), {});
    const some = texts.slice(0, jsLimit);
    assert.equal(firstMismatch(tok, some, some.map((t) => js.encode(t).ids)), undefined, '@huggingface/tokenizers ids differ');
    // decoding agrees too (the JS library throws on an empty id list; ours returns '')
    for (const t of texts.slice(0, 50)) {
      const ids = tok.encode(t);
      if (ids.length) assert.equal(tok.decode(ids), js.decode(ids, { clean_up_tokenization_spaces: false }));
    }
    assert.throws(() => js.decode([]));
    assert.equal(tok.decode([]), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('trained tokenizer.json: identical ids in Rust and JS Hugging Face tokenizers (fixtures + edge cases)', async () => {
  const stories = makeStories(300);
  const tok = await trainBpe(stories, { vocabSize: 512 });
  const texts = [...EDGE_CASES, ...stories.slice(0, 100), stories.slice(0, 5).join('<|endoftext|>')];
  await checkTrained(tok, texts, texts.length);
});

test('trained on the shared TinyStories sample (vocab 4096 and 10000): identical ids', async (t) => {
  const docs = sharedStories();
  if (!docs) return t.skip(sharedSkip('tinystories') || 'shared TinyStories sample absent');
  for (const vocabSize of [4096, 10000]) {
    const tok = await trainBpe(docs, { vocabSize, minFrequency: 1 });
    assert.equal(tok.vocabSize, vocabSize);
    const texts = [...EDGE_CASES, ...docs.map((d) => d + '<|endoftext|>')];
    await checkTrained(tok, texts, 200);
    for (const d of docs.slice(0, 200)) assert.equal(tok.decode(tok.encode(d)), d.normalize('NFC'));
  }
});

test('GPT-2 vocab.json + merges.txt: ids identical to the Rust library loading the same files', async (t) => {
  const skip = sharedSkip(['tokenizer', 'vocab.json']);
  if (skip) return t.skip(skip);
  const ours = loadTokenizer(GPT2_DIR);
  assert.equal(ours.vocabSize, 50257);
  assert.equal(ours.eotId, 50256);
  const model = await rust.BPE.fromFile(join(GPT2_DIR, 'vocab.json'), join(GPT2_DIR, 'merges.txt'));
  const rt = new rust.Tokenizer(model);
  rt.setPreTokenizer(rust.byteLevelPreTokenizer(false, true));
  rt.addSpecialTokens(['<|endoftext|>']);
  const docs = sharedStories() ?? makeStories(200);
  const texts = [...EDGE_CASES, '\u0085 and \ufeff', ...docs.map((d) => d + '<|endoftext|>')];
  assert.equal(firstMismatch(ours, texts, await rustIds(rt, texts)), undefined);
  assert.deepEqual(ours.encode('Hello world'), [15496, 995]);
  // no normalizer: the round trip is exact for any valid UTF-8, NFD included
  for (const s of EDGE_CASES) assert.equal(ours.decode(ours.encode(s)), s);
});

test('a JSON file that is not a Hugging Face tokenizer.json says so instead of "model.type ... got undefined"', () => {
  // tiktoken-style and arbitrary JSON: no "model" object at all
  for (const obj of [{ foo: 1 }, { model: 'gpt2' }, { pat_str: '...', mergeable_ranks: {} }]) {
    assert.throws(
      () => fromHfJson(obj, 'other.json'),
      (e: Error) => e instanceof UserError && /^other\.json: not a Hugging Face tokenizer\.json \(no "model" object\)/.test(e.message),
    );
  }
  // a real HF tokenizer.json of another model type still names the type it found
  assert.throws(() => fromHfJson({ model: { type: 'WordPiece', vocab: {} } }, 'wp.json'), /wp\.json: model\.type must be "BPE".*got "WordPiece"/);
});
