// The HTML reports open offline and actually draw: rendered in headless Chromium (playwright-core), screenshots of
// each chart decoded and checked for the palette's colours; no network request is made. Skips without Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { aggregateScores, emergenceSeries, CI_METHOD } from '../../src/eval/aggregate.ts';
import { gptReportHtml, instructReportHtml, metricsReportHtml } from '../../src/eval/report-html.ts';
import type { InstructEvalReport } from '../../src/eval/instruct.ts';
import { summarize } from '../../src/eval/stats.ts';
import type { GptEvalReport, GptModelReport } from '../../src/eval/gpt-eval.ts';
import type { MetricsReport } from '../../src/eval/metrics.ts';
import { scoreStream } from '../../src/eval/lm-metrics.ts';
import { GPT_EVAL_DEFAULTS } from '../../src/eval/gpt-eval.ts';
import { METRICS_DEFAULTS } from '../../src/eval/metrics.ts';
import { JUDGE_TURN1, JUDGE_TURN2 } from '../../src/eval/prompts.ts';
import { Rng } from '../../src/util/rng.ts';
import { decodePng } from './png.ts';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

function gptReport(): GptEvalReport {
  const rng = new Rng(4);
  const models: GptModelReport[] = [1e6, 3e6, 8e6].map((params, k) => {
    const items = Array.from({ length: 40 }, (_, i) => ({
      beginning: i % 4,
      status: 'graded' as const,
      grades: { grammar: Math.min(10, 4 + k + rng.int(3)), creativity: 3 + k + rng.int(3), consistency: 2 + 2 * k + rng.int(2), plot: 2 + k + rng.int(3), age: (['A', 'B', 'C', 'D'] as const)[rng.int(4)]! },
    }));
    return { id: `m${k}`, path: `/runs/m${k}`, run: `/runs/m${k}`, step: 100 * (k + 1), params, arch: 'gpt-neo', weightsSha256: 'abc', completions: 40, completionsReused: false, generationTokensPerSecond: 100, meanCompletionTokens: 120, cutAtMaxTokens: 1, results: aggregateScores(items), judgeUsage: { inputTokens: 1000, outputTokens: 100 }, judgeCalls: 80, judgeCachedCalls: 0, judgeCostUsd: 0.01, examples: [{ beginning: 0, completion: ' <b>ran</b> home.', grades: items[0]!.grades, answer: 'Grammar: 5/10' }] };
  });
  const byParams = emergenceSeries(models.map((m) => ({ id: m.id, x: m.params, scores: m.results })));
  return {
    kind: 'tinystories-gpt-eval', version: 1, created: 'now',
    config: { ...GPT_EVAL_DEFAULTS, runs: [], beginnings: 'b.yaml', limit: null, judge: { ...GPT_EVAL_DEFAULTS.judge, provider: 'openai', model: 'gpt-4o' }, out: '/tmp/x' },
    beginnings: { source: 'b.yaml', count: 4, sha256: 'x', texts: ['Tom had a', 'Lily saw', 'One day', 'The cat'] },
    judge: { provider: 'openai', baseURL: null, model: 'gpt-4o', reportedModels: ['gpt-4o-2024'], temperature: 0, json: false, turn1: JUDGE_TURN1, turn2: JUDGE_TURN2 },
    seeds: { sampling: 1, bootstrap: 1, note: '' }, ci: CI_METHOD, cache: { path: 'c', hits: 0, misses: 0 }, backend: 'ref',
    models, emergence: { byParams, bySteps: [{ run: '/runs/m0', series: byParams }] }, files: { judgments: 'j', completions: 'c' },
  };
}

