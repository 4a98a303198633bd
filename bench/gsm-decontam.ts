// Decontamination throughput: questions/s checked against the GSM8K-test 13-/8-gram index, and memory, extrapolated
// to 12M questions. Stream: GSM8K train questions (repeated with a suffix to make distinct rows) when
// ../shared/data/gsm8k is present, else synthetic questions. Peer in the same run: a plain Set<string> of n-gram strings.
import { existsSync, readFileSync } from 'node:fs';
import { HashSet64 } from '../src/data/hygiene.ts';
import { NgramIndex, normalizeQuestion } from '../src/gsm/decontam.ts';
import { QUICK, record } from './tokenizer-common.ts';
import { sharedData } from '../test/helpers/shared-data.ts';

const DATA = sharedData('gsm8k');
const read = (f: string) => readFileSync(`${DATA}/${f}`, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { question: string }).question);
const have = existsSync(`${DATA}/test_minus_holdout.jsonl`);
const testQs = have ? read('test_minus_holdout.jsonl') : Array.from({ length: 1000 }, (_, i) => `Tom has ${i} marbles and buys ${i % 9} more bags of ten marbles each at the fair. How many marbles does he have now?`);
const base = have ? [...read('train.part1.jsonl'), ...read('train.part2.jsonl')] : Array.from({ length: 7000 }, (_, i) => `Mia reads ${i} pages a day for ${i % 13} days and then gives ${i % 5} books away. How many pages in total?`);
const reps = QUICK ? 4 : 20;
const rows: string[] = [];
for (let r = 0; r < reps; r++) for (const q of base) rows.push(r ? `${q} (variant ${r})` : q);

const rss0 = process.memoryUsage().rss;
let t0 = performance.now();
const idx = new NgramIndex(13, 8);
for (const q of testQs) idx.add(q);
const buildMs = performance.now() - t0;

t0 = performance.now();
let o13 = 0;
let o8 = 0;
const dedup = new HashSet64(1 << 16);
let dups = 0;
for (const q of rows) {
  const ov = idx.check(q);
  if (ov.long) o13++;
  if (ov.short) o8++;
  if (!dedup.addText(normalizeQuestion(q).join(' '))) dups++;
}
const sec = (performance.now() - t0) / 1000;
const rate = rows.length / sec;
const rss1 = process.memoryUsage().rss;
// at 12M rows: the test index stays the same size; the exact-duplicate set holds 8 bytes per slot, 2-4 slots per row
const dedupBytes12M = 8 * 2 ** Math.ceil(Math.log2(12e6 * 2));
const figures: Record<string, unknown> = {
  rows: rows.length, testQuestions: testQs.length, realData: have, buildMs: Math.round(buildMs), questionsPerSec: rate,
  overlap13: o13, overlap8: o8, duplicates: dups, indexBytes: idx.bytes, rssDeltaMB: (rss1 - rss0) / 2 ** 20,
  extrapolated12M: { seconds: 12e6 / rate, indexMB: idx.bytes / 2 ** 20, dedupSetMB: dedupBytes12M / 2 ** 20 },
};
console.log(`decontam: ${rows.length} questions vs ${testQs.length} test questions (${have ? 'GSM8K' : 'synthetic'}): ${rate.toFixed(0)} questions/s (with exact-dup hashing); index ${(idx.bytes / 2 ** 20).toFixed(2)} MiB built in ${buildMs.toFixed(0)} ms`);
console.log(`  overlaps: ${o13} at 13-grams (${((100 * o13) / rows.length).toFixed(3)}%), ${o8} at 8-grams (${((100 * o8) / rows.length).toFixed(3)}%); RSS +${((rss1 - rss0) / 2 ** 20).toFixed(0)} MiB`);
console.log(`  12M questions: ~${(12e6 / rate / 60).toFixed(1)} min on one core; memory: index ${(idx.bytes / 2 ** 20).toFixed(2)} MiB (constant) + exact-dup set ${(dedupBytes12M / 2 ** 20).toFixed(0)} MiB`);

// Peer: n-gram strings in a Set (what a straightforward implementation would do).
t0 = performance.now();
const rssP0 = process.memoryUsage().rss;
const naive13 = new Set<string>();
const naive8 = new Set<string>();
const grams = (w: string[], n: number) => {
  const out: string[] = [];
  for (let i = 0; i + n <= w.length; i++) out.push(w.slice(i, i + n).join(' '));
  return out;
};
for (const q of testQs) {
  const w = normalizeQuestion(q);
  for (const g of grams(w, 13)) naive13.add(g);
  for (const g of grams(w, 8)) naive8.add(g);
}
const sample = rows.slice(0, Math.min(rows.length, 40000));
const t1 = performance.now();
let n13 = 0;
for (const q of sample) {
  const w = normalizeQuestion(q);
  if (grams(w, 13).some((g) => naive13.has(g))) n13++;
  grams(w, 8).some((g) => naive8.has(g));
}
const naiveRate = sample.length / ((performance.now() - t1) / 1000);
figures.peerStringSet = { questionsPerSec: naiveRate, rssDeltaMB: (process.memoryUsage().rss - rssP0) / 2 ** 20, overlap13OnSample: n13 };
console.log(`peer: Set<string> of n-gram strings: ${naiveRate.toFixed(0)} questions/s on ${sample.length} rows (no dedup hashing)`);
void t0;
record('gsm-decontam', figures);
