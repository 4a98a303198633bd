// The static site's data source: the dashboard's endpoint names answered by the engine Web Worker (engine-worker.ts)
// instead of the HTTP API, so the same pages run with no server. Also the typed handle the Train page drives.
import type { DataSource, StreamHandlers } from '../source.ts';

type Params = Record<string, string | number | null | undefined>;

/** The engine worker behind a promise per request, plus its pushed events. */
export class Engine {
  private readonly worker: Worker;
  private next = 1;
  private readonly pending = new Map<number, { ok: (v: any) => void; fail: (e: Error) => void }>();
  private readonly listeners = new Map<string, Set<(data: any) => void>>();

  constructor(url: URL) {
    this.worker = new Worker(url, { type: 'module' });
    this.worker.onmessage = (e: MessageEvent) => {
      const m = e.data as { id?: number; ok?: unknown; error?: string; ev?: string; data?: unknown };
      if (m.ev) {
        for (const f of this.listeners.get(m.ev) ?? []) f(m.data);
        return;
      }
      const p = this.pending.get(m.id!);
      if (!p) return;
      this.pending.delete(m.id!);
      if (m.error !== undefined) p.fail(new Error(m.error));
      else p.ok(m.ok);
    };
    this.worker.onerror = (e) => {
      const err = new Error(`engine worker failed: ${e.message}`);
      for (const p of this.pending.values()) p.fail(err);
      this.pending.clear();
    };
  }

  /** Sends a request; resolves with the worker's answer. */
  call<T = any>(op: string, args: unknown = {}, transfer: Transferable[] = []): Promise<T> {
    const id = this.next++;
    return new Promise<T>((ok, fail) => {
      this.pending.set(id, { ok, fail });
      this.worker.postMessage({ id, op, args }, transfer);
    });
  }

  /** Subscribes to an event ('step', 'sample', 'status', 'checkpoint', 'runs', 'stream'); returns the unsubscriber. */
  on(ev: string, f: (data: any) => void): () => void {
    let set = this.listeners.get(ev);
    if (!set) this.listeners.set(ev, (set = new Set()));
    set.add(f);
    return () => set!.delete(f);
  }
}

/** The in-page DataSource over an Engine. */
export function siteSource(engine: Engine): DataSource {
  let streamIds = 1;
  const json = async (path: string, p: Params): Promise<any> => {
    switch (path) {
      case '/api/runs': return engine.call('runs');
      case '/api/run': return engine.call('run');
      case '/api/metrics': return engine.call('metrics');
      case '/api/metrics-all': return engine.call('metricsAll');
      case '/api/samples': return engine.call('samples');
      case '/api/attention': return engine.call('attention', { text: p.text, maxTokens: p.maxTokens });
      case '/api/game': return engine.call('game', { index: p.index });
      case '/api/inspect/attention': throw new Error('Corpus-wide head labels are computed by `tinystories inspect attention`; the maps above are this model, in this page.');
      case '/api/neurons': return engine.call('neurons', { q: p.q, layer: p.layer, cls: p.class, sort: p.sort, offset: p.offset, limit: p.limit });
      case '/api/evals': return { reports: [] };
      case '/api/data': return { generations: [], datasets: [] };
      default: throw new Error(`${path} is not available on the static site`);
    }
  };
  return {
    mode: 'site',
    json: (path, params = {}) => json(path, params),
    stream(path, params, on: StreamHandlers, error) {
      if (path === '/api/generate') {
        const sid = streamIds++;
        const off = engine.on('stream', (m: { sid: number; event: string; data: unknown }) => {
          if (m.sid !== sid) return;
          on[m.event]?.(m.data);
          if (m.event === 'done' || m.event === 'failure') off();
        });
        const p: Record<string, string> = {};
        for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined) p[k] = String(v);
        engine.call('generate', { sid, params: p }).catch(() => {
          off();
          error?.();
        });
        return () => {
          off();
          void engine.call('cancel', { sid });
        };
      }
      if (path === '/api/live') {
        // the runs page's live feed: each step appends one row (from = rows before it)
        let rows = -1;
        const offs = [
          engine.on('step', (d: { record: any; summary: any }) => {
            const r = d.record;
            if (rows < 0 || r.step <= rows) {
              rows = r.step;
              on.reset?.({ id: d.summary.id });
              return;
            }
            on.metrics?.({
              id: d.summary.id, from: rows, valFrom: 0, summary: d.summary,
              step: [r.step], loss: [r.loss], lr: [r.lr], tokens: [r.tokens], wall_s: [r.wall_s], tokens_per_s: [r.tokens_per_s],
              val_step: r.val_loss !== undefined ? [r.step] : [], val_loss: r.val_loss !== undefined ? [r.val_loss] : [], val_tokens: r.val_loss !== undefined ? [r.tokens] : [], val_wall_s: r.val_loss !== undefined ? [r.wall_s] : [],
            });
            rows = r.step;
          }),
          engine.on('runs', () => {
            rows = -1;
            on.runs?.({});
          }),
        ];
        void engine.call('summary').then((s: { step: number } | null) => {
          rows = s?.step ?? 0;
          on.hello?.({});
        });
        return () => offs.forEach((f) => f());
      }
      queueMicrotask(() => error?.());
      return () => {};
    },
  };
}
