// Token shards: layout, split by document hash, resume with identical output, readers that refuse damaged files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDocuments } from '../../src/data/index.ts';
import { HEADER_BYTES, MANIFEST, SHARD_MAGIC, openShards, shardTokenizerPath, splitOf, tokenizeToShards, type ShardManifest } from '../../src/data/shards.ts';
import { Tokenizer, loadTokenizer, trainBpe } from '../../src/tokenizer/index.ts';
import { UserError } from '../../src/util/errors.ts';
import { Rng } from '../../src/util/rng.ts';
import { makeStories } from '../tokenizer/fixtures.ts';

const stories = makeStories(240, 11);

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'shards-'));
  const data = join(dir, 'stories.txt');
  writeFileSync(data, stories.map((s) => s + '\n<|endoftext|>\n').join(''));
  return { dir, data };
}

async function docsOf(src: string): Promise<string[]> {
  const out: string[] = [];
  for await (const d of readDocuments(src)) out.push(d);
  return out;
}

function filesOf(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))]));
}

test('shards hold each story then <|endoftext|>, split by seeded hash, within the shard size', async () => {
  const { dir, data } = setup();
  try {
    const tok = await trainBpe(stories, { vocabSize: 400 });
    const tokPath = join(dir, 'tok.json');
    tok.save(tokPath);
    const out = join(dir, 'out');
    const s = await tokenizeToShards({ data, tokenizer: tokPath, out, valFraction: 0.2, seed: 5, shardTokens: 3000, threads: 1, quiet: true });
    const docs = await docsOf(data);
    assert.equal(s.train.docs + s.val.docs, docs.length);
    assert.ok(s.val.docs > 20 && s.val.docs < 80, `val docs ${s.val.docs}`);
    assert.ok(s.train.shards > 3);

    const sh = openShards(out, { tokenizer: loadTokenizer(tokPath) });
    assert.equal(sh.vocabSize, 400);
    assert.equal(sh.eotId, tok.eotId);
    for (const split of ['train', 'val'] as const) {
      const expected: number[] = [];
      for (const d of docs) if (splitOf(d, 5, 0.2) === split) expected.push(...tok.encode(d), tok.eotId);
      const got: number[] = [];
      for (const shard of sh[split].shards) {
        assert.ok(shard.tokens instanceof Uint16Array);
        assert.ok(shard.tokens.length <= 3000 || shard.offsets.length === 2);
        for (let d = 0; d + 1 < shard.offsets.length; d++) assert.equal(shard.tokens[shard.offsets[d + 1]! - 1], tok.eotId);
        got.push(...shard.tokens);
      }
      assert.deepEqual(got, expected, split);
      assert.equal(sh[split].length, expected.length);
      // windows cross shard boundaries seamlessly
      const w = sh[split].window(2990, 20);
      assert.deepEqual(Array.from(w), expected.slice(2990, 3010));
      assert.equal(sh[split].at(7), expected[7]);
      const rng = new Rng(3);
      for (let k = 0; k < 20; k++) assert.equal(sh[split].randomWindow(rng, 65).length, 65);
    }
    assert.throws(() => sh.train.window(sh.train.length - 5, 10), RangeError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the split depends on the story text and seed, not its position', () => {
  const a = stories.map((s) => splitOf(s, 9, 0.3));
  const b = [...stories].reverse().map((s) => splitOf(s, 9, 0.3)).reverse();
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, stories.map((s) => splitOf(s, 10, 0.3)));
});

test('resume after an interruption writes byte-identical shards; a finished run is skipped', async () => {
  const { dir, data } = setup();
  try {
    const tokPath = join(dir, 'tok.json');
    (await trainBpe(stories, { vocabSize: 400 })).save(tokPath);
    const out = join(dir, 'out');
    const opts = { data, tokenizer: tokPath, out, valFraction: 0.1, seed: 1, shardTokens: 2500, threads: 1, quiet: true };
    await tokenizeToShards(opts);
    const full = filesOf(out);

    // pretend the run died after the first two train shards: later shards gone, manifest not complete
    const m = JSON.parse(full.get(MANIFEST)!.toString()) as ShardManifest;
    const keep = m.shards.filter((s) => s.split === 'train' && s.index < 2);
    for (const s of m.shards) if (!keep.includes(s)) unlinkSync(join(out, s.file));
    writeFileSync(join(out, MANIFEST), JSON.stringify({ ...m, shards: keep, complete: false }));
    const resumed = await tokenizeToShards(opts);
    assert.equal(resumed.resumedDocs, keep.reduce((a, s) => a + s.docs, 0));
    assert.deepEqual(filesOf(out), full);

    // a damaged shard in the middle is redone from there
    const third = m.shards.find((s) => s.split === 'train' && s.index === 2)!;
    writeFileSync(join(out, third.file), 'garbage');
    writeFileSync(join(out, MANIFEST), JSON.stringify({ ...m, complete: false }));
    await tokenizeToShards(opts);
    assert.deepEqual(filesOf(out), full);

    const again = await tokenizeToShards(opts);
    assert.equal(again.alreadyComplete, true);
    await assert.rejects(tokenizeToShards({ ...opts, seed: 2 }), (e: Error) => e instanceof UserError && /other options/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('worker-thread encoding writes the same shards as the main thread', async () => {
  const { dir, data } = setup();
  try {
    const tokPath = join(dir, 'tok.json');
    (await trainBpe(stories, { vocabSize: 400 })).save(tokPath);
    const base = { data, tokenizer: tokPath, valFraction: 0.1, seed: 1, shardTokens: 4000, quiet: true };
    await tokenizeToShards({ ...base, out: join(dir, 'a'), threads: 1 });
    await tokenizeToShards({ ...base, out: join(dir, 'b'), threads: 2, parallelMinBytes: 0 });
    const a = filesOf(join(dir, 'a'));
    const b = filesOf(join(dir, 'b'));
    a.delete(MANIFEST);
    b.delete(MANIFEST);
    assert.deepEqual(b, a);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('openShards refuses damaged or foreign files and says how to regenerate', async () => {
  const { dir, data } = setup();
  try {
    const tokPath = join(dir, 'tok.json');
    (await trainBpe(stories, { vocabSize: 300 })).save(tokPath);
    const out = join(dir, 'out');
    await tokenizeToShards({ data, tokenizer: tokPath, out, valFraction: 0.1, seed: 1, shardTokens: 1_000_000, threads: 1, quiet: true });
    const file = join(out, 'train_000000.bin');
    const good = readFileSync(file);
    const regen = /regenerate with: tinystories tokenize --data .* --tokenizer .* --out .* --seed 1/;
    const expectErr = (pattern: RegExp) =>
      assert.throws(() => openShards(out), (e: Error) => e instanceof UserError && pattern.test(e.message) && regen.test(e.message));

    const bad = Buffer.from(good);
    bad.writeInt32LE(SHARD_MAGIC + 1, 0);
    writeFileSync(file, bad);
    expectErr(/bad magic/);
    bad.writeInt32LE(SHARD_MAGIC, 0);
    bad.writeInt32LE(99, 4);
    writeFileSync(file, bad);
    expectErr(/version 99/);
    writeFileSync(file, good.subarray(0, good.length - 2));
    expectErr(/size/);
    writeFileSync(file, good.subarray(0, HEADER_BYTES - 4));
    expectErr(/truncated/);
    writeFileSync(file, good);
    assert.equal(openShards(out).train.shards.length, 1);

    const other = await trainBpe(stories, { vocabSize: 290 });
    assert.throws(() => openShards(out, { tokenizer: other }), /different tokenizer/);
    assert.throws(() => openShards(join(dir, 'nowhere')), (e: Error) => e instanceof UserError && /tinystories tokenize/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vocabularies above 65536 ids are stored as uint32', async () => {
  const { dir, data } = setup();
  try {
    const small = await trainBpe(stories, { vocabSize: 300 });
    const pad = Array.from({ length: 70000 - small.data.tokens.length }, (_, i) => `<pad${i}>`);
    const tokens = [...small.data.tokens.slice(0, small.eotId), ...pad, '<|endoftext|>'];
    const big = new Tokenizer({ ...small.data, tokens, specials: [{ id: tokens.length - 1, content: '<|endoftext|>' }] });
    const tokPath = join(dir, 'big.json');
    big.save(tokPath);
    const out = join(dir, 'out');
    await tokenizeToShards({ data, tokenizer: tokPath, out, valFraction: 0, seed: 1, threads: 1, quiet: true });
    const sh = openShards(out);
    assert.equal(sh.manifest.dtype, 'uint32');
    assert.ok(sh.train.shards[0]!.tokens instanceof Uint32Array);
    assert.equal(sh.train.at(sh.train.length - 1), 69999);
    assert.equal(sh.val.length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a token id outside the vocabulary is found when the shards are opened, naming the file and byte offset', async () => {
  const { dir, data } = setup();
  try {
    const tokPath = join(dir, 'tok.json');
    (await trainBpe(stories, { vocabSize: 300 })).save(tokPath);
    const out = join(dir, 'out');
    await tokenizeToShards({ data, tokenizer: tokPath, out, valFraction: 0.1, seed: 1, threads: 1, quiet: true });
    const file = join(out, 'train_000000.bin');
    const bytes = readFileSync(file);
    const ndoc = bytes.readInt32LE(16);
    const at = HEADER_BYTES + (ndoc + 1) * 4 + 2 * 123; // token 123 (uint16)
    bytes.writeUInt16LE(65535, at);
    writeFileSync(file, bytes);
    assert.throws(
      () => openShards(out),
      (e: Error) => e instanceof UserError && e.message.includes(`${file}: token 123 (byte ${at}) is id 65535, outside the vocabulary of 300`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shards record their tokenizer relative to the shard directory, so they work from any folder; older manifests still resolve', async () => {
  const { dir, data } = setup();
  try {
    const tokPath = join(dir, 'tok.json');
    (await trainBpe(stories, { vocabSize: 300 })).save(tokPath);
    const out = join(dir, 'out');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await tokenizeToShards({ data, tokenizer: 'tok.json', out: 'out', valFraction: 0.1, seed: 1, threads: 1, quiet: true });
    } finally {
      process.chdir(cwd);
    }
    const m = JSON.parse(readFileSync(join(out, MANIFEST), 'utf8')) as ShardManifest;
    assert.equal(m.tokenizerFile, join('..', 'tok.json'));
    assert.equal(shardTokenizerPath(out), tokPath); // from this test's cwd, not the one tokenize ran in
    // a manifest written before tokenizerFile: the path as given, relative to where tokenize ran, else to the directory
    delete m.tokenizerFile;
    m.options.tokenizer = '../tok.json';
    writeFileSync(join(out, MANIFEST), JSON.stringify(m));
    assert.equal(shardTokenizerPath(out), tokPath);
    m.options.tokenizer = 'gone.json';
    writeFileSync(join(out, MANIFEST), JSON.stringify(m));
    assert.equal(shardTokenizerPath(out), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('invalid UTF-8 is counted in the summary; a file that is mostly not text is refused', async () => {
  const { dir } = setup();
  try {
    const tok = await trainBpe(stories, { vocabSize: 300 });
    const tokPath = join(dir, 'tok.json');
    tok.save(tokPath);
    const text = Buffer.from(stories.slice(0, 40).map((s) => s + '\n<|endoftext|>\n').join(''));
    const bad = Buffer.concat([text.subarray(0, 500), Buffer.from([0xff, 0xfe]), text.subarray(500, 900), Buffer.from([0xc3]), text.subarray(900)]);
    writeFileSync(join(dir, 'some-bad.txt'), bad);
    const s = await tokenizeToShards({ data: join(dir, 'some-bad.txt'), tokenizer: tokPath, out: join(dir, 'a'), valFraction: 0.1, threads: 1, quiet: true });
    assert.equal(s.replacedChars, 3); // 0xff, 0xfe and a lone lead byte: one U+FFFD each
    const binary = Buffer.alloc(20000);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 7919) % 256;
    writeFileSync(join(dir, 'program.txt'), binary);
    await assert.rejects(
      tokenizeToShards({ data: join(dir, 'program.txt'), tokenizer: tokPath, out: join(dir, 'b'), threads: 1, quiet: true }),
      (e: Error) => e instanceof UserError && /program\.txt: does not look like text: \d+ of the first \d+ characters are invalid UTF-8 or control bytes/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
