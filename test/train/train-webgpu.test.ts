// `train --backend webgpu` trains on the GPU-resident GpuModel: its losses follow the reference backend's run of the
// same settings, its checkpoints load and sample on the CPU, a run stopped and resumed equals the uninterrupted one
// bit for bit, and a diverging run stops without saving non-finite weights. Skips with the reason where WebGPU has no
// adapter (on a CPU-only machine it runs on lavapipe, hence the tiny shapes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNonFinite } from '../../src/checkpoint/run-dir.ts';
import { readSafetensors } from '../../src/checkpoint/safetensors.ts';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { nodeDevice } from '../../src/engine/webgpu/node.ts';
import { loadRunModel } from '../../src/sample/load.ts';
import { generateText } from '../../src/sample/generate.ts';
import { trainBpe } from '../../src/tokenizer/train.ts';
import { readJsonLines } from '../../src/train/metrics.ts';
import { TrainingDiverged, train } from '../../src/train/trainer.ts';
import { Rng } from '../../src/util/rng.ts';
import { TINY_LLAMA, TINY_NEO, makeStories, writeStoriesFile } from './fixture-stories.ts';

const acq = await nodeDevice();
const skip = acq.ok ? false : `no WebGPU adapter: ${acq.reason}`;
if (!acq.ok) console.log(`# skipping the WebGPU training tests: ${acq.reason}`);

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');
const dir = mkdtempSync(join(tmpdir(), 'train-webgpu-'));
const data = join(dir, 'stories.txt');
writeStoriesFile(data, 150, 11);
const neo = join(dir, 'neo.json');
writeFileSync(neo, JSON.stringify(TINY_NEO));
const llama = join(dir, 'llama.json');
writeFileSync(llama, JSON.stringify(TINY_LLAMA));
const tokenizer = join(dir, 'tokenizer.json');
const quiet = { log: () => {} };
const base = { data, tokenizer, batchSize: 4, seqLen: 32, valEvery: 3, valBatches: 2, sampleEvery: 0, checkpointEvery: 0, warmupSteps: 2, quiet: true };

type Row = { step: number; loss: number; grad_norm: number; val_loss?: number };
const metrics = (run: string) => readJsonLines<Row>(join(run, 'metrics.jsonl'));
const weights = (file: string) => new Map([...readSafetensors(file).tensors].map(([k, t]) => [k, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)]));

function close(got: number, want: number, rel: number, what: string): void {
  assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `${what}: ${got} vs the reference's ${want}`);
}

test('setup: a tokenizer for every run', { skip }, async () => {
  (await trainBpe(makeStories(150, 11), { vocabSize: 300 })).save(tokenizer);
});

