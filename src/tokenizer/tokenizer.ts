// The byte-level BPE tokenizer: encode (specials → NFC → GPT-2 pre-tokens → cached merges), decode, save.
import { writeFileAtomicSync } from '../util/atomic.ts';
import { MergeTable, heapMerge } from './merge-table.ts';
import { toHfJson } from './hf-json.ts';
import { encodeMany } from './pool.ts';
import { BYTE_CHARS, splitPretokens } from './pretokenize.ts';
import { SentencePieceEncoder, type SentencePieceInfo, pieceBytes } from './sentencepiece.ts';

/** A special token such as `<|endoftext|>`: matched verbatim before normalization, never split or merged. */
export interface SpecialToken {
  id: number;
  content: string;
}

/** The "top-K most frequent tokens" restriction of a base vocabulary (TinyStories paper, GPT-Neo top 10k). */
export interface VocabRemap {
  /** newToBase[newId] = base id; the fallback's entry is -1. */
  newToBase: Int32Array;
  /** New id every dropped base token maps to. */
  fallbackId: number;
  /** Text the fallback id decodes to. */
  fallbackContent: string;
  /** Share of corpus tokens kept when the remap was computed (0..1). */
  coverage?: number;
}

/** Everything a Tokenizer is made of, as plain structured-cloneable data (sent to worker threads). */
export interface TokenizerData {
  /** Byte-level token strings of the base model by id (specials hold their content). */
  tokens: string[];
  /** Merges in rank order as (left id, right id) pairs. */
  merges: Int32Array;
  specials: SpecialToken[];
  /** Unicode normalization applied before pre-tokenization ('NFC' for trained tokenizers, null for GPT-2). */
  normalizer: 'NFC' | null;
  remap?: VocabRemap;
  /**
   * Present for a sentencepiece-style vocabulary (llama2.c tokenizer.bin, Llama tokenizer.json): `tokens` then spell
   * raw piece bytes byte-level, `merges` is empty, and encoding follows llama2.c (see sentencepiece.ts).
   */
  sentencepiece?: SentencePieceInfo;
}

const CACHE_LIMIT = 1 << 18;
const MAX_CACHED_PIECE = 48;
const encoder = new TextEncoder();

/**
 * A byte-level BPE tokenizer with GPT-2 pre-tokenization, compatible id-for-id with Hugging Face `tokenizers`.
 * @example const tok = loadTokenizer('tokenizer.json'); tok.decode(tok.encode('Once upon a time')) === 'Once upon a time'
 */
export class Tokenizer {
  readonly data: TokenizerData;
  /** Number of ids (after a top-K remap: K). */
  readonly vocabSize: number;
  /** Id of `<|endoftext|>`, or -1 when the vocabulary has none. */
  readonly eotId: number;
  private readonly table: MergeTable;
  private readonly byteIds: Int32Array;
  private readonly tokenBytes: Uint8Array[];
  private readonly specialsByContent: Map<string, number>;
  private readonly baseToNew: Int32Array | undefined;
  private readonly sp: SentencePieceEncoder | null;
  private cache = new Map<string, number[]>();
  private scratch = new Int32Array(256);
  private utf8 = new Uint8Array(1024);

  constructor(data: TokenizerData) {
    this.data = data;
    const tokenIndex = new Map<string, number>();
    data.tokens.forEach((t, id) => {
      if (t !== undefined && !tokenIndex.has(t)) tokenIndex.set(t, id);
    });
    const specialIds = new Set(data.specials.map((s) => s.id));
    for (const s of data.specials) tokenIndex.set(s.content, s.id);
    this.byteIds = new Int32Array(256).fill(-1);
    for (let b = 0; b < 256; b++) {
      const id = tokenIndex.get(BYTE_CHARS[b]!);
      if (id !== undefined && !specialIds.has(id)) this.byteIds[b] = id;
    }
    const nMerges = data.merges.length / 2;
    const results = new Int32Array(nMerges);
    for (let r = 0; r < nMerges; r++) {
      const a = data.tokens[data.merges[2 * r]!];
      const b = data.tokens[data.merges[2 * r + 1]!];
      const id = a === undefined || b === undefined ? undefined : tokenIndex.get(a + b);
      if (id === undefined) throw new Error(`merge ${r} (${a} ${b}) produces a token missing from the vocabulary`);
      results[r] = id;
    }
    this.table = new MergeTable(data.merges, results);
    this.sp = data.sentencepiece ? new SentencePieceEncoder(data) : null;
    this.tokenBytes = data.tokens.map((t, id) => {
      if (data.sentencepiece) return pieceBytes(data, id, specialIds);
      if (specialIds.has(id) || t === undefined) return encoder.encode(t ?? '');
      return byteLevelToBytes(t);
    });
    for (const s of data.specials) this.tokenBytes[s.id] = encoder.encode(s.content);
    this.specialsByContent = new Map(data.specials.map((s) => [s.content, s.id]));
    // A sentencepiece vocabulary's document separator is BOS: llama2.c starts every story from it and stops at it.
    const eot = data.sentencepiece ? data.sentencepiece.bos : (data.specials.find((s) => s.content === '<|endoftext|>')?.id ?? -1);
    if (data.remap) {
      const r = data.remap;
      this.baseToNew = new Int32Array(data.tokens.length).fill(r.fallbackId);
      r.newToBase.forEach((base, id) => {
        if (base >= 0) this.baseToNew![base] = id;
      });
      this.vocabSize = r.newToBase.length;
      this.eotId = eot < 0 ? -1 : this.baseToNew[eot]!;
    } else {
      this.vocabSize = data.tokens.length;
      this.eotId = eot;
    }
  }

