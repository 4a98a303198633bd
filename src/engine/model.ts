// The GPT-Neo / llama model on a Backend: flat buffers, forward, backward, AdamW, activation views.
//
// Buffer layout (llm.c style; every buffer is ONE backend.alloc, split into named views by an ordered table):
//  1. params: paramTable(cfg) order (layout.ts): embeddings, then per layer [norm1, packed qkv, attn out (+bias),
//     norm2, MLP in (gpt-neo c_fc; llama packed gate|up), MLP out], then the final norm (and llama's untied lm_head).
//     q/k/v are packed as rows of one ((NH+2*NKV)*HS, C) tensor; HF names/layouts come back via exportHfTensors.
//  2. grads: the same layout as params (allocated on the first zeroGrad/backward).
//  3. m, v (AdamW moments): the same layout as params (allocated on the first adamwStep).
//  4. acts: actTable(cfg, maxB, maxT) order: res.0 (embeddings), per layer [ln1, (ln1_mean), ln1_rstd, qkv (after
//     RoPE for llama), att (B,NH,T,T probabilities), atty, attproj, res_mid, ln2, (ln2_mean), ln2_rstd, fch,
//     fch_act, fcproj, res.(l+1)], then lnf, (lnf_mean), lnf_rstd, logits, (probs), losses. Each view is sized for
//     the capacity (maxB, maxT); a smaller (B, T) uses each view's first elements with its own strides.
//  5. gradActs: one layer's worth of activation-gradient scratch reused by every layer (dres, dln, dqkv, datt,
//     datty, dfch, dfch_act): the residual-stream gradient dres accumulates in place (the kernels' += rule), so no
//     per-layer gradient activations exist. probs overwrite logits unless ModelOptions.keepLogits; dlogits
//     overwrite probs (backward() computes them there; backwardFromLogits copies the caller's there).
// Nothing is allocated inside forward/backward/adamwStep once the buffers exist.
import type { Backend, F32, I32, Kernels } from './backend.ts';
import { type ModelConfig, type ResolvedConfig, resolveConfig } from './config.ts';
import { type ActSpec, type AttentionLayout, type DecayRun, type InitOptions, type ParamSpec, actTable, decayRuns, numel, paramTable } from './layout.ts';
import { Rng } from '../util/rng.ts';
import { UserError } from '../util/errors.ts';

/** Views of one layer's parameters (or gradients); null where the architecture has no such tensor. */
export interface LayerParams<T = F32> {
  ln1w: T;
  ln1b: T | null;
  qkvw: T;
  attw: T;
  attb: T | null;
  ln2w: T;
  ln2b: T | null;
  fcw: T;
  fcb: T | null;
  projw: T;
  projb: T | null;
}

/** Views of all parameters (or gradients). `head` is `wte` when the LM head is tied. */
export interface ParamViews {
  wte: F32;
  wpe: F32 | null;
  layers: LayerParams[];
  lnfw: F32;
  lnfb: F32 | null;
  head: F32;
}

/** Views of one layer's activations. */
export interface LayerActs<T = F32> {
  ln1: T;
  ln1Mean: T | null;
  ln1Rstd: T;
  qkv: T;
  /** Softmax probabilities (B,NH,T,T); empty in actTable's 'lse' layout, which keeps `lse` instead. */
  att: T;
  /** The online-softmax forward's per-row log-sum-exp (B,NH,T), in the 'lse' layout only (WebGPU's trainer). */
  lse: T | null;
  atty: T;
  attproj: T;
  resMid: T;
  ln2: T;
  ln2Mean: T | null;
  ln2Rstd: T;
  fch: T;
  fchAct: T;
  fcproj: T;
}

export interface ActViews {
  /** Residual stream: res[0] = embeddings, res[l+1] = output of layer l. */
  res: F32[];
  layers: LayerActs[];
  lnf: F32;
  lnfMean: F32 | null;
  lnfRstd: F32;
  logits: F32;
  probs: F32;
  losses: F32;
}

/** A named, shaped, read-only-by-convention view (no copy). */
export interface TensorView {
  shape: number[];
  data: F32;
}

/** AdamW hyperparameters for one step. */
export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Step number, 1-based (bias correction). */
  t: number;
  /** Also decay embeddings (wte/wpe); default false. Norm weights and biases are never decayed. */
  decayEmbeddings?: boolean;
}

