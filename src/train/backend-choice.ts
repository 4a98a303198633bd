// Picks the compute backend for training and sampling: the WASM SIMD engine when it loads, else the TS reference.
import { availableParallelism } from 'node:os';
import type { Backend } from '../engine/backend.ts';
import { createRefBackend } from '../engine/ref/index.ts';
import { UserError } from '../util/errors.ts';

export type BackendKind = 'auto' | 'wasm' | 'ref';

// A variable specifier: the WASM backend is built separately (npm run build) and may be absent in a checkout.
const WASM_MODULE = '../engine/wasm/index.ts';

/**
 * Opens a backend. 'auto' tries WASM (threads: 0 = all cores) and falls back to the reference with a note on
 * `log`; 'wasm' fails with a UserError when it cannot load; 'ref' is the single-threaded TypeScript reference.
 */
export async function openBackend(kind: BackendKind, threads: number, log: (line: string) => void = () => {}): Promise<Backend> {
  if (kind === 'ref') return createRefBackend();
  const n = threads > 0 ? threads : availableParallelism();
  try {
    const mod = (await import(WASM_MODULE)) as { createWasmBackend?: (o: { threads: number }) => Backend | Promise<Backend> };
    if (typeof mod.createWasmBackend !== 'function') throw new Error('src/engine/wasm/index.ts has no createWasmBackend');
    return await mod.createWasmBackend({ threads: n });
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    if (kind === 'wasm') throw new UserError(`--backend=wasm: the WASM backend did not load (${why}); run \`npm run build\` or use --backend=ref`);
    log(`note: the WASM backend did not load (${why}); training on the slower TypeScript reference backend`);
    return createRefBackend();
  }
}
