// Generation on the GPU (Node): the KV-cache GpuDecoder over a GPU copy of a loaded Model, for `sample`, the
// dashboard playground and eval generation. The weights are uploaded once per model and shared by its decoders.
import type { Backend } from '../engine/backend.ts';
import type { Model } from '../engine/model.ts';
import { type BackendKind, openBackend, openCpuBackend } from '../engine/open-backend.ts';
import { openGpuKernels } from '../engine/webgpu/choose.ts';
import { type DecodePrecision, GpuDecoder, HalfWeights, decodeFeatures } from '../engine/webgpu/decode.ts';
import type { GpuKernels } from '../engine/webgpu/kernels.ts';
import { GpuModel } from '../engine/webgpu/trainer.ts';
import { UserError } from '../util/errors.ts';

/** GPU decoders for loaded models on the process's WebGPU device. */
export interface GpuDecoding {
  /** The weights decoders read and how their sums run, e.g. "f16 weights, subgroup sums" (after the adapter when opened). */
  readonly label: string;
  /** 'f16' or 'f32': which weights the decoders read. */
  readonly precision: 'f16' | 'f32';
  /** A new decoder (its own KV cache) of a model; the model's GPU weights are made on first use. */
  decoder(model: Model): GpuDecoder;
  /** Frees a model's GPU weights and decoders. */
  release(model: Model): void;
  /** Frees everything. */
  dispose(): void;
}

/** The weights decoders read: 'f16', 'f32', or 'auto' (see choosePrecision). */
export type PrecisionChoice = DecodePrecision | 'auto';

/**
 * 'auto': f16 on a hardware adapter with shader-f16 (a decode step reads every weight, so half the bytes is what a
 * GPU's memory bandwidth pays for), else f32: a CPU emulation converts each half in software (lavapipe, a 4-layer
 * dim-384 model: 58 ms/token on f32 weights, 74 on f16). 'f16' without shader-f16 is a UserError.
 */
export function choosePrecision(choice: PrecisionChoice, device: GPUDevice, software: boolean): DecodePrecision {
  const f16 = decodeFeatures(device).f16;
  if (choice === 'f16' && !f16) throw new UserError("--gpu-precision=f16: this WebGPU adapter has no 'shader-f16' feature; use --gpu-precision=f32");
  if (choice === 'auto') return f16 && !software ? 'f16' : 'f32';
  return choice;
}

/**
 * Opens WebGPU for decoding ('webgpu': a UserError with the reason when there is no adapter; 'auto': null unless
 * the adapter is hardware, see choose.ts) and logs the adapter and the weights the decoders read.
 */
export async function openGpuDecoding(kind: 'webgpu' | 'auto', log: (line: string) => void, precision: PrecisionChoice = 'auto'): Promise<GpuDecoding | null> {
  const opened = await openGpuKernels(kind, log);
  if (!opened) return null;
  let d: GpuDecoding;
  try {
    d = gpuDecoding(opened.kernels, choosePrecision(precision, opened.kernels.device, opened.summary.software));
  } catch (e) {
    opened.kernels.dispose();
    throw e;
  }
  log(`webgpu decoding: ${d.label}`);
  return { ...d, label: `${opened.label}, ${d.label}` };
}

/** Decoders over `kernels` (tests build their own GpuKernels) reading `p` weights. */
export function gpuDecoding(kernels: GpuKernels, p: DecodePrecision): GpuDecoding {
  const feats = decodeFeatures(kernels.device);
  const models = new Map<Model, { gpu: GpuModel; half: HalfWeights | null; decoders: GpuDecoder[] }>();
  const entry = (model: Model) => {
    let e = models.get(model);
    if (!e) {
      // batch 1 x seq 1: the decoder keeps its own activations; only the weights are used
      const gpu = GpuModel.create(model.cfg, kernels, { batch: 1, seq: 1, params: model.params, inference: true });
      e = { gpu, half: p === 'f16' ? new HalfWeights(gpu) : null, decoders: [] };
      models.set(model, e);
    }
    return e;
  };
  const free = (model: Model) => {
    const e = models.get(model);
    if (!e) return;
    for (const d of e.decoders) d.dispose();
    e.half?.dispose();
    e.gpu.dispose();
    models.delete(model);
  };
  return {
    label: `${p} weights, ${feats.subgroups ? 'subgroup' : 'workgroup'} sums`,
    precision: p,
    decoder: (model) => {
      const e = entry(model);
      const d = new GpuDecoder(e.gpu, { precision: p, half: e.half ?? undefined });
      e.decoders.push(d);
      return d;
    },
    release: free,
    dispose: () => {
      for (const m of [...models.keys()]) free(m);
      kernels.dispose();
    },
  };
}

/** A backend's name, plus the GPU decoder's weights when generation runs there (float rounding differs between them). */
export function generationBackendName(backend: Backend, gpu: GpuDecoding | null): string {
  return gpu ? `${backend.name}+webgpu-decode-${gpu.precision}` : backend.name;
}

/**
 * What the eval commands and the dashboard run on: the Backend for their forward passes ('webgpu': the per-kernel
 * bridge; 'auto': WASM), and GPU decoding for their generation with 'webgpu' and with 'auto' on a hardware adapter.
 * `name` says both (reports record it; eval completions are keyed by it).
 */
export async function openBackendWithGpuDecoding(kind: BackendKind, threads: number, log: (line: string) => void, precision: PrecisionChoice = 'auto'): Promise<{ backend: Backend; gpu: GpuDecoding | null; name: string }> {
  const gpu = kind === 'webgpu' || kind === 'auto' ? await openGpuDecoding(kind, log, precision) : null;
  try {
    // auto has decided about WebGPU above (and said so); only 'webgpu' asks for the per-kernel bridge too
    const backend = kind === 'webgpu' ? await openBackend(kind, threads, log) : await openCpuBackend(kind, threads, log);
    return { backend, gpu, name: generationBackendName(backend, gpu) };
  } catch (e) {
    gpu?.dispose();
    throw e;
  }
}
