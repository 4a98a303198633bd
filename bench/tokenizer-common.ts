// Shared helpers of the tokenizer and shard benchmarks: the shared TinyStories sample, timing, result lines.
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDocuments } from '../src/data/index.ts';
import { sharedData } from '../test/helpers/shared-data.ts';

export const SAMPLE_DIR = sharedData('tinystories');
export const QUICK = process.argv.includes('--quick');

/** The shared sample's stories (after the data module's hygiene), or exit with a reason when it is absent. */
export async function sampleStories(): Promise<string[]> {
  if (!existsSync(SAMPLE_DIR)) {
    console.log(`skipped: ${SAMPLE_DIR} (the shared TinyStories sample) is not present`);
    process.exit(0);
  }
  const docs: string[] = [];
  // no dedupe: the HF-form file repeats 1,000 V1 stories; the benchmark figure is for the sample as shipped (~4.5 MB)
  for await (const d of readDocuments(SAMPLE_DIR, { dedupe: false })) docs.push(d);
  return docs;
}

export function utf8Bytes(texts: string[]): number {
  let n = 0;
  for (const t of texts) n += Buffer.byteLength(t, 'utf8');
  return n;
}

/** Runs `fn` `reps` times; returns the seconds of each run. */
export async function timeIt(reps: number, fn: () => unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    out.push((performance.now() - t0) / 1000);
  }
  return out;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Appends one JSON line to bench/results/<name>.jsonl with the machine and the figures. */
export function record(name: string, figures: Record<string, unknown>): void {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const line = {
    bench: name,
    date: new Date().toISOString(),
    quick: QUICK,
    node: process.version,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    ...figures,
  };
  appendFileSync(join(dir, `${name}.jsonl`), JSON.stringify(line) + '\n');
}
