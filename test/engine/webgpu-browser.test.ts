// The WebGPU kernels in a real browser: the same kernel code bundled for the web, run on navigator.gpu in headless
// Chromium (WebGPU enabled by flags; on a machine without a GPU Chromium provides its SwiftShader adapter), a
// subset of the conformance cases checked against the reference kernels in the page.
// Skips with a printed reason when Chromium, playwright-core or a browser WebGPU adapter is absent.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { CaseResult } from './webgpu-browser-page.ts';

const root = join(import.meta.dirname, '..', '..');
const chromium = '/usr/bin/chromium';
const playwright = await import('playwright-core').catch(() => null);
const esbuild = await import('esbuild').catch(() => null);
const skip = !existsSync(chromium) ? `no ${chromium}` : !playwright ? 'playwright-core is not installed' : !esbuild ? 'esbuild is not installed' : false;
if (skip) console.log(`# skipping the WebGPU browser test: ${skip}`);

describe('webgpu kernels in a browser', () => {
  it('match the reference on navigator.gpu in headless Chromium (matmul, attention, layernorm, cross-entropy)', { skip, timeout: 120_000 }, async (t) => {
    const bundle = await esbuild!.build({
      entryPoints: [join(root, 'test/engine/webgpu-browser-page.ts')],
      bundle: true, format: 'esm', write: false, platform: 'browser', target: 'es2022',
    });
    const files: Record<string, [string, string]> = {
      '/': ['text/html', '<!doctype html><script type="module" src="/page.js"></script>'],
      '/page.js': ['text/javascript', bundle.outputFiles[0]!.text],
    };
    const server = createServer((req, res) => {
      const f = files[(req.url ?? '/').split('?')[0]!];
      if (!f) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': f[0] });
      res.end(f[1]);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const browser = await playwright!.chromium.launch({
      executablePath: chromium,
      args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--ignore-gpu-blocklist', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`); // a secure context (127.0.0.1): navigator.gpu exists
      await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, null, { timeout: 100_000 });
      const r = (await page.evaluate(() => (window as unknown as { __result: unknown }).__result)) as { adapter?: string; cases?: CaseResult[]; error?: string };
      if (r.error && /adapter|WebGPU API/.test(r.error)) {
        t.skip(`Chromium has no WebGPU adapter here: ${r.error}`);
        return;
      }
      assert.equal(r.error, undefined, r.error);
      console.log(`# in Chromium: ${r.adapter}`);
      assert.ok(r.cases!.length >= 20, `${r.cases!.length} cases ran`);
      for (const c of r.cases!) assert.ok(c.excess <= 0, `${c.name}: exceeds the tolerance by ${c.excess}`);
    } finally {
      await browser.close();
      server.close();
    }
  });
});