for (const [name, modelConfig, gradAccum] of [['gpt-neo', neo, 1], ['llama, --grad-accum 2', llama, 2]] as const) {
  test(`${name}: losses, grad norms and validation follow the reference backend; the checkpoint loads and samples on the CPU`, { skip }, async () => {
    const common = { ...base, modelConfig, gradAccum, steps: 6 };
    const lines: string[] = [];
    const ref = await train({ ...common, backend: 'ref', out: join(dir, `ref-${gradAccum}`) }, quiet);
    const gpu = await train({ ...common, backend: 'webgpu', out: join(dir, `gpu-${gradAccum}`) }, { log: (l) => lines.push(l) });
    assert.equal(gpu.backend, 'webgpu');
    assert.equal(gpu.step, 6);
    assert.match(lines.join('\n'), /^backend webgpu: webgpu on .+ \[/m);
    const want = metrics(ref.runDir);
    const got = metrics(gpu.runDir);
    assert.equal(got.length, 6);
    got.forEach((r, i) => {
      close(r.loss, want[i]!.loss, 1e-3, `step ${i + 1} loss`);
      close(r.grad_norm, want[i]!.grad_norm, 1e-3, `step ${i + 1} grad norm`);
      assert.equal(r.val_loss === undefined, want[i]!.val_loss === undefined, `step ${i + 1} validated on one backend only`);
      if (r.val_loss !== undefined) close(r.val_loss, want[i]!.val_loss!, 1e-3, `step ${i + 1} val loss`);
    });
    // the saved weights (read back from the GPU) are the trained ones: close to the reference's after 6 AdamW steps
    const refW = readSafetensors(join(ref.runDir, 'model.safetensors')).tensors;
    for (const [k, t] of readSafetensors(join(gpu.runDir, 'model.safetensors')).tensors) {
      const w = refW.get(k)!.data;
      let diff = 0;
      for (let i = 0; i < w.length; i++) diff = Math.max(diff, Math.abs(t.data[i]! - w[i]!));
      assert.ok(diff < 0.05 * 2e-3 * 6, `${k} differs from the reference by ${diff}`);
    }
    assert.ok(existsSync(join(gpu.runDir, 'best', 'model.safetensors')));
    const be = createRefBackend();
    try {
      const { model, tokenizer: tok } = loadRunModel(gpu.runDir, be);
      const text = await generateText(model, tok, 'Once upon a time', { maxTokens: 8, temperature: 0.8, topK: 0, rng: new Rng(1) });
      assert.ok(text.length > 0);
    } finally {
      be.dispose();
    }
  });
}

test('a webgpu run stopped mid-way and resumed equals the uninterrupted run bit for bit (losses, samples, weights, AdamW state)', { skip }, async () => {
  const common = { ...base, modelConfig: llama, backend: 'webgpu' as const, steps: 9, checkpointEvery: 4, sampleEvery: 4, sampleTokens: 6 };
  const a = await train({ ...common, out: join(dir, 'whole') }, quiet);
  const ctl = new AbortController();
  const b = await train({ ...common, out: join(dir, 'resumed') }, { ...quiet, signal: ctl.signal, onStep: (r) => r.step === 5 && ctl.abort() });
  assert.equal(b.reason, 'interrupted');
  assert.equal(b.step, 5);
  const r = await train({}, quiet, b.runDir);
  assert.equal(r.step, 9);
  assert.equal(r.backend, 'webgpu');
  const pick = (run: string) => metrics(run).map((m) => [m.step, m.loss, m.val_loss, m.grad_norm]);
  assert.deepEqual(pick(b.runDir), pick(a.runDir));
  const samples = (run: string) => readJsonLines<{ step: number; text: string }>(join(run, 'samples.jsonl')).map((s) => [s.step, s.text]);
  assert.deepEqual(samples(b.runDir), samples(a.runDir));
  assert.deepEqual(weights(join(b.runDir, 'model.safetensors')), weights(join(a.runDir, 'model.safetensors')));
  const last = (run: string) => join(run, 'checkpoints', readdirSync(join(run, 'checkpoints')).sort().at(-1)!);
  const opt = (run: string) => readdirSync(last(run)).filter((f) => f.includes('optim')).map((f) => readFileSync(join(last(run), f)));
  assert.ok(opt(a.runDir).length > 0, readdirSync(last(a.runDir)).join(' '));
  assert.deepEqual(opt(b.runDir), opt(a.runDir));
});

test('a huge --lr on webgpu stops with TrainingDiverged and leaves no non-finite weights in any checkpoint or best/', { skip }, async () => {
  const out = join(dir, 'diverge');
  await assert.rejects(
    train({ ...base, modelConfig: neo, backend: 'webgpu', out, steps: 8, lr: 1e6, valEvery: 1, checkpointEvery: 1 }, quiet),
    (e: Error) => e instanceof TrainingDiverged && /^training diverged at step \d: /.test(e.message),
  );
  if (!existsSync(out)) return; // diverged before the first checkpoint: the failed start removed its directory
  const files = readdirSync(join(out, 'checkpoints')).map((c) => join(out, 'checkpoints', c, 'model.safetensors'));
  if (existsSync(join(out, 'model.safetensors'))) files.push(join(out, 'model.safetensors'));
  if (existsSync(join(out, 'best'))) files.push(join(out, 'best', 'model.safetensors'));
  for (const f of files) assert.equal(findNonFinite(readSafetensors(f).tensors.values()), null, f);
  for (const m of metrics(out)) assert.ok(Number.isFinite(m.loss) && Number.isFinite(m.grad_norm), JSON.stringify(m));
});

test('an update that overflows the weights on webgpu is caught in the same step (the GPU sums the squared weights)', { skip }, async () => {
  const out = join(dir, 'overflow');
  await assert.rejects(
    train({ ...base, modelConfig: neo, backend: 'webgpu', out, steps: 4, lr: 1e30 }, quiet),
    (e: Error) => e instanceof TrainingDiverged && /^training diverged at step 1: the update made .*; no checkpoint had been written$/.test(e.message),
  );
  assert.ok(!existsSync(out));
});

test('the CLI: train --backend webgpu names the adapter and trains on it', { skip }, () => {
  const out = join(dir, 'cli');
  const r = spawnSync(
    process.execPath,
    [CLI, 'train', '--model-config', neo, '--data', data, '--tokenizer', tokenizer, '--out', out, '--steps', '2', '--batch-size=4', '--seq-len=32', '--backend=webgpu', '--sample-every=0', '--quiet'],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^backend webgpu: webgpu on .+ \[/m);
  assert.match(r.stdout + r.stderr, /on webgpu/);
  assert.equal(metrics(out).length, 2);
});
