// The sentencepiece-style vocabulary kind (llama2.c tokenizer.bin, Llama tokenizer.json): score-ordered merges,
// `<0xXX>` byte-fallback pieces, a dummy-prefix space; and its Hugging Face tokenizer.json form.
//
// In TokenizerData such a vocabulary keeps `tokens` as the byte-level (GPT-2 bytes_to_unicode) spelling of each
// piece's raw bytes, with a space as a plain space byte (so 'Ġ'), exactly as llama2.c stores pieces after replacing
// '▁' by ' '. Byte pieces stay the literal text "<0x0A>". Specials (<unk>, <s>, </s>) hold their content.
// Encoding follows llama2.c's encode(): prepend ' ', look up each UTF-8 character (else its byte pieces), then
// repeatedly merge the adjacent pair whose concatenation is a piece with the highest score (leftmost on ties).
import { UserError } from '../util/errors.ts';
import { heapMerge } from './merge-table.ts';
import { BYTE_CHARS } from './pretokenize.ts';
import type { SpecialToken, TokenizerData } from './tokenizer.ts';

/** What makes a vocabulary sentencepiece-style: merge scores and its control ids. */
export interface SentencePieceInfo {
  /** Score per id; a piece is a merge result only when its score is finite (higher merges first). */
  scores: Float32Array;
  bos: number;
  eos: number;
}

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;
const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The byte a `<0xXX>` piece stands for, or -1. */
export function bytePieceValue(piece: string): number {
  const m = BYTE_PIECE.exec(piece);
  return m ? parseInt(m[1]!, 16) : -1;
}

/** Byte-level spelling of raw bytes (each byte ↦ one GPT-2 printable character). */
export function bytesToByteLevel(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_CHARS[bytes[i]!]!;
  return s;
}

const BYTE_INDEX = new Map(BYTE_CHARS.map((c, b) => [c, b]));

