// Model tests: parameter counts vs HF/llama2.c, HF-semantics forward equivalence, gradient checks, training, export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Model, countParams } from '../../src/engine/model.ts';
import { PRESETS, presetConfig, resolveConfig, llamaHiddenDim, type ModelConfig } from '../../src/engine/config.ts';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { createF64RefBackend, gradcheckModel, GRADCHECK_CONFIGS } from '../../src/engine/gradcheck.ts';
import { exportHfTensors, importHfTensors } from '../../src/engine/hf.ts';
import { UserError } from '../../src/util/errors.ts';
import { gptNeoForward, llamaForward } from './hf-naive.ts';

const count = countParams;

// Expected counts, derived by hand from the module shapes (HF counts a tied lm_head once, as num_parameters() does):
// GPT-Neo (GPTNeoForCausalLM): wte V*C + wpe P*C + L * [ln_1 2C + q,k,v 3*C*C (bias=False) + out_proj C*C + C
//   + ln_2 2C + c_fc C*H + H + c_proj H*C + C] + ln_f 2C; with H = 4C a layer is 12C^2 + 10C.
// llama (llama2.c model.py, sum of p.numel() with output.weight tied to tok_embeddings): V*C + L * [attention_norm C
//   + wq C*NH*HS + wk, wv C*NKV*HS each + wo NH*HS*C + ffn_norm C + w1, w2, w3 C*hidden each] + norm C.
test('parameter counts equal Hugging Face GPTNeoForCausalLM and llama2.c for the presets', () => {
  const neo = (V: number, P: number, C: number, L: number) => V * C + P * C + L * (12 * C * C + 10 * C) + 2 * C;
  // 1M: 50257*64 + 512*64 + 8*(12*4096 + 640) + 128 = 3,216,448 + 32,768 + 398,336 + 128
  assert.equal(count(presetConfig('gpt-neo-1M')), 3_647_680);
  assert.equal(neo(50257, 512, 64, 8), 3_647_680);
  // 33M: 38,597,376 + 393,216 + 4*(7,077,888 + 7,680) + 1,536
  assert.equal(count(presetConfig('gpt-neo-33M')), 67_334_400);
  // roneneldan/TinyStories-33M on the HF hub is listed at 68.5M: its config has max_position_embeddings 2048,
  // i.e. 1536 more wpe rows * 768 = +1,179,648 → 68,514,048.
  assert.equal(count(presetConfig('gpt-neo-33M', { maxSeqLen: 2048 })), 68_514_048);
  for (const [name, C, L] of [['gpt-neo-3M', 128, 8], ['gpt-neo-8M', 256, 8], ['gpt-neo-28M', 512, 8], ['gpt-neo-1L-21M', 1024, 1], ['gpt-neo-2L-33M', 1024, 2]] as const) {
    assert.equal(count(presetConfig(name)), neo(50257, 512, C, L), name);
  }
  // config R: 4096*256 + 256*256 + 4*(12*65,536 + 2,560) + 512 = 4,270,592 (BENCHMARKS' "4.27M")
  assert.equal(count(PRESETS['bench-r']!), 4_270_592);
  // llama 15M (stories15M): hidden = 32*ceil(int(2*4*288/3)/32) = 768; 32000*288 + 6*(2*288 + 4*288*288 + 3*288*768) + 288
  assert.equal(llamaHiddenDim(288, 32), 768);
  assert.equal(count(presetConfig('llama-15M')), 9_216_000 + 6 * (576 + 331_776 + 663_552) + 288);
  assert.equal(count(presetConfig('llama-15M')), 15_191_712);
  // llama 260K (stories260K, multiple_of 4): hidden = 4*ceil(170/4) = 172; HS 8, kv width 32;
  // 512*64 + 5*(64 + 64*64 + 2*32*64 + 64*64 + 64 + 3*64*172) + 64 = 32,768 + 5*45,440 + 64
  assert.equal(llamaHiddenDim(64, 4), 172);
  assert.equal(count(presetConfig('llama-260K')), 260_032);
  // untied head adds V*C
  assert.equal(count({ ...presetConfig('llama-260K'), tiedEmbeddings: false } as ModelConfig), 260_032 + 512 * 64);
  // the Model reports the same count as the table it allocates
  assert.equal(new Model(presetConfig('260K'), createRefBackend()).numParams(), 260_032);
  assert.equal(new Model(presetConfig('1M', { vocabSize: 512 }), createRefBackend()).params.length, neo(512, 512, 64, 8));
  // vocab is configurable in every preset
  assert.equal(count(presetConfig('1M', { vocabSize: 4096 })), neo(4096, 512, 64, 8));
});

