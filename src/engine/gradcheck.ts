// Finite-difference gradient checks for every kernel backward and for whole models (all parameter tensors).
import type { Backend, F32, I32 } from './backend.ts';
import type { ModelConfig } from './config.ts';
import { numel } from './layout.ts';
import { Model } from './model.ts';
import { createRefBackend, refKernels } from './ref/index.ts';
import { Rng } from '../util/rng.ts';

/** One checked tensor: the worst relative error over its sampled coordinates. */
export interface GradcheckResult {
  name: string;
  maxRelErr: number;
  tol: number;
  checked: number;
  pass: boolean;
}

/** Arithmetic of a check: 'f32' runs the real Float32Array kernels; 'f64' runs the same reference code on doubles. */
export type Precision = 'f32' | 'f64';

/** Central-difference settings per precision: step and tolerance on the relative error. */
export const GRADCHECK_SETTINGS: Record<Precision, { eps: number; tol: number }> = {
  // float32: loss rounding ~1e-7 relative; eps 5e-3 balances cancellation error against curvature (~eps^2) error.
  f32: { eps: 5e-3, tol: 5e-2 },
  f64: { eps: 1e-5, tol: 1e-5 },
};

/**
 * The reference kernels computing on Float64Array storage (typed as F32: the kernels are plain JS over numbers, so
 * they run unchanged in double precision). Only for gradient checks of the math; not a production backend.
 */
export function createF64RefBackend(): Backend {
  return {
    ...refKernels,
    name: 'ref-f64',
    threads: 1,
    alloc: (n: number) => new Float64Array(n) as unknown as F32,
    allocI32: (n: number) => new Int32Array(n),
    dispose: () => {},
  };
}

/** Relative error with a floor: |a - n| / max(|a|, |n|, floor). */
export function relErr(analytic: number, numeric: number, floor: number): number {
  return Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), floor);
}

/**
 * Coordinates to check in a gradient: the `top` largest |g| plus `rand` random ones (all if the tensor is small).
 */
export function sampleCoords(grad: ArrayLike<number>, top: number, rand: number, rng: Rng): number[] {
  const n = grad.length;
  if (n <= top + rand) return Array.from({ length: n }, (_, i) => i);
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => Math.abs(grad[b]!) - Math.abs(grad[a]!));
  const out = new Set(idx.slice(0, top));
  while (out.size < top + rand) out.add(rng.int(n));
  return [...out];
}

/** Perturbs x[i] by ±eps and returns (f(+) - f(-)) / (actual step), restoring x[i]. */
function centralDiff(x: F32, i: number, eps: number, f: () => number): number {
  const x0 = x[i]!;
  x[i] = x0 + eps;
  const up = x[i]! - x0; // the step actually stored (float32 rounding)
  const fp = f();
  x[i] = x0 - eps;
  const down = x0 - x[i]!;
  const fm = f();
  x[i] = x0;
  return (fp - fm) / (up + down);
}

// ---------------------------------------------------------------------------------------------------------------
// Kernel checks: L = sum_i R_i * out_i (R fixed random), analytic grads from *_backward with dout = R.

interface KernelCase {
  name: string;
  /** Differentiable inputs, by gradient name. */
  inputs: Record<string, F32>;
  /** Runs the forward from the current inputs and returns the output whose weighted sum is the loss. */
  forward(): F32;
  /** Runs the backward with dout and returns the analytic gradients (same keys as inputs). */
  backward(dout: F32): Record<string, F32>;
  /** The loss weights R are all equal (crossentropy's scalar dloss). */
  uniformWeights?: number;
}

