// hf: model repositories (mock hub), `convert` into a run directory, `train --init` from it, and bad input that
// leaves nothing at --out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromHfConfig, toHfConfig } from '../../src/checkpoint/hf-config.ts';
import { readSafetensors, writeSafetensorsSync } from '../../src/checkpoint/safetensors.ts';
import { exportHfTensors, importHfTensors } from '../../src/engine/hf.ts';
import { Model } from '../../src/engine/model.ts';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { InferenceSession } from '../../src/engine/inference.ts';
import { hfEndpoint, hfResolveUrl } from '../../src/data/hf.ts';
import { expandRuns } from '../../src/eval/models.ts';
import { convertToRun } from '../../src/interop/convert.ts';
import { cachedHfModel, downloadHfModel, isHfModelSpec, parseHfModelSpec } from '../../src/interop/hf-model.ts';
import { readModelSource } from '../../src/interop/resolve.ts';
import { generateText } from '../../src/sample/generate.ts';
import { loadRunModel } from '../../src/sample/load.ts';
import { train } from '../../src/train/trainer.ts';
import { UserError } from '../../src/util/errors.ts';
import { startMockHub, type MockHub } from '../data/mock-hub.ts';
import { sharedData, sharedSkip } from '../helpers/shared-data.ts';
import { TINY_LLAMA, writeStoriesFile } from '../train/fixture-stories.ts';
import { torchFixtures, writeByteTokenizer } from './torch-fixtures.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'ts-convert-'));
const data = join(dir, 'stories.txt');
const quiet = { log: () => {} };
const base = { data, vocabSize: 300, batchSize: 4, seqLen: 32, backend: 'ref' as const, valEvery: 0, sampleEvery: 0, checkpointEvery: 0, quiet: true };
let srcRun: string;
let hub: MockHub;
const env: Record<string, string | undefined> = {};

/** Logits after each of a few tokens, from a loaded model. */
function logitsOf(spec: string, ids = [1, 2, 3, 4]): Float32Array[] {
  const { model } = loadRunModel(spec, createRefBackend());
  const s = new InferenceSession(model);
  return ids.map((id) => s.step(id).slice());
}

before(async () => {
  writeStoriesFile(data, 150, 11);
  const cfg = join(dir, 'llama.json');
  writeFileSync(cfg, JSON.stringify(TINY_LLAMA));
  srcRun = (await train({ ...base, modelConfig: cfg, out: join(dir, 'src-run'), steps: 2 }, quiet)).runDir;
  const file = (p: string) => readFileSync(join(srcRun, p));
  hub = await startMockHub({
    'models/test-owner/tiny-llama/main/config.json': { content: file('config.json'), lfs: false },
    'models/test-owner/tiny-llama/main/model.safetensors': { content: file('model.safetensors'), cutAfter: 2000 },
    'models/test-owner/tiny-llama/main/tokenizer.json': { content: file('tokenizer.json'), lfs: false },
    'models/test-owner/tiny-llama/main/pytorch_model.bin': { content: Buffer.from('not needed') },
    'models/test-owner/tiny-llama/main/flax_model.msgpack': { content: Buffer.from('not needed') },
    'models/test-owner/no-config/main/model.safetensors': { content: file('model.safetensors') },
    'models/test-owner/no-weights/main/config.json': { content: file('config.json'), lfs: false },
  });
  for (const k of ['TINYSTORIES_HF_ENDPOINT', 'TINYSTORIES_CACHE']) env[k] = process.env[k];
  process.env.TINYSTORIES_HF_ENDPOINT = hub.endpoint;
  process.env.TINYSTORIES_CACHE = join(dir, 'cache');
});

after(async () => {
  await hub.close();
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
});

