// `--backend webgpu|auto` in Node: opens WebGPU, or says why auto passed it over (the one place the rule lives:
// auto takes WebGPU only on a hardware adapter, never on a CPU emulation such as lavapipe/SwiftShader). Two ways in:
// openGpuKernels, the device on this thread for the GPU-resident trainer and decoder (what auto may pick), and
// chooseWebGpu, the per-kernel synchronous Backend (only when asked for by name).
import type { Backend } from '../backend.ts';
import { UserError } from '../../util/errors.ts';
import { type GpuAdapterSummary, adapterLabel } from './device.ts';
import type { GpuKernels } from './kernels.ts';
import type { WebGpuSyncBackend } from './sync.ts';

/** WebGPU opened on this thread: kernels on the process's device, and the adapter they run on. */
export interface OpenedGpu {
  kernels: GpuKernels;
  summary: GpuAdapterSummary;
  /** adapterLabel(summary), e.g. "NVIDIA H100 80GB HBM3 [nvidia, hardware]". */
  label: string;
}

/** Why auto passes an adapter over (a CPU emulation is slower than the WASM kernels), or null when it takes it. */
export function autoPassOver(summary: GpuAdapterSummary): string | null {
  return summary.software ? `the WebGPU adapter ${adapterLabel(summary)} is a CPU emulation, slower than the WASM kernels` : null;
}

/**
 * The GPU-resident path (webgpu/trainer.ts GpuModel, webgpu/decode.ts GpuDecoder). 'webgpu': kernels on the
 * adapter, or a UserError with the reason. 'auto': kernels on a hardware adapter, else null (the caller opens
 * WASM, e.g. with openCpuBackend). Either way one line on `log` names the adapter or says why not. The caller
 * disposes the kernels; the device stays open for the process (node.ts nodeDevice).
 */
export async function openGpuKernels(kind: 'webgpu' | 'auto', log: (line: string) => void): Promise<OpenedGpu | null> {
  const node = await import('./node.ts');
  if (kind === 'auto') {
    const pre = node.mayHaveHardwareGpu();
    if (!pre.maybe) {
      log(`backend auto: wasm (${pre.why})`);
      return null;
    }
    // the adapter alone decides: no device is opened (and kept for the process) only to be passed over
    const probe = await node.probeNodeAdapter();
    const passOver = probe.ok ? autoPassOver(probe.summary) : `no WebGPU device: ${probe.reason}`;
    if (passOver) {
      log(`backend auto: wasm (${passOver})`);
      return null;
    }
  }
  const acq = await node.nodeDevice();
  if (!acq.ok) {
    if (kind === 'webgpu') throw new UserError(`--backend=webgpu: ${acq.reason}; use --backend=wasm`);
    log(`backend auto: wasm (no WebGPU device: ${acq.reason})`);
    return null;
  }
  const label = adapterLabel(acq.summary);
  const passOver = kind === 'auto' ? autoPassOver(acq.summary) : null;
  if (passOver) {
    log(`backend auto: wasm (${passOver})`);
    return null;
  }
  log(`backend ${kind}: webgpu on ${label}`);
  const { GpuKernels } = await import('./kernels.ts');
  return { kernels: new GpuKernels(acq.device), summary: acq.summary, label };
}

/**
 * The per-kernel synchronous Backend. 'webgpu': the WebGPU backend or a UserError with the reason. 'auto': null
 * (the caller opens WASM) with one line on `log` saying why: auto takes WebGPU only through openGpuKernels.
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
  const passOver = kind === 'auto' ? autoPassOver(be.adapter) : null;
  if (passOver) {
    be.dispose();
    log(`backend auto: wasm (${passOver})`);
    return null;
  }
  if (kind === 'auto') {
    // this path drives WebGPU kernel by kernel (each call uploads and reads back): slower than WASM, so auto never
    // takes it; the commands on the GPU-resident path ask openGpuKernels instead
    be.dispose();
    log(`backend auto: wasm (found the hardware adapter ${label}, but this command reaches WebGPU only through the per-kernel path; --backend=webgpu uses it anyway)`);
    return null;
  }
  log(`backend webgpu: webgpu on ${label}`);
  return be;
}