export interface ModelOptions {
  /** Init seed; default 1337. */
  seed?: number;
  init?: InitOptions;
  /** Reserve activations for this batch and sequence length now (otherwise on the first forward). */
  batch?: number;
  seq?: number;
  /** Keep logits after a forward with targets (a separate (B*T,V) probs buffer); default false: probs overwrite logits. */
  keepLogits?: boolean;
}

/** Parameter count of a config without allocating it (what Model.numParams() returns). */
export function countParams(config: ModelConfig | ResolvedConfig): number {
  const cfg = 'source' in config ? config : resolveConfig(config);
  return paramTable(cfg).reduce((s, e) => s + numel(e.shape), 0);
}

/** Splits one buffer into consecutive views by a size table. */
export function splitBuffer(buf: F32, table: ReadonlyArray<{ name: string; size: number }>): Map<string, F32> {
  const out = new Map<string, F32>();
  let off = 0;
  for (const e of table) {
    out.set(e.name, buf.subarray(off, off + e.size));
    off += e.size;
  }
  return out;
}

function get(m: Map<string, F32>, name: string): F32 {
  const v = m.get(name);
  if (!v) throw new Error(`internal: no view named ${name}`);
  return v;
}

/** Structured parameter (or gradient) views over a buffer laid out by paramTable. */
export function paramViews(cfg: ResolvedConfig, table: ParamSpec[], buf: F32): ParamViews {
  const m = splitBuffer(buf, table.map((s) => ({ name: s.name, size: numel(s.shape) })));
  const layers: LayerParams[] = [];
  if (cfg.arch === 'gpt-neo') {
    for (let l = 0; l < cfg.nLayers; l++) {
      const p = `transformer.h.${l}`;
      layers.push({
        ln1w: get(m, `${p}.ln_1.weight`),
        ln1b: get(m, `${p}.ln_1.bias`),
        qkvw: get(m, `${p}.attn.attention.qkv_proj.weight`),
        attw: get(m, `${p}.attn.attention.out_proj.weight`),
        attb: get(m, `${p}.attn.attention.out_proj.bias`),
        ln2w: get(m, `${p}.ln_2.weight`),
        ln2b: get(m, `${p}.ln_2.bias`),
        fcw: get(m, `${p}.mlp.c_fc.weight`),
        fcb: get(m, `${p}.mlp.c_fc.bias`),
        projw: get(m, `${p}.mlp.c_proj.weight`),
        projb: get(m, `${p}.mlp.c_proj.bias`),
      });
    }
    const wte = get(m, 'transformer.wte.weight');
    return { wte, wpe: get(m, 'transformer.wpe.weight'), layers, lnfw: get(m, 'transformer.ln_f.weight'), lnfb: get(m, 'transformer.ln_f.bias'), head: cfg.tiedEmbeddings ? wte : get(m, 'lm_head.weight') };
  }
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `model.layers.${l}`;
    layers.push({
      ln1w: get(m, `${p}.input_layernorm.weight`),
      ln1b: null,
      qkvw: get(m, `${p}.self_attn.qkv_proj.weight`),
      attw: get(m, `${p}.self_attn.o_proj.weight`),
      attb: null,
      ln2w: get(m, `${p}.post_attention_layernorm.weight`),
      ln2b: null,
      fcw: get(m, `${p}.mlp.gate_up_proj.weight`),
      fcb: null,
      projw: get(m, `${p}.mlp.down_proj.weight`),
      projb: null,
    });
  }
  const wte = get(m, 'model.embed_tokens.weight');
  return { wte, wpe: null, layers, lnfw: get(m, 'model.norm.weight'), lnfb: null, head: cfg.tiedEmbeddings ? wte : get(m, 'lm_head.weight') };
}

