// `translate`: an existing story set into another language (Vietnamese), keeping ids, NFC-normalised, exactly-once.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { callOrRecord, duplicateReason, recordUsage, runEngine, type EngineResult, type SlotTask, type SynthRunOptions } from '../llm/jobs.ts';
import { NearDuplicateIndex } from './dedup.ts';
import { storiesText } from './export.ts';
import { cleanStory, isRefusal, languageMatches, type RejectReason } from './filters.ts';
import { translatePrompt } from './prompts.ts';
import { buildReport, writeReport } from './report.ts';
import { words } from './vocab.ts';
import type { Lang } from './words.ts';

export interface TranslateOptions extends SynthRunOptions {
  input: string;
  out: string;
  to: Lang;
  /** Translate at most this many records (default all). */
  count?: number;
}

interface SourceRecord {
  id: string;
  rec: Record<string, unknown>;
}

/** Reads a JSONL of story records (`story` required; `id` kept, or `line-N` when missing). */
export function readStoryRecords(path: string): SourceRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`--in ${path}: cannot read (${(e as Error).message})`);
  }
  const out: SourceRecord[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line);
    } catch {
      throw new UserError(`${path}:${i + 1}: not valid JSON (expected one record per line)`);
    }
    if (typeof rec.story !== 'string') throw new UserError(`${path}:${i + 1}: field "story" must be a string`);
    const id = typeof rec.id === 'string' && rec.id ? rec.id : `line-${i + 1}`;
    if (seen.has(id)) throw new UserError(`${path}:${i + 1}: duplicate id "${id}"`);
    seen.add(id);
    out.push({ id, rec });
  });
  return out;
}

/** Runs (or resumes) a translation of `input` into `out`. */
export async function translate(o: TranslateOptions): Promise<EngineResult> {
  const src = readStoryRecords(o.input);
  const n = Math.min(o.count ?? src.length, src.length);
  const attempts = o.attemptsPerSlot ?? 2;
  const fingerprint = {
    kind: 'translate', provider: o.providerName, model: o.model, to: o.to, lang: o.to, temperature: o.temperature ?? null, maxTokens: o.maxTokens,
    input: createHash('sha256').update(readFileSync(o.input)).digest('hex').slice(0, 16),
  };
  const taskAt = (i: number): SlotTask | undefined => {
    if (i >= n) return undefined;
    const { id, rec } = src[i]!;
    return {
      id,
      ord: i,
      async run(ctx) {
        let last: RejectReason = 'request_failed';
        const story = String(rec.story).trim();
        for (let attempt = 0; attempt < attempts; attempt++) {
          const rid = `${id}-tr${o.to}-a${attempt}`;
          const call = await callOrRecord(ctx, rid, id, { model: o.model, messages: [{ role: 'user', content: translatePrompt(story, o.to) }], maxTokens: o.maxTokens, temperature: o.temperature });
          if (!call) continue;
          const r = call.response;
          const { text, stripped } = cleanStory(r.text);
          const ratio = words(text).length / Math.max(1, words(story).length);
          let reason: RejectReason | undefined =
            r.finishReason === 'refusal' || r.finishReason === 'content_filter' ? 'refusal'
            : r.finishReason === 'length' ? 'truncated'
            : !text ? 'empty'
            : isRefusal(text) ? 'refusal'
            : ratio < 0.4 ? 'too_short'
            : ratio > 3 ? 'too_long'
            : !languageMatches(text, o.to) ? 'language'
            : duplicateReason(ctx.dedup, text);
          if (reason) {
            ctx.noteAttempt(rid, id, reason, stripped);
            last = reason;
            continue;
          }
          let summary = rec.summary;
          const calls = [call];
          if (typeof rec.summary === 'string' && rec.summary.trim()) {
            // a refused summary translation leaves the summary empty; the story is still accepted
            const s = await callOrRecord(ctx, `${rid}-sum`, id, { model: o.model, messages: [{ role: 'user', content: translatePrompt(rec.summary, o.to) }], maxTokens: 300, temperature: o.temperature }, null);
            summary = s ? cleanStory(s.response.text).text.replace(/\s*\n\s*/g, ' ') : '';
            if (s) calls.push(s);
          }
          ctx.noteAttempt(rid, id, 'accepted', stripped);
          const record: Record<string, unknown> = {
            ...rec,
            id,
            story: text.normalize('NFC'),
            ...(summary !== undefined ? { summary: String(summary).normalize('NFC') } : {}),
            source: r.model || o.model,
            lang: o.to,
            translated_from: { lang: typeof rec.lang === 'string' ? rec.lang : 'en', source: rec.source ?? null },
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
    target: n,
    taskAt,
    maxSlots: n,
    provider: o.provider,
    scheduler: o.scheduler,
    prices: o.prices,
    batch: o.batch,
    dedup: new NearDuplicateIndex(),
    maxFailures: o.maxFailures,
    label: 'translate',
    quiet: o.quiet,
    finish: async (journal) => {
      await writeFileAtomic(join(o.out, 'stories.txt'), storiesText(journal.acceptedRecords()));
      await writeReport(o.out, buildReport(journal));
    },
  });
}
