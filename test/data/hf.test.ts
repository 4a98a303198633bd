// The Hugging Face downloader against a local mock hub: redirects, Range resume, cut transfers, ETag checks, 404, offline.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { downloadHf, hfCachePath, hfResolveUrl, parseHfSpec, readDocuments, sourceSizeBytes } from '../../src/data/index.ts';
import { UserError as UserErrorLike } from '../../src/util/errors.ts';
import { startMockHub, sha256, type MockHub } from './mock-hub.ts';

let hub: MockHub;
let cache: string;
const quiet = { quiet: true, retryDelayMs: 0 };

function stories(n: number, tag: string): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`Story ${tag} ${i}. Tom saw a “red” ball and it’s big.\nHe was happy.\n<|endoftext|>\n`);
  return Buffer.from(parts.join(''), 'utf8');
}

const small = stories(40, 'small');
const big = stories(3000, 'big'); // ~200 KB, big enough to be cut mid-way

before(async () => {
  hub = await startMockHub({
    'roneneldan/TinyStories/main/small.txt': { content: small },
    'roneneldan/TinyStories/main/data/part 1.txt': { content: small, lfs: false },
    'roneneldan/TinyStories/v1.0/small.txt': { content: stories(3, 'rev') },
    'roneneldan/TinyStories/main/cut.txt': { content: big, cutAfter: 70_000, cutTimes: 2 },
    'roneneldan/TinyStories/main/bad.txt': { content: small, etag: sha256('something else') },
    'roneneldan/TinyStories/main/flaky.txt': { content: big, cutAfter: 30_000, cutTimes: 100 },
    'roneneldan/TinyStories/main/stall.txt': { content: big, stallAfter: 20_000 },
    'roneneldan/TinyStories/main/norange.txt': { content: big, noRange: true, cutAfter: 50_000 },
  });
  process.env.TINYSTORIES_HF_ENDPOINT = hub.endpoint;
});

const caches: string[] = [];
after(async () => {
  await hub.close();
  for (const c of caches) rmSync(c, { recursive: true, force: true });
});

beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), 'ts-hf-cache-'));
  caches.push(cache);
  process.env.TINYSTORIES_CACHE = cache;
  hub.log.length = 0;
});

test('hf: specs resolve to the hub resolve URL, with an optional revision', () => {
  const s = parseHfSpec('hf:roneneldan/TinyStories/TinyStoriesV2-GPT4-valid.txt');
  assert.deepEqual(s, { owner: 'roneneldan', repo: 'TinyStories', revision: 'main', path: 'TinyStoriesV2-GPT4-valid.txt' });
  assert.equal(
    hfResolveUrl(s, 'https://huggingface.co'),
    'https://huggingface.co/datasets/roneneldan/TinyStories/resolve/main/TinyStoriesV2-GPT4-valid.txt',
  );
  // a revision with slashes is written URL-encoded
  const r = parseHfSpec('hf:owner/repo@refs%2Fconvert%2Fparquet/default/train/0000.parquet');
  assert.equal(r.revision, 'refs/convert/parquet');
  assert.equal(r.path, 'default/train/0000.parquet');
  assert.equal(hfResolveUrl(r, 'http://x'), 'http://x/datasets/owner/repo/resolve/refs%2Fconvert%2Fparquet/default/train/0000.parquet');
  const v = parseHfSpec('hf:owner/repo@v1.0/data/a b.txt');
  assert.equal(v.revision, 'v1.0');
  assert.equal(v.path, 'data/a b.txt');
  assert.equal(hfResolveUrl(v, 'http://x'), 'http://x/datasets/owner/repo/resolve/v1.0/data/a%20b.txt');
  for (const bad of ['hf:owner', 'hf:owner/repo', 'hf:owner/repo/', 'hf:o/r/../etc/passwd', 'hf:o/r//x']) {
    assert.throws(() => parseHfSpec(bad), UserErrorLike, bad);
  }
});

