// Karpathy's real llama2.c files: stories260K (v0 and v1) greedy-decodes as run.c does, on the CPU and on the WebGPU
// decoder (f32 weights; skipped with the reason where WebGPU has no adapter); the 32,000-piece tokenizer.bin encodes
// llama2.c test.c's cases to exactly its ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { importHfTensors } from '../../src/engine/hf.ts';
import { Model } from '../../src/engine/model.ts';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { readLlama2cModel, readLlama2cTokenizer } from '../../src/interop/index.ts';
import { fromHfJson } from '../../src/tokenizer/hf-json.ts';
import { type Decoder, generate } from '../../src/sample/generate.ts';
import { gpuDecoding } from '../../src/sample/gpu-decoding.ts';
import { GpuKernels } from '../../src/engine/webgpu/kernels.ts';
import { nodeDevice } from '../../src/engine/webgpu/node.ts';
import { sharedData, sharedSkip } from '../helpers/shared-data.ts';

const dir = (f: string) => sharedData('llama2c', f);

/** run.c's `-t 0 -n 200` from BOS: 200 forward steps, each printing the token it samples (stops early at BOS). */
async function greedy200(file: string, session?: (model: Model) => Decoder): Promise<string> {
  const m = readLlama2cModel(readFileSync(dir(file)), readFileSync(dir('tok512.bin')), file);
  const model = new Model(m.config, createRefBackend(), { seed: 0 });
  importHfTensors(model, new Map(m.tensors.map((t) => [t.name, t])));
  let text = '';
  for await (const t of generate(model, m.tokenizer!, [], { temperature: 0, maxTokens: 200, session: session?.(model) })) text += t.text;
  return text;
}

for (const file of ['stories260K.bin', 'stories260K_v1.bin']) {
  test(`${file}: greedy 200 positions from BOS equal llama2.c's expected output byte for byte`, { skip: sharedSkip(['llama2c', file], ['llama2c', 'tok512.bin'], ['llama2c', 'expected_greedy_stories260K.txt']) }, async () => {
    const expected = readFileSync(dir('expected_greedy_stories260K.txt'), 'utf8');
    assert.equal(await greedy200(file), expected);
  });
}

const gpu = await nodeDevice();
test("stories260K.bin on the WebGPU decoder (f32 weights): greedy 200 positions from BOS equal llama2.c's expected output", { skip: sharedSkip(['llama2c', 'stories260K.bin'], ['llama2c', 'tok512.bin'], ['llama2c', 'expected_greedy_stories260K.txt']) || (gpu.ok ? false : `no WebGPU adapter: ${gpu.reason}`) }, async () => {
  const k = new GpuKernels((gpu as { device: GPUDevice }).device);
  const decoding = gpuDecoding(k, 'f32');
  try {
    const expected = readFileSync(dir('expected_greedy_stories260K.txt'), 'utf8');
    assert.equal(await greedy200('stories260K.bin', (model) => decoding.decoder(model)), expected);
  } finally {
    decoding.dispose();
    k.dispose();
  }
});

test('the 32,000-piece tokenizer.bin encodes llama2.c test.c cases to exactly its ids (with BOS), also after a tokenizer.json round trip', { skip: sharedSkip(['llama2c', 'tokenizer32000.bin'], ['llama2c', 'tokenizer32000_encode_cases.json']) }, () => {
  const tok = readLlama2cTokenizer(readFileSync(dir('tokenizer32000.bin')), 'tokenizer32000.bin', 32000);
  const viaJson = fromHfJson(JSON.parse(JSON.stringify(tok.toJSON())), 'tokenizer.json');
  const cases = JSON.parse(readFileSync(dir('tokenizer32000_encode_cases.json'), 'utf8')) as Array<{ text: string; ids: number[] }>;
  assert.ok(cases.length >= 4);
  for (const c of cases) {
    assert.deepEqual([tok.eotId, ...tok.encode(c.text)], c.ids, JSON.stringify(c.text));
    assert.deepEqual([viaJson.eotId, ...viaJson.encode(c.text)], c.ids, `tokenizer.json: ${JSON.stringify(c.text)}`);
    assert.equal(tok.decode(tok.encode(c.text)), c.text);
  }
});

test("our tokenizer.json of the 32,000-piece tokenizer.bin loads in Hugging Face tokenizers (Rust) and gives llama2.c's ids and texts back", { skip: sharedSkip(['llama2c', 'tokenizer32000.bin'], ['llama2c', 'tokenizer32000_encode_cases.json']) }, async (t) => {
  let HfTokenizer: typeof import('tokenizers').Tokenizer;
  try {
    HfTokenizer = (await import('tokenizers')).Tokenizer;
  } catch (e) {
    return t.skip(`the tokenizers package is not installed (${(e as Error).message})`);
  }
  const tok = readLlama2cTokenizer(readFileSync(dir('tokenizer32000.bin')), 'tokenizer32000.bin', 32000);
  const hf = HfTokenizer.fromString(JSON.stringify(tok.toJSON()));
  const cases = JSON.parse(readFileSync(dir('tokenizer32000_encode_cases.json'), 'utf8')) as Array<{ text: string; ids: number[] }>;
  for (const c of cases) {
    const ids = (await hf.encode(c.text)).getIds();
    assert.deepEqual(ids, c.ids, JSON.stringify(c.text)); // its post-processor adds BOS as llama2.c's encode does
    assert.equal(await hf.decode(ids, true), c.text);
  }
});
