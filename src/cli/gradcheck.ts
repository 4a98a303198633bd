// `tinystories gradcheck`: finite-difference checks of every kernel backward and of whole tiny models.
import type { Command } from 'commander';
import { GRADCHECK_CONFIGS, formatGradcheck, gradcheckKernels, gradcheckModel, type GradcheckResult, type Precision } from '../engine/gradcheck.ts';
import { UserError } from '../util/errors.ts';

export function register(program: Command): void {
  program
    .command('gradcheck')
    .description('check every kernel backward and a tiny model\'s gradients against central differences (exit 0 only if all pass)')
    .option('--model <arch>', 'gpt-neo, llama or all', 'all')
    .option('--precision <p>', 'f32 (the real float32 kernels), f64 (the same code in double, tight tolerance) or both', 'both')
    .option('--seed <n>', 'seed for the random inputs and coordinate samples', '3')
    .action((opts: { model: string; precision: string; seed: string }) => {
      const archs = opts.model === 'all' ? (['gpt-neo', 'llama'] as const) : [opts.model];
      for (const a of archs) if (a !== 'gpt-neo' && a !== 'llama') throw new UserError(`--model must be gpt-neo, llama or all, got "${opts.model}"`);
      const precisions: Precision[] = opts.precision === 'both' ? ['f64', 'f32'] : [opts.precision as Precision];
      for (const p of precisions) if (p !== 'f32' && p !== 'f64') throw new UserError(`--precision must be f32, f64 or both, got "${opts.precision}"`);
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed)) throw new UserError(`--seed must be an integer, got "${opts.seed}"`);
      const all: GradcheckResult[] = [];
      for (const p of precisions) {
        const k = gradcheckKernels(p, undefined, seed);
        console.log(formatGradcheck(`kernels (ref, ${p})`, k) + '\n');
        all.push(...k);
        for (const arch of archs as Array<'gpt-neo' | 'llama'>) {
          const r = gradcheckModel(GRADCHECK_CONFIGS[arch], p, { seed });
          console.log(formatGradcheck(`${arch} tiny model (ref, ${p})`, r) + '\n');
          all.push(...r);
        }
      }
      const failed = all.filter((r) => !r.pass);
      console.log(failed.length === 0 ? `gradcheck: all ${all.length} checks passed` : `gradcheck: ${failed.length} of ${all.length} checks FAILED: ${failed.map((r) => r.name).join(', ')}`);
      if (failed.length) process.exitCode = 1;
    });
}
