// Token shards: tokenize a corpus into binary shard files (resumable, atomic) and read them back for training.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { Progress } from '../util/progress.ts';
import type { Rng } from '../util/rng.ts';
import { loadTokenizer } from '../tokenizer/hf-json.ts';
import { EncodePool, PARALLEL_MIN_CHARS } from '../tokenizer/pool.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { newHygieneReport } from './hygiene.ts';
import { readDocuments, sourceSizeBytes } from './index.ts';

/*
 * Shard file layout (little-endian):
 *   header   256 × int32: [0] magic 'TSTK', [1] version, [2] bytes per token (2 = uint16, 4 = uint32),
 *            [3] token count, [4] document count, [5] vocab size, [6] <|endoftext|> id, [7] split (0 train, 1 val),
 *            [8] shard index, [9..10] tokenizer fingerprint (2 × uint32), rest 0
 *   offsets  (documents + 1) × uint32: document d is tokens[offsets[d] .. offsets[d+1]) and ends with <|endoftext|>
 *   tokens   token count × uint16 or uint32
 */
export const SHARD_MAGIC = 0x4b545354; // "TSTK"
export const SHARD_VERSION = 1;
export const HEADER_INTS = 256;
export const HEADER_BYTES = HEADER_INTS * 4;
export const MANIFEST = 'manifest.json';
export type SplitName = 'train' | 'val';
const SPLITS: SplitName[] = ['train', 'val'];

export interface ShardEntry {
  file: string;
  split: SplitName;
  index: number;
  tokens: number;
  docs: number;
  bytes: number;
}

/** manifest.json: the options a directory was made with and every finished shard (rewritten after each shard). */
export interface ShardManifest {
  format: 'tinystories-shards';
  version: number;
  /** The command that (re)generates this directory. */
  command: string;
  options: { data: string; tokenizer: string; valFraction: number; seed: number; shardTokens: number };
  /**
   * The tokenizer's file, relative to this directory (absent in directories made before it was recorded: then
   * `options.tokenizer` is the path as given to `tokenize`, relative to where it ran).
   */
  tokenizerFile?: string;
  tokenizerFingerprint: string;
  vocabSize: number;
  eotId: number;
  dtype: 'uint16' | 'uint32';
  shards: ShardEntry[];
  complete: boolean;
}

export interface TokenizeOptions {
  /** Source: file, directory, hf:… or builtin:mini (see readDocuments). */
  data: string;
  /**
   * Path of tokenizer.json (or a vocab.json + merges.txt directory), or a loaded tokenizer together with
   * `tokenizerFile`, the path it is saved at (so it is not read back from disk).
   */
  tokenizer: string | Tokenizer;
  /** With a Tokenizer object: where it is saved (recorded in the manifest relative to `out`). */
  tokenizerFile?: string;
  out: string;
  /** Share of documents in the validation split (default 0.05). */
  valFraction?: number;
  /** Seed of the document hash that picks the split (default 1337). */
  seed?: number;
  /** Tokens per shard file (default 100M; documents are never cut). */
  shardTokens?: number;
  /** Worker threads for encoding (default min(2, cores)); 1 encodes on the main thread. */
  threads?: number;
  /** Sources at least this large (bytes) are encoded on worker threads (default PARALLEL_MIN_CHARS, ~32 MB). */
  parallelMinBytes?: number;
  quiet?: boolean;
  progressStream?: { write(s: string): unknown; isTTY?: boolean };
}

export interface TokenizeSummary {
  out: string;
  train: { tokens: number; docs: number; shards: number };
  val: { tokens: number; docs: number; shards: number };
  /** Documents whose shards were already on disk and were skipped. */
  resumedDocs: number;
  alreadyComplete: boolean;
  seconds: number;
  bytesRead: number;
  /** Invalid UTF-8 sequences in the source that were replaced by U+FFFD. */
  replacedChars: number;
}