const requested = () => hub.log.filter((r) => !r.url.startsWith('/cdn/')).map((r) => r.url.replace(/^\/test-owner\/[^/]+\/resolve\/[^/]+\//, ''));

test('hf:<owner>/<repo>[@rev] names a model repository; a path inside it does not', () => {
  assert.deepEqual(parseHfModelSpec('hf:roneneldan/TinyStories-1M'), { owner: 'roneneldan', repo: 'TinyStories-1M', revision: 'main' });
  assert.deepEqual(parseHfModelSpec('hf:roneneldan/TinyStories-1M@refs%2Fpr%2F3'), { owner: 'roneneldan', repo: 'TinyStories-1M', revision: 'refs/pr/3' });
  assert.equal(isHfModelSpec('hf:roneneldan/TinyStories/TinyStoriesV2-GPT4-valid.txt'), false);
  assert.throws(() => readModelSource('hf:roneneldan/TinyStories/data.txt'), /no path inside the repository/);
  const file = { type: 'model' as const, owner: 'roneneldan', repo: 'TinyStories-1M', revision: 'main', path: 'config.json' };
  assert.equal(hfResolveUrl(file, 'https://huggingface.co'), 'https://huggingface.co/roneneldan/TinyStories-1M/resolve/main/config.json');
  const saved = process.env.TINYSTORIES_HF_ENDPOINT;
  delete process.env.TINYSTORIES_HF_ENDPOINT;
  process.env.HF_ENDPOINT = 'https://hf-mirror.example/';
  try {
    assert.equal(hfEndpoint(), 'https://hf-mirror.example');
  } finally {
    process.env.TINYSTORIES_HF_ENDPOINT = saved;
    delete process.env.HF_ENDPOINT;
  }
});

test('a hub model repository downloads only config.json, the weights and the tokenizer (resuming a cut transfer), then loads from the cache offline', async () => {
  hub.log.length = 0;
  const snap = await downloadHfModel('hf:test-owner/tiny-llama', { quiet: true, retryDelayMs: 0 });
  assert.deepEqual(requested(), ['config.json', 'model.safetensors', 'model.safetensors', 'tokenizer.json']);
  assert.ok(hub.log.some((r) => r.range !== undefined && r.status === 206), 'the cut model.safetensors was resumed with a Range request');
  assert.deepEqual(readFileSync(join(snap, 'model.safetensors')), readFileSync(join(srcRun, 'model.safetensors')));
  assert.equal(cachedHfModel('hf:test-owner/tiny-llama'), snap);
  hub.log.length = 0;
  assert.equal(await downloadHfModel('hf:test-owner/tiny-llama', { quiet: true }), snap);
  assert.deepEqual(hub.log, [], 'a complete snapshot is used without any request');
  assert.deepEqual(logitsOf(snap), logitsOf(srcRun));
});

test('a repository without config.json or without weights is refused with one line naming it', async () => {
  await assert.rejects(downloadHfModel('hf:test-owner/no-config', { quiet: true }), /hf:test-owner\/no-config: the repository has no config\.json/);
  await assert.rejects(downloadHfModel('hf:test-owner/no-weights', { quiet: true }), /no weights \(expected model\.safetensors/);
  await assert.rejects(downloadHfModel('hf:test-owner/missing', { quiet: true }), /no config\.json/);
});

test('convert hf:<repo> writes a run directory whose model gives the same logits, and train --init fine-tunes from it with a fresh optimizer', async () => {
  const out = join(dir, 'converted');
  const r = await convertToRun('hf:test-owner/tiny-llama', out, { quiet: true });
  assert.deepEqual(readdirSync(out).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json']);
  assert.equal(r.config.arch, 'llama');
  assert.deepEqual(logitsOf(out), logitsOf(srcRun));
  const init = readSafetensors(join(out, 'model.safetensors')).tensors;
  const ft = await train({ ...base, init: out, out: join(dir, 'ft'), steps: 1, lr: 1e-4 }, quiet);
  assert.equal(ft.step, 1);
  const after1 = readSafetensors(join(ft.runDir, 'model.safetensors')).tensors;
  // one small AdamW step from the converted weights: every weight moved by at most ~lr, far less than a random init differs
  let maxDiff = 0;
  for (const [name, t] of init) {
    const a = after1.get(name)!.data;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - t.data[i]!));
  }
  assert.ok(maxDiff > 0 && maxDiff < 5e-4, `max weight change ${maxDiff}`);
  assert.equal(JSON.parse(readFileSync(join(ft.runDir, 'config.json'), 'utf8')).vocab_size, JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).vocab_size);
  await assert.rejects(train({ ...base, init: out, tokenizer: join(out, 'tokenizer.json'), out: join(dir, 'ft2'), steps: 1 }, quiet), /--init brings its own model config and tokenizer/);
});

test('convert refuses bad input with one line naming the file, and leaves nothing at --out', async () => {
  const bad = (name: string, edit: (d: string) => void) => {
    const d = join(dir, 'bad', name);
    mkdirSync(dirname(d), { recursive: true });
    cpSync(srcRun, d, { recursive: true });
    rmSync(join(d, 'trainer_state.json'));
    rmSync(join(d, 'checkpoints'), { recursive: true, force: true });
    edit(d);
    return d;
  };
  const cases: Array<[string, RegExp]> = [
    [bad('arch', (d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')), model_type: 'gpt2' }))), /config\.json: model_type "gpt2" is not supported/],
    [bad('vocab', (d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')), vocab_size: 280 }))), /tokenizer\.json: the tokenizer has 300 tokens but the model .* has vocab_size 280/],
    [bad('cut', (d) => writeFileSync(join(d, 'model.safetensors'), readFileSync(join(d, 'model.safetensors')).subarray(0, 5000))), /model\.safetensors: not a valid safetensors file/],
    [bad('shape', (d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')), num_hidden_layers: 3 }))), /model\.layers\.2\.input_layernorm\.weight is missing/],
  ];
  for (const [src, re] of cases) {
    const out = join(dir, 'outs', 'x');
    await assert.rejects(convertToRun(src, out), (e: Error) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'));
    assert.equal(existsSync(out), false, `${src}: nothing at --out`);
    assert.deepEqual(existsSync(join(dir, 'outs')) ? readdirSync(join(dir, 'outs')) : [], [], 'no temporary directory left behind');
  }
  // a folder that is not empty is never overwritten
  await assert.rejects(convertToRun(srcRun, srcRun), /already exists and is not an empty directory/);
});

test('a Hugging Face repository with only pytorch_model.bin and vocab.json + merges.txt downloads those and converts', async (t) => {
  const fx = torchFixtures(['llama-f32-untied-bin']);
  if ('skip' in fx) return t.skip(fx.skip);
  const src = join(fx.dir, 'llama-f32-untied-bin');
  const tok = join(dir, 'byte-tokenizer.json');
  writeByteTokenizer(tok);
  const tj = JSON.parse(readFileSync(tok, 'utf8'));
  const vocab = { ...tj.model.vocab, '<|endoftext|>': 256 };
  hub.files.set('models/test-owner/torch-llama/main/config.json', { content: readFileSync(join(src, 'config.json')), lfs: false });
  hub.files.set('models/test-owner/torch-llama/main/pytorch_model.bin', { content: readFileSync(join(src, 'pytorch_model.bin')) });
  hub.files.set('models/test-owner/torch-llama/main/vocab.json', { content: Buffer.from(JSON.stringify(vocab)), lfs: false });
  hub.files.set('models/test-owner/torch-llama/main/merges.txt', { content: Buffer.from('#version: 0.2\n'), lfs: false });
  hub.log.length = 0;
  const out = join(dir, 'torch-llama');
  await convertToRun('hf:test-owner/torch-llama', out, { quiet: true });
  assert.deepEqual(requested(), ['config.json', 'model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'tokenizer.json', 'vocab.json', 'merges.txt']);
  const a = readModelSource(out).tensors;
  const b = readModelSource(src, { tokenizer: tok }).tensors;
  for (const [name, t1] of b) assert.deepEqual(a.get(name)?.data, t1.data, name);
});

test('the CLI samples straight from hf:<owner>/<repo> (downloaded before the command runs), greedy from <|endoftext|> with --prompt ""', async () => {
  const run = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin', 'tinystories.mjs'), ...args], { encoding: 'utf8', env: { ...process.env }, cwd: dir });
  const a = run(['sample', '--run', 'hf:test-owner/tiny-llama', '--prompt', '', '--temperature', '0', '--max-tokens', '8', '--seed', '1']);
  assert.equal(a.status, 0, a.stderr);
  const { model, tokenizer } = loadRunModel(join(dir, 'converted'), createRefBackend());
  assert.equal(a.stdout, (await generateText(model, tokenizer, '', { temperature: 0, maxTokens: 8 })) + '\n');
  const c = run(['convert', join(dir, 'bad', 'arch'), '--out', join(dir, 'cli-out')]);
  assert.equal(c.status, 1);
  assert.match(c.stderr, /^tinystories: .*config\.json: model_type "gpt2" is not supported[^\n]*\n$/);
  assert.equal(existsSync(join(dir, 'cli-out')), false);
});

test("a GPT-Neo folder at the paper's shapes with GPT-Neo's vocab.json + merges.txt (50,257 tokens) converts, keeping ids and logits", { skip: sharedSkip(['tokenizer', 'vocab.json'], ['tokenizer', 'merges.txt']) }, async () => {
  const shared = sharedData('tokenizer');
  const folder = join(dir, 'neo-paper');
  mkdirSync(folder);
  const config = { arch: 'gpt-neo' as const, vocabSize: 50257, maxSeqLen: 2048, dim: 16, nLayers: 2, nHeads: 2, windowSize: 256, attentionLayers: ['global', 'local'] as Array<'global' | 'local'> };
  const model = new Model(config, createRefBackend(), { seed: 3 });
  writeSafetensorsSync(join(folder, 'model.safetensors'), [...exportHfTensors(model)].map(([name, x]) => ({ name, ...x })), { format: 'pt' });
  writeFileSync(join(folder, 'config.json'), JSON.stringify({ ...toHfConfig(config, { eotId: 50256 }), attention_layers: undefined }));
  cpSync(join(shared, 'vocab.json'), join(folder, 'vocab.json'));
  cpSync(join(shared, 'merges.txt'), join(folder, 'merges.txt'));
  const src = readModelSource(folder);
  assert.equal(src.tokenizer.vocabSize, 50257);
  assert.equal(src.tokenizer.eotId, 50256);
  assert.deepEqual(src.tokenizer.encode('Once upon a time'), [7454, 2402, 257, 640]);
  const out = join(dir, 'neo-paper-run');
  await convertToRun(folder, out);
  const run = readModelSource(out);
  assert.deepEqual(run.tokenizer.encode('Once upon a time, there was a little girl.'), src.tokenizer.encode('Once upon a time, there was a little girl.'));
  assert.deepEqual(run.config, src.config);
  const ids = [50256, 7454, 2402, 257, 640];
  assert.deepEqual(logitsOf(out, ids), logitsOf(folder, ids));
});

test('a llama2.c checkpoint resolves with --tokenizer or a tokenizer.bin beside it, converts to the same greedy story, and a mismatched tokenizer is named', { skip: sharedSkip(['llama2c', 'stories260K.bin'], ['llama2c', 'stories260K_v1.bin'], ['llama2c', 'tok512.bin']) }, async () => {
  const l2c = sharedData('llama2c');
  const beside = join(dir, 'l2c');
  mkdirSync(beside);
  cpSync(join(l2c, 'stories260K_v1.bin'), join(beside, 'model.bin'));
  cpSync(join(l2c, 'tok512.bin'), join(beside, 'tokenizer.bin'));
  const greedy = async (spec: string, opts = {}) => {
    const { model, tokenizer } = loadRunModel(spec, createRefBackend(), opts);
    return generateText(model, tokenizer, '', { temperature: 0, maxTokens: 40 });
  };
  const direct = await greedy(join(l2c, 'stories260K.bin'), { tokenizer: join(l2c, 'tok512.bin') });
  assert.match(direct, /^Once upon a time/);
  assert.equal(await greedy(join(beside, 'model.bin')), direct);
  const out = join(dir, 'l2c-run');
  await convertToRun(join(beside, 'model.bin'), out);
  assert.equal(await greedy(out), direct);
  const big = join(l2c, 'tokenizer32000.bin');
  if (existsSync(big)) {
    await assert.rejects(convertToRun(join(l2c, 'stories260K.bin'), join(dir, 'l2c-bad'), { tokenizer: big }), (e: Error) => e.message.startsWith(big));
    assert.equal(existsSync(join(dir, 'l2c-bad')), false);
  }
});

test('an untied GPT-Neo head is its own parameter: config.json says tie_word_embeddings false, and lm_head.weight alone drives the logits', () => {
  const config = { arch: 'gpt-neo' as const, vocabSize: 40, maxSeqLen: 16, dim: 8, nLayers: 2, nHeads: 2, windowSize: 4, tiedEmbeddings: false };
  const hf = toHfConfig(config, { eotId: 0 });
  assert.equal(hf.tie_word_embeddings, false);
  assert.deepEqual(fromHfConfig(hf), { ...config, attentionLayers: ['global', 'local'], layerNormEps: 1e-5 });
  assert.equal(fromHfConfig({ ...hf, tie_word_embeddings: undefined }).arch === 'gpt-neo' && (fromHfConfig({ ...hf, tie_word_embeddings: undefined }) as { tiedEmbeddings?: boolean }).tiedEmbeddings, undefined);
  const model = new Model(config, createRefBackend(), { seed: 1 });
  const tensors = exportHfTensors(model);
  assert.deepEqual(tensors.get('lm_head.weight')!.shape, [40, 8]);
  tensors.get('lm_head.weight')!.data.fill(0);
  importHfTensors(model, tensors);
  const logits = new InferenceSession(model).step(3);
  assert.ok(logits.every((x) => x === 0), 'a zero head gives zero logits although wte is random');
});

test('evaluations take any model source: a model file and a cached hub snapshot get a name and a weights hash', async () => {
  const snap = await downloadHfModel('hf:test-owner/tiny-llama', { quiet: true });
  const file = join(dir, 'src-run', 'model.safetensors');
  const [hubEntry, fileEntry] = expandRuns([snap, file]);
  assert.equal(hubEntry!.id, 'test-owner/tiny-llama');
  assert.equal(fileEntry!.id, 'model.safetensors');
  assert.equal(hubEntry!.weightsSha256, fileEntry!.weightsSha256, 'the same weights, downloaded or local');
  assert.equal(hubEntry!.weightsSha256, createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16));
});