test('config validation names the bad field', () => {
  assert.throws(() => resolveConfig({ arch: 'gpt-neo', vocabSize: 10, maxSeqLen: 8, dim: 10, nLayers: 1, nHeads: 3, windowSize: 2 }), /dim 10 is not divisible by nHeads 3/);
  assert.throws(() => resolveConfig({ arch: 'llama', vocabSize: 10, maxSeqLen: 8, dim: 8, nLayers: 1, nHeads: 4, nKvHeads: 3 }), /nKvHeads/);
  assert.throws(() => resolveConfig({ arch: 'gpt-neo', vocabSize: 10, maxSeqLen: 8, dim: 8, nLayers: 2, nHeads: 2, windowSize: 2, attentionLayers: ['global'] }), /attentionLayers has 1 entries/);
  assert.throws(() => presetConfig('nope'), UserError);
  assert.deepEqual(resolveConfig(presetConfig('33M')).windows, [0, 256, 0, 256]);
  assert.equal(resolveConfig(presetConfig('33M')).attnScale, 1);
});

const NEO: ModelConfig = { arch: 'gpt-neo', vocabSize: 13, maxSeqLen: 9, dim: 8, nLayers: 3, nHeads: 2, windowSize: 3, intermediateSize: 20, layerNormEps: 1e-5 };
const LLAMA: ModelConfig = { arch: 'llama', vocabSize: 13, maxSeqLen: 9, dim: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, multipleOf: 8, ropeTheta: 10000 };

function randomize(m: Model, seed: number): void {
  // larger than the 0.02 init, with non-trivial norm weights and biases, so every term matters
  m.init(seed);
  for (let i = 0; i < m.params.length; i++) m.params[i] = m.params[i]! * 15 + (((i * 2654435761) % 1000) / 1000 - 0.5) * 0.2;
}

// HF behaviours checked here against hf-naive.ts (written from modeling_gpt_neo.py / modeling_llama.py, no PyTorch):
// - GPT-Neo: no 1/sqrt(head_dim) scaling of q·k; the causal mask is tril(ones) and local layers XOR it with
//   tril(ones, -window_size), so key j is visible to query i iff i - window < j <= i; masked scores are replaced by
//   masked_bias (-1e9; newer versions finfo.min) before the softmax, so masked probabilities are exactly 0; layers
//   alternate global/local from attention_types; q/k/v have no bias, out_proj has one; gelu_new; LayerNorm eps from
//   the config; learned absolute positions added to token embeddings; ln_f; lm_head tied to wte.
// - llama: RMSNorm (x * rsqrt(mean(x^2) + eps) * weight), rotate-half RoPE with inv_freq = theta^(-2i/HS) applied to
//   q and k, GQA via repeat_kv (query head h reads kv head h / (NH/NKV)), 1/sqrt(HS) scaling, SwiGLU
//   down(silu(gate(x)) * up(x)), no biases, final norm, tied or untied lm_head.
for (const [name, cfg] of [['gpt-neo', NEO], ['llama', LLAMA], ['llama untied', { ...LLAMA, tiedEmbeddings: false } as ModelConfig]] as const) {
  test(`${name}: forward matches the naive Hugging Face-style implementation on exported HF tensors`, () => {
    const ids = [3, 1, 4, 1, 5, 9, 2, 6, 5];
    const T = ids.length;
    const r = resolveConfig(cfg);
    for (const [backend, tol] of [[createF64RefBackend(), 1e-9], [createRefBackend(), 2e-4]] as const) {
      const m = new Model(cfg, backend, { seed: 5 });
      randomize(m, 5);
      m.forward(Int32Array.from(ids), null, 1, T);
      const acts = m.activations();
      const hf = exportHfTensors(m);
      const ref = r.arch === 'gpt-neo'
        ? gptNeoForward(hf, ids, { nLayers: r.nLayers, nHeads: r.nHeads, windows: r.windows, eps: r.normEps })
        : llamaForward(hf, ids, { nLayers: r.nLayers, nHeads: r.nHeads, nKvHeads: r.nKvHeads, eps: r.normEps, theta: r.ropeTheta, tied: r.tiedEmbeddings });
      const logits = acts.get('logits')!;
      assert.deepEqual(logits.shape, [1, T, r.vocabSize]);
      let maxAbs = 0;
      let maxDiff = 0;
      for (let i = 0; i < ref.logits.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(ref.logits[i]!));
        maxDiff = Math.max(maxDiff, Math.abs(ref.logits[i]! - logits.data[i]!));
      }
      assert.ok(maxAbs > 0.5, `logits should be non-trivial (max ${maxAbs})`);
      assert.ok(maxDiff <= tol * Math.max(1, maxAbs), `${backend.name}: max |logit diff| ${maxDiff}`);
      for (let l = 0; l < r.nLayers; l++) {
        const probs = acts.get(`h.${l}.attn.probs`)!;
        for (let i = 0; i < probs.data.length; i++) assert.ok(Math.abs(probs.data[i]! - ref.probs[l]![i]!) <= tol * 10, `${backend.name} layer ${l} prob ${i}: ${probs.data[i]} vs ${ref.probs[l]![i]}`);
      }
    }
  });
}

