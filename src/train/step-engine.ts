// What runs the training loop's optimizer steps: the engine's Model on a CPU backend (ref, WASM), or the
// GPU-resident GpuModel (parameters, gradients, AdamW moments and activations stay on the GPU; only the loss, the
// gradient norm and the parameters' sum of squares come back per step). Either way `host` is a Model whose buffers
// checkpoints export and samples run on: on the CPU it is the model being trained, on the GPU a copy that sync()
// refreshes from the device (the weights, and with the optimizer also the AdamW moments).
import type { Backend } from '../engine/backend.ts';
import type { Model } from '../engine/model.ts';
import type { OpenedGpu } from '../engine/webgpu/choose.ts';
import type { GpuModel, GpuStepOptions, GpuStepResult } from '../engine/webgpu/trainer.ts';
import type { TokenSplit } from '../data/shards.ts';
import { UserError } from '../util/errors.ts';
import { textBytes } from './bpb.ts';
import { Batch, validationLoss, validationLossAsync } from './batch.ts';
import type { DataOrder } from './data-order.ts';
import type { TrainSettings } from './settings.ts';

/** A step whose loss or gradient norm is not finite, or whose update made a weight non-finite: the run stops there. */
export class TrainingDiverged extends UserError {}

/** What an optimizer step reads besides the model: the batch loader, the training split and its order. */
export interface StepData {
  batch: Batch;
  split: TokenSplit;
  order: DataOrder;
  s: TrainSettings;
  /** UTF-8 bytes per token id, for the step's bits per byte. */
  byteTable: Uint32Array;
}

export interface StepOutcome {
  loss: number;
  gradNorm: number;
  textBytes: number;
}

export interface StepEngine {
  /** The backend's name for logs and the result: 'ref', 'wasm', 'webgpu'. */
  readonly name: string;
  /** Where it runs, for the banner: e.g. " x4" (threads) or " (NVIDIA H100 ... [nvidia, hardware])". */
  readonly where: string;
  /** The model checkpoints and samples read; current after sync(). */
  readonly host: Model;
  /**
   * One optimizer step (gradAccum micro-batches, clipping, AdamW). Throws TrainingDiverged when the loss or the
   * gradient norm is not finite, or the update made a weight non-finite; nothing of such a step is ever saved.
   */
  step(c: StepData, step: number, lr: number): Promise<StepOutcome>;
  /** Seconds per optimizer step: the faster of two forward+backward passes over the first batch after a warmup pass (no update). */
  measureStepSeconds(split: TokenSplit, B: number, T: number, accum: number): Promise<number>;
  /** validationLoss (batch.ts) of the current weights. */
  validationLoss(split: TokenSplit, B: number, T: number, batches: number): Promise<number | null>;
  /** Brings host's weights (and with `optimizer`, its AdamW moments) up to date; a no-op on the CPU. */
  sync(optimizer: boolean): Promise<void>;
  dispose(): void;
}

function adamw(s: TrainSettings, step: number, lr: number) {
  return { lr, beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay, t: step + 1, decayEmbeddings: s.decayEmbeddings };
}

function diverged(step: number, loss: number, gradNorm: number): TrainingDiverged {
  return new TrainingDiverged(`step ${step + 1}: the loss is ${loss} and the gradient norm ${gradNorm}`);
}

function weightsDiverged(step: number, p: Float32Array, loss: number, gradNorm: number): TrainingDiverged {
  const i = p.findIndex((x) => !Number.isFinite(x));
  return new TrainingDiverged(`step ${step + 1}: the update made ${i >= 0 ? `parameter ${i} ${p[i]}` : 'the weights overflow'} (loss ${loss}, gradient norm ${gradNorm})`);
}

/** The engine's Model on a CPU backend: trains `model` in place; dispose() disposes the backend. */
export function cpuStepEngine(model: Model, backend: Backend): StepEngine {
  return {
    name: backend.name,
    where: backend.threads > 1 ? ` x${backend.threads}` : '',
    host: model,
    step: async (c, step, lr) => trainStep(model, backend, c, step, lr),
    measureStepSeconds: async (split, B, T, accum) => measureStepSeconds(model, split, B, T, accum),
    validationLoss: async (split, B, T, batches) => validationLoss(model, split, B, T, batches),
    sync: async () => {},
    dispose: () => backend.dispose(),
  };
}

/**
 * One optimizer step, llm.c's five calls: per micro-batch load a batch, forward, backward; then clip and AdamW.
 * Throws TrainingDiverged before the update when the loss or the gradient norm is not finite, and after it when a
 * weight became non-finite, so non-finite weights are never checkpointed.
 */
