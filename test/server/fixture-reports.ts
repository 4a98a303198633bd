// Report fixtures for dashboard tests, shaped as src/eval and src/synth write them (kind, models, emergence, ...).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const score = (mean: number) => ({ n: 10, mean, sd: 1, se: 0.3, ci95: [mean - 0.6, mean + 0.6], min: mean - 2, max: mean + 2, median: mean, bootstrap95: [mean - 0.5, mean + 0.5] });

function modelScores(base: number) {
  return {
    total: 10, graded: 9, unparseable: 1, failed: 0,
    scores: { grammar: score(base + 1), creativity: score(base - 1), consistency: score(base), plot: score(base - 0.5) },
    overall: score(base - 0.1),
    ages: { A: 1, B: 3, C: 4, D: 1, E: 0, F: 0, unknown: 0 },
    perBeginning: [],
  };
}

/** Writes a GPT-Eval report, a metrics report and a generation report under `root`; returns their ids. */
export function writeReportFixtures(root: string): { gpt: string; metrics: string; generation: string } {
  const gpt = join(root, 'evals', 'gpt');
  const metrics = join(root, 'evals', 'metrics');
  const gen = join(root, 'data', 'gen-en');
  for (const d of [gpt, metrics, gen]) mkdirSync(d, { recursive: true });
  const point = (model: string, x: number, mean: number) => ({ model, x, mean, lo: mean - 0.5, hi: mean + 0.5 });
  const series = (pts: Array<[string, number, number]>) => Object.fromEntries(['grammar', 'creativity', 'consistency', 'plot', 'overall'].map((d, i) => [d, pts.map(([m, x, y]) => point(m, x, y + i * 0.3))]));
  writeFileSync(join(gpt, 'report.json'), JSON.stringify({
    kind: 'tinystories-gpt-eval', version: 1, created: '2026-11-26T12:00:00Z',
    models: [
      { id: 'neo', path: 'neo', run: 'neo', step: 12, params: 36928, arch: 'gpt-neo', results: modelScores(4) },
      { id: 'llama', path: 'llama', run: 'llama', step: 12, params: 32800, arch: 'llama', results: modelScores(5) },
    ],
    emergence: {
      byParams: series([['llama', 32800, 5], ['neo', 36928, 4]]),
      bySteps: [{ run: 'neo', series: series([['neo@6', 6, 3], ['neo@12', 12, 4]]) }],
    },
  }));
  const hist = (counts: number[]) => ({ labels: ['1', '2', '3-4', '5-8', '9-16', '17-32'], counts });
  const lm = (loss: number, counts: number[]) => ({ tokens: 1000, loss, perplexity: Math.exp(loss), bitsPerToken: loss / Math.LN2, rank: { mean: 9.5, median: 3, p90: 20, top1: counts[0]! / 1000, top5: 0.5, top10: 0.6, meanLog2: 2, histogram: hist(counts) }, tokensPerSecond: 5000, window: 64 });
  const worst = [{ index: 0, completion: 'Lily went to the park and saw a big red ball.', story: 'Lily went to the park and saw a big red ball. She was happy.', storyId: 3, rouge2: 0.9, rouge3: 0.85, rouge4: 0.8 }];
  const mem = { completions: 5, rouge: { 2: { mean: 0.3, median: 0.3, p95: 0.8, max: 0.9 }, 3: { mean: 0.2, median: 0.2, p95: 0.7, max: 0.85 }, 4: { mean: 0.1, median: 0.1, p95: 0.6, max: 0.8 } }, over05: 0.2, histogram: { labels: [], counts: { 2: [], 3: [], 4: [] } }, worst };
  writeFileSync(join(metrics, 'report.json'), JSON.stringify({
    kind: 'tinystories-metrics', version: 1, created: '2026-11-26T12:00:00Z', data: { source: 'fixture', documents: 10 },
    models: [
      { id: 'neo@step-6', path: 'neo/checkpoints/step-00000006', step: 6, params: 36928, lm: lm(5.4, [200, 200, 150, 150, 150, 150]), generation: null, memorization: null },
      { id: 'neo@step-12', path: 'neo/checkpoints/step-00000012', step: 12, params: 36928, lm: lm(5.1, [300, 200, 150, 150, 100, 100]), generation: { completions: 5, distinct: { 1: 0.5, 2: 0.7, 3: 0.8 } }, memorization: mem },
      { id: 'llama', path: 'llama', step: 12, params: 32800, lm: lm(5.2, [250, 200, 200, 150, 100, 100]), generation: null, memorization: null },
    ],
    reference: null, memorizationIndex: null,
  }));
  writeFileSync(join(gen, 'report.json'), JSON.stringify({
    fingerprint: { kind: 'generate', provider: 'openai', model: 'mock-model', lang: 'en', seed: 1 }, target: 20, accepted: 18, rejectedSlots: 1,
    slotRejections: { attempts: 1 }, attempts: { accepted: 18, length: 2, 'missing-words': 3, vocabulary: 1, duplicate: 1 }, metaStripped: 2,
    requests: { done: 25, batch: 0, inputTokens: 5000, outputTokens: 9000, costUSD: 0.0123, unpriced: 0 }, inFlightAtCrash: 0,
    features: { none: 5, Dialogue: 8, BadEnding: 2 }, words: { distinctVerbs: 15, distinctNouns: 16, distinctAdjectives: 14, listSizes: { verbs: 500, nouns: 600, adjectives: 400 } },
  }));
  writeFileSync(join(gen, 'stories.txt'), ['Lily saw a cat. The cat was happy.', 'Tom had a red ball. He played all day.', 'Lily saw a cat. The cat was happy.'].map((s) => s + '\n<|endoftext|>\n').join(''));
  return { gpt: 'evals/gpt', metrics: 'evals/metrics', generation: 'data/gen-en' };
}