/** Structured activation views over a buffer laid out by actTable. */
export function actViews(cfg: ResolvedConfig, table: ActSpec[], buf: F32): ActViews {
  const m = splitBuffer(buf, table);
  const opt = (name: string) => m.get(name) ?? null;
  const res: F32[] = [];
  const layers: LayerActs[] = [];
  for (let l = 0; l <= cfg.nLayers; l++) res.push(get(m, `res.${l}`));
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `h.${l}`;
    layers.push({
      ln1: get(m, `${p}.ln1`),
      ln1Mean: opt(`${p}.ln1_mean`),
      ln1Rstd: get(m, `${p}.ln1_rstd`),
      qkv: get(m, `${p}.qkv`),
      att: get(m, `${p}.att`),
      lse: opt(`${p}.lse`),
      atty: get(m, `${p}.atty`),
      attproj: get(m, `${p}.attproj`),
      resMid: get(m, `${p}.res_mid`),
      ln2: get(m, `${p}.ln2`),
      ln2Mean: opt(`${p}.ln2_mean`),
      ln2Rstd: get(m, `${p}.ln2_rstd`),
      fch: get(m, `${p}.fch`),
      fchAct: get(m, `${p}.fch_act`),
      fcproj: get(m, `${p}.fcproj`),
    });
  }
  return { res, layers, lnf: get(m, 'lnf'), lnfMean: opt('lnf_mean'), lnfRstd: get(m, 'lnf_rstd'), logits: get(m, 'logits'), probs: m.get('probs') ?? get(m, 'logits'), losses: get(m, 'losses') };
}

/**
 * The kernels a block's norms and tail need, over any tensor type: F32 views on the CPU backends, GpuTensors on
 * WebGPU (whose GpuKernels has the same signatures), so one normForward/blockTail serves both.
 */
export interface BlockKernels<T> {
  layernorm_forward(out: T, mean: T, rstd: T, inp: T, weight: T, bias: T, N: number, C: number, eps: number): void;
  layernorm_backward(dinp: T, dweight: T, dbias: T, dout: T, inp: T, weight: T, mean: T, rstd: T, N: number, C: number): void;
  rmsnorm_forward(out: T, rstd: T, inp: T, weight: T, N: number, C: number, eps: number): void;
  rmsnorm_backward(dinp: T, dweight: T, dout: T, inp: T, weight: T, rstd: T, N: number, C: number): void;
  matmul_forward(out: T, inp: T, weight: T, bias: T | null, N: number, C: number, OC: number): void;
  gelu_forward(out: T, inp: T, N: number): void;
  swiglu_forward(out: T, inp: T, N: number, H: number): void;
  residual_forward(out: T, inp1: T, inp2: T, N: number): void;
}

/** LayerNorm (gpt-neo) or RMSNorm (llama) forward over N rows. */
export function normForward<T>(k: BlockKernels<T>, cfg: ResolvedConfig, out: T, mean: T | null, rstd: T, inp: T, w: T, b: T | null, N: number): void {
  if (cfg.arch === 'gpt-neo') k.layernorm_forward(out, mean!, rstd, inp, w, b!, N, cfg.dim, cfg.normEps);
  else k.rmsnorm_forward(out, rstd, inp, w, N, cfg.dim, cfg.normEps);
}

/** LayerNorm or RMSNorm backward over N rows (dinp, dw, db accumulate as the kernels do). */
function normBackward<T>(k: BlockKernels<T>, cfg: ResolvedConfig, dinp: T, dw: T, db: T | null, dout: T, inp: T, w: T, mean: T | null, rstd: T, N: number): void {
  if (cfg.arch === 'gpt-neo') k.layernorm_backward(dinp, dw, db!, dout, inp, w, mean!, rstd, N, cfg.dim);
  else k.rmsnorm_backward(dinp, dw, dout, inp, w, rstd, N, cfg.dim);
}

/**
 * Copies N target ids into `out` as the cross-entropy kernels take them (< 0, ignored, becomes -1) and returns how
 * many are not ignored; an id >= V is a UserError.
 */
export function copyTargets(targets: ArrayLike<number>, out: Int32Array, N: number, V: number): number {
  let valid = 0;
  for (let i = 0; i < N; i++) {
    const t = targets[i]!;
    if (t >= V) throw new UserError(`forward: target id ${t} at position ${i} is outside the vocabulary [0, ${V})`);
    out[i] = t < 0 ? -1 : t;
    if (t >= 0) valid++;
  }
  return valid;
}

/** Width of the packed qkv rows. */
export function qkvWidth(cfg: ResolvedConfig): number {
  return (cfg.nHeads + 2 * cfg.nKvHeads) * cfg.headSize;
}

