// Interop formats: load time of each format (llama2.c v0/v1/v2, GGUF F32/F16/Q8_0, our safetensors run folder) and
// KV-cache sampling tokens/s on Karpathy's stories260K and a random-weight llama2.c file with stories15M's shapes
// (288 dim, 6 layers, 6 heads, 32,000 vocab, hidden 768, seq 256), on 1 and 2 threads, with llama.cpp
// (node-llama-cpp, prebuilt CPU binary) on the GGUF export of the same weights measured in the same run.
// Load time is the format's own part (file bytes → config, HF tensors, tokenizer); building the Model from tensors is
// the same for every format and printed once. `npx tsx bench/interop.ts [--quick]` (--quick: stories260K only, one
// thread, 32 tokens); needs ../shared/data/llama2c; appends a JSON line to bench/results/interop.jsonl.
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHfConfig } from '../src/checkpoint/hf-config.ts';
import { writeSafetensorsSync } from '../src/checkpoint/safetensors.ts';
import type { Backend } from '../src/engine/backend.ts';
import type { ModelConfig } from '../src/engine/config.ts';
import { exportHfTensors, importHfTensors } from '../src/engine/hf.ts';
import { InferenceSession } from '../src/engine/inference.ts';
import { Model } from '../src/engine/model.ts';
import { openBackend } from '../src/engine/open-backend.ts';
import { type ImportedModel, readGguf, readLlama2cModel, readLlama2cTokenizer, writeGguf, writeLlama2c } from '../src/interop/index.ts';
import { readModelSource } from '../src/interop/resolve.ts';
import { hasSharedData, sharedData } from '../test/helpers/shared-data.ts';

const quick = process.argv.includes('--quick');
const TOKENS = quick ? 32 : 256;
const REPEATS = quick ? 1 : 3;
if (!hasSharedData('llama2c', 'stories260K.bin') || !hasSharedData('llama2c', 'tokenizer32000.bin')) {
  console.log(`skipped: ${sharedData('llama2c')} (stories260K.bin, tok512.bin, tokenizer32000.bin) is absent`);
  process.exit(0);
}
const tmp = mkdtempSync(join(tmpdir(), 'bench-interop-'));
const argmax = (l: Float32Array) => {
  let best = 0;
  for (let i = 1; i < l.length; i++) if (l[i]! > l[best]!) best = i;
  return best;
};
const ms = (t0: number) => performance.now() - t0;

// ---- the two models, written in every format ----
const s260 = readLlama2cModel(readFileSync(sharedData('llama2c', 'stories260K.bin')), readFileSync(sharedData('llama2c', 'tok512.bin')), 'stories260K.bin');
const cfg15: ModelConfig = { arch: 'llama', vocabSize: 32000, maxSeqLen: 256, dim: 288, nLayers: 6, nHeads: 6, nKvHeads: 6, hiddenDim: 768, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true };
const tok32k = readLlama2cTokenizer(readFileSync(sharedData('llama2c', 'tokenizer32000.bin')), 'tokenizer32000.bin', 32000);
const r15: ImportedModel = { config: cfg15, tensors: quick ? [] : [...exportHfTensors(new Model(cfg15, await openBackend('ref', 1), { seed: 15 }))].map(([name, t]) => ({ name, ...t })), tokenizer: tok32k, source: 'random 15M-shaped' };

interface Files { name: string; v0: string; v1: string; v2: string; tok: string; gguf: Record<'F32' | 'F16' | 'Q8_0', string>; run: string }
function writeAll(name: string, m: ImportedModel): Files {
  const input = { config: m.config, tensors: m.tensors, tokenizer: m.tokenizer!, name };
  const f = (n: string) => join(tmp, `${name}.${n}`);
  const out: Files = { name, v0: f('v0.bin'), v1: f('v1.bin'), v2: f('v2.bin'), tok: f('tokenizer.bin'), gguf: { F32: f('F32.gguf'), F16: f('F16.gguf'), Q8_0: f('Q8_0.gguf') }, run: f('run') };
  for (const [v, path] of [[0, out.v0], [1, out.v1], [2, out.v2]] as const) {
    const w = writeLlama2c(input, v);
    writeFileSync(path, w.model);
    writeFileSync(out.tok, w.tokenizer);
  }
  for (const t of ['F32', 'F16', 'Q8_0'] as const) writeFileSync(out.gguf[t], Buffer.concat(writeGguf(input, t)));
  mkdirSync(out.run);
  writeFileSync(join(out.run, 'config.json'), JSON.stringify(toHfConfig(m.config, { eotId: m.tokenizer!.eotId })));
  writeSafetensorsSync(join(out.run, 'model.safetensors'), m.tensors, { format: 'pt' });
  writeFileSync(join(out.run, 'tokenizer.json'), JSON.stringify(m.tokenizer!.toJSON()));
  return out;
}
const models = quick ? [writeAll('stories260K', s260)] : [writeAll('stories260K', s260), writeAll('random-15M', r15)];

