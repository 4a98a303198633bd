// `eval instruct`: for models trained on TinyStoriesInstruct — give Features/Words/Summary, let the model write the
// story, then grade instruction following with a judge rubric plus an automatic required-words check.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readInstructRecords } from '../data/instruct.ts';
import { resolveSource } from '../data/read.ts';
import { createProvider } from '../llm/index.ts';
import { Scheduler, type SchedulerOptions } from '../llm/scheduler.ts';
import type { ChatProvider, Usage } from '../llm/types.ts';
import { generate } from '../sample/generate.ts';
import { loadRunModel } from '../sample/load.ts';
import { FEATURES, uniformFeatures } from '../synth/features.ts';
import { rngFor, samplePromptSpec } from '../synth/prompts.ts';
import { containsWord, words } from '../synth/vocab.ts';
import { builtinWordLists, type WordLists as BuiltinLists } from '../synth/words/index.ts';
import type { BackendKind } from '../engine/open-backend.ts';
import { openBackendWithGpuDecoding } from '../sample/gpu-decoding.ts';
import { writeFileAtomicSync } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { Progress } from '../util/progress.ts';
import { CI_METHOD } from './aggregate.ts';
import { JudgeCache, defaultJudgeCachePath } from './cache.ts';
import type { JudgeConfig } from './gpt-eval.ts';
import { parseLabeledScores } from './grades.ts';
import { cachedCall, type JudgeSettings } from './judge.ts';
import { expandRuns } from './models.ts';
import { instructReportHtml } from './report-html.ts';
import { bootstrapCi, summarize, type Summary } from './stats.ts';

/** The instructions of one Instruct prompt (any subset). */
export interface InstructPrompt {
  features?: string[];
  words?: string[];
  summary?: string;
}

export const INSTRUCT_DIMENSIONS = ['words', 'features', 'summary', 'overall', 'grammar', 'consistency'] as const;
export type InstructDimension = (typeof INSTRUCT_DIMENSIONS)[number];

const LABELS: Record<InstructDimension, RegExp> = {
  words: /\bwords?\b/i,
  features: /\bfeatures?\b/i,
  summary: /\bsummary\b/i,
  overall: /\boverall(?: instruction[- ]following)?\b|\binstruction[- ]following\b/i,
  grammar: /\bgrammar\b/i,
  consistency: /\bconsistency\b/i,
};

const FEATURE_MEANING: Record<string, string> = {
  Dialogue: 'the story should contain at least one dialogue',
  BadEnding: 'the story has a bad ending',
  MoralValue: 'the story has a moral value',
  Twist: 'something unexpected happens / there is a plot twist',
  Foreshadowing: 'the narrative uses foreshadowing or setup and payoff',
  Conflict: 'the story has some sort of conflict',
};

/** The text a model trained on TinyStoriesInstruct continues: the header lines, then `Story:` and a blank line. */
export function instructModelPrompt(p: InstructPrompt): string {
  let s = '';
  if (p.features?.length) s += `Features: ${p.features.join(', ')}\n`;
  if (p.words?.length) s += `Words: ${p.words.join(', ')}\n`;
  if (p.summary) s += `Summary: ${p.summary}\n`;
  return s + 'Story: \n\n';
}

/** The judge rubric for one prompt and story (one turn). */
export function instructRubric(p: InstructPrompt, story: string): string {
  const lines: string[] = [];
  if (p.words?.length) lines.push(`- Words: the story must use the words ${p.words.map((w) => `"${w}"`).join(', ')} (any inflection).`);
  if (p.features?.length) lines.push(`- Features: ${p.features.map((f) => `${f} (${FEATURE_MEANING[f] ?? f})`).join('; ')}.`);
  if (p.summary) lines.push(`- Summary: the story should tell this: "${p.summary}"`);
  const form = [p.words?.length ? 'Words: x/10' : null, p.features?.length ? 'Features: x/10' : null, p.summary ? 'Summary: x/10' : null, 'Overall: x/10', 'Grammar: x/10', 'Consistency: x/10'].filter(Boolean).join(', ');
  return (
    'In the following exercise, a student was asked to write a short story for young children that follows some instructions. The instructions were:\n\n' +
    lines.join('\n') +
    `\n\nThe student's story:\n\n${story}\n\n` +
    'Please grade, from 0 to 10, how well the story follows each instruction, how well it follows the instructions overall, its grammar, and whether it is consistent and makes sense. ' +
    `Answer on one line in exactly this form: ${form}.`
  );
}

