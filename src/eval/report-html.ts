// The HTML views of the evaluation reports (GPT-Eval, Instruct eval, automatic metrics), built from report.json's
// objects with the shared helpers in src/report.
import { details, detailsHtml, escapeHtml, keyValues, page, section, table, type Cell } from '../report/html.ts';
import { barChart, figure, histogram, lineChart, type LineSeries } from '../report/svg.ts';
import type { EmergencePoint } from './aggregate.ts';
import { AGE_GROUPS, AGE_LABELS, DIMENSIONS, type Dimension } from './grades.ts';
import type { GptEvalReport } from './gpt-eval.ts';
import type { InstructEvalReport } from './instruct.ts';
import type { MemorizationSummary, MetricsModelReport, MetricsReport } from './metrics.ts';

function ci(lo: number, hi: number): string {
  return Number.isFinite(lo) ? `[${lo.toFixed(2)}, ${hi.toFixed(2)}]` : '–';
}

function emergenceChart(series: Record<Dimension | 'overall', EmergencePoint[]>, xLabel: string, logX: boolean, title: string): string {
  const lines: LineSeries[] = [...DIMENSIONS, 'overall'].map((d) => ({
    name: d,
    points: series[d as Dimension | 'overall'].map((p) => ({ x: p.x, y: p.mean, lo: p.lo, hi: p.hi, label: p.model })),
  }));
  return lineChart({ series: lines, xLabel, yLabel: 'score (0-10)', logX, title, width: 620 });
}

