// Word lists for story prompts: the bundled per-language lists (src/synth/words/) or a user file of the same shape.
import { builtinWordLists, loadWordListsFile } from './words/index.ts';

/** The paper's split: every prompt draws one verb, one noun and one adjective. */
export interface WordLists {
  readonly nouns: readonly string[];
  readonly verbs: readonly string[];
  readonly adjectives: readonly string[];
}

export type Lang = 'en' | 'vi';

/** Reads and checks a word-list file `{"nouns": [...], "verbs": [...], "adjectives": [...]}` (NFC, trimmed). */
export function loadWordLists(path: string): WordLists {
  return loadWordListsFile(path);
}

/** The word lists for a language: `path` if given, else the bundled list. */
export function wordListsFor(lang: Lang, path?: string): WordLists {
  return path ? loadWordListsFile(path) : builtinWordLists(lang);
}
