// Statistics: Student-t quantiles against table values, intervals, and golden aggregates of fixed judge answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapCi, quantile, studentTQuantile, summarize } from '../../src/eval/stats.ts';
import { aggregateScores, emergenceSeries, type JudgedItem } from '../../src/eval/aggregate.ts';
import { parseGrades } from '../../src/eval/grades.ts';

const close = (a: number, b: number, tol = 1e-4, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);

test('t quantiles match the printed table', () => {
  // t(0.975, df) from any statistics table
  for (const [df, t] of [[1, 12.7062], [2, 4.3027], [3, 3.1824], [9, 2.2622], [29, 2.0452], [439, 1.9654], [100000, 1.96]] as const) close(studentTQuantile(0.975, df), t, 1e-3, `df ${df}`);
});

test('summary: mean, sd, t-interval; quantiles; seeded bootstrap is reproducible and brackets the mean', () => {
  const s = summarize([8, 6, 7, 9]);
  close(s.mean, 7.5);
  close(s.sd, Math.sqrt(5 / 3));
  // half width = t(0.975,3) * sd / 2 = 3.182446 * 1.290994 / 2
  close(s.ci95[0], 7.5 - 2.054222, 1e-4);
  close(s.ci95[1], 7.5 + 2.054222, 1e-4);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  const a = bootstrapCi([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { seed: 3 });
  const b = bootstrapCi([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { seed: 3 });
  assert.deepEqual(a, b);
  assert.ok(a[0] < 5.5 && a[1] > 5.5 && a[0] > 3 && a[1] < 8, String(a));
  const one = summarize([4]);
  assert.deepEqual(one.ci95, [4, 4]);
});

test('golden aggregates for a fixed set of judge answers (unparseable and failed counted, not dropped)', () => {
  const answers = [
    [0, 'Grammar: 8/10, Creativity: 6/10, Consistency: 7/10, Plot: 5/10, Age group: C (6-7)'],
    [0, 'Grammar: 6/10, Creativity: 4/10, Consistency: 9/10, Plot: 7/10, Age group: B (4-5)'],
    [1, 'Grammar: 7/10, Creativity: 5/10, Consistency: 8/10, Age group: C (6-7)'],
    [1, 'Grammar: 9/10, Creativity: 9/10, Consistency: 4/10, Plot: 6/10'],
    [1, 'I cannot grade this.'],
  ] as const;
  const items: JudgedItem[] = answers.map(([beginning, text]) => {
    const r = parseGrades(text);
    return { beginning, status: r.ok ? 'graded' : 'unparseable', grades: r.ok ? r.grades : null };
  });
  items.push({ beginning: 2, status: 'failed', grades: null });
  const agg = aggregateScores(items, 1);
  assert.equal(agg.total, 6);
  assert.equal(agg.graded, 4);
  assert.equal(agg.unparseable, 1);
  assert.equal(agg.failed, 1);
  // grammar 8,6,7,9: mean 7.5, t-interval 7.5 ± 2.054222
  close(agg.scores.grammar.mean, 7.5);
  close(agg.scores.grammar.ci95[1], 9.554222);
  // creativity 6,4,5,9: mean 6, sd sqrt(14/3)
  close(agg.scores.creativity.mean, 6);
  close(agg.scores.creativity.sd, Math.sqrt(14 / 3));
  // consistency 7,9,8,4 mean 7; plot only where given: 5,7,6 → mean 6, n 3
  close(agg.scores.consistency.mean, 7);
  assert.equal(agg.scores.plot.n, 3);
  close(agg.scores.plot.mean, 6);
  // t(0.975,2) = 4.302653, sd 1, se 1/sqrt(3)
  close(agg.scores.plot.ci95[0], 6 - 4.302653 / Math.sqrt(3), 1e-4);
  // overall per completion: (8+6+7+5)/4=6.5, (6+4+9+7)/4=6.5, (7+5+8)/3=6.6667, (9+9+4+6)/4=7
  close(agg.overall.mean, (6.5 + 6.5 + 20 / 3 + 7) / 4);
  assert.deepEqual(agg.ages, { A: 0, B: 1, C: 2, D: 0, E: 0, F: 0, unknown: 1 });
  assert.deepEqual(agg.perBeginning.map((b) => [b.beginning, b.n, b.grammar, b.plot]), [[0, 2, 7, 6], [1, 2, 8, 6]]);
  const em = emergenceSeries([
    { id: 'big', x: 8e6, scores: agg },
    { id: 'small', x: 1e6, scores: aggregateScores(items.slice(0, 2)) },
    { id: 'unknown-size', x: null, scores: agg },
  ]);
  assert.deepEqual(em.grammar.map((p) => [p.model, p.x, p.mean]), [['small', 1e6, 7], ['big', 8e6, 7.5]]);
});
