// KV-cache inference on the GPU (inference.ts's decodeChunk on GPU tensors): the weights of a GpuModel, a per-layer
// cache of packed qkv rows in GPU memory, and only the last position's logits (V floats) read back per call.
//
// Buffers: acts (actTable(cfg, 1, chunk): one chunk of rows; its att view is unused), cache (L x ctx x QKV, layer
// l's rows at l * ctx * QKV), att (chunk x NH x ctx probabilities of the decode kernel), tokens (i32, chunk); with
// f16 precision, HalfWeights holds an f16 copy of the matmul weights that the decode steps read.
// Optional features (wgsl-decode.ts): shader-f16 for that copy, subgroups for the matrix-vector sums; without them
// the f32 weights and a workgroup tree give the same results to float32 rounding.
/// <reference types="@webgpu/types" />
import { type ActViews, actViews, qkvWidth } from '../model.ts';
import { type DecodeKernels, decodeChunk } from '../inference.ts';
import { actTable, numel, paramTable } from '../layout.ts';
import { UserError } from '../../util/errors.ts';
import { type GpuKernels, type GpuTensor, at } from './kernels.ts';
import { groups1d } from './program.ts';
import { TO_F16, matvecSubgroup, matvecTree } from './wgsl-decode.ts';
import { type GpuModel, type Views, gpuViews } from './trainer.ts';

/** Which copy of the matmul weights a decoder reads (the commands' 'auto' is resolved in sample/gpu-decoding.ts). */
export type DecodePrecision = 'f16' | 'f32';

export interface GpuDecoderOptions {
  /** Tokens per prefill chunk (default 64). */
  chunk?: number;
  /** Context (cache) length; default and maximum the model's maxSeqLen. */
  ctx?: number;
  /** When the context is full, keep this many most recent tokens and re-prefill them; default floor(ctx/2). */
  keepOnSlide?: number;
  /**
   * 'f32' (default: the f32 master weights, InferenceSession's results to float32 rounding) or 'f16' (an f16 copy
   * of the matmul weights for decode steps, f32 products and sums; prompt chunks of more than MATVEC_ROWS tokens
   * still read the f32 weights; a UserError without shader-f16).
   */
  precision?: DecodePrecision;
  /** The half weights to share (several decoders of one model); made and owned by this decoder when absent. */
  half?: HalfWeights;
  /** Sum the decode steps' matrix-vector products with subgroup operations (default: when the device has them). */
  subgroups?: boolean;
}

/** Whether the device can run the f16 decoder (shader-f16) and the subgroup reduction. */
export function decodeFeatures(device: GPUDevice): { f16: boolean; subgroups: boolean } {
  return { f16: device.features.has('shader-f16'), subgroups: device.features.has('subgroups') };
}

/**
 * f16 copies of a GpuModel's matmul weights (every layer's qkv, attention out, MLP in and out, and the LM head),
 * converted on the GPU from the f32 master weights, which stay in the model. Rebuild after the weights change.
 */
export class HalfWeights {
  readonly model: GpuModel;
  private readonly buf: GPUBuffer;
  /** Where each f32 weight (by buffer offset) has its copy in `buf`, in f16 elements. */
  private readonly offsets = new Map<number, number>();

  constructor(model: GpuModel) {
    if (!decodeFeatures(model.k.device).f16) throw new UserError("webgpu: this adapter has no 'shader-f16': f16 decoding needs it (use the f32 weights)");
    const { cfg, k, p } = model;
    // the matmul weights in paramTable order, and the head (the embedding when tied)
    const mats: Array<{ off: number; n: number }> = [];
    let off = 0;
    for (const spec of paramTable(cfg)) {
      const n = numel(spec.shape);
      if (spec.role === 'matmul' || off === p.head.off) mats.push({ off, n });
      off += n;
    }
    let total = 0;
    for (const m of mats) {
      this.offsets.set(m.off, total);
      total += m.n;
    }
    this.model = model;
    // two f16 per 4-byte element of createBuffer
    this.buf = k.createBuffer(Math.ceil(total / 2), 'decode f16 weights');
    for (const m of mats) k.dispatch(TO_F16, [{ buf: this.buf, off: this.offsets.get(m.off)! }, { buf: p.head.buf, off: m.off }], [m.n], groups1d(m.n, TO_F16.wg));
    k.flush();
  }

