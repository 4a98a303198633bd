// Hugging Face Hub downloads: `hf:owner/repo[@rev]/path` → the hub's resolve URL → a verified file in the local cache.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UserError } from '../util/errors.ts';
import { Progress } from '../util/progress.ts';

/** A file in a Hugging Face repository (a dataset repository unless `type` says 'model'). */
export interface HfFileSpec {
  /** Repository type; default 'dataset' (model repos are used by src/interop/hf-model.ts). */
  type?: 'dataset' | 'model';
  owner: string;
  repo: string;
  /** Branch, tag or commit; "main" unless given as `@rev`. */
  revision: string;
  /** Path inside the repository, e.g. "TinyStoriesV2-GPT4-valid.txt" or "data/train-00000-of-00004.parquet". */
  path: string;
}

/** Whether `src` names a Hugging Face file (`hf:...`). */
export function isHfSpec(src: string): boolean {
  return src.startsWith('hf:');
}

/**
 * Parses `hf:<owner>/<repo>[@<revision>]/<path-in-repo>` (a dataset repository; a revision containing `/` is
 * written URL-encoded, e.g. `@refs%2Fconvert%2Fparquet`).
 * `parseHfSpec("hf:roneneldan/TinyStories/TinyStoriesV2-GPT4-valid.txt")` →
 * `{ owner: "roneneldan", repo: "TinyStories", revision: "main", path: "TinyStoriesV2-GPT4-valid.txt" }`.
 */
export function parseHfSpec(spec: string): HfFileSpec {
  const m = /^hf:([^/@\s]+)\/([^/@\s]+)(?:@([^/\s]+))?\/(.+)$/.exec(spec);
  const bad = () =>
    new UserError(`${JSON.stringify(spec)}: expected hf:<owner>/<repo>[@<revision>]/<path-in-repo>, e.g. hf:roneneldan/TinyStories/TinyStoriesV2-GPT4-valid.txt`);
  if (!m) throw bad();
  const path = m[4]!;
  let revision = m[3] ?? 'main';
  try {
    revision = decodeURIComponent(revision); // `@refs%2Fconvert%2Fparquet` names the revision refs/convert/parquet
  } catch {
    throw bad();
  }
  if (path.split('/').some((p) => p === '' || p === '.' || p === '..')) throw bad();
  return { owner: m[1]!, repo: m[2]!, revision, path };
}

