// WebGPU training throughput on a GPU: the GPU-resident trainer on config R (bench-r) and on the paper's 33M shape
// (GPT-Neo 4 layers x 768, vocab 10k, context 512), the WebGPU matmul kernel alone at 4096^3, and the WASM backend
// on config R (this machine's CPU) as the peer in the same run. On a CPU emulation (lavapipe, SwiftShader) or
// without an adapter it prints why and times nothing: those timings say nothing about GPU speed.
// `npx tsx bench/webgpu.ts [--quick] [--peak-tflops=X]` (X: the GPU's fp32 peak, for the fraction-of-peak column);
// appends a JSON line to bench/results/webgpu.jsonl.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { presetConfig, type ModelConfig } from '../src/engine/config.ts';
import { benchStep, formatStep } from '../src/engine/wasm/bench.ts';
import { probeNodeAdapter } from '../src/engine/webgpu/node.ts';
import { adapterLabel } from '../src/engine/webgpu/device.ts';
import { benchMatmulWebGpu, benchStepWebGpu, formatStepWebGpu } from '../src/engine/webgpu/bench.ts';

const quick = process.argv.includes('--quick');
const peak = Number(process.argv.find((a) => a.startsWith('--peak-tflops='))?.split('=')[1] ?? NaN);
const probe = await probeNodeAdapter();
if (!probe.ok || probe.summary.software) {
  console.log(`skipped: ${probe.ok ? `the adapter ${adapterLabel(probe.summary)} is a CPU emulation` : probe.reason}; WebGPU speed is measured on GPU hardware only`);
  process.exit(0);
}
const PAPER_33M: ModelConfig = { arch: 'gpt-neo', vocabSize: 10000, maxSeqLen: 512, dim: 768, nLayers: 4, nHeads: 16, windowSize: 256 };
const steps = quick ? 3 : 20;
const gpu = [];
for (const [name, config, B, T] of [['bench-r', presetConfig('bench-r'), 8, 256], ['33M', PAPER_33M, 8, 512]] as const) {
  const r = await benchStepWebGpu({ config, configName: name, B, T, steps });
  for (const line of formatStepWebGpu(r)) console.log(line);
  if (Number.isFinite(peak)) console.log(`${((100 * r.gflops) / (peak * 1000)).toFixed(1)}% of the stated fp32 peak (${peak} TFLOP/s)`);
  console.log('');
  gpu.push(r);
}
const mm = await benchMatmulWebGpu(4096, 4096, 4096, quick ? 2 : 10);
console.log(`matmul 4096^3 on ${mm.adapter}: ${mm.ms.toFixed(2)} ms, ${mm.gflops.toFixed(0)} GFLOP/s\n`);
const peer = await benchStep({ config: presetConfig('bench-r'), configName: 'bench-r', B: 8, T: 256, threads: 2, steps: quick ? 2 : 5 });
for (const line of formatStep(peer)) console.log(line);
console.log(`config R: webgpu ${gpu[0]!.tokens_per_s.toFixed(0)} tokens/s vs wasm ${peer.tokens_per_s.toFixed(0)} tokens/s = ${(gpu[0]!.tokens_per_s / peer.tokens_per_s).toFixed(1)}x (goal 50x)`);
console.log(`33M: ${gpu[1]!.tokens_per_s.toFixed(0)} tokens/s (goal 130k: one 470M-token epoch in under an hour)`);

const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, 'results'), { recursive: true });
const line = { bench: 'webgpu', date: new Date().toISOString(), quick, peak_tflops: Number.isFinite(peak) ? peak : null, gpu, matmul: mm, peer: { ...peer, kernels: [] } };
appendFileSync(join(here, 'results', 'webgpu.jsonl'), JSON.stringify(line) + '\n');
