// `tinystories export` end to end: a run folder to llama2.c (v0/v1/q8) and GGUF, read back by our readers; GPT-Neo
// and bad flags fail with one line and leave nothing in --out. Optionally runs llama2.c's own run.c/runq.c.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHfConfig } from '../../src/checkpoint/hf-config.ts';
import { writeSafetensorsSync } from '../../src/checkpoint/safetensors.ts';
import type { ModelConfig } from '../../src/engine/config.ts';
import { type ExportOptions, runExport } from '../../src/cli/export.ts';
import { llama2cTokenOrder, readGguf, readLlama2cModel } from '../../src/interop/index.ts';
import { UserError } from '../../src/util/errors.ts';
import { greedyIds, modelFrom, randomModel, smallLlama, smallTokenizer } from './fixtures.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'export-cli-'));
const tok = await smallTokenizer();

/** A Hugging Face-format run folder (config.json, model.safetensors, tokenizer.json) with random weights. */
function writeRun(name: string, config: ModelConfig) {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const { model, tensors } = randomModel(config, 5);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(toHfConfig(config, { eotId: tok.eotId })));
  writeSafetensorsSync(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  tok.save(join(dir, 'tokenizer.json'));
  return { dir, model };
}

const llama = writeRun('llama', smallLlama({ maxSeqLen: 64 }));
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, 'export', ...args], { encoding: 'utf8' });

test('export --format llama2c / llama2c-v1 / llama2c-q8 writes <out>/model.bin and tokenizer.bin that our reader decodes like the run', async () => {
  const order = llama2cTokenOrder(tok, 300);
  const mine = greedyIds(llama.model, tok.eotId, 24);
  for (const format of ['llama2c', 'llama2c-v1', 'llama2c-q8']) {
    const out = join(tmp, `out-${format}`);
    const lines = await runExport(llama.dir, { format, out });
    assert.match(lines[0]!, /^wrote .*model\.bin \(llama2\.c /);
    assert.deepEqual(readdirSync(out).sort(), ['model.bin', 'tokenizer.bin']);
    const m = readLlama2cModel(readFileSync(join(out, 'model.bin')), readFileSync(join(out, 'tokenizer.bin')), format);
    if (format !== 'llama2c-q8') assert.deepEqual(greedyIds(modelFrom(m.config, m.tensors), 1, 24).map((id) => order[id]), mine);
    else assert.equal(m.tokenizer!.vocabSize, 300);
  }
});

test('tinystories export --format gguf --type Q8_0 writes one GGUF file that reads back as the same Llama', () => {
  const out = join(tmp, 'm.gguf');
  const r = cli([llama.dir, '--format', 'gguf', '--type', 'Q8_0', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^wrote .*m\.gguf \(GGUF v3 Q8_0, /);
  const m = readGguf(readFileSync(out), out);
  assert.equal(m.config.arch, 'llama');
  assert.match(m.source, /Q8_0/);
  assert.deepEqual(m.tokenizer!.encode('Once upon a time'), tok.encode('Once upon a time'));
});

test('a GPT-Neo run to llama2.c, an unknown format and --type with a llama2c format fail with one line and write nothing to --out', async () => {
  const neo = writeRun('neo', { arch: 'gpt-neo', vocabSize: 300, maxSeqLen: 32, dim: 32, nLayers: 1, nHeads: 2, windowSize: 16 });
  const r = cli([neo.dir, '--format', 'llama2c', '--out', join(tmp, 'neo-out')]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /llama2c export: this is a GPT-Neo run; llama2\.c holds only Llama-family models/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.equal(existsSync(join(tmp, 'neo-out')), false);
  const cases: Array<[string, ExportOptions, RegExp]> = [
    [llama.dir, { format: 'onnx', out: join(tmp, 'x-out') }, /--format must be one of llama2c, llama2c-v1, llama2c-q8, gguf/],
    [llama.dir, { format: 'llama2c', type: 'F16', out: join(tmp, 'y-out') }, /--type applies to --format gguf only/],
    [join(tmp, 'missing'), { format: 'gguf', out: join(tmp, 'z.gguf') }, /no such run directory/],
  ];
  for (const [run, o, re] of cases) {
    await assert.rejects(runExport(run, o), (e: Error) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'));
    assert.equal(existsSync(o.out), false);
  }
  assert.deepEqual(readdirSync(tmp).filter((n) => n.includes('.tmp-')), []);
});

/** llama2.c's sources, when a copy is provided (the repository does not vendor them). */
const llama2cSrc = process.env.TINYSTORIES_LLAMA2C_SRC;
const gccOk = spawnSync('gcc', ['--version']).status === 0;

test("llama2.c's own run.c and runq.c, compiled from TINYSTORIES_LLAMA2C_SRC, print our sampler's greedy text for the exported files", { skip: !llama2cSrc ? 'set TINYSTORIES_LLAMA2C_SRC to a llama2.c checkout (run.c, runq.c) to run this check' : !gccOk ? 'gcc is not installed' : false }, async () => {
  // run.c prints each sampled piece (dropping a leading space right after BOS, and single-byte pieces that are
  // neither printable nor whitespace: its safe_printf), for `-n 64` steps from BOS, then a newline.
  const ids = greedyIds(llama.model, tok.eotId, 64);
  const cut = ids.indexOf(tok.eotId);
  const pieces: Uint8Array[] = [];
  let prev = tok.eotId;
  for (const id of cut >= 0 ? ids.slice(0, cut) : ids) {
    let p = tok.pieceAfter(-1, id);
    if (prev === tok.eotId && p[0] === 0x20) p = p.subarray(1);
    prev = id;
    if (p.length === 1 && !((p[0]! >= 0x20 && p[0]! <= 0x7e) || (p[0]! >= 0x09 && p[0]! <= 0x0d))) continue;
    pieces.push(p);
  }
  const expected = Buffer.concat([...pieces, Buffer.from('\n')]);
  for (const [src, format] of [['run.c', 'llama2c'], ['runq.c', 'llama2c-q8']] as const) {
    const bin = join(tmp, src.replace('.c', ''));
    const cc = spawnSync('gcc', ['-O2', '-o', bin, join(llama2cSrc!, src), '-lm'], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const out = join(tmp, `out-${format}`);
    if (!existsSync(out)) await runExport(llama.dir, { format, out });
    const r = spawnSync(bin, [join(out, 'model.bin'), '-z', join(out, 'tokenizer.bin'), '-t', '0', '-n', '64']);
    assert.equal(r.status, 0, String(r.stderr));
    if (format === 'llama2c') assert.deepEqual(r.stdout, expected);
    else assert.ok(r.stdout.length > 1); // int8 weights and activations: runq.c's text may drift from the fp32 run
  }
});
