// Scoring sampled solutions by execution: each completion is cut to the function body, run in the sandbox and
// compared with the gold answer (numeric tolerance); per-problem outcomes give pass@1 (greedy), pass@k, majority
// vote over k, and verify@k (the sample the verifier scores highest).
import type { ExecResult, SandboxPool } from '../sandbox/pool.ts';
import { answersMatch } from '../sandbox/normalize.ts';
import { programFromCompletion } from './tinygsm.ts';

/** One scored sample. */
export interface ScoredSample {
  completion: string;
  /** The executed program (header + docstring + cut completion). */
  program: string;
  /** The normalized answer, or null on failure. */
  answer: number | null;
  failure?: string;
  message?: string;
  correct: boolean;
  /** Verifier score (sigmoid of the last token's score), when a verifier was used. */
  verifierScore?: number;
}

/** One problem's outcome. */
export interface ProblemOutcome {
  index: number;
  question: string;
  gold: number;
  greedy?: ScoredSample;
  samples: ScoredSample[];
  /** The majority answer over `samples` (executed ones), or null when none executed. */
  majority: number | null;
  majorityCorrect: boolean;
  /** Index into `samples` of the verifier's pick. */
  verifierPick?: number;
  verifierCorrect?: boolean;
}

/** Executes a completion of `functionHeader(question)` and scores it against `gold`. */
export async function scoreCompletion(pool: SandboxPool, question: string, completion: string, gold: number, timeoutMs?: number): Promise<ScoredSample> {
  const program = programFromCompletion(question, completion);
  const r: ExecResult = await pool.run(program, { timeoutMs });
  if (r.ok) return { completion, program, answer: r.value, correct: answersMatch(r.value, gold) };
  return { completion, program, answer: null, failure: r.failure, message: r.message.slice(0, 300), correct: false };
}

/** The most frequent answer (answers equal within tolerance are one vote); ties go to the first seen. */
export function majorityAnswer(answers: Array<number | null>): number | null {
  const votes: Array<{ value: number; n: number }> = [];
  for (const a of answers) {
    if (a === null || !Number.isFinite(a)) continue;
    const v = votes.find((x) => answersMatch(a, x.value));
    if (v) v.n++;
    else votes.push({ value: a, n: 1 });
  }
  let best: { value: number; n: number } | undefined;
  for (const v of votes) if (!best || v.n > best.n) best = v;
  return best ? best.value : null;
}

/** Unbiased pass@k from n samples with c correct (Chen et al. 2021): 1 - C(n-c, k) / C(n, k). */
export function passAtK(n: number, c: number, k: number): number {
  if (k > n) throw new Error(`pass@k: k=${k} > n=${n}`);
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}

/** Fills a problem's majority and verifier fields from its samples. */
export function finishOutcome(o: ProblemOutcome): ProblemOutcome {
  o.majority = majorityAnswer(o.samples.map((s) => s.answer));
  o.majorityCorrect = o.majority !== null && answersMatch(o.majority, o.gold);
  if (o.samples.length && o.samples.every((s) => s.verifierScore !== undefined)) {
    let best = 0;
    o.samples.forEach((s, i) => {
      if (s.verifierScore! > o.samples[best]!.verifierScore!) best = i;
    });
    o.verifierPick = best;
    o.verifierCorrect = o.samples[best]!.correct;
  }
  return o;
}

/** The summary of an evaluation. Rates are fractions of `problems`. */
export interface EvalSummary {
  problems: number;
  /** Greedy (temperature 0) single-sample accuracy; null when no greedy sample was taken. */
  pass1Greedy: number | null;
  /** Samples per problem (k). */
  k: number;
  /** Unbiased pass@1 over the k samples, and pass@k. */
  pass1Sampled: number | null;
  passAtK: number | null;
  majorityAtK: number | null;
  verifyAtK: number | null;
  /** Failure counts over every executed sample (greedy and sampled). */
  failures: Record<string, number>;
  samplesExecuted: number;
}

/** Aggregates outcomes into the report's figures. */
export function summarize(outcomes: ProblemOutcome[]): EvalSummary {
  const n = outcomes.length;
  const withGreedy = outcomes.filter((o) => o.greedy);
  const k = outcomes.reduce((m, o) => Math.max(m, o.samples.length), 0);
  const failures: Record<string, number> = {};
  let executed = 0;
  for (const o of outcomes) {
    for (const s of [...(o.greedy ? [o.greedy] : []), ...o.samples]) {
      executed++;
      if (s.failure) failures[s.failure] = (failures[s.failure] ?? 0) + 1;
      else if (!s.correct) failures.wrong_answer = (failures.wrong_answer ?? 0) + 1;
    }
  }
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const sampled = outcomes.filter((o) => o.samples.length > 0);
  const verified = outcomes.filter((o) => o.verifierCorrect !== undefined);
  return {
    problems: n,
    pass1Greedy: withGreedy.length ? withGreedy.filter((o) => o.greedy!.correct).length / withGreedy.length : null,
    k,
    pass1Sampled: mean(sampled.map((o) => passAtK(o.samples.length, o.samples.filter((s) => s.correct).length, 1))),
    passAtK: mean(sampled.map((o) => passAtK(o.samples.length, o.samples.filter((s) => s.correct).length, o.samples.length))),
    majorityAtK: sampled.length ? sampled.filter((o) => o.majorityCorrect).length / sampled.length : null,
    verifyAtK: verified.length ? verified.filter((o) => o.verifierCorrect).length / verified.length : null,
    failures,
    samplesExecuted: executed,
  };
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** A self-contained HTML page: the summary table and the first problems with their greedy program and result. */
export function reportHtml(summary: EvalSummary, outcomes: ProblemOutcome[], meta: Record<string, unknown>, maxProblems = 50): string {
  const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(2)}%`);
  const rows: Array<[string, string]> = [
    ['problems', String(summary.problems)],
    ['pass@1 (greedy)', pct(summary.pass1Greedy)],
    [`pass@1 (sampled, k=${summary.k})`, pct(summary.pass1Sampled)],
    [`pass@${summary.k}`, pct(summary.passAtK)],
    [`majority@${summary.k}`, pct(summary.majorityAtK)],
    [`verify@${summary.k}`, pct(summary.verifyAtK)],
    ['samples executed', String(summary.samplesExecuted)],
    ['failures', Object.entries(summary.failures).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none'],
  ];
  const probs = outcomes.slice(0, maxProblems).map((o) => {
    const s = o.greedy ?? o.samples[0];
    const res = s ? (s.answer !== null ? String(s.answer) : `${s.failure}: ${s.message ?? ''}`) : '';
    return `<details><summary>#${o.index} ${s?.correct ? '✔' : '✘'} gold ${o.gold} → ${esc(res)}</summary><pre>${esc(s?.program ?? o.question)}</pre></details>`;
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>GSM8K evaluation</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:60em}td,th{padding:.2em .8em;text-align:left}pre{background:#f4f4f4;padding:.6em;white-space:pre-wrap}</style></head>
<body><h1>GSM8K evaluation</h1><table>${rows.map(([a, b]) => `<tr><th>${esc(a)}</th><td>${esc(b)}</td></tr>`).join('')}</table>
<h2>Settings</h2><pre>${esc(JSON.stringify(meta, null, 2))}</pre><h2>Problems</h2>${probs.join('\n')}</body></html>
`;
}
