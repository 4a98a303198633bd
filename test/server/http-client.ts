// A raw HTTP client for dashboard tests: exact paths (no URL normalization), any method and Host, SSE reading.
import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: any;
}

/** Sends one request with the path exactly as given. */
export function raw(port: number, path: string, opts: { method?: string; host?: string } = {}): Promise<RawResponse> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host: opts.host ?? `127.0.0.1:${port}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        let json: unknown = null;
        try {
          json = JSON.parse(body);
        } catch {
          // not JSON
        }
        ok({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.on('error', fail);
    req.end();
  });
}

export interface SseEvent {
  event: string;
  data: any;
}

/** Reads server-sent events until `until` returns true for one (or the stream ends); then closes the connection. */
export function readSse(port: number, path: string, until: (e: SseEvent, all: SseEvent[]) => boolean, timeoutMs = 30_000): Promise<{ status: number; events: SseEvent[] }> {
  return new Promise((ok, fail) => {
    const events: SseEvent[] = [];
    const req = request({ host: '127.0.0.1', port, path, headers: { accept: 'text/event-stream' } }, (res) => {
      let buf = '';
      const timer = setTimeout(() => {
        req.destroy();
        fail(new Error(`SSE ${path}: timed out after ${timeoutMs} ms with events ${events.map((e) => e.event).join(',')}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        req.destroy();
        ok({ status: res.statusCode ?? 0, events });
      };
      if (!String(res.headers['content-type']).startsWith('text/event-stream')) {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          clearTimeout(timer);
          events.push({ event: 'http-error', data: JSON.parse(body) });
          ok({ status: res.statusCode ?? 0, events });
        });
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!ev || data === undefined) continue;
          const e = { event: ev, data: JSON.parse(data) };
          events.push(e);
          if (until(e, events)) return finish();
        }
      });
      res.on('end', finish);
    });
    req.on('error', fail);
    req.end();
  });
}
