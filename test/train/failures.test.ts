// What a new user hits when training goes wrong: each failure is one clear line with a non-zero exit, never a
// success with a broken result, and never state left behind that blocks the next try.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNonFinite } from '../../src/checkpoint/run-dir.ts';
import { readSafetensors, writeSafetensorsSync } from '../../src/checkpoint/safetensors.ts';
import { tokenizeToShards } from '../../src/data/shards.ts';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { loadRunModel } from '../../src/sample/load.ts';
import { RunStore } from '../../src/server/runs.ts';
import { trainBpe } from '../../src/tokenizer/train.ts';
import { readJsonLines } from '../../src/train/metrics.ts';
import { train } from '../../src/train/trainer.ts';
import { UserError } from '../../src/util/errors.ts';
import { TINY_NEO, makeStories, writeStoriesFile } from './fixture-stories.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');
const dir = mkdtempSync(join(tmpdir(), 'train-failures-'));
const data = join(dir, 'stories.txt');
writeStoriesFile(data, 120, 5);
const neo = join(dir, 'neo.json');
writeFileSync(neo, JSON.stringify(TINY_NEO));
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
const small = ['--model-config', neo, '--vocab-size', '300', '--batch-size=4', '--seq-len=32', '--backend=ref', '--quiet', '--sample-every=0'];
const quiet = { log: () => {} };
const base = { modelConfig: neo, data, vocabSize: 300, batchSize: 4, seqLen: 32, backend: 'ref' as const, quiet: true, sampleEvery: 0 };

test('--lr 1e6 diverges: train stops with a clear line and exit 1, and writes no non-finite weights anywhere', () => {
  const out = join(dir, 'diverge');
  const r = cli(['train', ...small, '--data', data, '--out', out, '--steps', '8', '--lr', '1e6', '--val-every=1', '--checkpoint-every=1']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr.trim(), /^tinystories: training diverged at step \d: the loss is .* and the gradient norm .*; nothing of that step was saved\. Try a smaller --lr \(now 1000000\)/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  // Every checkpoint, the latest weights and best/ (if one was written) are finite; the failure is recorded for the dashboard.
  const weightFiles = [join(out, 'model.safetensors'), ...readdirSync(join(out, 'checkpoints')).map((c) => join(out, 'checkpoints', c, 'model.safetensors'))];
  if (existsSync(join(out, 'best'))) weightFiles.push(join(out, 'best', 'model.safetensors'));
  for (const f of weightFiles) assert.equal(findNonFinite(readSafetensors(f).tensors.values()), null, f);
  const metrics = readJsonLines<{ loss: number; grad_norm: number; val_loss?: number }>(join(out, 'metrics.jsonl'));
  for (const m of metrics) assert.ok(Number.isFinite(m.loss) && Number.isFinite(m.grad_norm) && (m.val_loss === undefined || Number.isFinite(m.val_loss)), JSON.stringify(m));
  assert.match(JSON.parse(readFileSync(join(out, 'run_error.json'), 'utf8')).error, /training diverged/);
  // the dashboard's run row says so instead of showing a healthy run
  assert.match(new RunStore(dir).summary('diverge').error ?? '', /^training diverged at step \d/);
});

test('a diverged run with no checkpoint yet leaves no run directory, so the corrected command runs at once', async () => {
  const out = join(dir, 'diverge-early');
  await assert.rejects(train({ ...base, out, steps: 8, lr: 1e6 }, quiet), (e: Error) => e instanceof UserError && /training diverged .*no checkpoint had been written/.test(e.message));
  assert.ok(!existsSync(out), 'the failed start left its run directory behind');
  assert.equal((await train({ ...base, out, steps: 2 }, quiet)).step, 2);
});

test('sample refuses weights that are not finite, naming the tensor', async () => {
  const out = (await train({ ...base, out: join(dir, 'to-poison'), steps: 2, valEvery: 0 }, quiet)).runDir;
  const file = join(out, 'model.safetensors');
  const tensors = [...readSafetensors(file).tensors.values()];
  tensors[1]!.data[3] = NaN;
  writeSafetensorsSync(file, tensors, { format: 'pt' });
  const backend = createRefBackend();
  try {
    assert.throws(() => loadRunModel(out, backend), (e: Error) => e instanceof UserError && new RegExp(`${tensors[1]!.name} holds NaN \\(element 3\\); these weights are not finite`).test(e.message));
  } finally {
    backend.dispose();
  }
  const r = cli(['sample', '--run', out, '--prompt', 'Once']);
  assert.equal(r.status, 1);
  assert.match(r.stderr.trim(), /^tinystories: .*holds NaN .*not finite/);
});

test('a train that fails before its first step leaves --out as it found it: absent, or an empty folder', async () => {
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '');
  const out = join(dir, 'fail-early');
  const noTokens = (e: Error) => e instanceof UserError && /empty\.txt: the training split has 0 tokens/.test(e.message);
  await assert.rejects(train({ ...base, data: empty, out, steps: 2 }, quiet), noTokens);
  assert.ok(!existsSync(out), 'run directory left behind');
  mkdirSync(out);
  writeFileSync(join(out, 'notes.txt'), 'mine');
  await assert.rejects(train({ ...base, data: empty, out, steps: 2 }, quiet), noTokens);
  assert.deepEqual(readdirSync(out), ['notes.txt']);
  // the same command with data now works in that folder
  assert.equal((await train({ ...base, out, steps: 2 }, quiet)).step, 2);
});