/** Raw bytes of a byte-level spelling. */
export function byteLevelToRaw(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  let n = 0;
  for (const ch of s) {
    const b = BYTE_INDEX.get(ch);
    if (b === undefined) return encoder.encode(s);
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** The bytes a piece decodes to: a byte piece gives its byte, a special its content, others their raw bytes. */
export function pieceBytes(data: TokenizerData, id: number, specialIds: Set<number>): Uint8Array {
  const t = data.tokens[id] ?? '';
  if (specialIds.has(id)) return encoder.encode(t);
  const b = bytePieceValue(t);
  if (b >= 0) return Uint8Array.of(b);
  return byteLevelToRaw(t);
}

/** llama2.c's encode() of one text without specials: appends ids to `out` (no BOS/EOS). */
export class SentencePieceEncoder {
  private readonly index: Map<string, number>;
  private readonly byteIds: Int32Array;
  private readonly pairs = new Map<number, number>();
  private readonly scores: Float32Array;
  private readonly tokens: string[];
  /** Merge order of each piece by score (0 = highest), built on the first long text. */
  private scoreRank: Int32Array | null = null;

  constructor(data: TokenizerData) {
    const sp = data.sentencepiece!;
    this.scores = sp.scores;
    this.tokens = data.tokens;
    const specialIds = new Set(data.specials.map((s) => s.id));
    this.index = new Map();
    data.tokens.forEach((t, id) => {
      if (!specialIds.has(id) && !this.index.has(t)) this.index.set(t, id);
    });
    this.byteIds = new Int32Array(256).fill(-1);
    for (let b = 0; b < 256; b++) {
      const hex = b.toString(16).toUpperCase().padStart(2, '0');
      // a <0xXX> piece, else (a raw-byte vocabulary, as our llama2.c export writes) the single-byte piece itself
      const id = this.index.get(`<0x${hex}>`) ?? this.index.get(BYTE_CHARS[b]!);
      if (id !== undefined) this.byteIds[b] = id;
    }
  }

  private pair(a: number, b: number): number {
    const key = a * 0x200000 + b;
    let id = this.pairs.get(key);
    if (id === undefined) {
      const found = this.index.get(this.tokens[a]! + this.tokens[b]!);
      id = found !== undefined && Number.isFinite(this.scores[found]!) ? found : -1;
      if (this.pairs.size > 1 << 20) this.pairs.clear();
      this.pairs.set(key, id);
    }
    return id;
  }

  /** llama2.c's loop: merge the best-scoring adjacent pair (leftmost on ties) until none is a piece. */
  private mergeShort(sym: number[]): void {
    for (;;) {
      let best = -Infinity;
      let bestId = -1;
      let bestIdx = -1;
      for (let i = 0; i + 1 < sym.length; i++) {
        const id = this.pair(sym[i]!, sym[i + 1]!);
        if (id >= 0 && this.scores[id]! > best) {
          best = this.scores[id]!;
          bestId = id;
          bestIdx = i;
        }
      }
      if (bestIdx < 0) break;
      sym[bestIdx] = bestId;
      sym.splice(bestIdx + 1, 1);
    }
  }

  /**
   * The same merges in O(n log n) for long texts (merge-table.ts's heapMerge): a pair's rule is the merged piece,
   * ranked by score (highest first; equal scores share a rank, so ties go leftmost as in the scan).
   */
  private mergeLong(sym: number[]): void {
    if (!this.scoreRank) {
      const ids = [...this.scores.keys()].filter((id) => Number.isFinite(this.scores[id]!)).sort((a, b) => this.scores[b]! - this.scores[a]!);
      this.scoreRank = new Int32Array(this.scores.length).fill(-1);
      for (let r = 0, i = 0; i < ids.length; i++) {
        if (i > 0 && this.scores[ids[i]!]! !== this.scores[ids[i - 1]!]!) r++;
        this.scoreRank[ids[i]!] = r;
      }
    }
    const rank = this.scoreRank;
    sym.length = heapMerge(sym, sym.length, { find: (a, b) => this.pair(a, b), rank: (id) => rank[id]!, result: (id) => id });
  }

  /** Appends the ids of `text`; `merging` picks the loop (default: llama2.c's for short texts, the heap for long). */
  encode(text: string, out: number[], merging: 'auto' | 'scan' | 'heap' = 'auto'): void {
    if (text.length === 0) return;
    const bytes = encoder.encode(' ' + text);
    const sym: number[] = [];
    for (let i = 0; i < bytes.length; ) {
      let j = i + 1;
      while (j < bytes.length && (bytes[j]! & 0xc0) === 0x80 && j - i < 4) j++;
      const id = this.index.get(bytesToByteLevel(bytes.subarray(i, j)));
      if (id !== undefined) sym.push(id);
      else {
        for (let k = i; k < j; k++) {
          const bid = this.byteIds[bytes[k]!]!;
          if (bid < 0) throw new UserError(`tokenizer: byte 0x${bytes[k]!.toString(16)} has no piece and the vocabulary has no <0x${bytes[k]!.toString(16).toUpperCase().padStart(2, '0')}> fallback`);
          sym.push(bid);
        }
      }
      i = j;
    }
    if (merging === 'scan' || (merging === 'auto' && sym.length <= 64)) this.mergeShort(sym);
    else this.mergeLong(sym);
    for (const id of sym) out.push(id);
  }
}

/** Piece text as Hugging Face's Llama tokenizer.json spells it ('▁' for space); null when not valid UTF-8. */
function hfPiece(data: TokenizerData, id: number, specialIds: Set<number>): string | null {
  const t = data.tokens[id]!;
  if (specialIds.has(id) || bytePieceValue(t) >= 0) return t;
  try {
    return utf8.decode(byteLevelToRaw(t)).replaceAll(' ', '▁');
  } catch {
    return null;
  }
}

/**
 * The Hugging Face tokenizer.json object of a sentencepiece-style vocabulary, in the layout of Llama's
 * (BPE + byte_fallback, Prepend/Replace '▁' normalizer, merges ordered by the merged piece's score).
 * Pieces that are not valid UTF-8 (a raw-byte vocabulary) are written as `<raw:hex>` so ids stay aligned.
 */
export function sentencePieceToHfJson(data: TokenizerData): object {
  const sp = data.sentencepiece!;
  const specialIds = new Set(data.specials.map((s) => s.id));
  const names = data.tokens.map((_, id) => hfPiece(data, id, specialIds) ?? `<raw:${hex(byteLevelToRaw(data.tokens[id]!))}>`);
  const vocab: Record<string, number> = {};
  names.forEach((t, id) => {
    if (!Object.hasOwn(vocab, t)) vocab[t] = id; // not `in`: pieces like "constructor" are on Object.prototype
  });
  // Every split of each mergeable piece into two pieces, best score first (HF's LlamaConverter does the same).
  const index = new Map<string, number>();
  data.tokens.forEach((t, id) => {
    if (!specialIds.has(id) && !index.has(t)) index.set(t, id);
  });
  const order = data.tokens.map((_, id) => id).filter((id) => Number.isFinite(sp.scores[id]!) && !specialIds.has(id) && bytePieceValue(data.tokens[id]!) < 0);
  order.sort((a, b) => sp.scores[b]! - sp.scores[a]! || a - b);
  const merges: Array<[string, string]> = [];
  for (const id of order) {
    const t = data.tokens[id]!;
    const chars = Array.from(t);
    for (let k = 1; k < chars.length; k++) {
      const a = index.get(chars.slice(0, k).join(''));
      const b = index.get(chars.slice(k).join(''));
      if (a !== undefined && b !== undefined) merges.push([names[a]!, names[b]!]);
    }
  }
  const bosName = data.tokens[sp.bos] ?? '<s>';
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: data.specials.map(addedTokenJson),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: bosName, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: bosName, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: bosName, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [bosName]: { id: bosName, ids: [sp.bos], tokens: [bosName] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: data.specials.find((s) => s.content === '<unk>')?.content ?? null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

type Json = Record<string, unknown>;

/** A special token as a tokenizer.json added_tokens entry. */
export function addedTokenJson(s: SpecialToken): object {
  return { id: s.id, content: s.content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** The two pieces of a tokenizer.json merge entry: "a b" (split at the first space after the first character) or ["a", "b"]. */
export function mergeParts(m: unknown): [string | undefined, string | undefined] {
  if (typeof m === 'string') {
    const k = m.indexOf(' ', 1);
    return [m.slice(0, k), m.slice(k + 1)];
  }
  if (Array.isArray(m)) return [m[0] as string | undefined, m[1] as string | undefined];
  return [undefined, undefined];
}

/**
 * Whether a parsed tokenizer.json is a sentencepiece-style (Llama) BPE: byte_fallback and the '▁' convention, either
 * as a Prepend/Replace normalizer (no pre-tokenizer) or as a Metaspace pre-tokenizer that does not split.
 */
export function isSentencePieceJson(j: Json): boolean {
  const model = j.model as Json | undefined;
  const pre = j.pre_tokenizer as Json | null | undefined;
  const preOk = pre == null || (pre.type === 'Metaspace' && pre.split === false);
  return typeof model === 'object' && model !== null && model.type === 'BPE' && model.byte_fallback === true && preOk;
}

/**
 * TokenizerData from a Llama-style tokenizer.json. Scores are rebuilt from the merge order (a piece's score is minus
 * the rank of the first merge producing it), which llama2.c's best-score merging then follows merge for merge.
 */
export function sentencePieceFromHfJson(j: Json, where: string): TokenizerData {
  const model = j.model as Json;
  const vocab = model.vocab as Record<string, number>;
  if (typeof vocab !== 'object' || vocab === null) throw new UserError(`${where}: model.vocab must be an object`);
  const names: string[] = [];
  for (const [t, id] of Object.entries(vocab)) names[id] = t;
  const specials: SpecialToken[] = [];
  for (const a of (j.added_tokens as Json[] | undefined) ?? []) {
    const id = a.id as number;
    if (names[id] === undefined) names[id] = a.content as string;
    if (a.special !== false) specials.push({ id, content: a.content as string });
  }
  const specialIds = new Set(specials.map((s) => s.id));
  const tokens = Array.from(names, (t, id) => {
    if (t === undefined) return '';
    if (specialIds.has(id) || bytePieceValue(t) >= 0) return t;
    const raw = /^<raw:([0-9a-f]*)>$/.exec(t);
    if (raw) return bytesToByteLevel(Uint8Array.from(raw[1]!.match(/../g) ?? [], (h) => parseInt(h, 16)));
    return bytesToByteLevel(encoder.encode(t.replaceAll('▁', ' ')));
  });
  const scores = new Float32Array(tokens.length).fill(-Infinity);
  const list = model.merges as unknown[];
  if (!Array.isArray(list)) throw new UserError(`${where}: model.merges must be an array`);
  list.forEach((m, r) => {
    const [a, b] = mergeParts(m);
    const id = a === undefined || b === undefined || !Object.hasOwn(vocab, a + b) ? undefined : vocab[a + b];
    if (id === undefined) throw new UserError(`${where}: merge ${r + 1} ${JSON.stringify(m)} produces a piece missing from the vocabulary`);
    if (scores[id] === -Infinity) scores[id] = -r;
  });
  const find = (content: string, fallback: number) => specials.find((s) => s.content === content)?.id ?? fallback;
  return { tokens, merges: new Int32Array(0), specials, normalizer: null, sentencepiece: { scores, bos: find('<s>', 1), eos: find('</s>', 2) } };
}
