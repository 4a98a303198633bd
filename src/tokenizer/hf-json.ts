// Hugging Face tokenizer.json and GPT-2 vocab.json + merges.txt I/O, plus our top-K remap file format.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.ts';
import type { SpecialToken, TokenizerData } from './tokenizer.ts';
import { Tokenizer } from './tokenizer.ts';
import { addedTokenJson, isSentencePieceJson, mergeParts, sentencePieceFromHfJson, sentencePieceToHfJson } from './sentencepiece.ts';

/** Marker of our top-K remap file (a Hugging Face tokenizer.json cannot express a many-to-one id map). */
export const REMAP_FORMAT = 'tinystories-topk-remap';

/** A genuine Hugging Face tokenizer file, as run directories and model folders name it. */
export const HF_TOKENIZER_FILE = 'tokenizer.json';
/**
 * Where a run directory keeps a top-K remap tokenizer instead: Hugging Face tools cannot load our format, so it must
 * not pose as their tokenizer.json.
 */
export const TOPK_TOKENIZER_FILE = 'tokenizer.topk.json';

/** The file name a run directory gives this tokenizer: tokenizer.json, or tokenizer.topk.json for a top-K remap. */
export function tokenizerFileName(tok: Tokenizer): string {
  return tok.data.remap ? TOPK_TOKENIZER_FILE : HF_TOKENIZER_FILE;
}

/** The tokenizer file of a directory (tokenizer.json, else tokenizer.topk.json), or null when it has neither. */
export function tokenizerFileIn(dir: string): string | null {
  for (const f of [HF_TOKENIZER_FILE, TOPK_TOKENIZER_FILE]) if (existsSync(join(dir, f))) return join(dir, f);
  return null;
}

