// Tokenize-to-shards throughput (MB/s of source text), 1 and 2 encoder threads, vocab 4096.
// Peer in the same run: reading the same source through readDocuments alone (the I/O + hygiene floor).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDocuments } from '../src/data/index.ts';
import { tokenizeToShards } from '../src/data/shards.ts';
import { trainBpe } from '../src/tokenizer/index.ts';
import { QUICK, record, sampleStories, utf8Bytes } from './tokenizer-common.ts';

const docs = await sampleStories();
const repeat = QUICK ? 1 : 8;
const tmp = mkdtempSync(join(tmpdir(), 'bench-shards-'));
try {
  // distinct stories per copy (a suffix), so deduplication keeps them all
  const parts: string[] = [];
  for (let r = 0; r < repeat; r++) for (const d of docs) parts.push(`${d} (${r})\n<|endoftext|>\n`);
  const data = join(tmp, 'corpus.txt');
  writeFileSync(data, parts.join(''));
  const mb = utf8Bytes(parts) / 1e6;
  const tokPath = join(tmp, 'tok.json');
  (await trainBpe(docs, { vocabSize: 4096 })).save(tokPath);

  let t0 = performance.now();
  let n = 0;
  for await (const _ of readDocuments(data)) n++;
  const readOnly = (performance.now() - t0) / 1000;

  const figures: Record<string, unknown> = { mb, stories: n, readOnlyMBs: mb / readOnly };
  for (const threads of [1, 2]) {
    t0 = performance.now();
    const s = await tokenizeToShards({
      data, tokenizer: tokPath, out: join(tmp, `out${threads}`), threads, parallelMinBytes: 0, quiet: true,
    });
    const sec = (performance.now() - t0) / 1000;
    figures[`threads${threads}`] = { seconds: sec, MBs: mb / sec, tokens: s.train.tokens + s.val.tokens };
    console.log(`tokenize ${mb.toFixed(1)} MB → shards, ${threads} thread(s): ${(mb / sec).toFixed(1)} MB/s (${s.train.tokens + s.val.tokens} tokens, ${sec.toFixed(2)} s)`);
  }
  console.log(`peer: readDocuments alone on the same file: ${(mb / readOnly).toFixed(1)} MB/s (${n} stories)`);
  record('shards', figures);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
