// The Scheduler: bounded concurrency, RPM/TPM buckets, retries with backoff honouring Retry-After, timeouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scheduler, TokenBucket } from '../../src/llm/scheduler.ts';
import { LlmError, type ChatProvider, type ChatRequest, type ChatResponse } from '../../src/llm/types.ts';
import { MockLlmServer } from '../helpers/mock-llm-server.ts';
import { OpenAIProvider } from '../../src/llm/openai.ts';
import { Rng } from '../../src/util/rng.ts';

const req: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(400) }], maxTokens: 100 };

/** A provider whose behaviour is scripted per call, recording concurrency and call times. */
class ScriptedProvider implements ChatProvider {
  readonly name = 'scripted';
  inFlight = 0;
  maxInFlight = 0;
  calls: Array<{ id?: string; at: number }> = [];
  constructor(private readonly script: (n: number, id?: string) => { delayMs: number; error?: LlmError }) {}
  async complete(r: ChatRequest, opts: { requestId?: string } = {}): Promise<ChatResponse> {
    const n = this.calls.length;
    this.calls.push({ id: opts.requestId, at: performance.now() });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const s = this.script(n, opts.requestId);
    await new Promise((res) => setTimeout(res, s.delayMs));
    this.inFlight--;
    if (s.error) throw s.error;
    return { text: 'ok', usage: { inputTokens: 100, outputTokens: 50 }, model: r.model, finishReason: 'stop' };
  }
}

test('concurrency is bounded and every request completes', async () => {
  const p = new ScriptedProvider(() => ({ delayMs: 5 }));
  const s = new Scheduler(p, { concurrency: 7 });
  const res = await Promise.all(Array.from({ length: 100 }, (_, i) => s.run(req, { requestId: `r${i}` })));
  assert.equal(res.length, 100);
  assert.equal(p.maxInFlight, 7);
  assert.equal(s.stats.completed, 100);
  assert.equal(s.stats.inputTokens, 10_000);
});

test('retries 429 after Retry-After, 5xx and timeouts with backoff; gives up on 400 at once', async () => {
  const tries = new Map<string, number>();
  const p = new ScriptedProvider((_, id) => {
    const k = (tries.get(id!) ?? 0) + 1;
    tries.set(id!, k);
    if (id === 'rate' && k === 1) return { delayMs: 1, error: new LlmError('429', 'rate_limit', 429, 300) };
    if (id === 'server' && k <= 2) return { delayMs: 1, error: new LlmError('500', 'server', 500) };
    if (id === 'slow' && k === 1) return { delayMs: 1, error: new LlmError('timeout', 'timeout') };
    if (id === 'bad') return { delayMs: 1, error: new LlmError('400', 'client', 400) };
    return { delayMs: 1 };
  });
  const rng = new Rng(1);
  const retries: number[] = [];
  const t0 = performance.now();
  const s = new Scheduler(p, { concurrency: 4, baseDelayMs: 20, random: () => rng.next(), onRetry: (i) => retries.push(i.delayMs) });
  const [rate, server, slow, bad] = await Promise.allSettled(['rate', 'server', 'slow', 'bad'].map((id) => s.run(req, { requestId: id })));
  assert.equal(rate.status, 'fulfilled');
  assert.equal(server.status, 'fulfilled');
  assert.equal(slow.status, 'fulfilled');
  assert.equal(bad.status, 'rejected');
  assert.equal(tries.get('bad'), 1);
  assert.equal(tries.get('server'), 3);
  const rateCalls = p.calls.filter((c) => c.id === 'rate');
  assert.ok(rateCalls[1]!.at - rateCalls[0]!.at >= 295, 'Retry-After (300 ms) honoured');
  // backoff with jitter: retry k waits base * 2^(k-1) * [0.5, 1): 10..20 ms, then 20..40 ms
  const serverCalls = p.calls.filter((c) => c.id === 'server');
  assert.ok(serverCalls[2]!.at - serverCalls[1]!.at >= 19);
  assert.equal(retries[0], 300);
  assert.ok(retries[1]! >= 10 && retries[1]! < 20 && retries[3]! >= 20 && retries[3]! < 40, retries.join(' '));
  assert.equal(s.stats.retries, 4);
  assert.ok(performance.now() - t0 < 2000);
});

test('a 429 with Retry-After pauses the whole queue', async () => {
  let first = true;
  const p = new ScriptedProvider(() => {
    if (first) {
      first = false;
      return { delayMs: 1, error: new LlmError('429', 'rate_limit', 429, 200) };
    }
    return { delayMs: 1 };
  });
  const s = new Scheduler(p, { concurrency: 1 });
  const t0 = performance.now();
  const a = s.run(req, { requestId: 'a' });
  await new Promise((r) => setTimeout(r, 10));
  await Promise.all([a, s.run(req, { requestId: 'b' })]);
  const b = p.calls.find((c) => c.id === 'b')!;
  assert.ok(b.at - t0 >= 195, `b started ${b.at - t0} ms after the 429`);
});

test('gives up after maxRetries and reports the last error', async () => {
  const p = new ScriptedProvider(() => ({ delayMs: 1, error: new LlmError('503', 'server', 503) }));
  const s = new Scheduler(p, { maxRetries: 2, baseDelayMs: 1 });
  await assert.rejects(s.run(req), (e: unknown) => e instanceof LlmError && e.kind === 'server');
  assert.equal(p.calls.length, 3);
});

test('RPM bucket spaces requests out', async () => {
  const p = new ScriptedProvider(() => ({ delayMs: 0 }));
  const s = new Scheduler(p, { concurrency: 100, rpm: 3000 }); // 50/s, burst 50
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 100 }, () => s.run(req)));
  const dt = performance.now() - t0;
  assert.ok(dt >= 900 && dt < 3000, `100 requests at 50/s after a burst of 50 took ${dt} ms`);
});

test('TPM bucket reserves input estimate + max tokens and corrects by real usage', async () => {
  const bucket = new TokenBucket(6000, 100, 0); // 100 tokens/s
  assert.equal(bucket.waitFor(100, 0), 0);
  bucket.take(100);
  assert.equal(bucket.waitFor(50, 0), 500);
  bucket.adjust(-50); // used 50 fewer than reserved
  assert.equal(bucket.waitFor(50, 0), 0);
  assert.equal(bucket.waitFor(1000, 1000), 0, 'a request larger than the bucket waits only for a full bucket');

  const p = new ScriptedProvider(() => ({ delayMs: 0 }));
  const s = new Scheduler(p, { concurrency: 50, tpm: 60_000 }); // 1000 tokens/s, burst 1000; each request reserves 200
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 15 }, () => s.run(req)));
  const dt = performance.now() - t0;
  // 5 fit the burst; real usage (150) refunds 50 each; the rest need ~ (10*200 - 5*50) / 1000 s
  assert.ok(dt >= 1200 && dt < 3500, `took ${dt} ms`);
});

test('per-request timeout against a hanging server, then success on retry', async () => {
  const mock = await new MockLlmServer({ fault: (c) => (c.seenBefore === 0 ? { type: 'hang' } : undefined) }).start();
  try {
    const s = new Scheduler(new OpenAIProvider({ baseURL: `${mock.url}/v1`, apiKey: 'k' }), { timeoutMs: 200, baseDelayMs: 10 });
    const r = await s.run({ ...req, messages: [{ role: 'user', content: 'hello' }] }, { requestId: 'hang-once' });
    assert.equal(r.finishReason, 'stop');
    assert.equal(s.stats.errors.timeout, 1);
  } finally {
    await mock.close();
  }
});