/** 64-bit FNV-1a of a tokenizer's JSON, as 16 hex digits: shards record it so a mismatched tokenizer is caught. */
export function tokenizerFingerprint(tok: Tokenizer): string {
  const s = JSON.stringify(tok.toJSON());
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 13);
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** Which split a document goes to: a seeded hash of its text, so the split survives reordering and reruns. */
export function splitOf(text: string, seed: number, valFraction: number): SplitName {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x5bd1e995);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return h / 4294967296 < valFraction ? 'val' : 'train';
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function regenerateCommand(o: ShardManifest['options'], out: string): string {
  return [
    'tinystories tokenize --data', shellQuote(o.data), '--tokenizer', shellQuote(o.tokenizer), '--out', shellQuote(out),
    '--val-fraction', String(o.valFraction), '--seed', String(o.seed), '--shard-tokens', String(o.shardTokens),
  ].join(' ');
}

/** Accumulates one split's tokens until a shard is full. */
class ShardBuilder {
  tokens: Uint16Array | Uint32Array;
  ntok = 0;
  offsets: number[] = [0];
  index: number;
  constructor(
    readonly split: SplitName,
    private readonly wide: boolean,
    startIndex: number,
  ) {
    this.index = startIndex;
    this.tokens = wide ? new Uint32Array(1 << 16) : new Uint16Array(1 << 16);
  }
  get docs(): number {
    return this.offsets.length - 1;
  }
  add(ids: Int32Array, eot: number): void {
    const need = this.ntok + ids.length + 1;
    if (need > this.tokens.length) {
      let cap = this.tokens.length;
      while (cap < need) cap *= 2;
      const t = this.wide ? new Uint32Array(cap) : new Uint16Array(cap);
      t.set(this.tokens.subarray(0, this.ntok));
      this.tokens = t;
    }
    this.tokens.set(ids, this.ntok);
    this.ntok += ids.length;
    this.tokens[this.ntok++] = eot;
    this.offsets.push(this.ntok);
  }
  reset(): void {
    this.ntok = 0;
    this.offsets = [0];
    this.index++;
  }
}

function shardFile(split: SplitName, index: number): string {
  return `${split}_${String(index).padStart(6, '0')}.bin`;
}

function fingerprintInts(fp: string): [number, number] {
  return [parseInt(fp.slice(0, 8), 16) | 0, parseInt(fp.slice(8, 16), 16) | 0];
}

/**
 * Tokenizes a corpus into shards under `opts.out`: each document's tokens then <|endoftext|>, split into train/val
 * by a seeded document hash. Resumable: a rerun with the same options skips the shards listed in manifest.json and
 * writes byte-identical remaining shards.
 */
