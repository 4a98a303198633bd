// Client overhead of the LLM layer (OpenAI SDK provider + Scheduler) against the local mock in a child process:
// requests/s at zero latency and at 200 ms latency with concurrency 256, and RSS/heap over a long run.
// Peer measured in the same run: bare `fetch` to the same mock at the same concurrency (the HTTP stack's floor).
// Usage: npx tsx bench/llm-throughput.ts [--quick] [--requests N]
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OpenAIProvider } from '../src/llm/openai.ts';
import { AnthropicProvider } from '../src/llm/anthropic.ts';
import { Scheduler } from '../src/llm/scheduler.ts';
import type { ChatProvider, ChatRequest } from '../src/llm/types.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);

if (args[0] === '--serve') {
  const { MockLlmServer } = await import('../test/helpers/mock-llm-server.ts');
  const m = await new MockLlmServer({ latencyMs: Number(args[1] ?? 0), log: false }).start();
  console.log(m.url);
  await new Promise(() => {});
}

const quick = args.includes('--quick');
const nArg = args.indexOf('--requests');
const N0 = nArg >= 0 ? Number(args[nArg + 1]) : quick ? 3000 : 20000;
const NLAT = quick ? 2000 : 20000;
const NMEM = quick ? 5000 : 100_000;

async function startMock(latency: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', String(latency)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (c) => reject(new Error(`mock exited ${c}`)));
  });
  return { url, child };
}

const req: ChatRequest = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Write a short story (3-5 paragraphs). The story should use the verb "jump", the noun "ball" and the adjective "red". Remember to only use simple words!' }],
  maxTokens: 400,
};

interface Run {
  name: string;
  requests: number;
  seconds: number;
  rps: number;
  rssMB: { start: number; peak: number; end: number };
  heapMB: { start: number; peak: number; end: number };
}

/** Runs `n` requests through `one`, keeping `inflight` outstanding; samples memory every 250 ms. */
async function drive(name: string, n: number, inflight: number, one: (i: number) => Promise<unknown>): Promise<Run> {
  global.gc?.();
  const mem = () => process.memoryUsage();
  const m0 = mem();
  let peakRss = m0.rss;
  let peakHeap = m0.heapUsed;
  const timer = setInterval(() => {
    const m = mem();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 250);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (next < n) await one(next++);
  }));
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  global.gc?.();
  const m1 = mem();
  const mb = (x: number) => Math.round(x / 1e5) / 10;
  const r = { name, requests: n, seconds: Math.round(seconds * 100) / 100, rps: Math.round(n / seconds), rssMB: { start: mb(m0.rss), peak: mb(peakRss), end: mb(m1.rss) }, heapMB: { start: mb(m0.heapUsed), peak: mb(peakHeap), end: mb(m1.heapUsed) } };
  console.log(`${name.padEnd(44)} ${String(r.rps).padStart(6)} req/s  (${n} in ${r.seconds}s)  rss ${r.rssMB.start}->${r.rssMB.peak}->${r.rssMB.end} MB  heap ${r.heapMB.start}->${r.heapMB.end} MB`);
  return r;
}

function viaScheduler(p: ChatProvider, concurrency: number) {
  const s = new Scheduler(p, { concurrency, maxRetries: 2 });
  return (i: number) => s.run(req, { requestId: `bench-${i}` });
}

function bareFetch(url: string) {
  const body = JSON.stringify({ model: req.model, messages: req.messages, max_tokens: req.maxTokens });
  return async () => {
    const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer k' }, body });
    await r.json();
  };
}

const runs: Run[] = [];
const zero = await startMock(0);
try {
  const openai = new OpenAIProvider({ baseURL: `${zero.url}/v1`, apiKey: 'k' });
  await drive('warm-up (JIT)', quick ? 2000 : 5000, 64, viaScheduler(openai, 64));
  runs.push(await drive('peer: bare fetch, 0 ms, inflight 64', N0, 64, bareFetch(zero.url)));
  runs.push(await drive('openai provider + scheduler, 0 ms, conc 64', N0, 64, viaScheduler(openai, 64)));
  runs.push(await drive('openai stream + scheduler, 0 ms, conc 64', Math.round(N0 / 2), 64, viaScheduler(new OpenAIProvider({ baseURL: `${zero.url}/v1`, apiKey: 'k', stream: true }), 64)));
  runs.push(await drive('anthropic provider + scheduler, 0 ms, conc 64', Math.round(N0 / 2), 64, viaScheduler(new AnthropicProvider({ baseURL: zero.url, apiKey: 'k' }), 64)));
  runs.push(await drive(`memory: openai + scheduler, ${NMEM} requests`, NMEM, 64, viaScheduler(openai, 64)));
} finally {
  zero.child.kill();
}
const slow = await startMock(200);
try {
  runs.push(await drive('peer: bare fetch, 200 ms, inflight 256', NLAT, 256, bareFetch(slow.url)));
  runs.push(await drive('openai provider + scheduler, 200 ms, conc 256', NLAT, 256, viaScheduler(new OpenAIProvider({ baseURL: `${slow.url}/v1`, apiKey: 'k' }), 256)));
} finally {
  slow.child.kill();
}

const line = { bench: 'llm-throughput', date: new Date().toISOString(), quick, node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, runs };
mkdirSync(join(here, 'results'), { recursive: true });
appendFileSync(join(here, 'results', 'llm-throughput.jsonl'), JSON.stringify(line) + '\n');
console.log(`appended to bench/results/llm-throughput.jsonl (targets: >= 2000 req/s at 0 ms, >= 1000 req/s at 200 ms / conc 256, memory flat)`);
