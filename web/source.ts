// Where the pages get their data: one interface with two implementations. Served by `tinystories ui`, the HTTP API
// (JSON GETs and server-sent events over the runs directory); as the static site (`npm run build:site`), the
// in-page engine (web/site/source.ts) answering the same endpoint names from a Web Worker. Pages call only this.

/** Handlers of a stream's named events (the SSE event names of the server: token, done, failure, metrics, ...). */
export type StreamHandlers = Record<string, (data: any) => void>;

export interface DataSource {
  /** 'server' reads runs from disk through the API; 'site' computes in the page. */
  readonly mode: 'server' | 'site';
  /** One JSON answer of an endpoint ('/api/runs', ...); a failure throws with a one-line message. */
  json<T = any>(path: string, params?: Record<string, string | number | null | undefined>): Promise<T>;
  /** A stream of named events ('/api/generate', '/api/live'); `error` is called when the stream breaks. Returns a closer. */
  stream(path: string, params: Record<string, string | number | null | undefined>, on: StreamHandlers, error?: () => void): () => void;
}

function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return qs ? '?' + qs : '';
}

/** The dashboard server's API over fetch and EventSource. */
export const httpSource: DataSource = {
  mode: 'server',
  async json<T>(path: string, params: Record<string, string | number | null | undefined> = {}): Promise<T> {
    const res = await fetch(path + query(params));
    const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
    if (!res.ok) throw new Error(body.error + (body.hint ? ` — try: ${body.hint}` : ''));
    return body as T;
  },
  stream(path, params, on, error) {
    const es = new EventSource(path + query(params));
    for (const [name, f] of Object.entries(on)) es.addEventListener(name, (ev) => f(JSON.parse((ev as MessageEvent).data)));
    if (error) es.onerror = error;
    return () => es.close();
  },
};

let current: DataSource = httpSource;

/** The data source the pages use (the HTTP API unless the site installed its in-page one). */
export function source(): DataSource {
  return current;
}

/** Installs the data source (the static site does this once, before the first page renders). */
export function setSource(s: DataSource): void {
  current = s;
}