/** The part of a block after attention: out projection, residual, norm 2, MLP, residual into y. */
export function blockTail<T>(k: BlockKernels<T>, cfg: ResolvedConfig, p: LayerParams<T>, a: LayerActs<T>, x: T, y: T, N: number): void {
  const C = cfg.dim;
  const H = cfg.hidden;
  const neo = cfg.arch === 'gpt-neo';
  k.matmul_forward(a.attproj, a.atty, p.attw, p.attb, N, C, C);
  k.residual_forward(a.resMid, x, a.attproj, N * C);
  normForward(k, cfg, a.ln2, a.ln2Mean, a.ln2Rstd, a.resMid, p.ln2w, p.ln2b, N);
  k.matmul_forward(a.fch, a.ln2, p.fcw, p.fcb, N, C, neo ? H : 2 * H);
  if (neo) k.gelu_forward(a.fchAct, a.fch, N * H);
  else k.swiglu_forward(a.fchAct, a.fch, N, H);
  k.matmul_forward(a.fcproj, a.fchAct, p.projw, p.projb, N, H, C);
  k.residual_forward(y, a.resMid, a.fcproj, N * C);
}

export interface GradScratch<T = F32> {
  dres: T;
  dln: T;
  dqkv: T;
  datt: T;
  datty: T;
  dfch: T;
  dfchAct: T;
}

/** The kernels blocksBackward adds to BlockKernels, over any tensor type T. */
export interface BackwardKernels<T> extends BlockKernels<T> {
  matmul_backward(dinp: T | null, dweight: T | null, dbias: T | null, dout: T, inp: T, weight: T, N: number, C: number, OC: number): void;
  /**
   * The contract's attention_backward plus `saved`: where the layout kept the forward's output and log-sum-exp
   * instead of the probabilities (LayerActs.lse), WebGPU's FlashAttention-2 backward recomputes the probabilities
   * from them (memory linear in T) and ignores att. The CPU backends always get null here and read att, so their
   * kernels keep the contract's signature (a 12-argument method satisfies this one).
   */
  attention_backward(dqkv: T, datt: T, dout: T, qkv: T, att: T, B: number, S: number, NH: number, NKV: number, HS: number, window: number, scale: number, saved: { out: T; lse: T } | null): void;
  rope_backward(dqkv: T, B: number, S: number, NH: number, NKV: number, HS: number, theta: number, pos0: number): void;
  gelu_backward(dinp: T, inp: T, dout: T, N: number): void;
  swiglu_backward(dinp: T, inp: T, dout: T, N: number, H: number): void;
}

/** The weights (or their gradients) blocksBackward reads (or accumulates into). */
interface BlockWeights<T> {
  layers: Array<LayerParams<T>>;
  lnfw: T;
  lnfb: T | null;
  head: T;
}

/**
 * The backward pass from dlogits (held in a.probs) through the LM head, the final norm and every block, leaving
 * d res[0] in d.dres for the embedding backward; gradients accumulate into g. `zero(t, n)` clears scratch before
 * each accumulating kernel. Shared by Model (CPU backends) and GpuModel (WebGPU), each with its own tensors.
 */
export function blocksBackward<T>(k: BackwardKernels<T>, cfg: ResolvedConfig, p: BlockWeights<T>, g: BlockWeights<T>, a: { res: T[]; layers: Array<LayerActs<T>>; lnf: T; lnfMean: T | null; lnfRstd: T; probs: T }, d: GradScratch<T>, B: number, T: number, zero: (t: T, n: number) => void): void {
  const N = B * T;
  const C = cfg.dim;
  const V = cfg.vocabSize;
  const H = cfg.hidden;
  const NH = cfg.nHeads;
  const NKV = cfg.nKvHeads;
  const HS = cfg.headSize;
  const QKV = qkvWidth(cfg);
  const neo = cfg.arch === 'gpt-neo';
  const FCH = neo ? H : 2 * H;
  const L = cfg.nLayers;
    zero(d.dln, N * C);
    k.matmul_backward(d.dln, g.head, null, a.probs, a.lnf, p.head, N, C, V);
    zero(d.dres, N * C);
    normBackward(k, cfg, d.dres, g.lnfw, g.lnfb, d.dln, a.res[L]!, p.lnfw, a.lnfMean, a.lnfRstd, N);
    for (let l = L - 1; l >= 0; l--) {
      const la = a.layers[l]!;
      const lp = p.layers[l]!;
      const lg = g.layers[l]!;
      // MLP branch: res[l+1] = res_mid + proj(act(fc(ln2(res_mid)))); dres holds d res[l+1]
      zero(d.dfchAct, N * H);
      k.matmul_backward(d.dfchAct, lg.projw, lg.projb, d.dres, la.fchAct, lp.projw, N, H, C);
      zero(d.dfch, N * FCH);
      if (neo) k.gelu_backward(d.dfch, la.fch, d.dfchAct, N * H);
      else k.swiglu_backward(d.dfch, la.fch, d.dfchAct, N, H);
      zero(d.dln, N * C);
      k.matmul_backward(d.dln, lg.fcw, lg.fcb, d.dfch, la.ln2, lp.fcw, N, C, FCH);
      normBackward(k, cfg, d.dres, lg.ln2w, lg.ln2b, d.dln, la.resMid, lp.ln2w, la.ln2Mean, la.ln2Rstd, N);
      // attention branch: res_mid = res[l] + attproj(attention(qkv(ln1(res[l])))); dres now holds d res_mid
      zero(d.datty, N * C);
      k.matmul_backward(d.datty, lg.attw, lg.attb, d.dres, la.atty, lp.attw, N, C, C);
      zero(d.dqkv, N * QKV);
      k.attention_backward(d.dqkv, d.datt, d.datty, la.qkv, la.att, B, T, NH, NKV, HS, cfg.windows[l]!, cfg.attnScale, la.lse ? { out: la.atty, lse: la.lse } : null);
      if (!neo) k.rope_backward(d.dqkv, B, T, NH, NKV, HS, cfg.ropeTheta, 0);
      zero(d.dln, N * C);
      k.matmul_backward(d.dln, lg.qkvw, null, d.dqkv, la.ln1, lp.qkvw, N, C, QKV);
      normBackward(k, cfg, d.dres, lg.ln1w, lg.ln1b, d.dln, a.res[l]!, lp.ln1w, la.ln1Mean, la.ln1Rstd, N);
    }
}

