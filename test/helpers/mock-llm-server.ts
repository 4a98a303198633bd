// A local mock of the OpenAI and Anthropic APIs on 127.0.0.1 for tests and benches: chat completions (incl.
// streaming with usage), messages, files and batches for both, scriptable latency and faults, and story text
// derived deterministically from the prompt (and the client's request id) so filters can be exercised.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';

/** What the mock knows about a request when deciding how to answer. */
export interface MockContext {
  api: 'openai' | 'anthropic';
  path: string;
  /** X-Client-Request-Id sent by the client (the deterministic request id), if any. */
  requestId?: string;
  /** The last user message. */
  prompt: string;
  /** 0-based count of chat requests seen by this server. */
  n: number;
  /** How many earlier requests carried the same requestId. */
  seenBefore: number;
  stream: boolean;
  /** True when the request is executed inside a batch. */
  batch: boolean;
}

/** A scripted answer: an HTTP error, a broken body, a hang, a refusal, or a chosen text. */
export type MockFault =
  | { type: 'status'; status: number; retryAfterS?: number; retryAfterMs?: number }
  | { type: 'truncated' }
  | { type: 'hang' }
  | { type: 'refusal' }
  | { type: 'length' }
  | { type: 'text'; text: string };

export interface MockOptions {
  /** Fixed latency in ms, or a function of the request. */
  latencyMs?: number | ((ctx: MockContext) => number);
  /** Return a fault to inject, or undefined for a normal answer. */
  fault?: (ctx: MockContext) => MockFault | undefined;
  /** Batches end this many ms after creation (default 50). */
  batchDelayMs?: number;
  /** Keep a per-request log (default true; benches turn it off to keep memory flat). */
  log?: boolean;
}

/** One answered chat request (batch members included). */
export interface MockLogEntry {
  api: 'openai' | 'anthropic';
  requestId?: string;
  outcome: string;
  epoch: number;
  batch: boolean;
}

function hash32(s: string): number {
  return createHash('sha1').update(s).digest().readUInt32LE(0);
}

const NAMES = ['Lily', 'Ben', 'Tom', 'Mia', 'Sam', 'Anna', 'Lucy', 'Max'];
const EN_SENTENCES = [
  'The sun was up and the day was nice.', 'They played in the park all day.', 'Mom smiled and gave them a big hug.',
  'A little dog came to play with them.', 'They ran and laughed together.', 'The bird sang a happy song.',
  'Dad said they could go home soon.', 'It was a very good day.', 'They looked at the sky and saw a cloud.',
  'She asked her friend to help her.', 'He felt happy and kind.', 'They went back home before the night came.',
  'The cat was sleeping in the sun.', 'They shared the toys with each other.', 'Everyone was happy again.',
  'They liked to play with the ball.', 'The tree was very big and old.', 'Then they had a nice nap.',
];
const VI_SENTENCES = [
  'Hôm nay trời rất đẹp.', 'Các bạn nhỏ chơi trong công viên cả ngày.', 'Mẹ cười và ôm con thật chặt.',
  'Một chú chó nhỏ chạy đến chơi cùng.', 'Các bạn cùng chạy và cười vui vẻ.', 'Con chim hót một bài hát vui.',
  'Bố nói chúng ta sẽ về nhà sớm.', 'Đó là một ngày rất vui.', 'Các bạn nhìn lên trời và thấy một đám mây.',
  'Cô bé nhờ bạn giúp đỡ.', 'Cậu bé cảm thấy vui và tốt bụng.', 'Họ về nhà trước khi trời tối.',
  'Con mèo ngủ dưới nắng.', 'Các bạn chia đồ chơi cho nhau.', 'Mọi người lại vui vẻ.',
];

