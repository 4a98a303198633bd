// The greedy golden story: a tiny seeded model trained a fixed number of steps on fixed synthetic stories, then
// decoded greedily. Shared by golden.test.ts (compare) and regen-golden.ts (the only way to rewrite the fixture).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { generate } from '../../src/sample/generate.ts';
import { loadRunModel } from '../../src/sample/load.ts';
import { train } from '../../src/train/trainer.ts';
import { TINY_NEO, writeStoriesFile } from '../train/fixture-stories.ts';

/** Bump when the recipe below changes on purpose (and regenerate with `npx tsx test/sample/regen-golden.ts`). */
export const GOLDEN_VERSION = 2;
export const GOLDEN_PATH = join(import.meta.dirname, 'fixtures', 'golden-story.json');
export const GOLDEN_PROMPT = 'Once upon a time';

export interface GoldenStory {
  version: number;
  prompt: string;
  text: string;
  ids: number[];
  finalLoss: number;
}

/** Trains the golden model (about 2 s on the reference backend) and decodes its greedy story. */
export async function makeGoldenStory(): Promise<GoldenStory> {
  const dir = mkdtempSync(join(tmpdir(), 'golden-'));
  try {
    const data = join(dir, 'stories.txt');
    const cfg = join(dir, 'tiny.json');
    writeStoriesFile(data, 200, 3);
    writeFileSync(cfg, JSON.stringify(TINY_NEO));
    const r = await train(
      { modelConfig: cfg, data, out: join(dir, 'run'), vocabSize: 320, steps: 120, batchSize: 8, seqLen: 32, lr: 1e-2, warmupSteps: 5, backend: 'ref', seed: 42, valEvery: 0, sampleEvery: 0, checkpointEvery: 0, quiet: true },
      { log: () => {} },
    );
    const backend = createRefBackend();
    const { model, tokenizer } = loadRunModel(r.runDir, backend);
    const ids: number[] = [];
    let text = '';
    for await (const t of generate(model, tokenizer, GOLDEN_PROMPT, { temperature: 0, maxTokens: 60 })) {
      ids.push(t.id);
      text += t.text;
    }
    return { version: GOLDEN_VERSION, prompt: GOLDEN_PROMPT, text, ids, finalLoss: r.loss };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