function randn(alloc: (n: number) => F32, n: number, rng: Rng, s = 1): F32 {
  const a = alloc(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * s;
  return a;
}

/** The kernel cases, built on a backend (ref or f64-ref, or any backend to check its kernels the same way). */
function kernelCases(k: Backend, rng: Rng): KernelCase[] {
  const A = (n: number) => k.alloc(n);
  const R = (n: number, s = 1) => randn(A, n, rng, s);
  const cases: KernelCase[] = [];
  {
    const B = 2, T = 3, C = 4, V = 5, maxT = 6;
    const inp = k.allocI32(B * T);
    [1, 4, 1, 0, 2, 4].forEach((v, i) => (inp[i] = v));
    const wte = R(V * C), wpe = R(maxT * C), out = A(B * T * C);
    cases.push({
      name: 'encoder',
      inputs: { wte, wpe },
      forward: () => (k.encoder_forward(out, inp, wte, wpe, B, T, C, 0), out),
      backward: (dout) => {
        const dwte = A(V * C), dwpe = A(maxT * C);
        k.encoder_backward(dwte, dwpe, dout, inp, B, T, C);
        return { wte: dwte, wpe: dwpe };
      },
    });
  }
  {
    const N = 3, C = 6;
    const inp = R(N * C, 2), w = R(C), b = R(C), out = A(N * C), mean = A(N), rstd = A(N);
    cases.push({
      name: 'layernorm',
      inputs: { inp, weight: w, bias: b },
      forward: () => (k.layernorm_forward(out, mean, rstd, inp, w, b, N, C, 1e-5), out),
      backward: (dout) => {
        k.layernorm_forward(out, mean, rstd, inp, w, b, N, C, 1e-5);
        const di = A(N * C), dw = A(C), db = A(C);
        k.layernorm_backward(di, dw, db, dout, inp, w, mean, rstd, N, C);
        return { inp: di, weight: dw, bias: db };
      },
    });
  }
  {
    const N = 3, C = 6;
    const inp = R(N * C, 2), w = R(C), out = A(N * C), rstd = A(N);
    cases.push({
      name: 'rmsnorm',
      inputs: { inp, weight: w },
      forward: () => (k.rmsnorm_forward(out, rstd, inp, w, N, C, 1e-5), out),
      backward: (dout) => {
        k.rmsnorm_forward(out, rstd, inp, w, N, C, 1e-5);
        const di = A(N * C), dw = A(C);
        k.rmsnorm_backward(di, dw, dout, inp, w, rstd, N, C);
        return { inp: di, weight: dw };
      },
    });
  }
  {
    const N = 4, C = 5, OC = 3;
    const inp = R(N * C), w = R(OC * C), b = R(OC), out = A(N * OC);
    cases.push({
      name: 'matmul',
      inputs: { inp, weight: w, bias: b },
      forward: () => (k.matmul_forward(out, inp, w, b, N, C, OC), out),
      backward: (dout) => {
        const di = A(N * C), dw = A(OC * C), db = A(OC);
        k.matmul_backward(di, dw, db, dout, inp, w, N, C, OC);
        return { inp: di, weight: dw, bias: db };
      },
    });
  }
  const attCase = (name: string, B: number, T: number, NH: number, NKV: number, HS: number, window: number, scale: number) => {
    const W = (NH + 2 * NKV) * HS;
    const qkv = R(B * T * W), out = A(B * T * NH * HS), att = A(B * NH * T * T);
    cases.push({
      name,
      inputs: { qkv },
      forward: () => (k.attention_forward(out, att, qkv, B, T, NH, NKV, HS, window, scale), out),
      backward: (dout) => {
        k.attention_forward(out, att, qkv, B, T, NH, NKV, HS, window, scale);
        const dq = A(B * T * W), datt = A(B * NH * T * T);
        k.attention_backward(dq, datt, dout, qkv, att, B, T, NH, NKV, HS, window, scale);
        return { qkv: dq };
      },
    });
  };
  attCase('attention (global, unscaled)', 2, 5, 2, 2, 3, 0, 1);
  attCase('attention (local window 2)', 1, 6, 2, 2, 3, 2, 1);
  attCase('attention (GQA 4:2, scaled)', 1, 5, 4, 2, 4, 0, 0.5);
  {
    const B = 2, T = 3, NH = 2, NKV = 1, HS = 4, W = (NH + 2 * NKV) * HS;
    const qkv = R(B * T * W), work = A(B * T * W);
    cases.push({
      name: 'rope',
      inputs: { qkv },
      forward: () => (work.set(qkv), k.rope_forward(work, B, T, NH, NKV, HS, 10000, 3), work),
      backward: (dout) => {
        const d = A(B * T * W);
        d.set(dout);
        k.rope_backward(d, B, T, NH, NKV, HS, 10000, 3);
        return { qkv: d };
      },
    });
  }
  {
    const N = 7;
    const inp = R(N, 2), out = A(N);
    cases.push({
      name: 'gelu',
      inputs: { inp },
      forward: () => (k.gelu_forward(out, inp, N), out),
      backward: (dout) => {
        const d = A(N);
        k.gelu_backward(d, inp, dout, N);
        return { inp: d };
      },
    });
  }
  {
    const N = 3, H = 4;
    const inp = R(N * 2 * H, 2), out = A(N * H);
    cases.push({
      name: 'swiglu',
      inputs: { inp },
      forward: () => (k.swiglu_forward(out, inp, N, H), out),
      backward: (dout) => {
        const d = A(N * 2 * H);
        k.swiglu_backward(d, inp, dout, N, H);
        return { inp: d };
      },
    });
  }
  {
    const N = 6;
    const a = R(N), b = R(N), out = A(N);
    cases.push({
      name: 'residual',
      inputs: { inp1: a, inp2: b },
      forward: () => (k.residual_forward(out, a, b, N), out),
      backward: (dout) => {
        const da = A(N), db = A(N);
        k.residual_backward(da, db, dout, N);
        return { inp1: da, inp2: db };
      },
    });
  }
  {
    const N = 4, V = 6, dloss = 0.25;
    const logits = R(N * V, 2), probs = A(N * V), losses = A(N);
    const targets: I32 = k.allocI32(N);
    [2, -1, 5, 0].forEach((v, i) => (targets[i] = v));
    cases.push({
      name: 'crossentropy_softmax',
      inputs: { logits },
      uniformWeights: dloss,
      forward: () => (k.crossentropy_softmax_forward(losses, probs, logits, targets, N, V), losses),
      backward: () => {
        k.crossentropy_softmax_forward(losses, probs, logits, targets, N, V);
        const d = A(N * V);
        k.crossentropy_softmax_backward(d, probs, targets, dloss, N, V);
        return { logits: d };
      },
    });
  }
  return cases;
}

/** Checks every kernel backward against central differences. Default: the reference kernels in `precision`. */
export function gradcheckKernels(precision: Precision = 'f32', backend?: Backend, seed = 7): GradcheckResult[] {
  const k = backend ?? (precision === 'f64' ? createF64RefBackend() : createRefBackend());
  const { eps, tol } = GRADCHECK_SETTINGS[precision];
  const rng = new Rng(seed);
  const results: GradcheckResult[] = [];
  for (const c of kernelCases(k, rng)) {
    const out0 = c.forward();
    const weights = k.alloc(out0.length);
    for (let i = 0; i < weights.length; i++) weights[i] = c.uniformWeights ?? rng.normal();
    const loss = () => {
      const o = c.forward();
      let s = 0;
      for (let i = 0; i < o.length; i++) s += weights[i]! * o[i]!;
      return s;
    };
    const grads = c.backward(weights);
    for (const [name, x] of Object.entries(c.inputs)) {
      const g = grads[name]!;
      let gmax = 0;
      for (let i = 0; i < g.length; i++) gmax = Math.max(gmax, Math.abs(g[i]!));
      let worst = 0;
      const coords = sampleCoords(g, 24, 24, rng);
      for (const i of coords) worst = Math.max(worst, relErr(g[i]!, centralDiff(x, i, eps, loss), 1e-2 * Math.max(gmax, 1e-8)));
      results.push({ name: `${c.name}: d${name}`, maxRelErr: worst, tol, checked: coords.length, pass: worst <= tol });
    }
  }
  return results;
}

// ---------------------------------------------------------------------------------------------------------------
// Whole-model checks.

/** Tiny configs that exercise every path: gpt-neo with a local window shorter than T, llama with GQA, untied head. */
export const GRADCHECK_CONFIGS: Record<'gpt-neo' | 'llama', ModelConfig> = {
  'gpt-neo': { arch: 'gpt-neo', vocabSize: 11, maxSeqLen: 8, dim: 8, nLayers: 2, nHeads: 2, windowSize: 3, intermediateSize: 12 },
  llama: { arch: 'llama', vocabSize: 11, maxSeqLen: 8, dim: 8, nLayers: 2, nHeads: 4, nKvHeads: 2, hiddenDim: 12, tiedEmbeddings: false },
};

/**
 * Checks d(mean loss)/d(param) for every parameter tensor of a tiny model on random tokens (B=2, T=maxSeqLen, one
 * ignored target). Init std 0.3 (not 0.02) so gradients are far above float32 rounding noise.
 */
export function gradcheckModel(config: ModelConfig, precision: Precision = 'f32', opts: { seed?: number; backend?: Backend; top?: number; rand?: number } = {}): GradcheckResult[] {
  const backend = opts.backend ?? (precision === 'f64' ? createF64RefBackend() : createRefBackend());
  const { eps, tol } = GRADCHECK_SETTINGS[precision];
  const seed = opts.seed ?? 3;
  const model = new Model(config, backend, { seed, init: { std: 0.3, scaleResidual: false } });
  // norm weights/biases start at 1/0: jitter them so their gradients are generic
  const rng = new Rng(seed + 1);
  let off = 0;
  for (const s of model.table) {
    const n = numel(s.shape);
    if (s.role === 'norm' || s.role === 'bias') for (let i = off; i < off + n; i++) model.params[i]! += 0.3 * rng.normal();
    off += n;
  }
  const B = 2;
  const T = model.cfg.maxSeqLen;
  const V = model.cfg.vocabSize;
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  for (let i = 0; i < B * T; i++) {
    x[i] = rng.int(V);
    y[i] = rng.int(V);
  }
  y[3] = -1;
  model.zeroGrad();
  model.forward(x, y, B, T);
  model.backward();
  const results: GradcheckResult[] = [];
  off = 0;
  for (const s of model.table) {
    const n = numel(s.shape);
    const x0 = model.params.subarray(off, off + n);
    const g = model.grads.subarray(off, off + n);
    let gmax = 0;
    for (let i = 0; i < n; i++) gmax = Math.max(gmax, Math.abs(g[i]!));
    const coords = sampleCoords(g, opts.top ?? 6, opts.rand ?? 6, rng);
    let worst = 0;
    for (const i of coords) {
      const num = centralDiff(x0, i, eps, () => model.forward(x, y, B, T));
      worst = Math.max(worst, relErr(g[i]!, num, 1e-2 * Math.max(gmax, 1e-8)));
    }
    results.push({ name: s.name, maxRelErr: worst, tol, checked: coords.length, pass: worst <= tol });
    off += n;
  }
  return results;
}

/** A fixed-width table of results, one line per tensor. */
export function formatGradcheck(title: string, results: GradcheckResult[]): string {
  const w = Math.max(title.length, ...results.map((r) => r.name.length));
  const lines = [`${title.padEnd(w)}  max rel err   tol       n   ok`];
  for (const r of results) lines.push(`${r.name.padEnd(w)}  ${r.maxRelErr.toExponential(2).padStart(9)}   ${r.tol.toExponential(0).padEnd(6)} ${String(r.checked).padStart(4)}   ${r.pass ? 'ok' : 'FAIL'}`);
  return lines.join('\n');
}


/**
 * Compares a backend's whole-model loss and gradients with the reference backend's on the gradcheck batch
 * (same init and tokens as gradcheckModel): one result per model, the worst |g - g_ref| / max|g_ref|.
 */
export function compareModelWithRef(config: ModelConfig, backend: Backend, opts: { seed?: number; tol?: number } = {}): GradcheckResult {
  const seed = opts.seed ?? 3;
  const tol = opts.tol ?? 1e-4;
  const run = (be: Backend) => {
    const model = new Model(config, be, { seed, init: { std: 0.3, scaleResidual: false } });
    const rng = new Rng(seed + 1);
    const B = 2;
    const T = model.cfg.maxSeqLen;
    const x = Int32Array.from({ length: B * T }, () => rng.int(model.cfg.vocabSize));
    const y = Int32Array.from({ length: B * T }, () => rng.int(model.cfg.vocabSize));
    y[3] = -1;
    model.zeroGrad();
    const loss = model.forward(x, y, B, T);
    model.backward();
    return { loss, grads: Float32Array.from(model.grads) };
  };
  const want = run(createRefBackend());
  const got = run(backend);
  let scale = 0;
  let diff = Math.abs(got.loss - want.loss) / Math.max(1, Math.abs(want.loss));
  for (let i = 0; i < want.grads.length; i++) scale = Math.max(scale, Math.abs(want.grads[i]!));
  for (let i = 0; i < want.grads.length; i++) diff = Math.max(diff, Math.abs(got.grads[i]! - want.grads[i]!) / Math.max(scale, 1e-30));
  return { name: `loss and all gradients vs the reference backend`, maxRelErr: diff, tol, checked: want.grads.length + 1, pass: diff <= tol };
}