test('an empty validation split is refused, naming --val-fraction', async () => {
  const few = join(dir, 'few.txt');
  writeStoriesFile(few, 12, 9);
  const out = join(dir, 'no-val');
  await assert.rejects(
    train({ ...base, data: few, out, steps: 2, valFraction: 0.001 }, quiet),
    (e: Error) => /few\.txt: the validation split has 0 tokens \(0 documents\), fewer than one sequence of 33; use more data, a larger --val-fraction \(now 0\.001\)/.test(e.message),
  );
  assert.ok(!existsSync(out));
});

test('binary input is refused as not text before any training', async () => {
  const bin = join(dir, 'program.txt');
  const bytes = Buffer.alloc(30000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  writeFileSync(bin, bytes);
  const out = join(dir, 'bin-run');
  await assert.rejects(train({ ...base, data: bin, out, steps: 2 }, quiet), (e: Error) => e instanceof UserError && /program\.txt: does not look like text/.test(e.message));
  assert.ok(!existsSync(out));
});

test('an absurd model size is refused up front, naming the config field and the memory it needs', async () => {
  const hf = join(dir, 'huge.json');
  writeFileSync(hf, JSON.stringify({ model_type: 'llama', vocab_size: 512, hidden_size: 64, intermediate_size: 172, num_hidden_layers: 500000, num_attention_heads: 8, num_key_value_heads: 4, max_position_embeddings: 256 }));
  const out = join(dir, 'huge');
  const r = cli(['train', '--model-config', hf, '--data', data, '--out', out, '--steps', '1', '--quiet']);
  assert.equal(r.status, 1);
  assert.match(r.stderr.trim(), /^tinystories: .*huge\.json: num_hidden_layers = 500000 makes training need about [\d.]+ (GB|TB) \([\d.]+[MB] parameters .*\); this machine has [\d.]+ GB$/);
  assert.ok(!existsSync(out));
  const ours = join(dir, 'wide.json');
  writeFileSync(ours, JSON.stringify({ ...TINY_NEO, dim: 65536, nHeads: 4 }));
  await assert.rejects(train({ ...base, modelConfig: ours, out, steps: 1 }, quiet), /wide\.json: dim = 65536 makes training need/);
});

test('an {arch: ...} model config without vocabSize trains: the vocabulary comes from the tokenizer', async () => {
  const { vocabSize: _, ...noVocab } = TINY_NEO;
  const path = join(dir, 'no-vocab.json');
  writeFileSync(path, JSON.stringify(noVocab));
  const r = await train({ ...base, modelConfig: path, out: join(dir, 'no-vocab'), steps: 2, valEvery: 0 }, quiet);
  assert.equal(r.step, 2);
  assert.equal(JSON.parse(readFileSync(join(r.runDir, 'config.json'), 'utf8')).vocab_size, 300);
});

test('train runs from another folder on shards made elsewhere (the tokenizer is found relative to the shards)', async () => {
  const made = join(dir, 'made');
  mkdirSync(made);
  (await trainBpe(makeStories(120, 5), { vocabSize: 300 })).save(join(made, 'tok.json'));
  const cwd = process.cwd();
  process.chdir(made);
  try {
    await tokenizeToShards({ data, tokenizer: 'tok.json', out: 'shards', threads: 1, quiet: true });
  } finally {
    process.chdir(cwd);
  }
  const elsewhere = join(dir, 'elsewhere');
  mkdirSync(elsewhere);
  process.chdir(elsewhere);
  try {
    assert.equal((await train({ ...base, data: join(made, 'shards'), out: 'run', steps: 2, valEvery: 0 }, quiet)).step, 2);
  } finally {
    process.chdir(cwd);
  }
  assert.ok(existsSync(join(elsewhere, 'run', 'model.safetensors')));
});

test('another tokenizer of the same size is refused on resume and on sample (the run records its fingerprint)', async () => {
  const run = (await train({ ...base, out: join(dir, 'fp'), steps: 2, valEvery: 0 }, quiet)).runDir;
  assert.match(JSON.parse(readFileSync(join(run, 'train_config.json'), 'utf8')).tokenizerFingerprint, /^[0-9a-f]{16}$/);
  const other = await trainBpe(makeStories(200, 99), { vocabSize: 300, specialTokens: ['<|endoftext|>'] });
  other.save(join(run, 'tokenizer.json'));
  await assert.rejects(train({ steps: 3 }, quiet, run), (e: Error) => e instanceof UserError && /tokenizer\.json: not the tokenizer this run was trained with/.test(e.message));
  const backend = createRefBackend();
  try {
    assert.throws(() => loadRunModel(run, backend), (e: Error) => e instanceof UserError && /not the one this model was trained with/.test(e.message));
  } finally {
    backend.dispose();
  }
});
