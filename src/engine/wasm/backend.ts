// The WebAssembly SIMD backend (platform-neutral core): a bump allocator on one shared WebAssembly.Memory, the
// kernels of assembly/ run on a WorkerPool, and the TypeScript reference for anything it does not accelerate
// (views outside its memory, rope, shapes beyond its scratch). Node specifics live in node.ts.
import type { Backend, F32, I32 } from '../backend.ts';
import { refKernels } from '../ref/index.ts';
import { WorkerPool, type KernelFn, type PoolWorker } from './pool.ts';

export type WasmVariant = 'relaxed' | 'simd';

/** What the core needs from its host (Node or a browser). */
export interface WasmPlatform {
  /** Best effort: lets the engine compile relaxed SIMD (a V8 flag on Node 20; a no-op where it is standard). */
  enableRelaxedSimd(): void;
  /** Optional: make the engine compile wasm to optimized code up front (a V8 flag on Node). */
  optimizeEagerly?(): void;
  /** The bytes of build/kernels-<variant>.wasm. */
  loadWasm(variant: WasmVariant): Promise<Uint8Array<ArrayBuffer>>;
  /** A new worker running worker.mjs. */
  spawnWorker(): PoolWorker;
  /** Whether the calling thread may block in Atomics.wait (false on a browser's main thread: it spins instead). */
  canBlock: boolean;
}

export interface WasmBackendOptions {
  /** Threads including the calling one (default 1): threads 2 = main + 1 worker. */
  threads?: number;
  /** 'relaxed' or 'simd'; by default relaxed when the runtime supports it, else simd. */
  variant?: WasmVariant;
  /** Initial memory in MiB (grows on demand). */
  initialMiB?: number;
  /** Kernels touching fewer elements than this run on the calling thread alone (default 65536; 0: always split). */
  soloBelow?: number;
}

// Kernel exports in the order the pool indexes them (worker.mjs receives the same list).
const NAMES = [
  'matmul_forward', 'matmul_forward_rows', 'matmul_backward_inp', 'matmul_backward_weight', 'bias_backward',
  'attention_forward', 'attention_backward', 'attention_decode_forward',
  'encoder_forward', 'encoder_backward', 'layernorm_forward', 'layernorm_backward',
  'rmsnorm_forward', 'rmsnorm_backward', 'gelu_forward', 'gelu_backward', 'swiglu_forward', 'swiglu_backward',
  'residual_forward', 'residual_backward', 'crossentropy_softmax_forward', 'crossentropy_softmax_backward',
  'adamw_update', 'sumsq', 'scale', 'peak_fma',
] as const;
type KernelName = (typeof NAMES)[number];
const K = Object.fromEntries(NAMES.map((n, i) => [n, i])) as Record<KernelName, number>;

const PAGE = 65536;
const SOLO_WORK = 1 << 16; // default soloBelow
const MAX_PAGES = 65536; // 4 GiB, wasm32's limit (2 GiB where a runtime refuses more)
const GUARD = 64; // bytes after each buffer: the matmul bias tile may read up to 7 floats past the end

/** Picks the variant: relaxed when requested or available, validated against this runtime. */
export async function pickVariant(platform: WasmPlatform, want?: WasmVariant): Promise<{ variant: WasmVariant; bytes: Uint8Array<ArrayBuffer>; reason?: string }> {
  if (want !== 'simd') {
    platform.enableRelaxedSimd();
    const bytes = await platform.loadWasm('relaxed');
    if (WebAssembly.validate(bytes)) return { variant: 'relaxed', bytes };
    if (want === 'relaxed') throw new Error('wasm backend: this runtime cannot compile relaxed SIMD (use variant "simd")');
    return { variant: 'simd', bytes: await platform.loadWasm('simd'), reason: 'relaxed SIMD not supported by this runtime' };
  }
  return { variant: 'simd', bytes: await platform.loadWasm('simd') };
}

/** Whether this runtime compiles the relaxed-SIMD build (after enabling it where a flag is needed). */
export async function relaxedSimdAvailable(platform: WasmPlatform): Promise<boolean> {
  platform.enableRelaxedSimd();
  return WebAssembly.validate(await platform.loadWasm('relaxed'));
}