/** The hub's base URL: `$TINYSTORIES_HF_ENDPOINT` (tests point it at 127.0.0.1), `$HF_ENDPOINT` (a mirror), or https://huggingface.co. */
export function hfEndpoint(): string {
  return (process.env.TINYSTORIES_HF_ENDPOINT || process.env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

/**
 * `https://huggingface.co/datasets/<owner>/<repo>/resolve/<revision>/<path>` (each part URL-encoded); model
 * repositories have no `/datasets` prefix.
 */
export function hfResolveUrl(spec: HfFileSpec, endpoint = hfEndpoint()): string {
  const path = spec.path.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}${spec.type === 'model' ? '' : '/datasets'}/${encodeURIComponent(spec.owner)}/${encodeURIComponent(spec.repo)}/resolve/${encodeURIComponent(spec.revision)}/${path}`;
}

/** The cache root: `$TINYSTORIES_CACHE`, default `~/.cache/tinystories`. */
export function cacheDir(): string {
  return process.env.TINYSTORIES_CACHE || join(homedir(), '.cache', 'tinystories');
}

/** Where a hub file is kept: `<cache>/hf/<owner>/<repo>/<revision>/<path>` (model repos: `<cache>/hf-models/...`). */
export function hfCachePath(spec: HfFileSpec): string {
  return join(cacheDir(), spec.type === 'model' ? 'hf-models' : 'hf', spec.owner, spec.repo, ...spec.revision.split('/').filter((p) => p !== '..'), ...spec.path.split('/'));
}

/** Options for downloadHf. */
export interface DownloadOptions {
  /** No progress output. */
  quiet?: boolean;
  /** Where progress goes (default stderr). */
  progressStream?: { write(s: string): unknown; isTTY?: boolean };
  /** Resume attempts after a transfer is cut (default 5). */
  maxResumes?: number;
  /** Abort a transfer that receives nothing for this long (default 60 s). */
  idleTimeoutMs?: number;
  /** Wait this long times the attempt number before resuming a cut transfer (default 1000 ms). */
  retryDelayMs?: number;
}

interface PartMeta {
  url: string;
  etag?: string;
  size?: number;
}

/** `W/"abc"` → `abc`. */
function cleanEtag(v: string | null): string | undefined {
  if (!v) return undefined;
  return v.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined;
}

class TransferCut extends Error {}

/** The hub answered 404 for a file (callers probing for optional files, e.g. model.safetensors, catch this one). */
export class HfNotFoundError extends UserError {
  override name = 'HfNotFoundError';
}

/**
 * Downloads a hub file into the cache (once) and returns its local path. A complete cached file is used without
 * any network access. Partial downloads are kept as `<file>.part` and resumed with an HTTP Range request; a
 * changed upstream file (different ETag) restarts from zero. The result is checked against the size the server
 * announced and, when the ETag is a content hash (sha256 for LFS files, git blob sha1 otherwise), against it.
 * Offline or unreachable: one UserError naming the URL and the cache path where the file can be put by hand.
 */
export async function downloadHf(spec: string | HfFileSpec, opts: DownloadOptions = {}): Promise<string> {
  const file = typeof spec === 'string' ? parseHfSpec(spec) : spec;
  const dest = hfCachePath(file);
  if (existsSync(dest)) return dest;
  const url = hfResolveUrl(file);
  const part = dest + '.part';
  const metaPath = dest + '.part.json';
  await mkdir(dirname(dest), { recursive: true });
  const maxResumes = opts.maxResumes ?? 5;
  const label = `download ${file.owner}/${file.repo}/${file.path}`;
  let progress: Progress | undefined;
  let cuts = 0;
  const pause = () => new Promise((r) => setTimeout(r, (opts.retryDelayMs ?? 1000) * cuts));
  for (;;) {
    let meta: PartMeta | undefined;
    try {
      meta = JSON.parse(await readFile(metaPath, 'utf8')) as PartMeta;
    } catch {
      meta = undefined;
    }
    let offset = 0;
    if (meta && meta.url === url && existsSync(part)) offset = (await stat(part)).size;
    else {
      await rm(part, { force: true });
      meta = undefined;
    }
    let res: Response;
    let linked: { etag?: string; size?: number };
    try {
      ({ res, linked } = await fetchFollowing(url, offset, opts.idleTimeoutMs ?? 60_000));
    } catch (e) {
      if (e instanceof UserError) throw e;
      if (cuts < maxResumes && offset > 0) {
        cuts++;
        await pause();
        continue;
      }
      throw offlineError(url, dest, e);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new HfNotFoundError(`${url}: not found (HTTP 404); check the owner, repository, revision and path of hf:${file.owner}/${file.repo}${file.revision === 'main' ? '' : '@' + file.revision}/${file.path}`);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new UserError(`${url}: access denied (HTTP ${res.status}); for a gated or private repository set HF_TOKEN, or put the file at ${dest}`);
    }
    if (res.status === 416 && offset > 0) {
      // our partial file is not a prefix of the current one: start over
      await res.body?.cancel();
      await rm(part, { force: true });
      await rm(metaPath, { force: true });
      continue;
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw new UserError(`${url}: HTTP ${res.status} ${res.statusText}; try again later or put the file at ${dest}`);
    }
    const etag = linked.etag ?? cleanEtag(res.headers.get('etag'));
    let total: number | undefined = linked.size;
    if (res.status === 206) {
      const cr = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (!cr || Number(cr[1]) !== offset || (meta?.etag !== undefined && etag !== undefined && meta.etag !== etag)) {
        // an unexpected range, or the file changed upstream since the partial download: start over
        await res.body?.cancel();
        await rm(part, { force: true });
        await rm(metaPath, { force: true });
        continue;
      }
      if (cr[3] !== '*') total ??= Number(cr[3]);
    } else {
      offset = 0; // the server sent the whole file (no Range support, or the file changed: If-Range)
      const len = res.headers.get('content-length');
      if (len !== null) total ??= Number(len);
    }
    await writeFile(metaPath, JSON.stringify({ url, etag, size: total } satisfies PartMeta));
    progress ??= new Progress({ label, total, unit: 'MB', scale: 1e6, quiet: opts.quiet, stream: opts.progressStream });
    let written = offset;
    const fh = await open(part, offset > 0 ? 'a' : 'w');
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        await fh.write(chunk);
        written += chunk.byteLength;
        progress.update(written);
      }
    } catch (e) {
      await fh.close();
      if (cuts < maxResumes) {
        cuts++;
        await pause();
        continue;
      }
      throw new UserError(`${url}: the transfer was cut ${cuts + 1} times (${errorText(e)}); ${written} bytes kept in ${part}, run again to resume`);
    }
    await fh.sync();
    await fh.close();
    if (total !== undefined && written < total) {
      if (cuts < maxResumes) {
        cuts++;
        await pause();
        continue;
      }
      throw new UserError(`${url}: the server closed the transfer at ${written} of ${total} bytes ${cuts + 1} times; run again to resume`);
    }
    if (total !== undefined && written > total) {
      await rm(part, { force: true });
      await rm(metaPath, { force: true });
      throw new UserError(`${url}: received ${written} bytes but the server announced ${total}; the partial file was removed, run again`);
    }
    const mismatch = await checkEtag(part, etag, written);
    if (mismatch) {
      await rm(part, { force: true });
      await rm(metaPath, { force: true });
      throw new UserError(`${url}: the downloaded file does not match its ETag (${mismatch}); it was removed, run again or put a good copy at ${dest}`);
    }
    await rename(part, dest);
    await rm(metaPath, { force: true });
    progress.done();
    return dest;
  }
}

function errorText(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}

function offlineError(url: string, dest: string, e: unknown): UserError {
  return new UserError(
    `cannot download ${url} (${errorText(e)}); if this machine is offline, fetch that URL elsewhere and put the file at ${dest}`,
    { cause: e },
  );
}

/** GETs `url` (with `Range` from `offset`), following up to 10 redirects by hand so Range/If-Range go to the CDN too. */
async function fetchFollowing(url: string, offset: number, idleTimeoutMs: number): Promise<{ res: Response; linked: { etag?: string; size?: number } }> {
  const hubOrigin = new URL(url).origin;
  const token = process.env.HF_TOKEN;
  const linked: { etag?: string; size?: number } = {};
  let current = url;
  for (let hop = 0; hop <= 10; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'tinystories/0.1 (+node)' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    if (token && new URL(current).origin === hubOrigin) headers.authorization = `Bearer ${token}`;
    const controller = new AbortController();
    const arm = () => {
      const t = setTimeout(() => controller.abort(new TransferCut(`no data for ${idleTimeoutMs} ms`)), idleTimeoutMs);
      t.unref(); // never keep the process alive by itself
      return t;
    };
    let timer = arm();
    let res: Response;
    try {
      res = await fetch(current, { headers, redirect: 'manual', signal: controller.signal });
    } catch (e) {
      clearTimeout(timer);
      throw e;
    }
    // the hub announces the LFS object's sha256 and size on the redirect
    linked.etag ??= cleanEtag(res.headers.get('x-linked-etag'));
    const ls = res.headers.get('x-linked-size');
    if (ls !== null && linked.size === undefined) linked.size = Number(ls);
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      clearTimeout(timer);
      await res.body?.cancel();
      current = new URL(res.headers.get('location')!, current).toString();
      continue;
    }
    // keep the idle timer alive while the body streams
    if (res.body) {
      const reader = res.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          let r: ReadableStreamReadResult<Uint8Array>;
          try {
            r = await reader.read();
          } finally {
            clearTimeout(timer);
          }
          if (r.done) {
            c.close();
            return;
          }
          timer = arm();
          c.enqueue(r.value);
        },
        cancel(reason) {
          clearTimeout(timer);
          return reader.cancel(reason);
        },
      });
      return { res: new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers }), linked };
    }
    clearTimeout(timer);
    return { res, linked };
  }
  throw new UserError(`${url}: more than 10 redirects`);
}

/** Checks a downloaded file against a content-hash ETag; returns a description of the mismatch, or undefined. */
async function checkEtag(path: string, etag: string | undefined, size: number): Promise<string | undefined> {
  if (!etag) return undefined;
  let algo: 'sha256' | 'sha1';
  if (/^[0-9a-f]{64}$/.test(etag)) algo = 'sha256';
  else if (/^[0-9a-f]{40}$/.test(etag)) algo = 'sha1';
  else return undefined; // not a content hash (e.g. a CDN's own ETag): the size check is all we can do
  const h = createHash(algo);
  if (algo === 'sha1') h.update(`blob ${size}\0`); // git blob hash, the hub's ETag for non-LFS files
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  const got = h.digest('hex');
  return got === etag ? undefined : `expected ${algo} ${etag}, got ${got}`;
}
