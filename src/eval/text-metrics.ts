// Metrics over generated text that need no model and no judge: distinct-n (diversity) and vocabulary adherence
// (share of words outside the child vocabulary), reported with the same numbers for reference stories.
import { readFileSync } from 'node:fs';
import { buildVocabulary } from '../synth/filters.ts';
import { inflections, words } from '../synth/vocab.ts';
import { builtinWordLists, type WordLists as BuiltinLists } from '../synth/words/index.ts';
import { UserError } from '../util/errors.ts';
import type { VocabAdherence } from './report-types.ts';
import { summarize } from './stats.ts';

export type { VocabAdherence };

/** distinct-n: unique word n-grams / all word n-grams, pooled over the texts (Li et al. 2016). */
export function distinctN(texts: string[], n: number): { distinct: number; unique: number; total: number } {
  const seen = new Set<string>();
  let total = 0;
  for (const t of texts) {
    const w = words(t);
    for (let i = 0; i + n <= w.length; i++) {
      seen.add(w.slice(i, i + n).join(' '));
      total++;
    }
  }
  return { distinct: total ? seen.size / total : NaN, unique: seen.size, total };
}

/**
 * The child vocabulary: the project's tagged word lists (src/synth/words, en) with inflections, the basic function
 * words stories use, and optionally extra words from a file (one per line, e.g. the released instruction words).
 */
export function childVocabulary(extraWordsFile?: string): Set<string> {
  const vocab = buildVocabulary(mutableLists(builtinWordLists('en')), 'en');
  if (extraWordsFile) {
    let text: string;
    try {
      text = readFileSync(extraWordsFile, 'utf8');
    } catch (e) {
      throw new UserError(`${extraWordsFile}: cannot read vocabulary file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    for (const line of text.split(/\r?\n/)) {
      const w = line.trim();
      if (w) for (const f of inflections(w)) for (const t of words(f)) vocab.add(t);
    }
  }
  return vocab;
}

/** Counts words outside `vocab` in each text (possessives and contractions reduced to their base). */
export function vocabAdherence(texts: string[], vocab: Set<string>, top = 25): VocabAdherence {
  const oovCounts = new Map<string, number>();
  const shares: number[] = [];
  let counted = 0;
  let oov = 0;
  for (const text of texts) {
    const raw = text.normalize('NFC').match(/[\p{L}\p{M}]+(?:['’-][\p{L}\p{M}]+)*/gu) ?? [];
    const lowerSeen = new Set<string>();
    for (const t of raw) if (t[0] === t[0]!.toLowerCase()) lowerSeen.add(t.toLowerCase());
    let c = 0;
    let o = 0;
    for (const t of raw) {
      const w = t.toLowerCase();
      if (t[0] !== t[0]!.toLowerCase() && !lowerSeen.has(w) && !vocab.has(w)) continue; // a name
      c++;
      if (vocab.has(w)) continue;
      const base = w.replace(/['’](?:s|ll|re|ve|d|m|t)$/u, '');
      if (vocab.has(base)) continue;
      o++;
      oovCounts.set(base, (oovCounts.get(base) ?? 0) + 1);
    }
    counted += c;
    oov += o;
    if (c > 0) shares.push(o / c);
  }
  const topOov = [...oovCounts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, top).map(([word, count]) => ({ word, count }));
  return { words: counted, oovShare: counted ? oov / counted : NaN, perText: summarize(shares), topOov };
}

/** The synth module's mutable WordLists shape from the frozen built-in lists. */
function mutableLists(l: BuiltinLists): { nouns: string[]; verbs: string[]; adjectives: string[] } {
  return { nouns: [...l.nouns], verbs: [...l.verbs], adjectives: [...l.adjectives] };
}
