// The journaled LLM job runner's two steps every slot repeats: callOrRecord (call, classify the failure, record it)
// and duplicateReason. The runner itself is exercised end to end by test/synth/*.test.ts and test/gsm/generate.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callOrRecord, duplicateReason, type SlotContext } from '../../src/llm/jobs.ts';
import type { JournaledCall } from '../../src/llm/journal.ts';
import { LlmError, type ChatRequest } from '../../src/llm/types.ts';
import { NearDuplicateIndex } from '../../src/synth/dedup.ts';

const REQ: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'Write a story.' }], maxTokens: 10 };

/** A slot context whose calls answer with `answer` (a value or an error to throw), recording the notes. */
function context(answer: JournaledCall | Error): { ctx: SlotContext; notes: string[][] } {
  const notes: string[][] = [];
  const ctx: SlotContext = {
    dedup: new NearDuplicateIndex(),
    async call() {
      if (answer instanceof Error) throw answer;
      return answer;
    },
    noteAttempt: (callId, slotId, outcome, stripped) => void notes.push([callId, slotId, outcome, String(stripped)]),
  };
  return { ctx, notes };
}

test('callOrRecord: a success is returned and nothing is noted', async () => {
  const ok: JournaledCall = { response: { text: 'Once upon a time', model: 'm', finishReason: 'stop', usage: { inputTokens: 3, outputTokens: 4 } }, cost: 0.001, batch: false };
  const { ctx, notes } = context(ok);
  assert.equal(await callOrRecord(ctx, 'r1', 's1', REQ), ok);
  assert.deepEqual(notes, []);
});

test('callOrRecord: a refused request is noted as request_failed (under the given attempt id) and gives undefined', async () => {
  const { ctx, notes } = context(new LlmError('bad request', 'client'));
  assert.equal(await callOrRecord(ctx, 'r1', 's1', REQ), undefined);
  assert.equal(await callOrRecord(ctx, 'r1-sum', 's1', REQ, { attempt: 'r1', stripped: true }), undefined);
  assert.equal(await callOrRecord(ctx, 'r1-sum', 's1', REQ, null), undefined);
  assert.deepEqual(notes, [['r1', 's1', 'request_failed', 'false'], ['r1', 's1', 'request_failed', 'true']]);
});

test('callOrRecord: transient failures (rate limit, outage) and unexpected errors propagate unrecorded', async () => {
  for (const e of [new LlmError('slow down', 'rate_limit'), new LlmError('down', 'server'), new TypeError('bug')]) {
    const { ctx, notes } = context(e);
    await assert.rejects(callOrRecord(ctx, 'r1', 's1', REQ), (x: unknown) => x === e);
    assert.deepEqual(notes, []);
  }
});

test('duplicateReason: exact and near duplicates of accepted records are named; new text is not', () => {
  const d = new NearDuplicateIndex();
  const story = Array.from({ length: 12 }, (_, i) => `On day ${i} Lily found a red ball in the park and played with it until the sun went down.`).join(' ');
  d.add('a', story);
  assert.equal(duplicateReason(d, story), 'exact_duplicate');
  assert.equal(duplicateReason(d, story + ' The end.'), 'near_duplicate');
  assert.equal(duplicateReason(d, 'Ben saw a big dog at the lake. The dog barked and ran away into the woods.'), undefined);
});