/**
 * The activation-gradient scratch of one layer (reused by every layer), in order. datt is the attention backward's
 * scratch: (B,NH,T,T) for the probabilities' gradient, or in the 'lse' layout (see actTable) one value per row.
 */
export function gradScratchTable(cfg: ResolvedConfig, B: number, T: number, attention: AttentionLayout = 'probs'): ActSpec[] {
  const N = B * T;
  const C = cfg.dim;
  return [
    { name: 'dres', size: N * C },
    { name: 'dln', size: N * C },
    { name: 'dqkv', size: N * qkvWidth(cfg) },
    { name: 'datt', size: B * cfg.nHeads * T * (attention === 'probs' ? T : 1) },
    { name: 'datty', size: N * C },
    { name: 'dfch', size: N * (cfg.arch === 'gpt-neo' ? 1 : 2) * cfg.hidden },
    { name: 'dfchAct', size: N * cfg.hidden },
  ];
}

interface AdamRun {
  p: F32;
  g: F32;
  m: F32;
  v: F32;
  n: number;
  decay: boolean;
}

/**
 * A GPT-Neo or llama model whose tensors live in a Backend's memory.
 * Example: `const m = new Model(presetConfig('1M', { vocabSize: 4096 }), createRefBackend(), { seed: 1 });
 * m.zeroGrad(); const loss = m.forward(x, y, B, T); m.backward(); m.adamwStep({ lr: 1e-3, t: 1 });`
 */
export class Model {
  readonly cfg: ResolvedConfig;
  readonly backend: Backend;
  readonly table: ParamSpec[];
  readonly nParams: number;
  /** All parameters, paramTable order. */
  readonly params: F32;
  readonly p: ParamViews;
  private gradBuf: F32 | null = null;
  private gViews: ParamViews | null = null;
  private mBuf: F32 | null = null;
  private vBuf: F32 | null = null;
  private acts: F32 | null = null;
  private a: ActViews | null = null;
  private gradActs: GradScratch | null = null;
  private inputs: I32 | null = null;
  private targets: I32 | null = null;
  private capB = 0;
  private capT = 0;
  private lastB = 0;
  private lastT = 0;
  private lastValid = 0;
  private logitsValid = false;
  private probsValid = false;
  /** A forward ran and no backward has consumed it yet. */
  private backwardReady = false;
  private readonly keepLogits: boolean;
  private adamViews: { plain?: AdamRun[]; emb?: AdamRun[] } = {};
  private runsPlain: DecayRun[];
  private runsEmb: DecayRun[];

