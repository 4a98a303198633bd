// ChatProvider for OpenAI-compatible chat completions (OpenAI, vLLM, Ollama, llama.cpp server, OpenRouter) via the official SDK.
import OpenAI from 'openai';
import type { CallOptions, ChatProvider, ChatRequest, ChatResponse } from './types.ts';
import { LlmError, kindForStatus, retryAfterMs } from './types.ts';

export interface OpenAIProviderOptions {
  /** e.g. http://127.0.0.1:8000/v1; default the SDK's (OPENAI_BASE_URL or api.openai.com). */
  baseURL?: string;
  /** Default: process.env.OPENAI_API_KEY; local servers accept any non-empty key. */
  apiKey?: string;
  /** Stream tokens (usage arrives in the last chunk); same result, lets servers start sending early. */
  stream?: boolean;
  /** Default per-request timeout in ms (CallOptions.timeoutMs overrides). */
  timeoutMs?: number;
}

/** Converts whatever the SDK threw into an LlmError the scheduler can classify. */
export function toLlmError(err: unknown): LlmError {
  if (err instanceof LlmError) return err;
  if (err instanceof OpenAI.APIUserAbortError) return new LlmError('request aborted', 'timeout', undefined, undefined, { cause: err });
  if (err instanceof OpenAI.APIConnectionTimeoutError) return new LlmError('request timed out', 'timeout', undefined, undefined, { cause: err });
  if (err instanceof OpenAI.APIConnectionError) return new LlmError(`connection error: ${err.message}`, 'connection', undefined, undefined, { cause: err });
  if (err instanceof OpenAI.APIError) {
    const kind = kindForStatus(err.status);
    return new LlmError(`HTTP ${err.status ?? '?'}: ${err.message}`, kind, err.status, retryAfterMs(err.headers as Headers | undefined), { cause: err });
  }
  if (err instanceof SyntaxError) return new LlmError(`malformed response: ${err.message}`, 'bad_response', undefined, undefined, { cause: err });
  if (err instanceof Error && /terminated|socket|ECONNRESET|other side closed/i.test(err.message)) {
    return new LlmError(`connection error: ${err.message}`, 'connection', undefined, undefined, { cause: err });
  }
  return new LlmError(err instanceof Error ? err.message : String(err), 'bad_response', undefined, undefined, { cause: err });
}

/** OpenAI-compatible chat completions. Retries are the Scheduler's job, so the SDK's own retries are off. */
export class OpenAIProvider implements ChatProvider {
  readonly name = 'openai';
  readonly client: OpenAI;
  private readonly stream: boolean;
  private readonly timeoutMs: number;
  constructor(opts: OpenAIProviderOptions = {}) {
    const apiKey = opts.apiKey ?? process.env.OPENAI_API_KEY;
    if (!apiKey) throw new LlmError('OPENAI_API_KEY is not set (keys are read from the environment only)', 'auth');
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.client = new OpenAI({ apiKey, baseURL: opts.baseURL, maxRetries: 0, timeout: this.timeoutMs });
    this.stream = Boolean(opts.stream);
  }

  /** The chat.completions body for a request (also used to write Batch API lines). */
  static body(req: ChatRequest): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming {
    const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model: req.model,
      messages: req.messages,
      max_tokens: req.maxTokens,
    };
    if (req.temperature !== undefined) body.temperature = req.temperature;
    if (req.responseFormat === 'json') body.response_format = { type: 'json_object' };
    return body;
  }

  /** Reads a ChatCompletion (online or from a batch output line) into a ChatResponse. */
  static parse(c: OpenAI.Chat.ChatCompletion): ChatResponse {
    const choice = c.choices?.[0];
    if (!choice) throw new LlmError('response has no choices', 'bad_response');
    const refusal = (choice.message as { refusal?: string | null }).refusal;
    return {
      text: choice.message?.content ?? refusal ?? '',
      usage: { inputTokens: c.usage?.prompt_tokens ?? 0, outputTokens: c.usage?.completion_tokens ?? 0 },
      model: c.model,
      finishReason: refusal ? 'refusal' : (choice.finish_reason ?? 'stop'),
    };
  }

  async complete(req: ChatRequest, opts: CallOptions = {}): Promise<ChatResponse> {
    const reqOpts: OpenAI.RequestOptions = {
      timeout: opts.timeoutMs ?? this.timeoutMs,
      signal: opts.signal,
      headers: opts.requestId ? { 'X-Client-Request-Id': opts.requestId } : undefined,
    };
    try {
      if (!this.stream) return OpenAIProvider.parse(await this.client.chat.completions.create(OpenAIProvider.body(req), reqOpts));
      const stream = await this.client.chat.completions.create(
        { ...OpenAIProvider.body(req), stream: true, stream_options: { include_usage: true } },
        reqOpts,
      );
      let text = '';
      let model = req.model;
      let finishReason: string = 'stop';
      let usage = { inputTokens: 0, outputTokens: 0 };
      let sawFinish = false;
      let refusal = '';
      for await (const chunk of stream) {
        model = chunk.model || model;
        const ch = chunk.choices?.[0];
        if (ch?.delta?.content) text += ch.delta.content;
        const r = (ch?.delta as { refusal?: string | null } | undefined)?.refusal;
        if (r) refusal += r;
        if (ch?.finish_reason) {
          finishReason = ch.finish_reason;
          sawFinish = true;
        }
        if (chunk.usage) usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens };
      }
      if (!sawFinish) throw new LlmError('stream ended without a finish_reason', 'bad_response');
      if (refusal) return { text: text || refusal, usage, model, finishReason: 'refusal' };
      return { text, usage, model, finishReason };
    } catch (err) {
      throw toLlmError(err);
    }
  }
}
