// The kernel contract of backend.ts on GPU-resident tensors: each method records one or a few dispatches (same
// arguments, dims and += rules as the reference), and nothing runs until flush() or a trainer replays a recording.
/// <reference types="@webgpu/types" />
import { type Dispatch, type GpuTensor, MAP_READ, ProgramCache, type ProgramDef, USAGE, groups1d } from './program.ts';
import { HS_MAX, KERNELS, type KernelDef } from './wgsl.ts';
import { UserError } from '../../util/errors.ts';

export type { GpuTensor } from './program.ts';
type T = GpuTensor;

const G_SUM = 256; // workgroups of the first reduction pass (the final pass folds them in one workgroup of 256)

function checkHeadSize(HS: number): void {
  if (HS > HS_MAX) throw new UserError(`webgpu: head size ${HS} exceeds the attention kernels' maximum ${HS_MAX}`);
}

/** A tensor `elems` elements further into the same buffer. */
export function at(t: GpuTensor, elems: number): GpuTensor {
  return { buf: t.buf, off: t.off + elems };
}

/**
 * GPU kernels with the contract's signatures over GpuTensors. Example:
 * `const k = new GpuKernels(device); k.matmul_forward(out, inp, w, null, N, C, OC); await k.flush();`
 */
export class GpuKernels {
  readonly device: GPUDevice;
  readonly programs: ProgramCache;
  private pending: Dispatch[] = [];
  private scratch = new Map<string, GPUBuffer>();
  private ropeTables = new Map<string, GPUBuffer>();

  constructor(device: GPUDevice) {
    this.device = device;
    this.programs = new ProgramCache(device);
  }

  /** A zeroed storage buffer of n 4-byte elements (f32 or i32). */
  createBuffer(n: number, label?: string): GPUBuffer {
    return this.device.createBuffer({ size: Math.max(16, Math.ceil(n / 4) * 16), usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST, label });
  }

