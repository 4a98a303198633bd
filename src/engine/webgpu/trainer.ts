// A GPU-resident model and trainer: parameters, gradients, AdamW moments and activations live in GPU buffers laid
// out exactly as model.ts lays out its backend buffers (paramTable, actTable, gradScratchTable), and a training
// step (forward, loss, backward, global-norm clipping, AdamW) is one recorded command buffer replayed every step.
// Only the loss sum and the gradient norm come back, through a small staging copy mapped asynchronously, so the
// next step can be submitted before the previous one's numbers arrive.
//
// Buffers (4-byte elements): params, grads, m, v (paramTable order); acts (actTable order, probs overwrite
// logits; the 'lse' attention layout: each layer keeps its attention forward's per-row log-sum-exp, never the
// B*NH*T*T probabilities, which the FlashAttention-2 backward recomputes); gacts (gradScratchTable order, the same
// layout); inputs, targets (i32, B*T); step = [lr, 1-beta1^t, 1-beta2^t, grad scale, grad norm, dloss, loss sum,
// sum of squared parameters after the update] (the host writes lr, the bias corrections and dloss before each
// submit; the GPU writes the rest).
/// <reference types="@webgpu/types" />
import type { F32 } from '../backend.ts';
import { type ModelConfig, type ResolvedConfig, resolveConfig } from '../config.ts';
import { type InitOptions, actTable, decayRuns, numel, paramTable } from '../layout.ts';
import { type ActViews, type AdamWOptions, type LayerParams, type ParamViews, Model, actViews, blockTail, blocksBackward, copyTargets, gradScratchTable, normForward, paramViews, qkvWidth, splitBuffer } from '../model.ts';
import { createRefBackend } from '../ref/index.ts';
import { UserError } from '../../util/errors.ts';
import type { GpuKernels, GpuTensor } from './kernels.ts';
import { type Dispatch, MAP_READ, USAGE } from './program.ts';

/** AdamW settings of a step plus optional global-norm clipping (0 or absent: none). */
export interface GpuStepOptions extends AdamWOptions {
  maxGradNorm?: number;
}

/**
 * What one step reports: the mean loss over non-ignored positions, the gradient norm before clipping, and the sum of
 * squared parameters after the update (not finite when the update made a weight non-finite: a trainer's divergence
 * check without reading the weights back).
 */
export interface GpuStepResult {
  loss: number;
  gradNorm: number;
  paramSumsq: number;
}

export type Views<V> = { [K in keyof V]: V[K] extends F32 ? GpuTensor : V[K] extends F32 | null ? GpuTensor | null : V[K] extends F32[] ? GpuTensor[] : V[K] extends LayerParams[] ? Array<Views<LayerParams>> : V[K] extends Array<infer E> ? Array<Views<E>> : V[K] };

/**
 * Runs model.ts's view builders over a stand-in whose subarray() records offsets, then maps every view to a
 * GpuTensor in `buf`: the GPU buffers follow exactly the CPU layout without allocating it.
 */
export function gpuViews<V>(build: (stub: F32) => V, buf: GPUBuffer): Views<V> {
  const stub = { subarray: (start: number) => ({ __off: start }) } as unknown as F32;
  const map = (x: unknown): unknown => {
    if (x === null || typeof x !== 'object') return x;
    if ('__off' in (x as object)) return { buf, off: (x as { __off: number }).__off };
    if (Array.isArray(x)) return x.map(map);
    return Object.fromEntries(Object.entries(x as object).map(([k, v]) => [k, map(v)]));
  };
  return map(build(stub)) as Views<V>;
}

/**
 * A GPT-Neo or llama model trained entirely on the GPU.
 * Example: `const m = await GpuModel.create(cfg, kernels, { seed: 1, batch: 4, seq: 64 });
 * const { loss } = await m.step(x, y, 4, 64, { lr: 1e-3, t: 1, maxGradNorm: 1 });`
 */