test('gpt-neo local layers see exactly the last window keys (i - window < j <= i)', () => {
  const m = new Model(NEO, createRefBackend(), { seed: 2 });
  const T = 9;
  m.forward(Int32Array.from({ length: T }, (_, i) => i % 13), null, 1, T);
  const acts = m.activations();
  for (let l = 0; l < 3; l++) {
    const local = l % 2 === 1;
    const p = acts.get(`h.${l}.attn.probs`)!.data;
    for (let h = 0; h < 2; h++)
      for (let i = 0; i < T; i++)
        for (let j = 0; j < T; j++) {
          const visible = j <= i && (!local || j > i - 3);
          const v = p[(h * T + i) * T + j]!;
          if (visible) assert.ok(v > 0, `l${l} h${h} ${i}->${j} should be visible`);
          else assert.equal(v, 0, `l${l} h${h} ${i}->${j} should be masked`);
        }
  }
});

for (const arch of ['gpt-neo', 'llama'] as const) {
  for (const precision of ['f64', 'f32'] as const) {
    test(`${arch}: whole-model gradient check, every parameter tensor (${precision})`, () => {
      const results = gradcheckModel(GRADCHECK_CONFIGS[arch], precision);
      const m = new Model(GRADCHECK_CONFIGS[arch], createRefBackend());
      assert.equal(results.length, m.table.length);
      for (const r of results) assert.ok(r.pass, `${r.name}: max rel err ${r.maxRelErr} > ${r.tol}`);
    });
  }
}

test('training on a fixed batch drives the loss down; clipping and weight decay groups behave', () => {
  for (const cfg of [NEO, LLAMA]) {
    const m = new Model(cfg, createRefBackend(), { seed: 1 });
    const B = 2, T = 8;
    const x = Int32Array.from({ length: B * T }, (_, i) => (i * 5) % 13);
    const y = Int32Array.from({ length: B * T }, (_, i) => (i * 5 + 5) % 13);
    const first = m.forward(x, y, B, T);
    assert.ok(Math.abs(first - Math.log(13)) < 0.1, `initial loss ${first} ≈ ln V`);
    let last = first;
    for (let t = 1; t <= 40; t++) {
      m.zeroGrad();
      last = m.forward(x, y, B, T);
      m.backward();
      const norm = m.clipGradNorm(0.5);
      assert.ok(norm > 0);
      assert.ok(m.gradNorm() <= 0.5 + 1e-6);
      m.adamwStep({ lr: 1e-2, t, weightDecay: 0.1 });
    }
    assert.ok(last < first * 0.3, `loss ${first} -> ${last}`);
  }
  // weight decay touches matmul weights only: with zero grads, norms/biases/embeddings stay, matmul weights shrink
  const m = new Model(NEO, createRefBackend(), { seed: 1 });
  m.zeroGrad();
  const before = m.params.slice();
  m.adamwStep({ lr: 0.1, t: 1, weightDecay: 0.5 });
  let off = 0;
  for (const s of m.table) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    for (let i = off; i < off + n; i++) {
      const expect = s.role === 'matmul' ? Math.fround(before[i]! * (1 - 0.05)) : before[i]!;
      assert.ok(Math.abs(m.params[i]! - expect) <= 1e-7, `${s.name}[${i - off}]`);
    }
    off += n;
  }
});

