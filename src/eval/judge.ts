// The GPT-Eval judge: the paper's two-turn conversation per completion (free assessment, then grades), through the
// provider layer's Scheduler, with every call cached by content hash and unreadable grades retried, then counted.
import type { ChatMessage, ChatRequest, ChatResponse, Usage } from '../llm/types.ts';
import type { Scheduler } from '../llm/scheduler.ts';
import { type JudgeCache, requestKey } from './cache.ts';
import { type Grades, parseGrades, parseJsonGrades } from './grades.ts';
import { FORMAT_REMINDER, JSON_INSTRUCTION, JUDGE_TURN2, judgeTurn1 } from './prompts.ts';

/** How to reach and ask the judge. */
export interface JudgeSettings {
  /** Sends the requests (concurrency, rate limits, retries of transport errors). */
  scheduler: Scheduler;
  /** Provider name, part of the cache key ("openai", "anthropic"). */
  providerName: string;
  model: string;
  cache?: JudgeCache;
  /** Judge temperature (default 0, so reruns and caches agree). */
  temperature?: number;
  /** Output limit of turn 1 (default 800) and turn 2 (default 300). */
  maxTokensAssessment?: number;
  maxTokensGrades?: number;
  /** Ask turn 2 for a JSON object (response_format json on OpenAI-compatible servers). */
  json?: boolean;
  /** Extra turn-2 tries after an unreadable answer (default 2), each with a format reminder. */
  parseRetries?: number;
}

/** One judged completion. `failed` = the judge could not be reached; `unparseable` = answers came back but no grades. */
export interface JudgeOutcome {
  status: 'graded' | 'unparseable' | 'failed';
  grades: Grades | null;
  /** Turn 1's free assessment. */
  assessment: string | null;
  /** The last turn-2 answer. */
  answer: string | null;
  /** Turn-2 tries made (1 = read on the first try). */
  attempts: number;
  /** Why it is not graded. */
  reason: string | null;
  /** Tokens of calls actually sent (cache hits cost nothing). */
  usage: Usage;
  /** The model id the server reported. */
  judgeModel: string | null;
  calls: number;
  cachedCalls: number;
}

/** One chat call through the cache: a hit returns the stored answer, a miss goes to the scheduler and is stored. */
export async function cachedCall(s: JudgeSettings, req: ChatRequest, out: { usage: Usage; calls: number; cachedCalls: number }): Promise<ChatResponse> {
  const key = requestKey(s.providerName, req);
  const hit = s.cache?.get(key);
  if (hit) {
    out.cachedCalls++;
    return hit;
  }
  const res = await s.scheduler.run(req, { requestId: `judge-${key.slice(0, 32)}` });
  out.calls++;
  out.usage.inputTokens += res.usage.inputTokens;
  out.usage.outputTokens += res.usage.outputTokens;
  // Only complete answers are cached: a cut-off one ('length') is retried on the next run.
  if (res.finishReason !== 'length') s.cache?.put(key, res);
  return res;
}

/**
 * Judges one completion with the paper's protocol: turn 1 asks for a general assessment of the text after `***`;
 * the assessment stays in the conversation and turn 2 asks for the grades and the age group.
 * @example const r = await judgeCompletion('Once upon a time', ' there was a cat.', settings); r.grades?.grammar
 */
export async function judgeCompletion(beginning: string, completion: string, s: JudgeSettings): Promise<JudgeOutcome> {
  const acc = { usage: { inputTokens: 0, outputTokens: 0 }, calls: 0, cachedCalls: 0 };
  const base = s.temperature ?? 0;
  const result = (o: Partial<JudgeOutcome> & Pick<JudgeOutcome, 'status'>): JudgeOutcome => ({
    grades: null,
    assessment: null,
    answer: null,
    attempts: 0,
    reason: null,
    judgeModel: null,
    ...acc,
    ...o,
  });
  const turn1: ChatMessage = { role: 'user', content: judgeTurn1(beginning, completion) };
  let assessment: ChatResponse;
  try {
    assessment = await cachedCall(s, { model: s.model, messages: [turn1], temperature: base, maxTokens: s.maxTokensAssessment ?? 800 }, acc);
  } catch (e) {
    return result({ status: 'failed', reason: `turn 1: ${(e as Error).message}` });
  }
  const tries = 1 + (s.parseRetries ?? 2);
  let last: string | null = null;
  let reason = '';
  for (let a = 0; a < tries; a++) {
    // First try: the paper's words. Retries add a format reminder and (from the third try) some temperature, so
    // the request differs from the cached unreadable one.
    const content = JUDGE_TURN2 + (s.json ? JSON_INSTRUCTION : '') + (a > 0 ? FORMAT_REMINDER : '');
    const req: ChatRequest = {
      model: s.model,
      messages: [turn1, { role: 'assistant', content: assessment.text }, { role: 'user', content }],
      temperature: a >= 2 ? Math.min(1, base + 0.3 * (a - 1)) : base,
      maxTokens: s.maxTokensGrades ?? 300,
      responseFormat: s.json ? 'json' : undefined,
    };
    let res: ChatResponse;
    try {
      res = await cachedCall(s, req, acc);
    } catch (e) {
      return result({ status: 'failed', assessment: assessment.text, answer: last, attempts: a + 1, reason: `turn 2: ${(e as Error).message}`, judgeModel: assessment.model });
    }
    last = res.text;
    const parsed = s.json ? parseJsonOrText(res.text) : parseGrades(res.text);
    if (parsed.ok) return result({ status: 'graded', grades: parsed.grades, assessment: assessment.text, answer: res.text, attempts: a + 1, judgeModel: res.model });
    reason = parsed.reason;
  }
  return result({ status: 'unparseable', assessment: assessment.text, answer: last, attempts: tries, reason, judgeModel: assessment.model });
}

function parseJsonOrText(text: string) {
  const j = parseJsonGrades(text);
  return j.ok ? j : parseGrades(text);
}