/** report.html of `eval gpt` (and of `eval compare`, which passes the comparability issues it found). */
export function gptReportHtml(r: GptEvalReport, issues: string[] = []): string {
  const parts: string[] = [];
  if (issues.length) {
    parts.push(section('Not measured the same way', `<ul class="warn">${issues.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`, 'These reports differ in settings that change the scores; compare them with care.'));
  }
  const scoreRows: Cell[][] = r.models.map((m) => [
    m.id,
    m.params,
    m.step,
    ...DIMENSIONS.flatMap((d) => [{ value: m.results.scores[d].mean, digits: 2 }, ci(...m.results.scores[d].ci95)]),
    { value: m.results.overall.mean, digits: 2 },
    `${m.results.graded}/${m.results.total}`,
    m.results.unparseable,
    m.results.failed,
  ]);
  parts.push(
    section(
      'Scores (side by side)',
      table(['model', 'params', 'step', ...DIMENSIONS.flatMap((d) => [d, '95% CI']), 'overall', 'graded', 'unparseable', 'failed'], scoreRows) +
        figure(
          barChart({
            categories: [...DIMENSIONS, 'overall'],
            series: r.models.map((m) => ({
              name: m.id,
              values: [...DIMENSIONS.map((d) => m.results.scores[d].mean), m.results.overall.mean],
              lo: [...DIMENSIONS.map((d) => m.results.scores[d].ci95[0]), m.results.overall.ci95[0]],
              hi: [...DIMENSIONS.map((d) => m.results.scores[d].ci95[1]), m.results.overall.ci95[1]],
            })),
            yMin: 0,
            yMax: 10,
            yLabel: 'mean score',
            title: 'GPT-Eval scores with 95% CI',
            width: 640,
          }),
          `Mean judge score per dimension; error bars: ${r.ci}.`,
        ),
      'Unparseable answers (after retries) and failed judge calls are counted, never dropped; means are over graded completions.',
    ),
  );
  const ageRows: Cell[][] = r.models.map((m) => [m.id, ...AGE_GROUPS.map((a) => m.results.ages[a]), m.results.ages.unknown]);
  parts.push(
    section(
      'Age group guessed by the judge',
      table(['model', ...AGE_GROUPS.map((a) => `${a} (${AGE_LABELS[a]})`), 'none given'], ageRows) +
        figure(
          histogram({ labels: AGE_GROUPS.map((a) => `${a} ${AGE_LABELS[a]}`), series: r.models.map((m) => ({ name: m.id, counts: AGE_GROUPS.map((a) => m.results.ages[a]) })), normalize: true, title: 'age groups', width: 620 }),
          'Share of graded completions per age group.',
        ),
    ),
  );
  if (r.emergence.byParams.overall.length > 1) {
    parts.push(section('Emergence: score vs model size', figure(emergenceChart(r.emergence.byParams, 'parameters', true, 'score vs parameters'), 'Mean score per dimension against parameter count (error bars: 95% CI).')));
  }
  for (const s of r.emergence.bySteps) {
    parts.push(section(`Emergence: score vs training step (${s.run})`, figure(emergenceChart(s.series, 'training step', false, 'score vs step'), 'Mean score of each checkpoint (error bars: 95% CI).')));
  }
  // side by side per beginning: the mean of the dimension means of each model
  if (r.models.length > 1 && r.beginnings.texts?.length) {
    const rows: Cell[][] = r.beginnings.texts.map((text, i) => [
      i + 1,
      text.length > 70 ? text.slice(0, 70) + '…' : text,
      ...r.models.map((m): Cell => {
        const b = m.results.perBeginning.find((x) => x.beginning === i);
        const vals = b ? DIMENSIONS.map((d) => b[d]).filter((v): v is number => v !== null) : [];
        return { value: vals.length ? vals.reduce((a, c) => a + c, 0) / vals.length : null, digits: 2 };
      }),
    ]);
    parts.push(detailsHtml('Per beginning, side by side (mean of the four scores)', table(['#', 'beginning', ...r.models.map((m) => m.id)], rows)));
  }
  for (const m of r.models) {
    if (!m.examples?.length) continue;
    const rows: Cell[][] = m.examples.map((e) => [
      e.beginning + 1,
      { html: `<div style="max-width:520px"><span style="color:#5b6478">${escapeHtml(r.beginnings.texts?.[e.beginning] ?? '')}</span><b>***</b>${escapeHtml(e.completion)}</div>` },
      e.answer,
    ]);
    parts.push(detailsHtml(`Example completions and grades: ${m.id}`, table(['#', 'beginning***completion', 'judge answer'], rows)));
  }
  const costRows: Cell[][] = r.models.map((m) => [m.id, m.completions, m.meanCompletionTokens, m.cutAtMaxTokens, m.judgeCalls, m.judgeCachedCalls, m.judgeUsage.inputTokens, m.judgeUsage.outputTokens, m.judgeCostUsd === null ? 'unpriced' : `$${m.judgeCostUsd.toFixed(4)}`]);
  parts.push(section('Completions and judge calls', table(['model', 'completions', 'mean tokens', 'cut at max', 'judge calls', 'cached', 'input tok', 'output tok', 'cost'], costRows, { digits: 1 })));
  for (const m of r.models) {
    const rows: Cell[][] = m.results.perBeginning.map((b) => [b.beginning + 1, b.n, ...DIMENSIONS.map((d): Cell => ({ value: b[d], digits: 2 }))]);
    parts.push(detailsHtml(`Per-beginning means: ${m.id}`, table(['#', 'n', ...DIMENSIONS], rows)));
  }
  parts.push(
    section(
      'Configuration',
      keyValues([
        ['judge', `${r.judge.provider} ${r.judge.model}${r.judge.baseURL ? ' @ ' + r.judge.baseURL : ''}`],
        ['judge reported', r.judge.reportedModels.join(', ')],
        ['judge temperature / JSON mode', `${r.judge.temperature} / ${r.judge.json}`],
        ['beginnings', `${r.beginnings.count} from ${r.beginnings.source}`],
        ['completions per beginning', r.config.sampling.completions],
        ['sampling', `temperature ${r.config.sampling.temperature}, top-k ${r.config.sampling.topK}, top-p ${r.config.sampling.topP}, max tokens ${r.config.sampling.maxTokens}, seed ${r.config.sampling.seed}`],
        ['CI', r.ci],
        ['backend', r.backend],
        ['cache', `${r.cache.path} (${r.cache.hits} hits, ${r.cache.misses} misses)`],
        ['created', r.created],
        ...r.models.map((m): [string, string] => [`model ${m.id}`, `${m.path} sha256:${m.weightsSha256} ${m.arch} ${m.params} params`]),
      ]) +
        details('Judge turn 1 (paper wording)', r.judge.turn1) +
        details('Judge turn 2 (paper wording)', r.judge.turn2),
    ),
  );
  return page('GPT-Eval report', parts.join('\n'), { subtitle: `${r.models.length} model(s), judge ${r.judge.model}, ${r.beginnings.count} beginnings × ${r.config.sampling.completions} completions` });
}

