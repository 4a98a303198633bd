// The training loop end to end (in-process): llama runs, the --minutes budget, gradient accumulation, resume checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../../src/checkpoint/safetensors.ts';
import { readJsonLines } from '../../src/train/metrics.ts';
import { train } from '../../src/train/trainer.ts';
import { UserError } from '../../src/util/errors.ts';
import { TINY_LLAMA, TINY_NEO, writeStoriesFile } from './fixture-stories.ts';

const dir = mkdtempSync(join(tmpdir(), 'train-'));
const data = join(dir, 'stories.txt');
writeStoriesFile(data, 150, 11);
const llama = join(dir, 'llama.json');
writeFileSync(llama, JSON.stringify(TINY_LLAMA));
const neo = join(dir, 'neo.json');
writeFileSync(neo, JSON.stringify(TINY_NEO));
const quiet = { log: () => {} };
const base = { data, vocabSize: 300, batchSize: 4, seqLen: 32, backend: 'ref' as const, valEvery: 0, sampleEvery: 0, checkpointEvery: 0, quiet: true };

test('llama: --minutes sets the step count from the measured step time; the run is an HF llama folder', async () => {
  const out = join(dir, 'llama');
  const r = await train({ ...base, modelConfig: llama, out, minutes: 0.02 }, quiet);
  assert.equal(r.reason, 'done');
  assert.ok(r.totalSteps >= 2, `steps ${r.totalSteps}`);
  assert.ok(r.seconds < 0.02 * 60 * 3 + 5, `took ${r.seconds}s`);
  const hf = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(hf.model_type, 'llama');
  assert.equal(hf.vocab_size, 300);
  const names = [...readSafetensors(join(out, 'model.safetensors')).tensors.keys()];
  assert.ok(names.includes('model.layers.0.self_attn.q_proj.weight'));
  assert.ok(names.includes('model.layers.1.mlp.gate_proj.weight'));
  assert.ok(!names.includes('lm_head.weight')); // tied, as HF saves it
  const m = readJsonLines<Record<string, number>>(join(out, 'metrics.jsonl'));
  assert.equal(m.length, r.totalSteps);
  for (const k of ['step', 'loss', 'lr', 'grad_norm', 'tokens_per_s', 'wall_s', 'tokens']) assert.equal(typeof m[0]![k], 'number', k);
  assert.equal(typeof m[m.length - 1]!.val_loss, 'number'); // validated at the end
  const saved = JSON.parse(readFileSync(join(out, 'train_config.json'), 'utf8'));
  assert.equal(saved.settings.minutes, 0.02);
});

test('gradient accumulation: 2 micro-batches of 4 follow 1 batch of 8 (same windows, same mean loss)', async () => {
  const a = await train({ ...base, modelConfig: neo, out: join(dir, 'acc1'), steps: 6, batchSize: 8 }, quiet);
  const b = await train({ ...base, modelConfig: neo, out: join(dir, 'acc2'), steps: 6, batchSize: 4, gradAccum: 2 }, quiet);
  const la = readJsonLines<{ loss: number; grad_norm: number }>(join(a.runDir, 'metrics.jsonl'));
  const lb = readJsonLines<{ loss: number; grad_norm: number }>(join(b.runDir, 'metrics.jsonl'));
  assert.equal(la.length, 6);
  for (let i = 0; i < 6; i++) {
    assert.ok(Math.abs(la[i]!.loss - lb[i]!.loss) < 1e-4, `step ${i + 1}: ${la[i]!.loss} vs ${lb[i]!.loss}`);
    assert.ok(Math.abs(la[i]!.grad_norm - lb[i]!.grad_norm) < 1e-3 * la[i]!.grad_norm, `grad norm step ${i + 1}`);
  }
});

test('resume refuses settings that would change the computation; a fresh run refuses an existing run dir', async () => {
  const run = join(dir, 'acc1');
  await assert.rejects(train({ lr: 1 }, quiet, run), (e: Error) => e instanceof UserError && /--lr/.test(e.message));
  await assert.rejects(train({ ...base, modelConfig: neo, out: run, steps: 2 }, quiet), /already holds a run/);
  await assert.rejects(train({ ...base, modelConfig: neo, out: join(dir, 'x'), steps: 2, minutes: 1 }, quiet), /not both/);
});

test('wasm backend: a run stopped mid-way (abort) and resumed matches the uninterrupted run exactly', async (t) => {
  let wasmOk = true;
  try {
    (await (await import('../../src/engine/open-backend.ts')).openBackend('wasm', 2)).dispose();
  } catch (e) {
    wasmOk = false;
    t.skip(`the WASM backend does not load here: ${(e as Error).message}`);
  }
  if (!wasmOk) return;
  const common = { ...base, modelConfig: llama, backend: 'wasm' as const, threads: 2, steps: 12, valEvery: 4, checkpointEvery: 5 };
  const a = await train({ ...common, out: join(dir, 'wasm-a') }, quiet);
  const ctl = new AbortController();
  const b = await train({ ...common, out: join(dir, 'wasm-b') }, { ...quiet, signal: ctl.signal, onStep: (r) => r.step === 7 && ctl.abort() });
  assert.equal(b.reason, 'interrupted');
  assert.equal(b.step, 7);
  await train({}, quiet, b.runDir);
  const pick = (p: string) => readJsonLines<{ step: number; loss: number; val_loss?: number; grad_norm: number }>(join(p, 'metrics.jsonl')).map((r) => [r.step, r.loss, r.val_loss, r.grad_norm]);
  assert.deepEqual(pick(b.runDir), pick(a.runDir));
});

test('--minutes: every change of the planned step count is explained in the output', async () => {
  const lines: string[] = [];
  const r = await train({ ...base, quiet: false, modelConfig: neo, out: join(dir, 'replan'), minutes: 0.03 }, { log: (l) => lines.push(l), progressStream: { write: () => true } });
  const planned = Number(/^training (\d+) steps/m.exec(lines.join('\n'))?.[1]);
  assert.ok(planned > 0, lines.join('\n'));
  // Each re-plan names the old and the new count; chained, they lead from the first plan to the steps trained.
  let count = planned;
  for (const m of lines.join('\n').matchAll(/re-planned: (\d+) → (\d+) steps, from the pace so far/g)) {
    assert.equal(Number(m[1]), count);
    count = Number(m[2]);
  }
  assert.equal(count, r.totalSteps);
});
