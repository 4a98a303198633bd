// Training throughput (tokens/s) of the model presets on this machine: a few full steps (forward, backward, clip,
// AdamW) each, on the WASM backend with all cores. Peer in the same run: the TypeScript reference backend on the
// small presets (one step each; it is ~50x slower, so the large ones are skipped).
// Usage: npx tsx bench/train-presets.ts [--quick] [--vocab=4096] [--batch=8] [--seq=256]
import { appendFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../src/engine/backend.ts';
import { presetConfig, resolveConfig } from '../src/engine/config.ts';
import { Model } from '../src/engine/model.ts';
import { createRefBackend } from '../src/engine/ref/index.ts';
import { openBackend } from '../src/engine/open-backend.ts';

const QUICK = process.argv.includes('--quick');
const arg = (k: string, d: number) => Number(process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d);
const V = arg('vocab', 4096);
const B = arg('batch', 8);
const T0 = arg('seq', 256);
const STEPS = QUICK ? 1 : 3;
const PRESETS = ['1M', '3M', '8M', '260K', '15M'];
const PEER_PRESETS = ['260K', '1M'];

/** Seconds per training step (median of `steps` after one warmup step). */
function timeSteps(backend: Backend, preset: string, steps: number): { seconds: number; params: number; T: number } {
  const cfg = presetConfig(preset, { vocabSize: V });
  const T = Math.min(T0, resolveConfig(cfg).maxSeqLen);
  const model = new Model(cfg, backend, { seed: 1, batch: B, seq: T });
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  for (let i = 0; i < B * T; i++) {
    x[i] = (i * 7919) % V;
    y[i] = (i * 104729 + 1) % V;
  }
  const times: number[] = [];
  for (let s = 0; s <= steps; s++) {
    const t0 = performance.now();
    model.zeroGrad();
    model.forward(x, y, B, T);
    model.backward();
    model.clipGradNorm(1);
    model.adamwStep({ lr: 1e-3, weightDecay: 0.1, beta2: 0.95, t: s + 1 });
    if (s > 0) times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return { seconds: times[Math.floor(times.length / 2)]!, params: model.numParams(), T };
}

const wasm = await openBackend('auto', 0, (l) => console.log(l));
const rows: Array<Record<string, unknown>> = [];
console.log(`train-presets: B=${B}, T<=${T0}, vocab ${V}, ${STEPS} timed step(s) each; ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`);
console.log('preset   params     backend                 s/step   tokens/s');
const show = (preset: string, params: number, backend: string, s: number, T: number) => {
  const tps = (B * T) / s;
  console.log(`${preset.padEnd(8)} ${(params / 1e6).toFixed(2).padStart(6)}M   ${backend.padEnd(22)} ${s.toFixed(3).padStart(7)} ${Math.round(tps).toString().padStart(9)}`);
  rows.push({ preset, params, backend, B, T, vocab: V, seconds_per_step: s, tokens_per_s: Math.round(tps) });
};
try {
  for (const p of PRESETS) {
    const r = timeSteps(wasm, p, STEPS);
    show(p, r.params, `${wasm.name} x${wasm.threads}`, r.seconds, r.T);
  }
} finally {
  wasm.dispose();
}
const ref = createRefBackend();
for (const p of PEER_PRESETS) {
  const r = timeSteps(ref, p, 1);
  show(p, r.params, 'ref (peer)', r.seconds, r.T);
}
const out = join(dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(out, { recursive: true });
appendFileSync(join(out, 'train-presets.jsonl'), JSON.stringify({ date: new Date().toISOString(), quick: QUICK, cpu: cpus()[0]?.model, cores: cpus().length, rows }) + '\n');
