// `--backend webgpu|auto` in Node: opens the WebGPU backend, or says why auto passed it over (the one place the
// rule lives: auto takes WebGPU only on a hardware adapter, never on a CPU emulation such as lavapipe/SwiftShader).
import type { Backend } from '../backend.ts';
import { UserError } from '../../util/errors.ts';
import { adapterLabel } from './device.ts';
import type { WebGpuSyncBackend } from './sync.ts';

/**
 * 'webgpu': the WebGPU backend or a UserError with the reason. 'auto': the WebGPU backend on a hardware adapter,
 * else null (the caller opens WASM); either way one line on `log` says what was chosen and why.
 */
export async function chooseWebGpu(kind: 'webgpu' | 'auto', log: (line: string) => void): Promise<Backend | null> {
  if (kind === 'auto') {
    const { mayHaveHardwareGpu } = await import('./node.ts');
    const pre = mayHaveHardwareGpu();
    if (!pre.maybe) {
      log(`backend auto: wasm (${pre.why})`);
      return null;
    }
  }
  // the backend's worker opens the device and reports the adapter; Dawn is never loaded on this thread
  const { createWebGpuSyncBackend } = await import('./sync.ts');
  let be: WebGpuSyncBackend;
  try {
    be = await createWebGpuSyncBackend();
  } catch (e) {
    const why = (e as Error).message;
    if (kind === 'webgpu') throw new UserError(`--backend=webgpu: ${why}; use --backend=wasm`);
    log(`backend auto: wasm (no WebGPU device: ${why})`);
    return null;
  }
  const label = adapterLabel(be.adapter);
  if (kind === 'auto' && be.adapter.software) {
    be.dispose();
    log(`backend auto: wasm (the WebGPU adapter ${label} is a CPU emulation, slower than the WASM kernels)`);
    return null;
  }
  if (kind === 'auto') {
    // train/sample still drive WebGPU kernel by kernel (each call uploads and reads back); the GPU-resident trainer
    // (GpuModel) is not yet behind them and no GPU timing has been measured, so auto does not bet on it.
    be.dispose();
    log(`backend auto: wasm (found the hardware adapter ${label}, but the commands reach WebGPU only through the per-kernel path, not yet measured on a GPU; --backend=webgpu uses it anyway)`);
    return null;
  }
  log(`backend webgpu: webgpu on ${label}`);
  return be;
}
