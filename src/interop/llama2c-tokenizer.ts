// llama2.c's tokenizer.bin: read into our sentencepiece-kind Tokenizer, and write any of our vocabularies.
//
// Layout (llama2.c tokenizer.py export / run.c build_tokenizer), little-endian:
//   int32 max_token_length
//   per token, in id order: float32 score, int32 byte length, the piece's bytes (no terminator)
// The file does not store the vocabulary size (run.c takes it from the checkpoint), so we read to the end.
// Pieces: '▁' is already a plain space; `<0x00>`..`<0xFF>` are raw bytes; BOS (id 1) is "\n<s>\n", EOS (id 2)
// "\n</s>\n", id 0 "<unk>". Merge scores: higher merges first (encode in sentencepiece.ts).
import type { SpecialToken } from '../tokenizer/tokenizer.ts';
import { Tokenizer } from '../tokenizer/tokenizer.ts';
import { byteLevelToRaw, bytePieceValue, bytesToByteLevel } from '../tokenizer/sentencepiece.ts';
import { UserError } from '../util/errors.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Score written for pieces that must never be a merge result (run.c merges only scores above -1e10). */
const NO_MERGE = -1e10;

const SPECIAL_PIECES: Record<string, string> = { '<unk>': '<unk>', '\n<s>\n': '<s>', '<s>': '<s>', '\n</s>\n': '</s>', '</s>': '</s>', '<|endoftext|>': '<|endoftext|>' };

/**
 * Reads a llama2.c tokenizer.bin. With `vocabSize` (the model's), a different number of pieces is an error.
 * @example const tok = readLlama2cTokenizer(readFileSync('tok512.bin'), 'tok512.bin', 512)
 */
export function readLlama2cTokenizer(bytes: Uint8Array, name = 'tokenizer.bin', vocabSize?: number): Tokenizer {
  const where = `${name}: llama2.c tokenizer.bin`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) throw new UserError(`${where}: file is ${bytes.length} bytes, too short for the header`);
  const maxLen = view.getInt32(0, true);
  if (maxLen <= 0 || maxLen > 4096) throw new UserError(`${where}: max_token_length ${maxLen} is not plausible (expected 1..4096); is this a tokenizer.bin?`);
  const tokens: string[] = [];
  const scoreList: number[] = [];
  const specials: SpecialToken[] = [];
  let off = 4;
  while (off < bytes.length) {
    const id = tokens.length;
    if (off + 8 > bytes.length) throw new UserError(`${where}: truncated in the header of piece ${id} (offset ${off} of ${bytes.length})`);
    const score = view.getFloat32(off, true);
    const len = view.getInt32(off + 4, true);
    off += 8;
    if (len < 0 || len > maxLen) throw new UserError(`${where}: piece ${id} has length ${len}, expected 0..${maxLen} (max_token_length)`);
    if (off + len > bytes.length) throw new UserError(`${where}: truncated in piece ${id} (needs ${len} bytes at offset ${off}, file has ${bytes.length})`);
    if (!Number.isFinite(score)) throw new UserError(`${where}: piece ${id} has a non-finite score`);
    const piece = bytes.subarray(off, off + len);
    off += len;
    const text = id <= 2 ? SPECIAL_PIECES[decoder.decode(piece)] : undefined;
    if (text !== undefined) {
      specials.push({ id, content: text });
      tokens.push(text);
    } else tokens.push(bytesToByteLevel(piece));
    scoreList.push(score);
    if (vocabSize !== undefined && tokens.length > vocabSize) break;
  }
  if (vocabSize !== undefined && tokens.length !== vocabSize) {
    throw new UserError(`${where}: holds ${tokens.length > vocabSize ? 'more than ' + vocabSize : tokens.length} pieces but the model's vocab_size is ${vocabSize}; pass the tokenizer this model was trained with`);
  }
  if (tokens.length < 3) throw new UserError(`${where}: holds ${tokens.length} pieces, expected at least 3 (<unk>, BOS, EOS)`);
  const scores = Float32Array.from(scoreList);
  for (const s of specials) scores[s.id] = NO_MERGE;
  return new Tokenizer({ tokens, merges: new Int32Array(0), specials, normalizer: null, sentencepiece: { scores, bos: 1, eos: 2 } });
}

/**
 * Writes a tokenizer.bin for `tokenizer`, ids in `order` (order[newId] = our id; default identity) padded with
 * empty pieces up to `vocabSize`. A sentencepiece vocabulary keeps its pieces and scores; a byte-level BPE is
 * written as raw-byte pieces (what run.c prints) scored by merge rank, so run.c decodes it exactly.
 */
export function writeLlama2cTokenizer(tokenizer: Tokenizer, vocabSize = tokenizer.vocabSize, order?: ArrayLike<number>): Uint8Array {
  const data = tokenizer.data;
  const pieces: Uint8Array[] = [];
  const scores = new Float32Array(vocabSize).fill(NO_MERGE);
  const rankScore = mergeRankScores(tokenizer);
  for (let newId = 0; newId < vocabSize; newId++) {
    const id = order ? order[newId]! : newId;
    if (id >= tokenizer.vocabSize) {
      pieces.push(new Uint8Array(0));
      continue;
    }
    if (data.sentencepiece && !data.remap) {
      const t = data.tokens[id]!;
      const special = data.specials.find((s) => s.id === id)?.content;
      if (special !== undefined) pieces.push(encoder.encode(special === '<s>' || special === '</s>' ? `\n${special}\n` : special));
      else pieces.push(bytePieceValue(t) >= 0 ? encoder.encode(t) : byteLevelToRaw(t));
      scores[newId] = special !== undefined ? 0 : data.sentencepiece.scores[id]!;
    } else {
      pieces.push(tokenizer.pieceAfter(-1, id));
      scores[newId] = rankScore[id] ?? NO_MERGE;
    }
  }
  let maxLen = 1;
  let total = 4;
  for (const p of pieces) {
    maxLen = Math.max(maxLen, p.length);
    total += 8 + p.length;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setInt32(0, maxLen, true);
  let off = 4;
  pieces.forEach((p, i) => {
    view.setFloat32(off, Number.isFinite(scores[i]!) ? scores[i]! : NO_MERGE, true);
    view.setInt32(off + 4, p.length, true);
    out.set(p, off + 8);
    off += 8 + p.length;
  });
  return out;
}

/** Per id of a byte-level BPE: minus the rank of the merge producing it (earlier merges score higher). */
function mergeRankScores(tokenizer: Tokenizer): Array<number | undefined> {
  const data = tokenizer.data;
  const out: Array<number | undefined> = [];
  if (data.sentencepiece) return out;
  const index = new Map<string, number>();
  data.tokens.forEach((t, id) => {
    if (!index.has(t)) index.set(t, id);
  });
  const baseScore: Array<number | undefined> = [];
  for (let r = 0; r < data.merges.length / 2; r++) {
    const id = index.get(data.tokens[data.merges[2 * r]!]! + data.tokens[data.merges[2 * r + 1]!]!);
    if (id !== undefined && baseScore[id] === undefined) baseScore[id] = -r;
  }
  if (!data.remap) return baseScore;
  data.remap.newToBase.forEach((base, id) => {
    out[id] = base >= 0 ? baseScore[base] : undefined;
  });
  return out;
}
