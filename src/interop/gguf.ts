// GGUF (llama.cpp's model file): write v3 (F32, F16, Q8_0) with the full tokenizer for Llama (llama.cpp's `llama`
// architecture) and GPT-Neo (its `gpt2` architecture, exact within the local-attention window), and read GGUF v2/v3
// llama models, and gpt2 ones as we write them (F32, F16, Q8_0), back into Hugging Face-layout tensors.
//
// Layout (ggml docs/gguf.md), little-endian: "GGUF", uint32 version, uint64 tensor_count, uint64 kv_count, then kv_count
// (string key, uint32 type, value), then per tensor (string name, uint32 n_dims, uint64 ne[n_dims] innermost first,
// uint32 ggml type, uint64 offset into the data section), zero padding to general.alignment (32), the tensor data
// (each tensor at an aligned offset). Strings are uint64 length + UTF-8.
// Tensors use llama.cpp's names (token_embd, blk.N.attn_q, ...); a ggml [ne0, ne1] matrix is PyTorch's (ne1, ne0), so
// HF weights are stored as they are. llama.cpp's llama architecture rotates adjacent pairs (as llama2.c), so q/k rows
// are permuted from HF's rotate-half order exactly as llama.cpp's convert_hf_to_gguf.py does.
// Q8_0: blocks of 32 values, an fp16 scale d = max|x| / 127 then 32 int8 round(x / d); a matrix whose rows are not a
// multiple of 32 is written F16 instead (as llama-quantize falls back). Norm weights stay F32.
import type { NamedTensor } from '../checkpoint/safetensors.ts';
import { type GptNeoConfig, type LlamaConfig, type ResolvedConfig, resolveConfig } from '../engine/config.ts';
import { byteLevelToRaw, bytePieceValue, bytesToByteLevel } from '../tokenizer/sentencepiece.ts';
import type { SpecialToken, TokenizerData } from '../tokenizer/tokenizer.ts';
import { Tokenizer } from '../tokenizer/tokenizer.ts';
import { UserError } from '../util/errors.ts';
import { fromHalf, toHalf } from '../util/half.ts';
import { llama2cCompatible, permuteRope } from './llama2c.ts';
import { type ExportInput, type ImportedModel, tensorMap } from './types.ts';

const MAGIC = 0x46554747; // "GGUF"
const ALIGN = 32;
/** GGUF metadata value types. */
const T = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STR: 8, ARR: 9, U64: 10, I64: 11, F64: 12 } as const;
/** ggml tensor types we read and write. */
const GGML = { F32: 0, F16: 1, Q8_0: 8 } as const;
const GGML_NAMES: Record<number, string> = { 0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 6: 'Q5_0', 7: 'Q5_1', 8: 'Q8_0', 9: 'Q8_1', 10: 'Q2_K', 11: 'Q3_K', 12: 'Q4_K', 13: 'Q5_K', 14: 'Q6_K', 15: 'Q8_K', 30: 'BF16' };
/** llama.cpp token types. */
const TOKEN = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export type GgufType = 'F32' | 'F16' | 'Q8_0';

// ---- fp16 ----

export { fromHalf, toHalf }; // util/half.ts, re-exported for interop's index

let HALF_TABLE: Float32Array | null = null;
/** Every half's value, indexed by its bits (decoding F16 tensors by lookup). */
function halfTable(): Float32Array {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) HALF_TABLE[h] = fromHalf(h);
  }
  return HALF_TABLE;
}

// ---- writer ----

class Out {
  chunks: Uint8Array[] = [];
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  private n = 0;
  size = 0;
  private room(k: number) {
    if (this.n + k > this.buf.length) this.flush();
    if (k > this.buf.length) {
      this.buf = new Uint8Array(k);
      this.view = new DataView(this.buf.buffer);
    }
  }
  flush() {
    if (this.n > 0) this.chunks.push(this.buf.slice(0, this.n));
    this.n = 0;
  }
  u8(x: number) { this.room(1); this.buf[this.n++] = x; this.size += 1; }
  u32(x: number) { this.room(4); this.view.setUint32(this.n, x, true); this.n += 4; this.size += 4; }
  i32(x: number) { this.room(4); this.view.setInt32(this.n, x, true); this.n += 4; this.size += 4; }
  f32(x: number) { this.room(4); this.view.setFloat32(this.n, x, true); this.n += 4; this.size += 4; }
  u64(x: number) { this.room(8); this.view.setBigUint64(this.n, BigInt(x), true); this.n += 8; this.size += 8; }
  bytes(b: Uint8Array) {
    this.flush();
    this.chunks.push(b);
    this.size += b.length;
  }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.room(b.length);
    if (b.length > this.buf.length - this.n) this.bytes(b);
    else {
      this.buf.set(b, this.n);
      this.n += b.length;
      this.size += b.length;
    }
  }
  pad(align: number) {
    while (this.size % align !== 0) this.u8(0);
  }
}

type KvValue =
  | { t: 'u32'; v: number }
  | { t: 'i32'; v: number }
  | { t: 'f32'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'str'; v: string }
  | { t: 'arr-str'; v: string[] }
  | { t: 'arr-i32'; v: ArrayLike<number> }
  | { t: 'arr-f32'; v: ArrayLike<number> };

