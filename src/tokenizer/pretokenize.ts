// GPT-2 byte-level pre-tokenization: the bytes_to_unicode map and a hand-written scanner equal to the GPT-2 regex.

/**
 * The GPT-2 pre-tokenization regex, as Hugging Face `tokenizers` (Rust) applies it. `\s` there means Unicode
 * White_Space (it includes U+0085 and excludes U+FEFF, unlike JavaScript's `\s`), so it is spelled out here.
 */
export const GPT2_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/** GPT-2's reversible byte → printable character map (byte b ↦ a single code point). */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const out = new Array<string>(256);
  for (let i = 0; i < bs.length; i++) out[bs[i]!] = String.fromCodePoint(cs[i]!);
  return out;
}

export const BYTE_CHARS = bytesToUnicode();

// Character classes of the regex: letter, number, whitespace, other.
const L = 1;
const N = 2;
const W = 3;
const P = 4;
const CLASS = new Uint8Array(0x110000); // filled lazily; 0 = not classified yet
const RE_L = /\p{L}/u;
const RE_N = /\p{N}/u;
const RE_W = /\p{White_Space}/u;
for (let c = 0; c < 128; c++) CLASS[c] = classifySlow(c);

function classifySlow(cp: number): number {
  const s = String.fromCodePoint(cp);
  if (RE_L.test(s)) return L;
  if (RE_N.test(s)) return N;
  if (RE_W.test(s)) return W;
  return P;
}

function classOf(cp: number): number {
  const c = CLASS[cp]!;
  if (c !== 0) return c;
  return (CLASS[cp] = classifySlow(cp));
}

/**
 * Calls `emit(start, end)` for each pre-token of `text` (UTF-16 indices), exactly the matches of GPT2_PATTERN
 * in order. A scanner instead of the regex because it is several times faster and this is the encode hot path.
 * Lone surrogates are classified as "other" characters, like the regex does.
 */
export function splitPretokens(text: string, emit: (start: number, end: number) => void): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c0 = text.charCodeAt(i);
    // contractions: 's 't 'm 'd 're 've 'll (lower case only)
    if (c0 === 39 && i + 1 < n) {
      const c1 = text.charCodeAt(i + 1);
      if (c1 === 115 || c1 === 116 || c1 === 109 || c1 === 100) {
        emit(i, i + 2);
        i += 2;
        continue;
      }
      if (i + 2 < n) {
        const c2 = text.charCodeAt(i + 2);
        if ((c1 === 114 && c2 === 101) || (c1 === 118 && c2 === 101) || (c1 === 108 && c2 === 108)) {
          emit(i, i + 3);
          i += 3;
          continue;
        }
      }
    }
    let start = i;
    let j = i;
    let cls: number;
    if (c0 === 32 && i + 1 < n) {
      // " ?X+": a single space joins the run of letters, numbers or other characters that follows it
      const next = codePointAt(text, i + 1);
      const nc = classOf(next);
      if (nc !== W) {
        j = i + 1 + (next > 0xffff ? 2 : 1);
        j = scanRun(text, j, nc);
        emit(start, j);
        i = j;
        continue;
      }
    }
    const cp = codePointAt(text, i);
    cls = classOf(cp);
    j = i + (cp > 0xffff ? 2 : 1);
    if (cls !== W) {
      j = scanRun(text, j, cls);
      emit(start, j);
      i = j;
      continue;
    }
    // whitespace run: \s+(?!\S) leaves the last whitespace character for the token that follows it
    let last = i;
    while (j < n) {
      const c = codePointAt(text, j);
      if (classOf(c) !== W) break;
      last = j;
      j += c > 0xffff ? 2 : 1;
    }
    if (j < n && last > start) {
      emit(start, last);
      i = last;
    } else {
      emit(start, j);
      i = j;
    }
  }
}

function scanRun(text: string, j: number, cls: number): number {
  const n = text.length;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (c < 128) {
      if (CLASS[c] !== cls) break;
      j++;
      continue;
    }
    const cp = codePointAt(text, j);
    if (classOf(cp) !== cls) break;
    j += cp > 0xffff ? 2 : 1;
  }
  return j;
}

function codePointAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
  }
  return c;
}

/** The pre-tokens of `text` as strings (convenience for tests and the trainer). */
export function pretokenize(text: string): string[] {
  const out: string[] = [];
  splitPretokens(text, (s, e) => out.push(text.slice(s, e)));
  return out;
}
