// A run trained with the paper's top-K tokenizer: the remap is our format, so the run keeps it as tokenizer.topk.json
// and never writes a tokenizer.json that Hugging Face tools would try (and fail) to load; the run still samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelFiles } from '../../src/checkpoint/run-dir.ts';
import { loadTokenizer, restrictToTopK, trainBpe } from '../../src/tokenizer/index.ts';
import { REMAP_FORMAT, TOPK_TOKENIZER_FILE, tokenizerFileIn } from '../../src/tokenizer/hf-json.ts';
import { train } from '../../src/train/trainer.ts';
import { TINY_NEO, writeStoriesFile } from '../train/fixture-stories.ts';
import { makeStories } from './fixtures.ts';

test('train --tokenizer <top-K file>: the run holds tokenizer.topk.json (our format), no tokenizer.json, and loads back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-topk-run-'));
  try {
    const base = await trainBpe(makeStories(200), { vocabSize: 400, minFrequency: 1, specialTokens: ['<|endoftext|>'] });
    const { tokenizer: top } = await restrictToTopK(base, makeStories(100), { k: 120 });
    const topPath = join(dir, 'top120.json');
    top.save(topPath);
    const data = join(dir, 'stories.txt');
    writeStoriesFile(data, 60, 3);
    writeFileSync(join(dir, 'tiny.json'), JSON.stringify({ ...TINY_NEO, vocabSize: 120 }));
    const run = join(dir, 'run');
    await train({ modelConfig: join(dir, 'tiny.json'), data, out: run, tokenizer: topPath, steps: 2, batchSize: 2, seqLen: 16, backend: 'ref', quiet: true, valEvery: 0, sampleEvery: 0 }, { log: () => {} });
    assert.ok(!existsSync(join(run, 'tokenizer.json')), 'a top-K remap must not be written as tokenizer.json');
    assert.equal(tokenizerFileIn(run), join(run, TOPK_TOKENIZER_FILE));
    assert.equal((JSON.parse(readFileSync(join(run, TOPK_TOKENIZER_FILE), 'utf8')) as { format: string }).format, REMAP_FORMAT);
    const files = loadModelFiles(run);
    assert.equal(files.tokenizerPath, join(run, TOPK_TOKENIZER_FILE));
    const back = loadTokenizer(run);
    for (const s of makeStories(5, 7)) assert.deepEqual(back.encode(s), top.encode(s));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