export async function tokenizeToShards(opts: TokenizeOptions): Promise<TokenizeSummary> {
  const started = performance.now();
  const valFraction = opts.valFraction ?? 0.05;
  const seed = opts.seed ?? 1337;
  const shardTokens = opts.shardTokens ?? 100_000_000;
  if (!(valFraction >= 0 && valFraction < 1)) throw new UserError(`--val-fraction must be in [0, 1), got ${valFraction}`);
  if (!Number.isInteger(seed)) throw new UserError(`--seed must be an integer, got ${seed}`);
  if (!Number.isInteger(shardTokens) || shardTokens < 1 || shardTokens > 2 ** 31 - 1) {
    throw new UserError(`--shard-tokens must be an integer in 1..${2 ** 31 - 1}, got ${shardTokens}`);
  }
  const tokFile = typeof opts.tokenizer === 'string' ? opts.tokenizer : opts.tokenizerFile;
  if (tokFile === undefined) throw new Error('tokenizeToShards: a Tokenizer object needs tokenizerFile (where it is saved)');
  const tok = typeof opts.tokenizer === 'string' ? loadTokenizer(opts.tokenizer) : opts.tokenizer;
  if (tok.eotId < 0) throw new UserError(`${tokFile}: the tokenizer has no <|endoftext|> token (shards need it)`);
  const fingerprint = tokenizerFingerprint(tok);
  const wide = tok.vocabSize > 65536;
  const options = { data: opts.data, tokenizer: tokFile, valFraction, seed, shardTokens };
  const manifestPath = join(opts.out, MANIFEST);
  const manifest: ShardManifest = {
    format: 'tinystories-shards',
    version: SHARD_VERSION,
    command: regenerateCommand(options, opts.out),
    options,
    tokenizerFile: relative(resolve(opts.out), resolve(tokFile)),
    tokenizerFingerprint: fingerprint,
    vocabSize: tok.vocabSize,
    eotId: tok.eotId,
    dtype: wide ? 'uint32' : 'uint16',
    shards: [],
    complete: false,
  };

  // Resume: keep each split's longest prefix of intact shards; their documents are skipped (not re-encoded).
  if (existsSync(manifestPath)) {
    const old = readManifest(opts.out);
    const same =
      old.tokenizerFingerprint === fingerprint &&
      old.options.data === opts.data &&
      old.options.valFraction === valFraction &&
      old.options.seed === seed &&
      old.options.shardTokens === shardTokens;
    if (!same) {
      throw new UserError(
        `${opts.out} holds shards made with other options or another tokenizer (${old.command}); delete it or choose another --out`,
      );
    }
    for (const split of SPLITS) {
      const mine = old.shards.filter((s) => s.split === split).sort((a, b) => a.index - b.index);
      for (let i = 0; i < mine.length; i++) {
        if (mine[i]!.index !== i || !shardIntact(join(opts.out, mine[i]!.file), mine[i]!)) break;
        manifest.shards.push(mine[i]!);
      }
    }
    manifest.complete = old.complete && manifest.shards.length === old.shards.length;
  }
  const summary = (alreadyComplete: boolean, resumedDocs: number, bytesRead: number, replacedChars = 0): TokenizeSummary => {
    const sum = (split: SplitName) => {
      const list = manifest.shards.filter((s) => s.split === split);
      return {
        tokens: list.reduce((a, s) => a + s.tokens, 0),
        docs: list.reduce((a, s) => a + s.docs, 0),
        shards: list.length,
      };
    };
    return {
      out: opts.out,
      train: sum('train'),
      val: sum('val'),
      resumedDocs,
      alreadyComplete,
      seconds: (performance.now() - started) / 1000,
      bytesRead,
      replacedChars,
    };
  };
  if (manifest.complete) return summary(true, 0, 0);

  const skip: Record<SplitName, number> = { train: 0, val: 0 };
  const builders: Record<SplitName, ShardBuilder> = { train: new ShardBuilder('train', wide, 0), val: new ShardBuilder('val', wide, 0) };
  for (const split of SPLITS) {
    const mine = manifest.shards.filter((s) => s.split === split);
    skip[split] = mine.reduce((a, s) => a + s.docs, 0);
    builders[split] = new ShardBuilder(split, wide, mine.length);
  }
  const resumedDocs = skip.train + skip.val;
  await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');

  const [fp0, fp1] = fingerprintInts(fingerprint);
  const flush = async (b: ShardBuilder) => {
    const header = new Int32Array(HEADER_INTS);
    header.set([SHARD_MAGIC, SHARD_VERSION, wide ? 4 : 2, b.ntok, b.docs, tok.vocabSize, tok.eotId, b.split === 'val' ? 1 : 0, b.index, fp0, fp1]);
    const offsets = Uint32Array.from(b.offsets);
    const tokens = b.tokens.subarray(0, b.ntok);
    const file = shardFile(b.split, b.index);
    const bytes = HEADER_BYTES + offsets.byteLength + tokens.byteLength;
    await writeFileAtomic(join(opts.out, file), [
      new Uint8Array(header.buffer),
      new Uint8Array(offsets.buffer),
      new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength),
    ]);
    manifest.shards.push({ file, split: b.split, index: b.index, tokens: b.ntok, docs: b.docs, bytes });
    // a fixed order keeps the manifest byte-identical whether or not the run was resumed
    manifest.shards.sort((x, y) => (x.split === y.split ? x.index - y.index : x.split === 'train' ? -1 : 1));
    await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
    b.reset();
  };
  const place = async (split: SplitName, ids: Int32Array) => {
    const b = builders[split];
    if (b.docs > 0 && b.ntok + ids.length + 1 > shardTokens) await flush(b);
    b.add(ids, tok.eotId);
  };

  const total = await sourceSizeBytes(opts.data);
  const threads = opts.threads ?? Math.min(2, availableParallelism());
  const usePool = threads > 1 && (total === undefined || total >= (opts.parallelMinBytes ?? PARALLEL_MIN_CHARS));
  const pool = usePool ? new EncodePool(tok, threads) : undefined;
  const progress = new Progress({ label: 'tokenize', total, unit: 'MB', scale: 1e6, quiet: opts.quiet, stream: opts.progressStream });
  let bytesRead = 0;
  const seen: Record<SplitName, number> = { train: 0, val: 0 };
  let batch: string[] = [];
  let batchSplits: SplitName[] = [];
  let batchChars = 0;
  const report = newHygieneReport();
  const BATCH_CHARS = 8 * 1024 * 1024;
  // Encoding of one batch overlaps reading of the next; placement stays in document order.
  let inflight: Promise<void> = Promise.resolve();
  const submit = (texts: string[], splits: SplitName[]) => {
    const encoded = pool ? pool.encode(texts) : Promise.resolve(encodeInline(tok, texts));
    const prev = inflight;
    inflight = (async () => {
      const { ids, offsets } = await encoded;
      await prev;
      for (let i = 0; i < texts.length; i++) await place(splits[i]!, ids.subarray(offsets[i]!, offsets[i + 1]!));
    })();
    // surface failures at the next await of `inflight`, not as an unhandled rejection
    inflight.catch(() => {});
  };
  try {
    for await (const doc of readDocuments(opts.data, {
      report,
      onBytes: (n) => {
        bytesRead = n;
        progress.update(n, `${builders.train.index + builders.val.index} shards`);
      },
    })) {
      const split = valFraction > 0 ? splitOf(doc, seed, valFraction) : 'train';
      if (seen[split]++ < skip[split]) continue;
      batch.push(doc);
      batchSplits.push(split);
      batchChars += doc.length;
      if (batchChars >= BATCH_CHARS) {
        await inflight;
        submit(batch, batchSplits);
        batch = [];
        batchSplits = [];
        batchChars = 0;
      }
    }
    await inflight;
    if (batch.length > 0) submit(batch, batchSplits);
    await inflight;
    for (const split of SPLITS) if (builders[split].docs > 0) await flush(builders[split]);
  } finally {
    await pool?.close();
  }
  manifest.complete = true;
  await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  const s = summary(false, resumedDocs, bytesRead, report.replacedChars);
  progress.done(`train ${s.train.tokens} tok / ${s.train.docs} docs, val ${s.val.tokens} tok / ${s.val.docs} docs`);
  return s;
}

