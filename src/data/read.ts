// Story sources: files of every supported format, directories, `hf:` hub files and the builtin corpus as one stream of clean texts.
import { statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.ts';
import { isGsm8kLike, gsm8kText } from './gsm8k.ts';
import { downloadHf, hfCachePath, isHfSpec, parseHfSpec, type DownloadOptions } from './hf.ts';
import { Hygiene, newHygieneReport, type HygieneOptions, type HygieneReport } from './hygiene.ts';
import { END_OF_TEXT, readInstructRecords } from './instruct.ts';
import { readJsonRecords } from './json-stream.ts';
import { readParquetTexts } from './parquet.ts';
import { readTextChunks, splitStream } from './text-stream.ts';
import { isTinyGsmLike, renderTinyGsm } from './tinygsm-text.ts';

/** The file formats readDocuments understands. */
export type DataFormat = 'tinystories-txt' | 'instruct-txt' | 'json' | 'gsm8k-jsonl' | 'parquet';

/** The builtin corpus: `builtin:mini` reads every .txt here (TinyStories .txt format). */
export const BUILTIN_CORPUS_DIR = fileURLToPath(new URL('./corpus/', import.meta.url));

/** `builtin:tinystories`: 4,043 real TinyStories V1 + V2 stories, gzipped in the package (CDLA-Sharing-1.0; see SOURCES.md there). */
export const BUILTIN_TINYSTORIES_DIR = fileURLToPath(new URL('./tinystories-sample/', import.meta.url));

/** The builtin corpora by name: builtin:tinystories (the offline default) and builtin:mini (332 hand-written stories, for tests). */
export const BUILTIN_SOURCES: Readonly<Record<string, string>> = { 'builtin:tinystories': BUILTIN_TINYSTORIES_DIR, 'builtin:mini': BUILTIN_CORPUS_DIR };

const SUPPORTED = /\.(txt|json|jsonl)(\.gz)?$|\.parquet$/i;

/** Whether a file name has an extension readDocuments reads (.txt, .json, .jsonl, each optionally .gz, or .parquet). */
export function isSupportedFile(name: string): boolean {
  return SUPPORTED.test(name) && !name.endsWith('.part');
}

async function headText(path: string, chars = 65536): Promise<string> {
  let s = '';
  for await (const chunk of readTextChunks(path, undefined, 65536)) {
    s += chunk;
    if (s.length >= chars) break;
  }
  return s;
}

/**
 * Detects a file's format from its extension and first 64 KB: `.parquet`; `.json`/`.jsonl` (GSM8K when the first
 * record has string `question` and `answer`); `.txt` is TinyStoriesInstruct when its first non-blank line starts
 * with `Features:`, `Words:`, `Summary:`, `Random sentence:` or `Story:`, else TinyStories.
 */
export async function detectFormat(path: string): Promise<DataFormat> {
  const lower = path.toLowerCase().replace(/\.gz$/, '');
  if (lower.endsWith('.parquet')) return 'parquet';
  if (lower.endsWith('.json') || lower.endsWith('.jsonl')) {
    const head = await headText(path);
    const firstLine = head.trimStart().split('\n', 1)[0] ?? '';
    try {
      if (isGsm8kLike(JSON.parse(firstLine))) return 'gsm8k-jsonl';
    } catch {
      // not one object per line (an array, or pretty-printed): generic JSON records
    }
    return 'json';
  }
  if (lower.endsWith('.txt')) {
    const head = await headText(path, 4096);
    const firstLine = head.replace(/^\uFEFF/, '').trimStart().split('\n', 1)[0] ?? '';
    return /^(Features|Words|Summary|Random sentence|Story):/.test(firstLine) ? 'instruct-txt' : 'tinystories-txt';
  }
  throw new UserError(`${path}: unsupported file type; expected .txt, .json, .jsonl (optionally .gz) or .parquet`);
}

/**
 * The text a JSON record contributes: `text`, else `story`, else a GSM8K question + answer, else a TinyGSM
 * question + code rendered as its function (renderTinyGsm).
 */
function jsonRecordText(v: unknown, where: string): string {
  const o = v as Record<string, unknown> | null;
  if (o && typeof o === 'object' && !Array.isArray(o)) {
    if (typeof o.text === 'string') return o.text;
    if (typeof o.story === 'string') return o.story;
    if (isGsm8kLike(o)) return gsm8kText(o);
    if (isTinyGsmLike(o)) return renderTinyGsm(o);
  }
  throw new UserError(`${where}: expected an object with a string "text" or "story" field (or GSM8K "question"/"answer", or TinyGSM "question"/"code")`);
}

/** Raw (uncleaned) documents of one file. */
async function* fileDocuments(path: string, onBytes: (n: number) => void): AsyncGenerator<string> {
  const format = await detectFormat(path);
  switch (format) {
    case 'parquet':
      yield* readParquetTexts(path, onBytes);
      return;
    case 'json':
    case 'gsm8k-jsonl': {
      let i = 0;
      for await (const v of readJsonRecords(readTextChunks(path, onBytes), path)) {
        i++;
        yield jsonRecordText(v, `${path} record ${i}`);
      }
      return;
    }
    case 'instruct-txt':
      for await (const r of readInstructRecords(path, onBytes)) yield r.story ?? '';
      return;
    case 'tinystories-txt': {
      const oversize = () => {
        throw new UserError(`${path}: no ${END_OF_TEXT} separator in 64M characters; a TinyStories .txt separates stories with ${END_OF_TEXT}`);
      };
      let held: string | undefined;
      for await (const piece of splitStream(readTextChunks(path, onBytes), END_OF_TEXT, oversize)) {
        if (held !== undefined) yield held;
        held = piece;
      }
      // the text after the last separator is usually just its newline: not a document
      if (held !== undefined && held.trim().length > 0) yield held;
      return;
    }
  }
}

/** Supported files under a directory, recursively, sorted by path; hidden files and partial downloads skipped. */
export async function listSupportedFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (isSupportedFile(e.name)) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

/** Options of readDocuments besides hygiene. */
export interface ReadOptions extends HygieneOptions {
  /** Filled in as documents are read. */
  report?: HygieneReport;
  /** Called as source bytes are consumed, with the running total and the source size when known. */
  onBytes?: (bytesSoFar: number, totalBytes?: number) => void;
  /** Options for an `hf:` download (progress output, retries). */
  download?: DownloadOptions;
}

/** A local file or directory for `src`, downloading an `hf:` file first. */
export async function resolveSource(src: string, download?: DownloadOptions): Promise<string> {
  if (BUILTIN_SOURCES[src]) return BUILTIN_SOURCES[src];
  if (src.startsWith('builtin:')) throw new UserError(`${src}: unknown builtin corpus; expected one of ${Object.keys(BUILTIN_SOURCES).join(', ')}`);
  if (isHfSpec(src)) return downloadHf(src, download);
  try {
    await stat(src);
  } catch {
    throw new UserError(`${src}: no such file or directory (expected a file, a directory, hf:<owner>/<repo>/<path>, builtin:tinystories or builtin:mini)`);
  }
  return src;
}

/**
 * Streams normalized story texts from a file (.txt TinyStories V1/V2 or TinyStoriesInstruct, .json/.jsonl with
 * `text`/`story` or GSM8K, .parquet), a directory (all supported files, sorted), `hf:<owner>/<repo>[@rev]/<path>`
 * (downloaded to the cache first), `builtin:tinystories` or `builtin:mini`. Each text is whitespace-normalized, mojibake-repaired,
 * NFC-normalized and deduplicated unless turned off; counts go to `opts.report`.
 *
 * @example
 * const report = newHygieneReport();
 * for await (const story of readDocuments('data/TinyStoriesV2-GPT4-valid.txt', { report })) use(story);
 * console.log(report.duplicatesRemoved);
 */
export async function* readDocuments(src: string, opts: ReadOptions = {}): AsyncGenerator<string> {
  const report = opts.report ?? newHygieneReport();
  const hygiene = new Hygiene(opts, report);
  const path = await resolveSource(src, opts.download);
  const total = await localSizeBytes(path);
  let bytes = 0;
  const onBytes = (n: number) => {
    bytes += n;
    report.bytesRead += n;
    opts.onBytes?.(bytes, total);
  };
  const files = statSync(path).isDirectory() ? await listSupportedFiles(path) : [path];
  if (files.length === 0) throw new UserError(`${src}: no .txt, .json, .jsonl or .parquet files in this directory`);
  for (const file of files) {
    const before = { chars: report.rawChars, bad: report.replacedChars + report.controlChars };
    const check = (atEnd: boolean) => {
      const chars = report.rawChars - before.chars;
      const bad = report.replacedChars + report.controlChars - before.bad;
      if ((atEnd || chars >= 65536) && chars > 0 && bad / chars > NOT_TEXT_MAX) {
        throw new UserError(
          `${file}: does not look like text: ${bad} of the first ${chars} characters are invalid UTF-8 or control bytes (is it a binary file?)`,
        );
      }
    };
    for await (const raw of fileDocuments(file, onBytes)) {
      const text = hygiene.clean(raw);
      check(false);
      if (text !== undefined) yield text;
    }
    check(true);
  }
}

/** A file with more than this share of invalid UTF-8 or control characters is refused as not text. */
export const NOT_TEXT_MAX = 0.1;

async function localSizeBytes(path: string): Promise<number> {
  const s = await stat(path);
  if (!s.isDirectory()) return s.size;
  let sum = 0;
  for (const f of await listSupportedFiles(path)) sum += (await stat(f)).size;
  return sum;
}

/**
 * The size in bytes that reading `src` will consume (for progress bars): a file's size, the sum over a directory's
 * supported files, a cached `hf:` file's size; undefined for an `hf:` file not downloaded yet or a missing path.
 */
export async function sourceSizeBytes(src: string): Promise<number | undefined> {
  let path: string;
  if (BUILTIN_SOURCES[src]) path = BUILTIN_SOURCES[src];
  else if (isHfSpec(src)) path = hfCachePath(parseHfSpec(src));
  else path = src;
  try {
    return await localSizeBytes(path);
  } catch {
    return undefined;
  }
}
