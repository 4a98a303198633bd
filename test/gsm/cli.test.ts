// The `gsm` commands end to end: generate (mock LLM) → filter → exec; `train --data <tinygsm.jsonl>` on the output
// format; eval with k samples; verifier train; eval with the verifier. A tiny model scores ~0, which is fine: the
// harness itself is checked in harness.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMock, type MockLlmServer } from '../helpers/mock-llm-server.ts';
import { toTinyGsmFunction } from '../../src/gsm/tinygsm.ts';
import { gsmScript } from './mock-gsm.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');
const OWN = join(import.meta.dirname, 'fixtures', 'own-problems.jsonl');
let dir: string;
let mock: MockLlmServer;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OPENAI_API_KEY: 'test' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
const ok = async (args: string[]) => {
  const r = await cli(args);
  assert.equal(r.code, 0, `${args.join(' ')}\n${r.stderr}`);
  return r;
};
const jsonl = (p: string) => readFileSync(join(dir, p), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gsm-cli-'));
  mock = await startMock({ fault: gsmScript() });
  const lines: string[] = [];
  for (let i = 0; i < 60; i++) {
    const a = 2 + ((i * 7) % 30);
    const b = 1 + ((i * 3) % 9);
    const q = `Ann has ${a} apples and buys ${b} bags with 3 apples in each. How many apples does she have now?`;
    const code = toTinyGsmFunction(q, `apples = ${a}\nbags = ${b}\nbought = bags * 3\nresult = apples + bought`);
    lines.push(JSON.stringify({ id: `t${i}`, question: q, code, text: code }));
  }
  writeFileSync(join(dir, 'tinygsm.jsonl'), lines.join('\n') + '\n');
  writeFileSync(join(dir, 'tiny.json'), JSON.stringify({ arch: 'gpt-neo', vocabSize: 512, maxSeqLen: 192, dim: 32, nLayers: 2, nHeads: 4, windowSize: 32 }));
});
after(async () => {
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('gsm generate (mock LLM) → gsm filter → gsm exec; --dry-run prices the plan', async () => {
  const dry = await ok(['gsm', 'generate', '--seeds', OWN, '--count', '500', '--model', 'gpt-4o-mini', '--dry-run']);
  assert.match(dry.stdout, /Generate 10 different math problems similar to this math problem/);
  assert.match(dry.stdout, /estimate: 500 problems from 6 seeds: \d+ slots/);
  assert.match(dry.stdout, /cost: ~\$/);
  await ok(['gsm', 'generate', '--seeds', OWN, '--count', '30', '--out', 'gen', '--provider', 'openai', '--base-url', `${mock.url}/v1`, '--model', 'gpt-4o-mini', '--quiet']);
  const problems = jsonl('gen/problems.jsonl');
  assert.equal(problems.length, 30);
  const f = await ok(['gsm', 'filter', '--in', 'gen', '--out', 'filtered', '--decontaminate', OWN, '--workers', '1', '--timeout-ms', '500', '--quiet']);
  assert.match(f.stdout, /read 30, kept \d+/);
  assert.match(f.stdout, /decontamination vs 6 GSM8K test questions/);
  const report = JSON.parse(readFileSync(join(dir, 'filtered', 'report.json'), 'utf8'));
  assert.equal(report.read, 30);
  assert.ok(report.dropped.exec_error >= 1, 'the division-by-zero programs are dropped');
  const kept = jsonl('filtered/kept.jsonl');
  assert.equal(kept.length, report.kept);
  assert.ok(kept.every((r) => typeof r.answer === 'number'));
  const ex = await ok(['gsm', 'exec', '--in', 'filtered/kept.jsonl', '--workers', '1', '--json']);
  const results = ex.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(results.length, kept.length);
  results.forEach((r, i) => assert.equal(r.value, kept[i]!.answer));
});

test('train --data <tinygsm.jsonl>, then gsm eval, gsm verifier train, gsm eval --verifier', async () => {
  await ok(['train', '--data', 'tinygsm.jsonl', '--model-config', 'tiny.json', '--vocab-size', '300', '--steps', '8', '--batch-size=4', '--seq-len=64', '--backend=ref', '--out', 'run', '--quiet']);
  const e = await ok(['gsm', 'eval', '--run', 'run', '--data', OWN, '--samples', '2', '--limit', '2', '--max-tokens', '20', '--backend', 'ref', '--out', 'ev', '--workers', '1', '--quiet']);
  assert.match(e.stdout, /problems 2: pass@1 greedy \d+\.\d\d%, pass@1 sampled .*, pass@2 .*, majority@2/);
  const rep = JSON.parse(readFileSync(join(dir, 'ev', 'report.json'), 'utf8'));
  assert.equal(rep.problems, 2);
  assert.equal(rep.samplesExecuted, 6);
  assert.ok(existsSync(join(dir, 'ev', 'report.html')));
  const recs = jsonl('ev/records.jsonl');
  assert.equal(recs.length, 2);
  assert.ok((recs[0]!.greedy as { program: string }).program.startsWith('def simple_math_problem() -> int:'));
  await ok(['gsm', 'verifier', 'train', '--run', 'run', '--data', OWN, '--samples', '2', '--limit', '2', '--max-tokens', '20', '--epochs', '1', '--backend', 'ref', '--out', 'ver', '--workers', '1', '--quiet']);
  for (const f of ['model.safetensors', 'verifier_head.safetensors', 'config.json', 'tokenizer.json', 'samples.jsonl']) assert.ok(existsSync(join(dir, 'ver', f)), f);
  const v = await ok(['gsm', 'eval', '--run', 'run', '--data', OWN, '--samples', '2', '--limit', '1', '--max-tokens', '20', '--backend', 'ref', '--out', 'ev2', '--verifier', 'ver', '--workers', '1', '--quiet']);
  assert.match(v.stdout, /verify@2 \d+\.\d\d%/);
  const r2 = jsonl('ev2/records.jsonl')[0]!;
  assert.ok((r2.samples as Array<{ verifierScore: number }>).every((s) => s.verifierScore > 0 && s.verifierScore < 1));
});

test('bad input: one clear line, no stack trace', async () => {
  const r = await cli(['gsm', 'exec', '--in', 'missing.jsonl']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--in missing.jsonl: no such file or directory/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const g = await cli(['gsm', 'generate', '--seeds', OWN, '--count', '5', '--out', 'x', '--model', 'm', '--ic-share', '2']);
  assert.match(g.stderr, /--ic-share: expected a share in \[0, 1\]/);
});

test('gsm exec on an empty file: one line naming --in, non-zero exit (was a blank line and exit 0)', async () => {
  writeFileSync(join(dir, 'empty.jsonl'), '');
  const r = await cli(['gsm', 'exec', '--in', 'empty.jsonl']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'tinystories: --in empty.jsonl: no records (expected JSONL of {question, code} or {question, program})\n');
  assert.equal(r.stdout, '');
});

test('gsm exec on a JSONL with a broken line prints the records before it, then names the file and line (not "sandbox pool closed")', async () => {
  const prog = toTinyGsmFunction('Tom has 6 bags of 7 apples. How many apples?', 'result = 6 * 7');
  const lines = [0, 1, 2].map((i) => JSON.stringify({ id: `p${i}`, question: 'Tom has 6 bags of 7 apples. How many apples?', code: prog }));
  lines.push('{"question": "broken", "code": ');
  lines.push(JSON.stringify({ id: 'p4', question: 'q', code: prog }));
  writeFileSync(join(dir, 'broken.jsonl'), lines.join('\n') + '\n');
  const r = await cli(['gsm', 'exec', '--in', 'broken.jsonl', '--workers', '1']);
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /pool closed/);
  assert.match(r.stderr, /broken\.jsonl.*line 4/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 2).join(' ')), ['p0 42', 'p1 42', 'p2 42']);
});
