// llama2.c checkpoints (legacy version 0, version 1 fp32, version 2 int8 groups) read into and written from our
// Hugging Face-layout tensors.
//
// Layouts (llama2.c export.py; run.c reads version 0, runq.c version 2), little-endian, Config = 7 int32
// (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len):
//   v0: Config (vocab_size < 0 = unshared classifier), then fp32: tok_embeddings, rms_att[L], wq[L], wk[L], wv[L],
//       wo[L], rms_ffn[L], w1[L], w2[L], w3[L], rms_final, freq_cis_real (seq_len x head_size/2), freq_cis_imag
//       (same; unused), then wcls when unshared.
//   v1: uint32 magic 0x616b3432 ("ak42"), int32 version 1, Config, uint8 shared_classifier, zeros to byte 256; fp32:
//       rms_att[L], rms_ffn[L], rms_final, tok_embeddings, wq[L], wk[L], wv[L], wo[L], w1[L], w2[L], w3[L], [wcls].
//   v2: as v1 with version 2 and an int32 group_size at byte 37; fp32 norms (rms_att[L], rms_ffn[L], rms_final),
//       then each matrix tok_embeddings, wq[L], wk[L], wv[L], wo[L], w1[L], w2[L], w3[L], [wcls] as int8 values
//       (n bytes) followed by its fp32 scales (n / group_size), value = int8 * scale of its group.
// Matrices are PyTorch (out, in) row-major, as Hugging Face stores them; w1 = gate_proj, w3 = up_proj, w2 = down_proj.
// RoPE: llama2.c rotates adjacent pairs (2i, 2i+1) of each head; Hugging Face (and our engine) rotates i with
// i + head_size/2, so q/k rows are permuted: hf[h*HS + j*HS/2 + i] = llama2c[h*HS + 2i + j], j in {0, 1}.
// run.c hard-codes RMSNorm eps 1e-5 and RoPE base 10000; BOS = 1, and a story ends when id 1 is sampled.
import type { NamedTensor } from '../checkpoint/safetensors.ts';
import { type LlamaConfig, type ResolvedConfig, resolveConfig } from '../engine/config.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { UserError } from '../util/errors.ts';
import { readLlama2cTokenizer, writeLlama2cTokenizer } from './llama2c-tokenizer.ts';
import { type ExportInput, type ImportedModel, tensorMap } from './types.ts';

export const LLAMA2C_MAGIC = 0x616b3432;
const HEADER_V1 = 256;

interface Header {
  version: 0 | 1 | 2;
  dim: number;
  hidden: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocab: number;
  seqLen: number;
  shared: boolean;
  groupSize: number;
  dataStart: number;
}

