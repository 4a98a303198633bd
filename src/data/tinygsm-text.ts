// TinyGSM's text form, shared by the data reader and src/gsm: a function `def simple_math_problem() -> int:` whose
// docstring is the question and whose body solves it, ending in `return result`. No imports (src/data stays below src/gsm).

/** The function name TinyGSM programs define (and the sandbox calls). */
export const ENTRY_FUNCTION = 'simple_math_problem';

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

/** Whether a JSON record is a TinyGSM `{question, code}` record (string `question` and `code`). */
export function isTinyGsmLike(value: unknown): value is { question: string; code: string } {
  const o = value as { question?: unknown; code?: unknown } | null;
  return !!o && typeof o === 'object' && typeof o.question === 'string' && typeof o.code === 'string';
}
