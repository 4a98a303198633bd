// End-to-end in headless Chromium (Debian's chromium + playwright-core): every page opens without errors, charts
// really drew (series-colored pixels on the canvas), the playground streams, the game plays, live updates arrive.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.mjs';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { inspectAttention, inspectNeurons, saveInspectReport } from '../../src/inspect/index.ts';
import { type RunningServer, startServer } from '../../src/server/http.ts';
import { makeFixtureRuns } from '../inspect/fixture-run.ts';
import { writeReportFixtures } from '../server/fixture-reports.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const skip = existsSync(CHROMIUM) ? false : `chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
if (skip) console.log(`# skipping e2e tests: ${skip}`);

let browser: Browser;
let server: RunningServer;
let page: Page;
let fx: Awaited<ReturnType<typeof makeFixtureRuns>>;
const problems: string[] = [];

before(async () => {
  if (skip) return;
  fx = await makeFixtureRuns({ llama: true });
  writeReportFixtures(fx.root);
  const be = createRefBackend();
  await saveInspectReport(fx.neo, 'neurons', await inspectNeurons(be, { run: fx.neo, data: fx.stories, topK: 6, maxTokens: 4000 }));
  await saveInspectReport(fx.neo, 'attention', await inspectAttention(be, { run: fx.neo, data: fx.stories, docs: 5 }));
  web = mkdtempSync(join(tmpdir(), 'ts-web-'));
  await buildWeb({ outdir: web, quiet: true });
  server = await startServer({ runs: fx.root, port: 0, webDir: web, pollMs: 200 });
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && problems.push(`console: ${m.text()}`));
  // API errors the pages show on purpose: a run without saved inspect reports
  const expected = [/\/api\/inspect\/attention\?id=llama$/, /\/api\/neurons\?id=llama&/];
  page.on('response', (r) => r.status() >= 400 && !expected.some((e) => e.test(r.url())) && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  // requests cut by leaving a page (ERR_ABORTED) are not failures; anything else is
  page.on('requestfailed', (r) => r.failure()?.errorText !== 'net::ERR_ABORTED' && problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
});

let web = '';
after(async () => {
  await browser?.close();
  await server?.close();
  fx?.cleanup();
  if (web) rmSync(web, { recursive: true, force: true });
});

/** Opens a page by its hash route and waits until it finished rendering. */
async function open(name: string): Promise<void> {
  await page.goto(`${server.url}#/${name}`);
  await page.waitForSelector(`#app[data-page="${name}"][data-ready="true"]`, { timeout: 20_000 });
  const errors = await page.locator('#app .error').allTextContents();
  assert.deepEqual(errors, [], `${name}: error boxes`);
}

/** Pixels of a chart's canvases close to one of the palette's series colors (axes and grid are grey, so they do not count). */
async function seriesPixels(selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const palette = [[47, 111, 179], [209, 73, 91], [46, 139, 87], [237, 174, 73], [106, 76, 147]];
    let n = 0;
    for (const root of Array.from(document.querySelectorAll(sel))) {
      for (const c of Array.from(root.querySelectorAll('canvas'))) {
        const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height).data;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 3]! < 100) continue;
          if (palette.some(([r, g, b]) => Math.abs(d[i]! - r!) < 40 && Math.abs(d[i + 1]! - g!) < 40 && Math.abs(d[i + 2]! - b!) < 40)) n++;
        }
      }
    }
    return n;
  }, selector);
}

test('runs page: table, overlaid loss curves drawn, live update from an appended metrics line', { skip }, async () => {
  await open('runs');
  const rows = await page.locator('[data-role=runs-table] tbody tr').allTextContents();
  assert.equal(rows.length, 2);
  assert.ok(rows.some((r) => r.startsWith('neo') && r.includes('gpt-neo')));
  const train = await seriesPixels('[data-chart="train-loss"]');
  const val = await seriesPixels('[data-chart="val-loss"]');
  assert.ok(train > 200, `train-loss chart drew ${train} series pixels`);
  assert.ok(val > 20, `val-loss chart drew ${val} series pixels`);
  await page.waitForSelector('[data-role=live-status]:has-text("on")');
  appendFileSync(join(fx.neo, 'metrics.jsonl'), JSON.stringify({ step: 40, loss: 1.0, lr: 0.001, grad_norm: 1, tokens_per_s: 999, wall_s: 20, tokens: 5120 }) + '\n');
  await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-role=runs-table] tbody tr')).some((r) => r.textContent!.includes('40 / 12')), null, { timeout: 10_000 });
  await page.selectOption('[data-role=x-axis]', 'tokens');
  assert.ok((await seriesPixels('[data-chart="train-loss"]')) > 200);
});

