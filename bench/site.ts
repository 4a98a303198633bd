// Static-site figures (headless Chromium on a plain static server; the site's service worker isolates the page):
// in-page training tokens/s of the 1M preset next to the same config and thread count in Node (the peer, same run),
// time to first paint and to the first sampled token, bundle size gzipped, and the tab's memory after training for
// a while. `--quick` is a smoke run (few steps, seconds of training); `--minutes N` sets the memory soak (default 10).
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSite } from '../scripts/build-site.mjs';
import { presetConfig } from '../src/engine/config.ts';
import { Model } from '../src/engine/model.ts';
import { createWasmBackend } from '../src/engine/wasm/node.ts';
import { QUICK, record } from './ui-common.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const minutesArg = process.argv.indexOf('--minutes');
const SOAK_MIN = QUICK ? 0.1 : minutesArg > 0 ? Number(process.argv[minutesArg + 1]) : 10;
const STEPS = QUICK ? 6 : 60;
const B = 8;
const T = 128;
const VOCAB = 512;
const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.txt': 'text/plain' };

const tmp = mkdtempSync(join(tmpdir(), 'bench-site-'));
const figures: Record<string, unknown> = { preset: '1M', batch: B, seq: T, vocab: VOCAB };
try {
  const site = await buildSite({ outdir: join(tmp, 'site'), quiet: true });
  const gz: Record<string, number> = {};
  let total = 0;
  for (const f of site.files) {
    gz[f] = gzipSync(readFileSync(join(site.outdir, f))).length;
    total += gz[f]!;
  }
  figures.gzipBytes = { ...gz, total };
  console.log(`bundle (gzip): app.js ${(gz['app.js']! / 1024).toFixed(0)} KiB, engine.js ${(gz['engine.js']! / 1024).toFixed(0)} KiB, all ${site.files.length} files ${(total / 1024).toFixed(0)} KiB (corpus ${((gz['corpus/mini.txt'] ?? 0) / 1024).toFixed(0)} KiB of it)`);

  if (!existsSync(CHROMIUM)) console.log(`skipped the browser figures: chromium not found at ${CHROMIUM}`);
  else {
    const server = createServer((req, res) => {
      let p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      if (p.endsWith('/')) p += 'index.html';
      const f = join(site.outdir, p);
      if (!f.startsWith(site.outdir) || !existsSync(f) || !statSync(f).isFile()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': MIME[extname(f)] ?? 'application/octet-stream' });
      res.end(readFileSync(f));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/index.html`;
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--enable-blink-features=ForceEagerMeasureMemory'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      // first visit: registers the service worker and reloads once; then a warm visit served from its cache
      let t0 = performance.now();
      await page.goto(base + '#/train');
      await page.waitForSelector('#app[data-page="train"][data-ready="true"]', { timeout: 60_000 });
      const firstVisitMs = performance.now() - t0;
      t0 = performance.now();
      await page.reload();
      await page.waitForSelector('#app[data-page="train"][data-ready="true"]', { timeout: 60_000 });
      const warmReadyMs = performance.now() - t0;
      const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null);
      const threads = Number(await page.getAttribute('html', 'data-threads'));
      figures.firstPaint = { firstVisitReadyMs: firstVisitMs, warmReadyMs, warmFirstContentfulPaintMs: fcp };
      console.log(`first visit until the Train page is ready: ${firstVisitMs.toFixed(0)} ms (includes the service worker's one reload); warm: ${warmReadyMs.toFixed(0)} ms, first contentful paint ${fcp?.toFixed(0)} ms`);

      // in-page training of the 1M preset
      await page.goto(`${base}#train?preset=1M&steps=${STEPS}&batch=${B}&seq=${T}&vocab=${VOCAB}&sampleEvery=0&checkpointEvery=${STEPS}`);
      await page.waitForFunction((n) => document.querySelector('[data-role=train-status]')?.textContent === `done: step ${n}`, STEPS, { timeout: 30 * 60_000 });
      const pageTps = Number(await page.getAttribute('[data-role=train-stats]', 'data-tokens-per-second'));
      // the peer: the same model, batch and threads on the WASM backend in Node
      const be = await createWasmBackend({ threads });
      const model = new Model(presetConfig('1M', { vocabSize: VOCAB }), be, { seed: 1, batch: B, seq: T });
      const x = Int32Array.from({ length: B * T }, (_, i) => (i * 7) % VOCAB);
      const y = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 1) % VOCAB);
      const times: number[] = [];
      for (let s = 0; s < Math.min(STEPS, 20); s++) {
        const t = performance.now();
        model.zeroGrad();
        model.forward(x, y, B, T);
        model.backward();
        model.clipGradNorm(1);
        model.adamwStep({ lr: 1e-3, t: s + 1 });
        times.push(performance.now() - t);
      }
      be.dispose();
      times.sort((a, b) => a - b);
      const nodeTps = (B * T) / (times[Math.floor(times.length / 2)]! / 1000);
      figures.training = { threads, pageTokensPerSecond: pageTps, nodeTokensPerSecond: nodeTps, ratio: pageTps / nodeTps };
      console.log(`1M preset, B=${B} T=${T}, ${threads} threads: in the page ${pageTps.toFixed(0)} tokens/s (last 10 steps), peer in Node ${nodeTps.toFixed(0)} tokens/s (median step): ratio ${(pageTps / nodeTps).toFixed(2)}`);

      // time to the first sampled token in the page (the trained 1M model, playground)
      await page.goto(base + '#/playground');
      await page.waitForSelector('#app[data-page="playground"][data-ready="true"]');
      await page.fill('[data-role=maxTokens]', '8');
      const ttft: number[] = [];
      for (let i = 0; i < (QUICK ? 1 : 5); i++) {
        await page.click('[data-role=generate]');
        await page.waitForFunction(() => document.querySelector('[data-role=gen-info]')?.getAttribute('data-first-token-ms'), null, { timeout: 60_000 });
        ttft.push(Number(await page.getAttribute('[data-role=gen-info]', 'data-first-token-ms')));
        await page.evaluate(() => document.querySelector('[data-role=gen-info]')?.removeAttribute('data-first-token-ms'));
      }
      figures.firstTokenMs = ttft;
      console.log(`first sampled token in the page: ${Math.min(...ttft).toFixed(0)} ms best of ${ttft.length}`);

      // tab memory after training for SOAK_MIN minutes (measureUserAgentSpecificMemory counts the workers and wasm)
      await page.goto(`${base}#train?preset=1M&steps=1000000&batch=${B}&seq=${T}&vocab=${VOCAB}&sampleEvery=200&checkpointEvery=100`);
      await page.waitForTimeout(SOAK_MIN * 60_000);
      const mem = await page.evaluate(async () => {
        const p = performance as unknown as { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }>; memory?: { usedJSHeapSize: number } };
        if (p.measureUserAgentSpecificMemory) return { bytes: (await p.measureUserAgentSpecificMemory()).bytes, how: 'measureUserAgentSpecificMemory' };
        return { bytes: p.memory?.usedJSHeapSize ?? null, how: 'performance.memory (JS heap only)' };
      });
      const step = await page.getAttribute('[data-role=step]', 'data-step');
      figures.memory = { minutes: SOAK_MIN, step: Number(step), ...mem };
      console.log(`tab memory after ${SOAK_MIN} min of training (step ${step}): ${mem.bytes === null ? '–' : (mem.bytes / 2 ** 20).toFixed(0) + ' MiB'} (${mem.how})`);
    } finally {
      await browser.close();
      server.close();
    }
  }
  record('site', figures);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
