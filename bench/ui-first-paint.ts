// Dashboard figures: Runs page first paint with 50 runs x 10k metric points (headless Chromium, until both loss
// charts have drawn), and playground time to first token (1M preset, random weights) over SSE and in the browser.
// Peers in the same run: the /api/metrics-all request alone, and an in-process prefill + first step of the same model.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHfConfig } from '../src/checkpoint/hf-config.ts';
import { presetConfig } from '../src/engine/config.ts';
import { InferenceSession } from '../src/engine/inference.ts';
import { Model } from '../src/engine/model.ts';
import { createRefBackend } from '../src/engine/ref/index.ts';
import { startServer } from '../src/server/http.ts';
import { trainBpe } from '../src/tokenizer/train.ts';
import { readSse } from '../test/server/http-client.ts';
import { QUICK, benchStories, record, writeRunDir } from './ui-common.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RUNS = 50;
const POINTS = QUICK ? 2000 : 10_000;
const root = mkdtempSync(join(tmpdir(), 'bench-ui-'));
const figures: Record<string, unknown> = { runs: RUNS, points: POINTS };
try {
  // 50 runs of synthetic metrics (a val point every 100 steps), each with an HF config for the params column
  const hf = toHfConfig(presetConfig('1M', { vocabSize: 4096 }), { eotId: 0 });
  for (let r = 0; r < RUNS; r++) {
    const dir = join(root, `run-${String(r).padStart(2, '0')}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(hf));
    const lines: string[] = [];
    for (let s = 1; s <= POINTS; s++) {
      const loss = 1.2 + 8 / Math.sqrt(s) + 0.05 * Math.sin(s / 7 + r);
      const rec: Record<string, number> = { step: s, loss, lr: 1e-3, grad_norm: 1, tokens_per_s: 3000 + r, wall_s: s * 0.4, tokens: s * 4096 };
      if (s % 100 === 0) rec.val_loss = loss + 0.05;
      lines.push(JSON.stringify(rec));
    }
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  }
  // one run with weights for the playground
  const { docs } = await benchStories(400);
  const tokenizer = await trainBpe(docs, { vocabSize: 4096 });
  const model = new Model(presetConfig('1M', { vocabSize: tokenizer.vocabSize }), createRefBackend(), { seed: 1 });
  writeRunDir(join(root, 'play'), model, tokenizer);
  const prompt = 'Once upon a time, there was a little girl named Lily. She loved to play outside.';

  const server = await startServer({ runs: root, port: 0 });
  try {
    let t0 = performance.now();
    const first = await fetch(`${server.url}api/metrics-all?max=1000`);
    const bytes = (await first.arrayBuffer()).byteLength;
    const apiCold = performance.now() - t0;
    t0 = performance.now();
    await (await fetch(`${server.url}api/metrics-all?max=1000`)).arrayBuffer();
    const apiWarm = performance.now() - t0;
    figures.metricsAll = { coldMs: apiCold, warmMs: apiWarm, bytes };
    console.log(`peer: /api/metrics-all for ${RUNS} runs x ${POINTS} points: ${apiCold.toFixed(0)} ms cold (file reads), ${apiWarm.toFixed(0)} ms warm, ${(bytes / 1e6).toFixed(2)} MB`);

    // time to first token over SSE (server side: model load on the first call, then cached)
    const ttft: number[] = [];
    for (let i = 0; i < (QUICK ? 2 : 5); i++) {
      const t = performance.now();
      let firstAt = 0;
      await readSse(server.port, `/api/generate?id=play&maxTokens=8&seed=${i}&prompt=${encodeURIComponent(prompt)}`, (e) => {
        if (e.event === 'token' && !firstAt) firstAt = performance.now() - t;
        return e.event === 'done';
      });
      ttft.push(firstAt);
    }
    const session = new InferenceSession(model);
    const ids = [tokenizer.eotId, ...tokenizer.encode(prompt)];
    t0 = performance.now();
    session.prefill(ids);
    const prefillMs = performance.now() - t0;
    figures.playground = { firstCallMs: ttft[0], warmMs: Math.min(...ttft.slice(1)), promptTokens: ids.length, inProcessPrefillMs: prefillMs };
    console.log(`playground time to first token (1M preset, ${ids.length}-token prompt, ref backend): first call ${ttft[0]!.toFixed(0)} ms (loads the model), then ${Math.min(...ttft.slice(1)).toFixed(0)} ms`);
    console.log(`peer: in-process prefill of the same prompt: ${prefillMs.toFixed(0)} ms`);

    if (!existsSync(CHROMIUM)) console.log(`skipped the browser figures: chromium not found at ${CHROMIUM}`);
    else {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const paints: number[] = [];
        for (let i = 0; i < (QUICK ? 2 : 4); i++) {
          t0 = performance.now();
          await page.goto(`${server.url}#/runs`, { waitUntil: 'commit' });
          await page.waitForSelector('#app[data-page="runs"][data-ready="true"] [data-chart="val-loss"] canvas', { timeout: 120_000 });
          paints.push(performance.now() - t0);
          await page.goto('about:blank');
        }
        figures.firstPaint = { coldMs: paints[0], warmMs: Math.min(...paints.slice(1)) };
        console.log(`Runs page first paint, ${RUNS} runs x ${POINTS} points (both loss charts drawn): ${paints[0]!.toFixed(0)} ms first, ${Math.min(...paints.slice(1)).toFixed(0)} ms after`);
        await page.goto(`${server.url}#/playground`);
        await page.waitForSelector('#app[data-ready="true"]');
        await page.selectOption('[data-role=run]', 'play');
        await page.fill('[data-role=prompt]', prompt);
        await page.fill('[data-role=maxTokens]', '8');
        await page.click('[data-role=generate]');
        await page.waitForFunction(() => !!document.querySelector('[data-role=gen-info]')?.getAttribute('data-first-token-ms'), null, { timeout: 60_000 });
        const browserTtft = Number(await page.locator('[data-role=gen-info]').getAttribute('data-first-token-ms'));
        figures.playground = { ...(figures.playground as object), browserMs: browserTtft };
        console.log(`playground time to first token in the browser (click to first token shown): ${browserTtft.toFixed(0)} ms`);
      } finally {
        await browser.close();
      }
    }
  } finally {
    await server.close();
  }
  record('ui-first-paint', figures);
} finally {
  rmSync(root, { recursive: true, force: true });
}
