// GSM8K records: `{question, answer}` JSON lines whose answer ends with `#### <final number>`.
import { UserError } from '../util/errors.ts';
import { readJsonRecords } from './json-stream.ts';
import { readTextChunks } from './text-stream.ts';

/** One GSM8K problem. `finalAnswer` is the number after `####` (thousands commas removed). */
export interface Gsm8kRecord {
  question: string;
  /** Step-by-step solution with `<<48/2=24>>` calculator annotations, ending in a `#### 72` line. */
  answer: string;
  finalAnswer: number;
}

/** Parses the final answer of a GSM8K solution: `"...\n#### 1,234"` → 1234, `"#### -5"` → -5; undefined if absent. */
export function parseGsm8kFinalAnswer(answer: string): number | undefined {
  const m = /####\s*([-+]?[\d,]*\.?\d+)\s*$/.exec(answer);
  if (!m) return undefined;
  const n = Number(m[1]!.replace(/,/g, ''));
  return Number.isFinite(n) ? n : undefined;
}

/** Checks a parsed JSON value is a GSM8K record and returns it typed; `where` names the file and record for errors. */
export function toGsm8kRecord(value: unknown, where: string): Gsm8kRecord {
  const o = value as { question?: unknown; answer?: unknown } | null;
  if (!o || typeof o !== 'object' || typeof o.question !== 'string' || typeof o.answer !== 'string') {
    throw new UserError(`${where}: expected an object with string fields "question" and "answer"`);
  }
  const finalAnswer = parseGsm8kFinalAnswer(o.answer);
  if (finalAnswer === undefined) throw new UserError(`${where}: the answer does not end with a "#### <number>" line`);
  return { question: o.question, answer: o.answer, finalAnswer };
}

/** Whether a parsed JSON value looks like a GSM8K record (string question and answer). */
export function isGsm8kLike(value: unknown): value is { question: string; answer: string } {
  const o = value as { question?: unknown; answer?: unknown } | null;
  return !!o && typeof o === 'object' && typeof o.question === 'string' && typeof o.answer === 'string';
}

/** Streams the problems of a GSM8K .jsonl file. */
export async function* readGsm8k(path: string): AsyncGenerator<Gsm8kRecord> {
  let i = 0;
  for await (const v of readJsonRecords(readTextChunks(path), path)) {
    i++;
    yield toGsm8kRecord(v, `${path} record ${i}`);
  }
}

/** The text of a GSM8K problem as one document: the question, a newline, the answer. */
export function gsm8kText(r: { question: string; answer: string }): string {
  return `${r.question}\n${r.answer}`;
}

/** One GSM8K record as a JSON line (the upstream key order), without the trailing newline. */
export function formatGsm8kRecord(r: { question: string; answer: string }): string {
  return JSON.stringify({ question: r.question, answer: r.answer });
}
