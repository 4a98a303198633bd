// Reference kernel tests: finite-difference checks of every backward, and forward semantics against closed forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheckKernels } from '../../src/engine/gradcheck.ts';
import * as K from '../../src/engine/ref/index.ts';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { Rng } from '../../src/util/rng.ts';
import { gptNeoMask } from './hf-naive.ts';

const EXPECTED = ['encoder', 'layernorm', 'rmsnorm', 'matmul', 'attention (global', 'attention (local', 'attention (GQA', 'rope', 'gelu', 'swiglu', 'residual', 'crossentropy_softmax'];

for (const precision of ['f64', 'f32'] as const) {
  test(`every kernel backward agrees with central differences (${precision})`, () => {
    const results = gradcheckKernels(precision);
    for (const name of EXPECTED) assert.ok(results.some((r) => r.name.startsWith(name)), `no check for ${name}`);
    for (const r of results) assert.ok(r.pass, `${r.name}: max rel err ${r.maxRelErr} > ${r.tol}`);
  });
}

function rand(n: number, rng: Rng, s = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * s);
}

test('attention: HF-style masked softmax (local window, GQA, scale); decode row equals the full row', () => {
  const rng = new Rng(4);
  for (const [NH, NKV, window, scale] of [[2, 2, 0, 1], [2, 2, 3, 1], [4, 2, 0, 0.5], [4, 1, 2, 0.3]] as const) {
    const B = 2, T = 7, HS = 3, R = (NH + 2 * NKV) * HS;
    const qkv = rand(B * T * R, rng);
    const out = new Float32Array(B * T * NH * HS);
    const att = new Float32Array(B * NH * T * T).fill(NaN);
    K.attention_forward(out, att, qkv, B, T, NH, NKV, HS, window, scale);
    const mask = gptNeoMask(T, window > 0, window);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < NH; h++) {
        const g = Math.floor(h / (NH / NKV));
        for (let i = 0; i < T; i++) {
          const s = Array.from({ length: T }, (_, j) => {
            let d = 0;
            for (let e = 0; e < HS; e++) d += qkv[(b * T + i) * R + h * HS + e]! * qkv[(b * T + j) * R + (NH + g) * HS + e]!;
            return mask[i]![j] ? d * scale : -Infinity;
          });
          const mx = Math.max(...s);
          const z = s.reduce((a, v) => a + Math.exp(v - mx), 0);
          for (let j = 0; j < T; j++) {
            const p = Math.exp(s[j]! - mx) / z;
            const got = att[((b * NH + h) * T + i) * T + j]!;
            if (!mask[i]![j]) assert.equal(got, 0);
            else assert.ok(Math.abs(got - p) < 1e-6, `p ${got} vs ${p}`);
          }
          for (let e = 0; e < HS; e++) {
            let y = 0;
            for (let j = 0; j < T; j++) y += (Math.exp(s[j]! - mx) / z) * qkv[(b * T + j) * R + (NH + NKV + g) * HS + e]!;
            assert.ok(Math.abs(out[(b * T + i) * NH * HS + h * HS + e]! - y) < 1e-5);
          }
        }
      }
    // decode: row t of sequence 0 against the cache rows 0..t gives the same output and probabilities
    for (let t = 0; t < T; t++) {
      const o = new Float32Array(NH * HS);
      const a = new Float32Array(NH * (t + 1));
      K.attention_decode_forward(o, a, qkv, t, NH, NKV, HS, window, scale);
      for (let i = 0; i < NH * HS; i++) assert.ok(Math.abs(o[i]! - out[t * NH * HS + i]!) < 1e-6);
      for (let h = 0; h < NH; h++) for (let j = 0; j <= t; j++) assert.ok(Math.abs(a[h * (t + 1) + j]! - att[(h * T + t) * T + j]!) < 1e-7);
    }
  }
});

test('rope: HF rotate-half (pairs i, i+HS/2), theta^(-2i/HS), positions from pos0; v untouched; backward inverts', () => {
  const rng = new Rng(5);
  const B = 1, T = 3, NH = 2, NKV = 1, HS = 4, R = (NH + 2 * NKV) * HS, pos0 = 5, theta = 100;
  const x = rand(B * T * R, rng);
  const y = x.slice();
  K.rope_forward(y, B, T, NH, NKV, HS, theta, pos0);
  for (let t = 0; t < T; t++)
    for (let h = 0; h < NH + 2 * NKV; h++)
      for (let e = 0; e < HS; e++) {
        const o = t * R + h * HS;
        if (h >= NH + NKV) {
          assert.equal(y[o + e], x[o + e]);
          continue;
        }
        const i = e % (HS / 2);
        const ang = (pos0 + t) * Math.pow(theta, (-2 * i) / HS);
        const rot = e < HS / 2 ? -x[o + e + HS / 2]! : x[o + e - HS / 2]!;
        assert.ok(Math.abs(y[o + e]! - (x[o + e]! * Math.cos(ang) + rot * Math.sin(ang))) < 1e-6);
      }
  K.rope_backward(y, B, T, NH, NKV, HS, theta, pos0);
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(y[i]! - x[i]!) < 1e-6);
});

