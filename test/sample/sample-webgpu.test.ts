// Generation on the GPU decoder: generate() and `tinystories sample --backend webgpu` give the CPU path's greedy
// tokens (f32 weights: InferenceSession's logits to float32 rounding, sliding included); the f16 weights (shader-f16)
// and the subgroup sums keep the logits within a stated tolerance and the greedy tokens where top-1 has a margin;
// no adapter is one error line. Skips with the printed reason where WebGPU has no adapter or lacks a feature.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { InferenceSession } from '../../src/engine/inference.ts';
import { Model } from '../../src/engine/model.ts';
import type { ModelConfig } from '../../src/engine/config.ts';
import { nodeDevice } from '../../src/engine/webgpu/node.ts';
import { GpuKernels } from '../../src/engine/webgpu/kernels.ts';
import { GpuModel } from '../../src/engine/webgpu/trainer.ts';
import { GpuDecoder, HalfWeights } from '../../src/engine/webgpu/decode.ts';
import { generate } from '../../src/sample/generate.ts';
import { choosePrecision, gpuDecoding } from '../../src/sample/gpu-decoding.ts';
import { loadRunModel } from '../../src/sample/load.ts';
import { completeBeginnings } from '../../src/eval/completions.ts';
import { expandRuns } from '../../src/eval/models.ts';
import { startServer } from '../../src/server/http.ts';
import { train } from '../../src/train/trainer.ts';
import { type SseEvent, readSse } from '../server/http-client.ts';
import { TINY_LLAMA, TINY_NEO, writeStoriesFile } from '../train/fixture-stories.ts';
import { maxDiff } from '../helpers/max-diff.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');
const acq = await nodeDevice();
if (!acq.ok) console.log(`# skipping the WebGPU sampling tests: ${acq.reason}`);
const device = acq.ok ? acq.device : null;
const noF16 = !device ? 'no WebGPU adapter' : device.features.has('shader-f16') ? false : "the adapter has no 'shader-f16'";
const noSubgroups = !device ? 'no WebGPU adapter' : device.features.has('subgroups') ? false : "the adapter has no 'subgroups'";
if (typeof noF16 === 'string' && device) console.log(`# skipping the f16 decoder tests: ${noF16}`);
if (typeof noSubgroups === 'string' && device) console.log(`# skipping the subgroup decoder tests: ${noSubgroups}`);

/**
 * f16 keeps 11 significant bits: each weight moves by up to 2^-12 of itself, and a logit (sums over C products
 * through a few layers, whose rounding errors partly cancel) by a small multiple of that times the logits' size.
 * Measured here: 1.6e-4 of the largest logit; the bound is 4e-3 (about 8 f16 units in the last place).
 */
const F16_TOL = 4e-3;

/** A tiny model trained for a few dozen steps (its greedy choices have margins, unlike a random init). */
const dir = mkdtempSync(join(tmpdir(), 'sample-webgpu-'));
let run = '';

/** Top-1 minus top-2 logit. */
function margin(logits: Float32Array): number {
  let a = -Infinity;
  let b = -Infinity;
  for (const v of logits) {
    if (v > a) [a, b] = [v, a];
    else if (v > b) b = v;
  }
  return a - b;
}

async function greedyIds(model: Model, session: InferenceSession | GpuDecoder | undefined, prompt: number[], n: number): Promise<number[]> {
  const ids: number[] = [];
  // a tokenizer stand-in: generate() needs eotId and a stream decoder only (the ids are what is compared)
  const tok = { eotId: -1, encode: () => [], streamDecoder: () => ({ push: () => '' }) } as unknown as Parameters<typeof generate>[1];
  for await (const t of generate(model, tok, prompt, { temperature: 0, maxTokens: n, stopAtEot: false, session })) ids.push(t.id);
  return ids;
}

