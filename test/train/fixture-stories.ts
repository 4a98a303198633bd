// Small synthetic stories for training tests (written by a seeded template, so no corpus is copied into the repo).
import { writeFileSync } from 'node:fs';
import { Rng } from '../../src/util/rng.ts';

const NAMES = ['Lily', 'Tom', 'Mia', 'Ben', 'Sue', 'Max', 'Anna', 'Sam'];
const PETS = ['dog', 'cat', 'bird', 'fish', 'frog', 'duck'];
const THINGS = ['ball', 'kite', 'box', 'hat', 'cake', 'boat', 'book'];
const COLORS = ['red', 'blue', 'green', 'big', 'little', 'yellow'];
const PLACES = ['park', 'garden', 'beach', 'forest', 'house'];
const FEELINGS = ['happy', 'sad', 'sleepy', 'brave', 'scared'];

/** `n` short stories in TinyStories style, deterministic for a seed. */
export function makeStories(n: number, seed = 1): string[] {
  const rng = new Rng(seed);
  const pick = <T>(a: T[]) => a[rng.int(a.length)]!;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = pick(NAMES);
    const pet = pick(PETS);
    const thing = pick(THINGS);
    const color = pick(COLORS);
    const place = pick(PLACES);
    out.push(
      `Once upon a time, there was a ${pick(FEELINGS)} girl named ${name}. ${name} had a ${color} ${thing}. ` +
        `One day, ${name} went to the ${place} with her ${pet}. The ${pet} saw the ${thing} and ran to it. ` +
        `"Stop!" said ${name}. The ${pet} gave the ${thing} back. ${name} was ${pick(FEELINGS)}, and they played all day.`,
    );
  }
  return out;
}

/** Writes the stories as a TinyStories .txt file (each story followed by a <|endoftext|> line). */
export function writeStoriesFile(path: string, n: number, seed = 1): void {
  writeFileSync(path, makeStories(n, seed).map((s) => s + '\n<|endoftext|>\n').join(''));
}

/** A tiny GPT-Neo config for fast tests (our ModelConfig JSON; vocabSize is replaced by the tokenizer's). */
export const TINY_NEO = { arch: 'gpt-neo', vocabSize: 512, maxSeqLen: 64, dim: 32, nLayers: 2, nHeads: 4, windowSize: 16 };
/** A tiny llama config. */
export const TINY_LLAMA = { arch: 'llama', vocabSize: 512, maxSeqLen: 64, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, multipleOf: 8 };
