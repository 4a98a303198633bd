// Turns judged completions into per-model figures: mean, 95% t-interval and bootstrap interval per dimension,
// the age-group histogram, counts of what could not be graded, and the emergence series (score vs size, vs step).
import { AGE_GROUPS, type AgeGroup, DIMENSIONS, type Dimension, type Grades } from './grades.ts';
import { bootstrapCi, summarize, type Summary } from './stats.ts';

/** What the aggregate needs of one judged completion. */
export interface JudgedItem {
  beginning: number;
  status: 'graded' | 'unparseable' | 'failed';
  grades: Grades | null;
}

/** A dimension's figures: Summary (with the t-interval) plus the seeded bootstrap interval. */
export interface ScoreSummary extends Summary {
  bootstrap95: [number, number];
}

export interface ModelScores {
  /** Completions judged (graded + unparseable + failed): none is dropped silently. */
  total: number;
  graded: number;
  unparseable: number;
  failed: number;
  scores: Record<Dimension, ScoreSummary>;
  /** Mean of the four dimensions per completion (plot missing → mean of the other three). */
  overall: ScoreSummary;
  /** Graded completions per age group, plus 'unknown' when the judge gave none. */
  ages: Record<AgeGroup | 'unknown', number>;
  /** Mean of each dimension per beginning index (graded completions only). */
  perBeginning: Array<{ beginning: number; n: number } & Record<Dimension, number | null>>;
}

/** How the intervals are computed; written into report.json. */
export const CI_METHOD =
  '95% Student-t interval for the mean over graded completions (mean ± t(0.975, n-1)·sd/√n); also a percentile bootstrap interval (2000 resamples, seeded)';

function withBootstrap(xs: number[], seed: number): ScoreSummary {
  return { ...summarize(xs), bootstrap95: bootstrapCi(xs, { seed, resamples: 2000 }) };
}

/**
 * Aggregates one model's judged completions.
 * @example aggregateScores([{ beginning: 0, status: 'graded', grades: { grammar: 8, creativity: 6, consistency: 7, plot: 7, age: 'C' } }])
 */
export function aggregateScores(items: JudgedItem[], seed = 1): ModelScores {
  const byDim: Record<Dimension, number[]> = { grammar: [], creativity: [], consistency: [], plot: [] };
  const overall: number[] = [];
  const ages = Object.fromEntries([...AGE_GROUPS, 'unknown'].map((a) => [a, 0])) as Record<AgeGroup | 'unknown', number>;
  const perB = new Map<number, { n: number; sums: Record<Dimension, number>; counts: Record<Dimension, number> }>();
  let graded = 0;
  let unparseable = 0;
  let failed = 0;
  for (const it of items) {
    if (it.status === 'unparseable') unparseable++;
    if (it.status === 'failed') failed++;
    if (it.status !== 'graded' || !it.grades) continue;
    graded++;
    const g = it.grades;
    let e = perB.get(it.beginning);
    if (!e) {
      e = { n: 0, sums: { grammar: 0, creativity: 0, consistency: 0, plot: 0 }, counts: { grammar: 0, creativity: 0, consistency: 0, plot: 0 } };
      perB.set(it.beginning, e);
    }
    e.n++;
    let s = 0;
    let c = 0;
    for (const d of DIMENSIONS) {
      const v = g[d];
      if (v === null) continue;
      byDim[d].push(v);
      e.sums[d] += v;
      e.counts[d]++;
      s += v;
      c++;
    }
    overall.push(s / c);
    ages[g.age ?? 'unknown']++;
  }
  const scores = Object.fromEntries(DIMENSIONS.map((d, i) => [d, withBootstrap(byDim[d], seed + i)])) as Record<Dimension, ScoreSummary>;
  const perBeginning = [...perB.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([beginning, e]) => ({
      beginning,
      n: e.n,
      ...(Object.fromEntries(DIMENSIONS.map((d) => [d, e.counts[d] ? e.sums[d] / e.counts[d] : null])) as Record<Dimension, number | null>),
    }));
  return { total: items.length, graded, unparseable, failed, scores, overall: withBootstrap(overall, seed + 10), ages, perBeginning };
}

/** One point of an emergence curve. */
export interface EmergencePoint {
  model: string;
  x: number;
  mean: number;
  lo: number;
  hi: number;
}

/** Score vs x (parameters, or training step) for each dimension and the overall mean. */
export function emergenceSeries(models: Array<{ id: string; x: number | null; scores: ModelScores }>): Record<Dimension | 'overall', EmergencePoint[]> {
  const out = {} as Record<Dimension | 'overall', EmergencePoint[]>;
  for (const d of [...DIMENSIONS, 'overall'] as const) {
    out[d] = models
      .filter((m) => m.x !== null && (d === 'overall' ? m.scores.overall.n : m.scores.scores[d].n) > 0)
      .map((m) => {
        const s = d === 'overall' ? m.scores.overall : m.scores.scores[d];
        return { model: m.id, x: m.x!, mean: s.mean, lo: s.ci95[0], hi: s.ci95[1] };
      })
      .sort((a, b) => a.x - b.x);
  }
  return out;
}
