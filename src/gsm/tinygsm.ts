// TinyGSM's record form: a function `def simple_math_problem() -> int:` whose docstring is the question and whose
// body solves it, ending in `return result`; building it from a paper-style program, rendering it for training,
// and the prompt header used at evaluation. The text functions live in src/data/tinygsm-text.ts (the data reader
// renders `{question, code}` records with them) and are re-exported here.
import { functionHeader } from '../data/tinygsm-text.ts';

export { ENTRY_FUNCTION, functionHeader, dedent, toTinyGsmFunction, renderTinyGsm } from '../data/tinygsm-text.ts';

/** One synthetic problem in TinyGSM form, with where it came from and what it cost. */
export interface TinyGsmRecord {
  id: string;
  question: string;
  /** The whole function: header, docstring (the question), body ending in `return result`. */
  code: string;
  /** What `tinystories train` reads: the same function text (renderTinyGsm). */
  text: string;
  /** GSM8K train question this one was made from (its 1-based line in the seeds file). */
  seed_id: string;
  /** 'similar' (10 problems per call) or 'ic' (GSM-IC style: irrelevant context, two calls). */
  kind: 'similar' | 'ic';
  model: string;
  /** This problem's share of the call(s) that produced it. */
  usage: { inputTokens: number; outputTokens: number };
  cost: number | null;
}

/**
 * The body of a sampled completion that belongs to the function: everything up to the first non-blank line that
 * is not indented (a new top-level statement) or an end-of-text marker.
 */
export function cutCompletion(completion: string): string {
  const stop = completion.search(/<\|endoftext\|>|<\|endofprogram\|>/);
  const text = stop >= 0 ? completion.slice(0, stop) : completion;
  const lines = text.split('\n');
  const out: string[] = [];
  for (const l of lines) {
    if (l.trim() && !/^[ \t]/.test(l)) break;
    out.push(l);
  }
  return out.join('\n').replace(/\s+$/, '') + '\n';
}

/** The program executed for a sampled completion of `functionHeader(question)`. */
export function programFromCompletion(question: string, completion: string): string {
  return functionHeader(question) + cutCompletion(completion);
}
