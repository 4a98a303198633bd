// `tinystories bench matmul|step|sample`: engine throughput on the WASM backend (GFLOP/s, tokens/s, MFU, per-kernel time).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../util/errors.ts';
import { intArg, parseBackendKind, threadsArg } from './_flags.ts';
import { presetConfig, PRESETS, type ModelConfig } from '../engine/config.ts';
import { benchMatmul, benchStep, benchSample, formatMatmul, formatStep, formatSample } from '../engine/wasm/bench.ts';
import type { WasmVariant } from '../engine/wasm/backend.ts';

function variant(v: string | undefined): WasmVariant | undefined {
  if (v === undefined) return undefined;
  if (v !== 'relaxed' && v !== 'simd') throw new UserError(`--variant: expected "relaxed" or "simd", got "${v}"`);
  return v;
}

/** The model config named by --preset or read from --config (a JSON ModelConfig). */
export function resolveModelArg(o: { preset?: string; config?: string }): { config: ModelConfig; name: string } {
  if (o.preset && o.config) throw new UserError('give either --preset or --config, not both');
  if (o.preset) return { config: presetConfig(o.preset), name: o.preset };
  if (o.config) {
    let text: string;
    try {
      text = readFileSync(o.config, 'utf8');
    } catch (err) {
      throw new UserError(`--config ${o.config}: cannot read (${(err as Error).message})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new UserError(`--config ${o.config}: not valid JSON (${(err as Error).message})`);
    }
    const arch = (parsed as { arch?: unknown })?.arch;
    if (arch !== 'gpt-neo' && arch !== 'llama') throw new UserError(`--config ${o.config}: field "arch" must be "gpt-neo" or "llama"`);
    return { config: parsed as ModelConfig, name: o.config };
  }
  throw new UserError(`give --preset <name> (one of ${Object.keys(PRESETS).join(', ')}) or --config <file.json>`);
}

export function register(program: Command): void {
  const bench = program.command('bench').description('engine benchmarks on the WebAssembly SIMD backend');

  bench
    .command('matmul')
    .description('matmul GFLOP/s (forward and both backward products) at the config-R shapes, 1 and N threads')
    .option('--threads <n>', 'largest thread count (times 1 and n)', threadsArg('--threads'), 2)
    .option('--variant <v>', 'relaxed | simd (default: relaxed when available)')
    .option('--quick', 'shorter timings')
    .option('--json', 'print one JSON object on the last line')
    .action(async (o: { threads: number; variant?: string; quick?: boolean; json?: boolean }) => {
      const threads = [...new Set([1, o.threads])];
      const r = await benchMatmul({ threads, variant: variant(o.variant), minMs: o.quick ? 60 : 300 });
      for (const line of formatMatmul(r)) console.log(line);
      if (o.json) console.log(JSON.stringify(r));
    });

  bench
    .command('step')
    .description('K real training steps (forward + backward + AdamW) on random tokens: ms/step, tokens/s, MFU, per-kernel time')
    .option('--preset <name>', 'model preset (e.g. bench-r, 8M, 15M)')
    .option('--config <file>', 'model config JSON (a ModelConfig)')
    .option('--batch <B>', 'batch size', intArg('--batch', 1), 8)
    .option('--seq <T>', 'sequence length (default: min(256, the model context))', intArg('--seq', 1))
    .option('--threads <n>', 'compute threads (main + n-1 workers)', threadsArg('--threads'), 2)
    .option('--steps <K>', 'timed steps (after one warm-up step)', intArg('--steps', 1), 3)
    .option('--variant <v>', 'relaxed | simd (default: relaxed when available)')
    .option('--backend <kind>', 'wasm (default) or webgpu (the GPU-resident trainer: one command buffer per step)', 'wasm')
    .option('--json', 'print one JSON object on the last line')
    .action(async (o: { preset?: string; config?: string; batch: number; seq?: number; threads: number; steps: number; variant?: string; backend: string; json?: boolean }) => {
      const { config, name } = resolveModelArg(o);
      const T = o.seq ?? Math.min(256, config.maxSeqLen);
      if (T > config.maxSeqLen) throw new UserError(`--seq ${T} exceeds the model context ${config.maxSeqLen}`);
      const kind = parseBackendKind(o.backend, 'wasm');
      if (kind !== 'wasm' && kind !== 'webgpu') throw new UserError(`--backend: bench step times wasm or webgpu, got "${kind}"`);
      if (kind === 'webgpu') {
        const { benchStepWebGpu, formatStepWebGpu } = await import('../engine/webgpu/bench.ts');
        const g = await benchStepWebGpu({ config, configName: name, B: o.batch, T, steps: o.steps });
        for (const line of formatStepWebGpu(g)) console.log(line);
        if (o.json) console.log(JSON.stringify(g));
        return;
      }
      const r = await benchStep({ config, configName: name, B: o.batch, T, threads: o.threads, steps: o.steps, variant: variant(o.variant) });
      for (const line of formatStep(r)) console.log(line);
      if (o.json) console.log(JSON.stringify(r));
    });

  bench
    .command('sample')
    .description('single-stream generation tokens/s with the KV cache (random weights, greedy)')
    .option('--preset <name>', 'model preset (e.g. bench-r, 15M)')
    .option('--config <file>', 'model config JSON (a ModelConfig)')
    .option('--tokens <n>', 'tokens to generate', intArg('--tokens', 1), 200)
    .option('--threads <n>', 'compute threads', threadsArg('--threads'), 1)
    .option('--variant <v>', 'relaxed | simd (default: relaxed when available)')
    .option('--json', 'print one JSON object on the last line')
    .action(async (o: { preset?: string; config?: string; tokens: number; threads: number; variant?: string; json?: boolean }) => {
      const { config, name } = resolveModelArg(o);
      const r = await benchSample({ config, configName: name, tokens: o.tokens, threads: o.threads, variant: variant(o.variant) });
      for (const line of formatSample(r)) console.log(line);
      if (o.json) console.log(JSON.stringify(r));
    });
}
