// Browser half of the WASM backend: fetches build/*.wasm and runs worker.mjs as module Web Workers. The page must be
// cross-origin isolated (COOP: same-origin, COEP: require-corp) for SharedArrayBuffer and shared wasm memory.
import type { PoolWorker } from './pool.ts';
import { WasmBackend, type WasmBackendOptions, type WasmPlatform, type WasmVariant } from './backend.ts';

/**
 * A platform for browsers. `wasmBase` is the URL folder holding kernels-relaxed.wasm and kernels-simd.wasm;
 * `workerUrl` the served worker.mjs (default: next to this module).
 */
export function browserPlatform(opts: { wasmBase: string | URL; workerUrl?: string | URL }): WasmPlatform {
  const cache = new Map<WasmVariant, Uint8Array<ArrayBuffer>>();
  return {
    enableRelaxedSimd() {
      // nothing to enable: browsers that have relaxed SIMD ship it on; WebAssembly.validate decides
    },
    async loadWasm(variant) {
      let bytes = cache.get(variant);
      if (!bytes) {
        const res = await fetch(new URL(`kernels-${variant}.wasm`, opts.wasmBase));
        if (!res.ok) throw new Error(`wasm backend: fetching kernels-${variant}.wasm failed (${res.status})`);
        bytes = new Uint8Array(await res.arrayBuffer());
        cache.set(variant, bytes);
      }
      return bytes;
    },
    spawnWorker(): PoolWorker {
      const w = new Worker(opts.workerUrl ?? new URL('./worker.mjs', import.meta.url), { type: 'module' });
      return {
        postMessage: (m) => w.postMessage(m),
        onMessage: (cb) => w.addEventListener('message', (e) => cb((e as MessageEvent).data)),
        onError: (cb) => w.addEventListener('error', (e) => cb((e as ErrorEvent).error ?? new Error((e as ErrorEvent).message))),
        terminate: () => w.terminate(),
      };
    },
    // a page's main thread may not Atomics.wait (it spins instead); a worker may
    canBlock: typeof window === 'undefined',
  };
}

/** The WASM backend in a browser (see browserPlatform for the URLs). Best created inside a Worker. */
export function createBrowserWasmBackend(platform: WasmPlatform, opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  return WasmBackend.create(platform, opts);
}
