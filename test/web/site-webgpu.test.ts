// The static site's WebGPU backend in headless Chromium (WebGPU enabled by flags; on a machine without a GPU Chromium
// offers SwiftShader, a CPU emulation, inside the engine Web Worker): with backend=webgpu chosen, the GPU-resident
// trainer lowers the loss, the checkpoint in IndexedDB holds weights and AdamW moments read back from the GPU, and the
// exported zip samples in the CLI (WASM kernels) the same greedy story the page's GPU decoder streamed; with
// backend=auto a CPU-emulated adapter is passed over for WASM and the page says why.
// Skips with a printed reason when Chromium, the WASM build or a browser WebGPU adapter is absent.
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
import { readZip } from '../../src/util/zip.ts';

const root = join(import.meta.dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// webgpu-browser.test.ts's flags: WebGPU on whatever adapter Chromium finds (SwiftShader without a GPU)
const CHROMIUM_ARGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--ignore-gpu-blocklist', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const skip = !existsSync(CHROMIUM)
  ? `chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`
  : !existsSync(join(root, 'build/kernels-simd.wasm')) ? 'build/*.wasm missing (npm run build)' : false;
if (skip) console.log(`# skipping the site WebGPU test: ${skip}`);

const TOKENS = 30;

let tmp = '';
let server: Server;
let base = '';
let browser: Browser;
let page: Page;
const problems: string[] = [];
/** The adapter the webgpu run trained on (its engine line), when there was one. */
let adapterLine: string | null = null;

before(async () => {
  if (skip) return;
  tmp = mkdtempSync(join(tmpdir(), 'ts-site-gpu-'));
  const site = join(tmp, 'site');
  await buildSite({ outdir: site, quiet: true });
  ({ server, base } = await serveStatic(site));
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

/** A greedy story on the playground; asserts that the page's GPU decoder (f32 weights) wrote it. */
async function greedy(p: Page): Promise<{ text: string; probs: number[] }> {
  await p.goto(base + 'index.html#/playground');
  await p.waitForSelector('#app[data-page="playground"][data-ready="true"]');
  await p.fill('[data-role=prompt]', 'Once upon a time');
  await p.fill('[data-role=temperature]', '0');
  await p.fill('[data-role=maxTokens]', String(TOKENS));
  await p.click('[data-role=generate]');
  await p.waitForFunction(() => /tokens, stopped by/.test(document.querySelector('[data-role=gen-info]')?.textContent ?? ''), null, { timeout: 60_000 });
  assert.equal(await p.getAttribute('[data-role=gen-info]', 'data-decoder'), 'webgpu f32', (await p.textContent('[data-role=gen-info]'))!);
  const probs = await p.$$eval('[data-role=output] .tok', (els) => els.map((e) => Number(e.getAttribute('data-prob'))));
  const text = (await p.$$eval('[data-role=output] .tok', (els) => els.map((e) => e.textContent).join(''))).trim();
  return { text, probs };
}

const openTrain = (p: Page) => p.waitForSelector('#app[data-page="train"][data-ready="true"]', { timeout: 20_000 });

/** Waits for the demo-link run to finish; returns the error status text instead when it failed. */
async function finished(p: Page, steps: number, timeout: number): Promise<string | null> {
  await p.waitForFunction((n) => {
    const s = document.querySelector('[data-role=train-status]');
    return s?.getAttribute('data-phase') === 'error' || s?.textContent === `done: step ${n}`;
  }, steps, { timeout });
  return (await p.getAttribute('[data-role=train-status]', 'data-phase')) === 'error' ? await p.textContent('[data-role=train-status]') : null;
}

test('backend=webgpu: the page trains on the GPU, checkpoints in the common format, and its GPU decoder writes the greedy story the CLI writes', { skip, timeout: 300_000 }, async (t) => {
  const steps = 30;
  await page.goto(base + `index.html#train?preset=260K&steps=${steps}&batch=4&seq=32&vocab=300&sampleEvery=0&backend=webgpu&gpuPrecision=f32`);
  await openTrain(page);
  const failed = await finished(page, steps, 240_000);
  // the worker's one message for a missing device (engine-worker.ts openGpu); any other failure fails the test
  if (failed && /^backend webgpu: /.test(failed)) {
    t.skip(`Chromium has no WebGPU adapter in the worker here: ${failed}`);
    return;
  }
  assert.equal(failed, null, failed ?? '');
  assert.equal(await page.getAttribute('[data-role=train-engine]', 'data-backend'), 'webgpu');
  adapterLine = (await page.textContent('[data-role=train-engine]'))!;
  assert.match(adapterLine, /^Training and sampling on webgpu on .+ \[.*(software|hardware)/);
  console.log(`${adapterLine}; ${await page.getAttribute('[data-role=train-stats]', 'data-tokens-per-second')} tokens/s`);
  const first = Number(await page.getAttribute('[data-role=train-stats]', 'data-first-loss'));
  const last = Number(await page.getAttribute('[data-role=train-stats]', 'data-last-loss'));
  assert.ok(last < first - 0.3, `the loss fell on the GPU: ${first} over the first steps, ${last} over the last`);

  // the saved checkpoint: weights and both AdamW moments read back from the GPU (a trained run's moments are not zero)
  const ck = await page.evaluate(() => new Promise<{ step: number; n: number; m: number; v: number; vNonZero: number }>((ok, fail) => {
    const req = indexedDB.open('tinystories-site');
    req.onerror = () => fail(req.error);
    req.onsuccess = () => {
      const get = req.result.transaction('kv').objectStore('kv').get('ckpt');
      get.onsuccess = () => {
        const c = get.result as { step: number; params: Float32Array; m: Float32Array; v: Float32Array };
        ok({ step: c.step, n: c.params.length, m: c.m.length, v: c.v.length, vNonZero: c.v.filter((x) => x > 0).length });
      };
    };
  }));
  assert.equal(ck.step, steps);
  assert.ok(ck.m === ck.n && ck.v === ck.n, `moments of ${ck.m}/${ck.v} values for ${ck.n} parameters`);
  assert.ok(ck.vNonZero > ck.n / 2, `${ck.vNonZero} of ${ck.n} second moments are non-zero`);

  // the playground streams a greedy story from the GPU decoder over the trained weights
  const live = await greedy(page);
  assert.ok(live.probs.length >= 5, `the page streamed ${live.probs.length} tokens: ${live.text}`);
  // a reload rebuilds the GPU model from the IndexedDB checkpoint: the same story
  await page.reload();
  await page.waitForSelector('#app[data-page="playground"][data-ready="true"]');
  const restored = await greedy(page);
  assert.equal(restored.text, live.text, 'the GPU model rebuilt from the checkpoint writes the same story');
  const { text: pageText, probs } = restored;

  // the exported zip, sampled by the CLI on the WASM kernels
  await page.goto(base + 'index.html#/train');
  await openTrain(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-role=export]')]);
  const zipPath = join(tmp, 'gpu-run.zip');
  await download.saveAs(zipPath);
  const runDir = join(tmp, 'gpu-run');
  mkdirSync(runDir);
  for (const e of readZip(readFileSync(zipPath), 'gpu-run.zip').values()) writeFileSync(join(runDir, e.name), e.data);
  const out = execFileSync(process.execPath, [join(root, 'bin/tinystories.mjs'), 'sample', '--run', runDir, '--prompt', 'Once upon a time', '--temperature', '0', '--max-tokens', String(TOKENS), '--json', '--backend=wasm'], { encoding: 'utf8', timeout: 60_000 });
  const cli = JSON.parse(out) as { text: string; tokens: Array<{ prob: number }> };
  assert.equal(cli.text.trim(), pageText, 'the CLI writes the story the page\'s GPU decoder streamed');
  assert.equal(cli.tokens.length, probs.length);
  cli.tokens.forEach((tk, i) => assert.ok(Math.abs(tk.prob - probs[i]!) < 2e-3, `token ${i}: p ${tk.prob} in the CLI, ${probs[i]} on the page's GPU`));
  assert.deepEqual(problems, []);
});

test('backend=auto passes a CPU-emulated WebGPU adapter over for WASM and says why; Resume continues that run on WebGPU', { skip, timeout: 120_000 }, async () => {
  // a fresh profile: no saved run to resume
  const ctx = await browser.newContext();
  try {
    const p = await ctx.newPage();
    await p.goto(base + 'index.html#train?preset=260K&steps=2&batch=2&seq=32&vocab=300&sampleEvery=0&backend=auto');
    await openTrain(p);
    assert.equal(await finished(p, 2, 90_000), null);
    const line = (await p.textContent('[data-role=train-engine]'))!;
    console.log(line);
    if (adapterLine && /\[[^\]]*\bhardware\b/.test(adapterLine)) {
      // a real GPU: auto takes it
      assert.equal(await p.getAttribute('[data-role=train-engine]', 'data-backend'), 'webgpu', line);
      return;
    }
    assert.equal(await p.getAttribute('[data-role=train-engine]', 'data-backend'), 'wasm');
    // on SwiftShader the reason is the emulation; without any adapter it is the missing device
    const reason = adapterLine ? /\(auto: the WebGPU adapter .+ is a CPU emulation, slower than the WASM kernels\)$/ : /\(auto: (no WebGPU device: .+|the WebGPU adapter .+ is a CPU emulation, slower than the WASM kernels)\)$/;
    assert.match(line, reason);
    // the page said so before the run, with the adapter
    assert.equal(await p.getAttribute('[data-role=gpu-info]', 'data-auto'), 'wasm');
    if (adapterLine) assert.match((await p.textContent('[data-role=gpu-info]'))!, /^WebGPU: .+ \[.*software.*\]; auto picks wasm \(the WebGPU adapter .+ is a CPU emulation/);
    if (!adapterLine) return;
    // the checkpoint does not depend on the backend: the WASM run continues on WebGPU from its weights and moments
    await p.selectOption('[data-role=backend-choice]', 'webgpu');
    await p.fill('[data-role=steps]', '4');
    await p.click('[data-role=resume]');
    assert.equal(await finished(p, 4, 60_000), null);
    assert.equal(await p.getAttribute('[data-role=train-engine]', 'data-backend'), 'webgpu');
    assert.equal(await p.textContent('[data-role=step]'), 'step 4 / 4');
  } finally {
    await ctx.close();
  }
});
