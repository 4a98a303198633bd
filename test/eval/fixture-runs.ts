// Tiny run directories for evaluation tests: a BPE tokenizer trained on fixture stories, a small GPT-Neo, and
// checkpoints at a few steps (weights perturbed per step), written in the trainer's run-directory format.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHfConfig } from '../../src/checkpoint/hf-config.ts';
import { saveCheckpoint, writeRunFiles } from '../../src/checkpoint/run-dir.ts';
import type { ModelConfig } from '../../src/engine/config.ts';
import { exportHfTensors } from '../../src/engine/hf.ts';
import { Model } from '../../src/engine/model.ts';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { trainBpe } from '../../src/tokenizer/train.ts';
import { TINY_NEO, makeStories } from '../train/fixture-stories.ts';

/** Writes a run at `dir` with checkpoints at `steps` (the last one is the run's latest weights). Returns its parameter count. */
export async function makeRun(dir: string, opts: { dim?: number; steps?: number[]; seed?: number } = {}): Promise<number> {
  const tok = await trainBpe(makeStories(120, 4), { vocabSize: 300 });
  const cfg = { ...TINY_NEO, vocabSize: tok.vocabSize, dim: opts.dim ?? 32 } as ModelConfig;
  const model = new Model(cfg, createRefBackend(), { seed: opts.seed ?? 1 });
  writeRunFiles(dir, { hfConfig: toHfConfig(cfg, { eotId: tok.eotId }), tokenizerJson: tok.toJSON(), trainConfig: { fixture: true } });
  for (const step of opts.steps ?? [10]) {
    model.init((opts.seed ?? 1) * 1000 + step);
    const tensors = [...exportHfTensors(model)].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    saveCheckpoint(dir, {
      step,
      model: tensors,
      optimizer: [],
      state: { step, totalSteps: 100, cursor: { epoch: 0, position: 0 }, rng: [1, 2, 3, 4], tokens: step * 100, wallSeconds: 1, bestValLoss: null, bestStep: null, lastValLoss: null },
      keepLast: 10,
    });
  }
  return model.numParams();
}

/** A held-out file of fixture stories in TinyStories .txt form. */
export function writeStories(path: string, n: number, seed: number): void {
  writeFileSync(path, makeStories(n, seed).map((s) => s + '\n<|endoftext|>\n').join(''));
}