test('samples page: training samples per step, and one prompt sampled from every checkpoint', { skip }, async () => {
  await open('samples');
  await page.selectOption('[data-role=run]', 'neo');
  await page.waitForSelector('[data-role=sample]');
  assert.ok((await page.locator('[data-role=sample]').count()) >= 2);
  assert.deepEqual(await page.locator('#app h3').allTextContents(), ['Written during training', 'step 12', 'step 6']);
  await page.click('[data-role=sample-checkpoints]');
  await page.waitForFunction(() => !(document.querySelector('[data-role=sample-checkpoints]') as HTMLButtonElement).disabled, null, { timeout: 20_000 });
  const names = await page.locator('[data-checkpoint]').evaluateAll((els) => els.map((e) => e.getAttribute('data-checkpoint')));
  assert.deepEqual(names, ['step-00000006', 'step-00000012', 'best', 'latest']);
  for (const n of names) assert.ok(((await page.locator(`[data-checkpoint="${n}"]`).textContent()) ?? '').length > 'Once upon a time, there was a little girl named Lily.'.length, n);
});

test('playground: streams tokens colored by probability, alternatives on hover, time to first token', { skip }, async () => {
  await open('playground');
  await page.selectOption('[data-role=run]', 'neo');
  await page.fill('[data-role=prompt]', 'Once upon a time');
  await page.fill('[data-role=maxTokens]', '8');
  await page.fill('[data-role=topK]', '0');
  await page.fill('[data-role=seed]', '1');
  await page.click('[data-role=generate]');
  await page.waitForFunction(() => document.querySelector('[data-role=gen-info]')!.textContent!.includes('stopped by'), null, { timeout: 20_000 });
  const toks = page.locator('[data-role=output] .tok');
  const n = await toks.count();
  assert.ok(n >= 1 && n <= 8, `${n} tokens`);
  const shown = page.locator('[data-role=output] .tok:not(.partial)').first();
  const bg = await shown.evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.match(bg, /^rgb/);
  const prob = Number(await shown.getAttribute('data-prob'));
  assert.ok(prob > 0 && prob <= 1);
  await shown.hover();
  const tip = await page.locator('#tip').textContent();
  assert.match(tip!, /p = [\d.]+, rank \d+/);
  assert.equal(tip!.trim().split('\n').length, 6, 'the token line and five alternatives');
  const first = Number(await page.locator('[data-role=gen-info]').getAttribute('data-first-token-ms'));
  assert.ok(first > 0 && first < 10_000);
});