function writeKv(o: Out, key: string, val: KvValue) {
  o.str(key);
  switch (val.t) {
    case 'u32': o.u32(T.U32); o.u32(val.v); break;
    case 'i32': o.u32(T.I32); o.i32(val.v); break;
    case 'f32': o.u32(T.F32); o.f32(val.v); break;
    case 'bool': o.u32(T.BOOL); o.u8(val.v ? 1 : 0); break;
    case 'str': o.u32(T.STR); o.str(val.v); break;
    case 'arr-str': o.u32(T.ARR); o.u32(T.STR); o.u64(val.v.length); for (const s of val.v) o.str(s); break;
    case 'arr-i32': o.u32(T.ARR); o.u32(T.I32); o.u64(val.v.length); for (let i = 0; i < val.v.length; i++) o.i32(val.v[i]!); break;
    case 'arr-f32': o.u32(T.ARR); o.u32(T.F32); o.u64(val.v.length); for (let i = 0; i < val.v.length; i++) o.f32(val.v[i]!); break;
  }
}

/** The tokenizer.ggml.* metadata for our vocabulary: gpt2 (byte-level BPE with merges) or llama (sentencepiece scores). */
function tokenizerKvs(tok: Tokenizer, vocabSize: number): Array<[string, KvValue]> {
  const data = tok.data;
  if (data.remap) throw new UserError('gguf export: a top-K remapped tokenizer (many base tokens sharing one id) has no GGUF form; export a run trained on a plain BPE tokenizer');
  const specials = new Map(data.specials.map((s) => [s.id, s.content]));
  const tokens: string[] = [];
  const types = new Int32Array(vocabSize);
  if (data.sentencepiece) {
    const sp = data.sentencepiece;
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    const scores = new Float32Array(vocabSize);
    for (let id = 0; id < vocabSize; id++) {
      if (id >= data.tokens.length) {
        tokens.push(`[PAD${id}]`);
        types[id] = TOKEN.UNUSED;
        continue;
      }
      const t = data.tokens[id]!;
      const special = specials.get(id);
      if (special !== undefined) {
        tokens.push(special);
        types[id] = special === '<unk>' ? TOKEN.UNKNOWN : TOKEN.CONTROL;
      } else if (bytePieceValue(t) >= 0) {
        tokens.push(t);
        types[id] = TOKEN.BYTE;
      } else {
        let s: string;
        try {
          s = utf8.decode(byteLevelToRaw(t));
        } catch {
          throw new UserError(`gguf export: piece ${id} of this sentencepiece vocabulary is not valid UTF-8 (a raw-byte llama2.c vocabulary); GGUF's llama tokenizer cannot hold it`);
        }
        tokens.push(s.replaceAll(' ', '▁'));
        types[id] = TOKEN.NORMAL;
      }
      scores[id] = Number.isFinite(sp.scores[id]!) ? sp.scores[id]! : -1e10;
    }
    const unk = data.specials.find((s) => s.content === '<unk>')?.id;
    return [
      ['tokenizer.ggml.model', { t: 'str', v: 'llama' }],
      ['tokenizer.ggml.pre', { t: 'str', v: 'default' }],
      ['tokenizer.ggml.tokens', { t: 'arr-str', v: tokens }],
      ['tokenizer.ggml.scores', { t: 'arr-f32', v: scores }],
      ['tokenizer.ggml.token_type', { t: 'arr-i32', v: types }],
      ['tokenizer.ggml.bos_token_id', { t: 'u32', v: sp.bos }],
      ['tokenizer.ggml.eos_token_id', { t: 'u32', v: sp.eos }],
      ...(unk !== undefined ? ([['tokenizer.ggml.unknown_token_id', { t: 'u32', v: unk }]] as Array<[string, KvValue]>) : []),
      ['tokenizer.ggml.add_bos_token', { t: 'bool', v: true }],
      ['tokenizer.ggml.add_eos_token', { t: 'bool', v: false }],
    ];
  }
  for (let id = 0; id < vocabSize; id++) {
    if (id >= data.tokens.length) {
      tokens.push(`[PAD${id}]`);
      types[id] = TOKEN.UNUSED;
      continue;
    }
    tokens.push(data.tokens[id]!);
    types[id] = specials.has(id) ? TOKEN.CONTROL : TOKEN.NORMAL;
  }
  const merges: string[] = [];
  for (let r = 0; r < data.merges.length / 2; r++) merges.push(`${data.tokens[data.merges[2 * r]!]} ${data.tokens[data.merges[2 * r + 1]!]}`);
  const eot = tok.eotId;
  return [
    ['tokenizer.ggml.model', { t: 'str', v: 'gpt2' }],
    // "gpt-2" is llama.cpp's name for the GPT-2 pre-tokenizer regex, which ours is.
    ['tokenizer.ggml.pre', { t: 'str', v: 'gpt-2' }],
    ['tokenizer.ggml.tokens', { t: 'arr-str', v: tokens }],
    ['tokenizer.ggml.token_type', { t: 'arr-i32', v: types }],
    ['tokenizer.ggml.merges', { t: 'arr-str', v: merges }],
    ...(eot >= 0
      ? ([
          ['tokenizer.ggml.bos_token_id', { t: 'u32', v: eot }],
          ['tokenizer.ggml.eos_token_id', { t: 'u32', v: eot }],
        ] as Array<[string, KvValue]>)
      : []),
    ['tokenizer.ggml.add_bos_token', { t: 'bool', v: eot >= 0 }],
    ['tokenizer.ggml.add_eos_token', { t: 'bool', v: false }],
  ];
}