function readHeader(bytes: Uint8Array, where: string): Header {
  if (bytes.length < 28) throw new UserError(`${where}: ${bytes.length} bytes, too short for a llama2.c checkpoint header (28+ bytes)`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const versioned = v.getUint32(0, true) === LLAMA2C_MAGIC;
  let h: Header;
  if (versioned) {
    if (bytes.length < HEADER_V1) throw new UserError(`${where}: ${bytes.length} bytes, too short for the 256-byte llama2.c v1/v2 header`);
    const version = v.getInt32(4, true);
    if (version !== 1 && version !== 2) throw new UserError(`${where}: llama2.c checkpoint version ${version}, expected 1 or 2 (or a legacy version 0 file)`);
    const c = (k: number) => v.getInt32(8 + 4 * k, true);
    h = { version, dim: c(0), hidden: c(1), nLayers: c(2), nHeads: c(3), nKvHeads: c(4), vocab: c(5), seqLen: c(6), shared: bytes[36] !== 0, groupSize: version === 2 ? v.getInt32(37, true) : 0, dataStart: HEADER_V1 };
  } else {
    const c = (k: number) => v.getInt32(4 * k, true);
    const vocab = c(5);
    h = { version: 0, dim: c(0), hidden: c(1), nLayers: c(2), nHeads: c(3), nKvHeads: c(4), vocab: Math.abs(vocab), seqLen: c(6), shared: vocab > 0, groupSize: 0, dataStart: 28 };
  }
  const fields: Array<[string, number, number]> = [
    ['dim', h.dim, 1 << 16],
    ['hidden_dim', h.hidden, 1 << 18],
    ['n_layers', h.nLayers, 1024],
    ['n_heads', h.nHeads, 1024],
    ['n_kv_heads', h.nKvHeads, 1024],
    ['vocab_size', h.vocab, 1 << 22],
    ['seq_len', h.seqLen, 1 << 22],
  ];
  for (const [field, value, max] of fields) {
    if (!Number.isInteger(value) || value <= 0 || value > max) {
      throw new UserError(`${where}: ${field} = ${value} in the ${versioned ? `v${h.version}` : 'legacy (v0)'} header is not plausible (expected 1..${max}); is this a llama2.c checkpoint?`);
    }
  }
  if (h.dim % h.nHeads !== 0 || h.nHeads % h.nKvHeads !== 0 || (h.dim / h.nHeads) % 2 !== 0) {
    throw new UserError(`${where}: dim ${h.dim}, n_heads ${h.nHeads}, n_kv_heads ${h.nKvHeads} do not form a Llama (dim % n_heads, n_heads % n_kv_heads, even head size)`);
  }
  if (h.version === 2 && (h.groupSize <= 0 || h.dim % h.groupSize !== 0)) throw new UserError(`${where}: group_size ${h.groupSize} does not divide dim ${h.dim}`);
  return h;
}

function describe(h: Header): string {
  return `dim ${h.dim}, hidden ${h.hidden}, ${h.nLayers} layers, ${h.nHeads} heads, ${h.nKvHeads} kv heads, vocab ${h.vocab}, seq ${h.seqLen}, ${h.shared ? 'shared' : 'unshared'} classifier${h.version === 2 ? `, group ${h.groupSize}` : ''}`;
}

/** Element counts of the matrices in file order: [name, count] with L entries per layer tensor. */
function matrixSizes(h: Header): Array<[string, number]> {
  const { dim: C, hidden: H, nLayers: L, vocab: V } = h;
  const KV = (C / h.nHeads) * h.nKvHeads;
  const out: Array<[string, number]> = [['tok_embeddings', V * C]];
  for (const [n, size] of [['wq', C * C], ['wk', KV * C], ['wv', KV * C], ['wo', C * C], ['w1', H * C], ['w2', C * H], ['w3', H * C]] as Array<[string, number]>) {
    for (let l = 0; l < L; l++) out.push([`${n}.${l}`, size]);
  }
  if (!h.shared) out.push(['wcls', V * C]);
  return out;
}

function expectedBytes(h: Header): number {
  const { dim: C, nLayers: L } = h;
  const norms = (2 * L + 1) * C;
  const mats = matrixSizes(h).reduce((a, [, n]) => a + n, 0);
  if (h.version === 1) return HEADER_V1 + 4 * (norms + mats);
  if (h.version === 2) return HEADER_V1 + 4 * norms + mats + (4 * mats) / h.groupSize;
  return 28 + 4 * (norms + mats + h.seqLen * (C / h.nHeads));
}

/** Whether `bytes` look like a llama2.c checkpoint (the v1/v2 magic, or a legacy header whose sizes add up). */
export function isLlama2cCheckpoint(bytes: Uint8Array): boolean {
  try {
    return expectedBytes(readHeader(bytes, '')) === bytes.length;
  } catch {
    return false;
  }
}

/** Rows of one matrix from llama2.c's adjacent-pair RoPE layout to Hugging Face's rotate-half layout (or back). */
export function permuteRope(w: Float32Array, nHeads: number, headSize: number, cols: number, toHf: boolean): Float32Array {
  const out = new Float32Array(w.length);
  const half = headSize / 2;
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const hf = h * headSize + j * half + i;
        const l2c = h * headSize + 2 * i + j;
        const [dst, src] = toHf ? [hf, l2c] : [l2c, hf];
        out.set(w.subarray(src * cols, (src + 1) * cols), dst * cols);
      }
    }
  }
  return out;
}

/**
 * Reads a llama2.c checkpoint (version 0, 1 or 2) and optionally its tokenizer.bin. `name` labels errors.
 * @example const m = readLlama2cModel(readFileSync('stories260K.bin'), readFileSync('tok512.bin'), 'stories260K.bin')
 */
