// Word lists for the TinyStories generation prompt (one noun, one verb, one adjective per story): the built-in
// English and Vietnamese lists in en.json / vi.json, and validation for user-supplied lists of the same shape.
import { readFileSync } from 'node:fs';
import { UserError } from '../../util/errors.ts';

/** The three parts of speech the prompt draws from, in the JSON files' key names. */
export const WORD_TAGS = ['nouns', 'verbs', 'adjectives'] as const;
export type WordTag = (typeof WORD_TAGS)[number];

/** Languages with a built-in list. */
export const WORD_LANGS = ['en', 'vi'] as const;
export type WordLang = (typeof WORD_LANGS)[number];

/** Words by part of speech: lowercase, NFC, no duplicates within a list. A word may sit in two lists ("dance"). */
export type WordLists = Readonly<Record<WordTag, readonly string[]>>;

const cache = new Map<WordLang, WordLists>();

/**
 * The built-in list for `lang`, loaded once and frozen.
 * @example builtinWordLists('en').verbs.includes('jump') // true
 */
export function builtinWordLists(lang: WordLang): WordLists {
  let lists = cache.get(lang);
  if (!lists) {
    if (!(WORD_LANGS as readonly string[]).includes(lang)) {
      throw new UserError(`word lists: no built-in list for language "${lang}" (expected one of ${WORD_LANGS.join(', ')})`);
    }
    const url = new URL(`./${lang}.json`, import.meta.url);
    lists = parseWordLists(readFileSync(url, 'utf8'), url.pathname);
    cache.set(lang, lists);
  }
  return lists;
}

/**
 * Reads a user word-list file: JSON `{"nouns": [...], "verbs": [...], "adjectives": [...]}`.
 * Entries are trimmed and NFC-normalized; a missing key, an empty list, a non-string entry or a duplicate is a UserError.
 */
export function loadWordListsFile(path: string): WordLists {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`word lists: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseWordLists(text, path);
}

/** Parses and validates word-list JSON text; `source` names the file in error messages. Returns frozen lists. */
export function parseWordLists(text: string, source: string): WordLists {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${source}: not valid JSON (${(e as Error).message}); expected {"nouns": [...], "verbs": [...], "adjectives": [...]}`, { cause: e });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UserError(`${source}: expected a JSON object {"nouns": [...], "verbs": [...], "adjectives": [...]}`);
  }
  const obj = data as Record<string, unknown>;
  const out = {} as Record<WordTag, readonly string[]>;
  for (const tag of WORD_TAGS) {
    const list = obj[tag];
    if (!Array.isArray(list) || list.length === 0) {
      throw new UserError(`${source}: field "${tag}" must be a non-empty array of strings`);
    }
    const seen = new Set<string>();
    const words: string[] = [];
    list.forEach((entry, i) => {
      if (typeof entry !== 'string' || entry.trim() === '') {
        throw new UserError(`${source}: ${tag}[${i}] must be a non-empty string, got ${JSON.stringify(entry)}`);
      }
      const word = entry.trim().normalize('NFC');
      if (seen.has(word)) throw new UserError(`${source}: ${tag}[${i}] "${word}" is a duplicate`);
      seen.add(word);
      words.push(word);
    });
    out[tag] = Object.freeze(words);
  }
  return Object.freeze(out);
}
