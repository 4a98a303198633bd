// `gsm verifier train`: samples solutions to GSM8K train questions from a generator run, labels them by execution,
// and trains a verifier (generator weights + scalar head) on them; writes samples.jsonl and the verifier files.
import { closeSync, mkdirSync, openSync, writeSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readGsm8k } from '../data/gsm8k.ts';
import type { Backend } from '../engine/backend.ts';
import { InferenceSession } from '../engine/inference.ts';
import { SandboxPool, type SandboxOptions } from '../sandbox/pool.ts';
import { loadRunModel } from '../sample/load.ts';
import { UserError } from '../util/errors.ts';
import { Progress } from '../util/progress.ts';
import { Rng } from '../util/rng.ts';
import { sampleCompletion } from './eval.ts';
import { scoreCompletion } from './harness.ts';
import { functionHeader } from './tinygsm.ts';
import { Verifier, trainVerifier, type VerifierExample } from './verifier.ts';

/** One labeled sample (a line of samples.jsonl). */
export interface LabeledSample {
  index: number;
  question: string;
  gold: number;
  program: string;
  answer: number | null;
  failure?: string;
  correct: boolean;
}

export interface VerifierRunOptions {
  run: string;
  data: string;
  out: string;
  /** Solutions sampled per question (default 4). */
  samples?: number;
  /** Questions used (default 500). */
  limit?: number;
  temperature?: number;
  maxTokens?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  backend: Backend;
  sandbox?: SandboxOptions;
  quiet?: boolean;
  /** Train on an existing samples.jsonl instead of sampling (e.g. one written by an earlier run). */
  samplesFile?: string;
}

/** Samples and labels solutions; returns them (also written to out/samples.jsonl). */
export async function collectSamples(o: VerifierRunOptions): Promise<LabeledSample[]> {
  const { model, tokenizer } = loadRunModel(o.run, o.backend);
  const pool = await SandboxPool.create(o.sandbox);
  const k = o.samples ?? 4;
  const limit = o.limit ?? 500;
  const rng = new Rng(o.seed ?? 7);
  const session = new InferenceSession(model);
  const out: LabeledSample[] = [];
  const progress = new Progress({ label: 'verifier samples', total: limit, unit: 'question', quiet: o.quiet });
  const pending: Array<Promise<void>> = [];
  try {
    let i = 0;
    for await (const p of readGsm8k(o.data)) {
      if (i >= limit) break;
      const index = i++;
      const header = functionHeader(p.question);
      for (let s = 0; s < k; s++) {
        const c = await sampleCompletion(model, tokenizer, header, { temperature: o.temperature ?? 0.7, maxTokens: o.maxTokens ?? 320, rng, session });
        pending.push(
          scoreCompletion(pool, p.question, c, p.finalAnswer).then((r) => {
            out.push({ index, question: p.question, gold: p.finalAnswer, program: r.program, answer: r.answer, failure: r.failure, correct: r.correct });
          }),
        );
      }
      progress.update(i);
    }
    await Promise.all(pending);
  } finally {
    await pool.close();
  }
  progress.done();
  out.sort((a, b) => a.index - b.index);
  mkdirSync(o.out, { recursive: true });
  const fd = openSync(join(o.out, 'samples.jsonl'), 'w');
  for (const s of out) writeSync(fd, JSON.stringify(s) + '\n');
  closeSync(fd);
  return out;
}

/** Reads a samples.jsonl written by collectSamples. */
export function readSamples(path: string): LabeledSample[] {
  if (!existsSync(path)) throw new UserError(`${path}: no such samples file`);
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
    const s = JSON.parse(l) as LabeledSample;
    if (typeof s.program !== 'string' || typeof s.correct !== 'boolean') throw new UserError(`${path} line ${i + 1}: expected "program" (string) and "correct" (boolean)`);
    return s;
  });
}

/** The whole command: samples (or reads) labeled solutions, trains, saves. */
export async function runVerifierTraining(o: VerifierRunOptions): Promise<{ samples: number; correct: number; losses: number[] }> {
  const samples = o.samplesFile ? readSamples(o.samplesFile) : await collectSamples(o);
  const correct = samples.filter((s) => s.correct).length;
  const v = Verifier.fromGenerator(o.run, o.backend);
  const examples: VerifierExample[] = samples.map((s) => ({ ids: v.encode(s.program), label: s.correct ? 1 : 0 }));
  const progress = new Progress({ label: 'verifier train', unit: 'step', quiet: o.quiet });
  const losses = trainVerifier(v, examples, { epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, seed: o.seed, onStep: (s, l) => progress.update(s, `loss ${l.toFixed(4)}`) });
  progress.done();
  v.save(o.out, o.run, { samples: samples.length, correct, epochs: o.epochs ?? 2, losses });
  return { samples: samples.length, correct, losses };
}