/** The WASM backend. Create with createWasmBackend() (node.ts) or createWasmBackendOn(platform, opts). */
export class WasmBackend implements Backend {
  readonly name: string;
  readonly threads: number;
  readonly variant: WasmVariant;
  readonly memory: WebAssembly.Memory;
  private readonly pool: WorkerPool;
  private readonly buffers = new Set<ArrayBufferLike>();
  private top: number;
  private readonly sumsqOut: number;
  private readonly exports: Record<string, unknown>;
  private soloBelow = SOLO_WORK;
  private readonly packAFloats: number;
  private readonly packBFloats: number;

  private constructor(variant: WasmVariant, threads: number, memory: WebAssembly.Memory, pool: WorkerPool, top: number, sumsqOut: number, exports: Record<string, unknown>) {
    this.variant = variant;
    this.name = variant === 'relaxed' ? 'wasm-relaxed-simd' : 'wasm-simd';
    this.threads = threads;
    this.memory = memory;
    this.pool = pool;
    this.top = top;
    this.sumsqOut = sumsqOut;
    this.exports = exports;
    this.buffers.add(memory.buffer);
    this.packAFloats = (exports.pack_a_floats as () => number)();
    this.packBFloats = (exports.pack_b_floats as () => number)();
  }

  static async create(platform: WasmPlatform, opts: WasmBackendOptions = {}): Promise<WasmBackend> {
    const threads = Math.max(1, Math.floor(opts.threads ?? 1));
    const { variant, bytes } = await pickVariant(platform, opts.variant);
    platform.optimizeEagerly?.();
    const module = await WebAssembly.compile(bytes);
    const initialPages = Math.max(16, Math.ceil(((opts.initialMiB ?? 64) * 1024 * 1024) / PAGE));
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true });
    } catch {
      memory = new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES / 2, shared: true });
    }
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const ex = instance.exports as Record<string, unknown>;
    const heapBase = (ex.heap_base as () => number)();
    const scratchBytes = (ex.scratch_bytes as () => number)();
    let top = align(Math.max(heapBase, 1024));
    const scratch: number[] = [];
    for (let t = 0; t < threads; t++) {
      scratch.push(top);
      top = align(top + scratchBytes + GUARD);
    }
    const sumsqOut = top;
    top = align(top + 8 * threads + GUARD);
    ensurePages(memory, top);
    (ex.set_scratch as (p: number) => void)(scratch[0]!);
    const mainFns = NAMES.map((n) => ex[n] as KernelFn);
    const pool = await WorkerPool.start({ threads, module, memory, names: [...NAMES], mainFns, scratch, spawn: platform.spawnWorker, canWait: platform.canBlock });
    const be = new WasmBackend(variant, threads, memory, pool, top, sumsqOut, ex);
    be.soloBelow = opts.soloBelow ?? SOLO_WORK;
    return be;
  }

  // ---- memory

  private reserve(bytes: number): number {
    const off = this.top;
    this.top = align(off + bytes + GUARD);
    if (ensurePages(this.memory, this.top)) this.buffers.add(this.memory.buffer);
    return off;
  }

  alloc(n: number): F32 {
    const off = this.reserve(4 * n);
    return new Float32Array(this.memory.buffer, off, n);
  }

  allocI32(n: number): I32 {
    const off = this.reserve(4 * n);
    return new Int32Array(this.memory.buffer, off, n);
  }

  /** Bytes of wasm memory handed out so far. */
  get bytesAllocated(): number {
    return this.top;
  }

  /** Byte offset of a view in this backend's memory, or -1 when the view lives elsewhere. */
  private p(v: F32 | I32): number {
    return this.buffers.has(v.buffer) ? v.byteOffset : -1;
  }

  private call(fn: number, ...args: number[]): void {
    this.pool.run(fn, args, args.length);
  }

  /**
   * Runs a kernel on all threads, or on the calling thread alone when `work` (roughly, elements touched) is below
   * soloBelow: waking a worker costs tens of microseconds, more than such a kernel takes (decode steps, tiny shapes).
   */
  private go(fn: number, work: number, ...args: number[]): void {
    if (work < this.soloBelow) this.pool.runSolo(fn, args, args.length);
    else this.pool.run(fn, args, args.length);
  }

  dispose(): void {
    this.pool.dispose();
  }

  /**
   * Measured f32x4 FMA throughput in GFLOP/s on `threads` threads (a register-only loop: the ceiling any kernel
   * of this build can reach): the best of `reps` runs of `iters` iterations (~5 ms each), so a run that lost the
   * CPU to another process does not count.
   */
  peakGflops(threads: number, iters = 5_000_000, reps = 7): number {
    let best = 0;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      if (threads <= 1) (this.exports.peak_fma as (n: number) => number)(iters);
      else this.call(K.peak_fma, iters);
      const s = (performance.now() - t0) / 1000;
      best = Math.max(best, (Math.min(threads, this.threads) * iters * 64) / s / 1e9);
    }
    return best;
  }

  // ---- kernels

  encoder_forward(out: F32, inp: I32, wte: F32, wpe: F32 | null, B: number, T: number, C: number, pos0: number): void {
    const po = this.p(out), pi = this.p(inp), pw = this.p(wte), pp = wpe ? this.p(wpe) : 0;
    if (po < 0 || pi < 0 || pw < 0 || pp < 0) return refKernels.encoder_forward(out, inp, wte, wpe, B, T, C, pos0);
    this.go(K.encoder_forward, B * T * C, po, pi, pw, pp, B, T, C, pos0);
  }

  encoder_backward(dwte: F32, dwpe: F32 | null, dout: F32, inp: I32, B: number, T: number, C: number): void {
    const pw = this.p(dwte), pp = dwpe ? this.p(dwpe) : 0, pd = this.p(dout), pi = this.p(inp);
    if (pw < 0 || pp < 0 || pd < 0 || pi < 0) return refKernels.encoder_backward(dwte, dwpe, dout, inp, B, T, C);
    this.go(K.encoder_backward, B * T * C, pw, pp, pd, pi, B, T, C);
  }

  layernorm_forward(out: F32, mean: F32, rstd: F32, inp: F32, weight: F32, bias: F32, N: number, C: number, eps: number): void {
    const a = [this.p(out), this.p(mean), this.p(rstd), this.p(inp), this.p(weight), this.p(bias)];
    if (a.some((x) => x < 0)) return refKernels.layernorm_forward(out, mean, rstd, inp, weight, bias, N, C, eps);
    this.go(K.layernorm_forward, N * C, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, N, C, eps);
  }

  layernorm_backward(dinp: F32, dweight: F32, dbias: F32, dout: F32, inp: F32, weight: F32, mean: F32, rstd: F32, N: number, C: number): void {
    const a = [this.p(dinp), this.p(dweight), this.p(dbias), this.p(dout), this.p(inp), this.p(weight), this.p(mean), this.p(rstd)];
    if (a.some((x) => x < 0)) return refKernels.layernorm_backward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
    this.go(K.layernorm_backward, 2 * N * C, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, N, C);
  }

  rmsnorm_forward(out: F32, rstd: F32, inp: F32, weight: F32, N: number, C: number, eps: number): void {
    const a = [this.p(out), this.p(rstd), this.p(inp), this.p(weight)];
    if (a.some((x) => x < 0)) return refKernels.rmsnorm_forward(out, rstd, inp, weight, N, C, eps);
    this.go(K.rmsnorm_forward, N * C, a[0]!, a[1]!, a[2]!, a[3]!, N, C, eps);
  }

  rmsnorm_backward(dinp: F32, dweight: F32, dout: F32, inp: F32, weight: F32, rstd: F32, N: number, C: number): void {
    const a = [this.p(dinp), this.p(dweight), this.p(dout), this.p(inp), this.p(weight), this.p(rstd)];
    if (a.some((x) => x < 0)) return refKernels.rmsnorm_backward(dinp, dweight, dout, inp, weight, rstd, N, C);
    this.go(K.rmsnorm_backward, 2 * N * C, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, N, C);
  }

  matmul_forward(out: F32, inp: F32, weight: F32, bias: F32 | null, N: number, C: number, OC: number): void {
    const po = this.p(out), pi = this.p(inp), pw = this.p(weight), pb = bias ? this.p(bias) : 0;
    if (po < 0 || pi < 0 || pw < 0 || pb < 0) return refKernels.matmul_forward(out, inp, weight, bias, N, C, OC);
    if (N <= 2) return this.go(K.matmul_forward_rows, (N * C * OC) / 32, po, pi, pw, pb, N, C, OC);
    this.go(K.matmul_forward, (N * C * OC) / 32, po, pi, pw, pb, N, C, OC);
  }

  matmul_backward(dinp: F32 | null, dweight: F32 | null, dbias: F32 | null, dout: F32, inp: F32, weight: F32, N: number, C: number, OC: number): void {
    const pdi = dinp ? this.p(dinp) : 0, pdw = dweight ? this.p(dweight) : 0, pdb = dbias ? this.p(dbias) : 0;
    const pd = this.p(dout), pi = this.p(inp), pw = this.p(weight);
    if (pdi < 0 || pdw < 0 || pdb < 0 || pd < 0 || pi < 0 || pw < 0) return refKernels.matmul_backward(dinp, dweight, dbias, dout, inp, weight, N, C, OC);
    if (dinp) this.go(K.matmul_backward_inp, (N * C * OC) / 32, pdi, pd, pw, N, C, OC);
    if (dweight) this.go(K.matmul_backward_weight, (N * C * OC) / 32, pdw, pd, pi, N, C, OC);
    if (dbias) this.go(K.bias_backward, N * OC, pdb, pd, N, OC);
  }

  /** Whether the attention kernels' per-thread scratch holds a head of this size. */
  private attentionFits(T: number, HS: number): boolean {
    const r8 = (x: number) => Math.ceil(x / 8) * 8;
    // forward keeps K^T and V packed side by side in the B scratch
    return 4 * Math.max(T, HS) <= this.packAFloats && 2 * r8(T) * r8(HS) <= this.packBFloats;
  }

  attention_forward(out: F32, att: F32, qkv: F32, B: number, T: number, NH: number, NKV: number, HS: number, window: number, scale: number): void {
    const po = this.p(out), pa = this.p(att), pq = this.p(qkv);
    if (po < 0 || pa < 0 || pq < 0 || !this.attentionFits(T, HS)) return refKernels.attention_forward(out, att, qkv, B, T, NH, NKV, HS, window, scale);
    this.go(K.attention_forward, B * NKV > 1 ? (B * NH * T * T * HS) / 32 : 0, po, pa, pq, B, T, NH, NKV, HS, window, scale);
  }

  attention_backward(dqkv: F32, datt: F32, dout: F32, qkv: F32, att: F32, B: number, T: number, NH: number, NKV: number, HS: number, window: number, scale: number): void {
    const a = [this.p(dqkv), this.p(datt), this.p(dout), this.p(qkv), this.p(att)];
    if (a.some((x) => x < 0) || !this.attentionFits(T, HS)) return refKernels.attention_backward(dqkv, datt, dout, qkv, att, B, T, NH, NKV, HS, window, scale);
    this.go(K.attention_backward, B * NKV > 1 ? (B * NH * T * T * HS) / 16 : 0, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, B, T, NH, NKV, HS, window, scale);
  }

  attention_decode_forward(out: F32, att: F32, qkv: F32, t: number, NH: number, NKV: number, HS: number, window: number, scale: number): void {
    const po = this.p(out), pa = this.p(att), pq = this.p(qkv);
    if (po < 0 || pa < 0 || pq < 0) return refKernels.attention_decode_forward(out, att, qkv, t, NH, NKV, HS, window, scale);
    this.go(K.attention_decode_forward, (NH * (t + 1) * HS) / 4, po, pa, pq, t, NH, NKV, HS, window, scale);
  }

  // RoPE is O(N*C) with trig per pair; the reference is fast enough and works on any view.
  rope_forward(qkv: F32, B: number, T: number, NH: number, NKV: number, HS: number, theta: number, pos0: number): void {
    refKernels.rope_forward(qkv, B, T, NH, NKV, HS, theta, pos0);
  }

  rope_backward(dqkv: F32, B: number, T: number, NH: number, NKV: number, HS: number, theta: number, pos0: number): void {
    refKernels.rope_backward(dqkv, B, T, NH, NKV, HS, theta, pos0);
  }

  gelu_forward(out: F32, inp: F32, N: number): void {
    const po = this.p(out), pi = this.p(inp);
    if (po < 0 || pi < 0) return refKernels.gelu_forward(out, inp, N);
    this.go(K.gelu_forward, 4 * N, po, pi, N);
  }

  gelu_backward(dinp: F32, inp: F32, dout: F32, N: number): void {
    const a = this.p(dinp), b = this.p(inp), c = this.p(dout);
    if (a < 0 || b < 0 || c < 0) return refKernels.gelu_backward(dinp, inp, dout, N);
    this.go(K.gelu_backward, 4 * N, a, b, c, N);
  }

  swiglu_forward(out: F32, inp: F32, N: number, H: number): void {
    const po = this.p(out), pi = this.p(inp);
    if (po < 0 || pi < 0) return refKernels.swiglu_forward(out, inp, N, H);
    this.go(K.swiglu_forward, 4 * N * H, po, pi, N, H);
  }

  swiglu_backward(dinp: F32, inp: F32, dout: F32, N: number, H: number): void {
    const a = this.p(dinp), b = this.p(inp), c = this.p(dout);
    if (a < 0 || b < 0 || c < 0) return refKernels.swiglu_backward(dinp, inp, dout, N, H);
    this.go(K.swiglu_backward, 4 * N * H, a, b, c, N, H);
  }

  residual_forward(out: F32, inp1: F32, inp2: F32, N: number): void {
    const a = this.p(out), b = this.p(inp1), c = this.p(inp2);
    if (a < 0 || b < 0 || c < 0) return refKernels.residual_forward(out, inp1, inp2, N);
    this.go(K.residual_forward, N, a, b, c, N);
  }

  residual_backward(dinp1: F32, dinp2: F32, dout: F32, N: number): void {
    const a = this.p(dinp1), b = this.p(dinp2), c = this.p(dout);
    if (a < 0 || b < 0 || c < 0) return refKernels.residual_backward(dinp1, dinp2, dout, N);
    this.go(K.residual_backward, N, a, b, c, N);
  }

  crossentropy_softmax_forward(losses: F32, probs: F32, logits: F32, targets: I32, N: number, V: number): void {
    const a = this.p(losses), b = this.p(probs), c = this.p(logits), d = this.p(targets);
    if (a < 0 || b < 0 || c < 0 || d < 0) return refKernels.crossentropy_softmax_forward(losses, probs, logits, targets, N, V);
    this.go(K.crossentropy_softmax_forward, 4 * N * V, a, b, c, d, N, V);
  }

  crossentropy_softmax_backward(dlogits: F32, probs: F32, targets: I32, dloss: number, N: number, V: number): void {
    const a = this.p(dlogits), b = this.p(probs), c = this.p(targets);
    if (a < 0 || b < 0 || c < 0) return refKernels.crossentropy_softmax_backward(dlogits, probs, targets, dloss, N, V);
    this.go(K.crossentropy_softmax_backward, N * V, a, b, c, dloss, N, V);
  }

  adamw_update(params: F32, grads: F32, m: F32, v: F32, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, t: number): void {
    const a = this.p(params), b = this.p(grads), c = this.p(m), d = this.p(v);
    if (a < 0 || b < 0 || c < 0 || d < 0) return refKernels.adamw_update(params, grads, m, v, n, lr, beta1, beta2, eps, weightDecay, t);
    const lrc = lr / (1 - Math.pow(beta1, t));
    const rsbc2 = 1 / Math.sqrt(1 - Math.pow(beta2, t));
    this.go(K.adamw_update, 4 * n, a, b, c, d, n, lrc, beta1, beta2, eps, 1 - lr * weightDecay, rsbc2);
  }

  sumsq(x: F32, n: number): number {
    const px = this.p(x);
    if (px < 0) return refKernels.sumsq(x, n);
    const out = new Float64Array(this.memory.buffer, this.sumsqOut, this.threads);
    out.fill(0);
    this.go(K.sumsq, n, this.sumsqOut, px, n);
    let s = 0;
    for (let i = 0; i < this.threads; i++) s += out[i]!;
    return s;
  }

  scale(x: F32, n: number, s: number): void {
    const px = this.p(x);
    if (px < 0) return refKernels.scale(x, n, s);
    this.go(K.scale, n, px, n, s);
  }
}

function align(x: number): number {
  return Math.ceil(x / 16) * 16; // not bit ops: offsets may pass 2^31
}

/** Grows memory to hold `bytes`; returns true when it grew. */
function ensurePages(memory: WebAssembly.Memory, bytes: number): boolean {
  const have = memory.buffer.byteLength;
  if (bytes <= have) return false;
  const need = Math.ceil((bytes - have) / PAGE);
  const pages = have / PAGE;
  // grow geometrically so a model's many small allocations do not grow page by page
  const want = Math.min(MAX_PAGES - pages, Math.max(need, Math.ceil(pages / 4)));
  try {
    memory.grow(want);
  } catch {
    try {
      memory.grow(need);
    } catch {
      throw new Error(`wasm backend: out of memory: ${(((pages + need) * PAGE) / 2 ** 30).toFixed(2)} GiB requested, the limit is ${((pages * PAGE) / 2 ** 30).toFixed(2)} GiB or wasm32's 4 GiB`);
    }
  }
  return true;
}

/** A WASM backend on the given platform (see node.ts for Node's). */
export function createWasmBackendOn(platform: WasmPlatform, opts: WasmBackendOptions = {}): Promise<Backend & WasmBackend> {
  return WasmBackend.create(platform, opts);
}
