// The tokenizer CLI commands end to end: train, encode (flag and stdin), decode, tokenize, and one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openShards } from '../../src/data/shards.ts';
import { loadTokenizer } from '../../src/tokenizer/index.ts';
import { makeStories } from './fixtures.ts';

const BIN = new URL('../../bin/tinystories.mjs', import.meta.url).pathname;
function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('tokenizer train / encode / decode and tokenize from the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokcli-'));
  try {
    const data = join(dir, 'stories.txt');
    writeFileSync(data, makeStories(150).map((s) => s + '\n<|endoftext|>\n').join(''));
    const tokPath = join(dir, 'tok.json');
    const train = cli(['tokenizer', 'train', '--data', data, '--vocab-size', '320', '--out', tokPath, '-q']);
    assert.equal(train.code, 0, train.err);
    assert.match(train.out, /vocab 320/);
    const tok = loadTokenizer(tokPath);
    assert.equal(tok.vocabSize, 320);

    const enc = cli(['tokenizer', 'encode', '--tokenizer', tokPath, '--text', 'Once upon a time<|endoftext|>']);
    assert.equal(enc.code, 0, enc.err);
    assert.deepEqual(JSON.parse(enc.out), tok.encode('Once upon a time<|endoftext|>'));
    const stdin = cli(['tokenizer', 'encode', '--tokenizer', tokPath], 'Lily found a ball.\n');
    assert.deepEqual(JSON.parse(stdin.out), tok.encode('Lily found a ball.\n'));
    const dec = cli(['tokenizer', 'decode', '--tokenizer', tokPath, '--ids', enc.out.trim()]);
    assert.equal(dec.out, 'Once upon a time<|endoftext|>\n');

    const out = join(dir, 'shards');
    const tz = cli(['tokenize', '--data', data, '--tokenizer', tokPath, '--out', out, '--val-fraction', '0.1', '--seed', '4', '-q']);
    assert.equal(tz.code, 0, tz.err);
    assert.match(tz.out, /train \d+ tokens \/ \d+ stories/);
    const sh = openShards(out);
    assert.equal(sh.train.docs + sh.val.docs, 150);
    assert.match(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).command, /--seed 4/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input gives one clear line and a non-zero exit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokcli-'));
  const bad = cli(['tokenizer', 'train', '--data', 'builtin:mini', '--vocab-size', 'lots', '--out', join(dir, 'x.json')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /--vocab-size: expected an integer in \[257, 16777216\], got "lots"/);
  const missing = cli(['tokenizer', 'encode', '--tokenizer', '/nonexistent/tok.json', '--text', 'x']);
  assert.equal(missing.code, 1);
  assert.equal(missing.err.trim().split('\n').length, 1);
  assert.match(missing.err, /tokenizer not found: \/nonexistent\/tok.json/);
  const shards = cli(['tokenize', '--data', 'builtin:mini', '--tokenizer', '/nonexistent/tok.json', '--out', join(dir, 'never')]);
  assert.equal(shards.code, 1);
  rmSync(dir, { recursive: true, force: true });
});

test('an --out of the wrong kind is refused up front with one line, not a raw EISDIR/EEXIST after the work', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-tok-out-'));
  try {
    const file = join(dir, 'story.txt');
    writeFileSync(file, 'Once upon a time.\n<|endoftext|>\n');
    const train = cli(['tokenizer', 'train', '--data', file, '--vocab-size', '300', '--out', dir, '-q']);
    assert.equal(train.code, 1);
    assert.equal(train.err.trim().split('\n').length, 1, train.err);
    assert.match(train.err, /--out .*: is a directory; expected a file path/);
    const under = cli(['tokenizer', 'train', '--data', file, '--vocab-size', '300', '--out', join(file, 'tok.json'), '-q']);
    assert.equal(under.code, 1);
    assert.match(under.err, /story\.txt is a file, so nothing can be created under it/);
    const shards = cli(['tokenize', '--data', file, '--tokenizer', join(dir, 'missing.json'), '--out', file, '-q']);
    assert.equal(shards.code, 1);
    assert.match(shards.err, /--out .*story\.txt: is a file; expected a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
