// Reads the judge's grades out of free text ("Grammar: 8/10, Creativity: 7/10, ... Age group: E (10-12)" and its
// variants) or out of a JSON answer (structured-output mode). Unreadable answers return the reason, never a guess.

/** The four scored dimensions of GPT-Eval, 0-10 each. */
export const DIMENSIONS = ['grammar', 'creativity', 'consistency', 'plot'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** The paper's age groups. */
export const AGE_GROUPS = ['A', 'B', 'C', 'D', 'E', 'F'] as const;
export type AgeGroup = (typeof AGE_GROUPS)[number];
export const AGE_LABELS: Record<AgeGroup, string> = { A: '3 or under', B: '4-5', C: '6-7', D: '8-9', E: '10-12', F: '13-16' };

/** Grades of one completion. Grammar, creativity and consistency are required; plot and age may be missing (null). */
export interface Grades {
  grammar: number;
  creativity: number;
  consistency: number;
  plot: number | null;
  age: AgeGroup | null;
}

export type ParseResult = { ok: true; grades: Grades } | { ok: false; reason: string };

const LABELS: Record<Dimension, RegExp> = {
  grammar: /\bgramm?ar\b|\bgramm?atical(?:ity| correctness)?\b/i,
  creativity: /\bcreativ(?:ity|e(?:ness)?)\b/i,
  consistency: /\bconsisten(?:cy|t)\b/i,
  plot: /\bplot\b/i,
};
const ANY_LABEL = /\b(?:gramm?ar|gramm?atical\w*|creativ\w*|consisten\w*|plot|age)\b/i;
const SCORE = /(-?\d+(?:\.\d+)?)(?:\s*(?:\/|out of|of)\s*(\d+(?:\.\d+)?))?/i;

/** Finds "<label> ... <number>[/10]" with no other dimension label between the two; returns the score on 0-10. */
function findScore(text: string, dim: Dimension): number | null | 'out_of_range' {
  return findLabeledScore(text, LABELS[dim], ANY_LABEL);
}

/** findScore for any label; `anyLabel` matches every label of the answer (a number after another label is not ours). */
export function findLabeledScore(text: string, labelRe: RegExp, anyLabel: RegExp): number | null | 'out_of_range' {
  const label = new RegExp(labelRe.source, 'gi');
  const ANY_LABEL = anyLabel;
  let m: RegExpExecArray | null;
  while ((m = label.exec(text))) {
    const after = text.slice(m.index + m[0].length, m.index + m[0].length + 80);
    const num = SCORE.exec(after);
    if (!num) continue;
    const between = after.slice(0, num.index);
    // the number must follow its label closely: no digits, no other label, no sentence break in between
    if (/\d/.test(between) || ANY_LABEL.test(between) || /[.!?]\s+[A-Z]|\n\s*\n/.test(between)) continue;
    let v = Number(num[1]);
    const denom = num[2] !== undefined ? Number(num[2]) : 10;
    if (!(denom > 0)) continue;
    if (denom !== 10) v = (v / denom) * 10;
    if (!(v >= 0 && v <= 10)) return 'out_of_range';
    return Math.round(v * 100) / 100;
  }
  return null;
}

const RANGE_TO_AGE: Array<[RegExp, AgeGroup]> = [
  [/\b3 or under\b|\bunder 4\b/, 'A'],
  [/\b4\s*[-–to]+\s*5\b/, 'B'],
  [/\b6\s*[-–to]+\s*7\b/, 'C'],
  [/\b8\s*[-–to]+\s*9\b/, 'D'],
  [/\b10\s*[-–to]+\s*12\b/, 'E'],
  [/\b13\s*[-–to]+\s*16\b/, 'F'],
];

/** The age group after an "Age" label: a letter A-F, or an age range of the paper's list. */
function findAge(text: string): AgeGroup | null {
  const label = /\bage(?:\s*group)?s?\b/gi;
  let m: RegExpExecArray | null;
  while ((m = label.exec(text))) {
    const after = text.slice(m.index + m[0].length, m.index + m[0].length + 60);
    const letter = /^[^A-Za-z\n]{0,6}(?:(?:would be|is|of|likely|probably|group|:|\*)\s*)*\**\(?([A-F])\b(?![''’]\w)/.exec(after);
    if (letter) return letter[1] as AgeGroup;
    const line = after.split('\n')[0]!;
    for (const [re, g] of RANGE_TO_AGE) if (re.test(line)) return g;
  }
  return null;
}

/** Strips markdown emphasis and table pipes so "**Grammar**: 8/10" and "| Grammar | 8/10 |" read like plain text. */
function plain(text: string): string {
  return text.replace(/\*\*|__|`/g, '').replace(/\|/g, ' : ').replace(/[ \t]+/g, ' ');
}

/**
 * Parses the grades of a free-text answer.
 * @example parseGrades('Grammar: 8/10, Creativity: 7/10, Consistency: 7/10, Age group: E (10-12)')
 * // { ok: true, grades: { grammar: 8, creativity: 7, consistency: 7, plot: null, age: 'E' } }
 */
export function parseGrades(answer: string): ParseResult {
  const trimmed = answer.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('```')) {
    const j = parseJsonGrades(trimmed);
    if (j.ok) return j;
  }
  const text = plain(answer);
  const out: Partial<Record<Dimension, number | null>> = {};
  for (const d of DIMENSIONS) {
    const s = findScore(text, d);
    if (s === 'out_of_range') return { ok: false, reason: `${d} score outside 0-10` };
    out[d] = s;
  }
  const missing = (['grammar', 'creativity', 'consistency'] as const).filter((d) => out[d] === null || out[d] === undefined);
  if (missing.length) return { ok: false, reason: `no ${missing.join('/')} score` };
  return { ok: true, grades: { grammar: out.grammar!, creativity: out.creativity!, consistency: out.consistency!, plot: out.plot ?? null, age: findAge(text) } };
}

function numberField(v: unknown): number | null | 'bad' {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return v >= 0 && v <= 10 ? v : 'bad';
  if (typeof v === 'string') {
    const m = SCORE.exec(v);
    if (!m) return 'bad';
    let x = Number(m[1]);
    if (m[2] !== undefined) x = (x / Number(m[2])) * 10;
    return x >= 0 && x <= 10 ? x : 'bad';
  }
  if (typeof v === 'object' && v && 'score' in v) return numberField((v as { score: unknown }).score);
  return 'bad';
}

/** Parses the JSON form: {"grammar": 8, "creativity": 7, "consistency": 7, "plot": 6, "age_group": "E"} (keys case-insensitive; a ```json fence allowed). */
export function parseJsonGrades(answer: string): ParseResult {
  const body = answer.trim().replace(/^```(?:json)?\s*/i, '').replace(/\s*```\s*$/, '');
  const start = body.indexOf('{');
  const end = body.lastIndexOf('}');
  if (start < 0 || end <= start) return { ok: false, reason: 'no JSON object' };
  let obj: unknown;
  try {
    obj = JSON.parse(body.slice(start, end + 1));
  } catch (e) {
    return { ok: false, reason: `invalid JSON (${(e as Error).message})` };
  }
  if (!obj || typeof obj !== 'object') return { ok: false, reason: 'JSON is not an object' };
  const flat: Record<string, unknown> = {};
  const walk = (o: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(o)) {
      if (v && typeof v === 'object' && !Array.isArray(v) && !('score' in v)) walk(v as Record<string, unknown>);
      else flat[k.toLowerCase().replace(/[^a-z]/g, '')] = v;
    }
  };
  walk(obj as Record<string, unknown>);
  const pick = (...keys: string[]) => keys.map((k) => flat[k]).find((v) => v !== undefined);
  const g = numberField(pick('grammar'));
  const c = numberField(pick('creativity'));
  const s = numberField(pick('consistency'));
  const p = numberField(pick('plot', 'plotsense', 'plotmakessense'));
  for (const [name, v] of [['grammar', g], ['creativity', c], ['consistency', s], ['plot', p]] as const) {
    if (v === 'bad') return { ok: false, reason: `${name}: not a score in 0-10` };
  }
  if (g === null || c === null || s === null) return { ok: false, reason: 'JSON lacks grammar/creativity/consistency' };
  const ageRaw = pick('agegroup', 'age');
  let age: AgeGroup | null = null;
  if (typeof ageRaw === 'string') {
    const m = /\b([A-F])\b/.exec(ageRaw);
    if (m) age = m[1] as AgeGroup;
    else for (const [re, grp] of RANGE_TO_AGE) if (re.test(ageRaw)) age = grp;
  }
  return { ok: true, grades: { grammar: g as number, creativity: c as number, consistency: s as number, plot: (p as number | null) ?? null, age } };
}

/**
 * Reads "<Label>: x/10" scores for arbitrary labels (the Instruct rubric). Returns null for a label without a score;
 * 'out_of_range' entries become an error.
 * @example parseLabeledScores('Words: 9/10, Overall: 7/10', { words: /\bwords\b/i, overall: /\boverall\b/i })
 */
export function parseLabeledScores<K extends string>(answer: string, labels: Record<K, RegExp>): { ok: true; scores: Record<K, number | null> } | { ok: false; reason: string } {
  const text = plain(answer);
  const any = new RegExp(Object.values<RegExp>(labels).map((r) => `(?:${r.source})`).join('|'), 'i');
  const scores = {} as Record<K, number | null>;
  for (const k of Object.keys(labels) as K[]) {
    const v = findLabeledScore(text, labels[k], any);
    if (v === 'out_of_range') return { ok: false, reason: `${k} score outside 0-10` };
    scores[k] = v;
  }
  return { ok: true, scores };
}
