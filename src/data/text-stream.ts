// Streaming text primitives: a file (optionally .gz) as decoded string chunks, and splitting a chunk stream on a separator.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { UserError } from '../util/errors.ts';

/** Default read size: large enough for throughput, small enough that memory stays flat on multi-GB files. */
export const CHUNK_BYTES = 1 << 20;

/**
 * Yields the file's text in decoded chunks (UTF-8, a leading BOM dropped; multi-byte characters split across reads
 * are reassembled). `.gz` files are gunzipped on the fly. `onBytes(n)` gets each raw (on-disk) byte count read.
 */
export async function* readTextChunks(
  path: string,
  onBytes?: (n: number) => void,
  chunkBytes = CHUNK_BYTES,
): AsyncGenerator<string> {
  const file = createReadStream(path, { highWaterMark: chunkBytes });
  const decoder = new TextDecoder('utf-8', { ignoreBOM: false });
  let source: AsyncIterable<Buffer> = file;
  const gz = path.toLowerCase().endsWith('.gz');
  if (gz) {
    if (onBytes) file.on('data', (b) => onBytes((b as Buffer).length));
    const gunzip = createGunzip();
    file.on('error', (e) => gunzip.destroy(e));
    source = file.pipe(gunzip);
  }
  try {
    for await (const buf of source) {
      if (onBytes && source === file) onBytes(buf.length);
      const s = decoder.decode(buf, { stream: true });
      if (s.length > 0) yield s;
    }
    const tail = decoder.decode();
    if (tail.length > 0) yield tail;
  } catch (e) {
    // zlib errors ("incorrect header check", "unexpected end of file") do not say which file
    const code = (e as NodeJS.ErrnoException).code;
    if (gz && typeof code === 'string' && code.startsWith('Z_')) {
      throw new UserError(`${path}: not a valid gzip file (${(e as Error).message})`, { cause: e });
    }
    throw e;
  } finally {
    file.destroy();
  }
}

/**
 * Splits a stream of string chunks on `separator`, which may straddle chunk boundaries. Yields every piece,
 * including an empty one between adjacent separators and the text after the last separator (possibly empty),
 * like `String.prototype.split` on the concatenation. `onOversize` is called (and may throw) when one piece grows
 * past `maxPieceChars`, so a file without separators is reported instead of being buffered whole.
 */
export async function* splitStream(
  chunks: AsyncIterable<string>,
  separator: string,
  onOversize?: (pendingChars: number) => void,
  maxPieceChars = 64 << 20,
): AsyncGenerator<string> {
  let pending = '';
  for await (const chunk of chunks) {
    pending = pending.length > 0 ? pending + chunk : chunk;
    let from = 0;
    for (;;) {
      const at = pending.indexOf(separator, from);
      if (at < 0) break;
      yield pending.slice(from, at);
      from = at + separator.length;
    }
    if (from > 0) pending = pending.slice(from);
    if (onOversize && pending.length > maxPieceChars) onOversize(pending.length);
  }
  yield pending;
}
