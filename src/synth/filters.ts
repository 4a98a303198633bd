// Quality filters for generated stories: meta-text removal, refusals, truncation, length, required words,
// out-of-vocabulary share and language. Each rejection has a reason so the run report can count it.
import { BASIC_EN, BASIC_VI, containsWord, inflections, words } from './vocab.ts';
import type { Lang, WordLists } from './words.ts';

/** Why a story was dropped. */
export type RejectReason =
  | 'request_failed' | 'refusal' | 'truncated' | 'empty' | 'too_short' | 'too_long' | 'missing_words'
  | 'oov' | 'language' | 'exact_duplicate' | 'near_duplicate';

export const REJECT_REASONS: RejectReason[] = [
  'request_failed', 'refusal', 'truncated', 'empty', 'too_short', 'too_long', 'missing_words', 'oov', 'language', 'exact_duplicate', 'near_duplicate',
];

export interface FilterOptions {
  lang: Lang;
  /** Story length bounds in words (default 40..1000). */
  minWords?: number;
  maxWords?: number;
  /** Largest share of words outside the vocabulary (default 0.3 English, 0.5 Vietnamese; 1 disables). Names are not counted. */
  maxOovShare?: number;
  /** Require the three prompt words (inflections allowed); default true. */
  requireWords?: boolean;
}

/** The vocabulary a story is checked against: the word lists with inflections plus basic function words. */
export function buildVocabulary(lists: WordLists | undefined, lang: Lang): Set<string> {
  const vocab = new Set<string>();
  const basic = lang === 'vi' ? BASIC_VI : BASIC_EN;
  const add = (w: string) => {
    if (lang === 'vi') for (const syl of words(w)) vocab.add(syl);
    else for (const f of inflections(w)) for (const t of words(f)) vocab.add(t);
  };
  for (const w of basic) add(w);
  if (lists) for (const w of [...lists.nouns, ...lists.verbs, ...lists.adjectives]) add(w);
  return vocab;
}

const META_HEAD = /^\s*(?:sure[,!.]|certainly[,!.]|of course[,!.]|okay[,!.]|here(?:'s| is) (?:a|the|your|my)\b|title\s*:|story\s*:|possible story\s*:|#{1,6}\s|\*\*[^*]+\*\*\s*$|chắc chắn|đây là (?:một )?câu chuyện|tiêu đề\s*:|câu chuyện\s*:)/iu;
const META_TAIL = /^\s*(?:i hope (?:you|this)|let me know|feel free|hy vọng|---+\s*$)/iu;
const REFUSAL = /\b(?:i'm sorry|i am sorry|i apologi[sz]e|i cannot|i can't|i can not|i'm unable|i am unable|as an ai|i won't be able)\b|xin lỗi, (?:tôi|mình) không thể/iu;

/** Removes assistant chatter around the story (a "Here is a story" line, a title, a closing remark) and NFC-normalises. */
export function cleanStory(text: string): { text: string; stripped: boolean } {
  const lines = text.normalize('NFC').replace(/\r\n?/g, '\n').split('\n');
  let stripped = false;
  while (lines.length && (lines[0]!.trim() === '' || META_HEAD.test(lines[0]!))) {
    if (lines[0]!.trim() !== '') stripped = true;
    lines.shift();
  }
  while (lines.length && (lines.at(-1)!.trim() === '' || META_TAIL.test(lines.at(-1)!))) {
    if (lines.at(-1)!.trim() !== '') stripped = true;
    lines.pop();
  }
  return { text: lines.join('\n').trim(), stripped };
}

/** True when the text reads as a refusal or an apology instead of a story. */
export function isRefusal(text: string): boolean {
  const head = text.slice(0, 300);
  return REFUSAL.test(head) && words(text).length < 80;
}

const VI_MARKS = /[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]/u;

/** Crude language check: English needs common function words and Latin letters; Vietnamese needs its diacritics. */
export function languageMatches(text: string, lang: Lang): boolean {
  const ws = words(text);
  if (ws.length === 0) return false;
  let basicEn = 0;
  let viMarked = 0;
  for (const w of ws) {
    if (BASIC_EN.has(w)) basicEn++;
    if (VI_MARKS.test(w)) viMarked++;
  }
  if (lang === 'en') {
    const nonLatin = (text.match(/[^\p{Script=Latin}\p{P}\p{N}\p{Z}\p{S}\s]/gu) ?? []).length;
    return basicEn / ws.length >= 0.2 && viMarked / ws.length < 0.15 && nonLatin / text.length < 0.02;
  }
  return viMarked / ws.length >= 0.2 && basicEn / ws.length < 0.2;
}

/** Share of words outside `vocab`; words that only ever appear capitalised (names) are left out of the count. */
export function oovShare(text: string, vocab: Set<string>): number {
  const raw = text.normalize('NFC').match(/[\p{L}\p{M}]+(?:['’-][\p{L}\p{M}]+)*/gu) ?? [];
  const lowerSeen = new Set<string>();
  for (const t of raw) if (t[0] === t[0]!.toLowerCase()) lowerSeen.add(t.toLowerCase());
  let counted = 0;
  let oov = 0;
  for (const t of raw) {
    const w = t.toLowerCase();
    if (t[0] !== t[0]!.toLowerCase() && !lowerSeen.has(w) && !vocab.has(w)) continue; // a name
    counted++;
    if (!vocab.has(w)) {
      // possessives and contractions: "lily's", "dog's"
      const base = w.replace(/['’](?:s|ll|re|ve|d|m|t)$/u, '');
      if (!vocab.has(base)) oov++;
    }
  }
  return counted ? oov / counted : 1;
}

/** Checks a cleaned story against the prompt's words and the options; returns the first failing reason. */
export function checkStory(text: string, required: string[], vocab: Set<string>, opts: FilterOptions): RejectReason | undefined {
  if (!text.trim()) return 'empty';
  if (isRefusal(text)) return 'refusal';
  const ws = words(text);
  if (ws.length < (opts.minWords ?? 40)) return 'too_short';
  if (ws.length > (opts.maxWords ?? 1000)) return 'too_long';
  if (!languageMatches(text, opts.lang)) return 'language';
  if (opts.requireWords !== false) {
    const set = new Set(ws);
    const norm = text.normalize('NFC').toLowerCase();
    for (const w of required) if (!containsWord(set, norm, w)) return 'missing_words';
  }
  const maxOov = opts.maxOovShare ?? (opts.lang === 'vi' ? 0.5 : 0.3);
  if (maxOov < 1 && oovShare(text, vocab) > maxOov) return 'oov';
  return undefined;
}
