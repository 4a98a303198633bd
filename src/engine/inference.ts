// Single-sequence inference with a KV cache: prefill a prompt in chunks, then step one token at a time.
import type { F32, I32 } from './backend.ts';
import type { ResolvedConfig } from './config.ts';
import { type ActSpec } from './layout.ts';
import { type BlockKernels, type LayerActs, type LayerParams, type Model, type TensorView, blockTail, normForward, qkvWidth, splitBuffer } from './model.ts';
import { UserError } from '../util/errors.ts';

export interface InferenceOptions {
  /** Tokens processed per batched prefill chunk (matmuls over `chunk` rows); default 64. */
  chunk?: number;
  /** Context (cache) length; default and maximum the model's maxSeqLen. */
  ctx?: number;
  /** When the context is full, keep this many most recent tokens and re-prefill them; default floor(ctx/2). */
  keepOnSlide?: number;
}

/**
 * Generation state for one sequence. The KV cache is per layer a (ctx, (NH+2*NKV)*HS) block of packed qkv rows
 * (q rows are kept too: the same layout as training, one matmul writes a row). Positions are absolute (GPT-Neo's
 * wpe, llama's RoPE), so when the context is full the session slides: it keeps the last `keepOnSlide` tokens,
 * clears the cache and re-prefills them at positions 0..keep-1 (one batched prefill every ctx-keep tokens, instead of
 * recomputing the whole window each step). GPT-Neo's local layers read only the last `window` keys.
 * Example: `const s = new InferenceSession(model); let logits = s.prefill(promptIds); logits = s.step(next);`
 */
export class InferenceSession {
  readonly model: Model;
  readonly ctx: number;
  readonly chunk: number;
  readonly keepOnSlide: number;
  private readonly res: F32[];
  private readonly layers: LayerActs[];
  private readonly lnf: F32;
  private readonly lnfMean: F32;
  private readonly lnfRstd: F32;
  private readonly logits: F32;
  private readonly tokens: I32;
  private readonly history: Int32Array;
  /** What decodeChunk reads and writes, built once (runChunk runs per generated token). */
  private readonly buffers: DecodeBuffers<F32, I32>;
  private n = 0;
  private lastRows = 0;

  constructor(model: Model, opts: InferenceOptions = {}) {
    const cfg = model.cfg;
    this.model = model;
    this.ctx = opts.ctx ?? cfg.maxSeqLen;
    if (this.ctx < 1 || this.ctx > cfg.maxSeqLen) throw new UserError(`inference: ctx ${this.ctx} must be in [1, maxSeqLen ${cfg.maxSeqLen}]`);
    this.chunk = Math.max(1, Math.min(opts.chunk ?? 64, this.ctx));
    this.keepOnSlide = opts.keepOnSlide ?? Math.max(1, Math.floor(this.ctx / 2));
    if (this.keepOnSlide < 1 || this.keepOnSlide >= this.ctx) throw new UserError(`inference: keepOnSlide must be in [1, ctx-1], got ${this.keepOnSlide}`);
    const R = this.chunk;
    const C = cfg.dim;
    const H = cfg.hidden;
    const neo = cfg.arch === 'gpt-neo';
    const table: ActSpec[] = [];
    const add = (name: string, size: number) => table.push({ name, size });
    for (let l = 0; l <= cfg.nLayers; l++) add(`res.${l}`, R * C);
    for (let l = 0; l < cfg.nLayers; l++) {
      add(`${l}.cache`, this.ctx * qkvWidth(cfg));
      add(`${l}.ln1`, R * C);
      add(`${l}.ln1_mean`, R);
      add(`${l}.ln1_rstd`, R);
      add(`${l}.att`, R * cfg.nHeads * this.ctx);
      add(`${l}.atty`, R * C);
      add(`${l}.attproj`, R * C);
      add(`${l}.res_mid`, R * C);
      add(`${l}.ln2`, R * C);
      add(`${l}.ln2_mean`, R);
      add(`${l}.ln2_rstd`, R);
      add(`${l}.fch`, R * (neo ? H : 2 * H));
      add(`${l}.fch_act`, R * H);
      add(`${l}.fcproj`, R * C);
    }
    add('lnf', C);
    add('lnf_mean', 1);
    add('lnf_rstd', 1);
    add('logits', cfg.vocabSize);
    const m = splitBuffer(model.backend.alloc(table.reduce((s, e) => s + e.size, 0)), table);
    const v = (name: string) => m.get(name)!;
    this.res = Array.from({ length: cfg.nLayers + 1 }, (_, l) => v(`res.${l}`));
    this.layers = Array.from({ length: cfg.nLayers }, (_, l) => ({
      ln1: v(`${l}.ln1`),
      ln1Mean: v(`${l}.ln1_mean`),
      ln1Rstd: v(`${l}.ln1_rstd`),
      qkv: v(`${l}.cache`),
      att: v(`${l}.att`),
      lse: null,
      atty: v(`${l}.atty`),
      attproj: v(`${l}.attproj`),
      resMid: v(`${l}.res_mid`),
      ln2: v(`${l}.ln2`),
      ln2Mean: v(`${l}.ln2_mean`),
      ln2Rstd: v(`${l}.ln2_rstd`),
      fch: v(`${l}.fch`),
      fchAct: v(`${l}.fch_act`),
      fcproj: v(`${l}.fcproj`),
    }));
    this.lnf = v('lnf');
    this.lnfMean = v('lnf_mean');
    this.lnfRstd = v('lnf_rstd');
    this.logits = v('logits');
    this.tokens = model.backend.allocI32(R);
    this.history = new Int32Array(this.ctx);
    const rowAtt = model.cfg.nHeads * this.ctx;
    this.buffers = {
      tokens: this.tokens,
      res: this.res,
      layers: this.layers,
      lnf: this.lnf,
      lnfMean: this.lnfMean,
      lnfRstd: this.lnfRstd,
      logits: this.logits,
      cache: (l) => this.layers[l]!.qkv,
      attRow: (l, r) => this.layers[l]!.att.subarray(r * rowAtt, (r + 1) * rowAtt),
      at: (t, off, len) => t.subarray(off, off + len),
    };
  }

