// Learning check: train the 1M GPT-Neo preset and a llama2.c-style 260K llama on the shared TinyStories sample
// (~3,600 stories for training, the hashed 10% of documents held out for validation) for N minutes each, logging
// the validation loss curve. Each model is the other's peer in the same run; the paper's models train for days,
// so the point is the shape of the curve and the sample quality after minutes, reported as measured. The epoch cap
// and early stopping are off (the trainer's defaults would stop the 260K llama after ~20 minutes on this sample):
// the whole curve is the measurement, with the best checkpoint's loss and sample reported next to the last one.
// Usage: npx tsx bench/train-learning.ts [--quick] [--minutes=30] [--presets=1M,260K] [--vocab=2048] [--threads=0]
//        [--data=<spec>]  (instead of the shared sample, e.g. hf:roneneldan/TinyStories/TinyStoriesV2-GPT4-valid.txt,
//        22 MB, downloaded once into the cache)
// (--threads=1 lets two presets run as two processes side by side on a 2-core machine.)
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRefBackend } from '../src/engine/ref/index.ts';
import { generateText } from '../src/sample/generate.ts';
import { loadRunModel } from '../src/sample/load.ts';
import { readJsonLines } from '../src/train/metrics.ts';
import { train } from '../src/train/trainer.ts';
import { sharedData } from '../test/helpers/shared-data.ts';

const QUICK = process.argv.includes('--quick');
const opt = (k: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1];
const MINUTES = Number(opt('minutes') ?? (QUICK ? 0.5 : 30));
const PRESETS = (opt('presets') ?? '1M,260K').split(',');
const VOCAB = Number(opt('vocab') ?? 2048);
const THREADS = Number(opt('threads') ?? 0);
const here = dirname(fileURLToPath(import.meta.url));
const SHARED = sharedData('tinystories');
const FILES = ['TinyStories-train_head2MiB_2316stories.txt', 'tinystoriesV2_train_first1727.txt'];

const DATA = opt('data');
if (!DATA && !existsSync(SHARED)) {
  console.log(`train-learning: skipped, ${SHARED} is absent (the bench trains on the shared TinyStories sample)`);
  process.exit(0);
}

// Files 1 and 3 of the sample (V1 head and V2 head, ~4,000 distinct stories; file 2 repeats file 1's first 1,000).
const dataDir = DATA ?? mkdtempSync(join(tmpdir(), 'bench-learning-data-'));
if (!DATA) for (const f of FILES) symlinkSync(join(SHARED, f), join(dataDir, f));

const results: Array<Record<string, unknown>> = [];
for (const preset of PRESETS) {
  const out = join(mkdtempSync(join(tmpdir(), 'bench-learning-')), preset);
  console.log(`\n== ${preset}: ${MINUTES} min, threads ${THREADS || "all"}, on ${DATA ?? `${FILES.length} shared files`} (vocab ${VOCAB}) -> ${out}`);
  const r = await train(
    { preset, data: dataDir, out, vocabSize: VOCAB, minutes: MINUTES, seqLen: 256, batchSize: 16, lr: 2e-3, warmupSteps: 100, valFraction: 0.1, valEvery: QUICK ? 10 : 100, valBatches: 8, sampleEvery: QUICK ? 0 : 300, checkpointEvery: 500, seed: 1337, threads: THREADS, maxEpochs: null, patience: 0, sampleTokens: 120 },
    { printConfig: false },
  );
  const metrics = readJsonLines<{ step: number; wall_s: number; val_loss?: number; val_bpb?: number; loss: number }>(join(out, 'metrics.jsonl'));
  const curve = metrics.filter((m) => m.val_loss !== undefined).map((m) => [m.step, Math.round(m.wall_s), Number(m.val_loss!.toFixed(4)), Number((m.val_bpb ?? NaN).toFixed(4))]);
  console.log('step  wall_s  val_loss  val_bpb');
  for (const [s, w, v, b] of curve) console.log(`${String(s).padStart(5)} ${String(w).padStart(7)}  ${v}  ${b}`);
  // The training-time samples (every 300 steps, temperature 0.8) nearest to each time point of the table.
  const wallByStep = new Map(metrics.map((m) => [m.step, m.wall_s]));
  const samples = readJsonLines<{ step: number; text: string }>(join(out, 'samples.jsonl')).map((x) => ({ ...x, wall: wallByStep.get(x.step) ?? NaN }));
  const atPoints: Array<{ minutes: number; step: number; text: string }> = [];
  for (const minutes of [1, 2.5, 5, 10, 15, 20, 30, 45, 60, 90, 120].filter((m) => m <= MINUTES)) {
    const near = samples.reduce<(typeof samples)[number] | undefined>((best, x) => (!best || Math.abs(x.wall - minutes * 60) < Math.abs(best.wall - minutes * 60) ? x : best), undefined);
    if (near && !atPoints.some((a) => a.step === near.step)) atPoints.push({ minutes, step: near.step, text: near.text });
  }
  for (const a of atPoints) console.log(`sample at ~${a.minutes} min (step ${a.step}): Once upon a time${a.text.replace(/\s+/g, ' ')}`);
  const story = async (dir: string) => {
    const { model, tokenizer } = loadRunModel(dir, createRefBackend());
    return generateText(model, tokenizer, 'Once upon a time', { temperature: 0.8, topP: 0.95, maxTokens: 120, seed: 1 });
  };
  const last = await story(out);
  const best = existsSync(join(out, 'best')) ? await story(join(out, 'best')) : last;
  console.log(`sample (last weights): Once upon a time${last}`);
  console.log(`sample (best checkpoint, val ${r.bestValLoss?.toFixed(4)}): Once upon a time${best}`);
  const shardManifest = JSON.parse(readFileSync(join(out, 'shards', 'manifest.json'), 'utf8')) as { shards: Array<{ split: string; docs: number; tokens: number }> };
  const docs = (split: string) => shardManifest.shards.filter((s) => s.split === split).reduce((a, s) => a + s.docs, 0);
  results.push({ preset, minutes: MINUTES, threads: THREADS, steps: r.step, tokens_per_s: Math.round(r.tokensPerSecond), backend: r.backend, train_docs: docs('train'), val_docs: docs('val'), final_val_loss: r.valLoss, best_val_loss: r.bestValLoss, best_val_bpb: r.bestValBpb, best_step: r.bestStep, curve, sample: last, sample_best: best, samples_at: atPoints });
}
mkdirSync(join(here, 'results'), { recursive: true });
appendFileSync(join(here, 'results', 'train-learning.jsonl'), JSON.stringify({ date: new Date().toISOString(), quick: QUICK, cpu: cpus()[0]?.model, cores: cpus().length, results }) + '\n');
console.log('\nsummary:');
for (const r of results) console.log(`${String(r.preset).padEnd(6)} ${r.steps} steps, ${r.tokens_per_s} tok/s, val loss ${(r.final_val_loss as number | null)?.toFixed(3)} (best ${(r.best_val_loss as number | null)?.toFixed(3)}), ${r.train_docs} train / ${r.val_docs} val stories`);
