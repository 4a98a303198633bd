// `tinystories ui`: the local dashboard over a runs directory (runs, samples, playground, game, evals, inspect, data).
import type { Command } from 'commander';
import { startServer } from '../server/http.ts';
import { openBackendWithGpuDecoding } from '../sample/gpu-decoding.ts';
import { parseBackendKind, parseNumber } from './_flags.ts';
import { UserError } from '../util/errors.ts';

export function register(program: Command): void {
  program
    .command('ui')
    .description('open the local dashboard (read-only over the runs directory; 127.0.0.1 unless --host says otherwise)')
    .option('--runs <dir>', 'the runs directory (also searched for eval and generation reports)', 'runs')
    .option('--port <p>', 'port (0 = any free one)', '8080')
    .option('--host <h>', 'interface to bind; anything but loopback exposes your runs to the network', '127.0.0.1')
    .option('--backend <b>', 'compute for the playground, game and attention pages: ref, wasm, webgpu or auto (webgpu, and auto on a hardware GPU, decode the playground on the GPU)', 'ref')
    .option('--gpu-precision <p>', 'weights the GPU playground decoder reads: auto (f16 on a hardware adapter with shader-f16, else f32), f16 or f32', 'auto')
    .option('--threads <n>', 'WASM threads (0 = all cores)', '0')
    .addHelpText('after', '\nExamples:\n  tinystories ui --runs runs\n  tinystories ui --runs runs --port 9000')
    .action(async (o: { runs: string; port: string; host: string; backend: string; threads: string; gpuPrecision: string }) => {
      const port = parseNumber('--port', o.port, { int: true, min: 0, max: 65535 });
      const threads = parseNumber('--threads', o.threads, { int: true, min: 0 });
      const kind = parseBackendKind(o.backend);
      if (!['auto', 'f16', 'f32'].includes(o.gpuPrecision)) throw new UserError(`--gpu-precision: expected auto, f16 or f32, got "${o.gpuPrecision}"`);
      const log = (l: string) => process.stderr.write(l + '\n');
      // the playground decodes on the GPU-resident decoder; the game and attention pages run whole forward passes on
      // `backend` (webgpu: the per-kernel bridge, as before; auto: WASM when the GPU took the playground)
      const { backend, gpu } = await openBackendWithGpuDecoding(kind, threads, log, o.gpuPrecision as 'auto' | 'f16' | 'f32');
      const s = await startServer({ runs: o.runs, port, host: o.host, backend, gpu: gpu ?? undefined, log });
      if (o.host !== '127.0.0.1' && o.host !== 'localhost' && o.host !== '::1') {
        process.stderr.write(`warning: listening on ${o.host}: anyone who can reach this address can read your runs\n`);
      }
      process.stdout.write(`dashboard: ${s.url}  (runs: ${o.runs}; Ctrl-C to stop)\n`);
      const stop = () => void s.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
