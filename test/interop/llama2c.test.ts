// llama2.c export and import on models written here: versions 0/1/2, GQA, tied and untied heads, the RoPE
// permutation, the separator-to-BOS id mapping, and one-line errors for truncated or mislabeled files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { presetConfig } from '../../src/engine/config.ts';
import { llama2cTokenOrder, permuteRope, readLlama2cModel, readLlama2cTokenizer, writeLlama2c } from '../../src/interop/index.ts';
import { rope_forward } from '../../src/engine/ref/rope.ts';
import { UserError } from '../../src/util/errors.ts';
import { Rng } from '../../src/util/rng.ts';
import { greedyIds, modelFrom, randomModel, smallLlama, smallTokenizer } from './fixtures.ts';

test('permuteRope maps llama2.c adjacent-pair RoPE onto rotate-half: rotating permuted q equals permuting rotated q', () => {
  const NH = 3;
  const HS = 8;
  const rng = new Rng(1);
  const l2c = Float32Array.from({ length: NH * HS }, () => rng.normal());
  // llama2.c run.c: pairs (2i, 2i+1) of each head rotate by pos * 10000^(-2i/HS)
  const pos = 5;
  const rotated = l2c.slice();
  for (let h = 0; h < NH; h++) {
    for (let i = 0; i < HS / 2; i++) {
      const a = pos * Math.pow(10000, (-2 * i) / HS);
      const [x, y] = [rotated[h * HS + 2 * i]!, rotated[h * HS + 2 * i + 1]!];
      rotated[h * HS + 2 * i] = x * Math.cos(a) - y * Math.sin(a);
      rotated[h * HS + 2 * i + 1] = x * Math.sin(a) + y * Math.cos(a);
    }
  }
  // ours: one row of packed qkv (NH q heads, 0 kv heads would not be packed; use NKV = 0 for q only)
  const hf = permuteRope(l2c, NH, HS, 1, true);
  rope_forward(hf, 1, 1, NH, 0, HS, 10000, pos);
  const back = permuteRope(hf, NH, HS, 1, false);
  for (let i = 0; i < back.length; i++) assert.ok(Math.abs(back[i]! - rotated[i]!) < 1e-5, `element ${i}`);
  assert.deepEqual(permuteRope(permuteRope(l2c, NH, HS, 1, true), NH, HS, 1, false), l2c);
});

for (const version of [0, 1] as const) {
  for (const tied of [true, false]) {
    test(`a GQA Llama (${tied ? 'tied' : 'untied'} head) written as llama2.c v${version} reads back bit for bit and greedy-decodes from BOS exactly as our model from <|endoftext|>`, async () => {
      const tok = await smallTokenizer();
      const config = smallLlama({ tiedEmbeddings: tied });
      const { model, tensors } = randomModel(config);
      const out = writeLlama2c({ config, tensors, tokenizer: tok }, version);
      const back = readLlama2cModel(out.model, out.tokenizer, 'model.bin');
      assert.equal(back.config.arch, 'llama');
      assert.equal(back.tensors.length, tensors.length);
      const order = llama2cTokenOrder(tok, config.vocabSize);
      const mine = greedyIds(model, tok.eotId, 40);
      const theirs = greedyIds(modelFrom(back.config, back.tensors), 1, 40);
      assert.deepEqual(theirs.map((id) => order[id]), mine);
      // the raw-byte pieces decode to the same text (less the space run.c drops from the piece right after BOS)
      assert.equal(back.tokenizer!.decode(theirs.filter((id) => id !== 1)), tok.decode(mine.filter((id) => id !== tok.eotId)).replace(/^ /, ''));
      // bit for bit, after undoing the id permutation of embedding rows
      const byName = new Map(back.tensors.map((t) => [t.name, t]));
      for (const t of tensors) {
        const b = byName.get(t.name)!;
        assert.deepEqual(b.shape, t.shape, t.name);
        if (t.name === 'model.embed_tokens.weight' || t.name === 'lm_head.weight') {
          const C = config.dim;
          for (let i = 0; i < config.vocabSize; i++) assert.deepEqual(b.data.subarray(i * C, (i + 1) * C), t.data.subarray(order[i]! * C, (order[i]! + 1) * C));
        } else assert.deepEqual(b.data, t.data, t.name);
      }
    });
  }
}