test('gradient accumulation: two backwards add; ignored targets give no loss', () => {
  const m = new Model(NEO, createRefBackend(), { seed: 3 });
  const x = Int32Array.from({ length: 8 }, (_, i) => i);
  const y = Int32Array.from({ length: 8 }, (_, i) => (i % 3 === 0 ? -1 : i + 1));
  m.zeroGrad();
  const l1 = m.forward(x, y, 1, 8);
  m.backward();
  const g1 = m.grads.slice();
  m.forward(x, y, 1, 8);
  m.backward();
  for (let i = 0; i < g1.length; i += 97) assert.ok(Math.abs(m.grads[i]! - 2 * g1[i]!) <= 1e-6 + 1e-5 * Math.abs(g1[i]!));
  const losses = m.actViews().losses;
  assert.equal(losses[0], 0);
  assert.equal(losses[3], 0);
  let s = 0;
  for (let i = 0; i < 8; i++) s += losses[i]!;
  assert.ok(Math.abs(l1 - s / 5) < 1e-6);
  assert.throws(() => m.forward(Int32Array.from([0, 99]), null, 1, 2), /outside the vocabulary/);
  assert.throws(() => m.forward(new Int32Array(10), null, 1, 10), /exceeds the model's maxSeqLen/);
});

test('backwardFromLogits with dlogits = (probs - onehot) / N equals backward(), with or without targets', () => {
  for (const cfg of [NEO, LLAMA]) {
    const V = 13;
    const B = 2, T = 6, N = B * T;
    const x = Int32Array.from({ length: N }, (_, i) => (i * 7 + 2) % V);
    const y = Int32Array.from({ length: N }, (_, i) => (i % 4 === 1 ? -1 : (i * 3 + 1) % V));
    const valid = [...y].filter((t) => t >= 0).length;
    const m = new Model(cfg, createRefBackend(), { seed: 6 });
    randomize(m, 6);
    m.zeroGrad();
    const loss = m.forward(x, y, B, T);
    m.backward();
    const expected = m.grads.slice();
    const maxAbs = expected.reduce((mx, g) => Math.max(mx, Math.abs(g)), 0);
    assert.ok(maxAbs > 1e-3, `${cfg.arch}: gradients should be non-trivial (max ${maxAbs})`);
    const close = (what: string) => {
      for (let i = 0; i < expected.length; i++) {
        const tol = 1e-5 * maxAbs + 1e-4 * Math.abs(expected[i]!);
        assert.ok(Math.abs(m.grads[i]! - expected[i]!) <= tol, `${cfg.arch} ${what}: grad ${i} ${m.grads[i]} vs ${expected[i]}`);
      }
    };
    const dlogitsFrom = (probs: ArrayLike<number>) => {
      const d = new Float32Array(N * V);
      for (let n = 0; n < N; n++) {
        if (y[n]! < 0) continue;
        for (let v = 0; v < V; v++) d[n * V + v] = (probs[n * V + v]! - (v === y[n] ? 1 : 0)) / valid;
      }
      return d;
    };
    // after a forward with targets: the model's own probs
    m.zeroGrad();
    assert.equal(m.forward(x, y, B, T), loss);
    m.backwardFromLogits(dlogitsFrom(m.activations().get('probs')!.data));
    close('from probs');
    assert.ok(!m.activations().has('probs'), 'dlogits overwrote probs');
    assert.throws(() => m.backwardFromLogits(new Float32Array(N * V)), /call forward first/);
    assert.throws(() => m.backward(), /call forward with targets/);
    // after a forward without targets: softmax of the logits computed here
    m.zeroGrad();
    m.forward(x, null, B, T);
    const logits = m.activations().get('logits')!.data;
    const probs = new Float64Array(N * V);
    for (let n = 0; n < N; n++) {
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[n * V + v]!);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += (probs[n * V + v] = Math.exp(logits[n * V + v]! - max));
      for (let v = 0; v < V; v++) probs[n * V + v] = probs[n * V + v]! / sum;
    }
    assert.throws(() => m.backwardFromLogits(new Float32Array(N * V - 1)), /expected B\*T\*V = 156/);
    m.backwardFromLogits(dlogitsFrom(probs));
    close('from logits');
    assert.ok(!m.activations().has('logits'), 'dlogits overwrote the logits (no keepLogits)');
  }
});