// ---- load time: file → config + HF tensors + tokenizer; then once, tensors → a Model ----
const ref = await openBackend('ref', 1);
const toModel = (m: { config: ModelConfig; tensors: ImportedModel['tensors'] | Map<string, ImportedModel['tensors'][number]> }) => {
  const model = new Model(m.config, ref, { seed: 0 });
  importHfTensors(model, m.tensors instanceof Map ? m.tensors : new Map(m.tensors.map((t) => [t.name, t])));
  return model;
};
const loads: Array<{ model: string; format: string; ms: number }> = [];
for (const f of models) {
  const cases: Array<[string, () => unknown]> = [
    ['llama2.c v0 + tokenizer.bin', () => readLlama2cModel(readFileSync(f.v0), readFileSync(f.tok), f.v0)],
    ['llama2.c v1 + tokenizer.bin', () => readLlama2cModel(readFileSync(f.v1), readFileSync(f.tok), f.v1)],
    ['llama2.c v2 (int8) + tokenizer.bin', () => readLlama2cModel(readFileSync(f.v2), readFileSync(f.tok), f.v2)],
    ['GGUF F32', () => readGguf(readFileSync(f.gguf.F32), f.gguf.F32)],
    ['GGUF F16', () => readGguf(readFileSync(f.gguf.F16), f.gguf.F16)],
    ['GGUF Q8_0', () => readGguf(readFileSync(f.gguf.Q8_0), f.gguf.Q8_0)],
    ['run folder (safetensors + tokenizer.json)', () => readModelSource(f.run)],
    ['Model from tensors (any format; includes its random init)', () => toModel(readLlama2cModel(readFileSync(f.v1), undefined, f.v1))],
  ];
  for (const [format, load] of cases) {
    load(); // warm-up (JIT, page cache)
    let best = Infinity;
    for (let i = 0; i < REPEATS; i++) {
      const t0 = performance.now();
      load();
      best = Math.min(best, ms(t0));
    }
    loads.push({ model: f.name, format, ms: best });
    console.log(`load ${f.name} ${format}: ${best.toFixed(1)} ms`);
  }
}
ref.dispose();

// ---- sampling: ours (WASM SIMD backend) ----
interface Rate { model: string; engine: string; threads: number; tokens: number; tokens_per_s: number; load_ms?: number }
const rates: Rate[] = [];
async function ours(f: Files, threads: number): Promise<Rate> {
  const be: Backend = await openBackend('wasm', threads);
  try {
    const m = readLlama2cModel(readFileSync(f.v1), undefined, f.v1);
    const model = new Model(m.config, be, { seed: 0 });
    importHfTensors(model, new Map(m.tensors.map((t) => [t.name, t])));
    const session = new InferenceSession(model);
    const run = () => {
      session.reset();
      let logits = session.prefill([1]);
      const t0 = performance.now();
      for (let i = 0; i < TOKENS; i++) logits = session.step(argmax(logits));
      return TOKENS / (ms(t0) / 1000);
    };
    run();
    let best = 0;
    for (let i = 0; i < REPEATS; i++) best = Math.max(best, run());
    return { model: f.name, engine: `ours (${be.name})`, threads: be.threads, tokens: TOKENS, tokens_per_s: best };
  } finally {
    be.dispose();
  }
}

// ---- sampling: llama.cpp through node-llama-cpp on the GGUF F32 export ----
async function llamaCpp(f: Files, threads: number, type: 'F32' | 'Q8_0'): Promise<Rate | string> {
  let mod: typeof import('node-llama-cpp');
  try {
    mod = await import('node-llama-cpp');
  } catch (e) {
    return `node-llama-cpp not installed (${(e as Error).message})`;
  }
  const llama = await mod.getLlama({ gpu: false, build: 'never', logLevel: mod.LlamaLogLevel.error });
  const t0 = performance.now();
  const model = await llama.loadModel({ modelPath: f.gguf[type] });
  const ctx = await model.createContext({ contextSize: 256, threads });
  const load = ms(t0);
  try {
    let best = 0;
    let count = 0;
    for (let r = 0; r <= REPEATS; r++) {
      const seq = ctx.getSequence();
      await seq.eraseContextTokenRanges([{ start: 0, end: seq.nextTokenIndex }]);
      count = 0;
      let t1 = 0;
      for await (const _ of seq.evaluate([1 as never], { temperature: 0 })) {
        if (count === 0) t1 = performance.now(); // from the first sampled token: the prompt is one token
        if (++count > TOKENS) break;
      }
      seq.dispose();
      if (r > 0) best = Math.max(best, (count - 1) / (ms(t1) / 1000));
    }
    return { model: f.name, engine: `llama.cpp ${type} (node-llama-cpp)`, threads, tokens: count - 1, tokens_per_s: best, load_ms: load };
  } finally {
    await ctx.dispose();
    await model.dispose();
    await llama.dispose();
  }
}

for (const f of models) {
  for (const threads of quick ? [1] : [1, 2]) {
    const r = await ours(f, threads);
    rates.push(r);
    console.log(`${f.name} ${r.engine} ${threads} thread(s): ${r.tokens_per_s.toFixed(0)} tokens/s (${TOKENS} new tokens, KV cache, greedy)`);
    for (const type of quick ? (['F32'] as const) : (['F32', 'Q8_0'] as const)) {
      const p = await llamaCpp(f, threads, type);
      if (typeof p === 'string') {
        console.log(`peer skipped: ${p}`);
        continue;
      }
      rates.push(p);
      console.log(`${f.name} ${p.engine} ${threads} thread(s): ${p.tokens_per_s.toFixed(0)} tokens/s (${p.tokens} new tokens; load + context ${p.load_ms!.toFixed(0)} ms)`);
    }
  }
}
console.log('(llama2.c run.c, gcc -O3, 1 thread, measured separately on this machine kind: about 5,400-6,200 tokens/s on stories260K)');

rmSync(tmp, { recursive: true, force: true });
const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, 'results'), { recursive: true });
appendFileSync(join(here, 'results', 'interop.jsonl'), JSON.stringify({ bench: 'interop', date: new Date().toISOString(), quick, loads, rates }) + '\n');