  /** Tokens currently in the cache (the position of the next token). */
  get pos(): number {
    return this.n;
  }

  /** The tokens currently in the cache (a copy). */
  context(): number[] {
    return Array.from(this.history.subarray(0, this.n));
  }

  /** Empties the cache. */
  reset(): void {
    this.n = 0;
    this.lastRows = 0;
  }

  /** Appends tokens (a prompt) and returns the logits after the last one (a view, overwritten by the next call). */
  prefill(tokens: ArrayLike<number>): F32 {
    if (tokens.length === 0) throw new UserError('inference: prefill needs at least one token');
    const V = this.model.cfg.vocabSize;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (!(Number.isInteger(t) && t >= 0 && t < V)) throw new UserError(`inference: token id ${t} at position ${i} is outside the vocabulary [0, ${V})`);
    }
    let i = 0;
    while (i < tokens.length) {
      if (this.n === this.ctx) this.slide();
      const n = Math.min(this.chunk, this.ctx - this.n, tokens.length - i);
      for (let r = 0; r < n; r++) this.tokens[r] = tokens[i + r]!;
      this.runChunk(n);
      i += n;
    }
    return this.logits;
  }

  /** Appends one token and returns the next-token logits (a view, overwritten by the next call). */
  step(token: number): F32 {
    return this.prefill([token]);
  }

  private slide(): void {
    const keep = Array.from(this.history.subarray(this.ctx - this.keepOnSlide, this.ctx));
    this.reset();
    this.prefill(keep);
  }

  private runChunk(n: number): void {
    const model = this.model;
    const p0 = this.n;
    decodeChunk(model.backend, model.cfg, model.p, this.buffers, n, p0);
    this.history.set(this.tokens.subarray(0, n), p0);
    this.n = p0 + n;
    this.lastRows = n;
  }

  /**
   * Views (no copy) for the LAST token processed: per layer `h.L.attn.probs` (NH, pos) — that query's attention
   * over cache positions 0..pos-1 —, `h.L.mlp.act` (H), `h.L.resid_pre`, `h.L.resid_mid` (C); `resid_final` (C)
   * and `logits` (V). For full (NH,T,T) matrices over a prompt, run model.forward(ids, null, 1, T) and read
   * model.activations().
   */
  activations(): Map<string, TensorView> {
    if (this.lastRows === 0) throw new UserError('inference: no token processed yet');
    const cfg = this.model.cfg;
    const r = this.lastRows - 1;
    const C = cfg.dim;
    const H = cfg.hidden;
    const NH = cfg.nHeads;
    const out = new Map<string, TensorView>();
    const row = (data: F32, width: number) => data.subarray(r * width, (r + 1) * width);
    for (let l = 0; l < cfg.nLayers; l++) {
      const la = this.layers[l]!;
      out.set(`h.${l}.attn.probs`, { shape: [NH, this.n], data: la.att.subarray(r * NH * this.ctx, r * NH * this.ctx + NH * this.n) });
      out.set(`h.${l}.mlp.act`, { shape: [H], data: row(la.fchAct, H) });
      out.set(`h.${l}.resid_pre`, { shape: [C], data: row(this.res[l]!, C) });
      out.set(`h.${l}.resid_mid`, { shape: [C], data: row(la.resMid, C) });
    }
    out.set('resid_final', { shape: [C], data: row(this.res[cfg.nLayers]!, C) });
    out.set('logits', { shape: [cfg.vocabSize], data: this.logits });
    return out;
  }
}

