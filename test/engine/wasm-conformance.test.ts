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
    // soloBelow 0: even the tiny test shapes are split across the threads, so the partitioning is what is tested
    runConformance(`wasm-${variant} threads=${threads}`, () => createWasmBackend({ threads, variant, soloBelow: 0 }));
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
      // a buffer allocated before the memory grew still counts as its own, and the worker sees memory added later
      const early = be.alloc(8);
      const late = be.alloc(40 * 1024 * 1024); // forces memory.grow past the initial 64 MiB
      early.fill(2);
      assert.equal(be.sumsq(early, 8), 32);
      late.fill(0.5);
      assert.equal(be.sumsq(late, late.length), 0.25 * late.length); // split across both threads (large)
    } finally {
      be.dispose();
    }
  });

  it('runs small kernels on the calling thread and large ones split, with the same results', async () => {
    const solo = await createWasmBackend({ threads: 2 });
    const split = await createWasmBackend({ threads: 2, soloBelow: 0 });
    try {
      for (const be of [solo, split]) {
        const [N, C, OC] = [3, 17, 5];
        const inp = be.alloc(N * C), w = be.alloc(OC * C), out = be.alloc(N * OC);
        inp.forEach((_, i) => (inp[i] = Math.sin(i)));
        w.forEach((_, i) => (w[i] = Math.cos(i)));
        be.matmul_forward(out, inp, w, null, N, C, OC);
        const want = new Float32Array(N * OC);
        refKernels.matmul_forward(want, Float32Array.from(inp), Float32Array.from(w), null, N, C, OC);
        for (let i = 0; i < want.length; i++) assert.ok(Math.abs(out[i]! - want[i]!) < 1e-5);
        const g = be.alloc(1000).fill(0.5);
        assert.ok(Math.abs(be.sumsq(g, 1000) - 250) < 1e-9);
      }
    } finally {
      solo.dispose();
      split.dispose();
    }
  });

  it('runs attention heads too large for its scratch on the reference', async () => {
    const be = await createWasmBackend({ threads: 2 });
    try {
      const [B, T, NH, HS] = [1, 1024, 1, 72]; // 2 * T * HS > the 131072-float packing area
      const qkv = be.alloc(B * T * 3 * NH * HS);
      for (let i = 0; i < qkv.length; i++) qkv[i] = Math.sin(i) * 0.1;
      const out = be.alloc(B * T * NH * HS), att = be.alloc(B * NH * T * T);
      be.attention_forward(out, att, qkv, B, T, NH, NH, HS, 0, 1);
      const want = new Float32Array(out.length), wantAtt = new Float32Array(att.length);
      refKernels.attention_forward(want, wantAtt, Float32Array.from(qkv), B, T, NH, NH, HS, 0, 1);
      assert.deepEqual(out, want);
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
