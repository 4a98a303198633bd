// Engine benchmarks on the WASM backend (Node): matmul GFLOP/s per shape and direction, and full training steps
// (forward + backward + AdamW) of a model with a per-kernel time breakdown. Used by `tinystories bench` and bench/.
import type { Backend } from '../backend.ts';
import { Model } from '../model.ts';
import type { ModelConfig, ResolvedConfig } from '../config.ts';
import { Rng } from '../../util/rng.ts';
import { createWasmBackend } from './node.ts';
import type { WasmBackend, WasmVariant } from './backend.ts';
import { instrumentBackend, type KernelTime } from './timing.ts';

/** fp32 FMA peak of the reference machine (2 vCPU Zen 4 at 3.6 GHz x 32 FLOP/cycle), from ../shared/MEASURED.md. */
export const NATIVE_PEAK_GFLOPS_PER_CORE = 116;

/** The matmul shapes of config R's step: (N, C, OC) with out (N,OC) = inp (N,C) @ W (OC,C)^T. */
export const MATMUL_SHAPES: ReadonlyArray<readonly [number, number, number]> = [
  [2048, 256, 768],
  [2048, 256, 1024],
  [2048, 1024, 256],
  [2048, 256, 4096],
  [64, 256, 256],
];

export interface MatmulResult {
  threads: number;
  N: number;
  C: number;
  OC: number;
  /** forward: out = inp @ W^T; dinp: dinp += dout @ W; dweight: dW += dout^T @ inp. */
  op: 'forward' | 'dinp' | 'dweight';
  ms: number;
  gflops: number;
}

export interface MatmulReport {
  backend: string;
  /** Measured f32x4 FMA loop on 1 and 2 threads: the ceiling of this wasm build (~58 per core with FMA). */
  wasmPeak: Record<number, number>;
  nativePeak: Record<number, number>;
  results: MatmulResult[];
}

function timeIt(f: () => void, minMs: number): number {
  f(); // warm
  let reps = 0;
  const t0 = performance.now();
  let t = t0;
  do {
    f();
    reps++;
    t = performance.now();
  } while (t - t0 < minMs);
  return (t - t0) / reps;
}

/** Times every shape and direction on 1..maxThreads threads. */
export async function benchMatmul(opts: { threads?: number[]; variant?: WasmVariant; minMs?: number; shapes?: ReadonlyArray<readonly [number, number, number]> } = {}): Promise<MatmulReport> {
  const threadCounts = opts.threads ?? [1, 2];
  const minMs = opts.minMs ?? 300;
  const results: MatmulResult[] = [];
  const wasmPeak: Record<number, number> = {};
  const nativePeak: Record<number, number> = {};
  let name = '';
  for (const threads of threadCounts) {
    const be = await createWasmBackend({ threads, variant: opts.variant });
    try {
      name = be.name;
      wasmPeak[threads] = be.peakGflops(threads);
      nativePeak[threads] = NATIVE_PEAK_GFLOPS_PER_CORE * threads;
      for (const [N, C, OC] of opts.shapes ?? MATMUL_SHAPES) {
        const inp = fill(be.alloc(N * C)), w = fill(be.alloc(OC * C)), out = be.alloc(N * OC);
        const dout = fill(be.alloc(N * OC)), dinp = be.alloc(N * C), dw = be.alloc(OC * C);
        const flops = 2 * N * C * OC;
        const ops: Array<[MatmulResult['op'], () => void]> = [
          ['forward', () => be.matmul_forward(out, inp, w, null, N, C, OC)],
          ['dinp', () => be.matmul_backward(dinp, null, null, dout, inp, w, N, C, OC)],
          ['dweight', () => be.matmul_backward(null, dw, null, dout, inp, w, N, C, OC)],
        ];
        for (const [op, f] of ops) {
          const ms = timeIt(f, minMs);
          results.push({ threads, N, C, OC, op, ms, gflops: flops / (ms / 1000) / 1e9 });
        }
      }
    } finally {
      be.dispose();
    }
  }
  return { backend: name, wasmPeak, nativePeak, results };
}

function fill<T extends Float32Array>(x: T, seed = 7): T {
  const rng = new Rng(seed);
  for (let i = 0; i < x.length; i++) x[i] = rng.next() - 0.5;
  return x;
}

