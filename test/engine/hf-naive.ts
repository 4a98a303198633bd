// Independent, deliberately naive float64 forwards written the way Hugging Face's modeling code computes them
// (separate q/k/v projections, split heads, a boolean mask built as HF builds it, masked_fill, softmax), reading
// the tensors by their HF names. Tests compare the engine's packed, kernel-based model against these.
import type { HfTensor } from '../../src/engine/hf.ts';

type Mat = Float64Array; // row-major

function t(m: Map<string, HfTensor>, name: string): HfTensor {
  const x = m.get(name);
  if (!x) throw new Error(`missing ${name}`);
  return x;
}

/** nn.Linear: x (N, in) @ W (out, in)^T + b. */
function linear(x: Mat, N: number, w: HfTensor, b?: HfTensor): Mat {
  const [out, inp] = w.shape as [number, number];
  const y = new Float64Array(N * out);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < out; o++) {
      let s = b ? b.data[o]! : 0;
      for (let i = 0; i < inp; i++) s += x[n * inp + i]! * w.data[o * inp + i]!;
      y[n * out + o] = s;
    }
  return y;
}

function layerNorm(x: Mat, N: number, C: number, w: HfTensor, b: HfTensor, eps: number): Mat {
  const y = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    let m = 0;
    for (let c = 0; c < C; c++) m += x[n * C + c]!;
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (x[n * C + c]! - m) ** 2;
    v /= C;
    for (let c = 0; c < C; c++) y[n * C + c] = ((x[n * C + c]! - m) / Math.sqrt(v + eps)) * w.data[c]! + b.data[c]!;
  }
  return y;
}

function rmsNorm(x: Mat, N: number, C: number, w: HfTensor, eps: number): Mat {
  const y = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    let v = 0;
    for (let c = 0; c < C; c++) v += x[n * C + c]! ** 2;
    const r = 1 / Math.sqrt(v / C + eps);
    for (let c = 0; c < C; c++) y[n * C + c] = w.data[c]! * (x[n * C + c]! * r);
  }
  return y;
}

const add = (a: Mat, b: Mat) => a.map((v, i) => v + b[i]!);

/**
 * Attention of one sequence with HF's mask: `mask[i][j]` true where allowed; scores where(mask, s, masked_value),
 * softmax over keys, @ v. q (T, NH*HS), k/v (T, NKV*HS); kv head for query head h is floor(h / (NH/NKV)) (repeat_kv).
 */
function attention(q: Mat, k: Mat, v: Mat, T: number, NH: number, NKV: number, HS: number, mask: boolean[][], scale: number): { out: Mat; probs: Mat } {
  const out = new Float64Array(T * NH * HS);
  const probs = new Float64Array(NH * T * T);
  const rep = NH / NKV;
  for (let h = 0; h < NH; h++) {
    const g = Math.floor(h / rep);
    for (let i = 0; i < T; i++) {
      const s = new Float64Array(T);
      for (let j = 0; j < T; j++) {
        let d = 0;
        for (let e = 0; e < HS; e++) d += q[i * NH * HS + h * HS + e]! * k[j * NKV * HS + g * HS + e]!;
        s[j] = mask[i]![j] ? d * scale : -1e9; // HF GPT-Neo: masked_bias = -1e9 (newer: finfo.min); both give p = 0
      }
      const mx = Math.max(...s);
      let z = 0;
      for (let j = 0; j < T; j++) z += Math.exp(s[j]! - mx);
      for (let j = 0; j < T; j++) {
        const p = Math.exp(s[j]! - mx) / z;
        probs[(h * T + i) * T + j] = p;
        for (let e = 0; e < HS; e++) out[i * NH * HS + h * HS + e] += p * v[j * NKV * HS + g * HS + e]!;
      }
    }
  }
  return { out, probs };
}

/** HF GPTNeoSelfAttention's mask: tril(ones), and for local layers bias XOR tril(bias, -window_size). */
export function gptNeoMask(T: number, local: boolean, window: number): boolean[][] {
  const tril = (i: number, j: number, k: number) => j <= i + k;
  return Array.from({ length: T }, (_, i) =>
    Array.from({ length: T }, (_, j) => {
      const causal = tril(i, j, 0);
      return local ? causal !== (causal && tril(i, j, -window)) : causal;
    }),
  );
}

export interface NaiveOut {
  logits: Mat;
  /** Per layer (NH, T, T). */
  probs: Mat[];
}

