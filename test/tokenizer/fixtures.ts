// Small stories written for these tests (TinyStories style), plus edge-case strings every tokenizer must survive.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/util/rng.ts';
import { hasSharedData, sharedData, SHARED_SKIP_PREFIX } from '../helpers/shared-data.ts';

const NAMES = ['Lily', 'Tom', 'Mia', 'Ben', 'Zoe', 'Sam', 'Ana', 'Max'];
const THINGS = ['red ball', 'big box', 'shiny stone', 'little boat', 'blue kite', 'warm hat', 'old key', 'soft bear'];
const PLACES = ['park', 'garden', 'forest', 'beach', 'kitchen', 'hill', 'river', 'school'];
const FEELINGS = ['happy', 'sad', 'scared', 'proud', 'curious', 'tired', 'excited', 'calm'];

/** `n` short stories from a seeded generator; deterministic. */
export function makeStories(n: number, seed = 7): string[] {
  const rng = new Rng(seed);
  const pick = <T>(a: T[]) => a[rng.int(a.length)]!;
  const SYL = ['ka', 'lo', 'mi', 'zu', 'pe', 'ra', 'tin', 'bo', 'shu', 'vel', 'gri', 'nom'];
  const word = () => Array.from({ length: 2 + rng.int(3) }, () => pick(SYL)).join('');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = pick(NAMES);
    const b = pick(NAMES);
    const t = pick(THINGS);
    const p = pick(PLACES);
    out.push(
      `Once upon a time, ${a} went to the ${p}. ${a} found a ${t} under a tree.\n` +
        `"Look, ${b}!" said ${a}. "It's a ${t}!" ${b} was ${pick(FEELINGS)} and they'll play with it all day.\n` +
        `At ${1 + rng.int(12)} o'clock, they went home. ${a} felt ${pick(FEELINGS)}.\n` +
        `The wise owl said the magic words "${word()} ${word()}" and ${b} laughed. The end.`,
    );
  }
  return out;
}

/** Strings that stress the byte-level pipeline. */
export const EDGE_CASES: string[] = [
  '',
  ' ',
  'a',
  '   ',
  '\n\n\n',
  'two  spaces and   three',
  'trailing spaces   ',
  '  leading spaces',
  'tabs\tand\r\nwindows\nlines',
  'emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇻🇳',
  'Tiếng Việt có dấu: Bà ấy đã đi chợ.',
  'Tiếng Việt có dấu: Bà ấy đã đi chợ.'.normalize('NFD'),
  'café vs cafe\u0301',
  'He said "hi"<|endoftext|>She said "bye"<|endoftext|>',
  '<|endoftext|>',
  '<|endoftext|><|endoftext|>x',
  '<|endoftext',
  "it's I'm we'll they've she'd you're DON'T 's",
  'numbers 123 4567 3.14 ١٢٣ ½',
  '日本語のテキストと中文字符',
  'Здравствуй, мир! Γειά σου',
  'punctuation!!! ... ??? --- ***',
  'nbsp\u00a0and\u2003em space and\u3000ideographic',
  'zero\u200bwidth',
  'x'.repeat(300),
  'mixed ' + 'ab'.repeat(150) + ' end',
  ' '.repeat(100) + 'x',
];

/** Documents of the shared TinyStories sample, or undefined (with a printed reason) when it is absent. */
export function sharedStories(): string[] | undefined {
  const dir = sharedData('tinystories');
  if (!hasSharedData('tinystories')) {
    console.log(`# ${SHARED_SKIP_PREFIX} ${dir} (shared TinyStories sample)`);
    return undefined;
  }
  const docs: string[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    for (const d of readFileSync(join(dir, f), 'utf8').split('<|endoftext|>')) {
      const t = d.trim();
      if (t) docs.push(t);
    }
  }
  return docs;
}

export const GPT2_DIR = sharedData('tokenizer');