interface OutTensor {
  name: string;
  /** ggml ne, innermost first. */
  ne: number[];
  type: number;
  bytes: Uint8Array;
}

function encodeTensor(name: string, data: Float32Array, shape: number[], want: GgufType): OutTensor {
  const ne = shape.slice().reverse();
  let type: GgufType = shape.length === 1 ? 'F32' : want;
  if (type === 'Q8_0' && ne[0]! % 32 !== 0) type = 'F16';
  if (type === 'F32') return { name, ne, type: GGML.F32, bytes: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
  if (type === 'F16') {
    const h = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) h[i] = toHalf(data[i]!);
    return { name, ne, type: GGML.F16, bytes: new Uint8Array(h.buffer) };
  }
  const nb = data.length / 32;
  const out = new Uint8Array(nb * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < nb; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(data[b * 32 + j]!));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    view.setUint16(b * 34, toHalf(d), true);
    for (let j = 0; j < 32; j++) {
      const x = Math.fround(data[b * 32 + j]! * id);
      view.setInt8(b * 34 + 2 + j, Math.sign(x) * Math.round(Math.abs(x))); // roundf: half away from zero
    }
  }
  return { name, ne, type: GGML.Q8_0, bytes: out };
}

/**
 * Writes a model as a GGUF v3 file (chunks in file order) with complete metadata and tokenizer, so llama.cpp loads
 * it without guessing: Llama as llama.cpp's `llama` architecture; GPT-Neo as its `gpt2` architecture (see
 * gptNeoGgufContext for when that is exact).
 * @example const chunks = writeGguf({ config, tensors, tokenizer, name: 'stories260K' }, 'Q8_0')
 */
export function writeGguf(input: ExportInput, type: GgufType = 'F32'): Uint8Array[] {
  const cfg = resolveConfig(input.config);
  if (input.tokenizer.vocabSize > cfg.vocabSize) throw new UserError(`gguf export: the tokenizer has ${input.tokenizer.vocabSize} tokens but the model's vocab_size is ${cfg.vocabSize}`);
  const t = tensorMap(input.tensors);
  const get = (n: string, shape: number[]): Float32Array => {
    const x = t.get(n);
    if (!x) throw new UserError(`gguf export: tensor ${n} is missing`);
    if (x.data.length !== shape.reduce((a, b) => a * b, 1)) throw new UserError(`gguf export: tensor ${n} has ${x.data.length} values, expected [${shape.join(', ')}]`);
    return x.data;
  };
  const { tensors, kvs } = cfg.arch === 'gpt-neo' ? gptNeoGguf(cfg, get, type) : llamaGguf(llama2cCompatible(input, 'gguf'), get, type);
  const head: Array<[string, KvValue]> = [
    ['general.architecture', { t: 'str', v: cfg.arch === 'gpt-neo' ? 'gpt2' : 'llama' }],
    ['general.name', { t: 'str', v: input.name ?? 'tinystories' }],
    ['general.file_type', { t: 'u32', v: type === 'F32' ? 0 : type === 'F16' ? 1 : 7 }],
    ['general.quantization_version', { t: 'u32', v: 2 }],
    ['general.alignment', { t: 'u32', v: ALIGN }],
  ];
  return assemble(tensors, [...head, ...kvs, ...tokenizerKvs(input.tokenizer, cfg.vocabSize)]);
}

type Getter = (name: string, shape: number[]) => Float32Array;

