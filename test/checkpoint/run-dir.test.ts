// HF config.json mapping and the run directory's checkpoint protocol (atomic commit, keep-last-N, loading back).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHfConfig, readModelConfigFile, toHfConfig } from '../../src/checkpoint/hf-config.ts';
import { loadLatestCheckpoint, loadModelFiles, saveBest, saveCheckpoint, writeRunFiles, type TrainState } from '../../src/checkpoint/run-dir.ts';
import { presetConfig, resolveConfig } from '../../src/engine/config.ts';
import { UserError } from '../../src/util/errors.ts';

test('gpt-neo presets map to GPTNeoForCausalLM config.json and back', () => {
  const c = presetConfig('1M', { vocabSize: 4096 });
  const hf = toHfConfig(c, { eotId: 4095 });
  assert.equal(hf.model_type, 'gpt_neo');
  assert.deepEqual(hf.architectures, ['GPTNeoForCausalLM']);
  assert.deepEqual(hf.attention_types, [[['global', 'local'], 4]]);
  assert.equal(hf.window_size, 256);
  assert.equal(hf.hidden_size, 64);
  assert.equal(hf.num_layers, 8);
  assert.equal(hf.num_heads, 16);
  assert.equal(hf.eos_token_id, 4095);
  assert.deepEqual(resolveConfig(fromHfConfig(hf)), { ...resolveConfig(c), source: resolveConfig(fromHfConfig(hf)).source });
});

test('llama presets map to LlamaForCausalLM config.json and back', () => {
  const c = presetConfig('260K', { vocabSize: 512 });
  const hf = toHfConfig(c, { eotId: 511 });
  assert.equal(hf.model_type, 'llama');
  assert.deepEqual(hf.architectures, ['LlamaForCausalLM']);
  assert.equal(hf.intermediate_size, 172); // llama2.c's hidden_dim for dim 64, multiple_of 4
  assert.equal(hf.num_key_value_heads, 4);
  assert.equal(hf.rope_theta, 10000);
  assert.equal(hf.tie_word_embeddings, true);
  const back = resolveConfig(fromHfConfig(hf));
  const orig = resolveConfig(c);
  for (const k of ['vocabSize', 'maxSeqLen', 'dim', 'nLayers', 'nHeads', 'nKvHeads', 'headSize', 'hidden', 'normEps', 'ropeTheta', 'tiedEmbeddings'] as const) {
    assert.equal(back[k], orig[k], k);
  }
});

test('model config files: HF config.json or our own; bad ones name the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const p = join(dir, 'c.json');
  writeFileSync(p, JSON.stringify({ model_type: 'gpt_neo', vocab_size: 100, max_position_embeddings: 32, hidden_size: 16, num_layers: 2, num_heads: 2, attention_types: [[['global'], 2]], window_size: 8 }));
  assert.equal(readModelConfigFile(p).arch, 'gpt-neo');
  writeFileSync(p, JSON.stringify({ model_type: 'gpt2' }));
  assert.throws(() => readModelConfigFile(p), /model_type "gpt2" is not supported/);
  writeFileSync(p, JSON.stringify({ model_type: 'llama', vocab_size: 100 }));
  assert.throws(() => readModelConfigFile(p), (e: Error) => e instanceof UserError && /hidden_size/.test(e.message));
});

const state = (step: number): TrainState => ({ step, totalSteps: 10, cursor: { epoch: 0, position: step * 4 }, rng: [1, 2, 3, 4], tokens: step * 100, wallSeconds: step, bestValLoss: null, bestStep: null, lastValLoss: null });

test('checkpoints commit atomically, keep the last N, and load back; best/ is a loadable model folder', () => {
  const run = mkdtempSync(join(tmpdir(), 'run-'));
  const cfg = presetConfig('1M', { vocabSize: 300 });
  writeRunFiles(run, { hfConfig: toHfConfig(cfg, { eotId: 299 }), tokenizerJson: { version: '1.0' }, trainConfig: { x: 1 } });
  assert.equal(loadLatestCheckpoint(run), null);
  const w = (v: number) => [{ name: 'transformer.wte.weight', shape: [2], data: new Float32Array([v, v + 1]) }];
  const opt = [{ name: 'adamw.m', shape: [1], data: new Float32Array([0.5]) }];
  for (const step of [2, 4, 6]) saveCheckpoint(run, { step, model: w(step), optimizer: opt, state: state(step), keepLast: 2 });
  assert.deepEqual(readdirSync(join(run, 'checkpoints')).sort(), ['step-00000004', 'step-00000006']);
  // A crash while writing step 8 leaves only a temp dir: the latest stays step 6, and the next save cleans it up.
  mkdirSync(join(run, 'checkpoints', '.tmp-step-00000008-999'));
  const ck = loadLatestCheckpoint(run)!;
  assert.equal(ck.state.step, 6);
  assert.deepEqual(ck.state.cursor, { epoch: 0, position: 24 });
  assert.deepEqual([...ck.model.get('transformer.wte.weight')!.data], [6, 7]);
  assert.deepEqual([...ck.optimizer.get('adamw.m')!.data], [0.5]);
  saveCheckpoint(run, { step: 8, model: w(8), optimizer: opt, state: state(8), keepLast: 2 });
  assert.ok(!existsSync(join(run, 'checkpoints', '.tmp-step-00000008-999')));
  saveBest(run, 8, 1.5, w(8));
  for (const f of ['config.json', 'tokenizer.json', 'model.safetensors']) assert.ok(existsSync(join(run, 'best', f)), f);
  const best = loadModelFiles(join(run, 'best'));
  assert.equal(best.config.arch, 'gpt-neo');
  assert.deepEqual([...best.tensors.get('transformer.wte.weight')!.data], [8, 9]);
  // a step checkpoint finds config.json and tokenizer.json in the run above it
  assert.equal(loadModelFiles(join(run, 'checkpoints', 'step-00000008')).tokenizerPath, join(run, 'tokenizer.json'));
  assert.throws(() => loadModelFiles(join(run, 'nope')), UserError);
});
