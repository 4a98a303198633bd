// The GPT-Eval inputs: story beginnings (the paper's YAML list or a JSON array) and the judge's two-turn wording.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.ts';

/** The paper's 44 beginnings, shipped with the package (CDLA-Sharing-1.0, see beginnings/SOURCES.md). */
export const BUILTIN_BEGINNINGS = 'builtin:paper-beginnings';
/** The file behind BUILTIN_BEGINNINGS: a byte-identical copy of the authors' `Evaluation prompts.yaml`. */
export const BUILTIN_BEGINNINGS_FILE = fileURLToPath(new URL('./beginnings/evaluation-prompts.yaml', import.meta.url));
/** The same file on the Hugging Face hub: downloaded only when asked for with `--beginnings`. */
export const HUB_BEGINNINGS = 'hf:roneneldan/TinyStories/Evaluation prompts.yaml';
/** What `eval gpt` uses without `--beginnings`: the shipped copy, so it works offline. */
export const DEFAULT_BEGINNINGS = BUILTIN_BEGINNINGS;

/**
 * The paper's turn-1 wording (arXiv 2305.07759, Sec. 3.1), kept word for word including its lower-case start and
 * "gramatically". `{beginning}` and `{completion}` are filled in; the completion follows `***` directly.
 */
export const JUDGE_TURN1 =
  "the following exercise, the student is given a beginning of a story. The student needs to complete it into a full story. The exercise tests the student's language abilities and creativity. The symbol *** marks the separator between the prescribed beginning and the student's completion:\n\n" +
  '{beginning}***{completion}\n\n' +
  "Please provide your general assessment about the part written by the student (the one after the *** symbol). Is it gramatically correct? Is it consistent with the beginning of the story? Pay special attention to whether the student manages to complete the sentence which is split in the middle by the separator ***.";

/** The paper's turn-2 wording. */
export const JUDGE_TURN2 =
  "Now, grade the student's completion in terms of grammar, creativity, consistency with the story's beginning and whether the plot makes sense. Moreover, please provide your best guess of what the age of the student might be, as reflected from the completion. Choose from possible age groups: A: 3 or under. B: 4-5. C: 6-7. D: 8-9. E: 10-12. F: 13-16.";

/** Added to turn 2 only when an answer could not be read (a retry), so the first try is the paper's wording exactly. */
export const FORMAT_REMINDER = '\n\nPlease answer on one line in exactly this form: Grammar: x/10, Creativity: x/10, Consistency: x/10, Plot: x/10, Age group: X (ages).';

/** Added to turn 2 in JSON mode. */
export const JSON_INSTRUCTION =
  '\n\nAnswer with a JSON object only: {"grammar": 0-10, "creativity": 0-10, "consistency": 0-10, "plot": 0-10, "age_group": "A".."F"}.';

/** Turn 1 for one beginning and completion. */
export function judgeTurn1(beginning: string, completion: string): string {
  return JUDGE_TURN1.replace('{beginning}', () => beginning).replace('{completion}', () => completion);
}

/**
 * Parses a file of beginnings: the paper's YAML (a list of `- |-` block scalars, quoted or plain items) or JSON
 * (an array of strings, or of objects with a `beginning`/`prompt`/`text` field). `source` names the file in errors.
 */
export function parseBeginnings(text: string, source: string): string[] {
  const t = text.replace(/^\uFEFF/, '');
  const out = /^\s*[[{]/.test(t) ? parseJsonBeginnings(t, source) : parseYamlList(t, source);
  if (out.length === 0) throw new UserError(`${source}: no story beginnings found (expected a YAML list or a JSON array of strings)`);
  out.forEach((b, i) => {
    if (!b.trim()) throw new UserError(`${source}: beginning ${i + 1} is empty`);
  });
  return out;
}

/** Reads a beginnings file from disk (`builtin:paper-beginnings` = the shipped copy of the paper's 44). */
export function loadBeginnings(path: string): string[] {
  if (path === BUILTIN_BEGINNINGS) path = BUILTIN_BEGINNINGS_FILE;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`${path}: cannot read beginnings file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseBeginnings(text, path);
}

function parseJsonBeginnings(text: string, source: string): string[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    const o = data as Record<string, unknown>;
    data = o.beginnings ?? o.prompts;
  }
  if (!Array.isArray(data)) throw new UserError(`${source}: expected a JSON array of beginnings (or {"beginnings": [...]})`);
  return data.map((item, i) => {
    if (typeof item === 'string') return item;
    if (item && typeof item === 'object') {
      const o = item as Record<string, unknown>;
      const v = o.beginning ?? o.prompt ?? o.text;
      if (typeof v === 'string') return v;
    }
    throw new UserError(`${source}: item ${i + 1} must be a string or an object with a "beginning" string, got ${JSON.stringify(item).slice(0, 60)}`);
  });
}

/** The YAML subset the paper's file uses: a top-level sequence of block scalars (|, |-, |+), quoted or plain scalars. */
function parseYamlList(text: string, source: string): string[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (/^\s*(#.*)?$/.test(line) || /^---\s*$/.test(line) || /^\.\.\.\s*$/.test(line)) {
      i++;
      continue;
    }
    const m = /^- ?(.*)$/.exec(line);
    if (!m) throw new UserError(`${source}:${i + 1}: expected a list item "- ..." (a YAML list of story beginnings), got ${JSON.stringify(line.slice(0, 40))}`);
    const head = m[1]!.trim();
    i++;
    const block = /^([|>])([+-]?)\s*(#.*)?$/.exec(head);
    if (block) {
      const body: string[] = [];
      let indent = -1;
      while (i < lines.length) {
        const l = lines[i]!;
        if (l.trim() === '') {
          body.push('');
          i++;
          continue;
        }
        const ind = l.length - l.trimStart().length;
        if (indent < 0) indent = ind;
        if (ind < indent || indent === 0) break;
        body.push(l.slice(indent));
        i++;
      }
      // trailing blank lines belong to the chomping rule, not the text
      let end = body.length;
      while (end > 0 && body[end - 1] === '') end--;
      const kept = body.slice(0, end);
      let value = block[1] === '>' ? foldLines(kept) : kept.join('\n');
      if (block[2] === '+') value += '\n'.repeat(body.length - end + 1);
      else if (block[2] === '') value += '\n';
      out.push(value);
      continue;
    }
    if (head.startsWith('"')) {
      try {
        out.push(JSON.parse(head) as string);
      } catch {
        throw new UserError(`${source}:${i}: a double-quoted item must be closed on its line`);
      }
      continue;
    }
    if (head.startsWith("'")) {
      if (!head.endsWith("'") || head.length < 2) throw new UserError(`${source}:${i}: a single-quoted item must be closed on its line`);
      out.push(head.slice(1, -1).replace(/''/g, "'"));
      continue;
    }
    out.push(head);
  }
  return out;
}

function foldLines(lines: string[]): string {
  let s = '';
  for (let k = 0; k < lines.length; k++) {
    const l = lines[k]!;
    if (k === 0) s = l;
    else if (l === '') s += '\n';
    else s += (s.endsWith('\n') || s === '' ? '' : ' ') + l;
  }
  return s;
}