export class GpuModel {
  readonly cfg: ResolvedConfig;
  readonly k: GpuKernels;
  readonly nParams: number;
  readonly capB: number;
  readonly capT: number;
  private readonly bufs: Record<'params' | 'grads' | 'm' | 'v' | 'acts' | 'gacts' | 'inputs' | 'targets' | 'step' | 'ss', GPUBuffer>;
  /** Parameter views (GPU tensors in paramTable order), shared with GpuDecoder. */
  readonly p: Views<ParamViews>;
  private readonly g: Views<ParamViews>;
  private readonly a: Views<ActViews>;
  private readonly d: Record<'dres' | 'dln' | 'dqkv' | 'datt' | 'datty' | 'dfch' | 'dfchAct', GpuTensor>;
  private readonly table: ReturnType<typeof paramTable>;
  private readonly programs = new Map<string, Dispatch[]>();
  private readonly staging: GPUBuffer[] = [];

  /** Allocated without gradients, AdamW moments or activation gradients: forward, loss and decoding only. */
  readonly inference: boolean;

  private constructor(cfg: ResolvedConfig, k: GpuKernels, B: number, T: number, init: InitOptions | undefined, inference: boolean) {
    this.cfg = cfg;
    this.inference = inference;
    this.k = k;
    this.capB = B;
    this.capT = T;
    this.table = paramTable(cfg, init);
    this.nParams = this.table.reduce((s, e) => s + numel(e.shape), 0);
    const at_ = actTable(cfg, B, T, false, 'lse');
    const gt = gradScratchTable(cfg, B, T, 'lse');
    const sum = (t: Array<{ size: number }>) => t.reduce((s, e) => s + e.size, 0);
    // every buffer is bound whole in a dispatch, so each must fit the adapter's largest storage binding
    const maxBinding = k.device.limits.maxStorageBufferBindingSize;
    const mk = (n: number, label: string) => {
      if (n * 4 > maxBinding) throw new UserError(`webgpu: the ${label} need ${(n * 4 / 2 ** 20).toFixed(0)} MiB, more than this adapter's largest storage binding (${(maxBinding / 2 ** 20).toFixed(0)} MiB); use a smaller batch or sequence length`);
      return k.createBuffer(n, label);
    };
    // an inference model keeps one-float placeholders: the training views over them are built but never dispatched
    const train = (n: number) => (inference ? 1 : n);
    this.bufs = {
      params: mk(this.nParams, 'params'),
      grads: mk(train(this.nParams), 'grads'),
      m: mk(train(this.nParams), 'adam m'),
      v: mk(train(this.nParams), 'adam v'),
      acts: mk(sum(at_), 'activations'),
      gacts: mk(train(sum(gt)), 'activation grads'),
      inputs: mk(B * T, 'inputs'),
      targets: mk(B * T, 'targets'),
      step: mk(8, 'step scalars'),
      ss: mk(4, 'grad sumsq'),
    };
    this.p = gpuViews((s) => paramViews(cfg, this.table, s), this.bufs.params);
    this.g = gpuViews((s) => paramViews(cfg, this.table, s), this.bufs.grads);
    this.a = gpuViews((s) => actViews(cfg, at_, s), this.bufs.acts);
    const gm = gpuViews((s) => Object.fromEntries(splitBuffer(s, gt)), this.bufs.gacts) as Record<string, GpuTensor>;
    this.d = { dres: gm.dres!, dln: gm.dln!, dqkv: gm.dqkv!, datt: gm.datt!, datty: gm.datty!, dfch: gm.dfch!, dfchAct: gm.dfchAct! };
  }

  /**
   * Allocates the GPU buffers for batches up to (batch, seq) and uploads parameters: `params` (paramTable order,
   * e.g. a checkpoint's) or, by default, the same initialisation as `new Model(cfg, backend, { seed, init })`.
   */
  static create(config: ModelConfig | ResolvedConfig, k: GpuKernels, opts: { batch: number; seq: number; seed?: number; init?: InitOptions; params?: Float32Array; inference?: boolean }): GpuModel {
    const cfg = 'source' in config ? config : resolveConfig(config);
    if (opts.seq > cfg.maxSeqLen) throw new UserError(`sequence length ${opts.seq} exceeds the model's maxSeqLen ${cfg.maxSeqLen}`);
    const m = new GpuModel(cfg, k, opts.batch, opts.seq, opts.init, opts.inference ?? false);
    let params = opts.params;
    if (!params) {
      const be = createRefBackend();
      params = new Model(cfg, be, { seed: opts.seed ?? 1337, init: opts.init }).params;
    }
    if (params.length !== m.nParams) throw new UserError(`GpuModel: ${params.length} parameters given, the config has ${m.nParams}`);
    k.write({ buf: m.bufs.params, off: 0 }, params);
    return m;
  }

