// Encode throughput (MB/s of UTF-8 input): ours on 1 thread and on 2 worker threads vs Hugging Face `tokenizers`
// (Rust) encodeBatch on the same texts, asserting identical ids. Tokenizers: vocab 4096 trained here, and GPT-2.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncodePool, loadTokenizer, trainBpe, type Tokenizer } from '../src/tokenizer/index.ts';
import { QUICK, median, record, sampleStories, timeIt, utf8Bytes } from './tokenizer-common.ts';
import { sharedData } from '../test/helpers/shared-data.ts';

const rust = createRequire(import.meta.url)('tokenizers') as typeof import('tokenizers');
const docs = await sampleStories();
const repeat = QUICK ? 1 : 4;
const texts: string[] = [];
for (let r = 0; r < repeat; r++) texts.push(...docs);
const mb = utf8Bytes(texts) / 1e6;
const reps = QUICK ? 3 : 5;
const tmp = mkdtempSync(join(tmpdir(), 'bench-enc-'));
const figures: Record<string, unknown> = { mb, reps };

async function run(name: string, tok: Tokenizer) {
  const path = join(tmp, `${name}.json`);
  tok.save(path);
  const rt = rust.Tokenizer.fromFile(path);

  let rustIds: number[][] = [];
  const tRust = await timeIt(reps, async () => {
    rustIds = (await rt.encodeBatch(texts)).map((e) => e.getIds());
  });
  let ours: number[][] = [];
  const t1 = await timeIt(reps, () => {
    ours = texts.map((t) => tok.encode(t));
  });
  for (let i = 0; i < texts.length; i++) {
    if (ours[i]!.length !== rustIds[i]!.length || ours[i]!.some((v, k) => v !== rustIds[i]![k])) {
      throw new Error(`${name}: ids differ from Rust tokenizers on text ${i}`);
    }
  }
  const startup0 = performance.now();
  const pool = new EncodePool(tok, 2);
  await pool.encode(['warm up']);
  const startup = (performance.now() - startup0) / 1000;
  let batch: { ids: Int32Array; offsets: Int32Array } | undefined;
  const t2 = await timeIt(reps, async () => {
    batch = await pool.encode(texts);
  });
  await pool.close();
  for (let i = 0; i < texts.length; i += 97) {
    const got = batch!.ids.subarray(batch!.offsets[i]!, batch!.offsets[i + 1]!);
    if (got.length !== rustIds[i]!.length || got.some((v, k) => v !== rustIds[i]![k])) throw new Error(`${name}: worker ids differ on text ${i}`);
  }
  const rate = (ts: number[]) => mb / median(ts);
  const f = {
    oursFirstPassMBs: mb / t1[0]!,
    ours1ThreadMBs: rate(t1),
    ours2ThreadsMBs: rate(t2),
    poolStartupSeconds: startup,
    rustEncodeBatchMBs: rate(tRust),
    ratio2ThreadsVsRust: rate(t2) / rate(tRust),
  };
  figures[name] = f;
  console.log(
    `${name}: ${mb.toFixed(1)} MB, ids identical | ours 1 thread ${f.ours1ThreadMBs.toFixed(1)} MB/s (first pass ${f.oursFirstPassMBs.toFixed(1)}), ` +
      `2 threads ${f.ours2ThreadsMBs.toFixed(1)} MB/s (+${startup.toFixed(2)} s start) | peer Rust encodeBatch ${f.rustEncodeBatchMBs.toFixed(1)} MB/s | ` +
      `2 threads / Rust = ${f.ratio2ThreadsVsRust.toFixed(1)}×`,
  );
}

try {
  await run('vocab4096', await trainBpe(docs, { vocabSize: 4096 }));
  if (existsSync(sharedData('tokenizer', 'vocab.json'))) await run('gpt2', loadTokenizer(sharedData('tokenizer')));
  else console.log(`gpt2: skipped (${sharedData('tokenizer')} absent)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
record('tokenizer-encode', figures);
