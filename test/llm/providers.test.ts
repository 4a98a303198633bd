// The OpenAI-compatible and Anthropic providers against the local mock: answers, streaming, and error classes.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { MockLlmServer, mockText, type MockFault } from '../helpers/mock-llm-server.ts';
import { OpenAIProvider } from '../../src/llm/openai.ts';
import { AnthropicProvider } from '../../src/llm/anthropic.ts';
import { LlmError, type ChatProvider, type ChatRequest } from '../../src/llm/types.ts';

let fault: MockFault | undefined;
const mock = new MockLlmServer({ fault: () => fault });
before(() => mock.start());
after(() => mock.close());

const prompt = 'Write a short story. The story should use the verb "jump", the noun "ball" and the adjective "red".';
const req: ChatRequest = { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be simple.' }, { role: 'user', content: prompt }], maxTokens: 300, temperature: 0.7 };

const providers: Array<[string, () => ChatProvider]> = [
  ['openai', () => new OpenAIProvider({ baseURL: `${mock.url}/v1`, apiKey: 'k', timeoutMs: 2000 })],
  ['openai-stream', () => new OpenAIProvider({ baseURL: `${mock.url}/v1`, apiKey: 'k', stream: true, timeoutMs: 2000 })],
  ['anthropic', () => new AnthropicProvider({ baseURL: mock.url, apiKey: 'k', timeoutMs: 2000 })],
];

for (const [name, make] of providers) {
  test(`${name}: text, usage, model, finish reason, request id header`, async () => {
    fault = undefined;
    const p = make();
    const r = await p.complete(req, { requestId: `rid-${name}` });
    assert.equal(r.text, mockText(prompt, `rid-${name}`));
    assert.ok(r.text.includes('jump') && r.text.includes('red ball'));
    assert.equal(r.usage.inputTokens, Math.ceil(prompt.length / 4));
    assert.equal(r.usage.outputTokens, Math.ceil(r.text.length / 4));
    assert.equal(r.model, 'gpt-4o-mini');
    assert.equal(r.finishReason, 'stop');
    assert.equal(mock.log.at(-1)!.requestId, `rid-${name}`);
  });

  test(`${name}: errors are classified for the retry policy`, async () => {
    const p = make();
    const cases: Array<[MockFault, string, boolean]> = [
      [{ type: 'status', status: 429, retryAfterS: 3 }, 'rate_limit', true],
      [{ type: 'status', status: 500 }, 'server', true],
      [{ type: 'status', status: 400 }, 'client', false],
      [{ type: 'status', status: 401 }, 'auth', false],
      [{ type: 'truncated' }, name === 'openai-stream' ? '' : 'bad_response', true],
    ];
    for (const [f, kind, retryable] of cases) {
      if (!kind) continue; // a truncated non-SSE body is a different failure for the stream reader
      fault = f;
      const err = await p.complete(req).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof LlmError, `${JSON.stringify(f)} gave ${String(err)}`);
      assert.equal(err.kind, kind, `${JSON.stringify(f)}: ${err.message}`);
      assert.equal(err.retryable, retryable);
      if (f.type === 'status' && f.retryAfterS) assert.equal(err.retryAfterMs, 3000);
    }
    fault = { type: 'hang' };
    const t0 = performance.now();
    const err = await p.complete(req, { timeoutMs: 300 }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof LlmError && err.kind === 'timeout', String(err));
    assert.ok(performance.now() - t0 < 1500);
    fault = undefined;
  });

  test(`${name}: refusals and max-token cut-offs are reported`, async () => {
    const p = make();
    fault = { type: 'refusal' };
    const r = await p.complete(req);
    assert.equal(r.finishReason, 'refusal');
    assert.match(r.text, /sorry/);
    fault = { type: 'length' };
    assert.equal((await p.complete(req)).finishReason, 'length');
    fault = undefined;
  });
}

test('system messages go to Anthropic system field; JSON mode adds an instruction', () => {
  const body = AnthropicProvider.body({ ...req, responseFormat: 'json' });
  assert.match(String(body.system), /^Be simple\.\n\nAnswer with a single JSON object/);
  assert.deepEqual(body.messages, [{ role: 'user', content: prompt }]);
  assert.deepEqual(OpenAIProvider.body({ ...req, responseFormat: 'json' }).response_format, { type: 'json_object' });
});

test('API keys come from the environment and never appear in errors', async () => {
  const saved = process.env.OPENAI_API_KEY;
  delete process.env.OPENAI_API_KEY;
  try {
    assert.throws(() => new OpenAIProvider({ baseURL: `${mock.url}/v1` }), /OPENAI_API_KEY is not set/);
    process.env.OPENAI_API_KEY = 'sk-secret-value-123';
    const p = new OpenAIProvider({ baseURL: `${mock.url}/v1` });
    fault = { type: 'status', status: 500 };
    const err = (await p.complete(req).catch((e: unknown) => e)) as LlmError;
    assert.ok(!JSON.stringify({ m: err.message, s: String(err) }).includes('sk-secret-value-123'));
  } finally {
    fault = undefined;
    if (saved === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = saved;
  }
});