/** GPTNeoForCausalLM forward for one sequence, from HF-named tensors. */
export function gptNeoForward(m: Map<string, HfTensor>, ids: number[], cfg: { nLayers: number; nHeads: number; windows: number[]; eps: number }): NaiveOut {
  const T = ids.length;
  const wte = t(m, 'transformer.wte.weight');
  const C = wte.shape[1]!;
  const V = wte.shape[0]!;
  const HS = C / cfg.nHeads;
  let h = new Float64Array(T * C);
  const wpe = t(m, 'transformer.wpe.weight');
  for (let i = 0; i < T; i++) for (let c = 0; c < C; c++) h[i * C + c] = wte.data[ids[i]! * C + c]! + wpe.data[i * C + c]!;
  const probs: Mat[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `transformer.h.${l}`;
    const x = layerNorm(h, T, C, t(m, `${p}.ln_1.weight`), t(m, `${p}.ln_1.bias`), cfg.eps);
    const q = linear(x, T, t(m, `${p}.attn.attention.q_proj.weight`));
    const k = linear(x, T, t(m, `${p}.attn.attention.k_proj.weight`));
    const v = linear(x, T, t(m, `${p}.attn.attention.v_proj.weight`));
    const w = cfg.windows[l]!;
    const a = attention(q, k, v, T, cfg.nHeads, cfg.nHeads, HS, gptNeoMask(T, w > 0, w), 1); // GPT-Neo: no 1/sqrt(d)
    probs.push(a.probs);
    h = add(h, linear(a.out, T, t(m, `${p}.attn.attention.out_proj.weight`), t(m, `${p}.attn.attention.out_proj.bias`)));
    const x2 = layerNorm(h, T, C, t(m, `${p}.ln_2.weight`), t(m, `${p}.ln_2.bias`), cfg.eps);
    const fc = linear(x2, T, t(m, `${p}.mlp.c_fc.weight`), t(m, `${p}.mlp.c_fc.bias`));
    const gelu = fc.map((u) => 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3)))); // gelu_new
    h = add(h, linear(gelu, T, t(m, `${p}.mlp.c_proj.weight`), t(m, `${p}.mlp.c_proj.bias`)));
  }
  const hf = layerNorm(h, T, C, t(m, 'transformer.ln_f.weight'), t(m, 'transformer.ln_f.bias'), cfg.eps);
  return { logits: linear(hf, T, { shape: [V, C], data: wte.data }), probs }; // lm_head tied to wte
}

/** HF rotate_half RoPE: x*cos + rotate_half(x)*sin, inv_freq = 1/theta^(arange(0,HS,2)/HS), emb = cat(freqs, freqs). */
function rope(x: Mat, T: number, heads: number, HS: number, theta: number): Mat {
  const y = new Float64Array(x.length);
  const half = HS / 2;
  for (let i = 0; i < T; i++)
    for (let h = 0; h < heads; h++)
      for (let e = 0; e < HS; e++) {
        const f = 1 / Math.pow(theta, (2 * (e % half)) / HS);
        const o = i * heads * HS + h * HS;
        const rot = e < half ? -x[o + e + half]! : x[o + e - half]!;
        y[o + e] = x[o + e]! * Math.cos(i * f) + rot * Math.sin(i * f);
      }
  return y;
}

/** LlamaForCausalLM forward for one sequence (llama2.c semantics in HF layout), from HF-named tensors. */
export function llamaForward(m: Map<string, HfTensor>, ids: number[], cfg: { nLayers: number; nHeads: number; nKvHeads: number; eps: number; theta: number; tied: boolean }): NaiveOut {
  const T = ids.length;
  const emb = t(m, 'model.embed_tokens.weight');
  const C = emb.shape[1]!;
  const V = emb.shape[0]!;
  const HS = C / cfg.nHeads;
  let h = new Float64Array(T * C);
  for (let i = 0; i < T; i++) for (let c = 0; c < C; c++) h[i * C + c] = emb.data[ids[i]! * C + c]!;
  const causal = gptNeoMask(T, false, 0);
  const probs: Mat[] = [];
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `model.layers.${l}`;
    const x = rmsNorm(h, T, C, t(m, `${p}.input_layernorm.weight`), cfg.eps);
    const q = rope(linear(x, T, t(m, `${p}.self_attn.q_proj.weight`)), T, cfg.nHeads, HS, cfg.theta);
    const k = rope(linear(x, T, t(m, `${p}.self_attn.k_proj.weight`)), T, cfg.nKvHeads, HS, cfg.theta);
    const v = linear(x, T, t(m, `${p}.self_attn.v_proj.weight`));
    const a = attention(q, k, v, T, cfg.nHeads, cfg.nKvHeads, HS, causal, 1 / Math.sqrt(HS));
    probs.push(a.probs);
    h = add(h, linear(a.out, T, t(m, `${p}.self_attn.o_proj.weight`)));
    const x2 = rmsNorm(h, T, C, t(m, `${p}.post_attention_layernorm.weight`), cfg.eps);
    const gate = linear(x2, T, t(m, `${p}.mlp.gate_proj.weight`));
    const up = linear(x2, T, t(m, `${p}.mlp.up_proj.weight`));
    const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
    h = add(h, linear(act, T, t(m, `${p}.mlp.down_proj.weight`)));
  }
  const hf = rmsNorm(h, T, C, t(m, 'model.norm.weight'), cfg.eps);
  const head = cfg.tied ? { shape: [V, C], data: emb.data } : t(m, 'lm_head.weight');
  return { logits: linear(hf, T, head), probs };
}
