// The worker half of the synchronous WebGPU backend (sync.ts): owns the device, runs each contract call on the
// GPU (upload the touched ranges, dispatch, read back the outputs) and wakes the blocked caller through Atomics.
/// <reference types="@webgpu/types" />
import { parentPort } from 'node:worker_threads';
import { nodeDevice } from './node.ts';
import { GpuKernels, type GpuTensor } from './kernels.ts';
import { OUTPUTS, type WireArg, CTRL } from './sync-protocol.ts';

const port = parentPort!;
const sabs = new Map<number, SharedArrayBuffer>();
let ctrl: Int32Array;
let result: Float64Array;
let message: Uint8Array;
let k: GpuKernels;

function finish(status: number, text = ''): void {
  const bytes = new TextEncoder().encode(text).subarray(0, message.length);
  message.set(bytes);
  Atomics.store(ctrl, CTRL.LEN, bytes.length);
  Atomics.store(ctrl, CTRL.STATUS, status);
  Atomics.add(ctrl, CTRL.SEQ, 1);
  Atomics.notify(ctrl, CTRL.SEQ);
}

type Arg = GpuTensor | number | null;

/** Records one contract call on the GPU kernels; returns the tensor holding a scalar result (sumsq), if any. */
function encodeCall(name: string, args: Arg[], scalar: () => GpuTensor): GpuTensor | null {
  const t = (i: number) => args[i] as GpuTensor;
  const n = (i: number) => args[i] as number;
  if (name === 'adamw_update') {
    // (params, grads, m, v, n, lr, beta1, beta2, eps, weightDecay, t): bias corrections in float64 here
    const step = scalar();
    const [lr, b1, b2, tt] = [n(5), n(6), n(7), n(10)];
    k.write(step, Float32Array.of(lr, 1 - Math.pow(b1, tt), 1 - Math.pow(b2, tt), 1));
    k.adamw(t(0), t(1), t(2), t(3), step, n(4), b1, b2, n(8), n(9));
    return null;
  }
  if (name === 'sumsq') {
    const out = scalar();
    k.sum(out, t(0), n(1), true);
    return out;
  }
  const fn = (k as unknown as Record<string, (...a: Arg[]) => void>)[name];
  if (typeof fn !== 'function') throw new Error(`webgpu: no kernel ${name}`);
  fn.apply(k, args);
  return null;
}

async function call(name: string, wire: WireArg[]): Promise<void> {
  // one GPU buffer per shared allocation, covering the range the call's views touch (so aliasing views alias)
  const ranges = new Map<number, { lo: number; hi: number; buf?: GPUBuffer }>();
  for (const a of wire) {
    if (a && typeof a === 'object') {
      const r = ranges.get(a.id);
      if (r) {
        r.lo = Math.min(r.lo, a.off);
        r.hi = Math.max(r.hi, a.off + a.len);
      } else ranges.set(a.id, { lo: a.off, hi: a.off + a.len });
    }
  }
  for (const [id, r] of ranges) {
    r.buf = k.createBuffer(r.hi - r.lo);
    const src = new Float32Array(sabs.get(id)!, r.lo * 4, r.hi - r.lo).slice();
    k.write({ buf: r.buf, off: 0 }, src);
  }
  const args: Arg[] = wire.map((a) => (a && typeof a === 'object' ? { buf: ranges.get(a.id)!.buf!, off: a.off - ranges.get(a.id)!.lo } : a));
  const temps: GPUBuffer[] = [];
  const scalar = () => {
    const b = k.createBuffer(8);
    temps.push(b);
    return { buf: b, off: 0 };
  };
  const outs = OUTPUTS[name] ?? [];
  const touched = [...new Set(outs.map((i) => (wire[i] as { id: number } | null)?.id).filter((id): id is number => id !== undefined))];
  let got: Float32Array[];
  let readScalar: GpuTensor | null;
  k.device.pushErrorScope('validation');
  try {
    readScalar = encodeCall(name, args, scalar);
    const reads = touched.map((id) => ({ t: { buf: ranges.get(id)!.buf!, off: 0 }, n: ranges.get(id)!.hi - ranges.get(id)!.lo }));
    if (readScalar) reads.push({ t: readScalar, n: 1 });
    got = await k.read(reads);
  } finally {
    k.discard();
    const err = await k.device.popErrorScope();
    if (err) throw new Error(`webgpu ${name}: ${err.message}`);
  }
  touched.forEach((id, i) => {
    const r = ranges.get(id)!;
    const data = got[i]!;
    const dst = new Float32Array(sabs.get(id)!);
    // write back only the output views: an input view sharing the allocation keeps its bits untouched
    for (const oi of outs) {
      const a = wire[oi];
      if (a && typeof a === 'object' && a.id === id) dst.set(data.subarray(a.off - r.lo, a.off - r.lo + a.len), a.off);
    }
  });
  if (readScalar) result[0] = got[got.length - 1]![0]!;
  for (const r of ranges.values()) r.buf!.destroy();
  for (const b of temps) b.destroy();
}

port.on('message', (msg: { type: string; [k: string]: unknown }) => {
  if (msg.type === 'init') {
    const control = msg.control as SharedArrayBuffer;
    ctrl = new Int32Array(control, 0, 16);
    result = new Float64Array(control, 64, 1);
    message = new Uint8Array(control, 128);
    void nodeDevice().then((acq) => {
      if (!acq.ok) return port.postMessage({ error: acq.reason });
      k = new GpuKernels(acq.device);
      port.postMessage({ ready: true, summary: acq.summary });
    });
  } else if (msg.type === 'alloc') {
    sabs.set(msg.id as number, msg.sab as SharedArrayBuffer);
  } else if (msg.type === 'free') {
    sabs.delete(msg.id as number);
  } else if (msg.type === 'call') {
    call(msg.name as string, msg.args as WireArg[]).then(
      () => finish(0),
      (e: unknown) => finish(1, e instanceof Error ? e.message : String(e)),
    );
  }
});