/** Required words found in a story (inflections allowed: "jump" matches "jumped"). */
export function requiredWordsPresent(story: string, required: string[]): boolean[] {
  const set = new Set(words(story));
  return required.map((w) => containsWord(set, story, w));
}

/** Prompts from a TinyStoriesInstruct file (stories dropped), or `count` prompts drawn from the word lists. */
export async function loadInstructPrompts(src: string | null, count: number, seed: number): Promise<{ prompts: InstructPrompt[]; source: string }> {
  if (src) {
    const path = await resolveSource(src);
    const out: InstructPrompt[] = [];
    for await (const r of readInstructRecords(path)) {
      if (!r.features?.length && !r.words?.length && !r.summary) continue;
      out.push({ features: r.features, words: r.words, summary: r.summary });
      if (out.length >= count) break;
    }
    if (out.length === 0) throw new UserError(`${src}: no Instruct records with Features/Words/Summary`);
    return { prompts: out, source: src };
  }
  const lists = mutableLists(builtinWordLists('en'));
  const feats = uniformFeatures(0.3);
  const prompts = Array.from({ length: count }, (_, i) => {
    const spec = samplePromptSpec(seed, i, lists, feats);
    return { words: [...spec.words], features: spec.features.filter((f) => (FEATURES as readonly string[]).includes(f)) };
  });
  return { prompts, source: `built-in word lists (seed ${seed})` };
}

export interface InstructEvalConfig {
  runs: string[];
  /** A TinyStoriesInstruct file of prompts, or null for prompts drawn from the built-in word lists. */
  prompts: string | null;
  count: number;
  sampling: { temperature: number; topK: number; topP: number; maxTokens: number; seed: number };
  judge: JudgeConfig;
  backend: BackendKind;
  threads: number;
  out: string;
}

export interface InstructModelReport {
  id: string;
  path: string;
  weightsSha256: string;
  params: number;
  total: number;
  graded: number;
  unparseable: number;
  failed: number;
  scores: Partial<Record<InstructDimension, Summary & { bootstrap95: [number, number] }>>;
  requiredWords: { allPresent: number; wordShare: number };
  judgeUsage: Usage;
}

export interface InstructEvalReport {
  kind: 'tinystories-instruct-eval';
  version: 1;
  created: string;
  config: InstructEvalConfig;
  prompts: { source: string; count: number; sha256: string };
  judge: { provider: string; model: string; reportedModels: string[]; rubric: string };
  ci: string;
  dimensions: InstructDimension[];
  /** The compute backend that generated the stories. */
  backend: string;
  models: InstructModelReport[];
}