function llamaGguf(r: ResolvedConfig, get: Getter, type: GgufType): { tensors: OutTensor[]; kvs: Array<[string, KvValue]> } {
  const { dim: C, hidden: H, nLayers: L, nHeads: NH, nKvHeads: NKV, headSize: HS, vocabSize: V } = r;
  const tensors: OutTensor[] = [encodeTensor('token_embd.weight', get('model.embed_tokens.weight', [V, C]), [V, C], type)];
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    const b = `blk.${l}`;
    tensors.push(
      encodeTensor(`${b}.attn_norm.weight`, get(`${p}.input_layernorm.weight`, [C]), [C], type),
      encodeTensor(`${b}.attn_q.weight`, permuteRope(get(`${p}.self_attn.q_proj.weight`, [NH * HS, C]), NH, HS, C, false), [NH * HS, C], type),
      encodeTensor(`${b}.attn_k.weight`, permuteRope(get(`${p}.self_attn.k_proj.weight`, [NKV * HS, C]), NKV, HS, C, false), [NKV * HS, C], type),
      encodeTensor(`${b}.attn_v.weight`, get(`${p}.self_attn.v_proj.weight`, [NKV * HS, C]), [NKV * HS, C], type),
      encodeTensor(`${b}.attn_output.weight`, get(`${p}.self_attn.o_proj.weight`, [C, NH * HS]), [C, NH * HS], type),
      encodeTensor(`${b}.ffn_norm.weight`, get(`${p}.post_attention_layernorm.weight`, [C]), [C], type),
      encodeTensor(`${b}.ffn_gate.weight`, get(`${p}.mlp.gate_proj.weight`, [H, C]), [H, C], type),
      encodeTensor(`${b}.ffn_up.weight`, get(`${p}.mlp.up_proj.weight`, [H, C]), [H, C], type),
      encodeTensor(`${b}.ffn_down.weight`, get(`${p}.mlp.down_proj.weight`, [C, H]), [C, H], type),
    );
  }
  tensors.push(encodeTensor('output_norm.weight', get('model.norm.weight', [C]), [C], type));
  if (!r.tiedEmbeddings) tensors.push(encodeTensor('output.weight', get('lm_head.weight', [V, C]), [V, C], type));
  const kvs: Array<[string, KvValue]> = [
    ['llama.vocab_size', { t: 'u32', v: V }],
    ['llama.context_length', { t: 'u32', v: r.maxSeqLen }],
    ['llama.embedding_length', { t: 'u32', v: C }],
    ['llama.block_count', { t: 'u32', v: L }],
    ['llama.feed_forward_length', { t: 'u32', v: H }],
    ['llama.attention.head_count', { t: 'u32', v: NH }],
    ['llama.attention.head_count_kv', { t: 'u32', v: NKV }],
    ['llama.rope.dimension_count', { t: 'u32', v: HS }],
    ['llama.rope.freq_base', { t: 'f32', v: r.ropeTheta }],
    ['llama.attention.layer_norm_rms_epsilon', { t: 'f32', v: r.normEps }],
  ];
  return { tensors, kvs };
}

/**
 * The context a GPT-Neo model gets in llama.cpp's gpt2 architecture, which has global attention only: the whole
 * context when every layer is global (or the window covers it), else the local window, within which a local layer
 * sees exactly what a global one does. GPT-2's learned positions, LayerNorm with biases and gelu_new are the same.
 */
export function gptNeoGgufContext(r: ResolvedConfig): number {
  const windows = r.windows.filter((w) => w > 0);
  return windows.length === 0 ? r.maxSeqLen : Math.min(r.maxSeqLen, ...windows);
}

function gptNeoGguf(r: ResolvedConfig, get: Getter, type: GgufType): { tensors: OutTensor[]; kvs: Array<[string, KvValue]> } {
  const { dim: C, hidden: H, nLayers: L, headSize: HS, vocabSize: V } = r;
  const ctx = gptNeoGgufContext(r);
  const tensors: OutTensor[] = [
    encodeTensor('token_embd.weight', get('transformer.wte.weight', [V, C]), [V, C], type),
    encodeTensor('position_embd.weight', get('transformer.wpe.weight', [r.maxSeqLen, C]).slice(0, ctx * C), [ctx, C], type),
  ];
  // GPT-Neo does not scale attention scores; llama.cpp's gpt2 graph divides them by sqrt(head size), so q is
  // multiplied by it here. GPT-Neo's q/k/v have no biases: the fused qkv bias is zero.
  const qScale = Math.sqrt(HS);
  for (let l = 0; l < L; l++) {
    const p = `transformer.h.${l}`;
    const b = `blk.${l}`;
    const qkv = new Float32Array(3 * C * C);
    const q = get(`${p}.attn.attention.q_proj.weight`, [C, C]);
    for (let i = 0; i < C * C; i++) qkv[i] = q[i]! * qScale;
    qkv.set(get(`${p}.attn.attention.k_proj.weight`, [C, C]), C * C);
    qkv.set(get(`${p}.attn.attention.v_proj.weight`, [C, C]), 2 * C * C);
    tensors.push(
      encodeTensor(`${b}.attn_norm.weight`, get(`${p}.ln_1.weight`, [C]), [C], type),
      encodeTensor(`${b}.attn_norm.bias`, get(`${p}.ln_1.bias`, [C]), [C], type),
      encodeTensor(`${b}.attn_qkv.weight`, qkv, [3 * C, C], type),
      encodeTensor(`${b}.attn_qkv.bias`, new Float32Array(3 * C), [3 * C], type),
      encodeTensor(`${b}.attn_output.weight`, get(`${p}.attn.attention.out_proj.weight`, [C, C]), [C, C], type),
      encodeTensor(`${b}.attn_output.bias`, get(`${p}.attn.attention.out_proj.bias`, [C]), [C], type),
      encodeTensor(`${b}.ffn_norm.weight`, get(`${p}.ln_2.weight`, [C]), [C], type),
      encodeTensor(`${b}.ffn_norm.bias`, get(`${p}.ln_2.bias`, [C]), [C], type),
      encodeTensor(`${b}.ffn_up.weight`, get(`${p}.mlp.c_fc.weight`, [H, C]), [H, C], type),
      encodeTensor(`${b}.ffn_up.bias`, get(`${p}.mlp.c_fc.bias`, [H]), [H], type),
      encodeTensor(`${b}.ffn_down.weight`, get(`${p}.mlp.c_proj.weight`, [C, H]), [C, H], type),
      encodeTensor(`${b}.ffn_down.bias`, get(`${p}.mlp.c_proj.bias`, [C]), [C], type),
    );
  }
  tensors.push(
    encodeTensor('output_norm.weight', get('transformer.ln_f.weight', [C]), [C], type),
    encodeTensor('output_norm.bias', get('transformer.ln_f.bias', [C]), [C], type),
  );
  if (!r.tiedEmbeddings) tensors.push(encodeTensor('output.weight', get('lm_head.weight', [V, C]), [V, C], type));
  const kvs: Array<[string, KvValue]> = [
    ['gpt2.context_length', { t: 'u32', v: ctx }],
    ['gpt2.embedding_length', { t: 'u32', v: C }],
    ['gpt2.block_count', { t: 'u32', v: L }],
    ['gpt2.feed_forward_length', { t: 'u32', v: H }],
    ['gpt2.attention.head_count', { t: 'u32', v: r.nHeads }],
    ['gpt2.attention.layer_norm_epsilon', { t: 'f32', v: r.normEps }],
  ];
  return { tensors, kvs };
}