  /** Uploads data into a tensor (queue-ordered before later submits). */
  write(t: GpuTensor, data: Float32Array | Int32Array): void {
    this.device.queue.writeBuffer(t.buf, t.off * 4, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Submits what was recorded, then copies n elements of each tensor back (one map for all). */
  async read(tensors: ReadonlyArray<{ t: GpuTensor; n: number }>): Promise<Float32Array[]> {
    this.flush();
    const total = tensors.reduce((s, x) => s + x.n, 0);
    const staging = this.device.createBuffer({ size: Math.max(16, Math.ceil(total / 4) * 16), usage: USAGE.MAP_READ | USAGE.COPY_DST });
    const enc = this.device.createCommandEncoder();
    let o = 0;
    for (const { t, n } of tensors) {
      if (n > 0) enc.copyBufferToBuffer(t.buf, t.off * 4, staging, o * 4, n * 4);
      o += n;
    }
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(MAP_READ);
    const all = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    const out: Float32Array[] = [];
    o = 0;
    for (const { n } of tensors) {
      out.push(all.slice(o, o + n));
      o += n;
    }
    return out;
  }

  /** Runs everything recorded so far as one command buffer. */
  flush(): void {
    if (this.pending.length === 0) return;
    const list = this.pending;
    this.pending = [];
    const enc = this.device.createCommandEncoder();
    this.programs.encode(enc, list);
    this.device.queue.submit([enc.finish()]);
    this.programs.release(list);
  }

  /** Drops what was recorded and not yet submitted (after a failed call). */
  discard(): void {
    this.programs.release(this.pending);
    this.pending = [];
  }

  /** Records the dispatches that fn issues instead of queueing them (a trainer replays them every step). */
  record(fn: () => void): Dispatch[] {
    this.flush();
    fn();
    const list = this.pending;
    this.pending = [];
    return list;
  }

  /** Records one dispatch of a kernel defined outside wgsl.ts (the decoder's kernels, wgsl-decode.ts). */
  dispatch(def: ProgramDef, args: ReadonlyArray<T | null>, params: ReadonlyArray<number>, groups: [number, number, number], consts?: Record<string, number | boolean>): void {
    this.run(def, args, params, groups, consts);
  }

  private run(def: ProgramDef, args: ReadonlyArray<T | null>, params: ReadonlyArray<number>, groups: [number, number, number], consts?: Record<string, number | boolean>): void {
    this.pending.push(this.programs.dispatch(def, args, params, groups, consts));
  }

  private run1d(def: KernelDef, threads: number, args: ReadonlyArray<T | null>, params: ReadonlyArray<number>, consts?: Record<string, number | boolean>): void {
    if (threads <= 0) return;
    this.run(def, args, params, groups1d(threads, def.wg), consts);
  }

  private rows(def: KernelDef, rows: number, args: ReadonlyArray<T | null>, params: ReadonlyArray<number>): void {
    if (rows <= 0) return;
    this.run(def, args, params, groups1d(rows, 1));
  }

  /** A kernel-owned scratch buffer of at least n elements, grown on demand (only valid within one recording). */
  private scratchOf(name: string, n: number): T {
    let b = this.scratch.get(name);
    if (!b || b.size < n * 4) {
      b = this.createBuffer(Math.max(n, 4), `scratch ${name}`);
      this.scratch.set(name, b);
    }
    return { buf: b, off: 0 };
  }

  /** out[0..n) = value. */
  fill(out: T, n: number, value = 0): void {
    this.run1d(KERNELS.fill, n, [out], [n, value]);
  }

  encoder_forward(out: T, inp: T, wte: T, wpe: T | null, B: number, T: number, C: number, pos0: number): void {
    this.run1d(KERNELS.encoder_forward, B * T * C, [out, inp, wte, wpe], [B * T, C, T, pos0]);
  }

  encoder_backward(dwte: T, dwpe: T | null, dout: T, inp: T, B: number, T: number, C: number): void {
    this.run1d(KERNELS.encoder_backward_wte, C, [dwte, dout, inp], [B * T, C]);
    if (dwpe) this.run1d(KERNELS.encoder_backward_wpe, T * C, [dwpe, dout], [B, T, C]);
  }

  layernorm_forward(out: T, mean: T, rstd: T, inp: T, weight: T, bias: T, N: number, C: number, eps: number): void {
    this.rows(KERNELS.layernorm_forward, N, [out, mean, rstd, inp, weight, bias], [N, C, eps]);
  }

  layernorm_backward(dinp: T, dweight: T, dbias: T, dout: T, inp: T, weight: T, mean: T, rstd: T, N: number, C: number): void {
    this.rows(KERNELS.layernorm_backward_dinp, N, [dinp, dout, inp, weight, mean, rstd], [N, C]);
    this.run1d(KERNELS.layernorm_backward_dweight, C, [dweight, dbias, dout, inp, mean, rstd], [N, C]);
  }

  rmsnorm_forward(out: T, rstd: T, inp: T, weight: T, N: number, C: number, eps: number): void {
    this.rows(KERNELS.rmsnorm_forward, N, [out, rstd, inp, weight], [N, C, eps]);
  }

  rmsnorm_backward(dinp: T, dweight: T, dout: T, inp: T, weight: T, rstd: T, N: number, C: number): void {
    this.rows(KERNELS.rmsnorm_backward_dinp, N, [dinp, dout, inp, weight, rstd], [N, C]);
    this.run1d(KERNELS.rmsnorm_backward_dweight, C, [dweight, dout, inp, rstd], [N, C]);
  }

  /** out (M,Nc) (+)= A @ B with A(i,k) = a[i*sai + k*sak], B(k,j) = b[k*sbk + j*sbj] (+ bias). */
  private gemm(out: T, a: T, b: T, bias: T | null, M: number, Nc: number, K: number, sai: number, sak: number, sbk: number, sbj: number, accumulate: boolean): void {
    if (M <= 0 || Nc <= 0) return;
    this.run(KERNELS.matmul, [out, a, b, bias], [M, Nc, K, sai, sak, sbk, sbj, Nc, accumulate ? 1 : 0], [Math.ceil(Nc / 64), Math.ceil(M / 64), 1]);
  }

  matmul_forward(out: T, inp: T, weight: T, bias: T | null, N: number, C: number, OC: number): void {
    this.gemm(out, inp, weight, bias, N, OC, C, C, 1, 1, C, false);
  }

  matmul_backward(dinp: T | null, dweight: T | null, dbias: T | null, dout: T, inp: T, weight: T, N: number, C: number, OC: number): void {
    if (dinp) this.gemm(dinp, dout, weight, null, N, C, OC, OC, 1, C, 1, true);
    if (dweight) this.gemm(dweight, dout, inp, null, OC, C, N, 1, OC, C, 1, true);
    if (dbias) this.run1d(KERNELS.matmul_dbias, OC, [dbias, dout], [N, OC]);
  }

  /**
   * The online-softmax forward (O(T) memory: out and a per-row log-sum-exp, into `lse` (B,NH,T) when given), then
   * att materialised from the log-sum-exp when att is given (the contract's probabilities, for inspection; the
   * backward does not need them).
   */
  attention_forward(out: T, att: T | null, qkv: T, B: number, T: number, NH: number, NKV: number, HS: number, window: number, scale: number, lse?: T): void {
    const l = lse ?? this.scratchOf('lse', B * NH * T);
    checkHeadSize(HS);
    const dims = [B, T, NH, NKV, HS, window, scale];
    this.run(KERNELS.attention_forward, [out, l, qkv], dims, [Math.ceil(T / 64), B * NH, 1]);
    if (att) this.run1d(KERNELS.attention_probs, B * NH * T * T, [att, qkv, l], dims);
  }

  /**
   * FlashAttention-2's backward (wgsl.ts): recomputes the probabilities from qkv and the forward's per-row
   * log-sum-exp, so att is never read. `saved` is what the forward kept (its output and lse, as the resident
   * trainer lays them out); without it (the contract's callers, which hold only att) the forward runs again into
   * scratch first. datt is scratch: its first B*NH*T elements receive the row terms D = dout . out.
   */
  attention_backward(dqkv: T, datt: T, dout: T, qkv: T, _att: T, B: number, T: number, NH: number, NKV: number, HS: number, window: number, scale: number, saved: { out: T; lse: T } | null = null): void {
    checkHeadSize(HS);
    const dims = [B, T, NH, NKV, HS, window, scale];
    let s = saved;
    if (!s) {
      s = { out: this.scratchOf('attention out', B * T * NH * HS), lse: this.scratchOf('lse', B * NH * T) };
      this.attention_forward(s.out, null, qkv, B, T, NH, NKV, HS, window, scale, s.lse);
    }
    this.run1d(KERNELS.attention_backward_d, B * NH * T, [datt, dout, s.out], dims);
    this.run(KERNELS.attention_backward_dq, [dqkv, dout, qkv, s.lse, datt], dims, [Math.ceil(T / 64), B * NH, 1]);
    this.run(KERNELS.attention_backward_dkv, [dqkv, dout, qkv, s.lse, datt], dims, [Math.ceil(T / 64), B * NKV, 1]);
  }

  attention_decode_forward(out: T, att: T, qkv: T, t: number, NH: number, NKV: number, HS: number, window: number, scale: number): void {
    const p = [t, NH, NKV, HS, window, scale];
    this.run1d(KERNELS.attention_decode_probs, NH, [att, qkv], p);
    this.run1d(KERNELS.attention_decode_out, NH * HS, [out, att, qkv], p);
  }

  /** (cos, sin) for positions 0..maxPos-1 and HS/2 frequencies, computed in float64, cached per shape. */
  ropeTable(maxPos: number, HS: number, theta: number): T {
    const key = `${HS}|${theta}`;
    let buf = this.ropeTables.get(key);
    const half = HS >> 1;
    if (!buf || buf.size < maxPos * half * 8) {
      const n = Math.max(maxPos, 64);
      const cs = new Float32Array(n * half * 2);
      for (let i = 0; i < half; i++) {
        const freq = Math.pow(theta, (-2 * i) / HS);
        for (let p = 0; p < n; p++) {
          cs[(p * half + i) * 2] = Math.cos(p * freq);
          cs[(p * half + i) * 2 + 1] = Math.sin(p * freq);
        }
      }
      buf = this.createBuffer(cs.length, 'rope table');
      this.device.queue.writeBuffer(buf, 0, cs);
      this.ropeTables.set(key, buf);
    }
    return { buf, off: 0 };
  }

  rope_forward(qkv: T, B: number, T: number, NH: number, NKV: number, HS: number, theta: number, pos0: number): void {
    this.rope(qkv, B, T, NH, NKV, HS, theta, pos0, 1);
  }

  rope_backward(dqkv: T, B: number, T: number, NH: number, NKV: number, HS: number, theta: number, pos0: number): void {
    this.rope(dqkv, B, T, NH, NKV, HS, theta, pos0, -1);
  }

  private rope(x: T, B: number, T: number, NH: number, NKV: number, HS: number, theta: number, pos0: number, sign: number): void {
    const cs = this.ropeTable(pos0 + T, HS, theta);
    this.run1d(KERNELS.rope, B * T * (NH + NKV) * (HS >> 1), [x, cs], [B * T, T, NH, NKV, HS, pos0, sign]);
  }

  gelu_forward(out: T, inp: T, N: number): void {
    this.run1d(KERNELS.gelu_forward, N, [out, inp], [N]);
  }

  gelu_backward(dinp: T, inp: T, dout: T, N: number): void {
    this.run1d(KERNELS.gelu_backward, N, [dinp, inp, dout], [N]);
  }

  swiglu_forward(out: T, inp: T, N: number, H: number): void {
    this.run1d(KERNELS.swiglu_forward, N * H, [out, inp], [N, H]);
  }

  swiglu_backward(dinp: T, inp: T, dout: T, N: number, H: number): void {
    this.run1d(KERNELS.swiglu_backward, N * H, [dinp, inp, dout], [N, H]);
  }

  residual_forward(out: T, inp1: T, inp2: T, N: number): void {
    this.run1d(KERNELS.residual_forward, N, [out, inp1, inp2], [N]);
  }

  residual_backward(dinp1: T, dinp2: T, dout: T, N: number): void {
    this.run1d(KERNELS.residual_backward, N, [dinp1, dinp2, dout], [N]);
  }

  crossentropy_softmax_forward(losses: T, probs: T, logits: T, targets: T, N: number, V: number): void {
    this.rows(KERNELS.crossentropy_forward, N, [losses, probs, logits, targets], [N, V]);
  }

  /** dlossAt (optional) reads dloss from a GPU scalar instead of the dloss argument. */
  crossentropy_softmax_backward(dlogits: T, probs: T, targets: T, dloss: number, N: number, V: number, dlossAt: T | null = null): void {
    this.run1d(KERNELS.crossentropy_backward, N * V, [dlogits, probs, targets, dlossAt], [N, V, dloss]);
  }

  /** AdamW over n elements; step holds [lr, 1 - beta1^t, 1 - beta2^t, grad scale] on the GPU. */
  adamw(params: T, grads: T, m: T, v: T, step: T, n: number, beta1: number, beta2: number, eps: number, weightDecay: number): void {
    this.run1d(KERNELS.adamw, n, [params, grads, m, v, step], [n, beta1, beta2, eps, weightDecay]);
  }

  /** out[0] = sum of x[0..n) (of squares when squares), in two passes. */
  sum(out: T, x: T, n: number, squares: boolean): void {
    const part = this.scratchOf('sum-part', G_SUM); // consecutive sums reuse it: dispatches run in order
    const G = Math.max(1, Math.min(G_SUM, Math.ceil(n / 256)));
    this.run(KERNELS.sum_partial, [part, x], [n, G], [G, 1, 1], { SQUARE: squares });
    this.run(KERNELS.sum_final, [out, part], [G], [1, 1, 1]);
  }

  /** step[4] = sqrt(ss[0]); step[3] = clip scale for maxNorm (1 when maxNorm is 0 or not exceeded). */
  clipFactor(step: T, ss: T, maxNorm: number): void {
    this.run(KERNELS.clip_factor, [step, ss], [maxNorm], [1, 1, 1]);
  }

  scale(x: T, n: number, s: number): void {
    this.run1d(KERNELS.scale, n, [x], [n, s]);
  }

  /** out[0] = sum(losses[0..n)) / count. */
  meanLoss(out: T, losses: T, n: number, count: number): void {
    this.run(KERNELS.mean_loss, [out, losses], [n, count], [1, 1, 1]);
  }

  /** Frees the kernel-owned scratch buffers and rope tables. */
  dispose(): void {
    this.flush();
    for (const b of this.scratch.values()) b.destroy();
    for (const b of this.ropeTables.values()) b.destroy();
    this.scratch.clear();
    this.ropeTables.clear();
  }
}
