// The WebGPU kernels behind the synchronous Backend contract (Node): a worker owns the GPU device; each kernel call
// posts its arguments (views into SharedArrayBuffers this backend allocated), blocks in Atomics.wait, and finds the
// outputs written back. Every call uploads its inputs and reads its outputs, so this is the conformance/gradcheck
// path (the whole engine, unchanged, on GPU kernels); the fast path is the GPU-resident trainer (trainer.ts).
import { Worker } from 'node:worker_threads';
import type { Backend, F32, I32, Kernels } from '../backend.ts';
import { refKernels } from '../ref/index.ts';
import type { GpuAdapterSummary } from './device.ts';
import { CONTROL_BYTES, CTRL, type WireArg } from './sync-protocol.ts';

const workerUrl = new URL('./sync-worker.mjs', import.meta.url);

/** A Backend whose kernels run as WebGPU compute shaders, one blocking round trip per call. */
export interface WebGpuSyncBackend extends Backend {
  readonly adapter: GpuAdapterSummary;
}

const KERNEL_NAMES = Object.keys(refKernels) as Array<keyof Kernels>;

/**
 * Starts the worker and its device; rejects with the reason when there is no WebGPU adapter.
 * Example: `const be = await createWebGpuSyncBackend(); const m = new Model(cfg, be);`
 */
export async function createWebGpuSyncBackend(): Promise<WebGpuSyncBackend> {
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const ctrl = new Int32Array(control, 0, 16);
  const result = new Float64Array(control, 64, 1);
  const message = new Uint8Array(control, 128);
  const worker = new Worker(workerUrl, { execArgv: [] });
  worker.unref();
  let workerError: string | null = null;
  const summary = await new Promise<GpuAdapterSummary>((resolve, reject) => {
    worker.on('message', (m: { ready?: boolean; summary?: GpuAdapterSummary; error?: string }) => {
      if (m.ready) resolve(m.summary!);
      else if (m.error) reject(new Error(m.error));
    });
    worker.on('error', (e) => {
      workerError = e.message;
      reject(e);
    });
    worker.postMessage({ type: 'init', control });
  }).catch((e: unknown) => {
    void worker.terminate();
    throw e;
  });

  const ids = new WeakMap<ArrayBufferLike, number>();
  let nextId = 1;
  let disposed = false;
  const alloc = (n: number, make: (sab: SharedArrayBuffer) => F32 | I32) => {
    const sab = new SharedArrayBuffer(Math.max(4, n * 4));
    const id = nextId++;
    ids.set(sab, id);
    worker.postMessage({ type: 'alloc', id, sab });
    return make(sab).subarray(0, n);
  };
  const encode = (a: unknown): WireArg | undefined => {
    if (a === null || typeof a === 'number') return a;
    const v = a as F32 | I32;
    const id = ids.get(v.buffer);
    if (id === undefined) return undefined;
    return { id, off: v.byteOffset / 4, len: v.length };
  };
  const callGpu = (name: string, args: unknown[]): number => {
    if (disposed) throw new Error('webgpu backend: used after dispose()');
    if (workerError) throw new Error(`webgpu worker failed: ${workerError}`);
    const wire: WireArg[] = [];
    for (const a of args) {
      const w = encode(a);
      // a view this backend did not allocate: the contract says fall back to the reference
      if (w === undefined) return NaN;
      wire.push(w);
    }
    const seq = Atomics.load(ctrl, CTRL.SEQ);
    worker.postMessage({ type: 'call', name, args: wire });
    while (Atomics.load(ctrl, CTRL.SEQ) === seq) {
      Atomics.wait(ctrl, CTRL.SEQ, seq, 1000);
      if (workerError) throw new Error(`webgpu worker failed: ${workerError}`);
    }
    if (Atomics.load(ctrl, CTRL.STATUS) !== 0) {
      const text = new TextDecoder().decode(message.slice(0, Atomics.load(ctrl, CTRL.LEN)));
      throw new Error(text);
    }
    return result[0]!;
  };
  const kernels = {} as Record<string, (...args: unknown[]) => unknown>;
  for (const name of KERNEL_NAMES) {
    const ref = refKernels[name] as (...args: unknown[]) => unknown;
    kernels[name] = (...args: unknown[]) => {
      const r = callGpu(name, args);
      if (Number.isNaN(r) && args.some((a) => a !== null && typeof a === 'object' && !ids.has((a as F32).buffer))) return ref(...args);
      return name === 'sumsq' ? r : undefined;
    };
  }
  return {
    ...(kernels as unknown as Kernels),
    name: 'webgpu-sync',
    threads: 1,
    adapter: summary,
    alloc: (n: number) => alloc(n, (sab) => new Float32Array(sab)) as F32,
    allocI32: (n: number) => alloc(n, (sab) => new Int32Array(sab)) as I32,
    dispose: () => {
      if (disposed) return;
      disposed = true;
      void worker.terminate();
    },
  };
}
