// The WASM backend against the reference: each build (relaxed SIMD, plain SIMD) on 1 and 2 threads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmBackend, nodeHasRelaxedSimd } from '../../src/engine/wasm/node.ts';
import { refKernels } from '../../src/engine/ref/index.ts';
import { runConformance } from './conformance.ts';

const relaxed = await nodeHasRelaxedSimd();
if (!relaxed) console.log('# skipping the relaxed-SIMD build: this runtime cannot compile relaxed SIMD');
for (const variant of relaxed ? (['relaxed', 'simd'] as const) : (['simd'] as const)) {
  for (const threads of [1, 2]) {
    runConformance(`wasm-${variant} threads=${threads}`, () => createWasmBackend({ threads, variant }));
  }
}

describe('wasm backend outside its memory', () => {
  it('falls back to the reference for views it did not allocate', async () => {
    const be = await createWasmBackend({ threads: 2 });
    try {
      const inp = Float32Array.from({ length: 6 * 5 }, (_, i) => Math.sin(i));
      const w = Float32Array.from({ length: 3 * 5 }, (_, i) => Math.cos(i));
      const out = new Float32Array(6 * 3);
      const want = new Float32Array(6 * 3);
      be.matmul_forward(out, inp, w, null, 6, 5, 3);
      refKernels.matmul_forward(want, inp, w, null, 6, 5, 3);
      assert.deepEqual(out, want);
      // and a buffer allocated before the memory grew still counts as its own
      const early = be.alloc(8);
      be.alloc(40 * 1024 * 1024); // forces memory.grow
      early.fill(2);
      assert.equal(be.sumsq(early, 8), 32);
    } finally {
      be.dispose();
    }
  });

  it('reports its build and thread count', async () => {
    const be = await createWasmBackend({ threads: 2, variant: 'simd' });
    assert.equal(be.name, 'wasm-simd');
    assert.equal(be.threads, 2);
    be.dispose();
  });
});