  /** Token ids of `text` (special tokens in the text become their ids). */
  encode(text: string): number[] {
    const out: number[] = [];
    this.encodeInto(text, out);
    return out;
  }

  /**
   * Encodes many texts; with `threads` > 1 and a large input, on worker threads (same ids as encode).
   * @example const ids = await tok.encodeMany(stories, { threads: 2 });
   */
  encodeMany(texts: string[], opts: { threads?: number } = {}): Promise<Int32Array[]> {
    return encodeMany(this, texts, opts);
  }

  /** Appends the ids of `text` to `out`. */
  encodeInto(text: string, out: number[]): void {
    const specials = this.data.specials;
    if (specials.length === 0) {
      this.encodeOrdinary(text, out);
      return;
    }
    let pos = 0;
    for (;;) {
      // earliest special occurrence; at equal positions the longest one wins
      let at = -1;
      let which = '';
      for (const s of specials) {
        const k = text.indexOf(s.content, pos);
        if (k >= 0 && (at < 0 || k < at || (k === at && s.content.length > which.length))) {
          at = k;
          which = s.content;
        }
      }
      if (at < 0) break;
      if (at > pos) this.encodeOrdinary(text.slice(pos, at), out);
      out.push(this.mapId(this.specialsByContent.get(which)!));
      pos = at + which.length;
    }
    if (pos < text.length) this.encodeOrdinary(pos === 0 ? text : text.slice(pos), out);
  }

  private mapId(baseId: number): number {
    return this.baseToNew ? this.baseToNew[baseId]! : baseId;
  }

  private encodeOrdinary(raw: string, out: number[]): void {
    if (this.sp) {
      this.sp.encode(raw, out);
      return;
    }
    const text = this.data.normalizer === 'NFC' ? raw.normalize('NFC') : raw;
    const cache = this.cache;
    splitPretokens(text, (start, end) => {
      const piece = text.slice(start, end);
      let ids = cache.get(piece);
      if (ids === undefined) {
        ids = this.bpePiece(piece);
        if (piece.length <= MAX_CACHED_PIECE) {
          if (cache.size >= CACHE_LIMIT) cache.clear();
          cache.set(piece, ids);
        }
      }
      for (let k = 0; k < ids.length; k++) out.push(ids[k]!);
    });
  }

  /** BPE of one pre-token: its UTF-8 bytes, merged lowest rank first (leftmost on ties). */
  private bpePiece(piece: string): number[] {
    let n = piece.length * 3;
    if (this.utf8.length < n) this.utf8 = new Uint8Array(n * 2);
    n = encoder.encodeInto(piece, this.utf8).written;
    if (this.scratch.length < n) this.scratch = new Int32Array(n * 2);
    const sym = this.scratch;
    for (let i = 0; i < n; i++) {
      const id = this.byteIds[this.utf8[i]!]!;
      if (id < 0) throw new Error(`the vocabulary has no token for byte ${this.utf8[i]}`);
      sym[i] = id;
    }
    const len = n > 64 ? heapMerge(sym, n, this.table) : this.mergeShort(sym, n); // the same merges, O(n log n)
    const ids = new Array<number>(len);
    for (let i = 0; i < len; i++) ids[i] = this.mapId(sym[i]!);
    return ids;
  }

