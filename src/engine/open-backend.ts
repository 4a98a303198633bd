// Opens a compute backend in Node (training, sampling, eval): the WASM SIMD engine when it loads, else the TS reference.
import type { Backend, BackendKind } from './backend.ts';
import { createRefBackend } from './ref/index.ts';
import { UserError } from '../util/errors.ts';
import { resolveThreads } from '../util/threads.ts';

export type { BackendKind };

// Variable specifiers: the WASM backend (and its build/*.wasm) may be absent in a checkout.
const WASM_MODULES = ['./wasm/node.ts', './wasm/index.ts'];

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
 * Opens a backend. 'webgpu' runs the kernels as WebGPU compute shaders (webgpu/sync.ts); 'auto' takes WebGPU on a
 * hardware adapter, else tries WASM (threads: 0 = all cores, capped at the core count) and falls back to the reference with a note on
 * `log`; 'wasm' fails with a UserError when it cannot load; 'ref' is the single-threaded TypeScript reference.
 */
export async function openBackend(kind: BackendKind, threads: number, log: (line: string) => void = () => {}): Promise<Backend> {
  if (kind === 'ref') return createRefBackend();
  if (kind === 'webgpu' || kind === 'auto') {
    // auto takes WebGPU only on a hardware adapter (webgpu/choose.ts), and says which backend it chose and why
    const gpu = await (await import('./webgpu/choose.ts')).chooseWebGpu(kind, log);
    if (gpu) return gpu;
  }
  return openCpuBackend(kind, threads, log);
}

/**
 * The CPU half of openBackend: WASM (threads as there), falling back to the reference with a note on `log` unless
 * `kind` is 'wasm' (then a UserError). For callers that already passed WebGPU over themselves.
 */
export async function openCpuBackend(kind: BackendKind, threads: number, log: (line: string) => void = () => {}): Promise<Backend> {
  if (kind === 'ref') return createRefBackend();
  const n = resolveThreads(threads, '--threads', log);
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
