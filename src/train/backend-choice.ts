// Picks the compute backend for training and sampling: the WASM SIMD engine when it loads, else the TS reference.
import { availableParallelism } from 'node:os';
import type { Backend } from '../engine/backend.ts';
import { createRefBackend } from '../engine/ref/index.ts';
import { UserError } from '../util/errors.ts';

export type BackendKind = 'auto' | 'wasm' | 'ref';

// Variable specifiers: the WASM backend (and its build/*.wasm) may be absent in a checkout.
const WASM_MODULES = ['../engine/wasm/node.ts', '../engine/wasm/index.ts'];

async function loadWasmFactory(): Promise<(o: { threads: number }) => Backend | Promise<Backend>> {
  let last: unknown = new Error('no WASM backend module');
  for (const spec of WASM_MODULES) {
    try {
      const mod = (await import(spec)) as { createWasmBackend?: (o: { threads: number }) => Backend | Promise<Backend> };
      if (typeof mod.createWasmBackend === 'function') return mod.createWasmBackend;
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

/**
 * Opens a backend. 'auto' tries WASM (threads: 0 = all cores) and falls back to the reference with a note on
 * `log`; 'wasm' fails with a UserError when it cannot load; 'ref' is the single-threaded TypeScript reference.
 */
export async function openBackend(kind: BackendKind, threads: number, log: (line: string) => void = () => {}): Promise<Backend> {
  if (kind === 'ref') return createRefBackend();
  const n = threads > 0 ? threads : availableParallelism();
  try {
    const create = await loadWasmFactory();
    return await create({ threads: n });
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    if (kind === 'wasm') throw new UserError(`--backend=wasm: the WASM backend did not load (${why}); run \`npm run build\` or use --backend=ref`);
    log(`note: the WASM backend did not load (${why}); training on the slower TypeScript reference backend`);
    return createRefBackend();
  }
}
