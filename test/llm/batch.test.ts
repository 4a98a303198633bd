// Batch clients against the mock: OpenAI (file upload, create, poll, download) and Anthropic Message Batches.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MockLlmServer, mockText } from '../helpers/mock-llm-server.ts';
import { OpenAIProvider } from '../../src/llm/openai.ts';
import { AnthropicProvider } from '../../src/llm/anthropic.ts';
import { AnthropicBatchClient, OpenAIBatchClient, type BatchClient } from '../../src/llm/batch.ts';

const mock = new MockLlmServer({ batchDelayMs: 100, fault: (c) => (c.requestId === 'r3' ? { type: 'status', status: 500 } : undefined) });
before(() => mock.start());
after(() => mock.close());

const items = Array.from({ length: 5 }, (_, i) => ({
  customId: `r${i}`,
  request: { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: `Story ${i}: the verb "run", the noun "dog" and the adjective "big".` }], maxTokens: 200 },
}));

async function roundTrip(client: BatchClient) {
  const id = await client.submit(items, 'key-1');
  let s = await client.status(id);
  assert.equal(s.state, 'running');
  while (s.state === 'running') {
    await new Promise((r) => setTimeout(r, 30));
    s = await client.status(id);
  }
  assert.equal(s.state, 'ended');
  const results = await client.results(id);
  assert.equal(results.length, 5);
  for (const r of results) {
    const i = Number(r.customId.slice(1));
    if (i === 3) assert.ok(r.error && !r.response);
    else assert.equal(r.response!.text, mockText(items[i]!.request.messages[0]!.content, r.customId));
  }
  return id;
}

test('OpenAI Batch API round trip, and a lost submit is found again by key', async () => {
  const client = new OpenAIBatchClient(new OpenAIProvider({ baseURL: `${mock.url}/v1`, apiKey: 'k' }));
  const line = JSON.parse(OpenAIBatchClient.requestFile(items).split('\n')[0]!);
  assert.deepEqual(Object.keys(line), ['custom_id', 'method', 'url', 'body']);
  assert.equal(line.url, '/v1/chat/completions');
  const id = await roundTrip(client);
  assert.deepEqual(await client.findByKey('key-1'), [id]);
  assert.deepEqual(await client.findByKey('other'), []);
});

test('Anthropic Message Batches round trip', async () => {
  await roundTrip(new AnthropicBatchClient(new AnthropicProvider({ baseURL: mock.url, apiKey: 'k' })));
});