  constructor(config: ModelConfig | ResolvedConfig, backend: Backend, opts: ModelOptions = {}) {
    this.cfg = 'source' in config ? config : resolveConfig(config);
    this.backend = backend;
    this.keepLogits = opts.keepLogits ?? false;
    this.table = paramTable(this.cfg, opts.init);
    this.nParams = this.table.reduce((s, e) => s + numel(e.shape), 0);
    this.params = backend.alloc(this.nParams);
    this.p = paramViews(this.cfg, this.table, this.params);
    this.runsPlain = decayRuns(this.table, false);
    this.runsEmb = decayRuns(this.table, true);
    this.init(opts.seed ?? 1337);
    if (opts.batch !== undefined || opts.seq !== undefined) this.reserve(opts.batch ?? 1, opts.seq ?? this.cfg.maxSeqLen);
  }

  /** Re-initialises all parameters from a seed (normal 0.02, residual projections scaled; see paramTable). */
  init(seed: number): void {
    const rng = new Rng(seed);
    let off = 0;
    for (const spec of this.table) {
      const cols = numel(spec.shape) / spec.shape[0]!;
      for (const part of spec.parts) {
        const start = off + part.rowStart * cols;
        const end = start + part.rows * cols;
        const ini = part.init;
        if (ini.kind === 'ones') this.params.fill(1, start, end);
        else if (ini.kind === 'zeros') this.params.fill(0, start, end);
        else for (let i = start; i < end; i++) this.params[i] = rng.normal() * ini.std;
      }
      off += numel(spec.shape);
    }
  }

  /** The number of parameters, counted as HF's `num_parameters()` / llama2.c do (a tied head counted once). */
  numParams(): number {
    return this.nParams;
  }

  /** Gradients (same layout as params); allocated on first use. */
  get grads(): F32 {
    if (!this.gradBuf) {
      this.gradBuf = this.backend.alloc(this.nParams);
      this.gViews = paramViews(this.cfg, this.table, this.gradBuf);
    }
    return this.gradBuf;
  }

  /** Structured gradient views. */
  get g(): ParamViews {
    void this.grads;
    return this.gViews!;
  }

  /** AdamW first and second moments (same layout as params); allocated on first use. */
  optimizerState(): { m: F32; v: F32 } {
    if (!this.mBuf) {
      this.mBuf = this.backend.alloc(this.nParams);
      this.vBuf = this.backend.alloc(this.nParams);
    }
    return { m: this.mBuf, v: this.vBuf! };
  }

  /** Allocates activations for batches up to B sequences of up to T tokens (a no-op if they already fit). */
  reserve(B: number, T: number): void {
    if (T > this.cfg.maxSeqLen) throw new UserError(`sequence length ${T} exceeds the model's maxSeqLen ${this.cfg.maxSeqLen}`);
    if (B <= this.capB && T <= this.capT) return;
    B = Math.max(B, this.capB);
    T = Math.max(T, this.capT);
    const table = actTable(this.cfg, B, T, this.keepLogits);
    this.acts = this.backend.alloc(table.reduce((s, e) => s + e.size, 0));
    this.a = actViews(this.cfg, table, this.acts);
    const gt = gradScratchTable(this.cfg, B, T);
    const gm = splitBuffer(this.backend.alloc(gt.reduce((s, e) => s + e.size, 0)), gt);
    this.gradActs = { dres: get(gm, 'dres'), dln: get(gm, 'dln'), dqkv: get(gm, 'dqkv'), datt: get(gm, 'datt'), datty: get(gm, 'datty'), dfch: get(gm, 'dfch'), dfchAct: get(gm, 'dfchAct') };
    this.inputs = this.backend.allocI32(B * T);
    this.targets = this.backend.allocI32(B * T);
    this.capB = B;
    this.capT = T;
  }