function assemble(tensors: OutTensor[], kvs: Array<[string, KvValue]>): Uint8Array[] {
  const o = new Out();
  o.u32(MAGIC);
  o.u32(3);
  o.u64(tensors.length);
  o.u64(kvs.length);
  for (const [k, v] of kvs) writeKv(o, k, v);
  let offset = 0;
  for (const x of tensors) {
    o.str(x.name);
    o.u32(x.ne.length);
    for (const d of x.ne) o.u64(d);
    o.u32(x.type);
    o.u64(offset);
    offset += x.bytes.length;
    offset = Math.ceil(offset / ALIGN) * ALIGN;
  }
  o.pad(ALIGN);
  for (const x of tensors) {
    o.bytes(x.bytes);
    o.pad(ALIGN);
  }
  o.flush();
  return o.chunks;
}

// ---- reader ----

/** Whether the bytes start with the GGUF magic. */
export function isGguf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x47 && bytes[1] === 0x47 && bytes[2] === 0x55 && bytes[3] === 0x46;
}

type Meta = Map<string, unknown>;

class In {
  off = 0;
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    private readonly where: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(k: number, what: string) {
    if (this.off + k > this.bytes.length) throw new UserError(`${this.where}: truncated GGUF file while reading ${what} (offset ${this.off}, needs ${k} bytes, file has ${this.bytes.length})`);
  }
  u8() { this.need(1, 'a uint8'); return this.bytes[this.off++]!; }
  u32() { this.need(4, 'a uint32'); const x = this.view.getUint32(this.off, true); this.off += 4; return x; }
  i32() { this.need(4, 'an int32'); const x = this.view.getInt32(this.off, true); this.off += 4; return x; }
  f32() { this.need(4, 'a float32'); const x = this.view.getFloat32(this.off, true); this.off += 4; return x; }
  f64() { this.need(8, 'a float64'); const x = this.view.getFloat64(this.off, true); this.off += 8; return x; }
  u64() {
    this.need(8, 'a uint64');
    const x = this.view.getBigUint64(this.off, true);
    this.off += 8;
    if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new UserError(`${this.where}: a GGUF count/size of ${x} is not plausible`);
    return Number(x);
  }
  i64() { this.need(8, 'an int64'); const x = this.view.getBigInt64(this.off, true); this.off += 8; return Number(x); }
  str() {
    const n = this.u64();
    this.need(n, 'a string');
    const s = new TextDecoder().decode(this.bytes.subarray(this.off, this.off + n));
    this.off += n;
    return s;
  }
  value(type: number): unknown {
    switch (type) {
      case T.U8: return this.u8();
      case T.I8: { const x = this.u8(); return x > 127 ? x - 256 : x; }
      case T.U16: { this.need(2, 'a uint16'); const x = this.view.getUint16(this.off, true); this.off += 2; return x; }
      case T.I16: { this.need(2, 'an int16'); const x = this.view.getInt16(this.off, true); this.off += 2; return x; }
      case T.U32: return this.u32();
      case T.I32: return this.i32();
      case T.F32: return shortestF32(this.f32());
      case T.BOOL: return this.u8() !== 0;
      case T.STR: return this.str();
      case T.U64: return this.u64();
      case T.I64: return this.i64();
      case T.F64: return this.f64();
      case T.ARR: {
        const et = this.u32();
        const n = this.u64();
        if (n > this.bytes.length) throw new UserError(`${this.where}: GGUF array of ${n} elements is longer than the file`);
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = this.value(et);
        return out;
      }
      default:
        throw new UserError(`${this.where}: unknown GGUF metadata value type ${type} at offset ${this.off}`);
    }
  }
}

