// Story reading throughput (MB/s of source) of readDocuments on the shared TinyStories .txt samples, with and without
// hygiene, and its peak memory. Peer in the same run: the naive whole-file read (readFileSync + split + trim).
// Usage: npx tsx bench/data-read.ts [--quick]   (full: the samples repeated 10× ≈ 45 MB; quick: once ≈ 4.5 MB)
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newHygieneReport, readDocuments, type HygieneOptions } from '../src/data/index.ts';
import { sharedData } from '../test/helpers/shared-data.ts';

const QUICK = process.argv.includes('--quick');
const SHARED = sharedData('tinystories');
const FILES = ['TinyStories-train_head2MiB_2316stories.txt', 'tinystories_hf_train_first1000.txt', 'tinystoriesV2_train_first1727.txt'];

if (!existsSync(SHARED)) {
  console.log(`data-read: skipped, ${SHARED} is absent (the bench reads the shared TinyStories samples)`);
  process.exit(0);
}

const repeat = QUICK ? 1 : 10;
const runs = QUICK ? 1 : 3;
const tmp = mkdtempSync(join(tmpdir(), 'bench-data-read-'));
try {
  // The samples as they are (mojibake, blank lines, trailing spaces), each copy's stories made distinct by a suffix
  // so that deduplication keeps them: the work per byte is that of a real corpus.
  const raw = FILES.map((f) => readFileSync(join(SHARED, f), 'utf8'));
  const parts: string[] = [];
  for (let r = 0; r < repeat; r++) for (const t of raw) parts.push(r === 0 ? t : t.replaceAll('\n<|endoftext|>', ` (${r})\n<|endoftext|>`));
  const corpus = join(tmp, 'corpus.txt');
  writeFileSync(corpus, parts.join(''));
  const bytes = parts.reduce((s, p) => s + Buffer.byteLength(p), 0);
  const mb = bytes / 1e6;
  parts.length = 0;

  const measure = async (label: string, fn: () => Promise<number>) => {
    let best = Infinity;
    let stories = 0;
    let peakRss = 0;
    for (let i = 0; i < runs; i++) {
      (globalThis as { gc?: () => void }).gc?.();
      const base = process.memoryUsage().rss;
      const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss - base)), 5);
      const t0 = performance.now();
      stories = await fn();
      best = Math.min(best, (performance.now() - t0) / 1000);
      clearInterval(timer);
      peakRss = Math.max(peakRss, process.memoryUsage().rss - base);
    }
    const figure = { seconds: best, MBs: mb / best, stories, peakRssGrowthMB: peakRss / 1e6 };
    console.log(`${label.padEnd(44)} ${figure.MBs.toFixed(1).padStart(7)} MB/s  ${stories} stories  RSS +${figure.peakRssGrowthMB.toFixed(0)} MB`);
    return figure;
  };
  const viaReadDocuments = (opts: HygieneOptions) => async () => {
    let n = 0;
    const report = newHygieneReport();
    for await (const _ of readDocuments(corpus, { ...opts, report })) n++;
    return n;
  };

  console.log(`data-read: ${mb.toFixed(1)} MB (${FILES.length} shared samples × ${repeat}), best of ${runs}, Node ${process.version}`);
  const full = await measure('readDocuments, full hygiene', viaReadDocuments({}));
  const none = await measure('readDocuments, hygiene off', viaReadDocuments({ nfc: false, repairMojibake: false, dedupe: false }));
  const peer = await measure('peer: readFileSync + split + trim (no hygiene)', async () => {
    const text = readFileSync(corpus, 'utf8');
    let n = 0;
    for (const s of text.split('<|endoftext|>')) if (s.trim().length > 0) n++;
    return n;
  });
  const line = {
    bench: 'data-read',
    date: new Date().toISOString(),
    quick: QUICK,
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    mb,
    full,
    hygieneOff: none,
    peerWholeFileSplit: peer,
  };
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'data-read.jsonl');
  mkdirSync(dirname(out), { recursive: true });
  appendFileSync(out, JSON.stringify(line) + '\n');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
