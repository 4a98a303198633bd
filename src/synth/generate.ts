// `generate`: TinyStories-style stories from sampled (verb, noun, adjective, features) prompts, optionally with
// a summary per story (TinyStoriesInstruct), through the journaled LLM job runner (src/llm/jobs.ts).
import { join } from 'node:path';
import { callOrRecord, duplicateReason, fingerprintHash, recordUsage, runEngine, type EngineResult, type SlotContext, type SlotResult, type SlotTask, type SynthRunOptions } from '../llm/jobs.ts';
import type { Journal } from '../llm/journal.ts';
import type { ChatRequest } from '../llm/types.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { NearDuplicateIndex, type MinHashOptions } from './dedup.ts';
import type { FeatureDistribution } from './features.ts';
import { buildVocabulary, checkStory, cleanStory, type FilterOptions, type RejectReason } from './filters.ts';
import { instructText, storiesText } from './export.ts';
import { renderPrompt, samplePromptSpec, summaryPrompt, type PromptSpec } from './prompts.ts';
import { buildReport, writeReport } from './report.ts';
import type { Lang, WordLists } from './words.ts';

export interface GenerateOptions extends SynthRunOptions {
  out: string;
  count: number;
  lang: Lang;
  seed: number;
  /** Also ask for a 1-2 sentence summary of each accepted story (TinyStoriesInstruct). */
  instruct: boolean;
  lists: WordLists;
  features: FeatureDistribution;
  /** The resolved template text, and its name for the fingerprint. */
  template: string;
  templateName: string;
  filters: Omit<FilterOptions, 'lang'>;
  dedup?: MinHashOptions;
  /** Slot budget (default 1.5 × count + 20). */
  maxSlots?: number;
}

/** The record id of slot `index` (also the prefix of its request ids). */
export function recordId(seed: number, index: number): string {
  return `ts-s${seed}-${String(index).padStart(7, '0')}`;
}

/** Deterministic request id for a story attempt: derived from (seed, index, attempt). */
export function storyRequestId(seed: number, index: number, attempt: number): string {
  return `${recordId(seed, index)}-a${attempt}`;
}

/** The prompt (text and spec) for slot `index`. */
export function promptFor(o: Pick<GenerateOptions, 'seed' | 'lists' | 'features' | 'template' | 'lang'>, index: number): { spec: PromptSpec; prompt: string } {
  const spec = samplePromptSpec(o.seed, index, o.lists, o.features);
  return { spec, prompt: renderPrompt(o.template, spec, o.lang) };
}

/** Runs (or resumes) a generation into `out`. */
export async function generate(o: GenerateOptions): Promise<EngineResult> {
  const vocab = buildVocabulary(o.lists, o.lang);
  const filterOpts: FilterOptions = { ...o.filters, lang: o.lang };
  const attemptsPerSlot = o.attemptsPerSlot ?? 2;
  const fingerprint = {
    kind: 'generate', provider: o.providerName, model: o.model, lang: o.lang, seed: o.seed, temperature: o.temperature ?? null,
    maxTokens: o.maxTokens, instruct: o.instruct, template: o.templateName, templateHash: fingerprintHash(o.template), features: o.features.name,
    wordsHash: fingerprintHash(o.lists),
  };

  const taskAt = (index: number): SlotTask => {
    const id = recordId(o.seed, index);
    return {
      id,
      ord: index,
      async run(ctx: SlotContext): Promise<SlotResult> {
        const { spec, prompt } = promptFor(o, index);
        let last: RejectReason = 'request_failed';
        for (let attempt = 0; attempt < attemptsPerSlot; attempt++) {
          const rid = storyRequestId(o.seed, index, attempt);
          const req: ChatRequest = { model: o.model, messages: [{ role: 'user', content: prompt }], maxTokens: o.maxTokens, temperature: o.temperature };
          const call = await callOrRecord(ctx, rid, id, req);
          if (!call) {
            last = 'request_failed';
            continue;
          }
          const r = call.response;
          const { text, stripped } = cleanStory(r.text);
          let reason: RejectReason | undefined =
            r.finishReason === 'refusal' || r.finishReason === 'content_filter' ? 'refusal' : r.finishReason === 'length' ? 'truncated' : undefined;
          reason ??= checkStory(text, spec.words, vocab, filterOpts) ?? duplicateReason(ctx.dedup, text);
          if (reason) {
            ctx.noteAttempt(rid, id, reason, stripped);
            last = reason;
            continue;
          }
          let summary = '';
          const calls = [call];
          if (o.instruct) {
            // a refused summary request is recorded below with the story's request id, as an empty summary is
            const s = await callOrRecord(ctx, `${rid}-sum`, id, { model: o.model, messages: [{ role: 'user', content: summaryPrompt(text, o.lang) }], maxTokens: 200, temperature: o.temperature === undefined ? undefined : Math.min(o.temperature, 0.7) }, null);
            if (s) {
              summary = cleanStory(s.response.text).text.replace(/^(summary|tóm tắt)\s*:\s*/iu, '').replace(/\s*\n\s*/g, ' ');
              calls.push(s);
            }
            if (!summary) {
              ctx.noteAttempt(rid, id, 'request_failed', stripped);
              last = 'request_failed';
              continue;
            }
            // another slot may have been accepted while the summary was written
            const why = duplicateReason(ctx.dedup, text);
            if (why) {
              ctx.noteAttempt(rid, id, why, stripped);
              last = why;
              continue;
            }
          }
          ctx.noteAttempt(rid, id, 'accepted', stripped);
          const record: Record<string, unknown> = {
            id,
            story: text,
            instruction: { 'prompt:': prompt, words: spec.words, features: spec.features },
            summary,
            source: r.model || o.model,
            lang: o.lang,
            seed: o.seed,
            index,
            attempt,
            ...recordUsage(calls),
          };
          return { record, text };
        }
        return { reason: last };
      },
    };
  };

  return runEngine({
    out: o.out,
    fingerprint,
    target: o.count,
    taskAt,
    maxSlots: o.maxSlots ?? Math.ceil(o.count * 1.5) + 20,
    provider: o.provider,
    scheduler: o.scheduler,
    prices: o.prices,
    batch: o.batch,
    dedup: new NearDuplicateIndex(o.dedup),
    maxFailures: o.maxFailures,
    label: 'generate',
    quiet: o.quiet,
    finish: async (journal: Journal) => {
      journal.setMeta('word_list_sizes', JSON.stringify({ verbs: o.lists.verbs.length, nouns: o.lists.nouns.length, adjectives: o.lists.adjectives.length }));
      await writeFileAtomic(join(o.out, 'stories.txt'), storiesText(journal.acceptedRecords()));
      if (o.instruct) await writeFileAtomic(join(o.out, 'instruct.txt'), instructText(journal.acceptedRecords(), o.seed));
      await writeReport(o.out, buildReport(journal));
    },
  });
}