  /** Bytes of GPU memory this model allocated (linear in batch and sequence length: no T x T attention buffer). */
  get bytes(): number {
    return Object.values(this.bufs).reduce((s, b) => s + b.size, 0);
  }

  private trainable(): void {
    if (this.inference) throw new UserError('GpuModel: created with { inference: true }, it has no gradients or optimizer state to train');
  }

  /** Uploads one batch; returns the number of positions with a target. */
  private upload(inputs: Int32Array, targets: Int32Array | null, B: number, T: number): number {
    const N = B * T;
    const V = this.cfg.vocabSize;
    if (B > this.capB || T > this.capT) throw new UserError(`GpuModel: batch ${B}x${T} exceeds the reserved ${this.capB}x${this.capT}`);
    if (inputs.length < N) throw new UserError(`forward: inputs has ${inputs.length} tokens, expected B*T = ${N}`);
    for (let i = 0; i < N; i++) if (!(inputs[i]! >= 0 && inputs[i]! < V)) throw new UserError(`forward: token id ${inputs[i]} at position ${i} is outside the vocabulary [0, ${V})`);
    this.k.write({ buf: this.bufs.inputs, off: 0 }, inputs.subarray(0, N));
    if (!targets) return 0;
    if (targets.length < N) throw new UserError(`forward: targets has ${targets.length} tokens, expected B*T = ${N}`);
    const tg = new Int32Array(N);
    const valid = copyTargets(targets, tg, N, V);
    this.k.write({ buf: this.bufs.targets, off: 0 }, tg);
    return valid;
  }


  /** Records the forward pass (model.ts's forward, kernel for kernel) and, with loss, the loss sum into step[6]. */
  private recordForward(B: number, T: number, loss: boolean): void {
    const { cfg, k, a, p } = this;
    const N = B * T;
    const C = cfg.dim;
    const NH = cfg.nHeads;
    const NKV = cfg.nKvHeads;
    const HS = cfg.headSize;
    const neo = cfg.arch === 'gpt-neo';
    const inputs = { buf: this.bufs.inputs, off: 0 };
    k.encoder_forward(a.res[0]!, inputs, p.wte, p.wpe, B, T, C, 0);
    for (let l = 0; l < cfg.nLayers; l++) {
      const la = a.layers[l]!;
      const lp = p.layers[l]!;
      normForward(k, cfg, la.ln1, la.ln1Mean, la.ln1Rstd, a.res[l]!, lp.ln1w, lp.ln1b, N);
      k.matmul_forward(la.qkv, la.ln1, lp.qkvw, null, N, C, qkvWidth(cfg));
      if (!neo) k.rope_forward(la.qkv, B, T, NH, NKV, HS, cfg.ropeTheta, 0);
      k.attention_forward(la.atty, null, la.qkv, B, T, NH, NKV, HS, cfg.windows[l]!, cfg.attnScale, la.lse!);
      blockTail(k, cfg, lp, la, a.res[l]!, a.res[l + 1]!, N);
    }
    normForward(k, cfg, a.lnf, a.lnfMean, a.lnfRstd, a.res[cfg.nLayers]!, p.lnfw, p.lnfb, N);
    k.matmul_forward(a.logits, a.lnf, p.head, null, N, C, cfg.vocabSize);
    if (!loss) return;
    k.crossentropy_softmax_forward(a.losses, a.probs, a.logits, { buf: this.bufs.targets, off: 0 }, N, cfg.vocabSize);
    k.sum({ buf: this.bufs.step, off: 6 }, a.losses, N, false);
  }

