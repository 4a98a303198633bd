// The dashboard's HTTP server (node:http): a read-only JSON API over the runs directory, SSE streams, the bundled front end.
//
// Read-only by construction: only GET and HEAD are served, and every path the API reads is a run or report id
// resolved inside the runs root (paths.ts). Bound to 127.0.0.1 unless told otherwise; on a loopback bind, requests
// whose Host is not a loopback name are refused (a web page elsewhere cannot reach the API through DNS rebinding).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../engine/backend.ts';
import type { GpuDecoding } from '../sample/gpu-decoding.ts';
import { readInspectReport } from '../inspect/index.ts';
import type { NeuronReport } from '../inspect/neurons.ts';
import { UserError } from '../util/errors.ts';
import { searchNeurons } from './interactive.ts';
import { ModelCache, attentionOf, gameStory, heldOutStories, playground } from './models.ts';
import { HttpError, fileInside } from './paths.ts';
import type { DataResponse, DataStatsResponse, EvalEntry, EvalsResponse, GenerationEntry, GenerationReport } from './api-types.ts';
import { discoverReports, generationStats, readReport, runDataset } from './reports.ts';
import { RunStore, isRunDir, sliceColumns } from './runs.ts';

export interface ServerOptions {
  /** The runs directory (also searched for eval and generation reports). */
  runs: string;
  port?: number;
  host?: string;
  /** Where the bundled front end is (default build/web of this package). */
  webDir?: string;
  /** Build the front end into webDir with esbuild (a devDependency) when it is missing; default true. */
  autoBuild?: boolean;
  /** Live-update poll interval of metrics files (default 1000 ms). */
  pollMs?: number;
  /** Compute backend for the interactive pages (default the TS reference). */
  backend?: Backend;
  /** Decode the playground on the GPU instead (GpuDecoder); the other pages stay on `backend`. */
  gpu?: GpuDecoding;
  /** Log a line per request error. */
  log?: (line: string) => void;
}

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

const PKG_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_WEB_DIR = join(PKG_ROOT, 'build', 'web');

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(text);
}

/** Query parameters with typed, range-checked access (a bad value is a 400 naming the parameter). */
class Params {
  constructor(private readonly q: URLSearchParams) {}
  str(name: string, def?: string): string {
    const v = this.q.get(name);
    if (v === null) {
      if (def === undefined) throw new HttpError(400, `missing query parameter '${name}'`);
      return def;
    }
    if (v.length > 20_000) throw new HttpError(400, `query parameter '${name}' is too long`);
    return v;
  }
  opt(name: string): string | null {
    const v = this.q.get(name);
    return v === null || v === '' ? null : v;
  }
  num(name: string, def: number, min: number, max: number, int = false): number {
    const v = this.q.get(name);
    if (v === null || v === '') return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n))) {
      throw new HttpError(400, `query parameter '${name}' must be ${int ? 'an integer' : 'a number'} in [${min}, ${max}], got '${v}'`);
    }
    return n;
  }
}

/** Server-sent events on a response. */
function sse(req: IncomingMessage, res: ServerResponse): { send: (event: string, data: unknown) => void; closed: () => boolean; signal: AbortSignal } {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write(': open\n\n');
  const abort = new AbortController();
  req.on('close', () => abort.abort());
  res.on('close', () => abort.abort());
  return {
    send: (event, data) => {
      if (!abort.signal.aborted) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    closed: () => abort.signal.aborted,
    signal: abort.signal,
  };
}

const WEB_SRC = join(PKG_ROOT, 'web');

/** Newest modification time of the front-end sources (web/**), 0 when they are not shipped. */
function newestSourceMs(dir = WEB_SRC): number {
  let newest = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const n of names) {
    const p = join(dir, n);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestSourceMs(p) : st.mtimeMs);
  }
  return newest;
}

/**
 * Builds the front end into `webDir` with esbuild when its index.html is missing (a fresh clone) or older than the
 * sources in web/ (an edited checkout); one build at a time per directory.
 */