test('llama2.c v2 (int8 groups as runq.c reads) keeps every weight within half a quantization step and picks a group size dividing dim and hidden_dim', async () => {
  const tok = await smallTokenizer();
  const config = smallLlama({ hiddenDim: 72, tiedEmbeddings: false });
  const { tensors } = randomModel(config);
  const out = writeLlama2c({ config, tensors, tokenizer: tok }, 2);
  const view = new DataView(out.model.buffer);
  assert.equal(view.getUint32(0, true), 0x616b3432);
  assert.equal(view.getInt32(4, true), 2);
  const gs = view.getInt32(37, true);
  assert.equal(gs, 8); // gcd-compatible power of two: 32 % 8 == 0 and 72 % 8 == 0
  const back = readLlama2cModel(out.model, out.tokenizer, 'q8.bin');
  const byName = new Map(back.tensors.map((t) => [t.name, t]));
  const order = llama2cTokenOrder(tok, config.vocabSize);
  for (const t of tensors) {
    const b = byName.get(t.name)!.data;
    if (t.shape.length === 1) {
      assert.deepEqual(b, t.data, t.name);
      continue;
    }
    let worst = 0;
    let maxAbs = 0;
    const C = t.shape[1]!;
    for (let i = 0; i < t.data.length; i++) {
      const src = t.name.endsWith('embed_tokens.weight') || t.name === 'lm_head.weight' ? order[Math.floor(i / C)]! * C + (i % C) : i;
      worst = Math.max(worst, Math.abs(b[i]! - t.data[src]!));
      maxAbs = Math.max(maxAbs, Math.abs(t.data[src]!));
    }
    assert.ok(worst <= (maxAbs / 127) * 0.5001, `${t.name}: max error ${worst}`);
    assert.ok(worst > 0, `${t.name} was quantized`);
  }
});

test('the llama2.c v2 reader dequantizes a hand-written file: int8 * the scale of its group, q/k rows permuted to rotate-half', () => {
  // dim 4, hidden 4, 1 layer, 2 heads, 1 kv head, vocab 3, seq 8, shared, group size 2
  const C = 4, H = 4, V = 3, KV = 2, GS = 2;
  const head = new Uint8Array(256);
  const hv = new DataView(head.buffer);
  hv.setUint32(0, 0x616b3432, true);
  hv.setInt32(4, 2, true);
  [C, H, 1, 2, 1, V, 8].forEach((x, i) => hv.setInt32(8 + 4 * i, x, true));
  head[36] = 1;
  hv.setInt32(37, GS, true);
  const parts: Uint8Array[] = [head, new Uint8Array(Float32Array.from({ length: 3 * C }, (_, i) => i + 1).buffer)];
  const q = (n: number, base: number) => {
    parts.push(Uint8Array.from({ length: n }, (_, i) => (i - 2 + base) & 0xff)); // int8 values base-2, base-1, ...
    parts.push(new Uint8Array(Float32Array.from({ length: n / GS }, (_, g) => 0.5 * (g + 1)).buffer));
  };
  for (const [n, base] of [[V * C, 0], [C * C, 10], [KV * C, 20], [KV * C, 30], [C * C, 40], [H * C, 50], [C * H, 60], [H * C, 70]] as Array<[number, number]>) q(n, base);
  const bytes = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) (bytes.set(p, off), (off += p.length));
  const m = readLlama2cModel(bytes, undefined, 'hand.bin');
  const t = new Map(m.tensors.map((x) => [x.name, x.data]));
  const deq = (n: number, base: number) => Array.from({ length: n }, (_, i) => (((i - 2 + base + 128) & 0xff) - 128) * 0.5 * (Math.floor(i / GS) + 1));
  assert.deepEqual(Array.from(t.get('model.embed_tokens.weight')!), deq(V * C, 0));
  assert.deepEqual(Array.from(t.get('model.layers.0.mlp.down_proj.weight')!), deq(C * H, 60));
  assert.deepEqual(Array.from(t.get('model.layers.0.mlp.up_proj.weight')!), deq(H * C, 70));
  // q: 2 heads of size 2 (one pair each): the permutation is the identity; k likewise
  assert.deepEqual(Array.from(t.get('model.layers.0.self_attn.q_proj.weight')!), deq(C * C, 10));
  assert.deepEqual(Array.from(t.get('model.layers.0.input_layernorm.weight')!), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(t.get('model.norm.weight')!), [9, 10, 11, 12]);
  assert.equal(m.config.tiedEmbeddings, true);
  assert.match(m.source, /llama2\.c v2/);
});

