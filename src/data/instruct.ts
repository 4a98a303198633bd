// TinyStoriesInstruct records: parse `Features:`/`Words:`/`Summary:`/`Random sentence:`/`Story:` blocks and write them back byte-for-byte.
import { UserError } from '../util/errors.ts';
import { readTextChunks, splitStream } from './text-stream.ts';

/** The separator between TinyStories stories and Instruct records. */
export const END_OF_TEXT = '<|endoftext|>';

/** The header keys of an Instruct record, as written in the file. */
export const INSTRUCT_KEYS = ['Features', 'Words', 'Summary', 'Random sentence', 'Story'] as const;
export type InstructKey = (typeof INSTRUCT_KEYS)[number];

/** How a record looked in its file, so formatInstructRecord can reproduce it exactly. */
export interface InstructLayout {
  /** Text before the first key line (usually "" or the newline after the previous separator). */
  leading: string;
  /** Fields in file order; `raw` is everything after `Key:` up to the next key line, newlines included. */
  fields: Array<{ key: InstructKey; raw: string }>;
  /** The separator and the one newline after it (`"<|endoftext|>\n"`), plus trailing whitespace at end of file; "" if absent. */
  terminator: string;
}

/** One TinyStoriesInstruct record. Absent fields are undefined; `layout` is set by the parser. */
export interface InstructRecord {
  /** e.g. ["Dialogue", "BadEnding", "MoralValue"]. */
  features?: string[];
  /** The words the story had to use, e.g. ["quit", "oak", "gloomy"]. */
  words?: string[];
  summary?: string;
  randomSentence?: string;
  /** The story text, trimmed (paragraphs separated by single newlines as in the file). */
  story?: string;
  layout?: InstructLayout;
}

const FIELD_OF: Record<InstructKey, keyof Omit<InstructRecord, 'layout'>> = {
  Features: 'features',
  Words: 'words',
  Summary: 'summary',
  'Random sentence': 'randomSentence',
  Story: 'story',
};

const KEY_LINE = /^(Features|Words|Summary|Random sentence|Story):/;

function parseValue(key: InstructKey, raw: string): string | string[] {
  if (key === 'Features' || key === 'Words') {
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  }
  return raw.trim();
}

function sameValue(a: string | string[] | undefined, b: string | string[]): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/**
 * Parses one record's text (without the separator). A key line is `Key:` at the start of a line for a key not yet
 * seen in this record; everything up to the next key line belongs to the field, so values may span lines.
 * `where` names the source for errors, e.g. "data.txt record 3".
 */
export function parseInstructRecord(text: string, where = 'Instruct record', terminator = ''): InstructRecord {
  const fields: InstructLayout['fields'] = [];
  const seen = new Set<InstructKey>();
  let leading = '';
  let lineStart = 0;
  let current: { key: InstructKey; rawStart: number } | undefined;
  while (lineStart <= text.length) {
    const nl = text.indexOf('\n', lineStart);
    const lineEnd = nl < 0 ? text.length : nl;
    const m = KEY_LINE.exec(text.slice(lineStart, Math.min(lineEnd, lineStart + 20)));
    const key = m?.[1] as InstructKey | undefined;
    if (key !== undefined && !seen.has(key)) {
      if (current) fields.push({ key: current.key, raw: text.slice(current.rawStart, lineStart) });
      else leading = text.slice(0, lineStart);
      seen.add(key);
      current = { key, rawStart: lineStart + key.length + 1 };
    } else if (!current && text.slice(lineStart, lineEnd).trim().length > 0) {
      const line = text.slice(0, lineStart).split('\n').length;
      throw new UserError(
        `${where}, line ${line}: expected a header line starting with one of ${INSTRUCT_KEYS.map((k) => k + ':').join(' ')}, ` +
          `found ${JSON.stringify(text.slice(lineStart, Math.min(lineEnd, lineStart + 40)))}`,
      );
    }
    if (nl < 0) break;
    lineStart = nl + 1;
  }
  if (current) fields.push({ key: current.key, raw: text.slice(current.rawStart) });
  else leading = text;
  const record: InstructRecord = { layout: { leading, fields, terminator } };
  for (const f of fields) (record as Record<string, unknown>)[FIELD_OF[f.key]] = parseValue(f.key, f.raw);
  return record;
}

