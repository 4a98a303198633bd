// Corpus statistics and the `tinystories data ...` commands (stats, head, download), run as a user would.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeStats, countWordsAndChars, readDocuments } from '../../src/data/index.ts';
import { startMockHub } from './mock-hub.ts';
import { sharedData, sharedSkip } from '../helpers/shared-data.ts';

let dir: string;
let fixture: string;
const STORIES = ['One two three.', 'A b c d e f.', 'Tom’s “cat” ran far away home.', 'x y', 'One two three.'];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ts-stats-'));
  fixture = join(dir, 'stories.txt');
  writeFileSync(fixture, STORIES.map((s) => `${s}\n<|endoftext|>\n`).join('') + 'Zoe\u0308 â€œsaidâ€\u009d hi.\n<|endoftext|>\n');
});

after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/tinystories.mjs', ...args], {
    cwd: join(import.meta.dirname, '..', '..'),
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('countWordsAndChars counts whitespace-separated words and code points', () => {
  const s = '  Hi  there\nfriend 🐶 ';
  assert.deepEqual(countWordsAndChars(s), { words: 4, characters: [...s].length });
  assert.equal([...s].length, s.length - 1);
  assert.deepEqual(countWordsAndChars(''), { words: 0, characters: 0 });
});

test('computeStats: counts, length percentiles, hygiene, and tokens with any encoder', async () => {
  const whitespaceTokens = { encode: (t: string) => t.split(/\s+/).filter(Boolean).map((_, i) => i) };
  const s = await computeStats(fixture, { tokenizer: whitespaceTokens });
  assert.equal(s.stories, 5);
  assert.equal(s.hygiene.duplicatesRemoved, 1);
  assert.equal(s.hygiene.nfcChanged, 1);
  assert.equal(s.hygiene.mojibakeRepairs, 2);
  assert.equal(s.words, 3 + 6 + 6 + 2 + 3);
  assert.deepEqual(
    { min: s.storyWords.min, p50: s.storyWords.p50, max: s.storyWords.max, mean: s.storyWords.mean },
    { min: 2, p50: 3, max: 6, mean: 4 },
  );
  assert.equal(s.tokens!.total, s.words);
  assert.equal(s.characters, [...STORIES.slice(0, 4), 'Zoë “said” hi.'].reduce((n, t) => n + [...t].length, 0));
});

test('CLI: data stats prints JSON and text; bad input exits 1 with one line', () => {
  const j = cli(['data', 'stats', fixture, '--json']);
  assert.equal(j.code, 0, j.stderr);
  const stats = JSON.parse(j.stdout);
  assert.equal(stats.stories, 5);
  assert.equal(stats.hygiene.duplicatesRemoved, 1);
  assert.equal(stats.tokens, undefined);
  const t = cli(['data', 'stats', fixture, '--no-dedupe']);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^stories\s+6$/m);
  assert.match(t.stdout, /2 mojibake repairs, 0 duplicates removed, 1 NFC changes/);
  const bad = cli(['data', 'stats', join(dir, 'nope.txt')]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.match(bad.stderr, /^tinystories: .*nope\.txt: no such file or directory/);
  const tok = cli(['data', 'stats', fixture, '--tokenizer', join(dir, 'missing-tokenizer.json')]);
  assert.equal(tok.code, 1, 'a missing tokenizer file is an error');
  assert.equal(tok.stderr.trim().split('\n').length, 1, tok.stderr);
});

const GPT2 = sharedData('tokenizer');
test('CLI: data stats --tokenizer counts tokens with the project tokenizer (GPT-2 vocab.json + merges.txt)', { skip: sharedSkip('tokenizer') }, async () => {
  const r = cli(['data', 'stats', fixture, '--tokenizer', GPT2, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const stats = JSON.parse(r.stdout);
  const { loadTokenizer } = await import('../../src/tokenizer/index.ts');
  const tok = loadTokenizer(GPT2);
  let want = 0;
  for await (const story of readDocuments(fixture)) want += tok.encode(story).length;
  assert.ok(want > stats.stories);
  assert.equal(stats.tokens.total, want);
});

test('CLI: data head prints cleaned stories; data download fetches from the hub into the cache', async () => {
  const h = cli(['data', 'head', fixture, '-n', '2']);
  assert.equal(h.code, 0, h.stderr);
  assert.equal(h.stdout, 'One two three.\n<|endoftext|>\nA b c d e f.\n<|endoftext|>\n');
  const hub = await startMockHub({ 'o/r/main/s.txt': { content: Buffer.from('Hub story.\n<|endoftext|>\n') } });
  try {
    const cache = join(dir, 'cache');
    // spawnSync would block the mock server in this process, so run the CLI asynchronously
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['bin/tinystories.mjs', 'data', 'download', 'hf:o/r/s.txt', '-q'], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: { ...process.env, TINYSTORIES_CACHE: cache, TINYSTORIES_HF_ENDPOINT: hub.endpoint },
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    assert.equal(code, 0);
    assert.equal(out.trim(), join(cache, 'hf', 'o', 'r', 'main', 's.txt'));
    assert.ok(existsSync(out.trim()));
  } finally {
    await hub.close();
  }
});