  /** Records model.ts's backward from the loss (dloss from step[5]); grads zeroed first, or added to (accumulation). */
  private recordBackward(B: number, T: number, zero = true): void {
    const { cfg, k, a, p, g, d } = this;
    if (zero) k.fill({ buf: this.bufs.grads, off: 0 }, this.nParams);
    k.crossentropy_softmax_backward(a.probs, a.probs, { buf: this.bufs.targets, off: 0 }, 0, B * T, cfg.vocabSize, { buf: this.bufs.step, off: 5 });
    blocksBackward(k, cfg, p, g, a, d, B, T, (t, n) => k.fill(t, n));
    k.encoder_backward(g.wte, g.wpe, d.dres, { buf: this.bufs.inputs, off: 0 }, B, T, cfg.dim);
  }

  private program(key: string, fn: () => void): Dispatch[] {
    let prog = this.programs.get(key);
    if (!prog) {
      prog = this.k.record(fn);
      this.programs.set(key, prog);
    }
    return prog;
  }

  /** Submits a program followed by a copy of step[4..8) into a staging buffer, and maps it. */
  private async submit(prog: Dispatch[]): Promise<Float32Array> {
    const dev = this.k.device;
    const staging = this.staging.pop() ?? dev.createBuffer({ size: 16, usage: USAGE.MAP_READ | USAGE.COPY_DST });
    const enc = dev.createCommandEncoder();
    this.k.programs.encode(enc, prog);
    enc.copyBufferToBuffer(this.bufs.step, 16, staging, 0, 16);
    dev.queue.submit([enc.finish()]);
    await staging.mapAsync(MAP_READ);
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    this.staging.push(staging);
    return out;
  }

  /**
   * Writes the step's scalars and returns the program key of its update: optional 1/micro gradient scaling
   * (accumulation), global-norm clipping, AdamW, then the parameters' sum of squares into step[7].
   */
  private prepareUpdate(o: GpuStepOptions, micro: number): { key: string; record: () => void } {
    this.trainable();
    const b1 = o.beta1 ?? 0.9;
    const b2 = o.beta2 ?? 0.999;
    const eps = o.eps ?? 1e-8;
    const wd = o.weightDecay ?? 0;
    const maxNorm = o.maxGradNorm ?? 0;
    const decayEmb = o.decayEmbeddings ?? false;
    this.k.write({ buf: this.bufs.step, off: 0 }, Float32Array.of(o.lr, 1 - Math.pow(b1, o.t), 1 - Math.pow(b2, o.t)));
    const record = () => {
      const step = { buf: this.bufs.step, off: 0 };
      const ss = { buf: this.bufs.ss, off: 0 };
      const grads = { buf: this.bufs.grads, off: 0 };
      if (micro > 1) this.k.scale(grads, this.nParams, 1 / micro);
      this.k.sum(ss, grads, this.nParams, true);
      this.k.clipFactor(step, ss, maxNorm);
      for (const r of decayRuns(this.table, decayEmb)) {
        const t = (buf: GPUBuffer) => ({ buf, off: r.offset });
        this.k.adamw(t(this.bufs.params), t(this.bufs.grads), t(this.bufs.m), t(this.bufs.v), step, r.n, b1, b2, eps, r.decay ? wd : 0);
      }
      this.k.sum({ buf: this.bufs.step, off: 7 }, { buf: this.bufs.params, off: 0 }, this.nParams, true);
    };
    return { key: `${micro}|${b1}|${b2}|${eps}|${wd}|${maxNorm}|${decayEmb}`, record };
  }

