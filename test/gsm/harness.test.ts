// The evaluation harness scored on hand-written solutions, independent of any model: each solution is a completion
// of the TinyGSM header + docstring, executed in the sandbox and compared with the gold answer. Correct ones must
// score 100%, incorrect ones (wrong logic, exceptions, non-numbers, a loop that never ends) 0%.
// Problems: 6 written for this project (always), and the first 32 of GSM8K test (read from ../shared/data when present).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseGsm8kFinalAnswer } from '../../src/data/gsm8k.ts';
import { SandboxPool } from '../../src/sandbox/pool.ts';
import { finishOutcome, scoreCompletion, summarize, type ProblemOutcome } from '../../src/gsm/harness.ts';
import { sharedData, sharedSkip } from '../helpers/shared-data.ts';

const GSM_TEST = sharedData('gsm8k', 'test_minus_holdout.jsonl');
const FIX = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const jsonl = <T>(u: URL): T[] => readFileSync(u, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);

let pool: SandboxPool;
before(async () => {
  pool = await SandboxPool.create({ workers: 2, timeoutMs: 1500, graceMs: 300 });
});
after(async () => {
  await pool?.close();
});

interface Case {
  question: string;
  gold: number;
  correct: string;
  incorrect: string;
}

async function scoreSet(cases: Case[], which: 'correct' | 'incorrect'): Promise<ProblemOutcome[]> {
  return Promise.all(
    cases.map(async (c, i) => {
      const greedy = await scoreCompletion(pool, c.question, c[which], c.gold);
      return finishOutcome({ index: i, question: c.question, gold: c.gold, greedy, samples: [greedy], majority: null, majorityCorrect: false });
    }),
  );
}

async function checkSet(cases: Case[]): Promise<void> {
  const good = await scoreSet(cases, 'correct');
  for (const o of good) assert.ok(o.greedy!.correct, `correct solution scored wrong: gold ${o.gold}, got ${o.greedy!.answer} ${o.greedy!.failure ?? ''} ${o.greedy!.message ?? ''}\n${o.greedy!.program}`);
  const bad = await scoreSet(cases, 'incorrect');
  for (const o of bad) assert.ok(!o.greedy!.correct, `incorrect solution scored right: gold ${o.gold}\n${o.greedy!.program}`);
  assert.equal(summarize(good).pass1Greedy, 1);
  assert.equal(summarize(bad).pass1Greedy, 0);
  assert.equal(summarize(bad).majorityAtK, 0);
}

test('own problems: correct solutions score 100%, incorrect ones 0% (strings, Fractions, floats, loops, import os)', async () => {
  const rows = jsonl<{ question: string; answer: string; correct: string; incorrect: string }>(FIX('own-problems.jsonl'));
  const cases = rows.map((r) => ({ ...r, gold: parseGsm8kFinalAnswer(r.answer)! }));
  await checkSet(cases);
  const bad = await scoreSet(cases, 'incorrect');
  const failures = new Set(bad.map((o) => o.greedy!.failure ?? 'wrong_answer'));
  for (const f of ['timeout', 'non_numeric', 'error', 'wrong_answer']) assert.ok(failures.has(f), `expected a ${f} among the incorrect solutions`);
});

test('GSM8K test problems 1-32: hand-written correct solutions 100%, incorrect 0%', async (t) => {
  const skip = sharedSkip(['gsm8k', 'test_minus_holdout.jsonl']);
  if (skip) return t.skip(skip);
  const problems = readFileSync(GSM_TEST, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { question: string; answer: string });
  const sols = jsonl<{ line: number; correct: string; incorrect: string }>(FIX('handwritten-solutions.jsonl'));
  assert.ok(sols.length >= 30);
  const cases = sols.map((s) => {
    const p = problems[s.line - 1]!;
    return { question: p.question, gold: parseGsm8kFinalAnswer(p.answer)!, correct: s.correct, incorrect: s.incorrect };
  });
  await checkSet(cases);
});

test('a question with quotes and backslashes survives the docstring', async () => {
  const q = 'Sam said """hi""" and wrote C:\\temp\\x. He has 3 apples and buys 4. How many?';
  const r = await scoreCompletion(pool, q, '    result = 3 + 4\n    return result\n', 7);
  assert.ok(r.correct, JSON.stringify(r));
  // text after the function (a new top-level statement) is cut, not executed
  const r2 = await scoreCompletion(pool, q, '    result = 3 + 4\n    return result\n\nprint(simple_math_problem())\nwhile True: pass\n', 7);
  assert.ok(r2.correct, JSON.stringify(r2));
});
