// `eval gpt` end to end on tiny runs and a scripted judge: report.json figures match the judge's answers, failures
// and unreadable answers are counted, a rerun is served from the caches, checkpoints give a score-vs-step series.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareReports } from '../../src/eval/compare.ts';
import { runGptEval, GPT_EVAL_DEFAULTS, type GptEvalConfig, type GptEvalReport } from '../../src/eval/gpt-eval.ts';
import { parseGrades } from '../../src/eval/grades.ts';
import { completionOf, defaultScript, startMockJudge } from '../helpers/mock-judge.ts';
import { makeRun } from './fixture-runs.ts';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'eval-gpt-'));
const small = join(tmp, 'small');
const big = join(tmp, 'big');
const smallParams = await makeRun(small, { dim: 16, steps: [10, 20] });
const bigParams = await makeRun(big, { dim: 32, steps: [30], seed: 2 });
const beginnings = join(tmp, 'beginnings.yaml');
writeFileSync(beginnings, '---\n- |-\n  Once upon a time, there was a little girl named Lily. She had a red\n- |-\n  Tom and his dog went to the park. The dog saw a\n- "Mia had a blue kite. One day,"\n');
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Runs the CLI without blocking the event loop (the mock judge lives in this process). */
function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/tinystories.mjs', ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function config(out: string, url: string, extra: Partial<GptEvalConfig> = {}): GptEvalConfig {
  return {
    ...GPT_EVAL_DEFAULTS,
    runs: [small, big],
    beginnings,
    limit: null,
    sampling: { ...GPT_EVAL_DEFAULTS.sampling, completions: 2, maxTokens: 12 },
    judge: { ...GPT_EVAL_DEFAULTS.judge, provider: 'openai', baseURL: url + '/v1', model: 'gpt-4o', parseRetries: 1, timeoutMs: 5000 },
    out,
    ...extra,
  };
}

test('report figures equal the scripted grades; unreadable and failed are counted; rerun costs nothing', async () => {
  // every third completion (by content) gets an unreadable answer, one gets a hard failure
  const judge = await startMockJudge((req) => {
    const c = completionOf(req.messages);
    const h = [...c].reduce((a, ch) => (a * 31 + ch.charCodeAt(0)) >>> 0, 7);
    if (req.messages.length === 3 && h % 3 === 0) return { text: 'A charming story!' };
    if (h % 11 === 5) return { status: 400 };
    return defaultScript(req);
  });
  const out = join(tmp, 'out1');
  try {
    const r = await runGptEval(config(out, judge.url), { quiet: true, log: () => {}, scheduler: { baseDelayMs: 1, maxDelayMs: 5 } });
    assert.deepEqual(r.models.map((m) => m.id), ['small', 'big']);
    assert.deepEqual(r.models.map((m) => m.params), [smallParams, bigParams]);
    const lines = readFileSync(join(out, 'judgments.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 2 * 3 * 2);
    for (const m of r.models) {
      const mine = lines.filter((l) => l.model === m.id);
      assert.equal(m.results.total, 6);
      assert.equal(m.results.graded + m.results.unparseable + m.results.failed, 6);
      assert.equal(m.results.unparseable, mine.filter((l) => l.status === 'unparseable').length);
      // recompute the grammar mean from the judge's answers as written
      const grammar = mine.filter((l) => l.status === 'graded').map((l) => (parseGrades(l.answer) as { ok: true; grades: { grammar: number } }).grades.grammar);
      if (grammar.length) assert.ok(Math.abs(m.results.scores.grammar.mean - grammar.reduce((a: number, b: number) => a + b, 0) / grammar.length) < 1e-9);
    }
    const total = r.models.reduce((s, m) => s + m.results.unparseable + m.results.failed, 0);
    assert.ok(total > 0, 'the script should have produced some unreadable/failed answers');
    assert.equal(r.judge.model, 'gpt-4o');
    assert.deepEqual(r.judge.reportedModels, ['gpt-4o-2025-01-01']);
    assert.equal(r.seeds.sampling, 1);
    assert.ok(r.ci.includes('Student-t'));
    assert.equal(r.emergence.byParams.grammar.length > 0, true);
    assert.ok(existsSync(join(out, 'report.html')));
    assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes('<svg'));
    // rerun: completions reused, every successful judge call answered by the cache
    const before = judge.requests.length;
    const again = await runGptEval(config(out, judge.url), { quiet: true, log: () => {}, scheduler: { baseDelayMs: 1, maxDelayMs: 5 } });
    assert.ok(again.models.every((m) => m.completionsReused));
    const failedCalls = judge.requests.length - before;
    assert.ok(failedCalls <= lines.filter((l) => l.status === 'failed').length * 1, `${failedCalls} new requests on rerun`);
    assert.deepEqual(again.models.map((m) => m.results.scores.grammar.mean), r.models.map((m) => m.results.scores.grammar.mean));
    assert.equal(again.models.reduce((s, m) => s + m.judgeUsage.inputTokens, 0) <= r.models.reduce((s, m) => s + m.judgeUsage.inputTokens, 0), true);
  } finally {
    await judge.close();
  }
});

test('checkpoints give a score-vs-step series; the CLI writes both reports (Anthropic judge, JSON mode)', async () => {
  const judge = await startMockJudge();
  const out = join(tmp, 'out2');
  try {
    const env = { ...process.env };
    delete env.TINYSTORIES_CACHE;
    const r = await cli(['eval', 'gpt', '--run', small, '--checkpoints', '--beginnings', beginnings, '--limit', '2', '--completions', '2', '--max-tokens', '8', '--temperature', '0.9', '--judge-provider', 'anthropic', '--judge-base-url', judge.url, '--judge-model', 'claude-x', '--judge-json', '--out', out, '--quiet'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /small@step-10: grammar/);
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as GptEvalReport;
    assert.deepEqual(rep.models.map((m) => [m.id, m.step]), [['small@step-10', 10], ['small@step-20', 20]]);
    assert.equal(rep.emergence.bySteps.length, 1);
    assert.deepEqual(rep.emergence.bySteps[0]!.series.overall.map((p) => p.x), [10, 20]);
    assert.equal(rep.judge.provider, 'anthropic');
    assert.equal(rep.judge.json, true);
    assert.equal(rep.config.sampling.temperature, 0.9);
    assert.ok(rep.models.every((m) => m.results.graded === 4));
    assert.ok(judge.requests.every((q) => q.api === 'anthropic'));
    assert.ok(existsSync(join(out, 'judge-cache.sqlite')));
    // usage errors are one line
    const bad = await cli(['eval', 'gpt', '--run', small, '--judge-provider', 'openai', '--out', out]);
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr.trim(), 'tinystories: --judge-model <id> is required');
  } finally {
    await judge.close();
  }
});

test('eval compare merges reports side by side and lists what was measured differently; --strict refuses', async () => {
  const out = join(tmp, 'cmp');
  const { report, issues } = compareReports([join(tmp, 'out1'), join(tmp, 'out2', 'report.json')], out);
  assert.deepEqual(report.models.map((m) => m.id), ['small', 'big', 'small@step-10', 'small@step-20']);
  assert.ok(issues.some((i) => i.startsWith('judge model: "gpt-4o" in')));
  assert.ok(issues.some((i) => i.startsWith('beginnings (sha256)')));
  assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes('Not measured the same way'));
  assert.throws(() => compareReports([join(tmp, 'out1'), join(tmp, 'out2')], out, true), /not measured the same way: judge model/);
  assert.throws(() => compareReports([join(tmp, 'out1')], out), /at least two/);
  const same = compareReports([join(tmp, 'out1'), join(tmp, 'out1')], join(tmp, 'cmp2'), true);
  assert.deepEqual(same.issues, []);
  assert.deepEqual(same.report.models.map((m) => m.id), ['small', 'big', 'small#2', 'big#2']);
});