test('HF export/import round-trips and names follow HF; fused q/k/v split back into rows', () => {
  for (const cfg of [NEO, { ...LLAMA, tiedEmbeddings: false } as ModelConfig]) {
    const a = new Model(cfg, createRefBackend(), { seed: 1 });
    const hf = exportHfTensors(a);
    let total = 0;
    for (const t of hf.values()) total += t.data.length;
    assert.equal(total, a.numParams());
    const b = new Model(cfg, createRefBackend(), { seed: 2 });
    importHfTensors(b, hf);
    assert.deepEqual(b.params, a.params);
    const extra = new Map(hf);
    extra.set('bogus.weight', { shape: [1], data: new Float32Array(1) });
    assert.throws(() => importHfTensors(b, extra), /unexpected tensor bogus.weight/);
    const missing = new Map(hf);
    missing.delete([...hf.keys()][2]!);
    assert.throws(() => importHfTensors(b, missing), /is missing/);
  }
  const neo = exportHfTensors(new Model(NEO, createRefBackend()));
  assert.deepEqual(neo.get('transformer.h.0.attn.attention.q_proj.weight')!.shape, [8, 8]);
  assert.deepEqual(neo.get('transformer.h.2.mlp.c_fc.weight')!.shape, [20, 8]);
  assert.ok(!neo.has('lm_head.weight'));
  // HF's buffers and a tied lm_head are accepted and ignored
  neo.set('transformer.h.0.attn.attention.bias', { shape: [1], data: new Float32Array(1) });
  neo.set('lm_head.weight', neo.get('transformer.wte.weight')!);
  importHfTensors(new Model(NEO, createRefBackend()), neo);
  const ll = exportHfTensors(new Model(LLAMA, createRefBackend()));
  assert.deepEqual(ll.get('model.layers.1.self_attn.k_proj.weight')!.shape, [8, 16]);
  assert.deepEqual(ll.get('model.layers.1.mlp.up_proj.weight')!.shape, [resolveConfig(LLAMA).hidden, 16]);
});

test('init: seeded, std 0.02, residual projections scaled by 1/sqrt(2L), norms ones, biases zeros', () => {
  const cfg = presetConfig('8M', { vocabSize: 512 });
  const a = exportHfTensors(new Model(cfg, createRefBackend(), { seed: 9 }));
  const b = exportHfTensors(new Model(cfg, createRefBackend(), { seed: 9 }));
  assert.deepEqual(a.get('transformer.h.3.mlp.c_fc.weight')!.data, b.get('transformer.h.3.mlp.c_fc.weight')!.data);
  const std = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
  assert.ok(Math.abs(std(a.get('transformer.h.3.mlp.c_fc.weight')!.data) - 0.02) < 0.001);
  assert.ok(Math.abs(std(a.get('transformer.h.3.mlp.c_proj.weight')!.data) - 0.02 / 4) < 0.0005);
  assert.ok(Math.abs(std(a.get('transformer.h.3.attn.attention.out_proj.weight')!.data) - 0.02 / 4) < 0.0005);
  assert.ok(a.get('transformer.h.0.ln_1.weight')!.data.every((v) => v === 1));
  assert.ok(a.get('transformer.h.0.mlp.c_fc.bias')!.data.every((v) => v === 0));
  const l = exportHfTensors(new Model(presetConfig('260K'), createRefBackend(), { seed: 9 }));
  // llama2.c scales w3 (up_proj) and wo (o_proj), not w2 (down_proj)
  assert.ok(Math.abs(std(l.get('model.layers.0.mlp.up_proj.weight')!.data) - 0.02 / Math.sqrt(10)) < 0.0005);
  assert.ok(Math.abs(std(l.get('model.layers.0.self_attn.o_proj.weight')!.data) - 0.02 / Math.sqrt(10)) < 0.0008);
  assert.ok(Math.abs(std(l.get('model.layers.0.mlp.down_proj.weight')!.data) - 0.02) < 0.001);
});