  /** The f16 copy of a matmul weight of the model, or null for any other tensor. */
  of(t: GpuTensor): GpuTensor | null {
    if (t.buf !== this.model.p.head.buf) return null;
    const off = this.offsets.get(t.off);
    return off === undefined ? null : { buf: this.buf, off };
  }

  dispose(): void {
    this.buf.destroy();
  }
}

/**
 * Greedy/sampled generation state for one sequence on the GPU, sliding like InferenceSession when the context is
 * full (keep the last keepOnSlide tokens, re-prefill them at positions 0..keep-1).
 * Example: `const d = new GpuDecoder(model); let logits = await d.prefill(prompt); logits = await d.step(next);`
 */
export class GpuDecoder {
  readonly model: GpuModel;
  /** Positions the cache holds (the model's context). */
  readonly ctx: number;
  readonly keepOnSlide: number;
  /** The weights the matmuls read: 'f16' (HalfWeights) or 'f32' (the model's). */
  readonly precision: 'f16' | 'f32';
  /** Whether the decode steps' matrix-vector products sum with subgroup operations. */
  readonly subgroups: boolean;
  private readonly half: HalfWeights | null;
  private readonly ownsHalf: boolean;
  private readonly kernels: DecodeKernels<GpuTensor, GpuTensor>;
  private readonly history: Int32Array;
  private readonly chunk: number;
  private readonly acts: GPUBuffer;
  private readonly cache: GPUBuffer;
  private readonly att: GPUBuffer;
  private readonly tokens: GPUBuffer;
  private readonly a: Views<ActViews>;
  private n = 0;

  constructor(model: GpuModel, opts: GpuDecoderOptions = {}) {
    const cfg = model.cfg;
    const k = model.k;
    this.model = model;
    this.ctx = opts.ctx ?? cfg.maxSeqLen;
    if (!(Number.isInteger(this.ctx) && this.ctx >= 1 && this.ctx <= cfg.maxSeqLen)) throw new UserError(`inference: ctx ${this.ctx} must be in [1, maxSeqLen ${cfg.maxSeqLen}]`);
    this.keepOnSlide = opts.keepOnSlide ?? Math.max(1, Math.floor(this.ctx / 2));
    if (this.keepOnSlide < 1 || this.keepOnSlide >= this.ctx) throw new UserError(`inference: keepOnSlide must be in [1, ctx-1], got ${this.keepOnSlide}`);
    this.chunk = Math.max(1, Math.min(opts.chunk ?? 64, this.ctx));
    const feats = decodeFeatures(k.device);
    const precision = opts.precision ?? 'f32';
    if (precision === 'f16' && !feats.f16) throw new UserError("webgpu: f16 decoding needs the adapter feature 'shader-f16', which this adapter lacks; use f32");
    this.precision = precision;
    if (opts.subgroups && !feats.subgroups) throw new UserError("webgpu: this adapter has no 'subgroups' feature");
    this.subgroups = opts.subgroups ?? feats.subgroups;
    if (opts.half && opts.half.model !== model) throw new Error('internal: HalfWeights of another model');
    this.half = this.precision === 'f16' ? (opts.half ?? new HalfWeights(model)) : null;
    this.ownsHalf = this.half !== null && opts.half === undefined;
    this.kernels = stepMatmuls(k, this.half, this.subgroups);
    this.history = new Int32Array(this.ctx);
    const table = actTable(cfg, 1, this.chunk, false);
    this.acts = k.createBuffer(table.reduce((s, e) => s + e.size, 0), 'decode activations');
    this.a = gpuViews((s) => actViews(cfg, table, s), this.acts);
    this.cache = k.createBuffer(cfg.nLayers * this.ctx * qkvWidth(cfg), 'kv cache');
    this.att = k.createBuffer(this.chunk * cfg.nHeads * this.ctx, 'decode attention');
    this.tokens = k.createBuffer(this.chunk, 'decode tokens');
  }

  /** Tokens in the cache (the position of the next token). */
  get pos(): number {
    return this.n;
  }

  /** Empties the cache. */
  reset(): void {
    this.n = 0;
  }

  /** The tokens in the cache (a copy). */
  context(): number[] {
    return Array.from(this.history.subarray(0, this.n));
  }