test('downloads through the 302 redirect, verifies the sha256 ETag, then serves from the cache offline', async () => {
  const path = await downloadHf('hf:roneneldan/TinyStories/small.txt', quiet);
  assert.equal(path, join(cache, 'hf', 'roneneldan', 'TinyStories', 'main', 'small.txt'));
  assert.deepEqual(readFileSync(path), small);
  assert.ok(!existsSync(path + '.part') && !existsSync(path + '.part.json'));
  assert.deepEqual(
    hub.log.map((l) => l.status),
    [302, 200],
  );
  assert.match(hub.log[1]!.url, /^\/cdn\//);
  hub.log.length = 0;
  assert.equal(await downloadHf('hf:roneneldan/TinyStories/small.txt', quiet), path);
  assert.equal(hub.log.length, 0, 'a cached file needs no request');
  assert.equal(await sourceSizeBytes('hf:roneneldan/TinyStories/small.txt'), small.length);
});

test('a non-LFS file (200 with a git blob sha1 ETag) and a revision other than main', async () => {
  const p = await downloadHf('hf:roneneldan/TinyStories/data/part 1.txt', quiet);
  assert.deepEqual(readFileSync(p), small);
  assert.equal(hub.log[0]!.url, '/datasets/roneneldan/TinyStories/resolve/main/data/part 1.txt');
  const r = await downloadHf('hf:roneneldan/TinyStories@v1.0/small.txt', quiet);
  assert.ok(r.includes(join('TinyStories', 'v1.0')));
  assert.match(readFileSync(r, 'utf8'), /Story rev 2/);
});

test('a transfer cut mid-way is resumed with Range requests until complete', async () => {
  const p = await downloadHf('hf:roneneldan/TinyStories/cut.txt', quiet);
  assert.equal(sha256(readFileSync(p)), sha256(big));
  const cdn = hub.log.filter((l) => l.url.startsWith('/cdn/'));
  assert.equal(cdn.length, 3, JSON.stringify(hub.log));
  assert.equal(cdn[0]!.range, undefined);
  // each resumed request starts where the kept bytes end: after 0 < n1 <= 70,000 bytes, then n1 < n2 <= n1 + 70,000
  // (the mock cuts each of two transfers after 70,000 bytes; the client may lose the tail still in flight)
  const offsets = cdn.slice(1).map((l) => Number(/^bytes=(\d+)-$/.exec(l.range ?? '')?.[1]));
  assert.equal(cdn[1]!.status, 206);
  assert.equal(cdn[2]!.status, 206);
  assert.ok(offsets[0]! > 0 && offsets[0]! <= 70_000, String(offsets));
  assert.ok(offsets[1]! > offsets[0]! && offsets[1]! <= offsets[0]! + 70_000, String(offsets));
  // the redirecting hub URL was asked again with the same Range header
  const hubHits = hub.log.filter((l) => l.url.startsWith('/datasets/'));
  assert.deepEqual(hubHits.map((l) => l.range), [undefined, cdn[1]!.range, cdn[2]!.range]);
});

test('a stalled transfer is abandoned after the idle timeout and resumed', async () => {
  const t0 = performance.now();
  const p = await downloadHf('hf:roneneldan/TinyStories/stall.txt', { ...quiet, idleTimeoutMs: 300 });
  assert.equal(sha256(readFileSync(p)), sha256(big));
  assert.ok(performance.now() - t0 >= 300);
  const cdn = hub.log.filter((l) => l.url.startsWith('/cdn/'));
  assert.equal(cdn.length, 2);
  assert.match(cdn[1]!.range!, /^bytes=[1-9]\d*-$/);
});

test('when resumes run out the partial file is kept and the error says to run again', async () => {
  const dest = hfCachePath(parseHfSpec('hf:roneneldan/TinyStories/flaky.txt'));
  await assert.rejects(downloadHf('hf:roneneldan/TinyStories/flaky.txt', { ...quiet, maxResumes: 1 }), (e: Error) => {
    assert.ok(e instanceof UserErrorLike);
    assert.match(e.message, /cut 2 times .*run again to resume/);
    return true;
  });
  assert.ok(!existsSync(dest));
  const kept = readFileSync(dest + '.part');
  assert.ok(kept.length > 0 && kept.length <= 60_000);
  assert.deepEqual(kept, big.subarray(0, kept.length), 'the kept bytes are a prefix of the file');
});

test('a partial file from an earlier run is resumed; one from a changed upstream file is discarded', async () => {
  const spec = parseHfSpec('hf:roneneldan/TinyStories/small.txt');
  const dest = hfCachePath(spec);
  mkdirSync(dirname(dest), { recursive: true });
  const url = hfResolveUrl(spec);
  writeFileSync(dest + '.part', small.subarray(0, 1000));
  writeFileSync(dest + '.part.json', JSON.stringify({ url, etag: sha256(small), size: small.length }));
  await downloadHf(spec, quiet);
  assert.deepEqual(readFileSync(dest), small);
  assert.equal(hub.log.find((l) => l.url.startsWith('/cdn/'))!.range, 'bytes=1000-');

  rmSync(dest);
  hub.log.length = 0;
  writeFileSync(dest + '.part', Buffer.from('x'.repeat(1000)));
  writeFileSync(dest + '.part.json', JSON.stringify({ url, etag: 'an-older-version', size: 5000 }));
  await downloadHf(spec, quiet);
  assert.deepEqual(readFileSync(dest), small, 'the stale partial bytes must not survive');
  const cdn = hub.log.filter((l) => l.url.startsWith('/cdn/'));
  assert.equal(cdn.at(-1)!.range, undefined, 'restarted from zero');
});

test('a server that ignores Range restarts the file instead of appending a second copy', async () => {
  const p = await downloadHf('hf:roneneldan/TinyStories/norange.txt', quiet);
  assert.equal(sha256(readFileSync(p)), sha256(big));
  assert.ok(hub.log.some((l) => l.range !== undefined && l.status === 200));
});

test('content that does not match the announced ETag is rejected and removed', async () => {
  await assert.rejects(downloadHf('hf:roneneldan/TinyStories/bad.txt', quiet), (e: Error) => {
    assert.ok(e instanceof UserErrorLike);
    assert.match(e.message, /does not match its ETag/);
    return true;
  });
  const dest = hfCachePath(parseHfSpec('hf:roneneldan/TinyStories/bad.txt'));
  assert.ok(!existsSync(dest) && !existsSync(dest + '.part'));
});

test('404 names the URL; offline names the URL and the cache path to fill by hand', async () => {
  await assert.rejects(downloadHf('hf:roneneldan/TinyStories/missing.txt', quiet), (e: Error) => {
    assert.ok(e instanceof UserErrorLike);
    assert.match(e.message, /\/datasets\/roneneldan\/TinyStories\/resolve\/main\/missing\.txt: not found \(HTTP 404\)/);
    return true;
  });
  // a port with nothing listening
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  process.env.TINYSTORIES_HF_ENDPOINT = `http://127.0.0.1:${port}`;
  try {
    const dest = hfCachePath(parseHfSpec('hf:roneneldan/TinyStories/TinyStoriesV2-GPT4-valid.txt'));
    await assert.rejects(downloadHf('hf:roneneldan/TinyStories/TinyStoriesV2-GPT4-valid.txt', quiet), (e: Error) => {
      assert.ok(e instanceof UserErrorLike);
      assert.ok(e.message.includes(`http://127.0.0.1:${port}/datasets/roneneldan/TinyStories/resolve/main/TinyStoriesV2-GPT4-valid.txt`), e.message);
      assert.ok(e.message.includes(dest), e.message);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    // putting the file there by hand makes it work offline
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, 'Hand-placed story one.\n<|endoftext|>\nHand-placed story two.\n<|endoftext|>\n');
    const got: string[] = [];
    for await (const s of readDocuments('hf:roneneldan/TinyStories/TinyStoriesV2-GPT4-valid.txt')) got.push(s);
    assert.deepEqual(got, ['Hand-placed story one.', 'Hand-placed story two.']);
  } finally {
    process.env.TINYSTORIES_HF_ENDPOINT = hub.endpoint;
  }
});

test('readDocuments on hf: downloads, then reads and cleans the stories', async () => {
  const got: string[] = [];
  for await (const s of readDocuments('hf:roneneldan/TinyStories/small.txt', { download: quiet })) got.push(s);
  assert.equal(got.length, 40);
  assert.equal(got[0], 'Story small 0. Tom saw a “red” ball and it’s big.\nHe was happy.');
});
