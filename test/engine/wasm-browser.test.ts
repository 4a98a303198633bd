// The engine core in a real browser: the WASM backend bundled for the web, its worker.mjs as a module Web Worker on a
// cross-origin-isolated page (headless Chromium), 2 threads, checked against the reference kernels in the page.
// Skips with a printed reason when Chromium or playwright-core is absent.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const chromium = '/usr/bin/chromium';
// both are present in this repo's node_modules (playwright-core as a dependency, esbuild through tsx) but optional here
const playwright = await import('playwright-core').catch(() => null);
const esbuild = await import('esbuild').catch(() => null);
const skip = !existsSync(chromium) ? `no ${chromium}` : !playwright ? 'playwright-core is not installed' : !esbuild ? 'esbuild is not installed' : !existsSync(join(root, 'build/kernels-simd.wasm')) ? 'build/*.wasm missing (npm run build)' : false;
if (skip) console.log(`# skipping the browser test: ${skip}`);

const PAGE_SCRIPT = `
import { browserPlatform, createBrowserWasmBackend, refKernels } from './bundle.js';
const out = {};
try {
  const be = await createBrowserWasmBackend(browserPlatform({ wasmBase: new URL('/', location.href), workerUrl: new URL('/worker.mjs', location.href) }), { threads: 2, soloBelow: 0 });
  out.name = be.name;
  out.threads = be.threads;
  const N = 37, C = 45, OC = 29;
  const inp = be.alloc(N * C), w = be.alloc(OC * C), y = be.alloc(N * OC);
  for (let i = 0; i < inp.length; i++) inp[i] = Math.sin(i);
  for (let i = 0; i < w.length; i++) w[i] = Math.cos(i);
  be.matmul_forward(y, inp, w, null, N, C, OC);
  const want = new Float32Array(N * OC);
  refKernels.matmul_forward(want, Float32Array.from(inp), Float32Array.from(w), null, N, C, OC);
  let md = 0;
  for (let i = 0; i < want.length; i++) md = Math.max(md, Math.abs(want[i] - y[i]));
  out.maxDiff = md;
  be.dispose();
} catch (e) { out.error = String(e && e.stack || e); }
window.__result = out;
`;

describe('wasm backend in a browser', () => {
  it('runs on 2 threads (module Web Worker + shared memory) and matches the reference', { skip, timeout: 60_000 }, async () => {
    const bundle = await esbuild!.build({
      stdin: { contents: "export * from './src/engine/wasm/browser.ts'; export { refKernels } from './src/engine/ref/index.ts';", resolveDir: root, loader: 'ts' },
      bundle: true, format: 'esm', write: false, platform: 'browser', target: 'es2022',
    });
    const files: Record<string, [string, string | Buffer]> = {
      '/': ['text/html', '<!doctype html><script type="module" src="/page.js"></script>'],
      '/page.js': ['text/javascript', PAGE_SCRIPT],
      '/bundle.js': ['text/javascript', bundle.outputFiles[0]!.text],
      '/worker.mjs': ['text/javascript', readFileSync(join(root, 'src/engine/wasm/worker.mjs'))],
      '/kernels-relaxed.wasm': ['application/wasm', readFileSync(join(root, 'build/kernels-relaxed.wasm'))],
      '/kernels-simd.wasm': ['application/wasm', readFileSync(join(root, 'build/kernels-simd.wasm'))],
    };
    const server = createServer((req, res) => {
      const f = files[(req.url ?? '/').split('?')[0]!];
      if (!f) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': f[0], 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
      res.end(f[1]);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const browser = await playwright!.chromium.launch({
      executablePath: chromium,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, null, { timeout: 30_000 });
      const r = (await page.evaluate(() => (window as unknown as { __result: unknown }).__result)) as { name?: string; threads?: number; maxDiff?: number; error?: string };
      assert.equal(r.error, undefined, r.error);
      assert.match(r.name!, /^wasm-(relaxed-)?simd$/);
      assert.equal(r.threads, 2);
      console.log(`# in Chromium: ${r.name} on ${r.threads} threads`);
      assert.ok(r.maxDiff! < 1e-4, `max difference ${r.maxDiff}`);
    } finally {
      await browser.close();
      server.close();
    }
  });
});
