// A local imitation of the Hugging Face hub on 127.0.0.1: resolve URLs that redirect to a CDN path, Range/206,
// transfers cut mid-way, content that does not match its announced ETag, and 404s.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';

/** One file the mock hub serves. */
export interface MockHubFile {
  content: Buffer;
  /** Redirect the resolve URL to /cdn/... (like an LFS file) with X-Linked-Etag/X-Linked-Size (default true). */
  lfs?: boolean;
  /** Announce this ETag instead of the content's hash (simulates corruption or a changed file). */
  etag?: string;
  /** Cut each of the first `cutTimes` (default 1) transfers after this many body bytes (the server closes the connection). */
  cutAfter?: number;
  cutTimes?: number;
  /** Stall the first transfer after this many body bytes: keep the connection open and send nothing more. */
  stallAfter?: number;
  /** Ignore Range headers and always answer 200 with the whole file. */
  noRange?: boolean;
}

export interface MockHub {
  endpoint: string;
  files: Map<string, MockHubFile>;
  /** Every request seen: method, url, range header. */
  log: Array<{ url: string; range?: string; status?: number }>;
  close(): Promise<void>;
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

export function gitBlobSha1(b: Buffer): string {
  return createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
}

/** Starts the mock hub; dataset files are keyed by `<owner>/<repo>/<revision>/<path>`, model files by `models/<owner>/<repo>/<revision>/<path>`. */
export async function startMockHub(files: Record<string, MockHubFile> = {}): Promise<MockHub> {
  const map = new Map(Object.entries(files));
  const log: MockHub['log'] = [];
  const cuts = new Map<string, number>();
  const stalled = new Set<string>();
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '/');
    const entry: MockHub['log'][number] = { url, range: req.headers.range };
    log.push(entry);
    const send = (status: number, headers: Record<string, string | number> = {}, body?: Buffer | string) => {
      entry.status = status;
      res.writeHead(status, headers);
      res.end(body);
    };
    // dataset repos: /datasets/<owner>/<repo>/resolve/...; model repos: /<owner>/<repo>/resolve/... (keys "models/...")
    let m = /^\/(datasets\/)?([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url);
    if (m && m[2] !== 'cdn') {
      const key = `${m[1] ? '' : 'models/'}${m[2]}/${m[3]}/${m[4]}/${m[5]}`;
      const f = map.get(key);
      if (!f) return send(404, { 'x-error-code': 'EntryNotFound' }, 'Entry not found');
      if (f.lfs ?? true) {
        // the hub: 302 to the CDN with the LFS object's sha256 and size
        return send(302, {
          location: `/cdn/${encodeURIComponent(key)}?signature=abc`,
          'x-linked-etag': `"${f.etag ?? sha256(f.content)}"`,
          'x-linked-size': f.content.length,
        });
      }
      return serveBody(key, f, `"${f.etag ?? gitBlobSha1(f.content)}"`);
    }
    m = /^\/cdn\/([^?]+)\?/.exec(req.url ?? '');
    if (m) {
      const key = decodeURIComponent(m[1]!);
      const f = map.get(key);
      if (!f) return send(404);
      return serveBody(key, f, `"cdn-${sha256(f.content).slice(0, 16)}"`);
    }
    return send(404);

    function serveBody(key: string, f: MockHubFile, etag: string) {
      const total = f.content.length;
      let start = 0;
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (range && !f.noRange) {
        start = Number(range[1]);
        if (start >= total) return send(416, { 'content-range': `bytes */${total}` });
      }
      const body = f.content.subarray(start);
      const headers: Record<string, string | number> = { etag, 'content-length': body.length, 'accept-ranges': 'bytes' };
      const status = range && !f.noRange ? 206 : 200;
      if (status === 206) headers['content-range'] = `bytes ${start}-${total - 1}/${total}`;
      entry.status = status;
      res.writeHead(status, headers);
      if (f.stallAfter !== undefined && !stalled.has(key) && f.stallAfter < body.length) {
        stalled.add(key);
        res.write(body.subarray(0, f.stallAfter));
        return;
      }
      const done = cuts.get(key) ?? 0;
      if (f.cutAfter !== undefined && done < (f.cutTimes ?? 1) && f.cutAfter < body.length) {
        cuts.set(key, done + 1);
        res.write(body.subarray(0, f.cutAfter), () => {
          // close the connection mid-body (FIN after the bytes written so far)
          res.socket?.end();
        });
        return;
      }
      res.end(body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    files: map,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