/** Runs the Instruct evaluation and writes report.json, report.html and judgments.jsonl. */
export async function runInstructEval(config: InstructEvalConfig, io: { log?: (l: string) => void; quiet?: boolean; provider?: ChatProvider; scheduler?: SchedulerOptions } = {}): Promise<InstructEvalReport> {
  const log = io.log ?? ((l: string) => process.stderr.write(l + '\n'));
  if (config.runs.length === 0) throw new UserError('eval instruct: give at least one --run <run-dir>');
  mkdirSync(config.out, { recursive: true });
  const { prompts, source } = await loadInstructPrompts(config.prompts, config.count, config.sampling.seed);
  const provider = io.provider ?? createProvider({ provider: config.judge.provider, baseURL: config.judge.baseURL, timeoutMs: config.judge.timeoutMs });
  const scheduler = new Scheduler(provider, { concurrency: config.judge.concurrency, rpm: config.judge.rpm, tpm: config.judge.tpm, maxRetries: config.judge.maxRetries, timeoutMs: config.judge.timeoutMs, ...io.scheduler });
  const cache = new JudgeCache(config.judge.cache ?? defaultJudgeCachePath(config.out));
  const settings: JudgeSettings = { scheduler, providerName: provider.name, model: config.judge.model, cache, temperature: config.judge.temperature };
  const { backend, gpu, name: backendName } = await openBackendWithGpuDecoding(config.backend, config.threads, log);
  const models: InstructModelReport[] = [];
  const lines: string[] = [];
  const reported = new Set<string>();
  try {
    for (const entry of expandRuns(config.runs, false)) {
      const { model, tokenizer } = loadRunModel(entry.path, backend);
      const session = gpu?.decoder(model);
      const prog = new Progress({ label: `instruct ${entry.id}`, total: prompts.length, unit: 'stories', quiet: io.quiet });
      const stories: string[] = [];
      for (let i = 0; i < prompts.length; i++) {
        let text = '';
        for await (const t of generate(model, tokenizer, instructModelPrompt(prompts[i]!), { ...config.sampling, rng: rngFor(config.sampling.seed, i, 1), session })) text += t.text;
        stories.push(text.trim());
        prog.update(i + 1);
      }
      prog.done();
      gpu?.release(model);
      const usage: Usage = { inputTokens: 0, outputTokens: 0 };
      const outcomes = await Promise.all(
        stories.map(async (story, i) => {
          const p = prompts[i]!;
          const acc = { usage, calls: 0, cachedCalls: 0 };
          let last = '';
          for (let a = 0; a <= config.judge.parseRetries; a++) {
            let text: string;
            try {
              const res = await cachedCall(settings, { model: config.judge.model, messages: [{ role: 'user', content: instructRubric(p, story) + (a > 0 ? ' Use numbers, e.g. "Overall: 6/10".' : '') }], temperature: config.judge.temperature, maxTokens: 200 }, acc);
              reported.add(res.model);
              text = res.text;
            } catch (e) {
              return { status: 'failed' as const, scores: null, answer: last, reason: (e as Error).message };
            }
            last = text;
            const parsed = parseLabeledScores(text, LABELS);
            if (parsed.ok && parsed.scores.overall !== null) {
              // a score for an instruction that was not given is ignored
              if (!p.words?.length) parsed.scores.words = null;
              if (!p.features?.length) parsed.scores.features = null;
              if (!p.summary) parsed.scores.summary = null;
              return { status: 'graded' as const, scores: parsed.scores, answer: text, reason: null };
            }
          }
          return { status: 'unparseable' as const, scores: null, answer: last, reason: 'no Overall score' };
        }),
      );
      const present = stories.map((s, i) => requiredWordsPresent(s, prompts[i]!.words ?? []));
      const withWords = present.filter((_, i) => (prompts[i]!.words ?? []).length > 0);
      const scores: InstructModelReport['scores'] = {};
      for (const d of INSTRUCT_DIMENSIONS) {
        const xs = outcomes.flatMap((o) => (o.scores && o.scores[d] !== null ? [o.scores[d]!] : []));
        if (xs.length) scores[d] = { ...summarize(xs), bootstrap95: bootstrapCi(xs, { seed: 1 }) };
      }
      outcomes.forEach((o, i) => lines.push(JSON.stringify({ model: entry.id, prompt: prompts[i], story: stories[i], wordsPresent: present[i], ...o })));
      const graded = outcomes.filter((o) => o.status === 'graded').length;
      models.push({
        id: entry.id,
        path: entry.path,
        weightsSha256: entry.weightsSha256,
        params: model.numParams(),
        total: outcomes.length,
        graded,
        unparseable: outcomes.filter((o) => o.status === 'unparseable').length,
        failed: outcomes.filter((o) => o.status === 'failed').length,
        scores,
        requiredWords: {
          allPresent: withWords.length ? withWords.filter((p) => p.every(Boolean)).length / withWords.length : NaN,
          wordShare: withWords.length ? withWords.flat().filter(Boolean).length / Math.max(1, withWords.flat().length) : NaN,
        },
        judgeUsage: usage,
      });
    }
  } finally {
    gpu?.dispose();
    backend.dispose();
    cache.close();
  }
  const report: InstructEvalReport = {
    kind: 'tinystories-instruct-eval',
    version: 1,
    created: new Date().toISOString(),
    config: { ...config, out: resolve(config.out) },
    prompts: { source, count: prompts.length, sha256: createHash('sha256').update(JSON.stringify(prompts)).digest('hex') },
    judge: { provider: config.judge.provider, model: config.judge.model, reportedModels: [...reported], rubric: instructRubric({ words: ['<verb>', '<noun>', '<adjective>'], features: ['Dialogue'], summary: '<summary>' }, '<story>') },
    ci: CI_METHOD,
    dimensions: INSTRUCT_DIMENSIONS.filter((d) => models.some((m) => m.scores[d])),
    backend: backendName,
    models,
  };
  writeFileAtomicSync(join(config.out, 'judgments.jsonl'), lines.join('\n') + '\n');
  writeFileAtomicSync(join(config.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileAtomicSync(join(config.out, 'report.html'), instructReportHtml(report));
  return report;
}

/** The synth module's mutable WordLists shape from the frozen built-in lists. */
function mutableLists(l: BuiltinLists): { nouns: string[]; verbs: string[]; adjectives: string[] } {
  return { nouns: [...l.nouns], verbs: [...l.verbs], adjectives: [...l.adjectives] };
}
