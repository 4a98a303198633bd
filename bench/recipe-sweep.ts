// Recipe sweep: for each training budget (3, 10, 30 minutes), train candidate recipes — GPT-Neo and Llama shapes
// from 0.2M to 8M parameters, vocabularies 512-8192, batch x context and learning rates — on the embedded
// TinyStories sample and keep the one with the lowest held-out bits per byte (the best checkpoint's validation
// loss on the hashed held-out stories). With --write the winners become src/train/recipe-table.ts, the table
// `train --minutes N` and the quickstart choose from. Every trial is appended to bench/results/recipe-sweep.jsonl.
//
// The full sweep needs hours of quiet CPU (staged: 22 trials per budget, about 16 hours for 3 + 10 + 30 minutes, not the 100+ of a full grid):
//   stage 1  every shape at vocab 2048, B16 x T256, lr 2e-3            (per budget)
//   stage 2  the two best shapes at vocab 512, 1024, 4096, 8192
//   stage 3  the best (shape, vocab) at lr 1e-3 / 4e-3 and B32 x T128 / B8 x T512
// Usage: npx tsx bench/recipe-sweep.ts [--quick] [--budgets=3,10,30] [--stages=1,2,3] [--shapes=a,b] [--vocabs=1024,4096]
//        [--top=2] [--stage3=lr/2,lr*2,B32T128,B8T512] [--stage1-vocab=2048] [--lr=2e-3] [--batch=16] [--seq=256] [--threads=0] [--write]
//        [--with-recorded] [--table=<file>]
// --shapes / --vocabs / --top (shapes carried into stage 2) / --stage3 narrow the stages for a shorter sweep, e.g.
// five shapes, two vocabularies for the best one, then double lr and B32xT128; every trial is still recorded.
// --stage1-vocab / --lr / --batch / --seq set stage 1's vocabulary, learning rate and batch shape (a follow-up around an earlier winner);
// --with-recorded makes --write choose among every trial recorded today on this CPU, not only this run's.
// --quick: seconds — two tiny shapes, one vocabulary, a 3-second budget on builtin:mini, not recorded; writes only with --write
// and then to --table (default: a temporary file, never the shipped table).
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelConfig } from '../src/engine/config.ts';
import { bestPerBudget, describeRecipe, type Recipe, recipeTableSource } from '../src/train/recipe.ts';
import { RECIPE_TABLE } from '../src/train/recipe-table.ts';
import { train } from '../src/train/trainer.ts';

const QUICK = process.argv.includes('--quick');
const WRITE = process.argv.includes('--write');
const opt = (k: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1];
const here = dirname(fileURLToPath(import.meta.url));
const BUDGETS = (opt('budgets') ?? (QUICK ? '0.05' : '3,10,30')).split(',').map(Number);
const STAGES = new Set((opt('stages') ?? (QUICK ? '1,2' : '1,2,3')).split(',').map(Number));
const THREADS = Number(opt('threads') ?? 0);
const DATA = QUICK ? 'builtin:mini' : 'builtin:tinystories';
const SHIPPED_TABLE = join(here, '..', 'src', 'train', 'recipe-table.ts');
const TABLE = opt('table') ?? (QUICK ? join(mkdtempSync(join(tmpdir(), 'recipe-sweep-')), 'recipe-table.ts') : SHIPPED_TABLE);

const llama = (dim: number, nLayers: number, nHeads: number, nKvHeads: number): ModelConfig => ({ arch: 'llama', vocabSize: 2048, maxSeqLen: 512, dim, nLayers, nHeads, nKvHeads, multipleOf: 4, normEps: 1e-5 });
const neo = (dim: number, nLayers: number, nHeads: number): ModelConfig => ({ arch: 'gpt-neo', vocabSize: 2048, maxSeqLen: 512, dim, nLayers, nHeads, windowSize: 256, layerNormEps: 1e-5 });

