// Parsing LLM output into (question, program) pairs: the paper's `<|endofquestion|>` / `<|endofprogram|>` blocks,
// tolerant of numbering, markdown, code fences and a truncated tail; each malformed block gets a reason.

export const END_OF_QUESTION = '<|endofquestion|>';
export const END_OF_PROGRAM = '<|endofprogram|>';

/** A parsed problem/program pair. */
export interface ParsedProblem {
  question: string;
  program: string;
}

/** Why a block was not usable. */
export type BlockReject = 'no_question_marker' | 'empty_question' | 'empty_program' | 'no_result_assignment' | 'truncated';

export interface ParseResult {
  problems: ParsedProblem[];
  rejected: Array<{ reason: BlockReject; text: string }>;
}

const LABEL = /^\s*(?:[#>*_\s]*)(?:problem|question|q|program|solution|code|python(?: program)?)\s*(?:#?\s*\d+)?\s*[:.)-]?\s*(?:[*_]+\s*)?/i;
const FENCE = /^\s*```[a-zA-Z0-9_+-]*\s*$/;

const QUESTION_LABEL = /(?:^|\n)[ \t]*[#>*_ \t]*(?:(?:new|modified|rewritten|revised|math)[ \t]+)?(?:problem|question)[ \t]*#?[ \t]*\d*[ \t]*[*_]*[ \t]*[:.][ \t]*[*_]*/gi;

/**
 * The question in the text before `<|endofquestion|>`: after the last "Problem 3:" / "**Question 3:**" label when
 * there is one (a preamble like "Sure! Here are 10 problems." goes), else the last paragraph; markdown stripped.
 */
export function cleanQuestion(s: string): string {
  let q = s.trim();
  let cut = -1;
  for (const m of q.matchAll(QUESTION_LABEL)) cut = m.index! + m[0].length;
  if (cut >= 0) q = q.slice(cut).trim();
  else {
    const paras = q.split(/\n\s*\n/).filter((x) => x.trim());
    if (paras.length > 1) q = paras[paras.length - 1]!.trim();
  }
  for (let i = 0; i < 2; i++) q = q.replace(LABEL, '').trim();
  q = q.replace(/^\d+\s*[.)]\s+/, '').replace(/^[*_]+|[*_]+$/g, '').trim();
  return q.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n');
}

/** Strips a "Program 3:" label and ``` fences from a program; keeps the code's own indentation. */
export function cleanProgram(s: string): string {
  let lines = s.replace(/\r\n/g, '\n').split('\n');
  while (lines.length && !lines[0]!.trim()) lines.shift();
  if (lines.length && /^\s*(?:[#*_\s]*)(?:program|solution|code|python)\b[^=\n]*:\s*[*_]*\s*$/i.test(lines[0]!)) lines.shift();
  if (lines.length && /^\s*(?:[#*_\s]*)(?:program|solution|code)\s*#?\d*\s*:\s*\S/i.test(lines[0]!) && !/=/.test(lines[0]!.split(':')[0]!)) {
    lines[0] = lines[0]!.replace(/^\s*(?:[#*_\s]*)(?:program|solution|code)\s*#?\d*\s*:\s*/i, '');
  }
  lines = lines.filter((l) => !FENCE.test(l));
  while (lines.length && !lines[lines.length - 1]!.trim()) lines.pop();
  return lines.join('\n');
}

/** Whether a program assigns `result` (the paper's contract: it ends with `result = ...`). */
export function assignsResult(program: string): boolean {
  return /^\s*result\s*(?::[^=\n]+)?=(?!=)/m.test(program) || /^\s*return\s+result\b/m.test(program);
}

/**
 * Splits a "generate 10 problems" response into pairs. `truncated` (finish reason "length") drops a last block
 * that has no closing `<|endofprogram|>`.
 */
export function parseProblemBlocks(text: string, truncated = false): ParseResult {
  const problems: ParsedProblem[] = [];
  const rejected: ParseResult['rejected'] = [];
  const chunks = text.replace(/\r\n/g, '\n').split(END_OF_PROGRAM);
  const closed = chunks.length - 1;
  chunks.forEach((chunk, i) => {
    if (!chunk.trim()) return;
    const isTail = i === closed;
    const qi = chunk.indexOf(END_OF_QUESTION);
    if (qi < 0) {
      rejected.push({ reason: isTail && truncated ? 'truncated' : 'no_question_marker', text: chunk.slice(0, 200) });
      return;
    }
    if (isTail && truncated) {
      rejected.push({ reason: 'truncated', text: chunk.slice(0, 200) });
      return;
    }
    const question = cleanQuestion(chunk.slice(0, qi));
    const program = cleanProgram(chunk.slice(qi + END_OF_QUESTION.length));
    if (!question) rejected.push({ reason: 'empty_question', text: chunk.slice(0, 200) });
    else if (!program.trim()) rejected.push({ reason: 'empty_program', text: chunk.slice(0, 200) });
    else if (!assignsResult(program)) rejected.push({ reason: 'no_result_assignment', text: chunk.slice(0, 200) });
    else problems.push({ question, program });
  });
  return { problems, rejected };
}

/** The question of a GSM-IC first call: the text before `<|endofquestion|>` (or all of it), cleaned. */
export function parseSingleQuestion(text: string): string {
  const qi = text.indexOf(END_OF_QUESTION);
  return cleanQuestion(qi >= 0 ? text.slice(0, qi) : text);
}

/** The program of a GSM-IC second call: up to `<|endofprogram|>`, fences and labels removed. */
export function parseSingleProgram(text: string): string {
  const pi = text.indexOf(END_OF_PROGRAM);
  let body = pi >= 0 ? text.slice(0, pi) : text;
  const fence = /```(?:python|py)?\s*\n([\s\S]*?)```/.exec(body);
  if (fence) body = fence[1]!;
  return cleanProgram(body);
}
