// Corpus statistics for `tinystories data stats`: story/word/character counts, length percentiles, hygiene counts, tokens.
import { newHygieneReport, type HygieneOptions } from './hygiene.ts';
import { readDocuments } from './read.ts';
import type { DownloadOptions } from './hf.ts';
import type { CorpusStats } from './report-types.ts';

export type { CorpusStats };

/** Anything with `encode(text)` returning token ids (the project's tokenizer, or any other). */
export interface TokenEncoder {
  encode(text: string): ArrayLike<number>;
}

/** Counts whitespace-separated words and code points in one pass. */
export function countWordsAndChars(text: string): { words: number; characters: number } {
  let words = 0;
  let characters = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) continue; // low surrogate: counted with its high half
    characters++;
    const space = c === 32 || c === 10 || c === 9 || c === 13 || c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a);
    if (space) inWord = false;
    else if (!inWord) {
      inWord = true;
      words++;
    }
  }
  return { words, characters };
}

/** The value at quantile q (0..1) of sorted values, nearest-rank. */
function quantile(sorted: Uint32Array, q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * Reads `src` through readDocuments and measures it. With `tokenizer`, also counts tokens.
 * `onBytes` reports reading progress (bytes so far, total when known).
 */
export async function computeStats(
  src: string,
  opts: HygieneOptions & {
    tokenizer?: TokenEncoder;
    onBytes?: (bytesSoFar: number, totalBytes?: number) => void;
    download?: DownloadOptions;
  } = {},
): Promise<CorpusStats> {
  const t0 = performance.now();
  const report = newHygieneReport();
  let lengths = new Uint32Array(1024);
  let stories = 0;
  let words = 0;
  let characters = 0;
  let utf8Bytes = 0;
  let tokens = 0;
  for await (const text of readDocuments(src, { ...opts, report })) {
    const c = countWordsAndChars(text);
    if (stories === lengths.length) {
      const bigger = new Uint32Array(lengths.length * 2);
      bigger.set(lengths);
      lengths = bigger;
    }
    lengths[stories++] = c.words;
    words += c.words;
    characters += c.characters;
    utf8Bytes += Buffer.byteLength(text, 'utf8');
    if (opts.tokenizer) tokens += opts.tokenizer.encode(text).length;
  }
  const sorted = lengths.slice(0, stories).sort();
  const stats: CorpusStats = {
    source: src,
    stories,
    words,
    characters,
    utf8Bytes,
    storyWords: {
      mean: stories ? words / stories : 0,
      min: stories ? sorted[0]! : 0,
      p10: quantile(sorted, 0.1),
      p50: quantile(sorted, 0.5),
      p90: quantile(sorted, 0.9),
      p99: quantile(sorted, 0.99),
      max: stories ? sorted[stories - 1]! : 0,
    },
    hygiene: report,
    seconds: (performance.now() - t0) / 1000,
  };
  if (opts.tokenizer) {
    stats.tokens = { total: tokens, perStory: stories ? tokens / stories : 0, charactersPerToken: tokens ? characters / tokens : 0 };
  }
  return stats;
}

/** A human-readable multi-line summary of CorpusStats. */
export function formatStats(s: CorpusStats): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const f = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 1 });
  const w = s.storyWords;
  const h = s.hygiene;
  const lines = [
    `source       ${s.source}`,
    `stories      ${n(s.stories)}`,
    `words        ${n(s.words)}`,
    `characters   ${n(s.characters)} (${n(s.utf8Bytes)} UTF-8 bytes)`,
    `story words  mean ${f(w.mean)}  min ${n(w.min)}  p10 ${n(w.p10)}  p50 ${n(w.p50)}  p90 ${n(w.p90)}  p99 ${n(w.p99)}  max ${n(w.max)}`,
  ];
  if (s.tokens) {
    lines.push(`tokens       ${n(s.tokens.total)} (${f(s.tokens.perStory)} per story, ${s.tokens.charactersPerToken.toFixed(2)} characters per token)`);
  }
  lines.push(
    `hygiene      ${n(h.mojibakeRepairs)} mojibake repairs, ${n(h.duplicatesRemoved)} duplicates removed, ` +
      `${n(h.nfcChanged)} NFC changes, ${n(h.emptyDropped)} empty dropped`,
    `read         ${n(h.bytesRead)} bytes in ${s.seconds.toFixed(2)} s`,
  );
  return lines.join('\n');
}
