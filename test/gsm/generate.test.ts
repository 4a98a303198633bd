// `gsm generate` against the 127.0.0.1 mock: 10-problem blocks (malformed ones dropped), GSM-IC in two calls,
// TinyGSM form with seed/model/usage/cost, exactly-once resume (no request paid twice), growing --count, batch mode.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMock, type MockLlmServer } from '../helpers/mock-llm-server.ts';
import { createBatchClient, createProvider } from '../../src/llm/index.ts';
import { PriceTable } from '../../src/llm/pricing.ts';
import { SlotPlanner, estimateGsmCost, generateGsm, type Seed } from '../../src/gsm/generate.ts';
import type { TinyGsmRecord } from '../../src/gsm/tinygsm.ts';
import { gsmScript } from './mock-gsm.ts';

const SEEDS: Seed[] = [
  'Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?',
  'Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?',
  'Betty is saving money for a new wallet which costs $100. Betty has only half of the money she needs. How much more money does Betty need?',
].map((question, i) => ({ id: `seeds.jsonl:${i + 1}`, question }));

let mock: MockLlmServer;
let dir: string;
before(async () => {
  mock = await startMock({ fault: gsmScript((rid) => rid === 'gsm-00000000-a0') });
  dir = mkdtempSync(join(tmpdir(), 'gsm-gen-'));
});
after(async () => {
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

const problemsOf = (out: string): TinyGsmRecord[] => readFileSync(join(out, 'problems.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

function opts(out: string, count: number, extra: Record<string, unknown> = {}) {
  return {
    out, count, seeds: SEEDS, provider: createProvider({ provider: 'openai', baseURL: `${mock.url}/v1` }), providerName: 'openai',
    model: 'gpt-4o-mini', icShare: 0.33, maxTokens: 4000, prices: new PriceTable(), quiet: true, scheduler: { concurrency: 4 }, ...extra,
  };
}

test('slot plan: one "similar" slot per seed then GSM-IC slots making ~a third of the problems', () => {
  const p = new SlotPlanner(3, 0.33);
  const plans = Array.from({ length: 60 }, (_, i) => p.at(i));
  const similar = plans.filter((x) => x.kind === 'similar').length;
  const ic = plans.filter((x) => x.kind === 'ic').length;
  const share = ic / (ic + 10 * similar);
  assert.ok(Math.abs(share - 0.33) < 0.03, `IC share ${share}`);
  assert.deepEqual(plans.slice(0, 2).map((x) => [x.seed, x.kind]), [[0, 'similar'], [0, 'ic']]);
  assert.ok(plans.some((x) => x.pass > 0), 'seeds are reused in a second pass');
  const none = new SlotPlanner(3, 0);
  assert.ok([0, 1, 2, 3].every((i) => none.at(i).kind === 'similar'));
});

test('generates TinyGSM records, drops malformed blocks, resumes exactly once, grows with --count', async () => {
  const out = join(dir, 'run');
  const r = await generateGsm(opts(out, 25));
  assert.equal(r.problems, 25);
  const ps = problemsOf(out);
  assert.equal(ps.length, 25);
  for (const p of ps) {
    assert.match(p.code, /^def simple_math_problem\(\) -> int:\n {4}"""\n/);
    assert.match(p.code, /\n {4}return result\n$/);
    assert.ok(p.code.includes(p.question.split('\n')[0]!));
    assert.equal(p.text, p.code);
    assert.ok(SEEDS.some((s) => s.id === p.seed_id));
    assert.equal(p.model, 'gpt-4o-mini');
    assert.ok(p.usage.outputTokens > 0 && typeof p.cost === 'number' && p.cost > 0);
    assert.ok(!/```|\*\*|Program \d/.test(p.code), p.code);
    assert.ok(!/print\(coins\)|Cara has/.test(p.code), 'malformed blocks are dropped');
  }
  assert.ok(ps.some((p) => p.kind === 'ic') && ps.some((p) => p.kind === 'similar'));
  const ic = ps.find((p) => p.kind === 'ic')!;
  assert.match(ic.question, /sister is 9 years old/);
  assert.match(ic.code, /marbles = \d+\n {4}won = 4\n {4}result = marbles \+ won\n {4}return result/);
  // the first request got garbage: its slot was retried with a second request id
  assert.ok(mock.delivered().has('gsm-00000000-a1'));

  const before = mock.counts.requests;
  const again = await generateGsm(opts(out, 25));
  assert.equal(again.problems, 25);
  assert.equal(mock.counts.requests, before, 'a rerun pays for nothing');
  assert.deepEqual(problemsOf(out), ps);

  const more = await generateGsm(opts(out, 60));
  assert.equal(more.problems, 60);
  const ps2 = problemsOf(out);
  assert.deepEqual(ps2.slice(0, 25), ps, 'earlier problems keep their place');
  for (const [rid, n] of mock.delivered()) assert.equal(n, 1, `${rid} was paid ${n} times`);
});

test('a different model in the same directory is refused', async () => {
  await assert.rejects(generateGsm(opts(join(dir, 'run'), 25, { model: 'gpt-4o' })), /model/);
});

test('batch mode produces the same kind of output', async () => {
  const provider = createProvider({ provider: 'openai', baseURL: `${mock.url}/v1` });
  const out = join(dir, 'batch');
  const r = await generateGsm(opts(out, 12, { provider, batch: { client: createBatchClient(provider), pollMs: 20 } }));
  assert.equal(r.problems, 12);
  assert.ok(mock.batchCount > 0);
  assert.ok(problemsOf(out).every((p) => p.cost! > 0));
});

test('--dry-run estimate counts calls and prices them', () => {
  const e = estimateGsmCost({ count: 1000, seeds: SEEDS, icShare: 0.33, model: 'gpt-4o-mini', prices: new PriceTable(), batch: false, maxTokens: 4000 });
  assert.ok(e.similarCalls > 60 && e.similarCalls < 80, String(e.similarCalls));
  assert.ok(e.icCalls > 0 && e.cost! > 0 && e.costUpperBound! > e.cost!);
  const b = estimateGsmCost({ count: 1000, seeds: SEEDS, icShare: 0.33, model: 'gpt-4o-mini', prices: new PriceTable(), batch: true, maxTokens: 4000 });
  assert.ok(Math.abs(b.cost! - e.cost! / 2) < 1e-9);
});