function canonicalRaw(key: InstructKey, value: string | string[]): string {
  if (key === 'Story') return ` \n\n${value as string}\n`;
  return ` ${Array.isArray(value) ? value.join(', ') : value}\n`;
}

/**
 * Writes a record in the Instruct text format, ending with `<|endoftext|>\n`. A parsed, unmodified record comes
 * back byte-for-byte; an edited field is written canonically (`Key: value`, the story after `Story: ` and a blank
 * line) in its old place, an added header field just before the story; new records use the order Features, Words,
 * Summary, Random sentence, Story.
 */
export function formatInstructRecord(r: InstructRecord): string {
  const layout = r.layout;
  let out = layout ? layout.leading : '';
  const written = new Set<InstructKey>();
  const fields = layout ? layout.fields : [];
  const inLayout = new Set(fields.map((f) => f.key));
  for (const f of fields) {
    if (f.key === 'Story') {
      // header fields added since parsing go before the story
      for (const key of INSTRUCT_KEYS) {
        const value = r[FIELD_OF[key]];
        if (key === 'Story' || inLayout.has(key) || value === undefined) continue;
        written.add(key);
        out += key + ':' + canonicalRaw(key, value);
      }
    }
    const value = r[FIELD_OF[f.key]];
    if (value === undefined) continue; // deleted since parsing
    written.add(f.key);
    out += f.key + ':' + (sameValue(value, parseValue(f.key, f.raw)) ? f.raw : canonicalRaw(f.key, value));
  }
  for (const key of INSTRUCT_KEYS) {
    const value = r[FIELD_OF[key]];
    if (value === undefined || written.has(key)) continue;
    if (out.length > 0 && !out.endsWith('\n')) out += '\n';
    out += key + ':' + canonicalRaw(key, value);
  }
  if (layout) return out + layout.terminator;
  return out + END_OF_TEXT + '\n';
}

/**
 * Streams the records of a TinyStoriesInstruct .txt file (or of already-read text chunks).
 * `formatInstructRecord` on each record, concatenated, reproduces the input byte-for-byte (except a file
 * with trailing text after its last separator that is only whitespace: kept too, on the last record).
 */
export async function* readInstructRecords(src: string | AsyncIterable<string>, onBytes?: (n: number) => void): AsyncGenerator<InstructRecord> {
  const where = typeof src === 'string' ? src : 'Instruct text';
  const chunks = typeof src === 'string' ? readTextChunks(src, onBytes) : src;
  let index = 0;
  let last: InstructRecord | undefined;
  let pendingTrail = '';
  for await (const piece of rawInstructPieces(chunks, where)) {
    if (piece.kind === 'trail') {
      pendingTrail = piece.text;
      continue;
    }
    index++;
    if (last) yield last;
    last = parseInstructRecord(piece.text, `${where} record ${index}`, piece.terminator);
  }
  if (last) {
    if (pendingTrail) last.layout!.terminator += pendingTrail;
    yield last;
  }
}

type RawPiece = { kind: 'record'; text: string; terminator: string } | { kind: 'trail'; text: string };

async function* rawInstructPieces(chunks: AsyncIterable<string>, where: string): AsyncGenerator<RawPiece> {
  const oversize = () => {
    throw new UserError(`${where}: no ${END_OF_TEXT} separator in 64M characters; is this a TinyStoriesInstruct .txt file?`);
  };
  // Each piece after the first starts with the remainder of the previous separator's line.
  let pieceAfterSeparator = false;
  let held: { text: string } | undefined;
  for await (const piece of splitStream(chunks, END_OF_TEXT, oversize)) {
    let text = piece;
    let sepNewline = false;
    if (pieceAfterSeparator && text.startsWith('\n')) {
      sepNewline = true;
      text = text.slice(1);
    }
    if (held) yield { kind: 'record', text: held.text, terminator: END_OF_TEXT + (sepNewline ? '\n' : '') };
    held = { text };
    pieceAfterSeparator = true;
  }
  if (held) {
    if (held.text.trim().length === 0) {
      if (held.text.length > 0) yield { kind: 'trail', text: held.text };
    } else yield { kind: 'record', text: held.text, terminator: '' };
  }
}