function encodeInline(tok: Tokenizer, texts: string[]): { ids: Int32Array; offsets: Int32Array } {
  const all: number[] = [];
  const offsets = new Int32Array(texts.length + 1);
  for (let i = 0; i < texts.length; i++) {
    tok.encodeInto(texts[i]!, all);
    offsets[i + 1] = all.length;
  }
  return { ids: Int32Array.from(all), offsets };
}

function shardIntact(path: string, entry: ShardEntry): boolean {
  try {
    if (statSync(path).size !== entry.bytes) return false;
    const h = new Int32Array(readHeaderBytes(path).buffer);
    return h[0] === SHARD_MAGIC && h[1] === SHARD_VERSION && h[3] === entry.tokens && h[4] === entry.docs;
  } catch {
    return false;
  }
}

function readHeaderBytes(path: string): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, out, 0, HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Whether `dir` is a token-shard directory (has a manifest.json). */
export function isShardDir(dir: string): boolean {
  return existsSync(join(dir, MANIFEST));
}

/** Reads and checks a shard directory's manifest.json; a missing, unparsable or other-version one is a UserError. */
export function readManifest(dir: string): ShardManifest {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) {
    throw new UserError(
      `${dir}: no ${MANIFEST}; create token shards with: tinystories tokenize --data <src> --tokenizer <tokenizer.json> --out ${shellQuote(dir)}`,
    );
  }
  let m: ShardManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as ShardManifest;
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message}); delete ${dir} and run tinystories tokenize again`);
  }
  if (m.format !== 'tinystories-shards' || m.version !== SHARD_VERSION) {
    throw new UserError(
      `${path}: not a version-${SHARD_VERSION} shard manifest (format ${JSON.stringify(m.format)}, version ${m.version}); regenerate with: ${m.command ?? 'tinystories tokenize ...'}`,
    );
  }
  return m;
}

/**
 * The tokenizer a shard directory was made with: `tokenizerFile` relative to the directory; for older directories,
 * the path given to `tokenize` (relative to where it ran, else to the directory). Null when it cannot be found.
 */
export function shardTokenizerPath(dir: string, m: ShardManifest = readManifest(dir)): string | null {
  const candidates = m.tokenizerFile !== undefined ? [resolve(dir, m.tokenizerFile)] : isAbsolute(m.options.tokenizer) ? [m.options.tokenizer] : [resolve(m.options.tokenizer), resolve(dir, m.options.tokenizer)];
  return candidates.find((p) => existsSync(p)) ?? null;
}

/** Token and document counts per split, from the manifest alone (for summaries; no shard is read). */
export function manifestSplits(m: ShardManifest): Record<SplitName, { shards: number; docs: number; tokens: number; bytes: number }> {
  const out = { train: { shards: 0, docs: 0, tokens: 0, bytes: 0 }, val: { shards: 0, docs: 0, tokens: 0, bytes: 0 } };
  for (const e of m.shards) {
    const t = out[e.split];
    if (!t) continue;
    t.shards++;
    t.docs += e.docs;
    t.tokens += e.tokens;
    t.bytes += e.bytes;
  }
  return out;
}

/**
 * The first `limit` documents (token ids, each ending with <|endoftext|>) of a split's first shard, reading only the
 * bytes they occupy, so a caller that needs a few stories of a multi-gigabyte split reads kilobytes. Null when the
 * split has no shard.
 */
export function readFirstDocs(dir: string, split: SplitName, limit: number, m: ShardManifest = readManifest(dir)): number[][] | null {
  const entry = m.shards.filter((e) => e.split === split).sort((a, b) => a.index - b.index)[0];
  if (!entry) return null;
  const path = join(dir, entry.file);
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    readSync(fd, header, 0, HEADER_BYTES, 0);
    const h = new Int32Array(header.buffer, header.byteOffset, HEADER_INTS);
    if (h[0] !== SHARD_MAGIC || h[1] !== SHARD_VERSION) throw new UserError(`${path}: not a version-${SHARD_VERSION} token shard; regenerate with: ${m.command}`);
    const bpt = h[2]!;
    const ndoc = h[4]!;
    const n = Math.min(limit, ndoc);
    const offBuf = Buffer.alloc((n + 1) * 4);
    readSync(fd, offBuf, 0, offBuf.length, HEADER_BYTES);
    const offsets = Array.from({ length: n + 1 }, (_, i) => offBuf.readUInt32LE(i * 4));
    const tokBuf = Buffer.alloc(offsets[n]! * bpt);
    readSync(fd, tokBuf, 0, tokBuf.length, HEADER_BYTES + (ndoc + 1) * 4);
    const tok = (i: number) => (bpt === 2 ? tokBuf.readUInt16LE(i * 2) : tokBuf.readUInt32LE(i * 4));
    return Array.from({ length: n }, (_, d) => Array.from({ length: offsets[d + 1]! - offsets[d]! }, (_, i) => tok(offsets[d]! + i)));
  } finally {
    closeSync(fd);
  }
}

/** One shard in memory: its documents' offsets and its tokens (typed-array views on the file's bytes). */
export interface Shard {
  file: string;
  offsets: Uint32Array;
  tokens: Uint16Array | Uint32Array;
}

/**
 * Checks a shard's contents (one pass, cheap next to reading the file): offsets start at 0, never decrease and end at
 * the token count; every token id is inside the vocabulary. A damaged file is named with the byte offset of the damage.
 */
function checkShardContent(path: string, offsets: Uint32Array, tokens: Uint16Array | Uint32Array, vocabSize: number, offsetsBytes: number, bpt: number, again: string): void {
  for (let d = 0; d < offsets.length; d++) {
    const bad = d === 0 ? offsets[0] !== 0 : offsets[d]! < offsets[d - 1]!;
    if (bad || offsets[d]! > tokens.length || (d === offsets.length - 1 && offsets[d] !== tokens.length)) {
      throw new UserError(`${path}: document offset ${d} (byte ${HEADER_BYTES + d * 4}) is ${offsets[d]}, inconsistent with the file's ${tokens.length} tokens; the file is damaged; ${again}`);
    }
  }
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]! >= vocabSize) {
      throw new UserError(`${path}: token ${i} (byte ${HEADER_BYTES + offsetsBytes + i * bpt}) is id ${tokens[i]}, outside the vocabulary of ${vocabSize}; the file is damaged; ${again}`);
    }
  }
}

