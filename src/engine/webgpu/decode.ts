// KV-cache inference on the GPU (inference.ts's decodeChunk on GPU tensors): the weights of a GpuModel, a per-layer
// cache of packed qkv rows in GPU memory, and only the last position's logits (V floats) read back per call.
//
// Buffers: acts (actTable(cfg, 1, chunk): one chunk of rows; its att view is unused), cache (L x ctx x QKV, layer
// l's rows at l * ctx * QKV), att (chunk x NH x ctx probabilities of the decode kernel), tokens (i32, chunk).
/// <reference types="@webgpu/types" />
import { type ActViews, actViews, qkvWidth } from '../model.ts';
import { decodeChunk } from '../inference.ts';
import { actTable } from '../layout.ts';
import { UserError } from '../../util/errors.ts';
import { type GpuTensor, at } from './kernels.ts';
import { type GpuModel, type Views, gpuViews } from './trainer.ts';

/**
 * Greedy/sampled generation state for one sequence on the GPU.
 * Example: `const d = new GpuDecoder(model); let logits = await d.prefill(prompt); logits = await d.step(next);`
 */
export class GpuDecoder {
  readonly model: GpuModel;
  /** Positions the cache holds (the model's context). */
  readonly ctx: number;
  private readonly chunk: number;
  private readonly acts: GPUBuffer;
  private readonly cache: GPUBuffer;
  private readonly att: GPUBuffer;
  private readonly tokens: GPUBuffer;
  private readonly a: Views<ActViews>;
  private n = 0;

  constructor(model: GpuModel, opts: { chunk?: number } = {}) {
    const cfg = model.cfg;
    const k = model.k;
    this.model = model;
    this.ctx = cfg.maxSeqLen;
    this.chunk = Math.max(1, Math.min(opts.chunk ?? 64, this.ctx));
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

  /** Appends tokens and resolves to the logits after the last one (a fresh copy). */
  async prefill(tokens: ArrayLike<number>): Promise<Float32Array> {
    const V = this.model.cfg.vocabSize;
    if (tokens.length === 0) throw new UserError('inference: prefill needs at least one token');
    if (this.n + tokens.length > this.ctx) throw new UserError(`inference: ${this.n + tokens.length} tokens exceed the context of ${this.ctx}; reset() first`);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (!(Number.isInteger(t) && t >= 0 && t < V)) throw new UserError(`inference: token id ${t} at position ${i} is outside the vocabulary [0, ${V})`);
    }
    for (let i = 0; i < tokens.length; i += this.chunk) {
      const n = Math.min(this.chunk, tokens.length - i);
      this.model.k.write({ buf: this.tokens, off: 0 }, Int32Array.from({ length: n }, (_, r) => tokens[i + r]!));
      this.runChunk(n);
    }
    const [logits] = await this.model.k.read([{ t: this.a.logits, n: V }]);
    return logits!;
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
    decodeChunk<GpuTensor, GpuTensor>(k, cfg, p, {
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
  }
}
