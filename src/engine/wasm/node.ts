// Node-only half of the WASM backend: the V8 flag for relaxed SIMD, reading build/*.wasm and worker_threads.
// Everything else (backend.ts, pool.ts, worker.mjs) runs in a browser with Web Workers + SharedArrayBuffer.
import { readFileSync, existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { PoolWorker } from './pool.ts';
import { WasmBackend, relaxedSimdAvailable, type WasmBackendOptions, type WasmPlatform, type WasmVariant } from './backend.ts';

const buildDir = new URL('../../../build/', import.meta.url);
const workerUrl = new URL('./worker.mjs', import.meta.url);
const cache = new Map<WasmVariant, Uint8Array<ArrayBuffer>>();

function spawnNodeWorker(): PoolWorker {
  // execArgv [] keeps tsx (or any loader) out of the workers: worker.mjs is plain JS
  const w = new Worker(workerUrl, { execArgv: [] });
  w.unref();
  return {
    postMessage: (m) => w.postMessage(m),
    onMessage: (cb) => void w.on('message', cb),
    onError: (cb) => void w.on('error', cb),
    terminate: () => void w.terminate(),
  };
}

/** Node's platform for the WASM backend. */
export const nodePlatform: WasmPlatform = {
  enableRelaxedSimd() {
    // Node 20's V8 ships relaxed SIMD behind a flag; it must be set before the module is compiled
    // (NODE_OPTIONS rejects it). Newer V8s have it on by default and ignore the flag.
    try {
      setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      /* unknown flag on this V8: relaxed SIMD is either standard or unavailable; validate() decides */
    }
  },
  optimizeEagerly() {
    // compile straight to optimized code: Liftoff's baseline code runs the kernels several times slower until V8
    // tiers up hot functions, which made the first steps and short benchmarks misleading
    try {
      setFlagsFromString('--no-liftoff');
    } catch {
      /* not a V8 that knows the flag: it tiers up on its own */
    }
  },
  async loadWasm(variant) {
    let bytes = cache.get(variant);
    if (!bytes) {
      const url = new URL(`kernels-${variant}.wasm`, buildDir);
      if (!existsSync(url)) throw new Error(`wasm backend: ${fileURLToPath(url)} is missing; run \`npm run build\` first`);
      bytes = new Uint8Array(readFileSync(url));
      cache.set(variant, bytes);
    }
    return bytes;
  },
  spawnWorker: spawnNodeWorker,
  canBlock: true,
};

/**
 * The WebAssembly SIMD backend on Node: `threads` compute threads (the caller's + threads-1 workers) on one shared
 * memory; relaxed SIMD when the runtime has it. Example: `const be = await createWasmBackend({ threads: 2 })`.
 */
export function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  return WasmBackend.create(nodePlatform, opts);
}

/** Whether this Node can run the relaxed-SIMD build. */
export function nodeHasRelaxedSimd(): Promise<boolean> {
  return relaxedSimdAvailable(nodePlatform);
}