function trainStep(model: Model, backend: Backend, c: StepData, step: number, lr: number): StepOutcome {
  const { batch, s } = c;
  model.zeroGrad();
  let lossSum = 0;
  let bytes = 0;
  for (let micro = 0; micro < s.gradAccum; micro++) {
    batch.fill(c.split, c.order.next(batch.B));
    lossSum += model.forward(batch.x, batch.y, batch.B, batch.T);
    bytes += textBytes(c.byteTable, batch.y);
    model.backward();
  }
  if (s.gradAccum > 1) backend.scale(model.grads, model.nParams, 1 / s.gradAccum);
  const gradNorm = s.gradClip > 0 ? model.clipGradNorm(s.gradClip) : model.gradNorm();
  const loss = lossSum / s.gradAccum;
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) throw diverged(step, loss, gradNorm);
  model.adamwStep(adamw(s, step, lr));
  // One sumsq kernel pass (SIMD, on the backend's threads) tells whether any weight is non-finite; the scan for which
  // one runs only then, so the every-step check stays off the main thread's hot path.
  if (!Number.isFinite(backend.sumsq(model.params, model.nParams))) throw weightsDiverged(step, model.params, loss, gradNorm);
  return { loss, gradNorm, textBytes: bytes };
}

function measureStepSeconds(model: Model, split: TokenSplit, B: number, T: number, accum: number): number {
  const batch = firstBatch(split, B, T);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    model.zeroGrad();
    model.forward(batch.x, batch.y, B, T);
    model.backward();
    if (i > 0) best = Math.min(best, (performance.now() - t0) / 1000);
  }
  model.zeroGrad();
  return best * accum;
}

function firstBatch(split: TokenSplit, B: number, T: number): Batch {
  const batch = new Batch(B, T);
  batch.fill(split, Array.from({ length: B }, (_, b) => Math.min(b * T, split.length - T - 1)));
  return batch;
}

/**
 * The GPU-resident trainer. `host` holds the starting weights (a fresh init, --init or a checkpoint) and, with
 * `optimizer`, the AdamW moments to resume from; both are uploaded once. Buffers are sized for batches of B x T.
 * dispose() frees the GPU buffers, the kernels (the device stays open for the process) and host's backend.
 */
export async function gpuStepEngine(host: Model, gpu: OpenedGpu, B: number, T: number, optimizer: boolean): Promise<StepEngine> {
  const { GpuModel } = await import('../engine/webgpu/trainer.ts');
  const model = GpuModel.create(host.cfg, gpu.kernels, { batch: B, seq: T, params: host.params });
  if (optimizer) {
    const { m, v } = host.optimizerState();
    model.loadOptimizerState(m, v);
  }
  return {
    name: 'webgpu',
    where: ` (${gpu.label})`,
    host,
    step: (c, step, lr) => gpuTrainStep(model, c, step, lr),
    measureStepSeconds: async (split, B, T, accum) => {
      const batch = firstBatch(split, B, T);
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        await model.accumulate(batch.x, batch.y, B, T, true);
        if (i > 0) best = Math.min(best, (performance.now() - t0) / 1000);
      }
      return best * accum;
    },
    validationLoss: (split, B, T, batches) => validationLossAsync((x, y, rows, T) => model.loss(x, y, rows, T), split, B, T, batches),
    sync: async (optimizer) => {
      host.params.set(await model.read('params'));
      if (optimizer) {
        const { m, v } = host.optimizerState();
        m.set(await model.read('m'));
        v.set(await model.read('v'));
      }
    },
    dispose: () => {
      model.dispose();
      gpu.kernels.dispose();
      host.backend.dispose();
    },
  };
}

/**
 * trainStep on the GPU: one command buffer for a single batch (GpuModel.step), or one per micro-batch plus one for
 * the update with --grad-accum. The loop awaits each step's numbers before loading the next batch: simple, and
 * the read-back is a 16-byte copy, so the GPU idles only for the host's batch loading between steps. The update
 * runs on the GPU before the host sees the loss, so the divergence checks come after it; the run then stops
 * without saving, so non-finite weights are still never checkpointed.
 */
async function gpuTrainStep(model: GpuModel, c: StepData, step: number, lr: number): Promise<StepOutcome> {
  const { batch, s } = c;
  const o: GpuStepOptions = { ...adamw(s, step, lr), maxGradNorm: s.gradClip };
  let bytes = 0;
  let r: GpuStepResult;
  let loss: number;
  if (s.gradAccum === 1) {
    batch.fill(c.split, c.order.next(batch.B));
    bytes = textBytes(c.byteTable, batch.y);
    r = await model.step(batch.x, batch.y, batch.B, batch.T, o);
    loss = r.loss;
  } else {
    const losses: Array<Promise<number>> = [];
    for (let micro = 0; micro < s.gradAccum; micro++) {
      batch.fill(c.split, c.order.next(batch.B));
      bytes += textBytes(c.byteTable, batch.y);
      losses.push(model.accumulate(batch.x, batch.y, batch.B, batch.T, micro === 0));
    }
    r = await model.update(o, s.gradAccum);
    let lossSum = 0;
    for (const l of await Promise.all(losses)) lossSum += l;
    loss = lossSum / s.gradAccum;
  }
  if (!Number.isFinite(loss) || !Number.isFinite(r.gradNorm)) throw diverged(step, loss, r.gradNorm);
  if (!Number.isFinite(r.paramSumsq)) throw weightsDiverged(step, await model.read('params'), loss, r.gradNorm);
  return { loss, gradNorm: r.gradNorm, textBytes: bytes };
}