  private mergeShort(sym: Int32Array, n: number): number {
    const table = this.table;
    let len = n;
    while (len > 1) {
      let bestRank = 0x7fffffff;
      let bestPos = -1;
      let bestSlot = -1;
      for (let p = 0; p < len - 1; p++) {
        const slot = table.find(sym[p]!, sym[p + 1]!);
        if (slot >= 0) {
          const r = table.rank(slot);
          if (r < bestRank) {
            bestRank = r;
            bestPos = p;
            bestSlot = slot;
          }
        }
      }
      if (bestPos < 0) break;
      sym[bestPos] = table.result(bestSlot);
      sym.copyWithin(bestPos + 1, bestPos + 2, len);
      len--;
    }
    return len;
  }

  /** Text of `ids`; exact inverse of encode for NFC text. Invalid UTF-8 (cut multi-byte tokens) becomes U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    return new TextDecoder().decode(this.decodeBytes(ids));
  }

  /**
   * The raw bytes of `ids`. For a sentencepiece vocabulary the leading space of the first piece and of any piece
   * after BOS is dropped (the dummy prefix), as Hugging Face's Llama decoder and llama2.c's run.c do.
   */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    let total = 0;
    for (let i = 0; i < ids.length; i++) total += this.pieceAfter(i === 0 ? -1 : ids[i - 1]!, ids[i]!, i === 0).length;
    const out = new Uint8Array(total);
    let off = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.pieceAfter(i === 0 ? -1 : ids[i - 1]!, ids[i]!, i === 0);
      out.set(b, off);
      off += b.length;
    }
    return out;
  }

  /** Text of one token on its own (a token holding part of a UTF-8 character gives U+FFFD; see StreamDecoder). */
  decodeToken(id: number): string {
    return new TextDecoder().decode(this.bytesOf(id));
  }

  /** Byte-level string of a token as in tokenizer.json (e.g. "Ġthe"), or the special's content. */
  tokenString(id: number): string {
    const base = this.baseId(id);
    if (base < 0) return this.data.remap!.fallbackContent;
    return this.data.tokens[base]!;
  }

  private baseId(id: number): number {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new RangeError(`token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    }
    return this.data.remap ? this.data.remap.newToBase[id]! : id;
  }

  /** Bytes of `id` following `prev`; a sentencepiece piece drops its dummy-prefix space at the start or after BOS. */
  pieceAfter(prev: number, id: number, first = false): Uint8Array {
    const b = this.bytesOf(id);
    if (this.sp && (first || prev === this.eotId) && b[0] === 0x20) return b.subarray(1);
    return b;
  }

  private bytesOf(id: number): Uint8Array {
    const base = this.baseId(id);
    if (base < 0) return encoder.encode(this.data.remap!.fallbackContent);
    return this.tokenBytes[base]!;
  }

  /**
   * A streaming decoder: feed ids one by one, get text as soon as whole characters are complete. `after` is the
   * id before the first one pushed (a sentencepiece piece right after BOS drops its leading space, as run.c does).
   */
  streamDecoder(after = -1): StreamDecoder {
    return new StreamDecoder(this, after);
  }

  /** Whether this is a sentencepiece-style vocabulary (llama2.c / Llama) rather than byte-level BPE. */
  get isSentencePiece(): boolean {
    return this.sp !== null;
  }

  /** The Hugging Face tokenizer.json object (see hf-json.ts). */
  toJSON(): object {
    return toHfJson(this.data);
  }

  /** Writes tokenizer.json atomically. */
  save(path: string): void {
    writeFileAtomicSync(path, JSON.stringify(this.toJSON(), null, 2) + '\n');
  }

  /** Drops the pre-token cache (memory) — encode keeps working. */
  clearCache(): void {
    this.cache = new Map();
  }
}

/** Decodes a stream of ids without splitting multi-byte characters across tokens. */
export class StreamDecoder {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  constructor(
    private readonly tok: Tokenizer,
    private prev = -1,
  ) {}
  /** Text completed by this id ('' while a character is still partial). */
  push(id: number): string {
    const bytes = this.tok.pieceAfter(this.prev, id);
    this.prev = id;
    return this.decoder.decode(bytes, { stream: true });
  }
  /** Flushes a trailing partial character (as U+FFFD). */
  end(): string {
    return this.decoder.decode();
  }
}

function byteLevelToBytes(t: string): Uint8Array {
  const out = new Uint8Array(t.length);
  let n = 0;
  for (const ch of t) {
    const b = BYTE_INDEX.get(ch);
    if (b === undefined) return encoder.encode(t); // not byte-level (an added token): its UTF-8
    out[n++] = b;
  }
  return out.subarray(0, n);
}
const BYTE_INDEX = new Map(BYTE_CHARS.map((c, b) => [c, b]));
