// PyTorch peer in the same run: our trainer and PyTorch (bench/peers/pytorch_train.py) train the same model shape
// from the same initial weights, on the same batches in the same order (same data, tokenizer and windows), with
// the same AdamW settings, learning-rate schedule and gradient clipping; both then score the same held-out windows.
// Reported: tokens/s, and held-out loss (nats/token and bits per byte) at equal tokens (the same step count) and at
// equal wall time (PyTorch gets as many steps as fit in our training time, with its schedule set to that count).
//
// Needs Debian's PyTorch and OpenBLAS (never a dependency of the package):
//   sudo apt-get install python3-torch libopenblas0-pthread
// Without OpenBLAS, PyTorch falls back to reference BLAS (~10x slower) and the comparison is meaningless. The python
// command runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (see ../shared/MEASURED.md).
// Usage: npx tsx bench/peer-pytorch.ts [--quick] [--steps=300] [--preset=bench-r] [--data=builtin:tinystories]
//        [--model=<model-config.json>] [--vocab=4096] [--batch=8] [--seq=256] [--lr=1e-3] [--threads=0] [--torch-threads=1]
//        [--minutes=N]  (ours trains `train --minutes N`'s default recipe for N minutes; PyTorch the same recipe)
//        [--equal=tokens,time]  (which PyTorch runs; `--equal=time` skips the equal-tokens run, which takes about twice
//        ours' time, and sets PyTorch's step count from a --probe-steps=100 timing run instead)
// --quick: a few steps of a tiny model on builtin:mini (a smoke run, seconds; its figures mean nothing).
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSafetensorsSync } from '../src/checkpoint/safetensors.ts';
import { openShards } from '../src/data/shards.ts';
import { resolveConfig, type ModelConfig } from '../src/engine/config.ts';
import { exportHfTensors } from '../src/engine/hf.ts';
import { Model } from '../src/engine/model.ts';
import { createRefBackend } from '../src/engine/ref/index.ts';
import { loadTokenizer } from '../src/tokenizer/hf-json.ts';
import { bitsPerByte, tokenByteLengths, validationTextBytes } from '../src/train/bpb.ts';
import { DataOrder } from '../src/train/data-order.ts';
import { readJsonLines, type MetricsRecord } from '../src/train/metrics.ts';
import { readTrainConfig } from '../src/train/run-config.ts';
import { learningRate } from '../src/train/schedule.ts';
import { describeRecipe, recipeSettingsFor } from '../src/train/recipe.ts';
import { effectiveWarmup, train } from '../src/train/trainer.ts';

