// The LLM provider flags shared by the synthesis commands (generate, translate, gsm generate) and their parsing into
// provider, scheduler, prices and batch settings.
import type { Command } from 'commander';
import { createBatchClient, createProvider, type ProviderName } from '../llm/index.ts';
import { PriceTable } from '../llm/pricing.ts';
import { UserError } from '../util/errors.ts';
import { num } from './_flags.ts';

export interface ProviderFlags {
  provider: string;
  baseUrl?: string;
  model?: string;
  concurrency?: string;
  rpm?: string;
  tpm?: string;
  timeout?: string;
  maxRetries?: string;
  temperature?: string;
  maxTokens?: string;
  prices?: string;
  batch?: boolean;
  poll?: string;
  stream?: boolean;
  quiet?: boolean;
  attempts?: string;
  maxFailures?: string;
}

/** Defaults that differ between commands (a 10-problem gsm call needs more tokens and time than a story). */
export interface ProviderDefaults {
  /** --timeout in seconds (default '120'). */
  timeout?: string;
  /** --max-tokens (default '1000'). */
  maxTokens?: string;
  /** What one request produces, for the --max-tokens help (default 'story'). */
  request?: string;
  /** What --attempts counts requests per (default 'record'). */
  unit?: string;
}

/** Adds the provider/scheduler flags shared by generate, translate and gsm generate. */
export function providerOptions(cmd: Command, d: ProviderDefaults = {}): Command {
  return cmd
    .option('--provider <name>', 'openai (any OpenAI-compatible server) or anthropic', 'openai')
    .option('--base-url <url>', 'API base URL, e.g. http://127.0.0.1:8000/v1 (vLLM, Ollama, llama.cpp, OpenRouter); Anthropic: host without /v1')
    .option('--model <id>', 'model id')
    .option('--concurrency <n>', 'requests in flight', '16')
    .option('--rpm <n>', 'requests per minute limit')
    .option('--tpm <n>', 'tokens per minute limit')
    .option('--timeout <s>', 'per-request timeout in seconds', d.timeout ?? '120')
    .option('--max-retries <n>', 'retries on 429/5xx/timeouts', '6')
    .option('--temperature <t>', 'sampling temperature (default 1 for openai, the API default for anthropic)')
    .option('--max-tokens <n>', `max output tokens per ${d.request ?? 'story'}`, d.maxTokens ?? '1000')
    .option('--prices <file>', 'JSON price overrides {"model": {"input": usd_per_M, "output": usd_per_M}}')
    .option('--batch', 'use the provider batch API (half price, results within 24 h)')
    .option('--poll <s>', 'batch poll interval in seconds', '30')
    .option('--stream', 'stream responses (OpenAI-compatible)')
    .option('--attempts <n>', `requests per ${d.unit ?? 'record'} before it is given up`, '2')
    .option('--max-failures <n>', 'stop after this many requests failed even after retries (rerun resumes)', '20')
    .option('--quiet', 'no progress output');
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s); // URL.parse is Node 22+
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** Provider, scheduler, prices and batch settings from the shared flags. */
export function providerSetup(f: ProviderFlags) {
  if (f.provider !== 'openai' && f.provider !== 'anthropic') throw new UserError(`--provider: expected openai or anthropic, got "${f.provider}"`);
  if (!f.model) throw new UserError('--model <id> is required (e.g. gpt-4o-mini, claude-haiku-4-5)');
  // a malformed URL would otherwise only show up as retried connection errors, minutes later
  if (f.baseUrl !== undefined && !isHttpUrl(f.baseUrl)) {
    throw new UserError(`--base-url: expected an http:// or https:// URL such as http://127.0.0.1:8000/v1, got "${f.baseUrl}"`);
  }
  const timeoutMs = (num('--timeout', f.timeout) ?? 120) * 1000;
  const provider = createProvider({ provider: f.provider as ProviderName, baseURL: f.baseUrl, timeoutMs, stream: f.stream });
  const temperature = num('--temperature', f.temperature) ?? (f.provider === 'openai' ? 1 : undefined);
  return {
    provider,
    providerName: f.provider,
    model: f.model,
    temperature,
    maxTokens: num('--max-tokens', f.maxTokens, { int: true, min: 1 }) ?? 1000,
    scheduler: {
      concurrency: num('--concurrency', f.concurrency, { int: true, min: 1 }),
      rpm: num('--rpm', f.rpm, { min: 1 }),
      tpm: num('--tpm', f.tpm, { min: 1 }),
      maxRetries: num('--max-retries', f.maxRetries, { int: true }),
      timeoutMs,
    },
    prices: f.prices ? PriceTable.fromFile(f.prices) : new PriceTable(),
    batch: f.batch ? { client: createBatchClient(provider), pollMs: (num('--poll', f.poll) ?? 30) * 1000 } : undefined,
    attemptsPerSlot: num('--attempts', f.attempts, { int: true, min: 1 }),
    maxFailures: num('--max-failures', f.maxFailures, { int: true, min: 1 }),
    quiet: f.quiet,
  };
}