/** The tokenizer.json object for a byte-level BPE (no remap): loadable by Hugging Face tokenizers (Rust and JS). */
export function toHfJson(data: TokenizerData): object {
  if (data.remap) return toRemapJson(data);
  if (data.sentencepiece) return sentencePieceToHfJson(data);
  const vocab: Record<string, number> = {};
  data.tokens.forEach((t, id) => {
    if (t !== undefined && !Object.hasOwn(vocab, t)) vocab[t] = id; // not `in`: "constructor" is on Object.prototype
  });
  const merges: string[] = [];
  for (let r = 0; r < data.merges.length / 2; r++) {
    merges.push(`${data.tokens[data.merges[2 * r]!]} ${data.tokens[data.merges[2 * r + 1]!]}`);
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: data.specials.map(addedTokenJson),
    normalizer: data.normalizer === 'NFC' ? { type: 'NFC' } : null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

function toRemapJson(data: TokenizerData): object {
  const r = data.remap!;
  return {
    format: REMAP_FORMAT,
    version: 1,
    note: 'ids = positions in "kept" (base token ids); every other base token maps to fallback_id',
    fallback_id: r.fallbackId,
    fallback_content: r.fallbackContent,
    coverage: r.coverage ?? null,
    kept: Array.from(r.newToBase),
    base: toHfJson({ ...data, remap: undefined }),
  };
}

type Json = Record<string, unknown>;

/** Builds a Tokenizer from a parsed tokenizer.json (or our remap file); `where` names the file in errors. */
export function fromHfJson(obj: unknown, where: string): Tokenizer {
  return new Tokenizer(dataFromJson(obj, where));
}

function dataFromJson(obj: unknown, where: string): TokenizerData {
  if (typeof obj !== 'object' || obj === null) throw new UserError(`${where}: expected a JSON object`);
  const j = obj as Json;
  if (j.format === REMAP_FORMAT) {
    const base = dataFromJson(j.base, `${where} (base)`);
    const kept = j.kept;
    if (!Array.isArray(kept) || typeof j.fallback_id !== 'number') {
      throw new UserError(`${where}: a ${REMAP_FORMAT} file needs "kept" (array) and "fallback_id" (number)`);
    }
    return {
      ...base,
      remap: {
        newToBase: Int32Array.from(kept as number[]),
        fallbackId: j.fallback_id,
        fallbackContent: typeof j.fallback_content === 'string' ? j.fallback_content : '<|unk|>',
        coverage: typeof j.coverage === 'number' ? j.coverage : undefined,
      },
    };
  }
  const model = j.model as Json | undefined;
  if (typeof model !== 'object' || model === null) {
    // e.g. a tiktoken/SentencePiece export or some other JSON file passed by mistake
    throw new UserError(
      `${where}: not a Hugging Face tokenizer.json (no "model" object); expected a byte-level BPE tokenizer.json, a top-K file, or a vocab.json + merges.txt directory`,
    );
  }
  if (isSentencePieceJson(j)) return sentencePieceFromHfJson(j, where);
  if (model.type !== 'BPE') {
    throw new UserError(`${where}: model.type must be "BPE" (byte-level BPE); got ${JSON.stringify(model?.type)}`);
  }
  const pre = j.pre_tokenizer as Json | null | undefined;
  if (!pre || pre.type !== 'ByteLevel' || pre.add_prefix_space === true || pre.use_regex === false) {
    throw new UserError(
      `${where}: pre_tokenizer must be ByteLevel with add_prefix_space=false and use_regex=true (GPT-2 style)`,
    );
  }
  // transformers' GPT2Converter writes continuing_subword_prefix "" (no prefix): only a non-empty one is unsupported
  if (model.byte_fallback === true || (typeof model.continuing_subword_prefix === 'string' && model.continuing_subword_prefix !== '') || model.dropout) {
    throw new UserError(`${where}: byte_fallback, continuing_subword_prefix and dropout are not supported`);
  }
  const norm = j.normalizer as Json | null | undefined;
  let normalizer: 'NFC' | null = null;
  if (norm) {
    const steps = norm.type === 'Sequence' ? (norm.normalizers as Json[]) : [norm];
    if (steps.length > 1 || (steps.length === 1 && steps[0]!.type !== 'NFC')) {
      throw new UserError(`${where}: only the NFC normalizer (or none) is supported; got ${JSON.stringify(norm)}`);
    }
    if (steps.length === 1) normalizer = 'NFC';
  }
  const vocab = model.vocab as Record<string, number>;
  if (typeof vocab !== 'object' || vocab === null) throw new UserError(`${where}: model.vocab must be an object`);
  const tokens: string[] = [];
  for (const [t, id] of Object.entries(vocab)) tokens[id] = t;
  const specials: SpecialToken[] = [];
  for (const a of (j.added_tokens as Json[] | undefined) ?? []) {
    const id = a.id as number;
    const content = a.content as string;
    if (tokens[id] === undefined) tokens[id] = content;
    specials.push({ id, content });
  }
  const merges = parseMerges(model.merges as unknown[], vocab, where);
  return { tokens: fillHoles(tokens), merges, specials, normalizer };
}

function fillHoles(tokens: string[]): string[] {
  for (let i = 0; i < tokens.length; i++) if (tokens[i] === undefined) tokens[i] = '';
  return tokens;
}

function parseMerges(list: unknown[], vocab: Record<string, number>, where: string): Int32Array {
  if (!Array.isArray(list)) throw new UserError(`${where}: model.merges must be an array`);
  const out = new Int32Array(list.length * 2);
  list.forEach((m, r) => {
    const [a, b] = mergeParts(m);
    const own = (t: string | undefined) => (t !== undefined && Object.hasOwn(vocab, t) ? vocab[t] : undefined);
    const ia = own(a);
    const ib = own(b);
    if (ia === undefined || ib === undefined || own(a! + b!) === undefined) {
      throw new UserError(`${where}: merge ${r + 1} ${JSON.stringify(m)} uses a token missing from the vocabulary`);
    }
    out[2 * r] = ia;
    out[2 * r + 1] = ib;
  });
  return out;
}

/** Reads GPT-2 style vocab.json + merges.txt (e.g. the GPT-2 / GPT-Neo files); `<|endoftext|>` becomes special. */
export function loadVocabMerges(vocabPath: string, mergesPath: string): Tokenizer {
  const vocab = readJson(vocabPath) as Record<string, number>;
  const lines = readFileSync(mergesPath, 'utf8').split('\n');
  const merges: string[] = [];
  lines.forEach((line, i) => {
    if ((i === 0 && line.startsWith('#version')) || line.trim() === '') return;
    merges.push(line.replace(/\r$/, ''));
  });
  const specials = '<|endoftext|>' in vocab ? [{ id: vocab['<|endoftext|>']!, content: '<|endoftext|>' }] : [];
  const json = {
    added_tokens: specials,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, use_regex: true },
    model: { type: 'BPE', vocab, merges },
  };
  return fromHfJson(json, `${vocabPath} + ${mergesPath}`);
}

/**
 * Loads a tokenizer from a tokenizer.json file, our top-K remap file, or a directory holding tokenizer.json or
 * vocab.json + merges.txt.
 */
export function loadTokenizer(path: string): Tokenizer {
  if (!existsSync(path)) throw new UserError(`tokenizer not found: ${path} (train one with: tinystories tokenizer train)`);
  if (statSync(path).isDirectory()) {
    const file = tokenizerFileIn(path);
    if (file) return loadTokenizer(file);
    if (existsSync(join(path, 'vocab.json')) && existsSync(join(path, 'merges.txt'))) {
      return loadVocabMerges(join(path, 'vocab.json'), join(path, 'merges.txt'));
    }
    throw new UserError(`${path}: directory has neither tokenizer.json (or tokenizer.topk.json) nor vocab.json + merges.txt`);
  }
  return fromHfJson(readJson(path), path);
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}
