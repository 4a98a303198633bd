// A plain static file server on 127.0.0.1 for the headless-browser tests of the built site (no isolation headers,
// as a bare static host serves it); `extra` answers a request first when it returns true (e.g. a mock corpus URL).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.txt': 'text/plain' };

/** Serves `dir`; resolves to the server and its base URL (`http://127.0.0.1:<port>/`). */
export async function serveStatic(dir: string, extra?: (path: string, req: IncomingMessage, res: ServerResponse) => boolean): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    let p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (extra?.(p, req, res)) return;
    if (p.endsWith('/')) p += 'index.html';
    const f = join(dir, p);
    if (!f.startsWith(dir) || !existsSync(f) || !statSync(f).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(f)] ?? 'application/octet-stream' });
    res.end(readFileSync(f));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}