test('guess the next word: wrong guess, right guess, give up; session score vs the model and the references', { skip }, async () => {
  const story = (await (await fetch(`${server.url}api/game?id=llama&index=0`)).json()) as { words: string[]; ranks: number[] };
  await page.evaluate(() => sessionStorage.clear());
  await open('game');
  await page.selectOption('[data-role=run]', 'llama');
  await page.waitForFunction((w) => document.querySelector('[data-role=story]')!.textContent!.startsWith(w), story.words.slice(0, 4).join(' '));
  await page.fill('[data-role=guess]', 'zzzz');
  await page.press('[data-role=guess]', 'Enter');
  assert.match((await page.locator('[data-role=feedback]').textContent())!, /not "zzzz" — try 2 of 10/);
  await page.fill('[data-role=guess]', story.words[4]!.replace(/[.,!?"]/g, '').toUpperCase());
  await page.click('[data-role=submit-guess]');
  const fb = (await page.locator('[data-role=feedback]').textContent())!;
  assert.match(fb, /you needed 2 guesses; the model ranked it #\d+/);
  assert.equal(await page.locator('[data-role=feedback]').getAttribute('data-model-rank'), String(story.ranks[4]));
  await page.click('[data-role=give-up]');
  assert.match((await page.locator('[data-role=feedback]').textContent())!, /did not get it \(counted as 11\)/);
  const score = (await page.locator('[data-role=score]').textContent())!;
  const mean = ((2 + 11) / 2).toFixed(2);
  const model = ((story.ranks[4]! + story.ranks[5]!) / 2).toFixed(2);
  assert.ok(score.includes(`you${mean}2`), score);
  assert.ok(score.includes(`${model}2`), score);
  assert.ok(score.includes('~21') && score.includes('~4.5'));
  // the score survives a reload within the session
  await open('game');
  assert.ok((await page.locator('[data-role=score]').textContent())!.includes(`you${mean}2`));
});

test('evaluations page: side-by-side table, emergence curves and guess-rank histogram drawn, worst cases', { skip }, async () => {
  await open('evals');
  const text = (await page.locator('#app').textContent())!;
  assert.match(text, /GPT-Eval/);
  assert.match(text, /Lily went to the park and saw a big red ball/);
  assert.ok((await seriesPixels('[data-chart="emergence-params"]')) > 30);
  assert.ok((await seriesPixels('[data-chart="emergence-steps"]')) > 30);
  assert.ok((await seriesPixels('[data-chart="rank-histogram"]')) > 500);
  assert.ok((await seriesPixels('[data-chart="metrics-loss-steps"]')) > 30);
  assert.ok((await seriesPixels('[data-chart="ages"]')) > 200);
});

test('attention page: heatmaps for every head, a large one, label tables', { skip }, async () => {
  await open('attention');
  await page.selectOption('[data-role=run]', 'neo');
  await page.click('[data-role=attn-go]');
  await page.waitForSelector('[data-head="1.3"]');
  assert.equal(await page.locator('[data-head]').count(), 8);
  await page.click('[data-head="1.2"]');
  const inked = await page.locator('[data-role=big-heatmap]').evaluate((c) => {
    const cv = c as HTMLCanvasElement;
    const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i]! < 250) n++;
    return n;
  });
  assert.ok(inked > 10, `${inked} colored cells`);
  const tables = await page.locator('#app table').count();
  assert.equal(tables, 2, 'this text and the saved corpus report');
  assert.match((await page.locator('#app').textContent())!, /Head labels over 5 texts/);
});

test('neurons page: ranked cards with highlighted activations, search narrows them', { skip }, async () => {
  await open('neurons');
  await page.selectOption('[data-role=run]', 'neo');
  await page.waitForSelector('[data-neuron]');
  assert.ok((await page.locator('[data-neuron] mark').count()) > 5);
  const all = await page.locator('[data-neuron]').count();
  const word = (await page.locator('[data-neuron] .pill').first().textContent())!.split(' ×')[0]!;
  await page.fill('[data-role=neuron-search]', word);
  await page.waitForFunction((n) => document.querySelectorAll('[data-neuron]').length !== n || document.querySelector('#app p.muted')!.textContent!.includes('match'), all);
  const shown = await page.locator('[data-neuron]').count();
  assert.ok(shown >= 1);
  await page.click('[data-preset=verb]');
  await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-neuron]')).every((e) => e.textContent!.includes('· verb ·')));
  await page.selectOption('[data-role=neuron-class]', '');
  await page.selectOption('[data-role=neuron-layer]', '1');
  await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-neuron]')).every((e) => e.getAttribute('data-neuron')!.startsWith('1.')));
});

test('data page: generation run figures, filter chart drawn, story statistics, datasets', { skip }, async () => {
  await open('data');
  const text = (await page.locator('#app').textContent())!;
  assert.match(text, /openai\/mock-model/);
  assert.ok((await seriesPixels('[data-chart="filters"]')) > 300);
  await page.click('[data-role=stats]');
  await page.waitForSelector('[data-role=story-stats] table');
  const stats = (await page.locator('[data-role=story-stats] tbody tr').textContent())!;
  assert.ok(stats.startsWith('2'), `two stories after the duplicate is removed: ${stats}`);
  assert.match((await page.locator('#app').textContent())!, /Datasets the runs trained on/);
});

test('an empty runs directory: every page says how to start; a run that appears shows up live', { skip }, async () => {
  const empty = mkdtempSync(join(tmpdir(), 'ts-ui-empty-'));
  const s2 = await startServer({ runs: empty, port: 0, webDir: web, pollMs: 200 });
  try {
    for (const name of ['samples', 'playground', 'game', 'attention', 'neurons']) {
      await page.goto(`${s2.url}#/${name}`);
      await page.waitForSelector(`#app[data-page="${name}"][data-ready="true"]`);
      assert.match((await page.locator('[data-role=no-runs]').textContent())!, /No runs in .* yet\. Train one into it/, name);
      assert.equal(await page.locator('#app .error').count(), 0, name);
    }
    await page.goto(`${s2.url}#/runs`);
    await page.waitForSelector('#app[data-page="runs"][data-ready="true"]');
    assert.match((await page.locator('#app').textContent())!, /No runs in .* yet/);
    await page.waitForSelector('[data-role=live-status]:has-text("on")');
    cpSync(fx.llama, join(empty, 'appeared'), { recursive: true });
    await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-role=runs-table] tbody tr')).some((r) => r.textContent!.startsWith('appeared')), null, { timeout: 15_000 });
    await page.waitForFunction(() => document.querySelectorAll('[data-chart="train-loss"] canvas').length > 0);
  } finally {
    await s2.close();
    rmSync(empty, { recursive: true, force: true });
  }
});

test('no page errors or failed requests in the whole session', { skip }, () => {
  assert.deepEqual(problems, []);
});