/** Candidate shapes, about 0.2M to 8M parameters at vocab 2048 (embeddings included). */
const ALL_SHAPES: Record<string, ModelConfig> = QUICK
  ? { 'llama-d32L2': llama(32, 2, 4, 2), 'neo-d32L2': neo(32, 2, 4) }
  : {
      'llama-d48L4': llama(48, 4, 6, 3),
      'llama-d64L5': llama(64, 5, 8, 4),
      'llama-d96L6': llama(96, 6, 6, 6),
      'llama-d128L6': llama(128, 6, 8, 4),
      'llama-d192L6': llama(192, 6, 6, 6),
      'llama-d256L8': llama(256, 8, 8, 8),
      'neo-d64L4': neo(64, 4, 8),
      'neo-d64L8': neo(64, 8, 16),
      'neo-d128L8': neo(128, 8, 16),
      'neo-d256L8': neo(256, 8, 16),
    };
const pick = opt('shapes')?.split(',');
for (const n of pick ?? []) if (!(n in ALL_SHAPES)) throw new Error(`--shapes: unknown shape ${n}; known: ${Object.keys(ALL_SHAPES).join(', ')}`);
const SHAPES = pick ? Object.fromEntries(pick.map((n) => [n, ALL_SHAPES[n]!])) : ALL_SHAPES;
const STAGE3_ALL = ['lr/2', 'lr*2', 'B32T128', 'B8T512'];
const STAGE3 = opt('stage3')?.split(',') ?? STAGE3_ALL;
for (const v of STAGE3) if (!STAGE3_ALL.includes(v)) throw new Error(`--stage3: unknown variant ${v}; known: ${STAGE3_ALL.join(', ')}`);
const TOP = Number(opt('top') ?? 2);
const BASE = { batchSize: Number(opt('batch') ?? 16), seqLen: Number(opt('seq') ?? 256), lr: Number(opt('lr') ?? 2e-3), lrSchedule: 'cosine' as const, warmupSteps: 100, minLrRatio: 0.1, maxEpochs: 20 };
/** Stage-1 names say where the base differs from the default (lr 2e-3, B16 x T256). */
const BASE_SUFFIX = `${BASE.lr !== 2e-3 ? `-lr${BASE.lr}` : ''}${BASE.batchSize !== 16 || BASE.seqLen !== 256 ? `-B${BASE.batchSize}T${BASE.seqLen}` : ''}`;
const QUICK_BASE = { ...BASE, batchSize: 4, seqLen: 32, warmupSteps: 5 };
/** Stage 1 compares shapes at one vocabulary; stage 2 tries the others. */
const STAGE1_VOCAB = Number(opt('stage1-vocab') ?? (QUICK ? 300 : 2048));
const VOCABS = opt('vocabs')?.split(',').map(Number) ?? (QUICK ? [300] : [512, 1024, 2048, 4096, 8192]);

interface Trial { minutes: number; recipe: Recipe; heldOutLoss: number | null; heldOutBpb: number | null; steps: number; tokensPerSecond: number; reason: string }

const trials: Trial[] = [];
const resultsFile = join(here, 'results', 'recipe-sweep.jsonl');
mkdirSync(dirname(resultsFile), { recursive: true });
const date = new Date().toISOString().slice(0, 10);

async function runTrial(minutes: number, recipe: Recipe): Promise<Trial> {
  const work = mkdtempSync(join(tmpdir(), 'recipe-sweep-run-'));
  const out = join(work, recipe.name);
  const modelFile = join(dirname(out), `${recipe.name}.json`);
  writeFileSync(modelFile, JSON.stringify(recipe.model));
  console.log(`\n== ${minutes} min: ${describeRecipe(recipe)}`);
  const r = await train(
    { modelConfig: modelFile, data: DATA, out, minutes, vocabSize: recipe.vocabSize, batchSize: recipe.batchSize, seqLen: recipe.seqLen, lr: recipe.lr, lrSchedule: recipe.lrSchedule, warmupSteps: recipe.warmupSteps, minLrRatio: recipe.minLrRatio, maxEpochs: recipe.maxEpochs, valEvery: QUICK ? 10 : 100, valBatches: 8, patience: 5, sampleEvery: 0, checkpointEvery: 0, seed: 1337, threads: THREADS, quiet: true },
    { printConfig: false, log: () => {} },
  );
  const t: Trial = { minutes, recipe, heldOutLoss: r.bestValLoss, heldOutBpb: r.bestValBpb, steps: r.step, tokensPerSecond: Math.round(r.tokensPerSecond), reason: r.reason };
  console.log(`   held-out ${t.heldOutLoss?.toFixed(4) ?? '–'} nats/token, ${t.heldOutBpb?.toFixed(4) ?? '–'} bits/byte; ${t.steps} steps, ${t.tokensPerSecond} tok/s (${t.reason})`);
  if (!QUICK) appendFileSync(resultsFile, JSON.stringify({ date: new Date().toISOString(), quick: QUICK, cpu: cpus()[0]?.model, cores: cpus().length, threads: THREADS, ...t }) + '\n');
  trials.push(t);
  rmSync(work, { recursive: true, force: true });
  return t;
}

