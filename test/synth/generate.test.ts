// generate/translate end to end, in process, against the mock: every filter counted, resume without new requests,
// settings changes refused, Vietnamese, translation keeping ids, and batch mode (incl. a crash mid-batch).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockLlmServer, mockText, quotedWords, type MockFault } from '../helpers/mock-llm-server.ts';
import { OpenAIProvider } from '../../src/llm/openai.ts';
import { AnthropicProvider } from '../../src/llm/anthropic.ts';
import { AnthropicBatchClient, OpenAIBatchClient, type BatchClient } from '../../src/llm/batch.ts';
import { PriceTable } from '../../src/llm/pricing.ts';
import { generate, type GenerateOptions } from '../../src/synth/generate.ts';
import { translate } from '../../src/synth/translate.ts';
import { uniformFeatures } from '../../src/synth/features.ts';
import { TEMPLATES } from '../../src/synth/prompts.ts';
import { loadWordLists, wordListsFor } from '../../src/synth/words.ts';
import { reportForDir } from '../../src/synth/report.ts';
import { languageMatches } from '../../src/synth/filters.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
let script: (c: { requestId?: string; prompt: string }) => MockFault | undefined = () => undefined;
const mock = new MockLlmServer({ batchDelayMs: 20, fault: (c) => script(c) });
before(() => mock.start());
after(() => mock.close());