export function readLlama2cModel(bytes: Uint8Array, tokenizerBytes?: Uint8Array, name = 'model.bin'): ImportedModel {
  const h = readHeader(bytes, name);
  const want = expectedBytes(h);
  if (bytes.length !== want) {
    const label = h.version === 0 ? 'legacy (v0)' : `v${h.version}`;
    throw new UserError(`${name}: ${bytes.length < want ? 'truncated' : 'has trailing bytes'}: a llama2.c ${label} checkpoint with ${describe(h)} is ${want} bytes, the file has ${bytes.length}`);
  }
  const { dim: C, hidden: H, nLayers: L, nHeads: NH, nKvHeads: NKV, vocab: V } = h;
  const HS = C / NH;
  let off = h.dataStart;
  const f32 = (n: number): Float32Array => {
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(bytes.subarray(off, off + 4 * n));
    off += 4 * n;
    return out;
  };
  const q8 = (n: number): Float32Array => {
    const q = new Int8Array(bytes.buffer, bytes.byteOffset + off, n);
    off += n;
    const s = f32(n / h.groupSize);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = q[i]! * s[(i / h.groupSize) | 0]!;
    return out;
  };
  const m: Record<string, Float32Array> = {};
  const mat = h.version === 2 ? q8 : f32;
  const perLayer = (key: string, n: number, read: (n: number) => Float32Array) => {
    for (let l = 0; l < L; l++) m[`${key}.${l}`] = read(n);
  };
  const readMatrices = (names: string[]) => {
    const sizes = new Map(matrixSizes(h).map(([n, s]) => [n.replace(/\.\d+$/, ''), s]));
    for (const n of names) {
      if (n === 'tok_embeddings' || n === 'wcls') m[n] = mat(sizes.get(n)!);
      else perLayer(n, sizes.get(n)!, mat);
    }
  };
  if (h.version === 0) {
    m.tok_embeddings = f32(V * C);
    perLayer('rms_att', C, f32);
    readMatrices(['wq', 'wk', 'wv', 'wo']);
    perLayer('rms_ffn', C, f32);
    readMatrices(['w1', 'w2', 'w3']);
    m.rms_final = f32(C);
    off += 4 * h.seqLen * HS; // freq_cis_real + freq_cis_imag (seq_len x head_size/2 each), unused
    if (!h.shared) m.wcls = f32(V * C);
  } else {
    perLayer('rms_att', C, f32);
    perLayer('rms_ffn', C, f32);
    m.rms_final = f32(C);
    if (h.version === 1) m.tok_embeddings = f32(V * C);
    readMatrices([...(h.version === 2 ? ['tok_embeddings'] : []), 'wq', 'wk', 'wv', 'wo', 'w1', 'w2', 'w3', ...(h.shared ? [] : ['wcls'])]);
  }
  const config: LlamaConfig = { arch: 'llama', vocabSize: V, maxSeqLen: h.seqLen, dim: C, nLayers: L, nHeads: NH, nKvHeads: NKV, hiddenDim: H, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: h.shared };
  const tensors: NamedTensor[] = [{ name: 'model.embed_tokens.weight', shape: [V, C], data: m.tok_embeddings! }];
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    tensors.push(
      { name: `${p}.input_layernorm.weight`, shape: [C], data: m[`rms_att.${l}`]! },
      { name: `${p}.self_attn.q_proj.weight`, shape: [NH * HS, C], data: permuteRope(m[`wq.${l}`]!, NH, HS, C, true) },
      { name: `${p}.self_attn.k_proj.weight`, shape: [NKV * HS, C], data: permuteRope(m[`wk.${l}`]!, NKV, HS, C, true) },
      { name: `${p}.self_attn.v_proj.weight`, shape: [NKV * HS, C], data: m[`wv.${l}`]! },
      { name: `${p}.self_attn.o_proj.weight`, shape: [C, NH * HS], data: m[`wo.${l}`]! },
      { name: `${p}.post_attention_layernorm.weight`, shape: [C], data: m[`rms_ffn.${l}`]! },
      { name: `${p}.mlp.gate_proj.weight`, shape: [H, C], data: m[`w1.${l}`]! },
      { name: `${p}.mlp.up_proj.weight`, shape: [H, C], data: m[`w3.${l}`]! },
      { name: `${p}.mlp.down_proj.weight`, shape: [C, H], data: m[`w2.${l}`]! },
    );
  }
  tensors.push({ name: 'model.norm.weight', shape: [C], data: m.rms_final! });
  if (!h.shared) tensors.push({ name: 'lm_head.weight', shape: [V, C], data: m.wcls! });
  const tokenizer = tokenizerBytes ? readLlama2cTokenizer(tokenizerBytes, `tokenizer for ${name}`, V) : null;
  return { config, tensors, tokenizer, source: `llama2.c ${h.version === 0 ? 'legacy v0' : `v${h.version}`} (${name}; ${describe(h)})` };
}