/** The shortest decimal that rounds to the same float32 (so an eps written as 1e-5 reads back as 1e-5). */
function shortestF32(x: number): number {
  for (let p = 1; p <= 9; p++) {
    const y = parseFloat(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return x;
}

function dequant(bytes: Uint8Array, type: number, n: number, name: string, where: string): Float32Array {
  const out = new Float32Array(n);
  if (type === GGML.F32) new Uint8Array(out.buffer).set(bytes.subarray(0, 4 * n));
  else if (type === GGML.F16) {
    const table = halfTable();
    for (let i = 0; i < n; i++) out[i] = table[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]!;
  } else if (type === GGML.Q8_0) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, (n / 32) * 34);
    const table = halfTable();
    for (let b = 0; b < n / 32; b++) {
      const d = table[v.getUint16(b * 34, true)]!;
      for (let j = 0; j < 32; j++) out[b * 32 + j] = d * v.getInt8(b * 34 + 2 + j);
    }
  } else throw new UserError(`${where}: tensor ${name} has ggml type ${GGML_NAMES[type] ?? type}; only F32, F16 and Q8_0 are supported`);
  return out;
}

function typeBytes(type: number, n: number): number {
  return type === GGML.F32 ? 4 * n : type === GGML.F16 ? 2 * n : type === GGML.Q8_0 ? (n / 32) * 34 : -1;
}

/** Our tokenizer from GGUF tokenizer.ggml.* metadata (gpt2 byte-level BPE with the GPT-2 pre-tokenizer, or llama). */
function tokenizerFromMeta(meta: Meta, where: string): Tokenizer | null {
  const model = meta.get('tokenizer.ggml.model');
  const tokens = meta.get('tokenizer.ggml.tokens') as string[] | undefined;
  if (model === undefined || tokens === undefined) return null;
  const types = (meta.get('tokenizer.ggml.token_type') as number[] | undefined) ?? [];
  const isSpecial = (id: number) => types[id] === TOKEN.CONTROL || types[id] === TOKEN.UNKNOWN || types[id] === TOKEN.USER_DEFINED;
  if (model === 'gpt2') {
    const pre = meta.get('tokenizer.ggml.pre') ?? 'default';
    if (pre !== 'gpt-2' && pre !== 'default') throw new UserError(`${where}: tokenizer.ggml.pre "${String(pre)}" is not supported (only the GPT-2 pre-tokenizer, "gpt-2")`);
    const index = new Map<string, number>();
    tokens.forEach((t, id) => {
      if (!index.has(t)) index.set(t, id);
    });
    const mergeList = (meta.get('tokenizer.ggml.merges') as string[] | undefined) ?? [];
    const merges = new Int32Array(mergeList.length * 2);
    mergeList.forEach((m, r) => {
      const k = m.indexOf(' ', 1);
      const a = index.get(m.slice(0, k));
      const b = index.get(m.slice(k + 1));
      if (a === undefined || b === undefined) throw new UserError(`${where}: tokenizer.ggml.merges[${r}] "${m}" uses a token missing from tokenizer.ggml.tokens`);
      merges[2 * r] = a;
      merges[2 * r + 1] = b;
    });
    const specials: SpecialToken[] = [];
    tokens.forEach((t, id) => {
      if (isSpecial(id)) specials.push({ id, content: t });
    });
    const data: TokenizerData = { tokens: tokens.slice(), merges, specials, normalizer: null };
    return new Tokenizer(data);
  }
  if (model === 'llama') {
    const scores = Float32Array.from((meta.get('tokenizer.ggml.scores') as number[] | undefined) ?? tokens.map(() => 0));
    const specials: SpecialToken[] = [];
    const byteLevel = tokens.map((t, id) => {
      if (isSpecial(id)) {
        specials.push({ id, content: t });
        scores[id] = -Infinity;
        return t;
      }
      if (types[id] === TOKEN.BYTE || bytePieceValue(t) >= 0) return t;
      return bytesToByteLevel(new TextEncoder().encode(t.replaceAll('▁', ' ')));
    });
    const bos = (meta.get('tokenizer.ggml.bos_token_id') as number | undefined) ?? 1;
    const eos = (meta.get('tokenizer.ggml.eos_token_id') as number | undefined) ?? 2;
    return new Tokenizer({ tokens: byteLevel, merges: new Int32Array(0), specials, normalizer: null, sentencepiece: { scores, bos, eos } });
  }
  throw new UserError(`${where}: tokenizer.ggml.model "${String(model)}" is not supported (expected "gpt2" or "llama")`);
}

/**
 * Reads a GGUF v2/v3 file of the llama architecture, or gpt2 as our GPT-Neo export writes it (F32, F16 or Q8_0
 * tensors), into our config, HF-layout tensors and tokenizer.
 * @example const m = readGguf(readFileSync('model.gguf'), 'model.gguf')
 */
