// Training-step throughput on config R (bench-r: 4 layers, d=256, 8 heads, T=256, B=8, V=4096): the WASM backend
// on 1 and 2 threads with a per-kernel breakdown, KV-cache sampling tokens/s (config R, llama 15M), and the
// tfjs-wasm training step as the peer in the same run.
// `npx tsx bench/step.ts [--quick]`; appends a JSON line to bench/results/step.jsonl.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { presetConfig } from '../src/engine/config.ts';
import { benchSample, benchStep, formatSample, formatStep, type SampleReport, type StepReport } from '../src/engine/wasm/bench.ts';
import { CONFIG_R, tfjsStep } from './peers/tfjs-step.ts';

const quick = process.argv.includes('--quick');
const steps = quick ? 2 : 10;
const ours: StepReport[] = [];
for (const threads of [1, 2]) {
  const r = await benchStep({ config: presetConfig('bench-r'), configName: 'bench-r', B: 8, T: 256, threads, steps });
  for (const line of formatStep(r)) console.log(line);
  console.log('');
  ours.push(r);
}
// single-stream sampling with the KV cache (greedy, random weights): config R and llama 15M, 1 thread
const sampling: SampleReport[] = [];
for (const preset of ['bench-r', '15M']) {
  const r = await benchSample({ config: presetConfig(preset), configName: preset, tokens: quick ? 64 : 256, threads: 1 });
  for (const line of formatSample(r)) console.log(line);
  sampling.push(r);
}
console.log('');

// The peer takes ~40 s per config-R step; --quick times it at B=1 (its tokens/s barely depends on B).
const peerCfg = quick ? { ...CONFIG_R, B: 1 } : CONFIG_R;
const peer = await tfjsStep(peerCfg, 1);
console.log(`peer ${peer.peer}: B=${peer.B} T=${peer.T} ${peer.ms_per_step.toFixed(0)} ms/step, ${peer.tokens_per_s.toFixed(1)} tokens/s`);
const best = ours[ours.length - 1]!;
console.log(`speed-up over the peer (2 threads): ${(best.tokens_per_s / peer.tokens_per_s).toFixed(1)}x; target 2400 tokens/s: ${best.tokens_per_s >= 2400 ? 'met' : 'not met'} here`);

const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, 'results'), { recursive: true });
const line = {
  bench: 'step',
  date: new Date().toISOString(),
  quick,
  ours: ours.map(({ kernels, losses, ...r }) => ({ ...r, kernels: kernels.map((k) => ({ kernel: k.kernel, ms: +k.ms.toFixed(2) })) })),
  sampling,
  peer,
};
appendFileSync(join(here, 'results', 'step.jsonl'), JSON.stringify(line) + '\n');