/**
 * Token order for a llama2.c export: order[newId] = our id, with our document separator at id 1 (run.c starts
 * every story from id 1 and stops when it samples it) and the token that held id 1 moved to the separator's place.
 */
export function llama2cTokenOrder(tokenizer: Tokenizer, vocabSize: number): Int32Array {
  const order = Int32Array.from({ length: vocabSize }, (_, i) => i);
  const sep = tokenizer.eotId;
  if (sep < 0) throw new UserError('llama2.c export: the tokenizer has no document separator (<|endoftext|>) to map to BOS id 1');
  order[1] = sep;
  order[sep] = 1;
  return order;
}

/** The largest power of two <= 64 dividing both dim and hidden_dim (runq.c quantizes activations in groups of it). */
function groupSizeFor(r: ResolvedConfig): number {
  let gs = 64;
  while (gs > 1 && (r.dim % gs !== 0 || r.hidden % gs !== 0)) gs >>= 1;
  return gs;
}

/** int8 groups as llama2.c export.py's quantize_q80: scale = max|w| / 127, q = round(w / scale). */
export function quantizeQ80(w: Float32Array, groupSize: number): { q: Int8Array; scales: Float32Array } {
  const q = new Int8Array(w.length);
  const scales = new Float32Array(w.length / groupSize);
  for (let g = 0; g < scales.length; g++) {
    let max = 0;
    for (let i = g * groupSize; i < (g + 1) * groupSize; i++) max = Math.max(max, Math.abs(w[i]!));
    const scale = Math.fround(max / 127);
    scales[g] = scale;
    if (scale === 0) continue;
    for (let i = g * groupSize; i < (g + 1) * groupSize; i++) q[i] = Math.round(w[i]! / scale);
  }
  return { q, scales };
}

/** Checks that a run can be written in llama2.c's format exactly; returns its resolved config. */
export function llama2cCompatible(input: ExportInput, format: string): ResolvedConfig {
  const r = resolveConfig(input.config);
  if (r.arch !== 'llama') {
    throw new UserError(`${format} export: this is a GPT-Neo run; llama2.c holds only Llama-family models (RMSNorm, RoPE, SwiGLU), not GPT-Neo's learned positions, LayerNorm biases and GELU (--format gguf can hold it)`);
  }
  if (format.startsWith('llama2c')) {
    if (Math.abs(r.normEps - 1e-5) > 1e-12) throw new UserError(`${format} export: run.c hard-codes RMSNorm eps 1e-5; this model uses ${r.normEps}`);
    if (r.ropeTheta !== 10000) throw new UserError(`${format} export: run.c hard-codes RoPE base 10000; this model uses ${r.ropeTheta}`);
  }
  if (input.tokenizer.vocabSize > r.vocabSize) throw new UserError(`${format} export: the tokenizer has ${input.tokenizer.vocabSize} tokens but the model's vocab_size is ${r.vocabSize}`);
  return r;
}

/**
 * Writes a Llama-family model as a llama2.c checkpoint (version 0 for run.c, 1, or 2 for runq.c) and its
 * tokenizer.bin, with our document separator moved to id 1 (embedding and classifier rows permuted to match).
 * @example const { model, tokenizer } = writeLlama2c({ config, tensors, tokenizer: tok }, 0)
 */
