// The LLM provider layer: create a provider/batch client by name; re-exports the pieces.
import { AnthropicProvider } from './anthropic.ts';
import { AnthropicBatchClient, OpenAIBatchClient, type BatchClient } from './batch.ts';
import { OpenAIProvider } from './openai.ts';
import type { ChatProvider, ProviderName } from './types.ts';
import { UserError } from '../util/errors.ts';

export type { ProviderName };

export interface ProviderConfig {
  provider: ProviderName;
  baseURL?: string;
  timeoutMs?: number;
  /** OpenAI-compatible only: use streaming responses. */
  stream?: boolean;
}

/** Builds a ChatProvider; API keys come from OPENAI_API_KEY / ANTHROPIC_API_KEY only. */
export function createProvider(cfg: ProviderConfig): ChatProvider {
  if (cfg.provider === 'openai') {
    // Local OpenAI-compatible servers (vLLM, Ollama, llama.cpp) ignore the key but the SDK wants one.
    const key = process.env.OPENAI_API_KEY ?? (cfg.baseURL && /\/\/(127\.0\.0\.1|localhost)[:/]/.test(cfg.baseURL) ? 'local' : undefined);
    if (!key) throw new UserError('OPENAI_API_KEY is not set; export it (keys are read from the environment only)');
    return new OpenAIProvider({ baseURL: cfg.baseURL, apiKey: key, stream: cfg.stream, timeoutMs: cfg.timeoutMs });
  }
  if (cfg.provider === 'anthropic') {
    const key = process.env.ANTHROPIC_API_KEY ?? (cfg.baseURL && /\/\/(127\.0\.0\.1|localhost)[:/]/.test(cfg.baseURL) ? 'local' : undefined);
    if (!key) throw new UserError('ANTHROPIC_API_KEY is not set; export it (keys are read from the environment only)');
    return new AnthropicProvider({ baseURL: cfg.baseURL, apiKey: key, timeoutMs: cfg.timeoutMs });
  }
  throw new UserError(`--provider: expected openai or anthropic, got "${String(cfg.provider)}"`);
}

/** The batch client for a provider made by createProvider. */
export function createBatchClient(provider: ChatProvider): BatchClient {
  if (provider instanceof OpenAIProvider) return new OpenAIBatchClient(provider);
  if (provider instanceof AnthropicProvider) return new AnthropicBatchClient(provider);
  throw new UserError(`batch mode is not available for provider ${provider.name}`);
}

export * from './types.ts';
export { OpenAIProvider } from './openai.ts';
export { AnthropicProvider } from './anthropic.ts';
export { Scheduler, TokenBucket, type SchedulerOptions, type SchedulerStats } from './scheduler.ts';
export { PriceTable, DEFAULT_PRICES, type ModelPrice } from './pricing.ts';
export { OpenAIBatchClient, AnthropicBatchClient, type BatchClient, type BatchItem, type BatchResult, type BatchStatus } from './batch.ts';
