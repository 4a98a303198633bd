// pytorch_model.bin without Python: files written by real PyTorch load with the right values and logits; hostile,
// truncated and mislabeled files are refused with one line naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { InferenceSession } from '../../src/engine/inference.ts';
import { readTorchStateDict, restrictedUnpickle } from '../../src/interop/torch-pickle.ts';
import { readModelSource } from '../../src/interop/resolve.ts';
import { loadRunModel } from '../../src/sample/load.ts';
import { UserError } from '../../src/util/errors.ts';
import { writeZip } from '../../src/util/zip.ts';
import { referenceLogits, torchFixtures, writeByteTokenizer } from './torch-fixtures.ts';

const tokDir = mkdtempSync(join(tmpdir(), 'ts-torch-tok-'));
const tokenizerJson = join(tokDir, 'tokenizer.json');
writeByteTokenizer(tokenizerJson);

/** Our logits at the compared positions against the fixture's float64 forward; returns the worst relative error. */
function compareLogits(dir: string, opts: { tokenizer?: string } = {}): number {
  const ref = referenceLogits(dir);
  const { model } = loadRunModel(dir, createRefBackend(), { tokenizer: opts.tokenizer ?? tokenizerJson });
  const V = model.cfg.vocabSize;
  const session = new InferenceSession(model);
  let worst = 0;
  let k = 0;
  for (let i = 0; i <= ref.rows[ref.rows.length - 1]!; i++) {
    const logits = session.step(ref.ids[i]!);
    if (ref.rows[k] !== i) continue;
    let scale = 1;
    for (let v = 0; v < V; v++) scale = Math.max(scale, Math.abs(ref.logits[k * V + v]!));
    for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(logits[v]! - ref.logits[k * V + v]!) / scale);
    k++;
  }
  assert.equal(k, ref.rows.length);
  return worst;
}

for (const name of ['neo-f32-tied-bin', 'neo-f16-untied-bin', 'neo-f16-tied-safetensors', 'llama-f32-untied-bin', 'llama-f16-tied-bin', 'llama-f32-untied-sharded']) {
  test(`${name}: the logits of the checkpoint PyTorch wrote equal a float64 forward of the same weights (within 2e-5 of the largest logit)`, (t) => {
    const fx = torchFixtures();
    if ('skip' in fx) return t.skip(fx.skip);
    const worst = compareLogits(join(fx.dir, name));
    assert.ok(worst < 2e-5, `max relative logit error ${worst}`);
  });
}

test('a GPT-Neo state dict at the paper shapes keeps its 2048 positions, window 256, alternating layers and the tied or untied head the config names', (t) => {
  const fx = torchFixtures();
  if ('skip' in fx) return t.skip(fx.skip);
  const tied = readModelSource(join(fx.dir, 'neo-f32-tied-bin'), { tokenizer: tokenizerJson });
  assert.deepEqual(
    { ...tied.config },
    { arch: 'gpt-neo', vocabSize: 50257, maxSeqLen: 2048, dim: 16, nLayers: 2, nHeads: 2, windowSize: 256, attentionLayers: ['global', 'local'], layerNormEps: 1e-5 },
  );
  // HF's causal-mask buffers (2048 x 2048 bools per layer) are skipped before they are decoded
  assert.ok(![...tied.tensors.keys()].some((n) => n.endsWith('.attn.attention.bias') || n.endsWith('masked_bias')));
  const untied = readModelSource(join(fx.dir, 'neo-f16-untied-bin'), { tokenizer: tokenizerJson });
  assert.equal(untied.config.arch === 'gpt-neo' && untied.config.tiedEmbeddings, false);
  const wte = untied.tensors.get('transformer.wte.weight')!.data;
  const head = untied.tensors.get('lm_head.weight')!.data;
  assert.notDeepEqual(wte.subarray(0, 16), head.subarray(0, 16));
});

