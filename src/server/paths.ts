// Path safety for the dashboard: every file the server reads is a run id resolved inside the runs root, never above it.
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** A request error: the HTTP status and one clear line for the JSON body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Whether `child` is `root` or inside it (both absolute, normalized). */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Resolves a run id ("1M-20261126" or "group/run") to a directory inside `root`. Refuses absolute ids, `..`
 * segments, NUL bytes, backslashes and symlinks that lead out of the root (400), before touching the file system.
 * @example runPath('/runs', 'group/1M') === '/runs/group/1M'; runPath('/runs', '../etc') throws HttpError(400)
 */
export function runPath(root: string, id: string): string {
  if (typeof id !== 'string' || id === '' || id.length > 512) throw new HttpError(400, 'bad run id: empty or too long');
  if (id.includes('\0') || id.includes('\\')) throw new HttpError(400, `bad run id ${JSON.stringify(id)}: NUL or backslash`);
  if (isAbsolute(id) || id.startsWith('/')) throw new HttpError(400, `bad run id ${JSON.stringify(id)}: absolute paths are refused`);
  const parts = id.split('/');
  if (parts.some((p) => p === '..' || p === '.' || p === '')) throw new HttpError(400, `bad run id ${JSON.stringify(id)}: '.', '..' and empty segments are refused`);
  const abs = resolve(root, ...parts);
  if (!isInside(root, abs) || abs === root) throw new HttpError(400, `bad run id ${JSON.stringify(id)}: outside the runs directory`);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    throw new HttpError(404, `no run ${JSON.stringify(id)} in the runs directory`);
  }
  if (!isInside(realRoot(root), real)) throw new HttpError(400, `bad run id ${JSON.stringify(id)}: a link that leads outside the runs directory`);
  return abs;
}

const realRoots = new Map<string, string>();
function realRoot(root: string): string {
  let r = realRoots.get(root);
  if (!r) {
    r = realpathSync(root);
    realRoots.set(root, r);
  }
  return r;
}

/** A file name inside a directory given by the server (static assets): refuses anything that is not a plain relative name. */
export function fileInside(dir: string, name: string): string | null {
  if (name.includes('\0') || name.includes('\\')) return null;
  const abs = resolve(dir, ...name.split('/').filter((p) => p !== ''));
  if (!isInside(dir, abs) || name.split('/').some((p) => p === '..')) return null;
  return abs;
}

/**
 * The subdirectories of `dir` a discovery walk enters, sorted by name: not hidden, not named in `skip`, and inside
 * `realRoot` once links are resolved (a link out of the root is not followed). Unreadable or vanished entries are
 * left out, as is everything when `dir` cannot be read.
 */
export function walkableSubdirs(dir: string, realRoot: string, skip: ReadonlySet<string>): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.') || skip.has(name)) continue;
    const p = join(dir, name);
    try {
      if (statSync(p).isDirectory() && isInside(realRoot, realpathSync(p))) out.push(p);
    } catch {
      // vanished meanwhile
    }
  }
  return out;
}

export { sep };
