// The two-turn judge against a scripted 127.0.0.1 judge: wording, malformed grades retried then counted, transport
// failures retried then counted, cache hits on a rerun, JSON mode, both APIs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProvider } from '../../src/llm/index.ts';
import { Scheduler } from '../../src/llm/scheduler.ts';
import { JudgeCache } from '../../src/eval/cache.ts';
import { judgeCompletion, type JudgeSettings } from '../../src/eval/judge.ts';
import { FORMAT_REMINDER, JUDGE_TURN2 } from '../../src/eval/prompts.ts';
import { completionOf, defaultGrades, defaultScript, startMockJudge, type JudgeReply, type JudgeRequestInfo } from '../helpers/mock-judge.ts';

function settings(url: string, provider: 'openai' | 'anthropic', cache?: JudgeCache, extra: Partial<JudgeSettings> = {}): JudgeSettings {
  const p = createProvider({ provider, baseURL: provider === 'openai' ? url + '/v1' : url, timeoutMs: 2000 });
  return { scheduler: new Scheduler(p, { concurrency: 4, baseDelayMs: 1, maxDelayMs: 5, maxRetries: 3, timeoutMs: 2000 }), providerName: p.name, model: 'judge-x', cache, ...extra };
}

test('two turns with the paper wording; grades read from turn 2', async () => {
  const judge = await startMockJudge();
  try {
    for (const api of ['openai', 'anthropic'] as const) {
      judge.requests.length = 0;
      const r = await judgeCompletion('Tom had a red', ' ball. He played all day.', settings(judge.url, api));
      assert.equal(r.status, 'graded');
      const g = defaultGrades(' ball. He played all day.');
      assert.deepEqual(r.grades, { grammar: g.grammar, creativity: g.creativity, consistency: g.consistency, plot: g.plot, age: g.age });
      assert.equal(judge.requests.length, 2);
      const [t1, t2] = judge.requests;
      assert.equal(t1!.messages.length, 1);
      assert.ok(t1!.messages[0]!.content.includes('Tom had a red*** ball. He played all day.'));
      assert.deepEqual(t2!.messages.map((m) => m.role), ['user', 'assistant', 'user']);
      assert.equal(t2!.messages[1]!.content, r.assessment);
      assert.equal(t2!.messages[2]!.content, JUDGE_TURN2);
      assert.equal(t2!.temperature, 0);
      assert.equal(r.judgeModel, 'judge-x-2025-01-01');
      assert.ok(r.usage.inputTokens > 0 && r.calls === 2);
    }
  } finally {
    await judge.close();
  }
});

test('malformed grades are retried with a format reminder, then counted as unparseable', async () => {
  const script = (req: JudgeRequestInfo): JudgeReply => {
    if (req.messages.length === 1) return { text: 'Fine.' };
    const c = completionOf(req.messages);
    const reminded = req.messages[2]!.content.includes(FORMAT_REMINDER.trim());
    if (c.includes('[once]')) return reminded ? defaultScript(req) : { text: 'Grammar: great! Creativity: lots.' };
    if (c.includes('[never]')) return { text: 'What a wonderful story, I loved it.' };
    return defaultScript(req);
  };
  const judge = await startMockJudge(script);
  try {
    const s = settings(judge.url, 'openai');
    const once = await judgeCompletion('A', ' b [once]', s);
    assert.equal(once.status, 'graded');
    assert.equal(once.attempts, 2);
    const never = await judgeCompletion('A', ' c [never]', s);
    assert.equal(never.status, 'unparseable');
    assert.equal(never.attempts, 3);
    assert.equal(never.grades, null);
    assert.match(never.reason!, /no grammar/);
    assert.equal(never.answer, 'What a wonderful story, I loved it.');
    // the third try raised the temperature so it is not the same request as the second
    const temps = judge.requests.filter((r) => completionOf(r.messages).includes('[never]') && r.messages.length === 3).map((r) => r.temperature);
    assert.deepEqual(temps, [0, 0, 0.3]);
  } finally {
    await judge.close();
  }
});

test('transport failures: retryable errors are retried; a call that keeps failing is counted as failed', async () => {
  let fails = 0;
  const judge = await startMockJudge((req) => {
    const c = completionOf(req.messages);
    if (c.includes('[flaky]') && fails < 2) {
      fails++;
      return { status: 503 };
    }
    if (c.includes('[bad-request]')) return { status: 400 };
    if (c.includes('[down]') && req.messages.length === 3) return { status: 500 };
    return defaultScript(req);
  });
  try {
    const s = settings(judge.url, 'openai');
    assert.equal((await judgeCompletion('A', ' [flaky]', s)).status, 'graded');
    const bad = await judgeCompletion('A', ' [bad-request]', s);
    assert.equal(bad.status, 'failed');
    assert.match(bad.reason!, /turn 1: HTTP 400/);
    const down = await judgeCompletion('A', ' [down]', s);
    assert.equal(down.status, 'failed');
    assert.match(down.reason!, /turn 2/);
    assert.ok(down.assessment);
    assert.equal(s.scheduler.stats.retries >= 2 + 3, true);
  } finally {
    await judge.close();
  }
});

test('the cache makes a rerun free; JSON mode asks for and reads a JSON object', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'judge-cache-'));
  const judge = await startMockJudge();
  try {
    const cache = new JudgeCache(join(dir, 'c.sqlite'));
    const first = await judgeCompletion('Lily saw', ' a dog.', settings(judge.url, 'openai', cache));
    assert.equal(judge.requests.length, 2);
    cache.close();
    const cache2 = new JudgeCache(join(dir, 'c.sqlite'));
    const again = await judgeCompletion('Lily saw', ' a dog.', settings(judge.url, 'openai', cache2));
    assert.equal(judge.requests.length, 2, 'no new request');
    assert.equal(again.cachedCalls, 2);
    assert.equal(again.calls, 0);
    assert.deepEqual(again.usage, { inputTokens: 0, outputTokens: 0 });
    assert.deepEqual(again.grades, first.grades);
    // a different judge model is a different request
    await judgeCompletion('Lily saw', ' a dog.', settings(judge.url, 'openai', cache2, { model: 'other' }));
    assert.equal(judge.requests.length, 4);
    const js = await judgeCompletion('Lily saw', ' a cat.', settings(judge.url, 'openai', cache2, { json: true }));
    assert.equal(js.status, 'graded');
    assert.ok(judge.requests.at(-1)!.json);
    assert.ok(js.answer!.startsWith('{'));
    assert.equal(cache2.size(), 6);
    cache2.close();
  } finally {
    await judge.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
