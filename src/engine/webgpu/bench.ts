// `bench step --backend webgpu`: K training steps of the GPU-resident trainer on random tokens, reported in the
// WASM step report's shape (the fields a GPU cannot fill, the WASM peaks and per-kernel times, are null/empty).
import type { ModelConfig } from '../config.ts';
import { type StepReport, randomBatch, stepFigures } from '../wasm/bench.ts';
import { UserError } from '../../util/errors.ts';
import { adapterLabel } from './device.ts';
import { GpuKernels } from './kernels.ts';
import { nodeDevice } from './node.ts';
import { GpuModel } from './trainer.ts';

/** The WASM step report plus the adapter; mfu fields are NaN (printed as null in JSON): no GPU peak is known. */
export interface WebGpuStepReport extends StepReport {
  adapter: string;
  software_adapter: boolean;
}

/** Runs one warm-up step (pipeline compilation, recording) and then `steps` timed steps submitted back to back. */
export async function benchStepWebGpu(opts: { config: ModelConfig; configName: string; B: number; T: number; steps: number }): Promise<WebGpuStepReport> {
  const acq = await nodeDevice();
  if (!acq.ok) throw new UserError(`--backend webgpu: ${acq.reason}`);
  const k = new GpuKernels(acq.device);
  const { B, T } = opts;
  const model = GpuModel.create(opts.config, k, { batch: B, seq: T, seed: 1 });
  try {
    const cfg = model.cfg;
    const { x, y } = randomBatch(cfg.vocabSize, B * T);
    const o = { lr: 1e-3, weightDecay: 0.1 };
    const losses = [(await model.step(x, y, B, T, { ...o, t: 1 })).loss];
    const t0 = performance.now();
    const pending = [];
    for (let s = 0; s < opts.steps; s++) pending.push(model.step(x, y, B, T, { ...o, t: s + 2 }));
    for (const r of await Promise.all(pending)) losses.push(r.loss);
    const ms = (performance.now() - t0) / opts.steps;
    return {
      backend: 'webgpu',
      adapter: adapterLabel(acq.summary),
      software_adapter: acq.summary.software,
      threads: 1,
      config: opts.configName,
      ...stepFigures(cfg, model.nParams, B, T, opts.steps, ms),
      mfu: NaN,
      mfu_native: NaN,
      wasm_peak_gflops: NaN,
      losses,
      kernels: [],
    };
  } finally {
    model.dispose();
    k.dispose();
  }
}

/** Human-readable lines for a WebGPU step report. */
export function formatStepWebGpu(r: WebGpuStepReport): string[] {
  return [
    `${r.config}: ${(r.params / 1e6).toFixed(2)}M params, B=${r.B} T=${r.T}, webgpu on ${r.adapter}, ${r.steps} step(s)`,
    `${r.ms_per_step.toFixed(1)} ms/step  ${r.tokens_per_s.toFixed(0)} tokens/s  ${r.gflops.toFixed(1)} GFLOP/s (6*params*tokens + 12*L*C*T*tokens attention)`,
    r.software_adapter ? 'note: a CPU emulation of a GPU (e.g. lavapipe): these timings say nothing about GPU speed' : 'MFU: not computed (the adapter does not report its peak)',
    `losses ${r.losses.map((l) => l.toFixed(4)).join(' ')}`,
  ];
}

/** GFLOP/s of the WebGPU matmul kernel at (N, C) x (OC, C)^T, `reps` dispatches in one command buffer. */
export async function benchMatmulWebGpu(N: number, C: number, OC: number, reps: number): Promise<{ adapter: string; software: boolean; ms: number; gflops: number }> {
  const acq = await nodeDevice();
  if (!acq.ok) throw new UserError(`--backend webgpu: ${acq.reason}`);
  const k = new GpuKernels(acq.device);
  const t = (n: number) => ({ buf: k.createBuffer(n), off: 0 });
  const inp = t(N * C);
  const w = t(OC * C);
  const out = t(N * OC);
  try {
    k.fill(inp, N * C, 0.5);
    k.fill(w, OC * C, 0.25);
    k.matmul_forward(out, inp, w, null, N, C, OC); // warm-up: pipeline compilation
    await k.read([{ t: out, n: 1 }]);
    const prog = k.record(() => {
      for (let r = 0; r < reps; r++) k.matmul_forward(out, inp, w, null, N, C, OC);
    });
    const t0 = performance.now();
    const enc = acq.device.createCommandEncoder();
    k.programs.encode(enc, prog);
    acq.device.queue.submit([enc.finish()]);
    await acq.device.queue.onSubmittedWorkDone();
    const ms = (performance.now() - t0) / reps;
    k.programs.release(prog);
    return { adapter: adapterLabel(acq.summary), software: acq.summary.software, ms, gflops: (2 * N * C * OC) / (ms / 1000) / 1e9 };
  } finally {
    for (const x of [inp, w, out]) x.buf.destroy();
    k.dispose();
  }
}