  /**
   * One training step: forward with loss, backward, optional global-norm clipping, AdamW. Returns when the
   * loss and norm are read back; call step() again before awaiting to keep the GPU busy.
   */
  step(inputs: Int32Array, targets: Int32Array, B: number, T: number, o: GpuStepOptions): Promise<GpuStepResult> {
    const valid = this.upload(inputs, targets, B, T);
    if (valid === 0) throw new UserError('step: the batch has no non-ignored target');
    this.k.write({ buf: this.bufs.step, off: 5 }, Float32Array.of(1 / valid));
    const update = this.prepareUpdate(o, 1);
    const prog = this.program(`step|${B}|${T}|${update.key}`, () => {
      this.recordForward(B, T, true);
      this.recordBackward(B, T);
      update.record();
    });
    return this.submit(prog).then((s) => ({ gradNorm: s[0]!, loss: s[2]! / valid, paramSumsq: s[3]! }));
  }

  /**
   * Gradient accumulation, first half: forward with loss and backward of one micro-batch, the gradients zeroed
   * first (`first`) or added to. Resolves to the micro-batch's mean loss; the queue keeps the order, so several
   * can be submitted before any is awaited. Finish the step with update(o, micro-batches).
   */
  accumulate(inputs: Int32Array, targets: Int32Array, B: number, T: number, first: boolean): Promise<number> {
    this.trainable();
    const valid = this.upload(inputs, targets, B, T);
    if (valid === 0) throw new UserError('step: the batch has no non-ignored target');
    this.k.write({ buf: this.bufs.step, off: 5 }, Float32Array.of(1 / valid));
    const prog = this.program(`accumulate|${B}|${T}|${first}`, () => {
      this.recordForward(B, T, true);
      this.recordBackward(B, T, first);
    });
    return this.submit(prog).then((s) => s[2]! / valid);
  }

  /**
   * Gradient accumulation, second half: scales the summed gradients of `micro` micro-batches by 1/micro (their
   * mean, as a single batch of all of them would give), then clips and applies AdamW like step().
   * The result's loss is NaN: accumulate() reported the losses.
   */
  update(o: GpuStepOptions, micro: number): Promise<GpuStepResult> {
    const update = this.prepareUpdate(o, micro);
    const prog = this.program(`update|${update.key}`, update.record);
    return this.submit(prog).then((s) => ({ gradNorm: s[0]!, loss: NaN, paramSumsq: s[3]! }));
  }

  /** The mean loss of a batch without training (evaluation). */
  async loss(inputs: Int32Array, targets: Int32Array, B: number, T: number): Promise<number> {
    const valid = this.upload(inputs, targets, B, T);
    if (valid === 0) return NaN;
    const prog = this.program(`loss|${B}|${T}`, () => this.recordForward(B, T, true));
    const s = await this.submit(prog);
    return s[2]! / valid;
  }

  /** Runs the forward pass and reads the logits (B*T, V) back (sampling, tests). */
  async logits(inputs: Int32Array, B: number, T: number): Promise<Float32Array> {
    this.upload(inputs, null, B, T);
    const prog = this.program(`logits|${B}|${T}`, () => this.recordForward(B, T, false));
    await this.submit(prog);
    const [out] = await this.k.read([{ t: this.a.logits, n: B * T * this.cfg.vocabSize }]);
    return out!;
  }

  /** Parameters, gradients or AdamW moments (paramTable order) read back, for checkpoints and comparisons. */
  async read(which: 'params' | 'grads' | 'm' | 'v' = 'params'): Promise<Float32Array> {
    if (which !== 'params') this.trainable();
    const [out] = await this.k.read([{ t: { buf: this.bufs[which], off: 0 }, n: this.nParams }]);
    return out!;
  }

  /** Replaces the optimizer moments (a resumed run): same layout as params. */
  loadOptimizerState(m: Float32Array, v: Float32Array): void {
    this.trainable();
    if (m.length !== this.nParams || v.length !== this.nParams) throw new UserError(`GpuModel: optimizer state has ${m.length}/${v.length} values, expected ${this.nParams}`);
    this.k.write({ buf: this.bufs.m, off: 0 }, m);
    this.k.write({ buf: this.bufs.v, off: 0 }, v);
  }

  /** Frees the GPU buffers and recorded programs. */
  dispose(): void {
    for (const prog of this.programs.values()) this.k.programs.release(prog);
    this.programs.clear();
    for (const b of Object.values(this.bufs)) b.destroy();
    for (const b of this.staging) b.destroy();
  }
}

