// The provider-neutral chat interface: one request/response shape for OpenAI-compatible servers and Anthropic.

/** The chat APIs createProvider (llm/index.ts) speaks. */
export type ProviderName = 'openai' | 'anthropic';

/** One chat message; `system` messages are moved to Anthropic's `system` field by its provider. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Token counts as billed by the provider. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** A chat completion request, the same for every provider. */
export interface ChatRequest {
  messages: ChatMessage[];
  model: string;
  temperature?: number;
  maxTokens: number;
  /** 'json' asks for a JSON object (OpenAI response_format; Anthropic gets an instruction only). */
  responseFormat?: 'text' | 'json';
}

/** Why generation stopped: 'stop' (natural end), 'length' (max tokens), 'refusal'/'content_filter', or the raw value. */
export type FinishReason = 'stop' | 'length' | 'refusal' | 'content_filter' | (string & {});

/** A chat completion. */
export interface ChatResponse {
  text: string;
  usage: Usage;
  /** The model id the server reports (may carry a date suffix). */
  model: string;
  finishReason: FinishReason;
}

/** Per-call options: the deterministic request id (sent as X-Client-Request-Id) and the timeout. */
export interface CallOptions {
  requestId?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Anything that answers chat requests: an OpenAI-compatible server, Anthropic, or a test double. */
export interface ChatProvider {
  readonly name: string;
  complete(req: ChatRequest, opts?: CallOptions): Promise<ChatResponse>;
}

/** What went wrong with a call, classified for the retry policy. */
export type LlmErrorKind = 'rate_limit' | 'server' | 'timeout' | 'connection' | 'bad_response' | 'client' | 'auth';

/** A failed call. `retryable` errors are retried by the Scheduler; `retryAfterMs` comes from Retry-After headers. */
export class LlmError extends Error {
  override name = 'LlmError';
  constructor(
    message: string,
    readonly kind: LlmErrorKind,
    readonly status?: number,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  get retryable(): boolean {
    return this.kind !== 'client' && this.kind !== 'auth';
  }
}

/** Parses Retry-After (seconds or HTTP date) and retry-after-ms headers into milliseconds. */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined | null): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers.get('retry-after');
  if (!ra) return undefined;
  const secs = Number(ra);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(ra);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** Maps an HTTP status to an error kind. */
export function kindForStatus(status: number | undefined): LlmErrorKind {
  if (status === undefined) return 'connection';
  if (status === 429) return 'rate_limit';
  if (status === 401 || status === 403) return 'auth';
  if (status === 408) return 'timeout';
  if (status >= 500) return 'server';
  return 'client';
}

/** Rough token estimate (4 characters per token) used for TPM budgeting before the real usage is known. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
