// Ordered size tables: the parameter table (HF names, shapes, init, weight decay) and the activation table.
import { type ModelConfig, type ResolvedConfig, resolveConfig } from './config.ts';

/** How a parameter (or a packed part of one) is initialised. */
export type Init = { kind: 'normal'; std: number } | { kind: 'ones' } | { kind: 'zeros' };

/** A Hugging Face tensor stored as rows [rowStart, rowStart+rows) of a (possibly packed) parameter. */
export interface HfPart {
  hfName: string;
  rowStart: number;
  rows: number;
  init: Init;
}

/** One parameter tensor of the flat parameter buffer. */
export interface ParamSpec {
  /** HF's name, or for packed tensors (q/k/v, gate/up) an HF-style name of the packed tensor. */
  name: string;
  shape: number[];
  /** Weight decay applies (matmul weights only). */
  decay: boolean;
  /** What it is, for optimizer groups: 'matmul' | 'embedding' | 'norm' | 'bias'. */
  role: 'matmul' | 'embedding' | 'norm' | 'bias';
  /** The HF tensors packed in this one along dim 0 (a single part for unpacked tensors). */
  parts: HfPart[];
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Initialisation options: std 0.02 everywhere; residual projections scaled by 1/sqrt(2L) (see paramTable). */
export interface InitOptions {
  std?: number;
  /** Scale the residual-branch output projections by 1/sqrt(2 * nLayers); default true. */
  scaleResidual?: boolean;
}

/**
 * The ordered parameter table. Packing: q/k/v are one ((NH+2*NKV)*HS, C) tensor (rows: q, k, v) so one matmul
 * computes them; llama's gate and up projections are one (2H, C) tensor (rows: gate, up), matching swiglu's input.
 * Init: normal(0, 0.02) for matmul weights and embeddings, zeros for biases, ones for norm weights (HF
 * `_init_weights`, llama2.c `_init_weights`). Residual projections are normal(0, 0.02/sqrt(2L)): for llama exactly
 * llama2.c (wo = o_proj and w3 = up_proj); for gpt-neo GPT-2's rule (out_proj and c_proj), which HF's GPTNeo
 * `_init_weights` does not apply — pass scaleResidual: false for plain HF GPT-Neo init.
 */
export function paramTable(config: ModelConfig | ResolvedConfig, init: InitOptions = {}): ParamSpec[] {
  const cfg = 'source' in config ? config : resolveConfig(config);
  const std = init.std ?? 0.02;
  const resStd = (init.scaleResidual ?? true) ? std / Math.sqrt(2 * cfg.nLayers) : std;
  const normal: Init = { kind: 'normal', std };
  const resNormal: Init = { kind: 'normal', std: resStd };
  const ones: Init = { kind: 'ones' };
  const zeros: Init = { kind: 'zeros' };
  const { dim: C, vocabSize: V, hidden: H, nHeads: NH, nKvHeads: NKV, headSize: HS } = cfg;
  const out: ParamSpec[] = [];
  const one = (name: string, shape: number[], role: ParamSpec['role'], ini: Init) =>
    out.push({ name, shape, role, decay: role === 'matmul', parts: [{ hfName: name, rowStart: 0, rows: shape[0]!, init: ini }] });
  const packed = (name: string, cols: number, parts: Array<[string, number, Init]>) => {
    let row = 0;
    const ps: HfPart[] = parts.map(([hfName, rows, ini]) => {
      const p = { hfName, rowStart: row, rows, init: ini };
      row += rows;
      return p;
    });
    out.push({ name, shape: [row, cols], role: 'matmul', decay: true, parts: ps });
  };
  if (cfg.arch === 'gpt-neo') {
    one('transformer.wte.weight', [V, C], 'embedding', normal);
    one('transformer.wpe.weight', [cfg.maxSeqLen, C], 'embedding', normal);
    for (let l = 0; l < cfg.nLayers; l++) {
      const p = `transformer.h.${l}`;
      one(`${p}.ln_1.weight`, [C], 'norm', ones);
      one(`${p}.ln_1.bias`, [C], 'bias', zeros);
      packed(`${p}.attn.attention.qkv_proj.weight`, C, [
        [`${p}.attn.attention.q_proj.weight`, C, normal],
        [`${p}.attn.attention.k_proj.weight`, C, normal],
        [`${p}.attn.attention.v_proj.weight`, C, normal],
      ]);
      one(`${p}.attn.attention.out_proj.weight`, [C, C], 'matmul', resNormal);
      one(`${p}.attn.attention.out_proj.bias`, [C], 'bias', zeros);
      one(`${p}.ln_2.weight`, [C], 'norm', ones);
      one(`${p}.ln_2.bias`, [C], 'bias', zeros);
      one(`${p}.mlp.c_fc.weight`, [H, C], 'matmul', normal);
      one(`${p}.mlp.c_fc.bias`, [H], 'bias', zeros);
      one(`${p}.mlp.c_proj.weight`, [C, H], 'matmul', resNormal);
      one(`${p}.mlp.c_proj.bias`, [C], 'bias', zeros);
    }
    one('transformer.ln_f.weight', [C], 'norm', ones);
    one('transformer.ln_f.bias', [C], 'bias', zeros);
    if (!cfg.tiedEmbeddings) one('lm_head.weight', [V, C], 'matmul', normal);
  } else {
    one('model.embed_tokens.weight', [V, C], 'embedding', normal);
    for (let l = 0; l < cfg.nLayers; l++) {
      const p = `model.layers.${l}`;
      one(`${p}.input_layernorm.weight`, [C], 'norm', ones);
      packed(`${p}.self_attn.qkv_proj.weight`, C, [
        [`${p}.self_attn.q_proj.weight`, NH * HS, normal],
        [`${p}.self_attn.k_proj.weight`, NKV * HS, normal],
        [`${p}.self_attn.v_proj.weight`, NKV * HS, normal],
      ]);
      one(`${p}.self_attn.o_proj.weight`, [C, NH * HS], 'matmul', resNormal);
      one(`${p}.post_attention_layernorm.weight`, [C], 'norm', ones);
      packed(`${p}.mlp.gate_up_proj.weight`, C, [
        [`${p}.mlp.gate_proj.weight`, H, normal],
        [`${p}.mlp.up_proj.weight`, H, resNormal],
      ]);
      one(`${p}.mlp.down_proj.weight`, [C, H], 'matmul', normal);
    }
    one('model.norm.weight', [C], 'norm', ones);
    if (!cfg.tiedEmbeddings) one('lm_head.weight', [V, C], 'matmul', normal);
  }
  return out;
}

/** A stretch of the flat parameter buffer whose tensors all do, or all do not, get weight decay. */
export interface DecayRun {
  offset: number;
  n: number;
  decay: boolean;
}

/**
 * The parameter table as maximal weight-decay runs (AdamW updates each run in one call): matmul weights decay, and
 * embeddings too when `decayEmbeddings`.
 */
export function decayRuns(table: readonly ParamSpec[], decayEmbeddings: boolean): DecayRun[] {
  const runs: DecayRun[] = [];
  let off = 0;
  for (const s of table) {
    const n = numel(s.shape);
    const decay = s.decay || (decayEmbeddings && s.role === 'embedding');
    const last = runs[runs.length - 1];
    if (last && last.decay === decay) last.n += n;
    else runs.push({ offset: off, n, decay });
    off += n;
  }
  return runs;
}

/** One named activation tensor; `shape` uses the capacity (maxB, maxT). */
export interface ActSpec {
  name: string;
  size: number;
}

/**
 * What each layer keeps of its attention for the backward: 'probs', the (B,NH,T,T) softmax probabilities (the CPU
 * kernels' backward reads them; inspection shows them), or 'lse', only the online-softmax forward's per-row
 * log-sum-exp (B,NH,T), from which WebGPU's FlashAttention-2 backward recomputes them: memory linear in T.
 */
export type AttentionLayout = 'probs' | 'lse';

/**
 * Sizes of the activation buffer for B*T = N rows and T columns of attention. `separateProbs` gives softmax
 * probabilities their own (N,V) view; otherwise they overwrite the logits (llm.c's choice: the (N,V) tensors
 * dominate memory at large vocabularies). In the 'lse' attention layout each layer's `att` is empty and `lse` follows it.
 */
export function actTable(cfg: ResolvedConfig, B: number, T: number, separateProbs = false, attention: AttentionLayout = 'probs'): ActSpec[] {
  const N = B * T;
  const { dim: C, vocabSize: V, hidden: H, nHeads: NH, nKvHeads: NKV, headSize: HS } = cfg;
  const neo = cfg.arch === 'gpt-neo';
  const QKV = (NH + 2 * NKV) * HS;
  const FCH = neo ? H : 2 * H;
  const out: ActSpec[] = [];
  const a = (name: string, size: number) => out.push({ name, size });
  a('res.0', N * C);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `h.${l}`;
    a(`${p}.ln1`, N * C);
    if (neo) a(`${p}.ln1_mean`, N);
    a(`${p}.ln1_rstd`, N);
    a(`${p}.qkv`, N * QKV);
    if (attention === 'probs') a(`${p}.att`, B * NH * T * T);
    else {
      a(`${p}.att`, 0);
      a(`${p}.lse`, B * NH * T);
    }
    a(`${p}.atty`, N * C);
    a(`${p}.attproj`, N * C);
    a(`${p}.res_mid`, N * C);
    a(`${p}.ln2`, N * C);
    if (neo) a(`${p}.ln2_mean`, N);
    a(`${p}.ln2_rstd`, N);
    a(`${p}.fch`, N * FCH);
    a(`${p}.fch_act`, N * H);
    a(`${p}.fcproj`, N * C);
    a(`res.${l + 1}`, N * C);
  }
  a('lnf', N * C);
  if (neo) a('lnf_mean', N);
  a('lnf_rstd', N);
  a('logits', N * V);
  if (separateProbs) a('probs', N * V);
  a('losses', N);
  return out;
}
