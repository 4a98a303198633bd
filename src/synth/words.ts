// Word lists for story prompts: {nouns, verbs, adjectives} JSON files, one per language (src/synth/words/<lang>.json).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.ts';

/** The paper's split: every prompt draws one verb, one noun and one adjective. */
export interface WordLists {
  nouns: string[];
  verbs: string[];
  adjectives: string[];
}

export type Lang = 'en' | 'vi';

/** Where the bundled list for a language lives. */
export function bundledWordListPath(lang: Lang): string {
  return fileURLToPath(new URL(`./words/${lang}.json`, import.meta.url));
}

/** Reads and checks a word-list file; entries are trimmed, NFC-normalised and de-duplicated. */
export function loadWordLists(path: string): WordLists {
  if (!existsSync(path)) throw new UserError(`${path}: word list not found (expected {"nouns": [...], "verbs": [...], "adjectives": [...]}); pass --words <file>`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const out: Partial<WordLists> = {};
  for (const key of ['nouns', 'verbs', 'adjectives'] as const) {
    const v = (raw as Record<string, unknown>)?.[key];
    if (!Array.isArray(v) || v.length === 0 || v.some((w) => typeof w !== 'string' || !w.trim())) {
      throw new UserError(`${path}: field "${key}" must be a non-empty array of words`);
    }
    out[key] = [...new Set((v as string[]).map((w) => w.normalize('NFC').trim()))];
  }
  return out as WordLists;
}

/** The word lists for a language: `path` if given, else the bundled file. */
export function wordListsFor(lang: Lang, path?: string): WordLists {
  return loadWordLists(path ?? bundledWordListPath(lang));
}
