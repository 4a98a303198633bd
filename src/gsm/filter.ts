// `gsm filter`: drops problems that are too short, have no numbers, are exact duplicates, overlap GSM8K test, or whose
// program does not run to a number in the sandbox; streams any number of rows, keeps input order, counts reasons.
import { HashSet64 } from '../util/hash-set.ts';
import type { SandboxPool, ExecResult } from '../sandbox/pool.ts';
import { NgramIndex, normalizeQuestion, type DecontamCounts } from './decontam.ts';
import { renderTinyGsm } from './tinygsm.ts';

/** Why a row was dropped. */
export type FilterReason =
  | 'malformed_record'
  | 'too_short'
  | 'no_numbers'
  | 'exact_duplicate'
  | 'contaminated_13'
  | 'contaminated_8'
  | 'exec_timeout'
  | 'exec_error'
  | 'exec_memory'
  | 'exec_blocked'
  | 'non_numeric';

export interface FilterOptions {
  pool: SandboxPool;
  /** Questions with fewer words are dropped (default 8). */
  minQuestionWords?: number;
  /** GSM8K test index; without it no decontamination is done. */
  decontaminate?: NgramIndex;
  /** Also drop rows that share only a short (8-word) n-gram (default false: counted, kept). */
  dropShortOverlap?: boolean;
  timeoutMs?: number;
  /** Programs in flight (default 8 per sandbox worker). */
  window?: number;
  onProgress?: (read: number, kept: number) => void;
}

export interface FilterReport {
  read: number;
  kept: number;
  dropped: Partial<Record<FilterReason, number>>;
  decontamination: (DecontamCounts & { nLong: number; nShort: number; testQuestions: number; examples: string[] }) | null;
  execMsTotal: number;
}

const NUMBER_WORDS = /\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|thousand|million|half|twice|double|triple|dozen|quarter)\b/i;

/** Whether a question mentions a quantity: a digit or a number word. */
export function hasNumbers(question: string): boolean {
  return /\d/.test(question) || NUMBER_WORDS.test(question);
}

function execReason(r: ExecResult): FilterReason | undefined {
  if (r.ok) return undefined;
  switch (r.failure) {
    case 'timeout':
      return 'exec_timeout';
    case 'memory':
      return 'exec_memory';
    case 'blocked':
      return 'exec_blocked';
    case 'non_numeric':
      return 'non_numeric';
    default:
      return 'exec_error';
  }
}

/** A record's question and program (TinyGSM `code`, or a paper-style `program`), or undefined when absent. */
export function recordProgram(rec: unknown): { question: string; code: string } | undefined {
  const o = rec as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || typeof o.question !== 'string') return undefined;
  const code = typeof o.code === 'string' ? o.code : typeof o.program === 'string' ? o.program : undefined;
  return code === undefined ? undefined : { question: o.question, code };
}

/**
 * Filters a stream of records, calling `keep` in input order for each kept one (with `answer`, the executed
 * result, and `text`, the training rendering, added).
 */
export async function filterRecords(input: AsyncIterable<unknown>, keep: (rec: Record<string, unknown>) => void | Promise<void>, o: FilterOptions): Promise<FilterReport> {
  const report: FilterReport = { read: 0, kept: 0, dropped: {}, decontamination: null, execMsTotal: 0 };
  const idx = o.decontaminate;
  const dc = idx ? { checked: 0, overlap13: 0, overlap8: 0, rate13: 0, rate8: 0, dropped: 0, nLong: idx.nLong, nShort: idx.nShort, testQuestions: idx.questions, examples: [] as string[] } : null;
  report.decontamination = dc;
  const seen = new HashSet64(1 << 16);
  const minWords = o.minQuestionWords ?? 8;
  const window = o.window ?? 8 * o.pool.size;
  const drop = (r: FilterReason) => {
    report.dropped[r] = (report.dropped[r] ?? 0) + 1;
  };
  const pending: Array<Promise<Record<string, unknown> | undefined>> = [];
  const drain = async (limit: number) => {
    while (pending.length > limit) {
      const rec = await pending.shift()!;
      if (rec) {
        report.kept++;
        await keep(rec);
      }
      o.onProgress?.(report.read, report.kept);
    }
  };
  for await (const raw of input) {
    report.read++;
    const rp = recordProgram(raw);
    if (!rp) {
      drop('malformed_record');
      continue;
    }
    const words = normalizeQuestion(rp.question);
    if (words.length < minWords) {
      drop('too_short');
      continue;
    }
    if (!hasNumbers(rp.question)) {
      drop('no_numbers');
      continue;
    }
    if (!seen.addText(words.join(' '))) {
      drop('exact_duplicate');
      continue;
    }
    if (idx && dc) {
      const ov = idx.check(rp.question);
      dc.checked++;
      if (ov.long) dc.overlap13++;
      if (ov.short) dc.overlap8++;
      if (ov.long || (ov.short && o.dropShortOverlap)) {
        dc.dropped++;
        if (dc.examples.length < 20) dc.examples.push(rp.question.slice(0, 300));
        drop(ov.long ? 'contaminated_13' : 'contaminated_8');
        continue;
      }
    }
    const text = renderTinyGsm(rp);
    const base = raw as Record<string, unknown>;
    pending.push(
      o.pool.run(text, { timeoutMs: o.timeoutMs }).then((r) => {
        report.execMsTotal += r.ms;
        const reason = execReason(r);
        if (reason) {
          drop(reason);
          return undefined;
        }
        return { ...base, text, answer: (r as { value: number }).value };
      }),
    );
    await drain(window);
  }
  await drain(0);
  if (dc && dc.checked) {
    dc.rate13 = dc.overlap13 / dc.checked;
    dc.rate8 = dc.overlap8 / dc.checked;
  }
  return report;
}

/** Builds the GSM8K-test n-gram index from question strings. */
export async function buildTestIndex(questions: AsyncIterable<string> | Iterable<string>, nLong = 13, nShort = 8): Promise<NgramIndex> {
  const idx = new NgramIndex(nLong, nShort);
  for await (const q of questions) idx.add(q);
  return idx;
}