test('F16 storages widen exactly, and a transposed (strided) tensor is gathered in logical order', (t) => {
  const fx = torchFixtures();
  if ('skip' in fx) return t.skip(fx.skip);
  const s = readTorchStateDict(readFileSync(join(fx.dir, 'strided.bin')), 'strided.bin');
  assert.deepEqual(s.get('t')!.shape, [4, 3]);
  assert.deepEqual([...s.get('t')!.data], [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  assert.deepEqual([...s.get('col')!.data], [1, 5, 9]);
  assert.deepEqual([...s.get('long')!.data], [-2, -1, 0, 1, 2]);
  assert.deepEqual([...s.get('mask')!.data], [1, 0, 1]);
  assert.deepEqual(s.get('scalar')!.shape, []);
  assert.deepEqual([...s.get('scalar')!.data], [-1e9]);
  const bin = readTorchStateDict(readFileSync(join(fx.dir, 'llama-f16-tied-bin', 'pytorch_model.bin')), 'pytorch_model.bin');
  const emb = bin.get('model.embed_tokens.weight')!;
  assert.deepEqual(emb.shape, [300, 32]);
  // every F16 value is exactly representable in F32: round-tripping through Math.fround changes nothing
  assert.ok(emb.data.every((x) => Math.fround(x) === x && Number.isFinite(x)));
  // tied: lm_head.weight shares wte's storage in the pickle and reads back identical
  assert.deepEqual(bin.get('lm_head.weight')!.data, emb.data);
});

test('a hostile pytorch_model.bin (torch.save of an object whose __reduce__ is os.system) is refused by name and runs nothing', (t) => {
  const fx = torchFixtures();
  if ('skip' in fx) return t.skip(fx.skip);
  const path = join(fx.dir, 'hostile.bin');
  assert.throws(
    () => readTorchStateDict(readFileSync(path), path),
    (e: Error) => e instanceof UserError && e.message.startsWith(path) && /refuses to load global (posix|os)\.system/.test(e.message),
  );
  assert.equal(existsSync(join(fx.dir, 'pwned')), false);
});

// Hand-written pickles (protocol 2 and 4 opcodes).
const op = {
  PROTO2: [0x80, 2],
  GLOBAL: (m: string, n: string) => [0x63, ...Buffer.from(`${m}\n${n}\n`, 'latin1')],
  SHORT_BINUNICODE: (s: string) => [0x8c, Buffer.byteLength(s), ...Buffer.from(s)],
  STACK_GLOBAL: [0x93],
  TUPLE1: [0x85],
  EMPTY_TUPLE: [0x29],
  REDUCE: [0x52],
  STOP: [0x2e],
};
const pickle = (...parts: number[][]) => Uint8Array.from(parts.flat());

test('hand-written hostile pickles are refused before anything is called: GLOBAL, STACK_GLOBAL, INST, NEWOBJ, REDUCE on a non-callable', () => {
  const cases: Array<[Uint8Array, RegExp]> = [
    [pickle(op.PROTO2, op.GLOBAL('os', 'system'), op.SHORT_BINUNICODE('touch /tmp/x'), op.TUPLE1, op.REDUCE, op.STOP), /global os\.system/],
    [pickle(op.PROTO2, op.SHORT_BINUNICODE('builtins'), op.SHORT_BINUNICODE('eval'), op.STACK_GLOBAL, op.STOP), /global builtins\.eval/],
    [pickle(op.PROTO2, op.GLOBAL('torch', 'load'), op.STOP), /global torch\.load/],
    [pickle(op.PROTO2, [0x28], [0x69, ...Buffer.from('os\nsystem\n')], op.STOP), /opcode INST/],
    [pickle(op.PROTO2, op.GLOBAL('collections', 'OrderedDict'), op.EMPTY_TUPLE, [0x81], op.STOP), /opcode NEWOBJ/],
    [pickle(op.PROTO2, op.GLOBAL('torch', 'FloatStorage'), op.EMPTY_TUPLE, op.REDUCE, op.STOP), /not an allowed callable/],
    [pickle(op.PROTO2, op.SHORT_BINUNICODE('x'), op.EMPTY_TUPLE, op.REDUCE, op.STOP), /not an allowed callable/],
    [pickle(op.PROTO2, op.GLOBAL('collections', 'OrderedDict')), /ends early|underflow/],
  ];
  for (const [bytes, re] of cases) {
    assert.throws(() => restrictedUnpickle(bytes), re);
    // and through the file reader: one line, naming the file
    const zip = writeZip([{ name: 'archive/data.pkl', data: bytes }, { name: 'archive/version', data: Buffer.from('3\n') }]);
    assert.throws(() => readTorchStateDict(zip, 'evil/pytorch_model.bin'), (e: Error) => e instanceof UserError && e.message.startsWith('evil/pytorch_model.bin: ') && re.test(e.message) && !e.message.includes('\n'));
  }
});

test('truncated and mislabeled checkpoints are refused with one line naming the file', (t) => {
  const notZip = Buffer.from('version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n');
  assert.throws(() => readTorchStateDict(notZip, 'm/pytorch_model.bin'), /^UserError: m\/pytorch_model\.bin: not a PyTorch ZIP checkpoint/);
  const legacy = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc]);
  assert.throws(() => readTorchStateDict(legacy, 'old.bin'), /legacy pre-1\.6 torch\.save format/);
  const fx = torchFixtures();
  if ('skip' in fx) return t.skip(fx.skip);
  const full = readFileSync(join(fx.dir, 'llama-f32-untied-bin', 'pytorch_model.bin'));
  for (const cut of [full.length - 10, Math.floor(full.length / 2), 100]) {
    assert.throws(() => readTorchStateDict(full.subarray(0, cut), 'cut.bin'), (e: Error) => e instanceof UserError && e.message.startsWith('cut.bin: '));
  }
  // a folder whose pytorch_model.bin is cut: loading names that file
  const dir = mkdtempSync(join(tmpdir(), 'ts-torch-cut-'));
  writeFileSync(join(dir, 'config.json'), readFileSync(join(fx.dir, 'llama-f32-untied-bin', 'config.json')));
  writeFileSync(join(dir, 'pytorch_model.bin'), full.subarray(0, full.length - 4000));
  assert.throws(() => readModelSource(dir, { tokenizer: tokenizerJson }), (e: Error) => e instanceof UserError && e.message.includes(join(dir, 'pytorch_model.bin')));
});
