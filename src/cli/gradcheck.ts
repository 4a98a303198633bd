// `tinystories gradcheck`: finite-difference checks of every kernel backward and of whole tiny models.
import type { Command } from 'commander';
import { GRADCHECK_CONFIGS, compareModelWithRef, formatGradcheck, gradcheckKernels, gradcheckModel, type GradcheckResult, type Precision } from '../engine/gradcheck.ts';
import type { Backend } from '../engine/backend.ts';
import { openBackend } from '../engine/open-backend.ts';
import { UserError } from '../util/errors.ts';
import { parseBackendKind, parseNumber } from './_flags.ts';

export function register(program: Command): void {
  program
    .command('gradcheck')
    .description('check every kernel backward and a tiny model\'s gradients against central differences (exit 0 only if all pass)')
    .option('--model <arch>', 'gpt-neo, llama or all', 'all')
    .option('--precision <p>', 'f32 (the real float32 kernels), f64 (the same code in double, tight tolerance) or both', 'both')
    .option('--seed <n>', 'seed for the random inputs and coordinate samples', '3')
    .option('--backend <kind>', 'ref (default) or webgpu: check that backend\'s float32 kernels and also compare its model gradients with the reference', 'ref')
    .action(async (opts: { model: string; precision: string; seed: string; backend: string }) => {
      const kind = parseBackendKind(opts.backend, 'ref');
      if (kind !== 'ref' && kind !== 'webgpu') throw new UserError(`--backend: gradcheck checks ref or webgpu, got "${kind}"`);
      if (kind === 'webgpu' && opts.precision === 'f64') throw new UserError('--precision f64 runs the reference code in double; the webgpu backend computes in float32 (use --precision f32)');
      const archs = opts.model === 'all' ? (['gpt-neo', 'llama'] as const) : [opts.model];
      for (const a of archs) if (a !== 'gpt-neo' && a !== 'llama') throw new UserError(`--model must be gpt-neo, llama or all, got "${opts.model}"`);
      const precisions: Precision[] = kind === 'webgpu' ? ['f32'] : opts.precision === 'both' ? ['f64', 'f32'] : [opts.precision as Precision];
      for (const p of precisions) if (p !== 'f32' && p !== 'f64') throw new UserError(`--precision must be f32, f64 or both, got "${opts.precision}"`);
      const seed = parseNumber('--seed', opts.seed, { int: true });
      const all: GradcheckResult[] = [];
      const be: Backend | undefined = kind === 'webgpu' ? await openBackend('webgpu', 1, (l) => console.log(l)) : undefined;
      const name = be ? 'webgpu' : 'ref';
      try {
        for (const p of precisions) {
          const k = gradcheckKernels(p, be, seed);
          console.log(formatGradcheck(`kernels (${name}, ${p})`, k) + '\n');
          all.push(...k);
          for (const arch of archs as Array<'gpt-neo' | 'llama'>) {
            const r = gradcheckModel(GRADCHECK_CONFIGS[arch], p, { seed, backend: be });
            // a backend other than the reference also matches the reference's loss and gradients
            if (be) r.push(compareModelWithRef(GRADCHECK_CONFIGS[arch], be, { seed }));
            console.log(formatGradcheck(`${arch} tiny model (${name}, ${p})`, r) + '\n');
            all.push(...r);
          }
        }
      } finally {
        be?.dispose();
      }
      const failed = all.filter((r) => !r.pass);
      console.log(failed.length === 0 ? `gradcheck: all ${all.length} checks passed` : `gradcheck: ${failed.length} of ${all.length} checks FAILED: ${failed.map((r) => r.name).join(', ')}`);
      if (failed.length) process.exitCode = 1;
    });
}