const QUICK = process.argv.includes('--quick');
const opt = (k: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1];
const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';
let STEPS = Number(opt('steps') ?? (QUICK ? 4 : 300));
const TORCH_THREADS = Number(opt('torch-threads') ?? 1);
const EQUAL = new Set((opt('equal') ?? 'tokens,time').split(','));
for (const e of EQUAL) if (e !== 'tokens' && e !== 'time') throw new Error(`--equal: expected tokens and/or time, got ${e}`);
const PROBE_STEPS = Number(opt('probe-steps') ?? 100);
const work = mkdtempSync(join(tmpdir(), 'peer-pytorch-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

// The python side: Debian's torch, with OpenBLAS's tuning variables of this machine unset for that command only.
const pyEnv: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: String(TORCH_THREADS) };
delete pyEnv.OPENBLAS_CORETYPE;
delete pyEnv.OPENBLAS_L2_SIZE;
const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', env: pyEnv });
if (probe.status !== 0) {
  console.log(`peer-pytorch: skipped, ${PYTHON} cannot import torch (install: sudo apt-get install python3-torch libopenblas0-pthread)`);
  process.exit(0);
}
const blas = spawnSync('sh', ['-c', 'ldconfig -p | grep -c libopenblas'], { encoding: 'utf8' });
if (Number(blas.stdout.trim() || 0) === 0) console.log('peer-pytorch: warning: no libopenblas found; PyTorch will use reference BLAS and be ~10x slower');

// 1. Ours: a normal training run (it trains the tokenizer and writes the shards the peer then reads).
const tiny = { arch: 'llama', vocabSize: 300, maxSeqLen: 64, dim: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, multipleOf: 8 };
const quickModel = join(work, 'tiny-llama.json');
if (QUICK) writeFileSync(quickModel, JSON.stringify(tiny));
// --minutes=N: ours trains the default recipe for that budget (what `train --minutes N` picks) for N minutes; the
// step count it reaches becomes the equal-tokens count for PyTorch.
const MINUTES = opt('minutes') ? Number(opt('minutes')) : null;
const recipe = MINUTES !== null && !opt('model') && !opt('preset') ? recipeSettingsFor({ minutes: MINUTES }) : null;
const settings = {
  ...(opt('model') ? { modelConfig: opt('model')! } : QUICK ? { modelConfig: quickModel } : { preset: opt('preset') ?? 'bench-r' }),
  data: opt('data') ?? (QUICK ? 'builtin:mini' : 'builtin:tinystories'),
  out: join(work, 'ours'),
  vocabSize: Number(opt('vocab') ?? (QUICK ? 300 : 4096)),
  batchSize: Number(opt('batch') ?? (QUICK ? 4 : 8)),
  seqLen: Number(opt('seq') ?? (QUICK ? 32 : 256)),
  lr: Number(opt('lr') ?? 1e-3),
  steps: STEPS,
  warmupSteps: QUICK ? 1 : 30,
  valEvery: 0,
  valBatches: QUICK ? 2 : 8,
  patience: 0,
  sampleEvery: 0,
  checkpointEvery: 0,
  threads: Number(opt('threads') ?? 0),
  seed: 1337,
  quiet: true,
  ...(recipe ? recipe.settings : {}),
  ...(MINUTES !== null ? { steps: null, minutes: MINUTES } : {}),
};
if (recipe) console.log(`peer-pytorch: default recipe for ${MINUTES} min: ${describeRecipe(recipe.entry.recipe)}`);
console.log(`peer-pytorch: ${QUICK ? 'QUICK smoke run, ' : ''}${MINUTES !== null ? `${MINUTES} min` : `${STEPS} steps`} of B=${settings.batchSize} x T=${settings.seqLen} on ${settings.data}; PyTorch ${probe.stdout.trim()} on ${TORCH_THREADS} thread(s)`);
const ours = await train(settings, { printConfig: false, log: () => {} });
STEPS = ours.step;
const saved = readTrainConfig(ours.runDir);
const s = saved.settings;
const B = s.batchSize;
const cfg = resolveConfig(saved.model);
const T = Math.min(s.seqLen, cfg.maxSeqLen);
const oursMetrics = readJsonLines<MetricsRecord>(join(ours.runDir, 'metrics.jsonl'));
const oursStepSeconds = (STEPS * B * T) / ours.tokensPerSecond;

// 2. What the peer reads: the same initial weights, batches in our data order, validation windows, settings.
const tokenizer = loadTokenizer(join(ours.runDir, 'tokenizer.json'));
const shards = openShards(join(ours.runDir, 'shards'), { tokenizer });
const init = new Model(saved.model as ModelConfig, createRefBackend(), { seed: s.seed });
writeSafetensorsSync(join(work, 'init.safetensors'), [...exportHfTensors(init)].map(([name, t]) => ({ name, shape: t.shape, data: t.data })));
const maxSteps = STEPS * 3; // room for equal wall time when PyTorch is the faster one
const order = new DataOrder(shards.train.length, T, s.seed, { epoch: 0, position: 0 });
const trainBin = new Int32Array(maxSteps * B * (T + 1));
const w = new Int32Array(T + 1);
for (let step = 0; step < maxSteps; step++) {
  const starts = order.next(B);
  for (let b = 0; b < B; b++) {
    shards.train.window(starts[b]!, T + 1, w);
    trainBin.set(w, (step * B + b) * (T + 1));
  }
}
writeFileSync(join(work, 'train.bin'), new Uint8Array(trainBin.buffer));
const windows = Math.min(s.valBatches * B, Math.floor((shards.val.length - 1) / T));
const valBin = new Int32Array(windows * (T + 1));
for (let i = 0; i < windows; i++) {
  shards.val.window(i * T, T + 1, w);
  valBin.set(w, i * (T + 1));
}
writeFileSync(join(work, 'val.bin'), new Uint8Array(valBin.buffer));
const valText = validationTextBytes(shards.val, B, T, s.valBatches, tokenByteLengths(tokenizer));
writeFileSync(
  join(work, 'config.json'),
  JSON.stringify({ B, T, model: { ...cfg, source: undefined }, optim: { beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay, decayEmbeddings: s.decayEmbeddings, gradClip: s.gradClip } }),
);
const lrsFor = (total: number) => Array.from({ length: total }, (_, step) => learningRate({ lr: s.lr, lrSchedule: s.lrSchedule, warmupSteps: effectiveWarmup(s, total), minLrRatio: s.minLrRatio }, step, total));

interface PeerResult { steps: number; seconds: number; tokens_per_s: number; val_loss: number; losses: number[]; elapsed: number[] }
/** `lrs`: the learning rate of each step (default: the schedule for `steps`, as a fresh run of that length plans it). */
function runPeer(steps: number, lrs: number[] = lrsFor(steps)): PeerResult {
  const lrsFile = join(work, `lrs-${steps}.json`);
  writeFileSync(lrsFile, JSON.stringify(lrs));
  const r = spawnSync(PYTHON, [join(here, 'peers', 'pytorch_train.py'), work, String(steps), String(TORCH_THREADS), lrsFile], { encoding: 'utf8', env: pyEnv, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`pytorch_train.py failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as PeerResult;
}

// 3. Equal tokens: the same step count and exactly the learning rates ours used (metrics.jsonl): with --minutes ours
// re-plans its step count from the pace at 10/25/50% of the budget, so its schedule is not the fresh one for STEPS.
// Without it (--equal=time), a short run of our first learning rates times PyTorch's step instead.
const ptTokens = EQUAL.has('tokens') ? runPeer(STEPS, oursMetrics.map((m) => m.lr)) : null;
const probeSteps = Math.min(STEPS, PROBE_STEPS);
const pace = ptTokens ?? runPeer(probeSteps, oursMetrics.slice(0, probeSteps).map((m) => m.lr));
// A short timing run is paced on its second half: its start can be slow (once a 100-step run at 30 minutes gave 3,025
// tokens/s where the whole run then went at 3,800, and PyTorch got 828 s of our 1,041).
const half = Math.floor(pace.steps / 2);
const secondsPerStep = ptTokens || half < 1 ? pace.seconds / pace.steps : (pace.elapsed.at(-1)! - pace.elapsed[half - 1]!) / (pace.steps - half);
// 4. Equal wall time: as many PyTorch steps as fit in our training time, with the schedule set to that count.
const ptSteps = Math.max(1, Math.min(maxSteps, Math.floor(oursStepSeconds / secondsPerStep)));
const ptTime = !EQUAL.has('time') ? null : ptSteps === STEPS && ptTokens ? ptTokens : runPeer(ptSteps);

const bpb = (nats: number | null) => (nats === null ? NaN : bitsPerByte(nats * valText.tokens, valText.bytes));
const row = (name: string, tps: number, steps: number, secs: number, loss: number | null) => `| ${name} | ${Math.round(tps).toLocaleString('en-US')} | ${steps} | ${secs.toFixed(1)} | ${loss?.toFixed(4) ?? '–'} | ${bpb(loss).toFixed(4)} |`;
console.log(`\nmodel ${cfg.arch} d${cfg.dim} L${cfg.nLayers} (${(init.numParams() / 1e6).toFixed(2)}M params, vocab ${cfg.vocabSize}); held-out: ${windows} windows = ${valText.tokens} tokens, ${valText.bytes} bytes`);
console.log(`first-step loss (same weights, same batch): ours ${oursMetrics[0]!.loss.toFixed(5)}, PyTorch ${pace.losses[0]!.toFixed(5)}`);
if (ptTokens) console.log(`last-step loss at equal tokens: ours ${oursMetrics.at(-1)!.loss.toFixed(4)}, PyTorch ${ptTokens.losses.at(-1)!.toFixed(4)}`);
else console.log(`PyTorch pace from a ${pace.steps}-step timing run: ${Math.round((B * T) / secondsPerStep).toLocaleString('en-US')} tokens/s over its second half, ${Math.round(pace.tokens_per_s).toLocaleString('en-US')} over all of it (equal tokens not run: --equal=time)`);
console.log('\n| trainer | tokens/s | steps | train seconds | held-out nats/token | held-out bits/byte |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
console.log(row(`ours (${ours.backend})`, ours.tokensPerSecond, STEPS, oursStepSeconds, ours.valLoss));
if (ptTokens) console.log(row(`PyTorch, equal tokens (${TORCH_THREADS} thread)`, ptTokens.tokens_per_s, STEPS, ptTokens.seconds, ptTokens.val_loss));
if (ptTime) console.log(row(`PyTorch, equal wall time (${TORCH_THREADS} thread)`, ptTime.tokens_per_s, ptSteps, ptTime.seconds, ptTime.val_loss));
console.log(`\nspeed ratio ours / PyTorch: ${(ours.tokensPerSecond / (ptTokens ?? ptTime ?? pace).tokens_per_s).toFixed(2)}x`);
// A smoke run's figures mean nothing: only real runs are recorded.
if (!QUICK) mkdirSync(join(here, 'results'), { recursive: true });
if (!QUICK) appendFileSync(
  join(here, 'results', 'peer-pytorch.jsonl'),
  JSON.stringify({ date: new Date().toISOString(), quick: QUICK, cpu: cpus()[0]?.model, cores: cpus().length, minutes: MINUTES, recipe: recipe?.entry.recipe.name, steps: STEPS, B, T, arch: cfg.arch, params: init.numParams(), ours: { backend: ours.backend, tokens_per_s: ours.tokensPerSecond, seconds: oursStepSeconds, val_loss: ours.valLoss, val_bpb: bpb(ours.valLoss) }, pytorch: { threads: TORCH_THREADS, equal_tokens: ptTokens && { ...ptTokens, losses: undefined, elapsed: undefined, val_bpb: bpb(ptTokens.val_loss) }, equal_time: ptTime && { ...ptTime, losses: undefined, elapsed: undefined, val_bpb: bpb(ptTime.val_loss) }, pace: ptTokens ? undefined : { steps: pace.steps, tokens_per_s: pace.tokens_per_s, steady_tokens_per_s: (B * T) / secondsPerStep } } }) + '\n',
);
