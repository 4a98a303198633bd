// How many compute threads to use: 0 = every core; more threads than cores is capped to the core count with a note
// (999 threads once took ~8 GB and minutes: each WASM/sandbox worker has its own memory, and none gets a core).
import { availableParallelism } from 'node:os';

/**
 * Resolves a requested thread count (0 = all cores) to one in [1, cores], calling `log` once when it caps.
 * @example resolveThreads(999, '--threads', console.error) // 2 on a 2-core machine, after a note on stderr
 */
export function resolveThreads(requested: number, flag = '--threads', log: (line: string) => void = () => {}, cores = availableParallelism()): number {
  const max = Math.max(1, cores);
  if (!(requested > 0)) return max;
  if (requested > max) {
    log(`note: ${flag} ${requested} is more than the ${max} core${max === 1 ? '' : 's'} of this machine; using ${max}`);
    return max;
  }
  return Math.floor(requested);
}
