// Coarse word classes (name / verb / pronoun / punctuation / ...) for neuron summaries, from the compromise POS tagger.
import { createRequire } from 'node:module';
import type nlpType from 'compromise';

// Loaded on first use, from compromise's one-file CommonJS build (~0.2 s; its ESM tree takes ~0.7 s), so commands
// that never tag a word do not pay for it.
let nlpFn: typeof nlpType | null = null;
function nlp(text: string): ReturnType<typeof nlpType> {
  nlpFn ??= createRequire(import.meta.url)('compromise') as typeof nlpType;
  return nlpFn(text);
}

export type WordClass = 'name' | 'pronoun' | 'verb' | 'noun' | 'adjective' | 'adverb' | 'function' | 'number' | 'punctuation' | 'newline' | 'other';

export const WORD_CLASSES: readonly WordClass[] = ['name', 'pronoun', 'verb', 'noun', 'adjective', 'adverb', 'function', 'number', 'punctuation', 'newline', 'other'];

const cache = new Map<string, WordClass>();

function tagClass(word: string, prev: string): WordClass {
  const key = `${prev} ${word}`;
  const hit = cache.get(key);
  if (hit) return hit;
  // the previous word disambiguates ("the book" is a noun, "I book" a verb); the last term is the word's
  const terms = (nlp(prev ? `${prev} ${word}` : word).json() as Array<{ terms: Array<{ tags: string[] }> }>).flatMap((s) => s.terms);
  const tags = new Set(terms[terms.length - 1]?.tags ?? []);
  let c: WordClass = 'other';
  if (tags.has('Pronoun')) c = 'pronoun';
  else if (tags.has('Person') || tags.has('FirstName') || tags.has('ProperNoun')) c = 'name';
  else if (tags.has('Value')) c = 'number';
  else if (tags.has('Verb') || tags.has('Copula') || tags.has('Modal')) c = 'verb';
  else if (tags.has('Adjective')) c = 'adjective';
  else if (tags.has('Adverb')) c = 'adverb';
  else if (tags.has('Determiner') || tags.has('Preposition') || tags.has('Conjunction') || tags.has('QuestionWord')) c = 'function';
  else if (tags.has('Noun')) c = 'noun';
  cache.set(word, c);
  return c;
}

/**
 * The class of a word seen in running text. compromise tags the word after its previous word (cached per pair, so a
 * scan's thousands of top activations cost one tagging per distinct pair); one context rule is added: a capitalized
 * word the tagger calls a noun, seen mid-sentence, is a name (not every protagonist is in its lexicon).
 * @example classifyWord('Lily', false, 'day,') === 'name'; classifyWord('ran', false, 'Tom') === 'verb'
 */
export function classifyWord(word: string, sentenceStart: boolean, prevWord = ''): WordClass {
  const w = word.trim();
  if (w === '') return word.includes('\n') ? 'newline' : 'other';
  if (!/[\p{L}\p{N}]/u.test(w)) return 'punctuation';
  const core = w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
  if (/^\p{N}+$/u.test(core)) return 'number';
  const c = tagClass(core, prevWord.trim().split(/\s+/).pop() ?? '');
  if (c === 'noun' && !sentenceStart && /^\p{Lu}\p{Ll}/u.test(core) && core.toLowerCase() !== 'i') return 'name';
  return c;
}

/**
 * The whole word around token `at` of a token-text list (BPE tokens carry their leading space), and whether it
 * starts a sentence (nothing but sentence-final punctuation, quotes or newlines before it).
 */
export function wordAround(tokens: string[], at: number): { word: string; sentenceStart: boolean; prevWord: string } {
  const starts = (s: string) => s === '' || /^[\s]/.test(s) || !/^[\p{L}\p{N}'’]/u.test(s);
  const self = tokens[at] ?? '';
  if (!/[\p{L}\p{N}]/u.test(self)) return { word: self, sentenceStart: false, prevWord: '' };
  let s = at;
  while (s > 0 && !starts(tokens[s]!) && /[\p{L}\p{N}'’]$/u.test(tokens[s - 1]!)) s--;
  let e = at + 1;
  while (e < tokens.length && tokens[e] !== '' && !starts(tokens[e]!)) e++;
  const word = tokens.slice(s, e).join('').trim();
  const prev = tokens.slice(0, s).join('').replace(/\s+$/, '');
  const sentenceStart = prev === '' || /[.!?:"“”]$/.test(prev);
  return { word, sentenceStart, prevWord: prev.split(/\s+/).pop() ?? '' };
}