export function writeLlama2c(input: ExportInput, version: 0 | 1 | 2): { model: Uint8Array; tokenizer: Uint8Array } {
  const format = version === 0 ? 'llama2c' : version === 1 ? 'llama2c-v1' : 'llama2c-q8';
  const r = llama2cCompatible(input, format);
  const t = tensorMap(input.tensors);
  const get = (n: string, shape: number[]): Float32Array => {
    const x = t.get(n);
    if (!x) throw new UserError(`${format} export: tensor ${n} is missing`);
    if (x.data.length !== shape.reduce((a, b) => a * b, 1)) throw new UserError(`${format} export: tensor ${n} has ${x.data.length} values, expected [${shape.join(', ')}]`);
    return x.data;
  };
  const { dim: C, hidden: H, nLayers: L, nHeads: NH, nKvHeads: NKV, headSize: HS, vocabSize: V } = r;
  const order = llama2cTokenOrder(input.tokenizer, V);
  const permuteRows = (w: Float32Array) => {
    const out = new Float32Array(w.length);
    for (let i = 0; i < V; i++) out.set(w.subarray(order[i]! * C, (order[i]! + 1) * C), i * C);
    return out;
  };
  const shared = r.tiedEmbeddings;
  const emb = permuteRows(get('model.embed_tokens.weight', [V, C]));
  const layer = (l: number, n: string, shape: number[]) => get(`model.layers.${l}.${n}`, shape);
  const all = (n: string, shape: number[], f: (w: Float32Array) => Float32Array = (w) => w) => Array.from({ length: L }, (_, l) => f(layer(l, n, shape)));
  const rmsAtt = all('input_layernorm.weight', [C]);
  const rmsFfn = all('post_attention_layernorm.weight', [C]);
  const wq = all('self_attn.q_proj.weight', [NH * HS, C], (w) => permuteRope(w, NH, HS, C, false));
  const wk = all('self_attn.k_proj.weight', [NKV * HS, C], (w) => permuteRope(w, NKV, HS, C, false));
  const wv = all('self_attn.v_proj.weight', [NKV * HS, C]);
  const wo = all('self_attn.o_proj.weight', [C, NH * HS]);
  const w1 = all('mlp.gate_proj.weight', [H, C]);
  const w2 = all('mlp.down_proj.weight', [C, H]);
  const w3 = all('mlp.up_proj.weight', [H, C]);
  const rmsFinal = get('model.norm.weight', [C]);
  const wcls = shared ? null : permuteRows(get('lm_head.weight', [V, C]));

  const chunks: Uint8Array[] = [];
  const header = new Uint8Array(version === 0 ? 28 : HEADER_V1);
  const hv = new DataView(header.buffer);
  const cfg = [C, H, L, NH, NKV, version === 0 && !shared ? -V : V, r.maxSeqLen];
  const gs = groupSizeFor(r);
  if (version === 0) cfg.forEach((x, i) => hv.setInt32(4 * i, x, true));
  else {
    hv.setUint32(0, LLAMA2C_MAGIC, true);
    hv.setInt32(4, version, true);
    cfg.forEach((x, i) => hv.setInt32(8 + 4 * i, x, true));
    header[36] = shared ? 1 : 0;
    if (version === 2) hv.setInt32(37, gs, true);
  }
  chunks.push(header);
  const fp = (...ws: Float32Array[]) => {
    for (const w of ws) chunks.push(new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
  };
  if (version === 0) {
    fp(emb, ...rmsAtt, ...wq, ...wk, ...wv, ...wo, ...rmsFfn, ...w1, ...w2, ...w3, rmsFinal);
    const half = HS / 2;
    const cos = new Float32Array(r.maxSeqLen * half);
    const sin = new Float32Array(r.maxSeqLen * half);
    for (let p = 0; p < r.maxSeqLen; p++) {
      for (let i = 0; i < half; i++) {
        const a = p * Math.pow(10000, (-2 * i) / HS);
        cos[p * half + i] = Math.cos(a);
        sin[p * half + i] = Math.sin(a);
      }
    }
    fp(cos, sin);
    if (wcls) fp(wcls);
  } else if (version === 1) {
    fp(...rmsAtt, ...rmsFfn, rmsFinal, emb, ...wq, ...wk, ...wv, ...wo, ...w1, ...w2, ...w3);
    if (wcls) fp(wcls);
  } else {
    fp(...rmsAtt, ...rmsFfn, rmsFinal);
    for (const w of [emb, ...wq, ...wk, ...wv, ...wo, ...w1, ...w2, ...w3, ...(wcls ? [wcls] : [])]) {
      const { q, scales } = quantizeQ80(w, gs);
      chunks.push(new Uint8Array(q.buffer));
      fp(scales);
    }
  }
  let total = 0;
  for (const c of chunks) total += c.length;
  const model = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    model.set(c, off);
    off += c.length;
  }
  return { model, tokenizer: writeLlama2cTokenizer(input.tokenizer, V, order) };
}
