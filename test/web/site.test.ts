// The static site in headless Chromium (Debian's chromium + playwright-core), served by a plain static server with
// no COOP/COEP headers: the site's own service worker must make the page cross-origin isolated. One pass through
// the small loop: load a corpus file, train in the page and see the loss fall, reload mid-run and see training
// resume from the saved checkpoint, stream a sample, export the run as a zip and load it with the CLI.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildSite } from '../../scripts/build-site.mjs';
import { serveStatic } from '../helpers/static-site.ts';
import { loadModelFiles } from '../../src/checkpoint/run-dir.ts';
import { writeGguf } from '../../src/interop/index.ts';
import { readZip } from '../../src/util/zip.ts';
import { loadTokenizer } from '../../src/tokenizer/hf-json.ts';
import { writeParquet } from '../data/parquet-writer.ts';
import { makeStories } from '../train/fixture-stories.ts';

const root = join(import.meta.dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const skip = !existsSync(CHROMIUM)
  ? `chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`
  : !existsSync(join(root, 'build/kernels-simd.wasm')) ? 'build/*.wasm missing (npm run build)' : false;
if (skip) console.log(`# skipping the site test: ${skip}`);

let tmp = '';
let server: Server;
let base = '';
let browser: Browser;
let page: Page;
const problems: string[] = [];

before(async () => {
  if (skip) return;
  tmp = mkdtempSync(join(tmpdir(), 'ts-site-'));
  const site = join(tmp, 'site');
  await buildSite({ outdir: site, quiet: true });
  // a plain static server: no isolation headers, the service worker adds them
  ({ server, base } = await serveStatic(site, (p, _req, res) => {
    if (p !== '/data/stories.jsonl') return false;
    // a corpus "on the web": JSONL records with a text field, streamed in chunks
    res.writeHead(200, { 'content-type': 'application/jsonl' });
    res.end(makeStories(120, 3).map((t) => JSON.stringify({ text: t })).join('\n') + '\n');
    return true;
  }));
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
});

after(async () => {
  await browser?.close();
  server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const attr = (sel: string, name: string) => page.getAttribute(sel, name);

async function openTrain(): Promise<void> {
  await page.waitForSelector('#app[data-page="train"][data-ready="true"]', { timeout: 20_000 });
}

test('the static site trains in the page, resumes after a reload, pauses and resumes, streams a sample, and exports a zip the CLI samples', { skip, timeout: 120_000 }, async () => {
  await page.goto(base + 'index.html#/train');
  await openTrain();
  // isolation came from the service worker (the server sends no COOP/COEP): wasm threads on a SharedArrayBuffer
  assert.equal(await attr('html', 'data-isolated'), 'true', 'the service worker made the page cross-origin isolated');
  assert.ok(Number(await attr('html', 'data-threads')) >= 2, 'the engine runs on several threads');

  // a small corpus file, dropped in through the file control
  const corpus = join(tmp, 'stories.txt');
  writeFileSync(corpus, makeStories(250, 7).join('\n<|endoftext|>\n'));
  await page.setInputFiles('[data-role=corpus-file]', corpus);
  await page.waitForFunction(() => /stories\.txt: \d+ training/.test(document.querySelector('[data-role=corpus-info]')?.textContent ?? ''), null, { timeout: 15_000 });

  for (const [role, v] of [['steps', '60'], ['batch', '4'], ['seq', '64'], ['vocab', '300'], ['sample-every', '0'], ['checkpoint-every', '10']]) await page.fill(`[data-role=${role}]`, v!);
  await page.click('[data-role=start]');
  await page.waitForFunction(() => Number(document.querySelector('[data-role=step]')?.getAttribute('data-step') ?? 0) >= 12, null, { timeout: 40_000 });

  // reload mid-run: the saved checkpoint (every 10 steps) is where training continues
  const before = Number(await attr('[data-role=step]', 'data-step'));
  await page.reload();
  await openTrain();
  await page.waitForSelector('[data-role=train-status][data-resumed-from]', { timeout: 15_000 });
  const resumed = Number(await attr('[data-role=train-status]', 'data-resumed-from'));
  assert.ok(resumed >= 10 && resumed <= before && resumed % 10 === 0, `resumed from step ${resumed} (the page had reached ${before})`);
  // Pause stops after the current step with a checkpoint; Resume continues from it
  await page.click('[data-role=pause]');
  await page.waitForSelector('[data-role=train-status][data-phase=paused]', { timeout: 15_000 });
  const paused = Number(await attr('[data-role=step]', 'data-step'));
  assert.match((await page.textContent('[data-role=train-status]'))!, new RegExp(`^paused at step ${paused}$`));
  await page.waitForTimeout(300);
  assert.equal(Number(await attr('[data-role=step]', 'data-step')), paused, 'no steps while paused');
  await page.click('[data-role=resume]');
  await page.waitForFunction(() => /^done: step 60$/.test(document.querySelector('[data-role=train-status]')?.textContent ?? ''), null, { timeout: 40_000 });
  assert.equal(await page.textContent('[data-role=step]'), 'step 60 / 60');
  const first = Number(await attr('[data-role=train-stats]', 'data-first-loss'));
  const last = Number(await attr('[data-role=train-stats]', 'data-last-loss'));
  assert.ok(last < first - 0.5, `the loss fell: ${first} over the first steps, ${last} over the last`);
  // the page samples a story when training ends
  await page.waitForSelector('[data-role=final-sample][data-done=true]', { timeout: 15_000 });

  // the playground streams from the in-page model, token by token with probabilities
  await page.goto(base + 'index.html#/playground');
  await page.waitForSelector('#app[data-page="playground"][data-ready="true"]');
  await page.fill('[data-role=prompt]', 'Once upon a time');
  await page.fill('[data-role=temperature]', '0');
  await page.fill('[data-role=maxTokens]', '12');
  await page.click('[data-role=generate]');
  await page.waitForFunction(() => /tokens, stopped by/.test(document.querySelector('[data-role=gen-info]')?.textContent ?? ''), null, { timeout: 15_000 });
  const probs = await page.$$eval('[data-role=output] .tok', (els) => els.map((e) => Number(e.getAttribute('data-prob'))));
  assert.ok(probs.length >= 1 && probs.every((p) => p > 0 && p <= 1), `streamed tokens with probabilities: ${probs}`);
  const pageText = (await page.$$eval('[data-role=output] .tok', (els) => els.map((e) => e.textContent).join(''))).trim();

  // export: the zip holds the CLI's run files, and `tinystories sample --run` writes the same greedy story
  await page.goto(base + 'index.html#/train');
  await openTrain();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-role=export]')]);
  const zipPath = join(tmp, 'run.zip');
  await download.saveAs(zipPath);
  const entries = [...readZip(readFileSync(zipPath), 'run.zip').values()];
  assert.deepEqual(entries.map((e) => e.name).sort(), ['config.json', 'model.safetensors', 'tokenizer.json']);
  const runDir = join(tmp, 'unzipped');
  mkdirSync(runDir);
  for (const e of entries) writeFileSync(join(runDir, e.name), e.data);
  const out = execFileSync(process.execPath, [join(root, 'bin/tinystories.mjs'), 'sample', '--run', runDir, '--prompt', 'Once upon a time', '--temperature', '0', '--max-tokens', '12', '--json', '--backend=ref'], { encoding: 'utf8', timeout: 30_000 });
  const cli = JSON.parse(out) as { text: string; tokens: Array<{ prob: number }> };
  // the same greedy tokens with the same probabilities (WASM kernels in the page, the TS reference in the CLI)
  assert.equal(cli.text.trim(), pageText, 'the CLI writes the story the page streamed');
  assert.equal(cli.tokens.length, probs.length);
  cli.tokens.forEach((t, i) => assert.ok(Math.abs(t.prob - probs[i]!) < 2e-3, `token ${i}: p ${t.prob} in the CLI, ${probs[i]} in the page`));

  // the zip opens again (the file control takes what drag-and-drop takes) as the page's model
  await page.setInputFiles('[data-role=corpus-file]', zipPath);
  await page.waitForFunction(() => /^run: opened from a file/.test(document.querySelector('[data-role=step]')?.textContent ?? ''), null, { timeout: 15_000 });
  // a GGUF of the same model (written by the interop writer) opens through the interop reader in the page
  const files = loadModelFiles(runDir);
  const ggufPath = join(tmp, 'exported.gguf');
  writeFileSync(ggufPath, Buffer.concat(writeGguf({ config: files.config, tensors: files.tensors, tokenizer: loadTokenizer(files.tokenizerPath) }, 'F32')));
  await page.setInputFiles('[data-role=corpus-file]', ggufPath);
  await page.waitForFunction(() => /^exported: opened from a file/.test(document.querySelector('[data-role=step]')?.textContent ?? ''), null, { timeout: 15_000 });
  assert.deepEqual(problems, []);
});

test('attention maps, the guessing game and the neuron browser run on the in-page model', { skip, timeout: 60_000 }, async () => {
  await page.goto(base + 'index.html#/attention');
  await page.waitForSelector('#app[data-page="attention"][data-ready="true"]');
  await page.click('[data-role=attn-go]');
  await page.waitForSelector('[data-role=big-heatmap]', { timeout: 15_000 });
  // the 260K preset: 5 layers of 8 heads
  assert.equal(await page.$$eval('[data-role=heads] figure', (f) => f.length), 40);
  await page.goto(base + 'index.html#/game');
  await page.waitForSelector('#app[data-page="game"][data-ready="true"]');
  await page.waitForFunction(() => /^story 1 of \d+ \(validation split/.test(document.querySelector('[data-role=feedback]')?.textContent ?? ''), null, { timeout: 15_000 });
  await page.click('[data-role=give-up]');
  assert.match((await page.textContent('[data-role=feedback]'))!, /the model ranked it #\d+/);
  // the neuron scan of src/inspect runs in the worker over the page's corpus; a class filter narrows the cards
  await page.goto(base + 'index.html#/neurons');
  await page.waitForSelector('#app[data-page="neurons"][data-ready="true"]', { timeout: 30_000 });
  const all = await page.$$eval('[data-role=neuron-cards] .card', (c) => c.length);
  assert.ok(all >= 10, `${all} neuron cards`);
  await page.selectOption('[data-role=neuron-class]', 'punctuation');
  await page.waitForFunction(() => {
    const cards = Array.from(document.querySelectorAll('[data-role=neuron-cards] .card'));
    return cards.length > 0 && cards.every((c) => c.textContent!.includes('· punctuation ·'));
  }, null, { timeout: 10_000 });
  assert.deepEqual(problems, []);
});

test('corpus files: JSONL fetched from a URL and a parquet file are read into the page\'s corpus', { skip, timeout: 30_000 }, async () => {
  await page.goto(base + 'index.html#/train');
  await openTrain();
  await page.fill('[data-role=corpus-url]', base + 'data/stories.jsonl');
  await page.click('[data-role=corpus-fetch]');
  await page.waitForFunction(() => /^stories\.jsonl: \d+ training \/ \d+ validation stories$/.test(document.querySelector('[data-role=corpus-info]')?.textContent ?? ''), null, { timeout: 15_000 });
  const [train, val] = (await page.textContent('[data-role=corpus-info]'))!.match(/\d+/g)!.map(Number);
  assert.equal(train! + val!, 120);
  const parquet = join(tmp, 'stories.parquet');
  writeFileSync(parquet, writeParquet({ text: makeStories(90, 4) }, { rowGroupSize: 40, codec: 'GZIP' }));
  await page.setInputFiles('[data-role=corpus-file]', parquet);
  await page.waitForFunction(() => /^stories\.parquet: \d+ training \/ \d+ validation stories$/.test(document.querySelector('[data-role=corpus-info]')?.textContent ?? ''), null, { timeout: 15_000 });
  const n = (await page.textContent('[data-role=corpus-info]'))!.match(/\d+/g)!.map(Number);
  assert.equal(n[0]! + n[1]!, 90);
  assert.deepEqual(problems, []);
});

test('after the first visit the site loads offline from the service worker cache, saved run included', { skip, timeout: 30_000 }, async () => {
  await page.context().setOffline(true);
  try {
    await page.goto(base + 'index.html#/train');
    await openTrain();
    assert.equal(await attr('html', 'data-isolated'), 'true');
    assert.match((await page.textContent('[data-role=step]'))!, /opened from a file/);
  } finally {
    await page.context().setOffline(false);
  }
});

test('where no service worker can run, the page says so and the demo link trains on one thread, then samples a story', { skip, timeout: 60_000 }, async () => {
  const ctx = await browser.newContext({ serviceWorkers: 'block' });
  try {
    const p = await ctx.newPage();
    await p.goto(base + 'index.html#train?preset=260K&steps=3&batch=2&seq=32');
    await p.waitForSelector('#app[data-page="train"][data-ready="true"]', { timeout: 20_000 });
    assert.equal(await p.getAttribute('html', 'data-isolated'), 'false');
    assert.equal(await p.getAttribute('html', 'data-threads'), '1');
    assert.match((await p.textContent('[data-role=isolation]'))!, /not cross-origin isolated.*one thread/);
    // the demo link: training starts at once, "step 3" shows when done, then a story is sampled
    await p.waitForFunction(() => /^done: step 3$/.test(document.querySelector('[data-role=train-status]')?.textContent ?? ''), null, { timeout: 45_000 });
    assert.equal(await p.textContent('[data-role=step]'), 'step 3 / 3');
    await p.waitForSelector('[data-role=final-sample][data-done=true]', { timeout: 15_000 });
    assert.match((await p.textContent('[data-role=final-sample]'))!, /^Once upon a time./);
  } finally {
    await ctx.close();
  }
});
