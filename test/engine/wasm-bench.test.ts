// `tinystories bench step|matmul` on tiny shapes: the figures are computed from real runs and the --json line parses.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchMatmul } from '../../src/engine/wasm/bench.ts';

const root = join(import.meta.dirname, '..', '..');

describe('bench', () => {
  it('bench step --config --json prints the step figures and one JSON object last', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-step-'));
    try {
      const cfg = join(dir, 'tiny.json');
      writeFileSync(cfg, JSON.stringify({ arch: 'gpt-neo', vocabSize: 97, maxSeqLen: 32, dim: 32, nLayers: 2, nHeads: 4, windowSize: 8, layerNormEps: 1e-5 }));
      const r = spawnSync(process.execPath, ['bin/tinystories.mjs', 'bench', 'step', '--config', cfg, '--batch', '2', '--seq', '16', '--steps', '2', '--threads', '2', '--json'], { cwd: root, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.match(r.stdout, /ms\/step .* tokens\/s/);
      assert.match(r.stdout, /matmul_forward/);
      const j = JSON.parse(lines[lines.length - 1]!);
      assert.ok(j.tokens_per_s > 0 && j.ms_per_step > 0 && j.mfu > 0 && j.mfu < 1.5);
      assert.equal(j.threads, 2);
      assert.equal(j.losses.length, 3);
      assert.ok(j.kernels.some((k: { kernel: string }) => k.kernel === 'attention_backward'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bench step rejects a bad --config with one line', () => {
    const r = spawnSync(process.execPath, ['bin/tinystories.mjs', 'bench', 'step', '--config', '/nonexistent/x.json'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^tinystories: --config \/nonexistent\/x.json: cannot read/);
  });

  it('benchMatmul times every direction and reports the measured peak', async () => {
    const r = await benchMatmul({ threads: [1, 2], minMs: 5, shapes: [[64, 40, 24]] });
    assert.equal(r.results.length, 6);
    for (const x of r.results) assert.ok(x.gflops > 0 && Number.isFinite(x.gflops));
    assert.ok(r.wasmPeak[1]! > 0 && r.wasmPeak[2]! > 0);
    assert.equal(r.nativePeak[2], 232);
  });
});

describe('instrumentBackend', () => {
  it('times kernel calls and allocates from the inner backend', async () => {
    const { createWasmBackend } = await import('../../src/engine/wasm/node.ts');
    const { instrumentBackend } = await import('../../src/engine/wasm/timing.ts');
    const inner = await createWasmBackend({ threads: 1 });
    try {
      const inst = instrumentBackend(inner);
      const a = inst.backend.alloc(16).fill(1);
      const b = inner.alloc(16); // must not overlap a
      b.fill(2);
      assert.equal(a[0], 1);
      assert.equal(inst.backend.sumsq(a, 16), 16);
      inst.backend.scale(a, 16, 3);
      assert.equal(a[5], 3);
      const t = inst.times();
      assert.deepEqual(t.map((k) => k.kernel).sort(), ['scale', 'sumsq']);
      assert.ok(t.every((k) => k.calls === 1 && k.ms >= 0));
      inst.reset();
      assert.equal(inst.times().length, 0);
    } finally {
      inner.dispose();
    }
  });
});
