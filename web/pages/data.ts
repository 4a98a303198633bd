// Data: generation runs (counts, filter reasons, cost, feature/word coverage) and dataset statistics.
import { barChart } from '../charts.ts';
import { api, fmt, fmtCount, h, table } from '../util.ts';
import type { DataResponse, DataStatsResponse } from '../../src/server/api-types.ts';

export async function dataPage(root: HTMLElement): Promise<void> {
  root.append(h('h2', {}, 'Data'));
  const d = await api<DataResponse>('/api/data');
  root.append(h('h3', {}, 'Generation runs'));
  if (d.generations.length === 0) root.append(h('p', { class: 'muted' }, 'No generation reports (report.json of `tinystories generate`) under the runs directory.'));
  for (const g of d.generations) {
    if (g.error !== undefined) {
      root.append(h('p', { class: 'error' }, `${g.id}: ${g.error}`));
      continue;
    }
    // the generation report's fields are read defensively (older report.json files lack some)
    const r = g.report;
    const fp = r.fingerprint ?? {};
    root.append(
      h('h3', {}, `${g.id || '.'} — ${fp.provider ?? '?'}/${fp.model ?? '?'} ${fp.lang ?? ''}`),
      table(['accepted', 'target', 'slots given up', 'requests', 'input tokens', 'output tokens', 'cost (USD)', 'meta-text stripped'], [[
        String(r.accepted), String(r.target), String(r.rejectedSlots), String(r.requests?.done ?? '–'), fmtCount(r.requests?.inputTokens), fmtCount(r.requests?.outputTokens), fmt(r.requests?.costUSD, 4), String(r.metaStripped ?? 0),
      ]], [0, 1, 2, 3, 4, 5, 6, 7]),
    );
    const attempts = Object.entries(r.attempts ?? {}) as Array<[string, number]>;
    if (attempts.length) {
      const el = h('div', { class: 'chart', 'data-chart': 'filters' });
      root.append(el);
      barChart(el, 'story attempts: accepted and each filter\'s removals', attempts.map((a) => a[0]), [{ label: 'attempts', values: attempts.map((a) => a[1]) }], { width: 800 });
    }
    const features = Object.entries(r.features ?? {}) as Array<[string, number]>;
    if (features.length) root.append(h('p', {}, 'features: ', ...features.map(([k, v]) => h('span', { class: 'pill' }, `${k} ${v}`))));
    const w = r.words;
    const ls = w?.listSizes ?? {};
    root.append(h('p', {}, `word coverage: verbs ${w?.distinctVerbs ?? '–'}${ls.verbs ? '/' + ls.verbs : ''}, nouns ${w?.distinctNouns ?? '–'}${ls.nouns ? '/' + ls.nouns : ''}, adjectives ${w?.distinctAdjectives ?? '–'}${ls.adjectives ? '/' + ls.adjectives : ''}`));
    const statsBox = h('div', { 'data-role': 'story-stats' });
    const btn = h('button', { 'data-role': 'stats' }, 'Compute story statistics');
    btn.addEventListener('click', async () => {
      statsBox.textContent = 'reading…';
      try {
        const s = (await api<DataStatsResponse>('/api/data/stats', { id: g.id })).stats;
        statsBox.textContent = '';
        statsBox.append(table(['stories', 'words', 'words/story (mean)', 'p10', 'p50', 'p90', 'duplicates removed'], [[fmtCount(s.stories), fmtCount(s.words), fmt(s.storyWords.mean, 1), String(s.storyWords.p10), String(s.storyWords.p50), String(s.storyWords.p90), String(s.hygiene?.duplicatesRemoved ?? '–')]], [0, 1, 2, 3, 4, 5, 6]));
      } catch (e) {
        statsBox.textContent = (e as Error).message;
      }
    });
    root.append(btn, statsBox);
  }
  root.append(h('h3', {}, 'Datasets the runs trained on (token shards)'));
  if (d.datasets.length === 0) root.append(h('p', { class: 'muted' }, 'No run names a readable shard manifest.'));
  else root.append(table(['run', 'source', 'vocab', 'train docs', 'train tokens', 'val docs', 'val tokens', 'complete'], d.datasets.map((s) => [
    s.run, s.source ?? '–', String(s.vocabSize ?? '–'), fmtCount(s.splits.train?.docs), fmtCount(s.splits.train?.tokens), fmtCount(s.splits.val?.docs), fmtCount(s.splits.val?.tokens), s.complete ? 'yes' : 'no',
  ]), [2, 3, 4, 5, 6]));
}
