// Corpus files in the page: a TinyStories .txt (stories between <|endoftext|>), JSON/JSONL records with a "text"
// (or "story") field, or a parquet file's text column, from a dropped File or a URL (the Hugging Face hub serves
// CORS), read as a stream with byte progress. JSON records go through src/data/json-stream.ts, as in the CLI.
import { readJsonRecords } from '../../src/data/json-stream.ts';

export type Progress = (done: number, total: number | null) => void;

/** Stories of a TinyStories .txt: split on <|endoftext|> (or blank lines when it has none), trimmed. */
export function splitStories(text: string): string[] {
  const parts = text.includes('<|endoftext|>') ? text.split('<|endoftext|>') : text.split(/\n\s*\n/);
  return parts.map((s) => s.trim()).filter((s) => s.length > 0);
}

async function* textChunks(stream: ReadableStream<Uint8Array>, total: number | null, progress: Progress): AsyncGenerator<string> {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let done = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    done += r.value.length;
    progress(done, total);
    yield dec.decode(r.value, { stream: true });
  }
  const tail = dec.decode();
  if (tail) yield tail;
}

function recordText(r: unknown): string | null {
  if (r && typeof r === 'object') {
    const o = r as Record<string, unknown>;
    const t = o.text ?? o.story;
    return typeof t === 'string' ? t : null;
  }
  return typeof r === 'string' ? r : null;
}

async function fromStream(name: string, stream: ReadableStream<Uint8Array>, total: number | null, progress: Progress, limit: number): Promise<string[]> {
  const lower = name.toLowerCase().split('?')[0]!;
  if (lower.endsWith('.json') || lower.endsWith('.jsonl')) {
    const docs: string[] = [];
    for await (const r of readJsonRecords(textChunks(stream, total, progress), name)) {
      const t = recordText(r);
      if (t && t.trim()) docs.push(t.trim());
      if (docs.length >= limit) break;
    }
    return docs;
  }
  if (lower.endsWith('.parquet')) {
    const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    progress(bytes.length, total);
    return parquetTexts(name, bytes.buffer, limit);
  }
  if (!lower.endsWith('.txt')) throw new Error(`${name}: expected a .txt, .json, .jsonl or .parquet file`);
  let text = '';
  for await (const c of textChunks(stream, total, progress)) text += c;
  return splitStories(text).slice(0, limit);
}

async function parquetTexts(name: string, buf: ArrayBuffer, limit: number): Promise<string[]> {
  const { parquetMetadata, parquetRead } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const metadata = parquetMetadata(buf);
  const names = metadata.schema.slice(1).map((s) => s.name);
  const column = names.includes('text') ? 'text' : names.includes('story') ? 'story' : null;
  if (!column) throw new Error(`${name}: parquet file has no "text" or "story" column (columns: ${names.join(', ')})`);
  let rows: unknown[][] = [];
  await parquetRead({ file: buf, metadata, compressors, columns: [column], rowEnd: Math.min(limit, Number(metadata.num_rows)), onComplete: (r: unknown[][]) => (rows = r) });
  return rows.map((r) => r[0]).filter((t): t is string => typeof t === 'string' && t.trim().length > 0);
}

/** Stories of a dropped or chosen file (at most `limit`). */
export function readCorpusFile(file: File, progress: Progress, limit = 200_000): Promise<string[]> {
  return fromStream(file.name, file.stream(), file.size, progress, limit);
}

/** Stories of a file on the web (a `hf:owner/repo/path` spec or an https URL), streamed with progress. */
export async function fetchCorpus(spec: string, progress: Progress, limit = 50_000): Promise<{ name: string; docs: string[] }> {
  let url = spec.trim();
  const hf = /^hf:([^/]+\/[^/]+)\/(.+)$/.exec(url);
  if (hf) url = `https://huggingface.co/datasets/${hf[1]}/resolve/main/${hf[2]}`;
  if (!/^https?:\/\//.test(url)) throw new Error(`${spec}: expected hf:<owner>/<repo>/<path> or an http(s) URL`);
  const res = await fetch(url, { mode: 'cors' });
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
  const len = Number(res.headers.get('content-length'));
  const name = url.split('/').pop() ?? url;
  return { name, docs: await fromStream(name, res.body, Number.isFinite(len) && len > 0 ? len : null, progress, limit) };
}
