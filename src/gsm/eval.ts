// `gsm eval`: prompts a trained model with the TinyGSM function header + docstring of each GSM8K test question,
// samples solutions (greedy, and k at a temperature), executes them in the sandbox, scores them against the gold
// answer, and writes records.jsonl (one line per problem), report.json and report.html.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readGsm8k } from '../data/gsm8k.ts';
import type { Backend } from '../engine/backend.ts';
import { InferenceSession } from '../engine/inference.ts';
import type { Model } from '../engine/model.ts';
import { SandboxPool, type SandboxOptions } from '../sandbox/pool.ts';
import { generate } from '../sample/generate.ts';
import { loadRunModel } from '../sample/load.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { Progress } from '../util/progress.ts';
import { Rng } from '../util/rng.ts';
import { finishOutcome, reportHtml, scoreCompletion, summarize, type EvalSummary, type ProblemOutcome, type ScoredSample } from './harness.ts';
import { functionHeader, programFromCompletion } from './tinygsm.ts';
import { Verifier } from './verifier.ts';

export interface GsmEvalOptions {
  run: string;
  data: string;
  out: string;
  /** Sampled solutions per problem besides the greedy one (default 1 = greedy only). */
  samples?: number;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  /** Evaluate only the first N problems. */
  limit?: number;
  verifier?: string;
  seed?: number;
  backend: Backend;
  sandbox?: SandboxOptions;
  /** Reuse a running pool instead of starting one. */
  pool?: SandboxPool;
  quiet?: boolean;
}

/** Samples one completion of `prompt`, stopping as soon as the model leaves the function body. */
export async function sampleCompletion(model: Model, tok: Tokenizer, prompt: string, o: { temperature: number; topP?: number; maxTokens: number; rng: Rng; session: InferenceSession }): Promise<string> {
  let text = '';
  for await (const t of generate(model, tok, prompt, { temperature: o.temperature, topP: o.topP ?? 1, topK: 0, maxTokens: o.maxTokens, rng: o.rng, session: o.session })) {
    text += t.text;
    // a non-blank line that is not indented ends the function (cutCompletion drops it)
    if (/\n[^\s]/.test(text)) break;
  }
  return text;
}

/** Runs the evaluation; returns the summary (also in out/report.json). */
export async function evalGsm(o: GsmEvalOptions): Promise<EvalSummary> {
  mkdirSync(o.out, { recursive: true });
  const { model, tokenizer } = loadRunModel(o.run, o.backend);
  const verifier = o.verifier ? Verifier.load(o.verifier, o.backend) : undefined;
  const pool = o.pool ?? (await SandboxPool.create(o.sandbox));
  const k = o.samples ?? 1;
  const temperature = o.temperature ?? 0.7;
  const maxTokens = o.maxTokens ?? 320;
  const rng = new Rng(o.seed ?? 1234);
  const session = new InferenceSession(model);
  const recordsPath = join(o.out, 'records.jsonl');
  const fd = openSync(recordsPath, 'w');
  const outcomes: ProblemOutcome[] = [];
  const progress = new Progress({ label: 'gsm eval', total: o.limit, unit: 'problem', quiet: o.quiet });
  const pending: Array<Promise<void>> = [];
  try {
    let index = 0;
    for await (const p of readGsm8k(o.data)) {
      if (o.limit !== undefined && index >= o.limit) break;
      const i = index++;
      const prompt = functionHeader(p.question);
      const greedyText = await sampleCompletion(model, tokenizer, prompt, { temperature: 0, maxTokens, rng, session });
      const sampled: string[] = [];
      if (k > 1) for (let s = 0; s < k; s++) sampled.push(await sampleCompletion(model, tokenizer, prompt, { temperature, topP: o.topP, maxTokens, rng, session }));
      const scores = verifier && k > 1 ? sampled.map((c) => verifier.score(programFromCompletion(p.question, c))) : undefined;
      // execution overlaps with sampling the next problem
      pending.push(
        (async () => {
          const greedy = await scoreCompletion(pool, p.question, greedyText, p.finalAnswer);
          const samples: ScoredSample[] = await Promise.all(sampled.map((c) => scoreCompletion(pool, p.question, c, p.finalAnswer)));
          if (scores) samples.forEach((s, j) => (s.verifierScore = scores[j]));
          outcomes[i] = finishOutcome({ index: i, question: p.question, gold: p.finalAnswer, greedy, samples, majority: null, majorityCorrect: false });
        })(),
      );
      progress.update(index);
    }
    await Promise.all(pending);
    for (const oc of outcomes) writeSync(fd, JSON.stringify(oc) + '\n');
  } finally {
    closeSync(fd);
    if (!o.pool) await pool.close();
  }
  progress.done();
  const summary = summarize(outcomes);
  const meta = { run: o.run, data: o.data, samples: k, temperature, topP: o.topP ?? 1, maxTokens, verifier: o.verifier ?? null, seed: o.seed ?? 1234, tolerance: 'abs 1e-4 or rel 1e-6' };
  await writeFileAtomic(join(o.out, 'report.json'), JSON.stringify({ ...summary, settings: meta }, null, 2) + '\n');
  await writeFileAtomic(join(o.out, 'report.html'), reportHtml(summary, outcomes, meta));
  return summary;
}
