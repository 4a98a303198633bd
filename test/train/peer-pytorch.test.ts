// The PyTorch peer trains the same thing we do: from the same weights on the same batches with the same AdamW,
// schedule and clipping, its losses equal ours (GPT-Neo with a local-attention layer, and Llama with GQA + RoPE).
// Skips when Debian's python3-torch is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const env = { ...process.env };
delete env.OPENBLAS_CORETYPE;
delete env.OPENBLAS_L2_SIZE;
const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { env }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'peer-pytorch-test-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function peer(model: object): { first: [number, number]; last: [number, number] } {
  const file = join(dir, `${(model as { arch: string }).arch}.json`);
  writeFileSync(file, JSON.stringify(model));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/peer-pytorch.ts', '--quick', `--model=${file}`, '--threads=1'], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const first = /first-step loss \(same weights, same batch\): ours ([\d.]+), PyTorch ([\d.]+)/.exec(r.stdout);
  const last = /last-step loss at equal tokens: ours ([\d.]+), PyTorch ([\d.]+)/.exec(r.stdout);
  assert.ok(first && last, r.stdout);
  return { first: [Number(first[1]), Number(first[2])], last: [Number(last[1]), Number(last[2])] };
}

test('GPT-Neo (one global, one local layer): PyTorch and our engine give the same losses step for step', { skip: torch ? false : '/usr/bin/python3 cannot import torch (apt-get install python3-torch libopenblas0-pthread)' }, () => {
  const r = peer({ arch: 'gpt-neo', vocabSize: 300, maxSeqLen: 64, dim: 32, nLayers: 2, nHeads: 4, windowSize: 8, attentionLayers: ['global', 'local'] });
  assert.ok(Math.abs(r.first[0] - r.first[1]) < 2e-4, `first step ${r.first}`);
  assert.ok(Math.abs(r.last[0] - r.last[1]) < 2e-3, `last step ${r.last}`);
});

test('Llama (grouped-query attention, RoPE, SwiGLU): PyTorch and our engine give the same losses step for step', { skip: torch ? false : '/usr/bin/python3 cannot import torch (apt-get install python3-torch libopenblas0-pthread)' }, () => {
  const r = peer({ arch: 'llama', vocabSize: 300, maxSeqLen: 64, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, multipleOf: 8 });
  assert.ok(Math.abs(r.first[0] - r.first[1]) < 2e-4, `first step ${r.first}`);
  assert.ok(Math.abs(r.last[0] - r.last[1]) < 2e-3, `last step ${r.last}`);
});