/** report.html of `eval instruct`. */
export function instructReportHtml(r: InstructEvalReport): string {
  const dims = r.dimensions;
  const rows: Cell[][] = r.models.map((m) => [m.id, m.params, ...dims.flatMap((d): Cell[] => [{ value: m.scores[d]?.mean ?? null, digits: 2 }, m.scores[d] ? ci(...m.scores[d]!.ci95) : '–']), m.requiredWords.allPresent, m.requiredWords.wordShare, `${m.graded}/${m.total}`, m.unparseable, m.failed]);
  const body =
    section(
      'Instruction following',
      table(['model', 'params', ...dims.flatMap((d) => [d, '95% CI']), 'all words used', 'words used', 'graded', 'unparseable', 'failed'], rows) +
        figure(
          barChart({
            categories: [...dims],
            series: r.models.map((m) => ({ name: m.id, values: dims.map((d) => m.scores[d]?.mean ?? null), lo: dims.map((d) => m.scores[d]?.ci95[0] ?? null), hi: dims.map((d) => m.scores[d]?.ci95[1] ?? null) })),
            yMin: 0,
            yMax: 10,
            title: 'instruction-following scores',
            width: 620,
          }),
          `Judge rubric scores (error bars: ${r.ci}). "all words used": share of stories containing every required word (inflections allowed), checked automatically.`,
        ),
    ) +
    section('Configuration', keyValues([
      ['judge', `${r.judge.provider} ${r.judge.model}`],
      ['prompts', `${r.prompts.count} from ${r.prompts.source}`],
      ['sampling', JSON.stringify(r.config.sampling)],
      ['backend', r.backend],
      ['created', r.created],
    ]) + details('Judge rubric', r.judge.rubric));
  return page('Instruct evaluation report', body, { subtitle: `${r.models.length} model(s), judge ${r.judge.model}` });
}