/** The kernels a KV-cache decode chunk uses, over any tensor type T with token ids I: the backends' or GpuKernels. */
export interface DecodeKernels<T, I> extends BlockKernels<T> {
  encoder_forward(out: T, inp: I, wte: T, wpe: T | null, B: number, S: number, C: number, pos0: number): void;
  rope_forward(qkv: T, B: number, S: number, NH: number, NKV: number, HS: number, theta: number, pos0: number): void;
  attention_decode_forward(out: T, att: T, qkv: T, t: number, NH: number, NKV: number, HS: number, window: number, scale: number): void;
}

/** The weights decodeChunk reads (a model's ParamViews, or their GPU tensors). */
export interface DecodeWeights<T> {
  wte: T;
  wpe: T | null;
  layers: Array<LayerParams<T>>;
  lnfw: T;
  lnfb: T | null;
  head: T;
}

/** The chunk's buffers (chunk rows), the per-layer KV cache and how to take a sub-view of a tensor. */
export interface DecodeBuffers<T, I> {
  tokens: I;
  res: T[];
  layers: Array<LayerActs<T>>;
  lnf: T;
  lnfMean: T | null;
  lnfRstd: T;
  logits: T;
  /** Layer l's cache: ctx rows of packed qkv. */
  cache(l: number): T;
  /** Where chunk row r of layer l writes its attention probabilities (NH x ctx). */
  attRow(l: number, r: number): T;
  /** The `len` elements of t from element `off` on. */
  at(t: T, off: number, len: number): T;
}

/**
 * One prefill chunk with a KV cache: n tokens at positions p0..p0+n-1 append their qkv rows to each layer's cache,
 * attend over positions 0..p0+r, and the last row's logits land in `b.logits`. The CPU InferenceSession and the GPU
 * decoder both run this, on their own tensors.
 */
export function decodeChunk<T, I>(k: DecodeKernels<T, I>, cfg: ResolvedConfig, w: DecodeWeights<T>, b: DecodeBuffers<T, I>, n: number, p0: number): void {
  const C = cfg.dim;
  const NH = cfg.nHeads;
  const NKV = cfg.nKvHeads;
  const HS = cfg.headSize;
  const QKV = qkvWidth(cfg);
  k.encoder_forward(b.res[0]!, b.tokens, w.wte, w.wpe, 1, n, C, p0);
  for (let l = 0; l < cfg.nLayers; l++) {
    const la = b.layers[l]!;
    const lp = w.layers[l]!;
    const x = b.res[l]!;
    const cache = b.cache(l);
    normForward(k, cfg, la.ln1, la.ln1Mean, la.ln1Rstd, x, lp.ln1w, lp.ln1b, n);
    const rows = b.at(cache, p0 * QKV, n * QKV);
    k.matmul_forward(rows, la.ln1, lp.qkvw, null, n, C, QKV);
    if (cfg.arch === 'llama') k.rope_forward(rows, 1, n, NH, NKV, HS, cfg.ropeTheta, p0);
    for (let r = 0; r < n; r++) {
      k.attention_decode_forward(b.at(la.atty, r * C, C), b.attRow(l, r), cache, p0 + r, NH, NKV, HS, cfg.windows[l]!, cfg.attnScale);
    }
    blockTail(k, cfg, lp, la, x, b.res[l + 1]!, n);
  }
  const last = b.at(b.res[cfg.nLayers]!, (n - 1) * C, C);
  normForward(k, cfg, b.lnf, b.lnfMean, b.lnfRstd, last, w.lnfw, w.lnfb, 1);
  k.matmul_forward(b.logits, b.lnf, w.head, null, 1, C, cfg.vocabSize);
}