describe('webgpu sampling: the GPU decoder behind generate()', { skip: device ? false : 'no WebGPU adapter' }, () => {
  let k: GpuKernels;
  before(async () => {
    k = new GpuKernels(device!);
    const data = join(dir, 'stories.txt');
    writeStoriesFile(data, 80, 5);
    writeFileSync(join(dir, 'tiny.json'), JSON.stringify({ ...TINY_NEO, maxSeqLen: 32 }));
    run = (await train({ modelConfig: join(dir, 'tiny.json'), data, out: join(dir, 'run'), vocabSize: 300, steps: 40, batchSize: 8, seqLen: 32, lr: 3e-3, warmupSteps: 0, backend: 'ref', quiet: true }, { log: () => {} })).runDir;
  });
  after(() => {
    k?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, cfg, subgroups] of [['gpt-neo', TINY_NEO, false], ['llama', TINY_LLAMA, false], ['gpt-neo', TINY_NEO, true], ['llama', TINY_LLAMA, true]] as const) {
    it(`${name}, ${subgroups ? 'subgroup' : 'workgroup'} sums: f32 greedy tokens equal InferenceSession's, past a context slide`, { skip: subgroups ? noSubgroups : false }, async () => {
      const model = new Model({ ...cfg, vocabSize: 64, maxSeqLen: 16 } as ModelConfig, createRefBackend(), { seed: 7 });
      const gpu = GpuModel.create(model.cfg, k, { batch: 1, seq: 1, params: model.params });
      const dec = new GpuDecoder(gpu, { precision: 'f32', chunk: 4, subgroups });
      try {
        const prompt = [1, 5, 9, 13, 2];
        // 5 + 29 fed tokens through a 16-position context: three slides (each keeps the last 8)
        const cpu = new InferenceSession(model, { chunk: 4 });
        const want = await greedyIds(model, cpu, prompt, 30);
        const got = await greedyIds(model, dec, prompt, 30);
        assert.deepEqual(got, want);
        assert.equal(dec.pos, 10);
        assert.deepEqual(dec.context(), cpu.context());
      } finally {
        dec.dispose();
        gpu.dispose();
      }
    });
  }

  it('`sample --backend webgpu --gpu-precision f32` prints the CPU path\'s greedy tokens and probabilities', () => {
    const sample = (args: string[]) => spawnSync(process.execPath, [CLI, 'sample', '--run', run, '--prompt', 'Once upon a time', '--temperature', '0', '--max-tokens', '40', '--json', ...args], { encoding: 'utf8' });
    const cpu = sample(['--backend=ref']);
    assert.equal(cpu.status, 0, cpu.stderr);
    const gpu = sample(['--backend=webgpu', '--gpu-precision=f32']);
    assert.equal(gpu.status, 0, gpu.stderr);
    assert.match(gpu.stderr, /webgpu decoding: f32 weights/);
    const a = JSON.parse(cpu.stdout);
    const b = JSON.parse(gpu.stdout);
    assert.deepEqual(b.tokens.map((t: { id: number }) => t.id), a.tokens.map((t: { id: number }) => t.id));
    assert.equal(b.text, a.text);
    a.tokens.forEach((t: { prob: number }, i: number) => assert.ok(Math.abs(b.tokens[i].prob - t.prob) < 1e-4, `token ${i}: prob ${b.tokens[i].prob} vs ${t.prob}`));
  });

  it('a missing adapter is one error line naming the flag, no stack', () => {
    // no Vulkan driver: Dawn finds no adapter
    const r = spawnSync(process.execPath, [CLI, 'sample', '--run', run, '--prompt', 'Once', '--backend=webgpu', '--max-tokens', '2'], { encoding: 'utf8', env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent.json', VK_DRIVER_FILES: '/nonexistent.json' } });
    assert.notEqual(r.status, 0);
    // (Dawn's own Vulkan warnings come first on stderr; the CLI adds exactly one line)
    const ours = r.stderr.split('\n').filter((l) => l.startsWith('tinystories:'));
    assert.equal(ours.length, 1, r.stderr);
    assert.match(ours[0]!, /^tinystories: --backend=webgpu: .*no adapter.*; use --backend=wasm$/);
    assert.doesNotMatch(r.stderr, /^\s+at .*\.(ts|js|mjs):\d+/m);
    assert.equal(r.stdout, '');
  });

  it('the dashboard playground decodes on the GPU: greedy tokens as on the CPU, concurrent streams apart', async () => {
    const gpu = gpuDecoding(new GpuKernels(device!), 'f32');
    let made = 0;
    const counted = { ...gpu, decoder: (m: Model) => (made++, gpu.decoder(m)) };
    const cpuServer = await startServer({ runs: dir, port: 0, webDir: dir, autoBuild: false });
    const gpuServer = await startServer({ runs: dir, port: 0, webDir: dir, autoBuild: false, gpu: counted });
    try {
      const ids = (r: { events: SseEvent[] }) => r.events.filter((e) => e.event === 'token').map((e) => e.data.id as number);
      const q = (extra: string) => `/api/generate?id=run&prompt=Once%20upon%20a%20time&maxTokens=24&${extra}`;
      const greedyCpu = ids(await readSse(cpuServer.port, q('temperature=0'), (e) => e.event === 'done'));
      const greedyGpu = ids(await readSse(gpuServer.port, q('temperature=0'), (e) => e.event === 'done'));
      assert.equal(greedyCpu.length, 24);
      assert.deepEqual(greedyGpu, greedyCpu);
      assert.equal(made, 1);
      // two streams at once take two decoders (two KV caches over one upload of the weights)
      const alone = [ids(await readSse(gpuServer.port, q('temperature=1&seed=1'), (e) => e.event === 'done')), ids(await readSse(gpuServer.port, q('temperature=1&seed=2'), (e) => e.event === 'done'))];
      const together = await Promise.all([1, 2].map((seed) => readSse(gpuServer.port, q(`temperature=1&seed=${seed}`), (e) => e.event === 'done')));
      assert.deepEqual(together.map(ids), alone);
      assert.equal(made, 2);
    } finally {
      await gpuServer.close();
      await cpuServer.close();
      gpu.dispose();
    }
  });

  it('eval generation (completeBeginnings) on the GPU decoder: the CPU path\'s sampled texts, keyed apart', async () => {
    const [entry] = expandRuns([run]);
    const s = { completions: 2, temperature: 0.8, topK: 0, topP: 0.95, maxTokens: 16, seed: 5 };
    const beginnings = ['Once upon a time', 'Tom had a ball'];
    const gpu = gpuDecoding(new GpuKernels(device!), 'f32');
    try {
      const cpu = await completeBeginnings(entry!, beginnings, s, createRefBackend(), join(dir, 'eval-cpu'));
      const onGpu = await completeBeginnings(entry!, beginnings, s, createRefBackend(), join(dir, 'eval-gpu'), undefined, gpu);
      // seeded sampling draws the same tokens from f32 logits that agree to rounding
      assert.deepEqual(onGpu.completions, cpu.completions);
      assert.notEqual(onGpu.key, cpu.key);
    } finally {
      gpu.dispose();
    }
  });

  describe('f16 weights (shader-f16)', { skip: noF16 }, () => {
    for (const subgroups of [false, true]) {
      it(`${subgroups ? 'subgroup' : 'workgroup'} sums: logits within ${F16_TOL} of the f32 decoder's, and its greedy tokens`, { skip: subgroups ? noSubgroups : false }, async () => {
        const { model } = loadRunModel(run, createRefBackend());
        const gpu = GpuModel.create(model.cfg, k, { batch: 1, seq: 1, params: model.params });
        const half = new HalfWeights(gpu);
        const d32 = new GpuDecoder(gpu, { precision: 'f32' });
        const d16 = new GpuDecoder(gpu, { precision: 'f16', half, subgroups });
        try {
          assert.equal(d16.precision, 'f16');
          assert.equal(d16.subgroups, subgroups);
          const prompt = [0, 17, 42, 99, 7];
          let worst = 0;
          let want = await d32.prefill(prompt);
          let got = await d16.prefill(prompt);
          for (let i = 0; i < 40; i++) {
            const { diff, scale } = maxDiff(got, want);
            assert.ok(diff < F16_TOL * scale, `step ${i}: f16 logits differ by ${diff} (largest ${scale})`);
            worst = Math.max(worst, diff / scale);
            // the 5-token prompt is one chunk of at most MATVEC_ROWS rows: the f16 weights serve it too
            assert.ok(diff > 0, `step ${i}: f16 logits equal the f32 ones exactly: the f16 weights were not used`);
            const next = want.indexOf(Math.max(...want));
            // the prompt is chosen so that top-1 leads by more than twice the largest logit error at every step:
            // then no rounding can flip the choice, and f16 must pick the same token
            assert.ok(margin(want) > 2 * diff, `step ${i}: top-1 margin ${margin(want)} is within the f16 error ${diff}; pick another prompt`);
            assert.equal(got.indexOf(Math.max(...got)), next, `step ${i}`);
            want = await d32.step(next);
            got = await d16.step(next);
          }
          console.log(`f16 decoder (${subgroups ? 'subgroup' : 'workgroup'} sums): largest logit error ${worst.toExponential(2)} of the largest logit (bound ${F16_TOL})`);
          // the whole greedy sequence through the f16 decoder (40 tokens through a 32-position context: one slide)
          d16.reset();
          assert.deepEqual(await greedyIds(model, d16, prompt, 40), await greedyIds(model, new InferenceSession(model), prompt, 40));
        } finally {
          d16.dispose();
          d32.dispose();
          half.dispose();
          gpu.dispose();
        }
      });
    }

    it('auto picks f16 on a hardware adapter with shader-f16 and f32 on a CPU emulation; decoders share the weights', async () => {
      assert.equal(choosePrecision('auto', device!, false), 'f16');
      assert.equal(choosePrecision('auto', device!, true), 'f32');
      assert.equal(choosePrecision('f32', device!, false), 'f32');
      assert.equal(choosePrecision('f16', device!, true), 'f16');
      const { model } = loadRunModel(run, createRefBackend());
      const f16 = gpuDecoding(new GpuKernels(device!), 'f16');
      const f32 = gpuDecoding(new GpuKernels(device!), 'f32');
      try {
        assert.match(f16.label, /^f16 weights, (subgroup|workgroup) sums$/);
        assert.equal(f32.precision, 'f32');
        const a = f16.decoder(model);
        const b = f16.decoder(model); // a second cache over the same uploaded weights
        assert.equal(a.model, b.model);
        assert.equal(a.precision, 'f16');
        assert.equal(f32.decoder(model).precision, 'f32');
        const la = await a.prefill([0, 17, 42]);
        const lb = await b.prefill([0, 17, 42]);
        assert.deepEqual(la, lb);
      } finally {
        f16.dispose();
        f32.dispose();
      }
    });
  });
});