test('crossentropy: stable for huge logits, ignores negative targets, backward may alias probs', () => {
  const N = 3, V = 4;
  const logits = Float32Array.from([1000, 0, -1000, 999, 1, 2, 3, 4, 0, 0, 0, 0]);
  const targets = Int32Array.from([3, -1, 1]);
  const losses = new Float32Array(N);
  const probs = new Float32Array(N * V);
  K.crossentropy_softmax_forward(losses, probs, logits, targets, N, V);
  assert.ok(Math.abs(losses[0]! - (1 + Math.log(1 + Math.exp(-1) + Math.exp(-1000) + Math.exp(-1999)))) < 1e-5);
  assert.equal(losses[1], 0);
  assert.ok(Math.abs(losses[2]! - Math.log(4)) < 1e-6);
  const expected = probs.slice();
  K.crossentropy_softmax_backward(probs, probs, targets, 0.5, N, V); // aliasing
  for (let v = 0; v < V; v++) {
    assert.ok(Math.abs(probs[v]! - 0.5 * (expected[v]! - (v === 3 ? 1 : 0))) < 1e-7);
    assert.equal(probs[V + v], 0);
  }
  // probs may alias logits in the forward
  const l2 = Float32Array.from([1, 2, 3, 4]);
  const loss2 = new Float32Array(1);
  K.crossentropy_softmax_forward(loss2, l2, l2, Int32Array.from([2]), 1, 4);
  assert.ok(Math.abs(loss2[0]! - (Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(4)) - 3)) < 1e-6);
  assert.ok(Math.abs(l2.reduce((a, b) => a + b, 0) - 1) < 1e-6);
});

test('adamw matches PyTorch AdamW step by step; sumsq and scale', () => {
  const p = Float32Array.from([0.5, -1, 2]);
  const g = Float32Array.from([0.1, -0.2, 0.3]);
  const m = new Float32Array(3);
  const v = new Float32Array(3);
  const ref = { p: [0.5, -1, 2], m: [0, 0, 0], v: [0, 0, 0] };
  const lr = 0.01, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1;
  for (let t = 1; t <= 3; t++) {
    K.adamw_update(p, g, m, v, 3, lr, b1, b2, eps, wd, t);
    for (let i = 0; i < 3; i++) {
      ref.p[i] = ref.p[i]! * (1 - lr * wd);
      ref.m[i] = b1 * ref.m[i]! + (1 - b1) * g[i]!;
      ref.v[i] = b2 * ref.v[i]! + (1 - b2) * g[i]! ** 2;
      ref.p[i] = ref.p[i]! - (lr * (ref.m[i]! / (1 - b1 ** t))) / (Math.sqrt(ref.v[i]! / (1 - b2 ** t)) + eps);
      assert.ok(Math.abs(p[i]! - ref.p[i]!) < 1e-6);
    }
  }
  assert.ok(Math.abs(K.sumsq(g, 3) - (0.01 + 0.04 + 0.09)) < 1e-7);
  K.scale(g, 2, 10);
  assert.ok(Math.abs(g[0]! - 1) < 1e-6 && Math.abs(g[1]! + 2) < 1e-6 && Math.abs(g[2]! - 0.3) < 1e-7);
});

test('backward kernels add into gradients (+= rule), forward kernels assign', () => {
  const rng = new Rng(6);
  const N = 3, C = 4, OC = 5;
  const inp = rand(N * C, rng), w = rand(OC * C, rng), dout = rand(N * OC, rng);
  const di = new Float32Array(N * C), dw = new Float32Array(OC * C), db = new Float32Array(OC);
  K.matmul_backward(di, dw, db, dout, inp, w, N, C, OC);
  const once = [di.slice(), dw.slice(), db.slice()];
  K.matmul_backward(di, dw, db, dout, inp, w, N, C, OC);
  [di, dw, db].forEach((a, k) => a.forEach((x, i) => assert.ok(Math.abs(x - 2 * once[k]![i]!) < 1e-5)));
  const out = new Float32Array(N * OC).fill(7);
  K.matmul_forward(out, inp, w, null, N, C, OC);
  const out2 = new Float32Array(N * OC);
  K.matmul_forward(out2, inp, w, null, N, C, OC);
  assert.deepEqual(out, out2);
  const be = createRefBackend();
  assert.equal(be.name, 'ref');
  assert.equal(be.alloc(3).length, 3);
  // every Kernels method exists on the reference backend
  for (const k of Object.keys(K.refKernels)) assert.equal(typeof (be as unknown as Record<string, unknown>)[k], 'function');
});
