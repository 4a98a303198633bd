// The shared kernel conformance suite: runs every kernel of backend.ts on a backend and on the TypeScript
// reference (src/engine/ref) with the same random inputs of awkward sizes, and compares with explicit tolerances.
// A backend's test calls `runConformance('name', () => makeBackend())` (see wasm-conformance.test.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, F32, I32 } from '../../src/engine/backend.ts';
import { refKernels } from '../../src/engine/ref/index.ts';
import { Rng } from '../../src/util/rng.ts';

/** Per-kernel tolerance: |got - want| <= atol + rtol * |want| elementwise. */
interface Tol {
  atol: number;
  rtol: number;
}
// float32 kernels that reorder sums (blocked matmul, SIMD lanes) differ from the float64-accumulating reference by
// a few ulps per term; exp/tanh are polynomial approximations (~1e-7 relative).
const TOL = {
  encoder: { atol: 0, rtol: 0 },
  norm: { atol: 2e-5, rtol: 1e-5 },
  matmul: { atol: 1e-5, rtol: 1e-5 }, // scaled by sqrt(K) below
  attention: { atol: 2e-5, rtol: 1e-4 },
  rope: { atol: 1e-6, rtol: 1e-6 },
  pointwise: { atol: 1e-6, rtol: 1e-5 },
  residual: { atol: 0, rtol: 0 },
  loss: { atol: 1e-6, rtol: 1e-5 },
  adamw: { atol: 1e-6, rtol: 1e-5 },
  sumsq: { atol: 0, rtol: 1e-6 },
} satisfies Record<string, Tol>;

function close(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    const excess = Math.abs(g - w) - (tol.atol + tol.rtol * Math.abs(w));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(`${what}: element ${worst} is ${got[worst]} but the reference gives ${want[worst]} (atol ${tol.atol}, rtol ${tol.rtol})`);
  }
}