const building = new Map<string, Promise<void>>();
async function ensureWeb(webDir: string, autoBuild: boolean, checkStale: boolean): Promise<void> {
  const index = join(webDir, 'index.html');
  const stale = checkStale && existsSync(index) && newestSourceMs() > statSync(index).mtimeMs;
  if (existsSync(index) && !stale) return;
  if (!autoBuild) throw new HttpError(500, `${webDir}/index.html is missing; run \`node scripts/build-web.mjs\``);
  let b = building.get(webDir);
  if (!b) {
    b = (async () => {
      try {
        const mod = (await import('../../scripts/build-web.mjs')) as { buildWeb: (o?: { outdir?: string; quiet?: boolean }) => Promise<unknown> };
        await mod.buildWeb({ outdir: webDir, quiet: true });
      } catch (e) {
        throw new HttpError(500, `the front end is not built and building it failed (${(e as Error).message.split('\n')[0]}); run \`node scripts/build-web.mjs\``);
      } finally {
        building.delete(webDir);
      }
    })();
    building.set(webDir, b);
  }
  await b;
}

/** Neuron reports held in memory per file version (search pages through them without rereading). */
class NeuronIndex {
  private cache = new Map<string, { mtimeMs: number; report: NeuronReport }>();
  get(runDir: string): NeuronReport | null {
    const path = join(runDir, 'inspect', 'neurons.json');
    if (!existsSync(path)) return null;
    const mtimeMs = statSync(path).mtimeMs;
    const hit = this.cache.get(path);
    if (hit && hit.mtimeMs === mtimeMs) return hit.report;
    const report = readInspectReport<NeuronReport>(runDir, 'neurons');
    if (!report) return null;
    this.cache.set(path, { mtimeMs, report });
    return report;
  }
}