const tmp = () => mkdtempSync(join(tmpdir(), 'ts-gen-'));
const indexOf = (id = '') => Number(/^ts-s\d+-(\d+)/.exec(id)?.[1] ?? -1);
const read = (dir: string) => readFileSync(join(dir, 'stories.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);

function opts(out: string, over: Partial<GenerateOptions> = {}): GenerateOptions {
  return {
    out, count: 40, provider: new OpenAIProvider({ baseURL: `${mock.url}/v1`, apiKey: 'k' }), providerName: 'openai', model: 'gpt-4o-mini',
    lang: 'en', seed: 3, temperature: 1, maxTokens: 600, instruct: false, lists: loadWordLists(join(fixtures, 'words-en.json')),
    features: uniformFeatures(), template: TEMPLATES.en.data, templateName: 'data', filters: { maxOovShare: 0.3 },
    scheduler: { concurrency: 8, baseDelayMs: 5 }, prices: new PriceTable(), quiet: true, ...over,
  };
}

const FANCY = 'Subsequently, their extraordinary perambulations encompassed magnificent botanical conservatories, labyrinthine promenades and ornamental fountains.';

test('every filter is counted; rejected stories are retried as attempt 1; N records come out', async () => {
  // attempt 0 of slot i gets a defect chosen by i % 10; attempt 1 is a normal story
  script = (c) => {
    const id = c.requestId ?? '';
    if (!id.endsWith('-a0')) return undefined;
    const i = indexOf(id);
    const [verb, noun, adj] = quotedWords(c.prompt);
    const normal = mockText(c.prompt, id);
    switch (i % 10) {
      case 0: return i > 0 ? { type: 'status', status: 400 } : undefined;
      case 1: return { type: 'refusal' };
      case 2: return { type: 'length' };
      case 3: return { type: 'text', text: `The ${adj} ${noun} can ${verb}.` };
      case 4: return { type: 'text', text: normal.replaceAll(verb!, 'zzz') };
      case 5: return { type: 'text', text: `Il était une fois une petite fille qui aimait jouer dans le parc avec ses amis. `.repeat(5) + `${verb} ${noun} ${adj}` };
      case 6: return { type: 'text', text: normal + '\n' + `${FANCY} ${FANCY.replaceAll('a', 'o')} ${FANCY.replaceAll('e', 'u')}` };
      case 9: return { type: 'text', text: `Sure! Here's a short story:\n\n${normal}\n\nI hope you enjoyed it!` };
      default: return undefined;
    }
  };
  const out = tmp();
  const res = await generate(opts(out));
  assert.equal(res.accepted, 40);
  const recs = read(out);
  assert.deepEqual(recs.map((r) => r.index), Array.from({ length: 40 }, (_, i) => i));
  for (const r of recs) {
    const retried = [1, 2, 3, 4, 5, 6].includes(r.index % 10) || (r.index % 10 === 0 && r.index > 0);
    assert.equal(r.attempt, retried ? 1 : 0, `index ${r.index}`);
    assert.deepEqual(Object.keys(r.instruction), ['prompt:', 'words', 'features']);
    assert.ok(!r.story.startsWith('Sure'));
    assert.ok(r.cost > 0 && r.usage.input_tokens > 0);
  }
  const rep = reportForDir(out);
  assert.deepEqual(rep.attempts, {
    accepted: 40, request_failed: 3, refusal: 4, truncated: 4, empty: 0, too_short: 4, too_long: 0, missing_words: 4, oov: 4, language: 4,
    exact_duplicate: 0, near_duplicate: 0,
  });
  assert.equal(rep.metaStripped, 4);
  assert.equal(rep.requests.done, 40 + 4 * 6); // six paid defects x 4 slots; the 400s were never paid
  const txt = readFileSync(join(out, 'stories.txt'), 'utf8');
  assert.equal(txt.split('\n<|endoftext|>\n').length - 1, 40);

  // rerun: nothing new is requested; a larger count only asks for the new slots
  const before = mock.counts.requests;
  await generate(opts(out));
  assert.equal(mock.counts.requests, before);
  script = () => undefined;
  await generate(opts(out, { count: 45 }));
  const newIds = mock.log.slice(-5).map((e) => indexOf(e.requestId));
  assert.deepEqual(newIds.sort((a, b) => a - b), [40, 41, 42, 43, 44]);
  assert.equal(read(out).length, 45);
  // other settings are refused
  await assert.rejects(generate(opts(out, { seed: 4 })), /holds a run with seed=3, this command has seed=4/);
});

test('exact and near duplicates are removed and counted', async () => {
  const body = mockText('Write a story: the verb "play", the noun "ball" and the adjective "red".', 'fixed');
  script = (c) => {
    const i = indexOf(c.requestId);
    if (i % 5 === 2) return { type: 'text', text: body };
    if (i % 5 === 3) return { type: 'text', text: body + ' They went home.' };
    return undefined;
  };
  const out = tmp();
  await generate(opts(out, { count: 20, filters: { requireWords: false }, attemptsPerSlot: 1, scheduler: { concurrency: 1 } }));
  const rep = reportForDir(out);
  // slot 2 is kept; every later i%5==2 is exact, every i%5==3 near (concurrency 1 makes the order fixed)
  assert.equal(rep.accepted, 20);
  assert.equal(rep.attempts.exact_duplicate! + rep.attempts.near_duplicate!, rep.rejectedSlots);
  assert.ok(rep.attempts.exact_duplicate! >= 3 && rep.attempts.near_duplicate! >= 4, JSON.stringify(rep.attempts));
  const stories = read(out).map((r) => r.story);
  assert.equal(stories.filter((s) => s === body || s === body + ' They went home.').length, 1);
  script = () => undefined;
});

test('Vietnamese generation: Vietnamese prompts, NFC records, summaries and instruct.txt', async () => {
  const out = tmp();
  await generate(opts(out, { count: 8, lang: 'vi', lists: loadWordLists(join(fixtures, 'words-vi.json')), template: TEMPLATES.vi.data, instruct: true, filters: { maxOovShare: 0.7, minWords: 20 } }));
  const recs = read(out);
  assert.equal(recs.length, 8);
  for (const r of recs) {
    assert.equal(r.story, r.story.normalize('NFC'));
    assert.ok(languageMatches(r.story, 'vi'));
    assert.match(r.instruction['prompt:'], /^Hãy viết/);
    assert.ok(r.summary.length > 0);
  }
  const instruct = readFileSync(join(out, 'instruct.txt'), 'utf8');
  assert.equal(instruct.split('<|endoftext|>\n').length - 1, 8);
  assert.equal((instruct.match(/^Story: $/gm) ?? []).length, 8);
});

test('translate keeps ids, writes NFC Vietnamese, and resumes without new requests', async () => {
  const src = tmp();
  await generate(opts(src, { count: 6, instruct: true }));
  const out = tmp();
  const t = () => translate({ input: join(src, 'stories.jsonl'), out, to: 'vi', provider: new OpenAIProvider({ baseURL: `${mock.url}/v1`, apiKey: 'k' }), providerName: 'openai', model: 'gpt-4o-mini', maxTokens: 800, prices: new PriceTable(), quiet: true });
  const res = await t();
  assert.equal(res.accepted, 6);
  const en = read(src);
  const vi = read(out);
  assert.deepEqual(vi.map((r) => r.id), en.map((r) => r.id));
  for (const r of vi) {
    assert.equal(r.lang, 'vi');
    assert.ok(languageMatches(r.story, 'vi'));
    assert.equal(r.story, r.story.normalize('NFC'));
    assert.deepEqual(r.instruction.words, en.find((e) => e.id === r.id)!.instruction.words);
  }
  const before = mock.counts.requests;
  await t();
  assert.equal(mock.counts.requests, before);
});

for (const kind of ['openai', 'anthropic'] as const) {
  test(`${kind} batch mode gives the same records as online mode at half the price`, async () => {
    const provider = kind === 'openai' ? new OpenAIProvider({ baseURL: `${mock.url}/v1`, apiKey: 'k' }) : new AnthropicProvider({ baseURL: mock.url, apiKey: 'k' });
    const client: BatchClient = kind === 'openai' ? new OpenAIBatchClient(provider as OpenAIProvider) : new AnthropicBatchClient(provider as AnthropicProvider);
    const model = kind === 'openai' ? 'gpt-4o-mini' : 'claude-haiku-4-5';
    const online = tmp();
    const batched = tmp();
    await generate(opts(online, { count: 12, instruct: true, provider, providerName: kind, model }));
    await generate(opts(batched, { count: 12, instruct: true, provider, providerName: kind, model, batch: { client, pollMs: 10 } }));
    const a = read(online);
    const b = read(batched);
    assert.deepEqual(b.map((r) => [r.id, r.story, r.summary]), a.map((r) => [r.id, r.story, r.summary]));
    const ra = reportForDir(online);
    const rb = reportForDir(batched);
    assert.equal(rb.requests.batch, rb.requests.done);
    // one request file per batch: the stories, then the summaries
    const files = readdirSync(join(batched, 'batches')).sort();
    assert.equal(files.length, 2);
    const sent = files.flatMap((f) => readFileSync(join(batched, 'batches', f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).custom_id as string));
    assert.equal(sent.length, rb.requests.done);
    assert.ok(Math.abs(rb.requests.costUSD - ra.requests.costUSD / 2) < 1e-9);
  });
}

for (const kind of ['openai', 'anthropic'] as const) test(`${kind}: a crash after a batch was created is resumed from the journal, not sent again`, async () => {
  const provider = kind === 'openai' ? new OpenAIProvider({ baseURL: `${mock.url}/v1`, apiKey: 'k' }) : new AnthropicProvider({ baseURL: mock.url, apiKey: 'k' });
  const real: BatchClient = kind === 'openai' ? new OpenAIBatchClient(provider as OpenAIProvider) : new AnthropicBatchClient(provider as AnthropicProvider);
  // Crash 1: right after create, before the remote id reached the journal (found again by metadata key).
  const crashAfterCreate: BatchClient = {
    name: kind,
    exactFind: real.exactFind,
    submit: async (items, key) => {
      await real.submit(items, key);
      throw new Error('simulated crash after create');
    },
    findByKey: (k, h) => real.findByKey(k, h),
    status: (id) => real.status(id),
    results: (id) => real.results(id),
  };
  mock.epoch = kind === 'openai' ? 100 : 101;
  const out = tmp();
  const o = (client: BatchClient) => opts(out, { count: 10, provider, providerName: kind, batch: { client, pollMs: 10 } });
  const batchesBefore = mock.batchCount;
  await assert.rejects(generate(o(crashAfterCreate)), /simulated crash/);
  assert.equal(mock.batchCount, batchesBefore + 1);
  await generate(o(real));
  assert.equal(mock.batchCount, batchesBefore + 1, 'the rerun created the batch again');
  if (kind === 'anthropic') {
    // Anthropic is matched by time and size only: a newer foreign batch of the same size is rejected by its ids.
    const out2 = tmp();
    const o2 = (client: BatchClient) => opts(out2, { count: 10, seed: 9, provider, providerName: kind, batch: { client, pollMs: 10 } });
    await assert.rejects(generate(o2(crashAfterCreate)), /simulated crash/);
    const decoy = Array.from({ length: 10 }, (_, i) => ({ customId: `decoy-${i}`, request: { model: 'm', messages: [{ role: 'user' as const, content: 'x' }], maxTokens: 5 } }));
    await real.submit(decoy, 'decoy');
    await generate(o2(real));
    assert.equal(mock.batchCount, batchesBefore + 3, 'the lost batch was found behind the decoy, not sent again');
    assert.deepEqual(read(out2).map((r) => r.index), Array.from({ length: 10 }, (_, i) => i));
    const once = mock.delivered(mock.epoch);
    for (const r of read(out2)) assert.equal(once.get(`${r.id}-a0`), 1);
  }
  assert.equal(read(out).length, 10);
  // each request id was answered exactly once
  const counts = mock.delivered(mock.epoch);
  for (const r of read(out)) assert.equal(counts.get(`${r.id}-a0`), 1);
});

test('the bundled word lists drive generation in both languages', async () => {
  for (const lang of ['en', 'vi'] as const) {
    const out = tmp();
    const lists = wordListsFor(lang);
    await generate(opts(out, { count: 10, lang, lists, template: TEMPLATES[lang].data, filters: lang === 'vi' ? { minWords: 20, maxOovShare: 0.8 } : {} }));
    const recs = read(out);
    assert.equal(recs.length, 10);
    for (const r of recs) {
      const [v, n, a] = r.instruction.words as string[];
      assert.ok(lists.verbs.includes(v!) && lists.nouns.includes(n!) && lists.adjectives.includes(a!));
    }
  }
});

test('batch mode splits large rounds into several batches sent together', async () => {
  const provider = new OpenAIProvider({ baseURL: `${mock.url}/v1`, apiKey: 'k' });
  const out = tmp();
  const before = mock.batchCount;
  await generate(opts(out, { count: 10, provider, batch: { client: new OpenAIBatchClient(provider), pollMs: 10, maxPerBatch: 4 } }));
  assert.equal(read(out).length, 10);
  assert.equal(mock.batchCount - before, 3);
  assert.equal(readdirSync(join(out, 'batches')).length, 3);
  // the tail of a batch run may be finished online: only the new slots are requested
  mock.epoch = 200;
  await generate(opts(out, { count: 12, provider }));
  assert.deepEqual([...mock.delivered(200).keys()].map(indexOf).sort((a, b) => a - b), [10, 11]);
  assert.equal(read(out).length, 12);
});

test('an outage stops the run after --max-failures; the rerun finishes it', async () => {
  let down = true;
  script = (c) => (down && indexOf(c.requestId) >= 5 ? { type: 'status', status: 503 } : undefined);
  const out = tmp();
  const o = opts(out, { count: 12, maxFailures: 3, scheduler: { concurrency: 2, maxRetries: 1, baseDelayMs: 1 } });
  const first = await generate(o);
  assert.ok(first.accepted >= 5 && first.accepted < 12, String(first.accepted));
  assert.match(first.shortfall ?? '', /^(\d+) requests failed after retries .*HTTP 503.*rerun the same command/);
  assert.ok(Number(/^\d+/.exec(first.shortfall!)![0]) >= 3);
  down = false;
  const second = await generate(o);
  assert.equal(second.shortfall, undefined);
  assert.deepEqual(read(out).map((r) => r.index), Array.from({ length: 12 }, (_, i) => i));
  script = () => undefined;
});