/** Registers the conformance tests for the backend made by makeBackend (created once, disposed after). */
export function runConformance(name: string, makeBackend: () => Backend | Promise<Backend>): void {
  describe(`kernel conformance: ${name}`, () => {
    let be: Backend;
    // CONFORMANCE_SEED=n reruns the suite on other random inputs (a cheap fuzz)
    const rng = new Rng(Number(process.env.CONFORMANCE_SEED ?? 20261126));
    before(async () => {
      be = await makeBackend();
    });
    after(() => be?.dispose());

    /** A backend buffer of n uniform values in [-s, s], and a plain copy for the reference. */
    const rand = (n: number, s = 1): [F32, Float32Array] => {
      const x = be.alloc(n);
      for (let i = 0; i < n; i++) x[i] = (2 * rng.next() - 1) * s;
      return [x, Float32Array.from(x)];
    };
    const ints = (n: number, hi: number): [I32, Int32Array] => {
      const x = be.allocI32(n);
      for (let i = 0; i < n; i++) x[i] = rng.int(hi);
      return [x, Int32Array.from(x)];
    };
    const zeros = (n: number): [F32, Float32Array] => [be.alloc(n), new Float32Array(n)];

    it('encoder_forward / encoder_backward (repeated tokens, pos0, with and without wpe)', () => {
      for (const [B, T, C, V, pos0, withPe] of [[3, 5, 13, 4, 2, true], [1, 1, 1, 1, 0, true], [2, 7, 9, 3, 0, false]] as const) {
        const [inp, inpR] = ints(B * T, V);
        const [wte, wteR] = rand(V * C);
        const [wpe, wpeR] = rand((pos0 + T) * C);
        const [out, outR] = zeros(B * T * C);
        be.encoder_forward(out, inp, wte, withPe ? wpe : null, B, T, C, pos0);
        refKernels.encoder_forward(outR, inpR, wteR, withPe ? wpeR : null, B, T, C, pos0);
        close(`encoder_forward B${B} T${T} C${C}`, out, outR, TOL.encoder);
        const [dout, doutR] = rand(B * T * C);
        const [dwte, dwteR] = rand(V * C); // pre-filled: backward must add
        const [dwpe, dwpeR] = rand(T * C);
        be.encoder_backward(dwte, withPe ? dwpe : null, dout, inp, B, T, C);
        refKernels.encoder_backward(dwteR, withPe ? dwpeR : null, doutR, inpR, B, T, C);
        close('encoder_backward dwte', dwte, dwteR, { atol: 1e-6, rtol: 1e-6 });
        close('encoder_backward dwpe', dwpe, dwpeR, { atol: 1e-6, rtol: 1e-6 });
      }
    });

    it('layernorm_forward / layernorm_backward (C not a multiple of 4, N=1)', () => {
      for (const [N, C] of [[7, 13], [1, 256], [5, 3], [9, 67]] as const) {
        const [inp, inpR] = rand(N * C, 2);
        const [w, wR] = rand(C);
        const [b, bR] = rand(C);
        const [out, outR] = zeros(N * C);
        const [mean, meanR] = zeros(N);
        const [rstd, rstdR] = zeros(N);
        be.layernorm_forward(out, mean, rstd, inp, w, b, N, C, 1e-5);
        refKernels.layernorm_forward(outR, meanR, rstdR, inpR, wR, bR, N, C, 1e-5);
        close(`layernorm_forward out N${N} C${C}`, out, outR, TOL.norm);
        close('layernorm_forward mean', mean, meanR, TOL.norm);
        close('layernorm_forward rstd', rstd, rstdR, TOL.norm);
        const [dout, doutR] = rand(N * C);
        const [dinp, dinpR] = rand(N * C);
        const [dw, dwR] = rand(C);
        const [db, dbR] = rand(C);
        be.layernorm_backward(dinp, dw, db, dout, inp, w, mean, rstd, N, C);
        refKernels.layernorm_backward(dinpR, dwR, dbR, doutR, inpR, wR, meanR, rstdR, N, C);
        close(`layernorm_backward dinp N${N} C${C}`, dinp, dinpR, TOL.norm);
        close('layernorm_backward dweight', dw, dwR, TOL.norm);
        close('layernorm_backward dbias', db, dbR, TOL.norm);
      }
    });

    it('rmsnorm_forward / rmsnorm_backward', () => {
      for (const [N, C] of [[7, 13], [1, 64], [3, 6]] as const) {
        const [inp, inpR] = rand(N * C, 2);
        const [w, wR] = rand(C);
        const [out, outR] = zeros(N * C);
        const [rstd, rstdR] = zeros(N);
        be.rmsnorm_forward(out, rstd, inp, w, N, C, 1e-5);
        refKernels.rmsnorm_forward(outR, rstdR, inpR, wR, N, C, 1e-5);
        close(`rmsnorm_forward out N${N} C${C}`, out, outR, TOL.norm);
        close('rmsnorm_forward rstd', rstd, rstdR, TOL.norm);
        const [dout, doutR] = rand(N * C);
        const [dinp, dinpR] = rand(N * C);
        const [dw, dwR] = rand(C);
        be.rmsnorm_backward(dinp, dw, dout, inp, w, rstd, N, C);
        refKernels.rmsnorm_backward(dinpR, dwR, doutR, inpR, wR, rstdR, N, C);
        close('rmsnorm_backward dinp', dinp, dinpR, TOL.norm);
        close('rmsnorm_backward dweight', dw, dwR, TOL.norm);
      }
    });

    it('matmul_forward / matmul_backward (edges of the 4x8 tile, K and N past one block, N=1, no bias)', () => {
      // [N, C, OC, bias]: C=300 crosses the 256-deep K block, OC=600 the 512-wide column block
      const shapes = [[1, 1, 1, true], [1, 37, 21, true], [2, 19, 8, false], [7, 13, 9, true], [37, 45, 29, false], [64, 300, 17, true], [5, 20, 600, true], [33, 8, 16, false]] as const;
      for (const [N, C, OC, withBias] of shapes) {
        const [inp, inpR] = rand(N * C);
        const [w, wR] = rand(OC * C);
        const [bias, biasR] = rand(OC);
        const [out, outR] = rand(N * OC); // garbage: forward assigns
        be.matmul_forward(out, inp, w, withBias ? bias : null, N, C, OC);
        refKernels.matmul_forward(outR, inpR, wR, withBias ? biasR : null, N, C, OC);
        const tf = { atol: TOL.matmul.atol * Math.sqrt(C), rtol: TOL.matmul.rtol };
        close(`matmul_forward N${N} C${C} OC${OC}`, out, outR, tf);
        const [dout, doutR] = rand(N * OC);
        const [dinp, dinpR] = rand(N * C);
        const [dw, dwR] = rand(OC * C);
        const [db, dbR] = rand(OC);
        be.matmul_backward(dinp, dw, withBias ? db : null, dout, inp, w, N, C, OC);
        refKernels.matmul_backward(dinpR, dwR, withBias ? dbR : null, doutR, inpR, wR, N, C, OC);
        close(`matmul_backward dinp N${N} C${C} OC${OC}`, dinp, dinpR, { atol: TOL.matmul.atol * Math.sqrt(OC), rtol: TOL.matmul.rtol });
        close(`matmul_backward dweight N${N} C${C} OC${OC}`, dw, dwR, { atol: TOL.matmul.atol * Math.sqrt(N), rtol: TOL.matmul.rtol });
        close(`matmul_backward dbias N${N} C${C} OC${OC}`, db, dbR, { atol: TOL.matmul.atol * Math.sqrt(N), rtol: TOL.matmul.rtol });
      }
      // either gradient may be skipped
      const [N, C, OC] = [9, 11, 10];
      const [inp, inpR] = rand(N * C);
      const [w, wR] = rand(OC * C);
      const [dout, doutR] = rand(N * OC);
      const [dw, dwR] = rand(OC * C);
      be.matmul_backward(null, dw, null, dout, inp, w, N, C, OC);
      refKernels.matmul_backward(null, dwR, null, doutR, inpR, wR, N, C, OC);
      close('matmul_backward dweight only', dw, dwR, TOL.matmul);
      const [dinp, dinpR] = rand(N * C);
      be.matmul_backward(dinp, null, null, dout, inp, w, N, C, OC);
      refKernels.matmul_backward(dinpR, null, null, doutR, inpR, wR, N, C, OC);
      close('matmul_backward dinp only', dinp, dinpR, TOL.matmul);
    });

    /** Forward (probabilities and output) and backward of attention on each [B, T, NH, NKV, HS, window, scale]. */
    const checkAttention = (cases: ReadonlyArray<readonly [number, number, number, number, number, number, number]>) => {
      for (const [B, T, NH, NKV, HS, window, scale] of cases) {
        const what = `B${B} T${T} NH${NH} NKV${NKV} HS${HS} window${window}`;
        const R = (NH + 2 * NKV) * HS;
        const [qkv, qkvR] = rand(B * T * R);
        const [out, outR] = rand(B * T * NH * HS);
        const [att, attR] = rand(B * NH * T * T);
        be.attention_forward(out, att, qkv, B, T, NH, NKV, HS, window, scale);
        refKernels.attention_forward(outR, attR, qkvR, B, T, NH, NKV, HS, window, scale);
        close(`attention_forward att ${what}`, att, attR, TOL.attention);
        close(`attention_forward out ${what}`, out, outR, TOL.attention);
        const [dout, doutR] = rand(B * T * NH * HS);
        const [dqkv, dqkvR] = rand(B * T * R);
        const [datt, dattR] = rand(B * NH * T * T);
        be.attention_backward(dqkv, datt, dout, qkv, att, B, T, NH, NKV, HS, window, scale);
        refKernels.attention_backward(dqkvR, dattR, doutR, qkvR, attR, B, T, NH, NKV, HS, window, scale);
        close(`attention_backward dqkv ${what}`, dqkv, dqkvR, TOL.attention);
      }
    };

    it('attention_forward / attention_backward (T=1, odd T and HS, GQA, local window, scale)', () => {
      checkAttention([
        [2, 7, 4, 2, 5, 0, 1 / Math.sqrt(5)],
        [1, 1, 2, 2, 8, 0, 1],
        [2, 19, 3, 1, 12, 5, 1],
        [1, 33, 2, 2, 32, 0, 1],
        [3, 13, 6, 3, 4, 8, 0.5],
        [1, 40, 1, 1, 16, 1, 1],
      ]);
    });

    it('attention_decode_forward (first position, GQA, window)', () => {
      for (const [t, NH, NKV, HS, window, scale] of [[6, 4, 2, 5, 0, 0.4], [0, 2, 1, 8, 0, 1], [9, 3, 3, 7, 3, 1]] as const) {
        const R = (NH + 2 * NKV) * HS;
        const [qkv, qkvR] = rand((t + 1) * R);
        const [out, outR] = rand(NH * HS);
        const [att, attR] = rand(NH * (t + 1));
        be.attention_decode_forward(out, att, qkv, t, NH, NKV, HS, window, scale);
        refKernels.attention_decode_forward(outR, attR, qkvR, t, NH, NKV, HS, window, scale);
        close(`attention_decode_forward att t${t}`, att, attR, TOL.attention);
        close(`attention_decode_forward out t${t}`, out, outR, TOL.attention);
      }
    });

    it('rope_forward / rope_backward', () => {
      const [B, T, NH, NKV, HS] = [2, 5, 4, 2, 6];
      const R = (NH + 2 * NKV) * HS;
      const [x, xR] = rand(B * T * R);
      be.rope_forward(x, B, T, NH, NKV, HS, 10000, 3);
      refKernels.rope_forward(xR, B, T, NH, NKV, HS, 10000, 3);
      close('rope_forward', x, xR, TOL.rope);
      be.rope_backward(x, B, T, NH, NKV, HS, 10000, 3);
      refKernels.rope_backward(xR, B, T, NH, NKV, HS, 10000, 3);
      close('rope_backward', x, xR, TOL.rope);
    });

    it('gelu / swiglu / residual (N=1 and odd N)', () => {
      for (const N of [1, 37, 1024]) {
        const [inp, inpR] = rand(N, 6);
        const [out, outR] = zeros(N);
        be.gelu_forward(out, inp, N);
        refKernels.gelu_forward(outR, inpR, N);
        close(`gelu_forward N${N}`, out, outR, TOL.pointwise);
        const [dout, doutR] = rand(N);
        const [dinp, dinpR] = rand(N);
        be.gelu_backward(dinp, inp, dout, N);
        refKernels.gelu_backward(dinpR, inpR, doutR, N);
        close(`gelu_backward N${N}`, dinp, dinpR, TOL.pointwise);
        const [a, aR] = rand(N);
        const [r, rR] = zeros(N);
        be.residual_forward(r, inp, a, N);
        refKernels.residual_forward(rR, inpR, aR, N);
        close(`residual_forward N${N}`, r, rR, TOL.residual);
        const [d1, d1R] = rand(N);
        const [d2, d2R] = rand(N);
        be.residual_backward(d1, d2, dout, N);
        refKernels.residual_backward(d1R, d2R, doutR, N);
        close(`residual_backward dinp1 N${N}`, d1, d1R, TOL.residual);
        close(`residual_backward dinp2 N${N}`, d2, d2R, TOL.residual);
      }
      for (const [N, H] of [[1, 1], [5, 7], [3, 16]] as const) {
        const [inp, inpR] = rand(N * 2 * H, 5);
        const [out, outR] = zeros(N * H);
        be.swiglu_forward(out, inp, N, H);
        refKernels.swiglu_forward(outR, inpR, N, H);
        close(`swiglu_forward N${N} H${H}`, out, outR, TOL.pointwise);
        const [dout, doutR] = rand(N * H);
        const [dinp, dinpR] = rand(N * 2 * H);
        be.swiglu_backward(dinp, inp, dout, N, H);
        refKernels.swiglu_backward(dinpR, inpR, doutR, N, H);
        close(`swiglu_backward N${N} H${H}`, dinp, dinpR, TOL.pointwise);
      }
    });

    it('crossentropy_softmax forward / backward (ignored targets, probs aliasing logits)', () => {
      for (const [N, V, alias] of [[5, 37, false], [1, 1, false], [4, 4096, true], [3, 10, true]] as const) {
        const [logits, logitsR] = rand(N * V, 8);
        const [targets, targetsR] = ints(N, V);
        targets[N - 1] = -1;
        targetsR[N - 1] = -1;
        const [losses, lossesR] = zeros(N);
        const [p, pR] = alias ? [logits, logitsR] : zeros(N * V);
        be.crossentropy_softmax_forward(losses, p, logits, targets, N, V);
        refKernels.crossentropy_softmax_forward(lossesR, pR, logitsR, targetsR, N, V);
        close(`crossentropy_softmax_forward losses N${N} V${V}`, losses, lossesR, TOL.loss);
        close(`crossentropy_softmax_forward probs N${N} V${V}`, p, pR, TOL.loss);
        const [dl, dlR] = alias ? [p, pR] : rand(N * V);
        be.crossentropy_softmax_backward(dl, p, targets, 1 / N, N, V);
        refKernels.crossentropy_softmax_backward(dlR, pR, targetsR, 1 / N, N, V);
        close(`crossentropy_softmax_backward N${N} V${V}`, dl, dlR, TOL.loss);
      }
    });

    it('adamw_update / sumsq / scale', () => {
      for (const [n, t, wd] of [[37, 1, 0.1], [1, 5, 0], [1003, 12, 0.01]] as const) {
        const [p, pR] = rand(n);
        const [g, gR] = rand(n, 0.1);
        const [m, mR] = rand(n, 0.01);
        const [v, vR] = rand(n, 0.001);
        for (let i = 0; i < n; i++) vR[i] = v[i] = Math.abs(v[i]!);
        be.adamw_update(p, g, m, v, n, 1e-3, 0.9, 0.95, 1e-8, wd, t);
        refKernels.adamw_update(pR, gR, mR, vR, n, 1e-3, 0.9, 0.95, 1e-8, wd, t);
        close(`adamw params n${n}`, p, pR, TOL.adamw);
        close(`adamw m n${n}`, m, mR, TOL.adamw);
        close(`adamw v n${n}`, v, vR, TOL.adamw);
        const s = be.sumsq(g, n);
        close(`sumsq n${n}`, [s], [refKernels.sumsq(gR, n)], TOL.sumsq);
        be.scale(g, n, 0.37);
        refKernels.scale(gR, n, 0.37);
        close(`scale n${n}`, g, gR, { atol: 0, rtol: 2.5e-7 }); // f32 vs f64 multiplier: 1 ulp
      }
    });

    // last, so its random draws leave the other tests' inputs as they were
    it('attention past one 64-row GPU workgroup (tiles starting mid-sequence, a window across the boundary)', () => {
      checkAttention([[1, 100, 4, 2, 8, 70, 1 / Math.sqrt(8)]]);
    });
  });
}
