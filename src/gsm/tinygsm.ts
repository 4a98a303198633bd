// TinyGSM's record form: a function `def simple_math_problem() -> int:` whose docstring is the question and whose
// body solves it, ending in `return result`; building it from a paper-style program, rendering it for training,
// and the prompt header used at evaluation.

/** The function name TinyGSM programs define (and the sandbox calls). */
export const ENTRY_FUNCTION = 'simple_math_problem';

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

/** Escapes text for a `"""` docstring: backslashes and triple quotes. */
function docstringBody(question: string): string {
  return question.replace(/\\/g, '\\\\').replace(/"""/g, '\\"\\"\\"').trim();
}

/** The function header and docstring for a question: the prompt a model continues at evaluation. */
export function functionHeader(question: string): string {
  const lines = docstringBody(question).split(/\r?\n/).map((l) => (l.trim() ? `    ${l.trim()}` : ''));
  return `def ${ENTRY_FUNCTION}() -> int:\n    """\n${lines.join('\n')}\n    """\n`;
}

/** Removes the common leading indentation of non-blank lines (like textwrap.dedent). */
export function dedent(code: string): string {
  const lines = code.replace(/\t/g, '    ').split(/\r?\n/);
  let min = Infinity;
  for (const l of lines) if (l.trim()) min = Math.min(min, l.length - l.trimStart().length);
  if (!Number.isFinite(min)) return '';
  return lines.map((l) => (l.trim() ? l.slice(min) : '')).join('\n');
}

/**
 * A paper-style program (statements ending in `result = ...`) as a TinyGSM function: the question as docstring,
 * the statements indented as its body, and `return result` appended unless the body already returns.
 */
export function toTinyGsmFunction(question: string, program: string): string {
  const body = dedent(program).replace(/\s+$/, '');
  const lines = body.split('\n');
  while (lines.length && !lines[0]!.trim()) lines.shift();
  const last = [...lines].reverse().find((l) => l.trim()) ?? '';
  const indented = lines.map((l) => (l ? `    ${l}` : '')).join('\n');
  const ret = /^return\b/.test(last) ? '' : '\n    return result';
  return `${functionHeader(question)}${indented}${ret}\n`;
}

/** The training text of a record: its function (TinyGSM's `code`), or one built from `question` + `code` body. */
export function renderTinyGsm(record: { question: string; code: string }): string {
  const code = record.code.replace(/\s+$/, '') + '\n';
  if (/^\s*def\s+\w+\s*\(/.test(code)) return code;
  return toTinyGsmFunction(record.question, code);
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