  /**
   * Runs the model on inputs (B,T) token ids; with targets (B,T) (ids, or < 0 to ignore a position) also computes
   * the loss and returns its mean over the non-ignored positions (NaN without targets). activations() then shows
   * 'logits' (without targets, or with keepLogits) and 'probs' (with targets, until backward() overwrites them).
   */
  forward(inputs: I32, targets: I32 | null, B: number, T: number): number {
    const cfg = this.cfg;
    const N = B * T;
    if (inputs.length < N) throw new UserError(`forward: inputs has ${inputs.length} tokens, expected B*T = ${N}`);
    if (targets && targets.length < N) throw new UserError(`forward: targets has ${targets.length} tokens, expected B*T = ${N}`);
    this.reserve(B, T);
    const k = this.backend;
    const a = this.a!;
    const p = this.p;
    const inp = this.inputs!;
    const V = cfg.vocabSize;
    for (let i = 0; i < N; i++) {
      const id = inputs[i]!;
      if (!(id >= 0 && id < V)) throw new UserError(`forward: token id ${id} at position ${i} is outside the vocabulary [0, ${V})`);
      inp[i] = id;
    }
    const C = cfg.dim;
    const NH = cfg.nHeads;
    const NKV = cfg.nKvHeads;
    const HS = cfg.headSize;
    const QKV = qkvWidth(cfg);
    k.encoder_forward(a.res[0]!, inp, p.wte, p.wpe, B, T, C, 0);
    for (let l = 0; l < cfg.nLayers; l++) {
      const la = a.layers[l]!;
      const lp = p.layers[l]!;
      normForward(k, cfg, la.ln1, la.ln1Mean, la.ln1Rstd, a.res[l]!, lp.ln1w, lp.ln1b, N);
      k.matmul_forward(la.qkv, la.ln1, lp.qkvw, null, N, C, QKV);
      if (cfg.arch === 'llama') k.rope_forward(la.qkv, B, T, NH, NKV, HS, cfg.ropeTheta, 0);
      k.attention_forward(la.atty, la.att, la.qkv, B, T, NH, NKV, HS, cfg.windows[l]!, cfg.attnScale);
      blockTail(k, cfg, lp, la, a.res[l]!, a.res[l + 1]!, N);
    }
    normForward(k, cfg, a.lnf, a.lnfMean, a.lnfRstd, a.res[cfg.nLayers]!, p.lnfw, p.lnfb, N);
    k.matmul_forward(a.logits, a.lnf, p.head, null, N, C, V);
    this.lastB = B;
    this.lastT = T;
    this.lastValid = 0;
    this.backwardReady = true;
    this.logitsValid = true;
    this.probsValid = false;
    if (!targets) return NaN;
    const tg = this.targets!;
    const valid = copyTargets(targets, tg, N, V);
    k.crossentropy_softmax_forward(a.losses, a.probs, a.logits, tg, N, V);
    this.logitsValid = this.keepLogits;
    this.probsValid = true;
    this.lastValid = valid;
    if (valid === 0) return NaN;
    let sum = 0;
    for (let i = 0; i < N; i++) sum += a.losses[i]!;
    return sum / valid;
  }

  /** Zeroes the gradient buffer (call once before each backward, or once per accumulation cycle). */
  zeroGrad(): void {
    this.grads.fill(0);
  }

  /**
   * Adds the gradient of the last forward's mean loss into grads (call zeroGrad first). The loss gradient is
   * 1/(non-ignored positions) per position; for gradient accumulation over K micro-batches scale lr or grads by 1/K.
   */
  backward(): void {
    if (this.lastValid === 0) throw new UserError('backward: call forward with targets (at least one non-ignored) first');
    const a = this.a!;
    const N = this.lastB * this.lastT;
    this.backend.crossentropy_softmax_backward(a.probs, a.probs, this.targets!, 1 / this.lastValid, N, this.cfg.vocabSize);
    this.backwardFromDlogits();
  }

  /**
   * Adds into grads the gradient of any loss, given its gradient on the last forward's logits: dlogits (B*T, V) for
   * that forward's B and T (rows of positions without a loss are zeros). The forward may have had targets or not;
   * one backward per forward. dlogits is copied into the model's own buffer (it overwrites probs, and the logits
   * too unless keepLogits), so any Float32Array will do. With dlogits = (probs - onehot(target)) / (non-ignored
   * positions) on the supervised rows this is backward().
   * Example: `m.forward(x, null, B, T); const d = myLossGrad(m.actViews().logits); m.zeroGrad(); m.backwardFromLogits(d);`
   */
  backwardFromLogits(dlogits: F32): void {
    if (!this.backwardReady) throw new UserError('backwardFromLogits: call forward first (one backward per forward)');
    const N = this.lastB * this.lastT;
    const NV = N * this.cfg.vocabSize;
    if (dlogits.length < NV) throw new UserError(`backwardFromLogits: dlogits has ${dlogits.length} values, expected B*T*V = ${NV}`);
    this.a!.probs.set(dlogits.subarray(0, NV));
    this.backwardFromDlogits();
  }

