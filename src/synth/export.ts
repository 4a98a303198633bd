// Exports of accepted records: the plain TinyStories .txt form and TinyStoriesInstruct text records.
import type { Rng } from '../util/rng.ts';
import { rngFor } from './prompts.ts';

const EOT = '<|endoftext|>';

/** Story texts separated by lines of <|endoftext|>, like TinyStories-train.txt. */
export function storiesText(records: Iterable<Record<string, unknown>>): string {
  let s = '';
  for (const r of records) s += `${String(r.story ?? '').trim()}\n${EOT}\n`;
  return s;
}

/** The sentences of a story (split after . ! ? and closing quotes). */
export function sentences(story: string): string[] {
  return (story.replace(/\s+/g, ' ').match(/[^.!?]+[.!?]+["”’']?/g) ?? []).map((x) => x.trim()).filter((x) => x.split(' ').length >= 3);
}

/**
 * One TinyStoriesInstruct block: a random subset (at least one, each with probability 1/2) of the lines
 * Features / Words / Summary / Random sentence in random order, then `Story: `, an empty line, the story, <|endoftext|>.
 */
export function instructRecord(r: Record<string, unknown>, rng: Rng): string {
  const ins = (r.instruction ?? {}) as { words?: string[]; features?: string[] };
  const story = String(r.story ?? '').trim();
  const candidates: string[] = [];
  if (ins.features?.length) candidates.push(`Features: ${ins.features.join(', ')}`);
  if (ins.words?.length) candidates.push(`Words: ${ins.words.join(', ')}`);
  if (r.summary) candidates.push(`Summary: ${String(r.summary)}`);
  const ss = sentences(story);
  if (ss.length) candidates.push(`Random sentence: ${ss[rng.int(ss.length)]}`);
  let chosen = candidates.filter(() => rng.next() < 0.5);
  if (chosen.length === 0 && candidates.length) chosen = [candidates[rng.int(candidates.length)]!];
  rng.shuffle(chosen);
  return `${chosen.map((l) => l + '\n').join('')}Story: \n\n${story}\n${EOT}\n`;
}

/** TinyStoriesInstruct text for records (seeded per record index, so it is reproducible). */
export function instructText(records: Iterable<Record<string, unknown>>, seed: number): string {
  let s = '';
  let i = 0;
  for (const r of records) s += instructRecord(r, rngFor(seed, Number(r.index ?? i++), 7));
  return s;
}