test('a truncated llama2.c file, a tokenizer.bin passed as a model, and an unknown version each fail with one line naming the file and what was expected', async () => {
  const tok = await smallTokenizer();
  const config = smallLlama();
  const { tensors } = randomModel(config);
  for (const version of [0, 1, 2] as const) {
    const out = writeLlama2c({ config, tensors, tokenizer: tok }, version);
    assert.throws(() => readLlama2cModel(out.model.subarray(0, out.model.length - 100), undefined, 'cut.bin'), (e: Error) => e instanceof UserError && /^cut\.bin: truncated: a llama2\.c .* is \d+ bytes, the file has \d+$/.test(e.message) && !e.message.includes('\n'));
    assert.throws(() => readLlama2cModel(out.tokenizer, undefined, 'tokenizer.bin'), (e: Error) => e instanceof UserError && e.message.startsWith('tokenizer.bin: ') && !e.message.includes('\n'));
    // the tokenizer of another vocabulary size
    assert.throws(() => readLlama2cModel(out.model, out.tokenizer.subarray(0, out.tokenizer.length - 20), 'm.bin'), /^UserError: tokenizer for m\.bin: llama2\.c tokenizer\.bin: truncated in piece \d+ \(needs \d+ bytes at offset \d+, file has \d+\)$/);
  }
  const v1 = writeLlama2c({ config, tensors, tokenizer: tok }, 1).model.slice();
  new DataView(v1.buffer).setInt32(4, 7, true);
  assert.throws(() => readLlama2cModel(v1, undefined, 'v7.bin'), /^UserError: v7\.bin: llama2\.c checkpoint version 7, expected 1 or 2/);
  const tokBin = writeLlama2c({ config, tensors, tokenizer: tok }, 1).tokenizer;
  assert.throws(() => readLlama2cTokenizer(tokBin, 't.bin', 512), /t\.bin: llama2\.c tokenizer\.bin: holds 300 pieces but the model's vocab_size is 512/);
});

test('exporting a GPT-Neo run to llama2.c fails with one clear line', async () => {
  const tok = await smallTokenizer();
  const config = { ...presetConfig('1M', { vocabSize: 300 }), nLayers: 1, dim: 32, nHeads: 2 } as const;
  const { tensors } = randomModel(config);
  assert.throws(() => writeLlama2c({ config, tensors, tokenizer: tok }, 0), (e: Error) => e instanceof UserError && /^llama2c export: this is a GPT-Neo run; llama2\.c holds only Llama-family models/.test(e.message));
});

test('a llama2.c tokenizer.bin of our byte-level BPE holds raw-byte pieces with <|endoftext|> at id 1, and reads back decoding every id to the same bytes', async () => {
  const tok = await smallTokenizer();
  const order = llama2cTokenOrder(tok, tok.vocabSize);
  const { tokenizer } = writeLlama2c({ config: smallLlama(), tensors: randomModel(smallLlama()).tensors, tokenizer: tok }, 0);
  const back = readLlama2cTokenizer(tokenizer, 'tokenizer.bin', tok.vocabSize);
  assert.equal(back.eotId, 1);
  assert.equal(back.decodeToken(1), '<|endoftext|>');
  for (let id = 0; id < tok.vocabSize; id++) assert.deepEqual(back.pieceAfter(-1, id), tok.pieceAfter(-1, order[id]!), `id ${id}`);
});
