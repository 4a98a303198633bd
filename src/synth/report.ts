// The run report: counts, filter rejections, tokens, cost, and feature/word coverage, built from the journal.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { FEATURES } from './features.ts';
import { REJECT_REASONS } from './filters.ts';
import { Journal } from '../llm/journal.ts';
import type { RunReport } from './report-types.ts';

export type { RunReport };

/** Builds the report of the run journaled in `journal`. */
export function buildReport(journal: Journal): RunReport {
  const db = journal.db;
  const all = <T>(sql: string) => db.prepare(sql).all() as T[];
  const one = <T>(sql: string) => db.prepare(sql).get() as T;
  const slotRejections: Record<string, number> = {};
  for (const r of all<{ reason: string; n: number }>("SELECT reason, COUNT(*) AS n FROM slots WHERE state='rejected' GROUP BY reason")) slotRejections[r.reason] = r.n;
  const attempts: Record<string, number> = { accepted: 0 };
  for (const reason of REJECT_REASONS) attempts[reason] = 0;
  for (const r of all<{ outcome: string; n: number }>('SELECT outcome, COUNT(*) AS n FROM attempts GROUP BY outcome')) attempts[r.outcome] = r.n;
  const calls = one<{ n: number; b: number | null; i: number | null; o: number | null; c: number | null; u: number | null }>(
    "SELECT COUNT(*) AS n, SUM(batch) AS b, SUM(input_tokens) AS i, SUM(output_tokens) AS o, SUM(cost) AS c, SUM(cost IS NULL) AS u FROM calls WHERE state='done'",
  );
  const features: Record<string, number> = { none: 0 };
  for (const f of FEATURES) features[f] = 0;
  const verbs = new Set<string>();
  const nouns = new Set<string>();
  const adjs = new Set<string>();
  let accepted = 0;
  for (const rec of journal.acceptedRecords()) {
    accepted++;
    const ins = rec.instruction as { words?: string[]; features?: string[] } | undefined;
    if (!ins) continue;
    if (!ins.features?.length) features.none!++;
    for (const f of ins.features ?? []) features[f] = (features[f] ?? 0) + 1;
    if (ins.words) {
      verbs.add(ins.words[0]!);
      nouns.add(ins.words[1]!);
      adjs.add(ins.words[2]!);
    }
  }
  const sizes = journal.getMeta('word_list_sizes');
  return {
    fingerprint: JSON.parse(journal.getMeta('fingerprint') ?? '{}'),
    target: Number(journal.getMeta('last_target') ?? 0),
    accepted,
    rejectedSlots: Object.values(slotRejections).reduce((a, b) => a + b, 0),
    slotRejections,
    attempts,
    metaStripped: one<{ n: number | null }>('SELECT SUM(stripped) AS n FROM attempts').n ?? 0,
    requests: { done: calls.n, batch: calls.b ?? 0, inputTokens: calls.i ?? 0, outputTokens: calls.o ?? 0, costUSD: calls.c ?? 0, unpriced: calls.u ?? 0 },
    inFlightAtCrash: one<{ n: number }>("SELECT COUNT(*) AS n FROM calls WHERE state='sent'").n,
    features,
    words: { distinctVerbs: verbs.size, distinctNouns: nouns.size, distinctAdjectives: adjs.size, listSizes: sizes ? JSON.parse(sizes) : undefined },
  };
}

/** Writes report.json next to the output. */
export async function writeReport(dir: string, report: RunReport): Promise<void> {
  await writeFileAtomic(join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
}

/** Opens the journal in `dir` and builds its report (works while a run is going on). */
export function reportForDir(dir: string): RunReport {
  const path = join(dir, 'journal.sqlite');
  if (!existsSync(path)) throw new UserError(`${dir}: no journal.sqlite here (not a generate/translate output directory)`);
  const j = new Journal(path);
  try {
    return buildReport(j);
  } finally {
    j.close();
  }
}

/** The report as plain text lines for the terminal. */
export function formatReport(r: RunReport): string {
  const pct = (n: number, d: number) => (d ? ` (${((100 * n) / d).toFixed(1)}%)` : '');
  const lines: string[] = [];
  const fp = r.fingerprint;
  lines.push(`run: ${fp.kind ?? '?'} ${fp.provider ?? ''}/${fp.model ?? ''} lang=${fp.lang ?? '?'} seed=${fp.seed ?? '?'}${fp.instruct ? ' instruct' : ''}`);
  lines.push(`records: ${r.accepted} accepted of ${r.target} wanted; ${r.rejectedSlots} slots given up`);
  const totalAttempts = Object.values(r.attempts).reduce((a, b) => a + b, 0);
  lines.push(`attempts: ${totalAttempts} story responses checked, ${r.attempts.accepted ?? 0} accepted${pct(r.attempts.accepted ?? 0, totalAttempts)}`);
  lines.push('filters (attempts removed):');
  for (const [k, v] of Object.entries(r.attempts)) if (k !== 'accepted') lines.push(`  ${k.padEnd(16)} ${String(v).padStart(8)}${pct(v, totalAttempts)}`);
  lines.push(`  ${'meta-text strip'.padEnd(16)} ${String(r.metaStripped).padStart(8)} (cleaned, not removed)`);
  const q = r.requests;
  lines.push(`requests: ${q.done} paid (${q.batch} in batches), ${q.inputTokens} input + ${q.outputTokens} output tokens, $${q.costUSD.toFixed(4)}${q.unpriced ? `, ${q.unpriced} unpriced (model not in the price table)` : ''}`);
  if (r.inFlightAtCrash) lines.push(`in flight at a crash: ${r.inFlightAtCrash} (may have been paid without a record)`);
  lines.push(`features: ${Object.entries(r.features).map(([k, v]) => `${k} ${v}${pct(v, r.accepted)}`).join(', ')}`);
  const ls = r.words.listSizes;
  const cov = (n: number, size?: number) => (size ? `${n}/${size}` : `${n}`);
  lines.push(`word coverage: verbs ${cov(r.words.distinctVerbs, ls?.verbs)}, nouns ${cov(r.words.distinctNouns, ls?.nouns)}, adjectives ${cov(r.words.distinctAdjectives, ls?.adjectives)}`);
  return lines.join('\n');
}