export interface StepReport {
  backend: string;
  threads: number;
  config: string;
  params: number;
  B: number;
  T: number;
  steps: number;
  ms_per_step: number;
  tokens_per_s: number;
  /** Model FLOPs per step: 6 x (params without position embeddings) x tokens + attention 12 x L x C x T x tokens. */
  flops_per_step: number;
  gflops: number;
  /** gflops / measured wasm FMA peak on these threads. */
  mfu: number;
  /** gflops / native fp32 peak (116 GFLOP/s per core). */
  mfu_native: number;
  wasm_peak_gflops: number;
  losses: number[];
  kernels: KernelTime[];
}

/** The random (inputs, targets) token pairs the step benchmarks train on (seed 42, drawn alternately). */
export function randomBatch(vocabSize: number, n: number): { x: Int32Array; y: Int32Array } {
  const rng = new Rng(42);
  const x = new Int32Array(n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = rng.int(vocabSize);
    y[i] = rng.int(vocabSize);
  }
  return { x, y };
}

/** A StepReport's size and throughput fields for steps of `ms` each on a B x T batch (flops as flops_per_step says). */
export function stepFigures(cfg: ResolvedConfig, nParams: number, B: number, T: number, steps: number, ms: number): Pick<StepReport, 'params' | 'B' | 'T' | 'steps' | 'ms_per_step' | 'tokens_per_s' | 'flops_per_step' | 'gflops'> {
  const wpe = cfg.arch === 'gpt-neo' ? cfg.maxSeqLen * cfg.dim : 0;
  const tokens = B * T;
  const flops = 6 * (nParams - wpe) * tokens + 12 * cfg.nLayers * cfg.dim * T * tokens;
  return { params: nParams, B, T, steps, ms_per_step: ms, tokens_per_s: tokens / (ms / 1000), flops_per_step: flops, gflops: flops / (ms / 1000) / 1e9 };
}

/** Runs `steps` real training steps (after one warm-up step) on random tokens and times them. */
export async function benchStep(opts: { config: ModelConfig; configName: string; B: number; T: number; threads: number; steps: number; variant?: WasmVariant; backend?: WasmBackend }): Promise<StepReport> {
  const own = !opts.backend;
  const be = opts.backend ?? (await createWasmBackend({ threads: opts.threads, variant: opts.variant }));
  try {
    const inst = instrumentBackend<Backend>(be);
    const model = new Model(opts.config, inst.backend, { seed: 1, batch: opts.B, seq: opts.T });
    const { B, T } = opts;
    const cfg = model.cfg;
    const { x, y } = randomBatch(cfg.vocabSize, B * T);
    const losses: number[] = [];
    const step = (t: number) => {
      model.zeroGrad();
      losses.push(model.forward(x, y, B, T));
      model.backward();
      model.adamwStep({ lr: 1e-3, weightDecay: 0.1, t });
    };
    step(1); // warm-up: activations and grads get allocated, code gets optimized
    const peakBefore = be.peakGflops(be.threads);
    inst.reset();
    const t0 = performance.now();
    for (let s = 0; s < opts.steps; s++) step(s + 2);
    const ms = (performance.now() - t0) / opts.steps;
    const peak = Math.max(peakBefore, be.peakGflops(be.threads));
    const figures = stepFigures(cfg, model.nParams, B, T, opts.steps, ms);
    const kernels = inst.times().map((k) => ({ kernel: k.kernel, ms: k.ms / opts.steps, calls: k.calls / opts.steps }));
    return {
      backend: be.name,
      threads: be.threads,
      config: opts.configName,
      ...figures,
      mfu: figures.gflops / peak,
      mfu_native: figures.gflops / (NATIVE_PEAK_GFLOPS_PER_CORE * be.threads),
      wasm_peak_gflops: peak,
      losses,
      kernels,
    };
  } finally {
    if (own) be.dispose();
  }
}

/** Human-readable lines for a matmul report. */
export function formatMatmul(r: MatmulReport): string[] {
  const lines = [`backend ${r.backend}`];
  for (const [t, p] of Object.entries(r.wasmPeak)) lines.push(`peak ${t} thread(s): wasm SIMD128 FMA loop ${p.toFixed(1)} GFLOP/s (measured), native fp32 ${r.nativePeak[Number(t)]} GFLOP/s (MEASURED.md)`);
  lines.push('threads  N     C     OC    op        ms       GFLOP/s  %wasm-peak  %native-peak');
  for (const x of r.results) {
    const pw = (100 * x.gflops) / r.wasmPeak[x.threads]!;
    const pn = (100 * x.gflops) / r.nativePeak[x.threads]!;
    lines.push(`${String(x.threads).padEnd(8)} ${String(x.N).padEnd(5)} ${String(x.C).padEnd(5)} ${String(x.OC).padEnd(5)} ${x.op.padEnd(9)} ${x.ms.toFixed(3).padStart(8)} ${x.gflops.toFixed(1).padStart(8)} ${pw.toFixed(0).padStart(10)}% ${pn.toFixed(0).padStart(11)}%`);
  }
  return lines;
}