export function readGguf(bytes: Uint8Array, name = 'model.gguf'): ImportedModel {
  if (!isGguf(bytes)) throw new UserError(`${name}: not a GGUF file (expected the magic "GGUF" at byte 0)`);
  const r = new In(bytes, name);
  r.off = 4;
  const version = r.u32();
  if (version !== 2 && version !== 3) throw new UserError(`${name}: GGUF version ${version}, expected 2 or 3`);
  const nTensors = r.u64();
  const nKv = r.u64();
  const meta: Meta = new Map();
  for (let i = 0; i < nKv; i++) {
    const key = r.str();
    meta.set(key, r.value(r.u32()));
  }
  const arch = meta.get('general.architecture');
  if (arch !== 'llama' && arch !== 'gpt2') throw new UserError(`${name}: GGUF architecture ${JSON.stringify(arch)} is not supported (expected "llama", or "gpt2" as our GPT-Neo export writes it)`);
  const num = (k: string, fallback?: number): number => {
    const v = meta.get(k) ?? fallback;
    if (typeof v !== 'number') throw new UserError(`${name}: GGUF metadata ${k} is missing or not a number`);
    return v;
  };
  const infos: Array<{ name: string; ne: number[]; type: number; offset: number }> = [];
  for (let i = 0; i < nTensors; i++) {
    const tn = r.str();
    const nd = r.u32();
    if (nd > 4) throw new UserError(`${name}: tensor ${tn} has ${nd} dimensions (GGUF allows at most 4)`);
    const ne = Array.from({ length: nd }, () => r.u64());
    infos.push({ name: tn, ne, type: r.u32(), offset: r.u64() });
  }
  const align = num('general.alignment', ALIGN);
  const dataStart = Math.ceil(r.off / align) * align;
  const byName = new Map(infos.map((x) => [x.name, x]));
  const load = (gn: string, shape: number[]): Float32Array => {
    const info = byName.get(gn);
    if (!info) throw new UserError(`${name}: GGUF tensor ${gn} is missing (expected shape [${shape.slice().reverse().join(', ')}])`);
    const want = shape.slice().reverse();
    if (info.ne.length !== want.length || info.ne.some((d, i) => d !== want[i])) throw new UserError(`${name}: GGUF tensor ${gn} has ne [${info.ne.join(', ')}], expected [${want.join(', ')}]`);
    const n = shape.reduce((a, b) => a * b, 1);
    const size = typeBytes(info.type, n);
    if (size < 0) dequant(new Uint8Array(0), info.type, n, gn, name);
    if (info.type === GGML.Q8_0 && n % 32 !== 0) throw new UserError(`${name}: Q8_0 tensor ${gn} has ${n} values, not a multiple of 32`);
    const start = dataStart + info.offset;
    if (start + size > bytes.length) throw new UserError(`${name}: truncated: tensor ${gn} needs bytes ${start}..${start + size}, the file has ${bytes.length}`);
    return dequant(bytes.subarray(start, start + size), info.type, n, gn, name);
  };
  const embInfo = byName.get('token_embd.weight');
  if (!embInfo) throw new UserError(`${name}: GGUF tensor token_embd.weight is missing`);
  const V = embInfo.ne[1]!;
  const tied = !byName.has('output.weight');
  const { config, tensors } = arch === 'gpt2' ? readGpt2(num, load, V, tied, name) : readLlama(num, load, V, tied, name);
  const tokenizer = tokenizerFromMeta(meta, name);
  if (tokenizer && tokenizer.vocabSize > V) throw new UserError(`${name}: the tokenizer has ${tokenizer.vocabSize} tokens but token_embd.weight has ${V} rows`);
  const types = [...new Set(infos.map((x) => GGML_NAMES[x.type] ?? String(x.type)))].join('/');
  return { config, tensors, tokenizer, source: `GGUF v${version} ${arch} (${name}; ${types}, dim ${config.dim}, ${config.nLayers} layers, vocab ${V})` };
}

type Num = (key: string, fallback?: number) => number;
type Load = (ggufName: string, shape: number[]) => Float32Array;

function readLlama(num: Num, load: Load, V: number, tied: boolean, name: string): { config: LlamaConfig; tensors: NamedTensor[] } {
  const C = num('llama.embedding_length');
  const L = num('llama.block_count');
  const NH = num('llama.attention.head_count');
  const NKV = num('llama.attention.head_count_kv', NH);
  const H = num('llama.feed_forward_length');
  const HS = C / NH;
  if (num('llama.rope.dimension_count', HS) !== HS) throw new UserError(`${name}: llama.rope.dimension_count ${num('llama.rope.dimension_count')} != head size ${HS} (partial RoPE is not supported)`);
  const config: LlamaConfig = {
    arch: 'llama',
    vocabSize: V,
    maxSeqLen: num('llama.context_length'),
    dim: C,
    nLayers: L,
    nHeads: NH,
    nKvHeads: NKV,
    hiddenDim: H,
    normEps: num('llama.attention.layer_norm_rms_epsilon', 1e-5),
    ropeTheta: num('llama.rope.freq_base', 10000),
    tiedEmbeddings: tied,
  };
  const tensors: NamedTensor[] = [{ name: 'model.embed_tokens.weight', shape: [V, C], data: load('token_embd.weight', [V, C]) }];
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    const b = `blk.${l}`;
    tensors.push(
      { name: `${p}.input_layernorm.weight`, shape: [C], data: load(`${b}.attn_norm.weight`, [C]) },
      { name: `${p}.self_attn.q_proj.weight`, shape: [NH * HS, C], data: permuteRope(load(`${b}.attn_q.weight`, [NH * HS, C]), NH, HS, C, true) },
      { name: `${p}.self_attn.k_proj.weight`, shape: [NKV * HS, C], data: permuteRope(load(`${b}.attn_k.weight`, [NKV * HS, C]), NKV, HS, C, true) },
      { name: `${p}.self_attn.v_proj.weight`, shape: [NKV * HS, C], data: load(`${b}.attn_v.weight`, [NKV * HS, C]) },
      { name: `${p}.self_attn.o_proj.weight`, shape: [C, NH * HS], data: load(`${b}.attn_output.weight`, [C, NH * HS]) },
      { name: `${p}.post_attention_layernorm.weight`, shape: [C], data: load(`${b}.ffn_norm.weight`, [C]) },
      { name: `${p}.mlp.gate_proj.weight`, shape: [H, C], data: load(`${b}.ffn_gate.weight`, [H, C]) },
      { name: `${p}.mlp.up_proj.weight`, shape: [H, C], data: load(`${b}.ffn_up.weight`, [H, C]) },
      { name: `${p}.mlp.down_proj.weight`, shape: [C, H], data: load(`${b}.ffn_down.weight`, [C, H]) },
    );
  }
  tensors.push({ name: 'model.norm.weight', shape: [C], data: load('output_norm.weight', [C]) });
  if (!tied) tensors.push({ name: 'lm_head.weight', shape: [V, C], data: load('output.weight', [V, C]) });
  return { config, tensors };
}