const byBpb = (a: Trial, b: Trial) => (a.heldOutBpb ?? Infinity) - (b.heldOutBpb ?? Infinity);
const base = QUICK ? QUICK_BASE : BASE;
for (const minutes of BUDGETS) {
  const stage1: Trial[] = [];
  if (STAGES.has(1)) for (const [name, model] of Object.entries(SHAPES)) stage1.push(await runTrial(minutes, { name: `${name}-v${STAGE1_VOCAB}${BASE_SUFFIX}`, model, vocabSize: STAGE1_VOCAB, ...base }));
  const topShapes = stage1.sort(byBpb).slice(0, TOP);
  const stage2: Trial[] = [...topShapes];
  if (STAGES.has(2)) {
    for (const t of topShapes) {
      for (const v of VOCABS.filter((v) => v !== t.recipe.vocabSize)) stage2.push(await runTrial(minutes, { ...t.recipe, name: t.recipe.name.replace(/-v\d+$/, `-v${v}`), vocabSize: v }));
    }
  }
  const best = stage2.sort(byBpb)[0];
  if (STAGES.has(3) && best) {
    for (const v of STAGE3) {
      const r = best.recipe;
      // a variant's name replaces the part it changes (llama-d48L4-v4096-lr0.008-B32T128 → ...-lr0.016-B32T128)
      const lr = v === 'lr/2' ? r.lr / 2 : r.lr * 2;
      if (v === 'lr/2' || v === 'lr*2') await runTrial(minutes, { ...r, name: r.name.includes('-lr') ? r.name.replace(/-lr[^-]+/, `-lr${lr}`) : `${r.name}-lr${lr}`, lr });
      else if (v === 'B32T128' || v === 'B8T512') {
        const [B, T] = v === 'B32T128' ? [32, 128] : [8, 512];
        await runTrial(minutes, { ...r, name: `${r.name.replace(/-B\d+T\d+/, '')}-B${B}T${T}`, batchSize: B, seqLen: T });
      }
    }
  }
}

console.log('\nbest per budget (held-out bits per byte):');
// --with-recorded: the table is the best of every trial recorded today on this CPU for these budgets (earlier partial
// sweeps included), not only this invocation's.
const recorded = (): Trial[] =>
  (existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Trial & { date: string; cpu?: string; quick: boolean }) : [])
    .filter((t) => !t.quick && t.date.startsWith(date) && t.cpu === cpus()[0]?.model && BUDGETS.includes(t.minutes));
const pool = process.argv.includes('--with-recorded') && !QUICK ? recorded() : trials;
const rows = bestPerBudget(pool, date);
for (const r of rows) console.log(`${String(r.minutes).padStart(5)} min  ${r.heldOutBpb!.toFixed(4)} bpb  ${describeRecipe(r.recipe)}`);
console.log(`${trials.length} trials${QUICK ? ' (a smoke run: not recorded)' : `; each appended to ${resultsFile}`}`);
if (WRITE) {
  // A partial sweep (--budgets) keeps the shipped table's rows of the budgets it did not run.
  const kept = TABLE === SHIPPED_TABLE ? RECIPE_TABLE.filter((e) => !BUDGETS.includes(e.minutes)) : [];
  const merged = [...rows, ...kept].sort((a, b) => a.minutes - b.minutes);
  writeFileSync(TABLE, recipeTableSource(merged, `Sweep of ${date} on ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, ${pool.length} trials at ${BUDGETS.join('/')} min, data ${DATA}${kept.length ? `; the ${kept.map((e) => e.minutes).join('/')}-minute rows are kept from the previous table` : ''}.`));
  console.log(`wrote ${TABLE}`);
}
