// A tiny trained run directory for inspect/server/web tests: a BPE tokenizer and a few training steps through the train API.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainBpe } from '../../src/tokenizer/train.ts';
import { train } from '../../src/train/trainer.ts';
import { TINY_LLAMA, TINY_NEO, makeStories, writeStoriesFile } from '../train/fixture-stories.ts';

export interface FixtureRuns {
  /** The runs root (what `tinystories ui --runs` is pointed at). */
  root: string;
  neo: string;
  llama: string;
  /** A stories .txt file (held-out style data for scans). */
  stories: string;
  /** Removes the temp directories. */
  cleanup(): void;
}

/** Trains a tiny GPT-Neo (and optionally llama) run for a few steps into a fresh temp root. */
export async function makeFixtureRuns(opts: { llama?: boolean; steps?: number } = {}): Promise<FixtureRuns> {
  const root = mkdtempSync(join(tmpdir(), 'ts-ui-'));
  const work = mkdtempSync(join(tmpdir(), 'ts-ui-work-'));
  const stories = join(work, 'stories.txt');
  writeStoriesFile(stories, 200, 3);
  const tokenizer = join(work, 'tokenizer.json');
  (await trainBpe(makeStories(200, 3), { vocabSize: 300 })).save(tokenizer);
  const steps = opts.steps ?? 12;
  const runOne = async (name: string, cfg: object) => {
    const modelConfig = join(work, `${name}.json`);
    writeFileSync(modelConfig, JSON.stringify(cfg));
    const out = join(root, name);
    await train(
      {
        modelConfig, data: stories, tokenizer, out, steps, batchSize: 4, seqLen: 32, backend: 'ref', checkpointEvery: 6,
        valEvery: 4, valBatches: 1, sampleEvery: 6, sampleTokens: 8, warmupSteps: 2, quiet: true, valFraction: 0.1,
      },
      { log: () => {}, printConfig: false },
    );
    return out;
  };
  const neo = await runOne('neo', TINY_NEO);
  const llama = opts.llama ? await runOne('llama', TINY_LLAMA) : '';
  const cleanup = () => {
    for (const d of [root, work]) rmSync(d, { recursive: true, force: true });
  };
  return { root, neo, llama, stories, cleanup };
}