/** report.html of `eval metrics`. */
export function metricsReportHtml(r: MetricsReport): string {
  const parts: string[] = [];
  const lm = r.models.map((m) => [m.id, m.params, m.window ? `${m.window.used} (${m.window.source === 'flag' ? '--window' : m.window.source === 'trained' ? 'trained' : 'max'})` : m.lm.window, m.lm.tokens, m.lm.loss, m.lm.bitsPerByte ?? null, m.lm.perplexity, m.lm.rank.mean, m.lm.rank.median, m.lm.rank.top1, m.lm.rank.top5, { value: m.lm.tokensPerSecond, digits: 0 }] as Cell[]);
  parts.push(
    section(
      'Validation loss and guess-rank',
      table(['model', 'params', 'window', 'tokens', 'loss (nats/token)', 'bits/byte', 'perplexity', 'mean rank', 'median rank', 'rank 1', 'rank ≤ 5', 'tokens/s'], lm, { digits: 3 }) +
        figure(
          histogram({ labels: r.models[0]?.lm.rank.histogram.labels ?? [], series: r.models.map((m) => ({ name: m.id, counts: m.lm.rank.histogram.counts })), normalize: true, title: 'guess-rank histogram', yLabel: 'share of tokens', width: 680 }),
          'Rank of the true next token among the model\'s predictions (1 = top guess), bucketed by powers of two.',
        ),
      `Held-out source: ${r.data.source} (${r.data.documents} stories). Bits/byte = total nats ÷ (ln 2 × UTF-8 bytes of the scored story text): it compares across tokenizers. Window: tokens of context per scored window (default: the context the model was trained at). Guess-rank = 1 + tokens with a higher logit than the true one.${r.models.filter((m) => m.window?.warning).map((m) => ` Warning (${m.id}): ${m.window.warning}.`).join('')}`,
    ),
  );
  const byRun = new Map<string, Array<{ x: number; y: number; label: string }>>();
  for (const m of r.models) {
    if (m.step === null) continue;
    const run = m.id.split('@')[0]!;
    byRun.set(run, [...(byRun.get(run) ?? []), { x: m.step, y: m.lm.loss, label: m.id }]);
  }
  const stepSeries = [...byRun.entries()].filter(([, pts]) => pts.length > 1).map(([name, points]) => ({ name, points }));
  if (stepSeries.length) parts.push(section('Validation loss vs training step', figure(lineChart({ series: stepSeries, xLabel: 'training step', yLabel: 'loss (nats/token)', title: 'loss vs step', width: 620 }), 'Held-out loss of each checkpoint.')));
  // one point per run: its last entry (the latest weights)
  const latest = new Map<string, MetricsModelReport>();
  for (const m of r.models) latest.set(m.id.split('@')[0]!, m);
  if (new Set([...latest.values()].map((m) => m.params)).size > 1) {
    parts.push(section('Validation loss vs model size', figure(lineChart({ series: [{ name: 'loss', points: [...latest.values()].map((m) => ({ x: m.params, y: m.lm.loss, label: m.id })) }], xLabel: 'parameters', yLabel: 'loss (nats/token)', logX: true, title: 'loss vs parameters', width: 620 }), 'Held-out loss of each run (its latest weights) against parameter count.')));
  }
  const gen = r.models.filter((m) => m.generation).map((m) => [m.id, m.generation!.completions, m.generation!.distinct[1], m.generation!.distinct[2], m.generation!.distinct[3], m.generation!.vocab.oovShare] as Cell[]);
  if (r.reference) gen.push(['reference (held-out stories)', r.reference.texts, r.reference.distinct[1], r.reference.distinct[2], r.reference.distinct[3], r.reference.vocab.oovShare]);
  if (gen.length) {
    parts.push(section('Diversity and vocabulary', table(['texts', 'n', 'distinct-1', 'distinct-2', 'distinct-3', 'OOV share'], gen, { digits: 3 }), 'OOV share: words outside the child vocabulary (word lists + inflections + function words; names excluded).'));
    for (const m of r.models) {
      if (!m.generation) continue;
      parts.push(details(`Most frequent out-of-vocabulary words: ${m.id}`, m.generation.vocab.topOov.map((o) => `${o.word} ${o.count}`).join('\n')));
    }
  }
  const mem: Array<{ id: string; x: MemorizationSummary }> = r.models.filter((m) => m.memorization).map((m) => ({ id: m.id, x: m.memorization! }));
  if (r.reference?.memorization) mem.push({ id: 'reference (held-out stories)', x: r.reference.memorization });
  if (mem.length) {
    const rows = mem.map(({ id, x }) => [id, x.completions, x.rouge[2].mean, x.rouge[3].mean, x.rouge[4].mean, x.rouge[4].p95, x.rouge[4].max, x.over05] as Cell[]);
    parts.push(
      section(
        'Memorization (Rouge-k precision against the closest training story)',
        table(['texts', 'n', 'Rouge-2 mean', 'Rouge-3 mean', 'Rouge-4 mean', 'Rouge-4 p95', 'Rouge-4 max', 'share Rouge-4 > 0.5'], rows, { digits: 3 }) +
          figure(
            histogram({ labels: mem[0]!.x.histogram.labels, series: mem.map(({ id, x }) => ({ name: id, counts: x.histogram.counts[4] })), normalize: true, title: 'Rouge-4 precision', yLabel: 'share of texts', width: 640 }),
            'Distribution of Rouge-4 precision of each completion against its closest training story (the reference: held-out stories after their first sentence).',
          ) +
          mem.filter((m) => m.id !== 'reference (held-out stories)').map(({ id, x }) => worstCases(id, x.worst)).join(''),
        `Index: ${r.memorizationIndex ? `${r.memorizationIndex.docs} training stories, ${r.memorizationIndex.n}-grams sampled 1/${r.memorizationIndex.sample}, ${(r.memorizationIndex.bytes / 1e6).toFixed(1)} MB, ${r.memorizationIndex.cached ? 'loaded from cache' : `built in ${r.memorizationIndex.buildSeconds.toFixed(1)} s`}` : '–'}. Rouge is computed on the completion only (not the prompt).`,
      ),
    );
  }
  parts.push(section('Configuration', keyValues([
    ['held-out data', r.data.source],
    ['training data (memorization)', r.config.train ?? '–'],
    ['window / batch', `${r.config.window ?? 'model max'} / ${r.config.batch}`],
    ['generation', r.config.generate ? JSON.stringify(r.config.sampling) : 'off'],
    ['seed', r.config.sampling.seed],
    ['backend', r.backend],
    ['created', r.created],
    ...r.models.map((m): [string, string] => [`model ${m.id}`, `${m.path} sha256:${m.weightsSha256}`]),
  ])));
  return page('Automatic metrics report', parts.join('\n'), { subtitle: `${r.models.length} model(s) on ${r.data.source}` });
}

function worstCases(id: string, worst: Array<{ completion: string; story: string; rouge4: number; rouge3: number; rouge2: number }>): string {
  if (!worst.length) return '';
  const rows: Cell[][] = worst.map((w) => [w.rouge4, w.rouge3, w.rouge2, { html: `<div style="max-width:380px">${escapeHtml(w.completion.slice(0, 600))}</div>` }, { html: `<div style="max-width:380px">${escapeHtml(w.story.slice(0, 600))}</div>` }]);
  return `<h3>Most memorized completions: ${escapeHtml(id)}</h3>` + table(['Rouge-4', 'Rouge-3', 'Rouge-2', 'completion', 'closest training story'], rows, { digits: 3 });
}
