// Exact resume: a run SIGKILLed between checkpoints and resumed logs the same losses, bit for bit, as an
// uninterrupted run (on the reference and the WASM backend); best/ holds the best validation step; Ctrl-C (also
// delivered twice, as npm start and timeout -s INT do) finishes the step, checkpoints and exits 0.
import { type TestContext, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../../src/checkpoint/safetensors.ts';
import { openBackend } from '../../src/engine/open-backend.ts';
import { trainBpe } from '../../src/tokenizer/train.ts';
import { readJsonLines } from '../../src/train/metrics.ts';
import { TINY_NEO, makeStories, writeStoriesFile } from './fixture-stories.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');
const dir = mkdtempSync(join(tmpdir(), 'resume-'));
const data = join(dir, 'stories.txt');
const modelConfig = join(dir, 'tiny.json');
const tokenizer = join(dir, 'tokenizer.json');

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function finished(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((res) => child.on('exit', (code, signal) => res({ code, signal, stderr })));
}

function lines(path: string): number {
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).length;
}

async function waitFor(cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

const commonArgs = (out: string, backend = 'ref') => [
  'train', '--model-config', modelConfig, '--data', data, '--tokenizer', tokenizer, '--out', out, '--steps', '40',
  '--batch-size=8', '--seq-len=48', `--backend=${backend}`, '--threads=2', '--checkpoint-every=10', '--val-every=5', '--val-batches=2',
  '--sample-every=8', '--sample-tokens=12', '--warmup-steps=4', '--quiet',
];

async function wasmLoads(): Promise<string | null> {
  try {
    (await openBackend('wasm', 1)).dispose();
    return null;
  } catch (e) {
    return `the WASM backend does not load here: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** The tensors of a safetensors file as name -> bytes, for exact comparison. */
function weights(path: string): Map<string, Buffer> {
  return new Map([...readSafetensors(path).tensors].map(([k, t]) => [k, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)]));
}

test('setup fixtures', async () => {
  writeStoriesFile(data, 300, 7);
  writeFileSync(modelConfig, JSON.stringify(TINY_NEO));
  (await trainBpe(makeStories(300, 7), { vocabSize: 320 })).save(tokenizer);
});

async function killThenResume(backend: 'ref' | 'wasm', t: TestContext): Promise<void> {
  if (backend === 'wasm') {
    const why = await wasmLoads();
    if (why) return t.skip(why);
  }
  const a = join(dir, backend === 'ref' ? 'a' : `a-${backend}`);
  const b = join(dir, `b-${backend}`);
  const common = (out: string) => commonArgs(out, backend);
  const ra = await finished(cli(common(a)));
  assert.equal(ra.code, 0, ra.stderr);
  const child = cli(common(b));
  const done = finished(child);
  await waitFor(() => lines(join(b, 'metrics.jsonl')) >= 14); // past the step-10 checkpoint, before step 20's
  child.kill('SIGKILL');
  const rb = await done;
  assert.equal(rb.signal, 'SIGKILL');
  const before = readJsonLines<{ step: number }>(join(b, 'metrics.jsonl'));
  assert.ok(before.length < 40, `the run finished before the kill (${before.length} steps)`);
  const rr = await finished(cli(['train', '--resume', b, '--quiet']));
  assert.equal(rr.code, 0, rr.stderr);
  type M = { step: number; loss: number; lr: number; grad_norm: number; val_loss?: number; tokens: number };
  const ma = readJsonLines<M>(join(a, 'metrics.jsonl'));
  const mb = readJsonLines<M>(join(b, 'metrics.jsonl'));
  assert.equal(ma.length, 40);
  assert.deepEqual(mb.map((r) => r.step), ma.map((r) => r.step));
  const pick = (r: M) => ({ step: r.step, loss: r.loss, lr: r.lr, grad_norm: r.grad_norm, val_loss: r.val_loss, tokens: r.tokens });
  assert.deepEqual(mb.map(pick), ma.map(pick));
  assert.ok(ma[39]!.loss < ma[0]!.loss - 0.5, `loss should fall: ${ma[0]!.loss} -> ${ma[39]!.loss}`);
  assert.deepEqual(readJsonLines(join(b, 'samples.jsonl')), readJsonLines(join(a, 'samples.jsonl')));
  assert.ok(readFileSync(join(a, 'model.safetensors')).equals(readFileSync(join(b, 'model.safetensors'))));
  // keep-last 2 by default: only the two newest step checkpoints remain
  assert.deepEqual(JSON.parse(readFileSync(join(b, 'trainer_state.json'), 'utf8')).latest, 'checkpoints/step-00000040');
  // best/ is the step with the lowest validation loss, with that step's weights, in both runs alike
  const vals = ma.filter((r) => r.val_loss !== undefined);
  const bestVal = vals.reduce((x, y) => (y.val_loss! < x.val_loss! ? y : x));
  for (const run of [a, b]) {
    const best = JSON.parse(readFileSync(join(run, 'best', 'state.json'), 'utf8')) as { step: number; valLoss: number };
    assert.deepEqual(best, { step: bestVal.step, valLoss: bestVal.val_loss });
  }
  assert.deepEqual(weights(join(b, 'best', 'model.safetensors')), weights(join(a, 'best', 'model.safetensors')));
  const atBest = join(a, 'checkpoints', `step-${String(bestVal.step).padStart(8, '0')}`, 'model.safetensors');
  if (existsSync(atBest)) assert.deepEqual(weights(join(a, 'best', 'model.safetensors')), weights(atBest));
}

test('kill -9 between checkpoints, then --resume: the loss curve equals the uninterrupted run bit for bit; best/ is the best validation step', (t) => killThenResume('ref', t));
test('the same on the WASM backend (the default): kill -9, --resume, bit-identical losses and best/', (t) => killThenResume('wasm', t));

test('--resume with a larger --steps trains only the new steps', async () => {
  const a = join(dir, 'a');
  const r = await finished(cli(['train', '--resume', a, '--steps', '44', '--quiet']));
  assert.equal(r.code, 0, r.stderr);
  const m = readJsonLines<{ step: number }>(join(a, 'metrics.jsonl'));
  assert.deepEqual(m.map((x) => x.step), Array.from({ length: 44 }, (_, i) => i + 1));
});

test('Ctrl-C finishes the step, writes a checkpoint and exits 0', async () => {
  const c = join(dir, 'c');
  const args = commonArgs(c);
  args[args.indexOf('40')] = '100000';
  const child = cli(args);
  const done = finished(child);
  await waitFor(() => lines(join(c, 'metrics.jsonl')) >= 3);
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 0, r.stderr);
  const m = readJsonLines<{ step: number }>(join(c, 'metrics.jsonl'));
  const state = JSON.parse(readFileSync(join(c, 'trainer_state.json'), 'utf8'));
  assert.equal(state.step, m[m.length - 1]!.step);
  assert.ok(existsSync(join(c, state.latest, 'optimizer.safetensors')));
  assert.match(r.stderr, /stopped by Ctrl-C at step/);
});

test('two Ctrl-C in quick succession (as npm start or timeout -s INT deliver them) still finish the step and checkpoint', async () => {
  const d = join(dir, 'd');
  const args = commonArgs(d);
  args[args.indexOf('40')] = '100000';
  const child = cli(args);
  const done = finished(child);
  await waitFor(() => lines(join(d, 'metrics.jsonl')) >= 3);
  child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 0, r.stderr);
  const m = readJsonLines<{ step: number }>(join(d, 'metrics.jsonl'));
  const state = JSON.parse(readFileSync(join(d, 'trainer_state.json'), 'utf8'));
  assert.equal(state.step, m[m.length - 1]!.step);
  assert.ok(state.step >= 3);
  assert.match(r.stderr, /stopped by Ctrl-C at step/);
});