/** Extracts the three "quoted" words from a generation prompt (straight or typographic quotes). */
export function quotedWords(prompt: string): string[] {
  return [...prompt.matchAll(/["“”]([^"“”]+)["“”]/g)].map((m) => m[1]!);
}

/** The mock's answer text for a prompt: a story, a summary or a translation, deterministic in (prompt, salt). */
export function mockText(prompt: string, salt = ''): string {
  const h = hash32(prompt + '\u0000' + salt);
  const vi = /tiếng Việt|Vietnamese/i.test(prompt);
  if (/^(Summarize|Tóm tắt)/i.test(prompt.trim())) {
    const m = /named (\w+)/.exec(prompt);
    return vi ? 'Các bạn nhỏ chơi vui vẻ cùng nhau.' : `${m?.[1] ?? 'A child'} has a fun day and learns to share.`;
  }
  const sentences = vi ? VI_SENTENCES : EN_SENTENCES;
  const pick = (k: number) => sentences[(h >>> (k * 3)) % sentences.length]! + ' ' + sentences[(h + k * 7 + (h >>> 20)) % sentences.length]!;
  if (/^Translate/i.test(prompt.trim())) {
    const body = prompt.split('\n\n').slice(1).join(' ');
    const hb = hash32(body);
    const name = NAMES[hb % NAMES.length]!;
    return [`Ngày xưa, có một bạn nhỏ tên là ${name}.`, pick(1), pick(2), `Từ đó, ${name} luôn vui vẻ. (${hb % 997})`].join('\n');
  }
  const [verb, noun, adj] = quotedWords(prompt);
  const name = NAMES[h % NAMES.length]!;
  const mark = (h % 9973).toString();
  if (vi) {
    return [
      `Ngày xưa, có một bạn nhỏ tên là ${name}. ${name} có một ${noun ?? 'con mèo'} rất ${adj ?? 'đẹp'}.`,
      pick(1),
      `Một hôm, ${name} muốn ${verb ?? 'chơi'} cùng bạn. "Mình cùng ${verb ?? 'chơi'} nhé!" ${name} nói.`,
      pick(2),
      `Cuối cùng, mọi người đều vui. Số ${mark}.`,
    ].join('\n');
  }
  return [
    `Once upon a time, there was a little girl named ${name}. ${name} had a ${adj ?? 'nice'} ${noun ?? 'ball'}.`,
    pick(1),
    `One day, ${name} wanted to ${verb ?? 'play'} with a friend. "Let's ${verb ?? 'play'} together!" ${name} said.`,
    pick(2),
    `In the end, everyone was happy. ${name} had ${mark} friends.`,
  ].join('\n');
}

function tokens(s: string): number {
  return Math.max(1, Math.ceil(s.length / 4));
}

interface StoredBatch {
  api: 'openai' | 'anthropic';
  id: string;
  created: number;
  endsAt: number;
  total: number;
  metadata?: Record<string, string>;
  inputFileId?: string;
  outputFileId?: string;
  results?: string;
  lines: Array<{ customId: string; body: Record<string, unknown> }>;
}

/** The mock server. `start()` listens on 127.0.0.1:0; `url` is http://127.0.0.1:PORT. */
export class MockLlmServer {
  readonly log: MockLogEntry[] = [];
  /** Bumped by tests between runs, recorded in each log entry. */
  epoch = 0;
  /** Counts: every chat request, answered ok, and faults by type. */
  readonly counts = { requests: 0, ok: 0, faults: {} as Record<string, number> };
  private readonly seen = new Map<string, number>();
  private readonly files = new Map<string, string>();
  private readonly batches = new Map<string, StoredBatch>();
  private readonly sockets = new Set<import('node:net').Socket>();
  private server?: http.Server;
  private nextId = 1;
  url = '';

  constructor(public opts: MockOptions = {}) {}

  async start(port = 0): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Batches created so far (both APIs). */
  get batchCount(): number {
    return this.batches.size;
  }

  /** Request ids answered successfully, with how many times each. */
  delivered(epoch?: number): Map<string, number> {
    const m = new Map<string, number>();
    for (const e of this.log) {
      if (e.outcome !== 'ok' || !e.requestId || (epoch !== undefined && e.epoch !== epoch)) continue;
      m.set(e.requestId, (m.get(e.requestId) ?? 0) + 1);
    }
    return m;
  }

  private record(ctx: MockContext, outcome: string): void {
    if (outcome === 'ok') this.counts.ok++;
    else this.counts.faults[outcome] = (this.counts.faults[outcome] ?? 0) + 1;
    if (this.opts.log !== false) this.log.push({ api: ctx.api, requestId: ctx.requestId, outcome, epoch: this.epoch, batch: ctx.batch });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://x');
      const p = url.pathname.replace(/\/+$/, '');
      try {
        if (req.method === 'POST' && p === '/v1/chat/completions') return this.chat('openai', req, res, JSON.parse(raw.toString('utf8')));
        if (req.method === 'POST' && p === '/v1/messages') return this.chat('anthropic', req, res, JSON.parse(raw.toString('utf8')));
        if (req.method === 'POST' && p === '/v1/files') return void this.uploadFile(req, raw, res);
        let m: RegExpExecArray | null;
        if (req.method === 'GET' && (m = /^\/v1\/files\/([^/]+)\/content$/.exec(p))) {
          const f = this.files.get(m[1]!);
          if (f === undefined) return json(res, 404, { error: { message: 'no such file' } });
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          return void res.end(f);
        }
        if (req.method === 'POST' && p === '/v1/batches') return this.createOpenAIBatch(res, JSON.parse(raw.toString('utf8')));
        if (req.method === 'GET' && p === '/v1/batches') {
          const data = [...this.batches.values()].filter((b) => b.api === 'openai').reverse().map((b) => this.openaiBatchView(b));
          return json(res, 200, { object: 'list', data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
        }
        if (req.method === 'GET' && (m = /^\/v1\/batches\/([^/]+)$/.exec(p))) {
          const b = this.batches.get(m[1]!);
          return b ? json(res, 200, this.openaiBatchView(b)) : json(res, 404, { error: { message: 'no such batch' } });
        }
        if (req.method === 'POST' && p === '/v1/messages/batches') return this.createAnthropicBatch(res, JSON.parse(raw.toString('utf8')));
        if (req.method === 'GET' && p === '/v1/messages/batches') {
          const data = [...this.batches.values()].filter((b) => b.api === 'anthropic').reverse().map((b) => this.anthropicBatchView(b));
          return json(res, 200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
        }
        if (req.method === 'GET' && (m = /^\/v1\/messages\/batches\/([^/]+)\/results$/.exec(p))) {
          const b = this.batches.get(m[1]!);
          if (!b || !this.finish(b)) return json(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'no results' } });
          res.writeHead(200, { 'content-type': 'application/binary' });
          return void res.end(b.results);
        }
        if (req.method === 'GET' && (m = /^\/v1\/messages\/batches\/([^/]+)$/.exec(p))) {
          const b = this.batches.get(m[1]!);
          return b ? json(res, 200, this.anthropicBatchView(b)) : json(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'no such batch' } });
        }
        json(res, 404, { error: { message: `mock: no route ${req.method} ${p}` } });
      } catch (e) {
        json(res, 400, { error: { message: `mock: bad request: ${(e as Error).message}` } });
      }
    });
  }

  private context(api: 'openai' | 'anthropic', path: string, body: Record<string, unknown>, requestId: string | undefined, batch: boolean): MockContext {
    const messages = (body.messages as Array<{ role: string; content: unknown }>) ?? [];
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    const prompt = typeof lastUser?.content === 'string' ? lastUser.content : JSON.stringify(lastUser?.content ?? '');
    const seenBefore = requestId ? (this.seen.get(requestId) ?? 0) : 0;
    if (requestId) this.seen.set(requestId, seenBefore + 1);
    return { api, path, requestId, prompt, n: this.counts.requests++, seenBefore, stream: Boolean(body.stream), batch };
  }

  /** The successful response body (and its text) for a chat request, or a fault answer. */
  private answer(ctx: MockContext, body: Record<string, unknown>, fault: MockFault | undefined): { text: string; finish: string; refusal?: string } {
    if (fault?.type === 'text') return { text: fault.text, finish: 'stop' };
    if (fault?.type === 'refusal') return { text: "I'm sorry, but I can't help with that request.", finish: 'refusal', refusal: "I'm sorry, but I can't help with that request." };
    const text = mockText(ctx.prompt, ctx.requestId ?? '');
    if (fault?.type === 'length') return { text: text.slice(0, Math.floor(text.length / 2)), finish: 'length' };
    void body;
    return { text, finish: 'stop' };
  }

  private openaiBody(ctx: MockContext, body: Record<string, unknown>, a: { text: string; finish: string; refusal?: string }): Record<string, unknown> {
    const id = `chatcmpl-${this.nextId++}`;
    return {
      id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: String(body.model ?? 'mock'),
      choices: [{ index: 0, message: { role: 'assistant', content: a.refusal ? null : a.text, refusal: a.refusal ?? null }, finish_reason: a.finish === 'refusal' ? 'stop' : a.finish, logprobs: null }],
      usage: { prompt_tokens: tokens(ctx.prompt), completion_tokens: tokens(a.text), total_tokens: tokens(ctx.prompt) + tokens(a.text) },
    };
  }

  private anthropicBody(ctx: MockContext, body: Record<string, unknown>, a: { text: string; finish: string }): Record<string, unknown> {
    return {
      id: `msg_${this.nextId++}`,
      type: 'message',
      role: 'assistant',
      model: String(body.model ?? 'mock'),
      content: [{ type: 'text', text: a.text }],
      stop_reason: a.finish === 'length' ? 'max_tokens' : a.finish === 'refusal' ? 'refusal' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: tokens(ctx.prompt), output_tokens: tokens(a.text) },
    };
  }

  private chat(api: 'openai' | 'anthropic', req: http.IncomingMessage, res: http.ServerResponse, body: Record<string, unknown>): void {
    const requestId = (req.headers['x-client-request-id'] as string | undefined) ?? undefined;
    const ctx = this.context(api, req.url ?? '', body, requestId, false);
    const fault = this.opts.fault?.(ctx);
    const lat = typeof this.opts.latencyMs === 'function' ? this.opts.latencyMs(ctx) : (this.opts.latencyMs ?? 0);
    const respond = () => {
      if (res.destroyed) return;
      if (fault?.type === 'hang') {
        this.record(ctx, 'hang');
        return; // never answers; the client's timeout must fire
      }
      if (fault?.type === 'status') {
        this.record(ctx, `status_${fault.status}`);
        const headers: Record<string, string> = {};
        if (fault.retryAfterS !== undefined) headers['retry-after'] = String(fault.retryAfterS);
        if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
        const err = api === 'openai'
          ? { error: { message: `mock status ${fault.status}`, type: fault.status === 429 ? 'rate_limit_exceeded' : 'server_error', code: null } }
          : { type: 'error', error: { type: fault.status === 429 ? 'rate_limit_error' : 'api_error', message: `mock status ${fault.status}` } };
        return json(res, fault.status, err, headers);
      }
      const a = this.answer(ctx, body, fault);
      const full = api === 'openai' ? this.openaiBody(ctx, body, a) : this.anthropicBody(ctx, body, a);
      if (fault?.type === 'truncated') {
        this.record(ctx, 'truncated');
        const s = JSON.stringify(full);
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(s.slice(0, Math.floor(s.length / 2)));
      }
      this.record(ctx, 'ok');
      if (api === 'openai' && ctx.stream) return this.streamOpenAI(res, full, a);
      json(res, 200, full);
    };
    if (lat > 0) setTimeout(respond, lat);
    else respond();
  }

  private streamOpenAI(res: http.ServerResponse, full: Record<string, unknown>, a: { text: string; finish: string }): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const base = { id: full.id, object: 'chat.completion.chunk', created: full.created, model: full.model };
    const parts = a.text.match(/[\s\S]{1,40}/g) ?? [''];
    let out = `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })}\n\n`;
    const key = a.finish === 'refusal' ? 'refusal' : 'content';
    for (const p of parts) out += `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { [key]: p }, finish_reason: null }] })}\n\n`;
    out += `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: a.finish === 'refusal' ? 'stop' : a.finish }] })}\n\n`;
    out += `data: ${JSON.stringify({ ...base, choices: [], usage: full.usage })}\n\n`;
    out += 'data: [DONE]\n\n';
    res.end(out);
  }

  private async uploadFile(req: http.IncomingMessage, raw: Buffer, res: http.ServerResponse): Promise<void> {
    try {
      const form = await new Request('http://x/', { method: 'POST', headers: req.headers as Record<string, string>, body: new Uint8Array(raw) }).formData();
      const file = form.get('file');
      if (!file || typeof file === 'string') return json(res, 400, { error: { message: 'file missing' } });
      const id = `file-${this.nextId++}`;
      this.files.set(id, await file.text());
      json(res, 200, { id, object: 'file', bytes: file.size, created_at: Math.floor(Date.now() / 1000), filename: file.name, purpose: String(form.get('purpose')), status: 'processed' });
    } catch (e) {
      json(res, 400, { error: { message: `mock: bad upload: ${(e as Error).message}` } });
    }
  }

  private createOpenAIBatch(res: http.ServerResponse, body: Record<string, unknown>): void {
    const input = this.files.get(String(body.input_file_id));
    if (input === undefined) return json(res, 400, { error: { message: 'input_file_id not found' } });
    const lines = input.split('\n').filter((l) => l.trim()).map((l) => {
      const j = JSON.parse(l) as { custom_id: string; body: Record<string, unknown> };
      return { customId: j.custom_id, body: j.body };
    });
    const b: StoredBatch = {
      api: 'openai', id: `batch_${this.nextId++}`, created: Date.now(), endsAt: Date.now() + (this.opts.batchDelayMs ?? 50),
      total: lines.length, metadata: body.metadata as Record<string, string>, inputFileId: String(body.input_file_id), lines,
    };
    this.batches.set(b.id, b);
    json(res, 200, this.openaiBatchView(b));
  }

  private createAnthropicBatch(res: http.ServerResponse, body: Record<string, unknown>): void {
    const reqs = (body.requests as Array<{ custom_id: string; params: Record<string, unknown> }>) ?? [];
    const b: StoredBatch = {
      api: 'anthropic', id: `msgbatch_${this.nextId++}`, created: Date.now(), endsAt: Date.now() + (this.opts.batchDelayMs ?? 50),
      total: reqs.length, lines: reqs.map((r) => ({ customId: r.custom_id, body: r.params })),
    };
    this.batches.set(b.id, b);
    json(res, 200, this.anthropicBatchView(b));
  }

  /** Runs a batch's requests once it is due; returns true when it has ended. */
  private finish(b: StoredBatch): boolean {
    if (b.results !== undefined) return true;
    if (Date.now() < b.endsAt) return false;
    let out = '';
    for (const line of b.lines) {
      const ctx = this.context(b.api, 'batch', line.body, line.customId, true);
      const fault = this.opts.fault?.(ctx);
      if (fault?.type === 'status' || fault?.type === 'hang' || fault?.type === 'truncated') {
        this.record(ctx, 'batch_error');
        out += JSON.stringify(b.api === 'openai'
          ? { id: `r${this.nextId++}`, custom_id: line.customId, response: { status_code: 500, request_id: 'x', body: { error: { message: 'mock batch error' } } }, error: null }
          : { custom_id: line.customId, result: { type: 'errored', error: { type: 'error', error: { type: 'api_error', message: 'mock batch error' } } } }) + '\n';
        continue;
      }
      const a = this.answer(ctx, line.body, fault);
      this.record(ctx, 'ok');
      out += JSON.stringify(b.api === 'openai'
        ? { id: `r${this.nextId++}`, custom_id: line.customId, response: { status_code: 200, request_id: 'x', body: this.openaiBody(ctx, line.body, a) }, error: null }
        : { custom_id: line.customId, result: { type: 'succeeded', message: this.anthropicBody(ctx, line.body, a) } }) + '\n';
    }
    b.results = out;
    if (b.api === 'openai') {
      b.outputFileId = `file-${this.nextId++}`;
      this.files.set(b.outputFileId, out);
    }
    return true;
  }

  private openaiBatchView(b: StoredBatch): Record<string, unknown> {
    const ended = this.finish(b);
    return {
      id: b.id, object: 'batch', endpoint: '/v1/chat/completions', errors: null, input_file_id: b.inputFileId, completion_window: '24h',
      status: ended ? 'completed' : 'in_progress', output_file_id: ended ? b.outputFileId : null, error_file_id: null,
      created_at: Math.floor(b.created / 1000), metadata: b.metadata ?? null,
      request_counts: { total: b.total, completed: ended ? b.total : 0, failed: 0 },
    };
  }

  private anthropicBatchView(b: StoredBatch): Record<string, unknown> {
    const ended = this.finish(b);
    return {
      id: b.id, type: 'message_batch', processing_status: ended ? 'ended' : 'in_progress',
      request_counts: { processing: ended ? 0 : b.total, succeeded: ended ? b.total : 0, errored: 0, canceled: 0, expired: 0 },
      created_at: new Date(b.created).toISOString(), ended_at: ended ? new Date().toISOString() : null,
      expires_at: new Date(b.created + 86400_000).toISOString(), cancel_initiated_at: null, archived_at: null,
      results_url: ended ? `${this.url}/v1/messages/batches/${b.id}/results` : null,
    };
  }
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s), ...headers });
  res.end(s);
}

/** Starts a mock server; `await using`-free helper for tests. */
export async function startMock(opts: MockOptions = {}): Promise<MockLlmServer> {
  return new MockLlmServer(opts).start();
}