/** A split's shards seen as one token stream (documents already end with <|endoftext|>). */
export class TokenSplit {
  /** Total tokens. */
  readonly length: number;
  readonly docs: number;
  private readonly starts: number[];
  constructor(
    readonly name: SplitName,
    readonly shards: Shard[],
  ) {
    this.starts = [];
    let n = 0;
    let d = 0;
    for (const s of shards) {
      this.starts.push(n);
      n += s.tokens.length;
      d += s.offsets.length - 1;
    }
    this.length = n;
    this.docs = d;
  }

  /**
   * Copies tokens [start, start + length) into `out` (allocated when omitted), crossing shard files as needed.
   * For training, length = T + 1: inputs are out[0..T), targets out[1..T].
   */
  window(start: number, length: number, out: Int32Array = new Int32Array(length)): Int32Array {
    if (start < 0 || start + length > this.length) {
      throw new RangeError(`window [${start}, ${start + length}) is outside the ${this.name} split (${this.length} tokens)`);
    }
    let k = this.shardAt(start);
    let pos = start - this.starts[k]!;
    let filled = 0;
    while (filled < length) {
      const t = this.shards[k]!.tokens;
      const take = Math.min(length - filled, t.length - pos);
      for (let i = 0; i < take; i++) out[filled + i] = t[pos + i]!;
      filled += take;
      k++;
      pos = 0;
    }
    return out;
  }

