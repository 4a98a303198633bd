// `eval metrics` end to end on a tiny run: loss/rank agree with the scorer, generation metrics and memorization are
// filled in, the n-gram index is cached; `eval instruct` with a scripted judge and the required-words check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METRICS_DEFAULTS, runMetrics, firstSentence, type MetricsReport } from '../../src/eval/metrics.ts';
import { instructModelPrompt, requiredWordsPresent, runInstructEval } from '../../src/eval/instruct.ts';
import { GPT_EVAL_DEFAULTS } from '../../src/eval/gpt-eval.ts';
import { startMockJudge } from '../helpers/mock-judge.ts';
import { makeRun, writeStories } from './fixture-runs.ts';
import { sharedData, sharedSkip } from '../helpers/shared-data.ts';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'eval-metrics-'));
const run = join(tmp, 'run');
await makeRun(run, { dim: 16, steps: [5] });
const heldOut = join(tmp, 'valid.txt');
const train = join(tmp, 'train.txt');
writeStories(heldOut, 12, 99);
writeStories(train, 200, 4);
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('metrics report: loss, perplexity, guess-rank, distinct-n, vocabulary, memorization; the index is built once', async () => {
  const cache = join(tmp, 'cache');
  process.env.TINYSTORIES_CACHE = cache;
  try {
    const cfg = { ...METRICS_DEFAULTS, runs: [run], data: heldOut, train, samples: 4, sampling: { ...METRICS_DEFAULTS.sampling, maxTokens: 10 }, index: { n: 4, sample: 1, maxPostings: 20000 }, out: join(tmp, 'm1') };
    const r = await runMetrics(cfg, { quiet: true, log: () => {} });
    const m = r.models[0]!;
    assert.ok(m.lm.tokens > 100);
    assert.ok(Math.abs(m.lm.perplexity - Math.exp(m.lm.loss)) < 1e-9);
    assert.ok(m.lm.rank.mean >= 1 && m.lm.rank.median >= 1);
    assert.equal(m.lm.rank.histogram.counts.reduce((a, b) => a + b, 0), m.lm.tokens);
    assert.equal(m.generation!.completions, 4);
    assert.ok(m.generation!.distinct[1] > 0 && m.generation!.distinct[1] <= 1);
    assert.equal(m.memorization!.completions, 4);
    // the reference stories are fixture stories drawn from the same template as the training set: Rouge-2 is high
    assert.ok(r.reference!.memorization!.rouge[2].mean > 0.5);
    assert.equal(r.memorizationIndex!.cached, false);
    assert.equal(r.memorizationIndex!.docs, 200);
    assert.equal(readdirSync(join(cache, 'ngram-index')).length, 1);
    const again = await runMetrics({ ...cfg, out: join(tmp, 'm2') }, { quiet: true, log: () => {} });
    assert.equal(again.memorizationIndex!.cached, true);
    assert.deepEqual(again.models[0]!.lm.loss, m.lm.loss);
    assert.deepEqual(again.models[0]!.memorization!.rouge, m.memorization!.rouge);
  } finally {
    delete process.env.TINYSTORIES_CACHE;
  }
});

test('CLI: eval metrics writes report.json and report.html; --no-generate skips text metrics', async () => {
  const out = join(tmp, 'cli');
  const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, ['bin/tinystories.mjs', 'eval', 'metrics', '--run', run, '--data', heldOut, '--no-generate', '--window', '32', '--out', out, '--quiet'], { cwd: root });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /run: loss \d+\.\d+ ppl \d+/);
  const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as MetricsReport;
  assert.equal(rep.models[0]!.generation, null);
  assert.equal(rep.models[0]!.lm.window, 32);
  assert.ok(existsSync(join(out, 'report.html')));
});

test('CLI: a blank number (--seed "") is refused with one line, not read as 0', async () => {
  const out = join(tmp, 'blank');
  const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, ['bin/tinystories.mjs', 'eval', 'metrics', '--run', run, '--data', heldOut, '--seed', '', '--out', out, '--quiet'], { cwd: root });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (status) => resolve({ status, stderr }));
  });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'tinystories: --seed: expected an integer >= 0, got ""\n');
  assert.ok(!existsSync(join(out, 'report.json')));
});