  /** The backward pass from the dlogits held in the probs buffer down to the embeddings (grads +=). */
  private backwardFromDlogits(): void {
    const cfg = this.cfg;
    const k = this.backend;
    const a = this.a!;
    const p = this.p;
    const g = this.g;
    const d = this.gradActs!;
    const B = this.lastB;
    const T = this.lastT;
    blocksBackward(k, cfg, p, g, a, d, B, T, (t, n) => t.fill(0, 0, n));
    k.encoder_backward(g.wte, g.wpe, d.dres, this.inputs!, B, T, cfg.dim);
    // probs now hold dlogits (and so do the logits, unless kept apart): a second backward needs a new forward
    this.lastValid = 0;
    this.backwardReady = false;
    this.probsValid = false;
    if (!this.keepLogits) this.logitsValid = false;
  }

  /** The global L2 norm of the gradients. */
  gradNorm(): number {
    return Math.sqrt(this.backend.sumsq(this.grads, this.nParams));
  }

  /** Scales gradients so their global norm is at most maxNorm; returns the norm before clipping. */
  clipGradNorm(maxNorm: number): number {
    const norm = this.gradNorm();
    if (norm > maxNorm && norm > 0) this.backend.scale(this.grads, this.nParams, maxNorm / norm);
    return norm;
  }

  /** One AdamW update (PyTorch semantics); weight decay on matmul weights only (and embeddings if asked). */
  adamwStep(o: AdamWOptions): void {
    const wd = o.weightDecay ?? 0;
    const b1 = o.beta1 ?? 0.9;
    const b2 = o.beta2 ?? 0.999;
    const eps = o.eps ?? 1e-8;
    for (const r of this.adamRuns(o.decayEmbeddings ?? false)) this.backend.adamw_update(r.p, r.g, r.m, r.v, r.n, o.lr, b1, b2, eps, r.decay ? wd : 0, o.t);
  }

  /** Views per weight-decay run, made once (no allocation per step). */
  private adamRuns(decayEmbeddings: boolean): AdamRun[] {
    const key = decayEmbeddings ? 'emb' : 'plain';
    const cached = this.adamViews[key];
    if (cached) return cached;
    const { m, v } = this.optimizerState();
    const g = this.grads;
    const made = (decayEmbeddings ? this.runsEmb : this.runsPlain).map((r) => {
      const e = r.offset + r.n;
      return { p: this.params.subarray(r.offset, e), g: g.subarray(r.offset, e), m: m.subarray(r.offset, e), v: v.subarray(r.offset, e), n: r.n, decay: r.decay };
    });
    this.adamViews[key] = made;
    return made;
  }

  /** Structured activation views (capacity-sized; see activations() for shaped views of the last forward). */
  actViews(): ActViews {
    if (!this.a) throw new UserError('no activations yet: run forward first');
    return this.a;
  }

  /**
   * Named, shaped views (no copy) of the last forward's activations: per layer `h.L.attn.probs` (B,NH,T,T),
   * `h.L.mlp.act` (B,T,H) (post-gelu / post-SwiGLU), `h.L.resid_pre` and `h.L.resid_mid` (B,T,C); `resid_final`
   * (B,T,C) before the final norm; `logits` (B,T,V) when they are still held (forward without targets, or
   * keepLogits) and `probs` (B,T,V) after a forward with targets until backward(). Valid until the next forward;
   * treat them as read-only.
   */
  activations(): Map<string, TensorView> {
    const a = this.actViews();
    const cfg = this.cfg;
    const B = this.lastB;
    const T = this.lastT;
    const C = cfg.dim;
    const out = new Map<string, TensorView>();
    const view = (data: F32, shape: number[]) => ({ shape, data: data.subarray(0, numel(shape)) });
    for (let l = 0; l < cfg.nLayers; l++) {
      const la = a.layers[l]!;
      out.set(`h.${l}.attn.probs`, view(la.att, [B, cfg.nHeads, T, T]));
      out.set(`h.${l}.mlp.act`, view(la.fchAct, [B, T, cfg.hidden]));
      out.set(`h.${l}.resid_pre`, view(a.res[l]!, [B, T, C]));
      out.set(`h.${l}.resid_mid`, view(la.resMid, [B, T, C]));
    }
    out.set('resid_final', view(a.res[cfg.nLayers]!, [B, T, C]));
    if (this.logitsValid) out.set('logits', view(a.logits, [B, T, cfg.vocabSize]));
    if (this.probsValid) out.set('probs', view(a.probs, [B, T, cfg.vocabSize]));
    return out;
  }
}
