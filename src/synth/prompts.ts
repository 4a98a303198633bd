// Generation prompts: the released data's wording, the paper's wording, or a user template; seeded per-index sampling.
import { readFileSync } from 'node:fs';
import { Rng } from '../util/rng.ts';
import { UserError } from '../util/errors.ts';
import { FEATURE_PHRASES, type Feature, type FeatureDistribution } from './features.ts';
import type { Lang, WordLists } from './words.ts';

/**
 * Templates use {verb} {noun} {adjective} {features}; text inside [[ ]] is dropped when the story has no features.
 * `data` is the wording stored in the released data, `paper` the one printed in arXiv 2305.07759.
 */
export const TEMPLATES: Record<Lang, Record<'data' | 'paper', string>> = {
  en: {
    data:
      'Write a short story (3-5 paragraphs) which only uses very simple words that a 3 year old child would understand. ' +
      'The story should use the verb "{verb}", the noun "{noun}" and the adjective "{adjective}".[[ The story has the following features: {features}.]] ' +
      'Remember to only use simple words!\n\nPossible story:',
    paper:
      'Write a short story (3-5 paragraphs) which only uses very simple words that a 3 year old child would likely understand. ' +
      'The story should use the verb "{verb}", the noun "{noun}" and the adjective "{adjective}".[[ The story should have the following features: {features}.]] ' +
      'Remember to only use simple words!',
  },
  vi: {
    data:
      'Hãy viết một câu chuyện ngắn (3-5 đoạn) bằng tiếng Việt, chỉ dùng những từ rất đơn giản mà một đứa trẻ 3 tuổi có thể hiểu. ' +
      'Câu chuyện phải dùng động từ "{verb}", danh từ "{noun}" và tính từ "{adjective}".[[ Câu chuyện có các đặc điểm sau: {features}.]] ' +
      'Hãy nhớ chỉ dùng những từ đơn giản!\n\nCâu chuyện:',
    paper:
      'Hãy viết một câu chuyện ngắn (3-5 đoạn) bằng tiếng Việt, chỉ dùng những từ rất đơn giản mà một đứa trẻ 3 tuổi có thể hiểu được. ' +
      'Câu chuyện phải dùng động từ "{verb}", danh từ "{noun}" và tính từ "{adjective}".[[ Câu chuyện nên có các đặc điểm sau: {features}.]] ' +
      'Hãy nhớ chỉ dùng những từ đơn giản!',
  },
};

/** What one prompt asks for. `words` is [verb, noun, adjective], the released data's order. */
export interface PromptSpec {
  words: [string, string, string];
  features: Feature[];
}

/** Resolves --template: 'data', 'paper', or a path to a text file with the placeholders. */
export function resolveTemplate(lang: Lang, template: string = 'data'): string {
  if (template === 'data' || template === 'paper') return TEMPLATES[lang][template];
  let t: string;
  try {
    t = readFileSync(template, 'utf8');
  } catch (e) {
    throw new UserError(`--template ${template}: expected "data", "paper" or a readable file (${(e as Error).message})`);
  }
  for (const p of ['{verb}', '{noun}', '{adjective}']) {
    if (!t.includes(p)) throw new UserError(`${template}: template must contain ${p} (placeholders: {verb} {noun} {adjective} {features}, [[ optional features part ]])`);
  }
  return t.replace(/\r\n/g, '\n').replace(/\n+$/, '');
}

/** Fills a template. */
export function renderPrompt(template: string, spec: PromptSpec, lang: Lang): string {
  const phrases = spec.features.map((f) => FEATURE_PHRASES[lang][f]).join(', ');
  const withSection = template.replace(/\[\[([\s\S]*?)\]\]/g, (_, inner: string) => (spec.features.length ? inner : ''));
  return withSection
    .replaceAll('{verb}', spec.words[0])
    .replaceAll('{noun}', spec.words[1])
    .replaceAll('{adjective}', spec.words[2])
    .replaceAll('{features}', phrases);
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The generator for prompt `index` of run `seed`: independent of order, so any index can be (re)built alone. */
export function rngFor(seed: number, index: number, stream = 0): Rng {
  const r = new Rng(Uint32Array.of(mix32(seed ^ 0x9e3779b9), mix32(index + 0x632be5ab), mix32((seed * 31 + index) ^ 0x85ebca6b), mix32(stream ^ 0xc2b2ae35) | 1));
  for (let i = 0; i < 4; i++) r.nextU32();
  return r;
}

/** The words and features of prompt `index`: the same (seed, index) always gives the same spec. */
export function samplePromptSpec(seed: number, index: number, lists: WordLists, features: FeatureDistribution): PromptSpec {
  const rng = rngFor(seed, index);
  const verb = lists.verbs[rng.int(lists.verbs.length)]!;
  const noun = lists.nouns[rng.int(lists.nouns.length)]!;
  const adjective = lists.adjectives[rng.int(lists.adjectives.length)]!;
  return { words: [verb, noun, adjective], features: features.sample(rng) };
}

/** Prompt asking for a 1-2 sentence summary (TinyStoriesInstruct's Summary line). */
export function summaryPrompt(story: string, lang: Lang): string {
  return lang === 'vi'
    ? `Tóm tắt câu chuyện sau trong một hoặc hai câu bằng tiếng Việt đơn giản. Chỉ trả lời bằng bản tóm tắt.\n\n${story}`
    : `Summarize the following story in one or two sentences, using simple words. Answer with the summary only.\n\n${story}`;
}

/** Prompt asking for a translation of a story. */
export function translatePrompt(story: string, to: Lang): string {
  const target = to === 'vi' ? 'Vietnamese (tiếng Việt)' : 'English';
  return `Translate the following children's story into ${target}. Keep the words very simple, keep the paragraphs and the dialogue, and answer with the translation only.\n\n${story}`;
}