  /** Appends tokens and resolves to the logits after the last one (a fresh copy); slides when the cache is full. */
  async prefill(tokens: ArrayLike<number>): Promise<Float32Array> {
    const V = this.model.cfg.vocabSize;
    if (tokens.length === 0) throw new UserError('inference: prefill needs at least one token');
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (!(Number.isInteger(t) && t >= 0 && t < V)) throw new UserError(`inference: token id ${t} at position ${i} is outside the vocabulary [0, ${V})`);
    }
    this.append(tokens);
    const [logits] = await this.model.k.read([{ t: this.a.logits, n: V }]);
    return logits!;
  }

  /** Records the chunks of `tokens` (sliding first whenever the cache is full), as InferenceSession.prefill does. */
  private append(tokens: ArrayLike<number>): void {
    let i = 0;
    while (i < tokens.length) {
      if (this.n === this.ctx) {
        const keep = this.history.slice(this.ctx - this.keepOnSlide, this.ctx);
        this.n = 0;
        this.append(keep);
      }
      const n = Math.min(this.chunk, this.ctx - this.n, tokens.length - i);
      const ids = Int32Array.from({ length: n }, (_, r) => tokens[i + r]!);
      // each chunk is submitted before the next write, so one tokens buffer serves them all
      this.model.k.write({ buf: this.tokens, off: 0 }, ids);
      this.history.set(ids, this.n);
      this.runChunk(n);
      i += n;
    }
  }

  /** Appends one token and resolves to the next-token logits. */
  step(token: number): Promise<Float32Array> {
    return this.prefill([token]);
  }

  private runChunk(n: number): void {
    const { model, a } = this;
    const { cfg, k, p } = model;
    const QKV = qkvWidth(cfg);
    const rowAtt = cfg.nHeads * this.ctx;
    decodeChunk<GpuTensor, GpuTensor>(this.kernels, cfg, p, {
      ...a,
      tokens: { buf: this.tokens, off: 0 },
      cache: (l) => ({ buf: this.cache, off: l * this.ctx * QKV }),
      attRow: (_l, r) => ({ buf: this.att, off: r * rowAtt }),
      at: (t, off) => at(t, off),
    }, n, this.n);
    k.flush();
    this.n += n;
  }

  /** Frees the decoder's buffers (the model's stay). */
  dispose(): void {
    for (const b of [this.acts, this.cache, this.att, this.tokens]) b.destroy();
    if (this.ownsHalf) this.half!.dispose();
  }
}

/**
 * Rows up to which a decode matmul runs as matrix-vector products (on the f16 copy when the decoder has one). A
 * decode step (1 row) reads every weight for two flops: memory-bound, so spreading the outputs over the GPU and
 * reading fewer bytes (f16) is what counts. A prompt chunk reuses each weight across its rows: compute-bound, which
 * is the tiled matmul's case (on the f32 master weights).
 */
const MATVEC_ROWS = 8;

/**
 * The GPU kernels with matmul_forward as matrix-vector products for chunks of few rows (the tiled matmul spends a
 * 64-row tile on one row), reading the f16 copy of the weight when `half` is given; every other call goes to the
 * kernels unchanged.
 */
function stepMatmuls(k: GpuKernels, half: HalfWeights | null, subgroups: boolean): DecodeKernels<GpuTensor, GpuTensor> {
  const type = half ? 'f16' : 'f32';
  const def = subgroups ? matvecSubgroup(type) : matvecTree(type);
  const matmul_forward = (out: GpuTensor, inp: GpuTensor, weight: GpuTensor, bias: GpuTensor | null, N: number, C: number, OC: number): void => {
    const w = N > MATVEC_ROWS ? null : half ? half.of(weight) : weight;
    if (!w) return k.matmul_forward(out, inp, weight, bias, N, C, OC);
    if (N <= 0 || OC <= 0) return;
    // tree: a workgroup per output; subgroups: a thread per output
    k.dispatch(def, [out, inp, w, bias], [N, C, OC], groups1d(N * OC, subgroups ? def.wg : 1));
  };
  // a Proxy keeps `this` working for the other kernels (they record into k's own queue)
  return new Proxy(k, { get: (t, name, recv) => (name === 'matmul_forward' ? matmul_forward : Reflect.get(t, name, recv)) });
}
