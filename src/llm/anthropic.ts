// ChatProvider for Anthropic's Messages API via @anthropic-ai/sdk (base URL is the host, without /v1).
import Anthropic from '@anthropic-ai/sdk';
import type { CallOptions, ChatProvider, ChatRequest, ChatResponse } from './types.ts';
import { LlmError, kindForStatus, retryAfterMs } from './types.ts';

export interface AnthropicProviderOptions {
  /** e.g. http://127.0.0.1:8000 (no /v1); default ANTHROPIC_BASE_URL or api.anthropic.com. */
  baseURL?: string;
  /** Default: process.env.ANTHROPIC_API_KEY. */
  apiKey?: string;
  timeoutMs?: number;
}

/** Converts whatever the SDK threw into an LlmError. */
export function toLlmErrorAnthropic(err: unknown): LlmError {
  if (err instanceof LlmError) return err;
  if (err instanceof Anthropic.APIUserAbortError) return new LlmError('request aborted', 'timeout', undefined, undefined, { cause: err });
  if (err instanceof Anthropic.APIConnectionTimeoutError) return new LlmError('request timed out', 'timeout', undefined, undefined, { cause: err });
  if (err instanceof Anthropic.APIConnectionError) return new LlmError(`connection error: ${err.message}`, 'connection', undefined, undefined, { cause: err });
  if (err instanceof Anthropic.APIError) {
    // 529 "overloaded" is Anthropic's retryable server status.
    return new LlmError(`HTTP ${err.status ?? '?'}: ${err.message}`, kindForStatus(err.status), err.status, retryAfterMs(err.headers as Headers | undefined), { cause: err });
  }
  if (err instanceof SyntaxError) return new LlmError(`malformed response: ${err.message}`, 'bad_response', undefined, undefined, { cause: err });
  return new LlmError(err instanceof Error ? err.message : String(err), 'bad_response', undefined, undefined, { cause: err });
}

/** Anthropic Messages. System messages become the `system` field; JSON mode is an instruction only. */
export class AnthropicProvider implements ChatProvider {
  readonly name = 'anthropic';
  readonly client: Anthropic;
  private readonly timeoutMs: number;
  constructor(opts: AnthropicProviderOptions = {}) {
    const apiKey = opts.apiKey ?? process.env.ANTHROPIC_API_KEY;
    if (!apiKey) throw new LlmError('ANTHROPIC_API_KEY is not set (keys are read from the environment only)', 'auth');
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.client = new Anthropic({ apiKey, baseURL: opts.baseURL, maxRetries: 0, timeout: this.timeoutMs });
  }

  /** The messages.create body for a request (also used for Message Batches). */
  static body(req: ChatRequest): Anthropic.MessageCreateParamsNonStreaming {
    const system = req.messages.filter((m) => m.role === 'system').map((m) => m.content);
    if (req.responseFormat === 'json') system.push('Answer with a single JSON object and nothing else.');
    const body: Anthropic.MessageCreateParamsNonStreaming = {
      model: req.model,
      max_tokens: req.maxTokens,
      messages: req.messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role as 'user' | 'assistant', content: m.content })),
    };
    if (system.length) body.system = system.join('\n\n');
    // This SDK's types dropped `temperature` (newer models reject it); send it only when the caller set one.
    if (req.temperature !== undefined) (body as unknown as Record<string, unknown>).temperature = Math.min(1, req.temperature);
    return body;
  }

  /** Reads a Message into a ChatResponse. */
  static parse(m: Anthropic.Message): ChatResponse {
    if (!m || !Array.isArray(m.content)) throw new LlmError('response has no content', 'bad_response');
    const text = m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    const stop = m.stop_reason;
    return {
      text,
      usage: { inputTokens: m.usage?.input_tokens ?? 0, outputTokens: m.usage?.output_tokens ?? 0 },
      model: m.model,
      finishReason: stop === 'end_turn' || stop === 'stop_sequence' ? 'stop' : stop === 'max_tokens' ? 'length' : (stop ?? 'stop'),
    };
  }

  async complete(req: ChatRequest, opts: CallOptions = {}): Promise<ChatResponse> {
    try {
      const msg = await this.client.messages.create(AnthropicProvider.body(req), {
        timeout: opts.timeoutMs ?? this.timeoutMs,
        signal: opts.signal,
        headers: opts.requestId ? { 'X-Client-Request-Id': opts.requestId } : undefined,
      });
      return AnthropicProvider.parse(msg);
    } catch (err) {
      throw toLlmErrorAnthropic(err);
    }
  }
}