/** Human-readable lines for a step report. */
export function formatStep(r: StepReport): string[] {
  const lines = [
    `${r.config}: ${(r.params / 1e6).toFixed(2)}M params, B=${r.B} T=${r.T}, ${r.backend} on ${r.threads} thread(s), ${r.steps} step(s)`,
    `${r.ms_per_step.toFixed(1)} ms/step  ${r.tokens_per_s.toFixed(0)} tokens/s  ${r.gflops.toFixed(1)} GFLOP/s (6*params*tokens + 12*L*C*T*tokens attention)`,
    `MFU ${(100 * r.mfu).toFixed(1)}% of the measured wasm FMA peak (${r.wasm_peak_gflops.toFixed(1)} GFLOP/s), ${(100 * r.mfu_native).toFixed(1)}% of the native fp32 peak (${NATIVE_PEAK_GFLOPS_PER_CORE * r.threads} GFLOP/s)`,
    `losses ${r.losses.map((l) => l.toFixed(4)).join(' ')}`,
    'kernel                          ms/step   calls/step  share',
  ];
  const total = r.kernels.reduce((s, k) => s + k.ms, 0);
  for (const k of r.kernels) lines.push(`${k.kernel.padEnd(31)} ${k.ms.toFixed(2).padStart(8)} ${String(Math.round(k.calls)).padStart(11)} ${((100 * k.ms) / r.ms_per_step).toFixed(1).padStart(6)}%`);
  lines.push(`${'(outside kernels)'.padEnd(31)} ${(r.ms_per_step - total).toFixed(2).padStart(8)} ${''.padStart(11)} ${((100 * (r.ms_per_step - total)) / r.ms_per_step).toFixed(1).padStart(6)}%`);
  return lines;
}

export interface SampleReport {
  backend: string;
  threads: number;
  config: string;
  params: number;
  tokens: number;
  prompt: number;
  prefill_ms: number;
  tokens_per_s: number;
}

/** Greedy single-stream generation with the KV cache (InferenceSession): tokens/s after an 8-token prompt. */
export async function benchSample(opts: { config: ModelConfig; configName: string; tokens: number; threads: number; variant?: WasmVariant }): Promise<SampleReport> {
  const { InferenceSession } = await import('../inference.ts');
  const be = await createWasmBackend({ threads: opts.threads, variant: opts.variant });
  try {
    const model = new Model(opts.config, be, { seed: 1 });
    const session = new InferenceSession(model);
    const prompt = [1, 2, 3, 4, 5, 6, 7, 8].map((t) => t % model.cfg.vocabSize);
    const argmax = (l: Float32Array) => {
      let best = 0;
      for (let i = 1; i < l.length; i++) if (l[i]! > l[best]!) best = i;
      return best;
    };
    // warm-up run, then the timed one
    let logits = session.prefill(prompt);
    for (let i = 0; i < 8; i++) logits = session.step(argmax(logits));
    session.reset();
    const t0 = performance.now();
    logits = session.prefill(prompt);
    const t1 = performance.now();
    for (let i = 0; i < opts.tokens; i++) logits = session.step(argmax(logits));
    const t2 = performance.now();
    return {
      backend: be.name,
      threads: be.threads,
      config: opts.configName,
      params: model.nParams,
      tokens: opts.tokens,
      prompt: prompt.length,
      prefill_ms: t1 - t0,
      tokens_per_s: opts.tokens / ((t2 - t1) / 1000),
    };
  } finally {
    be.dispose();
  }
}

/** Human-readable lines for a sampling report. */
export function formatSample(r: SampleReport): string[] {
  return [
    `${r.config}: ${(r.params / 1e6).toFixed(2)}M params, ${r.backend} on ${r.threads} thread(s)`,
    `prefill ${r.prompt} tokens ${r.prefill_ms.toFixed(1)} ms; generation ${r.tokens} tokens at ${r.tokens_per_s.toFixed(1)} tokens/s (KV cache, greedy)`,
  ];
}
