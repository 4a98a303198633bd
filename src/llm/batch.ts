// Batch mode: OpenAI Batch API (JSONL upload, create, poll, download) and Anthropic Message Batches, half price.
import { toFile } from 'openai';
import { AnthropicProvider, toLlmErrorAnthropic } from './anthropic.ts';
import { OpenAIProvider, toLlmError } from './openai.ts';
import type { ChatRequest, ChatResponse } from './types.ts';

/** One request in a batch; `customId` is the deterministic request id. */
export interface BatchItem {
  customId: string;
  request: ChatRequest;
}

/** A batch's progress. `state` is 'running' until the provider says it ended (then results can be read). */
export interface BatchStatus {
  id: string;
  state: 'running' | 'ended' | 'failed';
  raw: string;
  total?: number;
  done?: number;
}

/** One result line: a response, or the provider's error for that request. */
export interface BatchResult {
  customId: string;
  response?: ChatResponse;
  error?: string;
}

/** The provider-neutral batch interface. `key` is stored with the batch so a crashed submit can be found again. */
export interface BatchClient {
  readonly name: string;
  submit(items: BatchItem[], key: string): Promise<string>;
  /**
   * Remote ids of batches that may have been submitted earlier with this key (after a crash between create and
   * journal): exact for OpenAI (metadata); for Anthropic, candidates created after `hint.createdAfter` with the same
   * request count, newest first, which the caller must verify against the results' ids.
   */
  findByKey(key: string, hint?: { createdAfter: number; count: number }): Promise<string[]>;
  /** True when findByKey answers exactly (no need to verify the results' ids). */
  readonly exactFind: boolean;
  status(id: string): Promise<BatchStatus>;
  results(id: string): Promise<BatchResult[]>;
}

/** OpenAI Batch API over /v1/chat/completions. */
export class OpenAIBatchClient implements BatchClient {
  readonly name = 'openai';
  readonly exactFind = true;
  constructor(private readonly provider: OpenAIProvider) {}

  /** The JSONL request file body. */
  static requestFile(items: BatchItem[]): string {
    let s = '';
    for (const it of items) {
      s += JSON.stringify({ custom_id: it.customId, method: 'POST', url: '/v1/chat/completions', body: OpenAIProvider.body(it.request) }) + '\n';
    }
    return s;
  }

  async submit(items: BatchItem[], key: string): Promise<string> {
    const c = this.provider.client;
    try {
      const file = await c.files.create({ file: await toFile(Buffer.from(OpenAIBatchClient.requestFile(items)), `tinystories-${key}.jsonl`), purpose: 'batch' });
      const batch = await c.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        metadata: { tinystories_key: key },
      });
      return batch.id;
    } catch (e) {
      throw toLlmError(e);
    }
  }

  async findByKey(key: string): Promise<string[]> {
    try {
      let seen = 0;
      for await (const b of this.provider.client.batches.list({ limit: 100 })) {
        if ((b.metadata as Record<string, string> | null)?.tinystories_key === key && !['failed', 'expired', 'cancelled'].includes(b.status)) return [b.id];
        if (++seen >= 500) break;
      }
      return [];
    } catch (e) {
      throw toLlmError(e);
    }
  }

  async status(id: string): Promise<BatchStatus> {
    try {
      const b = await this.provider.client.batches.retrieve(id);
      const ended = b.status === 'completed' || b.status === 'expired' || b.status === 'cancelled';
      const failed = b.status === 'failed';
      return {
        id,
        state: failed ? 'failed' : ended ? 'ended' : 'running',
        raw: b.status,
        total: b.request_counts?.total,
        done: b.request_counts ? b.request_counts.completed + b.request_counts.failed : undefined,
      };
    } catch (e) {
      throw toLlmError(e);
    }
  }

  async results(id: string): Promise<BatchResult[]> {
    const c = this.provider.client;
    try {
      const b = await c.batches.retrieve(id);
      const out: BatchResult[] = [];
      for (const fileId of [b.output_file_id, b.error_file_id]) {
        if (!fileId) continue;
        const text = await (await c.files.content(fileId)).text();
        for (const line of text.split('\n')) {
          if (!line.trim()) continue;
          const r = JSON.parse(line) as { custom_id: string; response?: { status_code: number; body: unknown }; error?: { message?: string } | null };
          if (r.response && r.response.status_code === 200) {
            try {
              out.push({ customId: r.custom_id, response: OpenAIProvider.parse(r.response.body as never) });
            } catch (e) {
              out.push({ customId: r.custom_id, error: (e as Error).message });
            }
          } else {
            out.push({ customId: r.custom_id, error: r.error?.message ?? `status ${r.response?.status_code ?? '?'}` });
          }
        }
      }
      return out;
    } catch (e) {
      throw toLlmError(e);
    }
  }
}

/** Anthropic Message Batches. They carry no metadata, so findByKey matches on creation time and request count. */
export class AnthropicBatchClient implements BatchClient {
  readonly name = 'anthropic';
  readonly exactFind = false;
  constructor(private readonly provider: AnthropicProvider) {}

  async submit(items: BatchItem[]): Promise<string> {
    try {
      const b = await this.provider.client.messages.batches.create({
        requests: items.map((it) => ({ custom_id: it.customId, params: AnthropicProvider.body(it.request) })),
      });
      return b.id;
    } catch (e) {
      throw toLlmErrorAnthropic(e);
    }
  }

  async findByKey(_key: string, hint?: { createdAfter: number; count: number }): Promise<string[]> {
    if (!hint) return [];
    try {
      const out: string[] = [];
      let seen = 0;
      for await (const b of this.provider.client.messages.batches.list({ limit: 100 })) {
        const created = Date.parse(b.created_at);
        // newest first: stop once batches are older than the intent (minus clock skew)
        if (created < hint.createdAfter - 120_000 || ++seen > 500) break;
        const n = b.request_counts;
        if (n.processing + n.succeeded + n.errored + n.canceled + n.expired === hint.count) out.push(b.id);
      }
      return out;
    } catch (e) {
      throw toLlmErrorAnthropic(e);
    }
  }

  async status(id: string): Promise<BatchStatus> {
    try {
      const b = await this.provider.client.messages.batches.retrieve(id);
      const n = b.request_counts;
      return {
        id,
        state: b.processing_status === 'ended' ? 'ended' : 'running',
        raw: b.processing_status,
        total: n ? n.processing + n.succeeded + n.errored + n.canceled + n.expired : undefined,
        done: n ? n.succeeded + n.errored + n.canceled + n.expired : undefined,
      };
    } catch (e) {
      throw toLlmErrorAnthropic(e);
    }
  }

  async results(id: string): Promise<BatchResult[]> {
    try {
      const out: BatchResult[] = [];
      for await (const r of await this.provider.client.messages.batches.results(id)) {
        if (r.result.type === 'succeeded') out.push({ customId: r.custom_id, response: AnthropicProvider.parse(r.result.message) });
        else out.push({ customId: r.custom_id, error: r.result.type === 'errored' ? JSON.stringify(r.result.error) : r.result.type });
      }
      return out;
    } catch (e) {
      throw toLlmErrorAnthropic(e);
    }
  }
}