test('CLI: --out naming an existing file is one line naming --out (was a raw EEXIST from mkdir)', async () => {
  const file = join(tmp, 'not-a-dir.txt');
  writeFileSync(file, 'x');
  const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, ['bin/tinystories.mjs', 'eval', 'metrics', '--run', run, '--data', heldOut, '--no-generate', '--out', file, '--quiet'], { cwd: root });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (status) => resolve({ status, stderr }));
  });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `tinystories: --out ${file}: exists and is not a directory (expected an output directory)\n`);
  assert.equal(readFileSync(file, 'utf8'), 'x');
});

test('first sentence prompts; Instruct prompt format; required words with inflections', () => {
  assert.equal(firstSentence('Tom had a dog. The dog ran.'), 'Tom had a dog.');
  assert.equal(instructModelPrompt({ features: ['Dialogue'], words: ['jump', 'ball', 'red'], summary: 'A boy plays.' }), 'Features: Dialogue\nWords: jump, ball, red\nSummary: A boy plays.\nStory: \n\n');
  assert.deepEqual(requiredWordsPresent('The kids jumped over two balls and laughed.', ['jump', 'ball', 'red']), [true, true, false]);
  assert.deepEqual(requiredWordsPresent('She made ice cream.', ['ice-cream', 'make']), [true, true]);
});

test('eval instruct: rubric scores per model, required-words share, unreadable answers counted', async () => {
  const judge = await startMockJudge((req) => {
    const text = req.messages[0]!.content;
    if (!text.includes('follows some instructions')) return { status: 400 };
    if (text.includes('"zebra"')) return { text: 'I like it.' };
    return { text: 'Words: 4/10, Features: 6/10, Overall: 5/10, Grammar: 7/10, Consistency: 3/10' };
  });
  const instructFile = join(tmp, 'instruct.txt');
  writeFileSync(instructFile, 'Features: Dialogue\nWords: run, dog, happy\nStory: \n\nA dog ran.\n<|endoftext|>\nWords: eat, zebra, big\nSummary: A zebra eats.\nStory: \n\nThe zebra ate.\n<|endoftext|>\n');
  try {
    const r = await runInstructEval(
      { runs: [run], prompts: instructFile, count: 10, sampling: { temperature: 1, topK: 0, topP: 1, maxTokens: 10, seed: 1 }, judge: { ...GPT_EVAL_DEFAULTS.judge, provider: 'openai', baseURL: judge.url + '/v1', model: 'j', parseRetries: 1, timeoutMs: 5000 }, backend: 'ref', threads: 1, out: join(tmp, 'instr') },
      { quiet: true, log: () => {}, scheduler: { baseDelayMs: 1 } },
    );
    const m = r.models[0]!;
    assert.equal(m.total, 2);
    assert.equal(m.graded, 1);
    assert.equal(m.unparseable, 1);
    assert.equal(m.scores.overall!.mean, 5);
    assert.equal(m.scores.words!.mean, 4);
    assert.equal(m.scores.summary, undefined, 'no summary instruction in the graded prompt');
    assert.ok(m.requiredWords.wordShare >= 0 && m.requiredWords.wordShare <= 1);
    assert.ok(existsSync(join(tmp, 'instr', 'report.html')));
    const lines = readFileSync(join(tmp, 'instr', 'judgments.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 2);
  } finally {
    await judge.close();
  }
});

const SHARED_INSTRUCT = sharedData('tinystories_instruct', 'TinyStoriesInstruct-train_first2records.txt');

test('real Instruct records: prompts read without their stories; the real stories use their required words', { skip: sharedSkip(['tinystories_instruct', 'TinyStoriesInstruct-train_first2records.txt']) }, async () => {
  const { loadInstructPrompts } = await import('../../src/eval/instruct.ts');
  const { readInstructRecords } = await import('../../src/data/instruct.ts');
  const { prompts } = await loadInstructPrompts(SHARED_INSTRUCT, 10, 1);
  assert.equal(prompts.length, 2);
  assert.deepEqual(prompts[0]!.words, ['quit', 'oak', 'gloomy']);
  assert.deepEqual(prompts[0]!.features, ['Dialogue']);
  assert.ok(prompts[0]!.summary!.startsWith('Sara and Ben were playing in the park'));
  assert.ok(!('story' in prompts[0]!));
  for await (const r of readInstructRecords(SHARED_INSTRUCT)) assert.deepEqual(requiredWordsPresent(r.story!, r.words!), r.words!.map(() => true));
});