  /** A window of `length` tokens at a uniformly random start (for batches of T + 1). */
  randomWindow(rng: Rng, length: number, out?: Int32Array): Int32Array {
    if (length > this.length) {
      throw new UserError(`the ${this.name} split has ${this.length} tokens, fewer than one window of ${length}; use more data or a smaller context`);
    }
    return this.window(rng.int(this.length - length + 1), length, out);
  }

  /** Token at global position i. */
  at(i: number): number {
    const k = this.shardAt(i);
    return this.shards[k]!.tokens[i - this.starts[k]!]!;
  }

  private shardAt(i: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

export interface TokenShards {
  dir: string;
  manifest: ShardManifest;
  vocabSize: number;
  eotId: number;
  train: TokenSplit;
  val: TokenSplit;
}

/**
 * Opens a shard directory, checking every file's magic, version, size, tokenizer fingerprint, document offsets and
 * token ids (a damaged file is named with the byte offset of the damage); a mismatch is a
 * UserError that gives the exact command to regenerate. Files are read whole into typed arrays (no copies).
 * @example const { train } = openShards('runs/shards'); const xy = train.randomWindow(rng, T + 1);
 */
export function openShards(dir: string, opts: { tokenizer?: Tokenizer } = {}): TokenShards {
  const m = readManifest(dir);
  const again = `regenerate with: ${m.command}`;
  if (!m.complete) throw new UserError(`${dir}: tokenization did not finish; resume it with: ${m.command}`);
  if (opts.tokenizer && tokenizerFingerprint(opts.tokenizer) !== m.tokenizerFingerprint) {
    throw new UserError(`${dir}: the shards were made with a different tokenizer than the one given; ${again}`);
  }
  const [fp0, fp1] = fingerprintInts(m.tokenizerFingerprint);
  const splits: Record<SplitName, Shard[]> = { train: [], val: [] };
  for (const e of [...m.shards].sort((a, b) => (a.split === b.split ? a.index - b.index : a.split < b.split ? -1 : 1))) {
    const path = join(dir, e.file);
    if (!existsSync(path)) throw new UserError(`${path}: shard file missing; ${again}`);
    const buf = readFileSync(path);
    const bytes = buf.byteOffset % 4 === 0 ? buf : Buffer.from(buf); // typed-array views need 4-byte alignment
    if (bytes.length < HEADER_BYTES) throw new UserError(`${path}: truncated (${bytes.length} bytes, header alone is ${HEADER_BYTES}); ${again}`);
    const h = new Int32Array(bytes.buffer, bytes.byteOffset, HEADER_INTS);
    if (h[0] !== SHARD_MAGIC) throw new UserError(`${path}: not a tinystories token shard (bad magic); ${again}`);
    if (h[1] !== SHARD_VERSION) throw new UserError(`${path}: shard format version ${h[1]}, this build reads version ${SHARD_VERSION}; ${again}`);
    const bpt = h[2]!;
    const ntok = h[3]!;
    const ndoc = h[4]!;
    if (bpt !== 2 && bpt !== 4) throw new UserError(`${path}: unknown token width ${bpt} bytes; ${again}`);
    const expected = HEADER_BYTES + (ndoc + 1) * 4 + ntok * bpt;
    if (bytes.length !== expected) {
      throw new UserError(`${path}: size ${bytes.length} bytes, header says ${expected}; the file is damaged; ${again}`);
    }
    if (h[5] !== m.vocabSize || h[6] !== m.eotId || h[9] !== fp0 || h[10] !== fp1 || ntok !== e.tokens || ndoc !== e.docs) {
      throw new UserError(`${path}: does not match ${MANIFEST} (tokenizer or counts differ); ${again}`);
    }
    const offsets = new Uint32Array(bytes.buffer, bytes.byteOffset + HEADER_BYTES, ndoc + 1);
    const tokOff = bytes.byteOffset + HEADER_BYTES + (ndoc + 1) * 4;
    const tokens = bpt === 2 ? new Uint16Array(bytes.buffer, tokOff, ntok) : new Uint32Array(bytes.buffer, tokOff, ntok);
    checkShardContent(path, offsets, tokens, m.vocabSize, (ndoc + 1) * 4, bpt, again);
    splits[e.split].push({ file: path, offsets, tokens });
  }
  return {
    dir: resolve(dir),
    manifest: m,
    vocabSize: m.vocabSize,
    eotId: m.eotId,
    train: new TokenSplit('train', splits.train),
    val: new TokenSplit('val', splits.val),
  };
}
