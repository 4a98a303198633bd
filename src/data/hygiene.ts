// Text hygiene for stories: whitespace normalization, UTF-8-read-as-cp1252 mojibake repair, NFC, exact-duplicate removal.
import type { HygieneReport } from './report-types.ts';
import { HashSet64 } from '../util/hash-set.ts';

export type { HygieneReport };

// The exact-duplicate set (shared with src/gsm's decontamination), public here as before.
export { HashSet64 } from '../util/hash-set.ts';

/** Which cleaning steps run; each defaults to true. Whitespace normalization always runs. */
export interface HygieneOptions {
  /** Unicode NFC normalization. */
  nfc?: boolean;
  /** Repair UTF-8 text that was decoded as cp1252 (`â€œ` → `“`). */
  repairMojibake?: boolean;
  /** Drop exact duplicates (same text after normalization), keeping the first. */
  dedupe?: boolean;
}

/** A report with every count at zero. */
export function newHygieneReport(): HygieneReport {
  return { documents: 0, nfcChanged: 0, mojibakeRepairs: 0, duplicatesRemoved: 0, emptyDropped: 0, bytesRead: 0, rawChars: 0, replacedChars: 0, controlChars: 0 };
}

// Characters that text does not contain: U+FFFD (what the UTF-8 decoder puts for invalid bytes) and C0 controls
// other than \t \n \f \r, and DEL.
const NOT_TEXT = /[\ufffd\x00-\x08\x0b\x0e-\x1f\x7f]/g;

/** Adds a raw document's character counts (total, replaced, control) to the report. */
export function countRawChars(raw: string, report: HygieneReport): void {
  report.rawChars += raw.length;
  NOT_TEXT.lastIndex = 0;
  if (!NOT_TEXT.test(raw)) return;
  NOT_TEXT.lastIndex = 0;
  for (const m of raw.matchAll(NOT_TEXT)) {
    if (m[0] === '\ufffd') report.replacedChars++;
    else report.controlChars++;
  }
}

/**
 * TinyStories whitespace normalization: CRLF → LF, trailing spaces/tabs on each line removed, blank lines removed
 * (paragraphs are single newlines, as in the V1 .txt; the HF form's `\n\n` becomes `\n`), leading/trailing blank
 * lines and spaces before the first word trimmed. `normalizeStoryWhitespace("\n A \n\n B  ")` → `"A\n B"` (later lines keep
 * their indentation).
 */
export function normalizeStoryWhitespace(text: string): string {
  if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
  // Fast path for the common case of clean text: no trailing blanks, no blank lines, no edge newlines.
  if (!/[ \t\u00a0]\n|\n\n|^\s|\n$|[ \t\u00a0]$/.test(text)) return text;
  let out = '';
  let start = 0;
  const n = text.length;
  while (start <= n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    let e = end;
    while (e > start && isBlank(text.charCodeAt(e - 1))) e--;
    let b = start;
    if (out.length === 0) while (b < e && isBlank(text.charCodeAt(b))) b++; // spaces before the first word
    if (e > b) out += out.length === 0 ? text.slice(b, e) : '\n' + text.slice(b, e);
    start = end + 1;
  }
  return out;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 0xa0;
}

// cp1252 bytes 0x80-0x9F as Unicode; undefined bytes (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to the C1 control of
// the same value, as some decoders produce; 0xA0-0xFF are Latin-1.
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const CHAR_TO_CP1252 = new Map<number, number>();
for (let b = 0x80; b <= 0xff; b++) {
  const cp = b < 0xa0 ? CP1252_HIGH.charCodeAt(b - 0x80) : b;
  CHAR_TO_CP1252.set(cp, b);
}

// A character that is a UTF-8 lead byte when encoded as cp1252 (Â..ô) followed by one that is a continuation byte.
const MOJIBAKE_HINT = /[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]/;

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * Repairs UTF-8 text that was read as cp1252: each run that re-encodes to cp1252 bytes forming one valid multi-byte
 * UTF-8 character is replaced by that character (`â€œ` → `“`, `Ã©` → `é`). The HF copy of TinyStories also lost
 * the byte 0x9D (undefined in cp1252) of `”` (E2 80 9D), leaving `â€` before a non-continuation character; that
 * case is restored as `”`. Returns the text and how many characters were restored.
 */
export function repairMojibake(text: string): { text: string; repairs: number } {
  if (!MOJIBAKE_HINT.test(text)) return { text, repairs: 0 };
  let out = '';
  let repairs = 0;
  let last = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const lead = CHAR_TO_CP1252.get(text.charCodeAt(i));
    if (lead === undefined || lead < 0xc2 || lead > 0xf4) continue;
    const need = lead < 0xe0 ? 1 : lead < 0xf0 ? 2 : 3;
    const bytes = [lead];
    let j = i + 1;
    while (bytes.length <= need && j < n) {
      const b = CHAR_TO_CP1252.get(text.charCodeAt(j));
      if (b === undefined || b < 0x80 || b > 0xbf) break;
      bytes.push(b);
      j++;
    }
    let fixed: string | undefined;
    if (bytes.length === need + 1) {
      try {
        fixed = utf8Strict.decode(Uint8Array.from(bytes));
      } catch {
        fixed = undefined;
      }
    } else if (lead === 0xe2 && bytes.length === 2 && bytes[1] === 0x80) {
      // `â€` + a lost 0x9D byte: the right double quotation mark.
      fixed = '\u201d';
    }
    if (fixed === undefined) continue;
    out += text.slice(last, i) + fixed;
    repairs++;
    last = j;
    i = j - 1;
  }
  if (repairs === 0) return { text, repairs: 0 };
  return { text: out + text.slice(last), repairs };
}

/** Applies whitespace normalization, mojibake repair, NFC and dedupe to a stream of raw texts, keeping counts. */
export class Hygiene {
  private readonly seen: HashSet64 | undefined;
  private readonly nfc: boolean;
  private readonly repair: boolean;
  constructor(
    opts: HygieneOptions,
    readonly report: HygieneReport,
  ) {
    this.nfc = opts.nfc ?? true;
    this.repair = opts.repairMojibake ?? true;
    this.seen = (opts.dedupe ?? true) ? new HashSet64(1 << 14) : undefined;
  }
  /** The cleaned text, or undefined if the document is dropped (empty or a duplicate). */
  clean(raw: string): string | undefined {
    countRawChars(raw, this.report);
    let text = raw;
    if (this.repair) {
      const r = repairMojibake(text);
      text = r.text;
      this.report.mojibakeRepairs += r.repairs;
    }
    text = normalizeStoryWhitespace(text);
    if (this.nfc && /[^\x00-\x7f]/.test(text)) {
      const n = text.normalize('NFC');
      if (n !== text) {
        this.report.nfcChanged++;
        text = n;
      }
    }
    if (text.length === 0) {
      this.report.emptyDropped++;
      return undefined;
    }
    if (this.seen && !this.seen.addText(text)) {
      this.report.duplicatesRemoved++;
      return undefined;
    }
    this.report.documents++;
    return text;
  }
}