test('a judge that refuses every call ends in one clear error, after writing the report', async () => {
  const judge = await startMockJudge(() => ({ status: 401 }));
  const out = join(tmp, 'out-fail');
  try {
    await assert.rejects(
      runGptEval(config(out, judge.url, { runs: [small], limit: 1 }), { quiet: true, log: () => {}, scheduler: { baseDelayMs: 1 } }),
      /every judge call failed \(2 completions; first error: turn 1: HTTP 401/,
    );
    const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as GptEvalReport;
    assert.equal(rep.models[0]!.results.failed, 2);
    assert.equal(judge.requests.length, 2, 'auth errors are not retried');
  } finally {
    await judge.close();
  }
});

test('without --beginnings, eval gpt uses the 44 beginnings shipped with the package and never asks the hub', async () => {
  const { BUILTIN_BEGINNINGS_FILE, loadBeginnings } = await import('../../src/eval/prompts.ts');
  const { createHash } = await import('node:crypto');
  // the shipped file is the authors' file byte for byte (sha256 from src/eval/beginnings/SOURCES.md)
  assert.equal(createHash('sha256').update(readFileSync(BUILTIN_BEGINNINGS_FILE)).digest('hex'), 'a915216be5516348af9db387c5bb51e8e930e7997eb0543a3de0bf63c7fe81ee');
  assert.equal(loadBeginnings(GPT_EVAL_DEFAULTS.beginnings).length, 44);
  const judge = await startMockJudge();
  const out = join(tmp, 'out-default-beginnings');
  const saved = { endpoint: process.env.TINYSTORIES_HF_ENDPOINT, cache: process.env.TINYSTORIES_CACHE };
  // a hub that cannot answer (port 9, nothing listens) and an empty cache: a download attempt would fail the run
  process.env.TINYSTORIES_HF_ENDPOINT = 'http://127.0.0.1:9';
  process.env.TINYSTORIES_CACHE = join(tmp, 'empty-cache');
  try {
    const { beginnings: _omit, ...rest } = config(out, judge.url, { runs: [small], limit: 1, sampling: { ...GPT_EVAL_DEFAULTS.sampling, completions: 1, maxTokens: 4 } });
    const rep = await runGptEval({ ...rest, beginnings: GPT_EVAL_DEFAULTS.beginnings }, { log: () => {} });
    assert.equal(rep.beginnings.count, 1);
    assert.match(rep.beginnings.texts[0]!, /^Once upon a time, there lived a bunny in a field\. Her name was Lucy\./);
    assert.match(rep.beginnings.source, /^builtin:paper-beginnings/);
  } finally {
    for (const [k, v] of [['TINYSTORIES_HF_ENDPOINT', saved.endpoint], ['TINYSTORIES_CACHE', saved.cache]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await judge.close();
  }
});
