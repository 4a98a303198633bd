// A scripted LLM judge on 127.0.0.1 speaking the OpenAI chat-completions and Anthropic messages APIs. The script
// sees the whole conversation, so a test can answer turn 2 according to the completion shown in turn 1.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';

/** What the script answers: a text, an HTTP error status, or nothing (the connection hangs until the client gives up). */
export type JudgeReply = { text: string } | { status: number } | { hang: true };

export interface JudgeRequestInfo {
  api: 'openai' | 'anthropic';
  messages: Array<{ role: string; content: string }>;
  model: string;
  temperature: number | null;
  json: boolean;
  /** 0-based index of this request on this server. */
  n: number;
}

/** The student's completion shown in turn 1 (the text after `***`, up to the closing paragraph). */
export function completionOf(messages: Array<{ role: string; content: string }>): string {
  const first = messages.find((m) => m.role === 'user')?.content ?? '';
  // the wording itself contains *** twice: cut the closing paragraph, then take what follows the last ***
  const body = first.split('\n\nPlease provide your general assessment')[0]!;
  const i = body.lastIndexOf('***');
  return i < 0 ? '' : body.slice(i + 3);
}

/** A deterministic, well-formed grade line for a completion (the default script's turn-2 answer). */
export function defaultGrades(completion: string): { grammar: number; creativity: number; consistency: number; plot: number; age: string } {
  const h = createHash('sha1').update(completion).digest();
  return { grammar: 3 + (h[0]! % 7), creativity: 2 + (h[1]! % 8), consistency: 1 + (h[2]! % 9), plot: h[3]! % 11, age: 'ABCDEF'[h[4]! % 6]! };
}

/** The default script: turn 1 gets an assessment, turn 2 the paper's grade line (JSON in JSON mode). */
export function defaultScript(req: JudgeRequestInfo): JudgeReply {
  if (req.messages.length === 1) return { text: 'The completion is mostly grammatical and continues the beginning.' };
  const g = defaultGrades(completionOf(req.messages));
  if (req.json) return { text: JSON.stringify({ grammar: g.grammar, creativity: g.creativity, consistency: g.consistency, plot: g.plot, age_group: g.age }) };
  return { text: `Grammar: ${g.grammar}/10, Creativity: ${g.creativity}/10, Consistency: ${g.consistency}/10, Plot: ${g.plot}/10, Age group: ${g.age}` };
}

/** The mock judge. `requests` logs every request. */
export class MockJudge {
  readonly requests: JudgeRequestInfo[] = [];
  url = '';
  private server?: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();
  constructor(public script: (req: JudgeRequestInfo) => JudgeReply = defaultScript) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const path = (req.url ?? '').replace(/\/+$/, '');
    const api = path.endsWith('/chat/completions') ? 'openai' : path.endsWith('/messages') ? 'anthropic' : null;
    if (req.method !== 'POST' || !api) return send(res, 404, { error: { message: `no route ${req.method} ${path}` } });
    const body = JSON.parse(raw) as Record<string, unknown>;
    const messages = ((body.messages as Array<{ role: string; content: unknown }>) ?? []).map((m) => ({
      role: m.role,
      content: typeof m.content === 'string' ? m.content : (m.content as Array<{ text?: string }>).map((p) => p.text ?? '').join(''),
    }));
    const info: JudgeRequestInfo = {
      api,
      messages,
      model: String(body.model),
      temperature: typeof body.temperature === 'number' ? body.temperature : null,
      json: (body.response_format as { type?: string } | undefined)?.type === 'json_object',
      n: this.requests.length,
    };
    this.requests.push(info);
    const reply = this.script(info);
    if ('hang' in reply) return;
    if ('status' in reply) return send(res, reply.status, api === 'openai' ? { error: { message: `scripted ${reply.status}` } } : { type: 'error', error: { type: 'api_error', message: `scripted ${reply.status}` } });
    const inTok = Math.ceil(messages.reduce((s, m) => s + m.content.length, 0) / 4);
    const outTok = Math.ceil(reply.text.length / 4);
    const model = `${info.model}-2025-01-01`;
    if (api === 'openai') {
      send(res, 200, {
        id: `chatcmpl-${info.n}`,
        object: 'chat.completion',
        created: 0,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: reply.text, refusal: null }, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: inTok, completion_tokens: outTok, total_tokens: inTok + outTok },
      });
    } else {
      send(res, 200, { id: `msg_${info.n}`, type: 'message', role: 'assistant', model, content: [{ type: 'text', text: reply.text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: inTok, output_tokens: outTok } });
    }
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

/** Starts a mock judge with a script (default: well-formed grades derived from each completion). */
export async function startMockJudge(script?: (req: JudgeRequestInfo) => JudgeReply): Promise<MockJudge> {
  return new MockJudge(script).start();
}