/**
 * Starts the dashboard server. Resolves once it listens.
 * @example const s = await startServer({ runs: 'runs', port: 8080 }); console.log(s.url); await s.close();
 */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const root = resolve(o.runs);
  if (!existsSync(root)) throw new UserError(`--runs ${o.runs}: no such directory`);
  if (!statSync(root).isDirectory()) throw new UserError(`--runs ${o.runs}: not a directory (expected the directory that holds your runs)`);
  if (isRunDir(root)) throw new UserError(`--runs ${o.runs} is a run directory itself; point --runs at the directory that holds your runs (its parent)`);
  const host = o.host ?? '127.0.0.1';
  const webDir = o.webDir ?? DEFAULT_WEB_DIR;
  const store = new RunStore(root);
  const models = new ModelCache(3, o.backend, o.gpu);
  const neurons = new NeuronIndex();
  const stories = new Map<string, Promise<{ source: string; stories: string[] }>>();
  const liveClients = new Set<(event: string, data: unknown) => void>();
  const loopbackOnly = LOOPBACK.has(host);
  const log = o.log ?? (() => {});
  let webChecked = false;

  const routes: Record<string, (p: Params, req: IncomingMessage, res: ServerResponse) => unknown> = {
    '/api/health': () => ({ ok: true, root, runs: store.list().length }),
    '/api/runs': () => ({ root, runs: store.list().map((id) => store.summary(id)) }),
    '/api/run': (p) => store.detail(p.str('id')),
    '/api/metrics': (p) => {
      const { tail } = store.metrics(p.str('id'));
      return { id: p.str('id'), generation: tail.generation, ...sliceColumns(tail.cols, p.num('max', 2000, 10, 1_000_000, true)) };
    },
    '/api/metrics-all': (p) => {
      const max = p.num('max', 1000, 10, 100_000, true);
      const out: Record<string, unknown> = {};
      for (const id of store.list()) {
        try {
          const { tail } = store.metrics(id);
          out[id] = { generation: tail.generation, ...sliceColumns(tail.cols, max) };
        } catch (e) {
          out[id] = { error: (e as Error).message };
        }
      }
      return { runs: out };
    },
    '/api/samples': (p) => ({ id: p.str('id'), checkpoints: store.samples(p.str('id')) }),
    '/api/inspect/attention': (p) => {
      const report = readInspectReport(store.dir(p.str('id')), 'attention');
      if (!report) throw new HttpError(404, `run ${p.str('id')} has no inspect/attention.json`, `tinystories inspect attention --run <runs>/${p.str('id')} --data <src>`);
      return report;
    },
    '/api/neurons': (p) => {
      const id = p.str('id');
      const report = neurons.get(store.dir(id));
      if (!report) throw new HttpError(404, `run ${id} has no inspect/neurons.json`, `tinystories inspect neurons --run <runs>/${id} --data <src>`);
      const sort = p.str('sort', 'consistency');
      if (sort !== 'consistency' && sort !== 'quote') throw new HttpError(400, `query parameter 'sort' must be consistency or quote, got '${sort}'`);
      return { id, ...searchNeurons(report, { q: p.str('q', ''), layer: p.opt('layer'), cls: p.opt('class'), sort, offset: p.num('offset', 0, 0, 1e9, true), limit: p.num('limit', 50, 1, 500, true) }) };
    },
    '/api/attention': (p) => {
      const id = p.str('id');
      const text = p.str('text');
      if (!text.trim()) throw new HttpError(400, 'query parameter \'text\' is empty');
      const m = models.get(store.weightsDir(id, p.opt('checkpoint')));
      return { id, ...attentionOf(m, text, p.num('maxTokens', 64, 2, 128, true)) };
    },
    '/api/game': async (p) => {
      const id = p.str('id');
      const dir = store.weightsDir(id, p.opt('checkpoint'));
      const m = models.get(dir);
      const key = store.dir(id);
      let s = stories.get(key);
      if (!s) {
        s = heldOutStories(key, m.tokenizer);
        stories.set(key, s);
      }
      const { source, stories: list } = await s;
      if (list.length === 0) throw new HttpError(404, 'no held-out stories for this run');
      const index = p.num('index', 0, 0, 1e9, true) % list.length;
      return gameStory(m, list[index]!, { source, index, count: list.length });
    },
    '/api/evals': (): EvalsResponse => ({
      reports: discoverReports(root)
        .filter((r) => r.kind !== 'generation')
        .map((r): EvalEntry => {
          try {
            // parsed JSON: its kind was read from the report itself (reportKind), so it has that kind's report shape
            return { id: r.id, ...readReport(root, r.id) } as unknown as EvalEntry;
          } catch (e) {
            return { id: r.id, kind: r.kind, error: (e as Error).message };
          }
        }),
    }),
    '/api/data': (): DataResponse => ({
      generations: discoverReports(root)
        .filter((r) => r.kind === 'generation')
        .map((r): GenerationEntry => {
          try {
            return { id: r.id, report: readReport(root, r.id).report as GenerationReport };
          } catch (e) {
            return { id: r.id, error: (e as Error).message };
          }
        }),
      datasets: store
        .list()
        .map((id) => {
          try {
            return runDataset(store.dir(id), id);
          } catch {
            return null; // a run removed since the listing
          }
        })
        .filter((d) => d !== null),
    }),
    '/api/data/stats': async (p): Promise<DataStatsResponse> => {
      const id = p.str('id');
      const s = generationStats(root, id);
      if (!s) throw new HttpError(404, `no stories.txt or stories.jsonl in ${JSON.stringify(id)}`);
      return { id, stats: await s };
    },
  };

  async function handleSse(path: string, p: Params, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (path === '/api/generate') {
      const id = p.str('id');
      const m = models.get(store.weightsDir(id, p.opt('checkpoint')));
      const opts = {
        temperature: p.num('temperature', 0.8, 0, 5),
        topK: p.num('topK', 0, 0, 1_000_000, true),
        topP: p.num('topP', 1, 0.01, 1),
        repetitionPenalty: p.num('repetitionPenalty', 1, 0.1, 10),
        maxTokens: p.num('maxTokens', 200, 1, 2000, true),
        seed: p.num('seed', Math.floor(Math.random() * 2 ** 31), 0, 2 ** 31, true),
      };
      const prompt = p.str('prompt', '');
      const stream = sse(req, res);
      const t0 = performance.now();
      let n = 0;
      let firstMs: number | null = null;
      try {
        const it = playground(m, prompt, opts, stream.signal);
        for (;;) {
          const r = await it.next();
          if (r.done) {
            stream.send('done', { stop: r.value, tokens: n, ms: performance.now() - t0, firstTokenMs: firstMs, seed: opts.seed });
            break;
          }
          if (firstMs === null) firstMs = performance.now() - t0;
          n++;
          stream.send('token', r.value);
        }
      } catch (e) {
        stream.send('failure', { error: (e as Error).message.split('\n')[0] });
      }
      res.end();
      return true;
    }
    if (path === '/api/live') {
      const stream = sse(req, res);
      liveClients.add(stream.send);
      stream.send('hello', { runs: store.list(0) });
      const keepAlive = setInterval(() => res.write(': ping\n\n'), 15_000);
      stream.signal.addEventListener('abort', () => {
        clearInterval(keepAlive);
        liveClients.delete(stream.send);
      });
      return true;
    }
    return false;
  }

  // Live updates: one poller for all clients, with its own cursor per run, so API reads never hide rows from it.
  // Runs present at its first look are the clients' starting point (they fetch them); a run that appears later is
  // sent from its first row.
  const sent = new Map<string, { rows: number; valRows: number; generation: number }>();
  let knownRuns = '';
  let firstLook = true;
  const poll = () => {
    if (liveClients.size === 0) return;
    const broadcast = (event: string, data: unknown) => {
      for (const send of liveClients) send(event, data);
    };
    const ids = store.list(o.pollMs ?? 1000);
    const key = ids.join('\n');
    if (key !== knownRuns) {
      knownRuns = key;
      broadcast('runs', { runs: ids });
    }
    for (const id of ids) {
      try {
        const { tail } = store.metrics(id);
        const rows = tail.cols.step.length;
        const valRows = tail.cols.val_step.length;
        let prev = sent.get(id);
        if (prev && prev.generation !== tail.generation) {
          broadcast('reset', { id });
          prev = undefined;
          sent.set(id, { rows, valRows, generation: tail.generation });
          continue;
        }
        if (!prev && firstLook) {
          sent.set(id, { rows, valRows, generation: tail.generation });
          continue;
        }
        const from = prev?.rows ?? 0;
        const valFrom = prev?.valRows ?? 0;
        if (rows > from || valRows > valFrom) {
          broadcast('metrics', { id, from, valFrom, ...sliceColumns(tail.cols, Number.MAX_SAFE_INTEGER, from, valFrom), summary: store.summary(id) });
        }
        sent.set(id, { rows, valRows, generation: tail.generation });
      } catch {
        // a run deleted meanwhile: the next `runs` event tells the clients
      }
    }
    firstLook = false;
  };
  const timer = setInterval(poll, o.pollMs ?? 1000);
  timer.unref();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (loopbackOnly) {
      const h = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (!LOOPBACK.has(h)) throw new HttpError(403, `Host '${req.headers.host}' refused: this server answers only to 127.0.0.1/localhost`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      throw new HttpError(405, `${req.method} is not allowed: the dashboard is read-only`);
    }
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      throw new HttpError(400, 'malformed percent-encoding in the path');
    }
    const p = new Params(url.searchParams);
    if (path.startsWith('/api/')) {
      if (await handleSse(path, p, req, res)) return;
      const route = routes[path];
      if (!route) throw new HttpError(404, `no API endpoint ${path}`);
      sendJson(res, 200, await route(p, req, res));
      return;
    }
    // the staleness check (a walk of web/) runs once per server, on the first page request
    await ensureWeb(webDir, o.autoBuild ?? true, !webChecked);
    webChecked = true;
    const name = path === '/' || path === '' ? 'index.html' : path.slice(1);
    const file = fileInside(webDir, name);
    if (!file || !existsSync(file) || !statSync(file).isFile()) throw new HttpError(404, `no such page ${path}`);
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const err = e instanceof HttpError ? e : e instanceof UserError ? new HttpError(422, e.message) : new HttpError(500, `internal error: ${(e as Error).message?.split('\n')[0] ?? String(e)}`);
      if (err.status >= 500) log(`${req.method} ${req.url}: ${(e as Error).stack ?? String(e)}`);
      if (res.headersSent) {
        res.end();
        return;
      }
      sendJson(res, err.status, { error: err.message, status: err.status, ...(err.hint ? { hint: err.hint } : {}) });
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') fail(new UserError(`port ${o.port} on ${host} is in use; pick another with --port`));
      else if (e.code === 'EACCES') fail(new UserError(`--port ${o.port}: permission denied on ${host} (ports below 1024 need privileges; pick another with --port)`));
      // an unresolvable name or an address this machine does not have
      else if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' || e.code === 'EADDRNOTAVAIL') fail(new UserError(`--host ${host}: cannot listen there (${e.code}); expected a local interface address such as 127.0.0.1`));
      else fail(e);
    });
    server.listen(o.port ?? 8080, host, () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (o.port ?? 8080);
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${shown}:${port}/`,
    port,
    close: () =>
      new Promise<void>((ok) => {
        clearInterval(timer);
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