function metricsReport(): MetricsReport {
  const s = Int32Array.from({ length: 300 }, (_, i) => (i * 7) % 50);
  const lm = scoreStream({ vocabSize: 50, maxSeqLen: 16, logits: (_x, B, T) => Float32Array.from({ length: B * T * 50 }, (_, i) => Math.sin(i)) }, s, { window: 16 });
  return {
    kind: 'tinystories-metrics', version: 1, created: 'now', config: { ...METRICS_DEFAULTS, runs: ['/r'], data: 'v.txt', out: '/o' }, data: { source: 'v.txt', documents: 3 },
    models: [{ id: 'r', path: '/r', weightsSha256: 'x', step: 1, params: 1000, window: { used: 16, source: 'trained', trainedContext: 16, warning: null }, lm, generation: null, memorization: { completions: 3, rouge: { 2: { mean: 0.4, median: 0.4, p95: 0.6, max: 0.7 }, 3: { mean: 0.2, median: 0.2, p95: 0.4, max: 0.5 }, 4: { mean: 0.1, median: 0.1, p95: 0.3, max: 0.4 } }, over05: 0, histogram: { labels: ['0-.1', '.1-.2', '.2-.3', '.3-.4', '.4-.5', '.5-.6', '.6-.7', '.7-.8', '.8-.9', '.9-1'], counts: { 2: [0, 0, 0, 1, 1, 0, 1, 0, 0, 0], 3: [0, 1, 1, 0, 1, 0, 0, 0, 0, 0], 4: [1, 1, 0, 1, 0, 0, 0, 0, 0, 0] } }, worst: [{ index: 0, completion: 'Tom <b>ran</b>', story: 'Tom ran.', storyId: 3, rouge2: 0.7, rouge3: 0.5, rouge4: 0.4 }] } }],
    reference: null, backend: 'ref', memorizationIndex: { docs: 10, n: 4, sample: 4, maxPostings: 100, bytes: 1000, buildSeconds: 0.1, cached: false, path: 'i' },
  };
}

function instructReport(): InstructEvalReport {
  const sc = (xs: number[]) => ({ ...summarize(xs), bootstrap95: [0, 0] as [number, number] });
  return {
    kind: 'tinystories-instruct-eval', version: 1, created: 'now',
    config: { runs: ['/r'], prompts: null, count: 3, sampling: { temperature: 1, topK: 0, topP: 1, maxTokens: 10, seed: 1 }, judge: { ...GPT_EVAL_DEFAULTS.judge, provider: 'openai', model: 'j' }, backend: 'ref', threads: 1, out: '/o' },
    prompts: { source: 'lists', count: 3, sha256: 'x' }, judge: { provider: 'openai', model: 'j', reportedModels: ['j'], rubric: 'Words: x/10' }, ci: CI_METHOD,
    dimensions: ['words', 'overall'], backend: 'ref',
    models: [{ id: 'r', path: '/r', weightsSha256: 'x', params: 10, total: 3, graded: 3, unparseable: 0, failed: 0, scores: { words: sc([4, 5, 6]), overall: sc([6, 7, 8]) }, requiredWords: { allPresent: 0.33, wordShare: 0.5 }, judgeUsage: { inputTokens: 1, outputTokens: 1 } }],
  };
}

test('reports render offline in headless Chromium and their charts draw', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed` }, async () => {
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'report-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    for (const [name, html, charts] of [['gpt.html', gptReportHtml(gptReport()), 4], ['metrics.html', metricsReportHtml(metricsReport()), 2], ['instruct.html', instructReportHtml(instructReport()), 1]] as const) {
      const file = join(dir, name);
      writeFileSync(file, html);
      requests.length = 0;
      await page.goto(pathToFileURL(file).href);
      assert.deepEqual(requests, [pathToFileURL(file).href], 'no request besides the file itself');
      const svgs = page.locator('svg');
      assert.ok((await svgs.count()) >= charts, `${name}: ${await svgs.count()} charts`);
      for (let i = 0; i < charts; i++) {
        const img = decodePng(await svgs.nth(i).screenshot());
        assert.ok(img.width > 300 && img.height > 200);
        let blue = 0;
        let dark = 0;
        for (let p = 0; p < img.width * img.height; p++) {
          const [r, g, b] = [img.data[p * 4]!, img.data[p * 4 + 1]!, img.data[p * 4 + 2]!];
          if (Math.abs(r - 0x00) < 40 && Math.abs(g - 0x72) < 40 && Math.abs(b - 0xb2) < 40) blue++; // first series colour
          if (r < 100 && g < 100 && b < 120) dark++; // text, axes, error bars
        }
        assert.ok(blue > 50, `${name} chart ${i}: ${blue} pixels of the first series`);
        assert.ok(dark > 50, `${name} chart ${i}: ${dark} dark pixels`);
      }
      await page.screenshot({ path: join(dir, name + '.png'), fullPage: true });
      assert.equal(await page.locator('table').first().isVisible(), true);
    }
    // escaped, not executed
    assert.equal(await page.locator('b', { hasText: 'ran' }).count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