/**
 * llama.cpp's gpt2 architecture as our GPT-Neo writes it (see gptNeoGguf): all layers global over its context, q
 * divided back by sqrt(head size). GPT-2 itself has q/k/v biases, which GPT-Neo lacks: a non-zero attn_qkv.bias is
 * refused.
 */
function readGpt2(num: Num, load: Load, V: number, tied: boolean, name: string): { config: GptNeoConfig; tensors: NamedTensor[] } {
  const C = num('gpt2.embedding_length');
  const L = num('gpt2.block_count');
  const NH = num('gpt2.attention.head_count');
  const H = num('gpt2.feed_forward_length');
  const ctx = num('gpt2.context_length');
  const config: GptNeoConfig = {
    arch: 'gpt-neo',
    vocabSize: V,
    maxSeqLen: ctx,
    dim: C,
    nLayers: L,
    nHeads: NH,
    intermediateSize: H,
    windowSize: ctx,
    attentionLayers: new Array<'global'>(L).fill('global'),
    layerNormEps: num('gpt2.attention.layer_norm_epsilon', 1e-5),
    tiedEmbeddings: tied,
  };
  const HS = C / NH;
  const tensors: NamedTensor[] = [
    { name: 'transformer.wte.weight', shape: [V, C], data: load('token_embd.weight', [V, C]) },
    { name: 'transformer.wpe.weight', shape: [ctx, C], data: load('position_embd.weight', [ctx, C]) },
  ];
  for (let l = 0; l < L; l++) {
    const p = `transformer.h.${l}`;
    const b = `blk.${l}`;
    const qkv = load(`${b}.attn_qkv.weight`, [3 * C, C]);
    if (load(`${b}.attn_qkv.bias`, [3 * C]).some((x) => x !== 0)) throw new UserError(`${name}: ${b}.attn_qkv.bias is not zero: a GPT-2 model with q/k/v biases, which GPT-Neo (our gpt2 reading) has not`);
    const q = qkv.slice(0, C * C);
    for (let i = 0; i < q.length; i++) q[i]! /= Math.sqrt(HS);
    tensors.push(
      { name: `${p}.ln_1.weight`, shape: [C], data: load(`${b}.attn_norm.weight`, [C]) },
      { name: `${p}.ln_1.bias`, shape: [C], data: load(`${b}.attn_norm.bias`, [C]) },
      { name: `${p}.attn.attention.q_proj.weight`, shape: [C, C], data: q },
      { name: `${p}.attn.attention.k_proj.weight`, shape: [C, C], data: qkv.slice(C * C, 2 * C * C) },
      { name: `${p}.attn.attention.v_proj.weight`, shape: [C, C], data: qkv.slice(2 * C * C) },
      { name: `${p}.attn.attention.out_proj.weight`, shape: [C, C], data: load(`${b}.attn_output.weight`, [C, C]) },
      { name: `${p}.attn.attention.out_proj.bias`, shape: [C], data: load(`${b}.attn_output.bias`, [C]) },
      { name: `${p}.ln_2.weight`, shape: [C], data: load(`${b}.ffn_norm.weight`, [C]) },
      { name: `${p}.ln_2.bias`, shape: [C], data: load(`${b}.ffn_norm.bias`, [C]) },
      { name: `${p}.mlp.c_fc.weight`, shape: [H, C], data: load(`${b}.ffn_up.weight`, [H, C]) },
      { name: `${p}.mlp.c_fc.bias`, shape: [H], data: load(`${b}.ffn_up.bias`, [H]) },
      { name: `${p}.mlp.c_proj.weight`, shape: [C, H], data: load(`${b}.ffn_down.weight`, [C, H]) },
      { name: `${p}.mlp.c_proj.bias`, shape: [C], data: load(`${b}.ffn_down.bias`, [C]) },
    );
  }
  tensors.push(
    { name: 'transformer.ln_f.weight', shape: [C], data: load('output_norm.weight', [C]) },
    { name: 'transformer.ln_f.bias', shape: [C], data: load('output_norm.bias', [C]) },
  );
  if (!tied) tensors.push({ name: 'lm_head.weight', shape: [V, C], data: load('output.weight', [V, C]) });
  return { config, tensors };
}
