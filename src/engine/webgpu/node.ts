// Node-only half of the WebGPU backend: Dawn through the `webgpu` npm package (its Linux binary ships inside it).
/// <reference types="@webgpu/types" />
import { existsSync, readdirSync } from 'node:fs';
import { type GpuAcquire, type GpuAdapterSummary, acquireDevice, summarizeAdapter } from './device.ts';

let gpuPromise: Promise<GPU | undefined> | null = null;

/** Dawn's GPU object, created once per thread; undefined when the package or its binary cannot load. */
export function nodeGpu(): Promise<GPU | undefined> {
  gpuPromise ??= (async () => {
    try {
      const mod = (await import('webgpu')) as { create: (opts: string[]) => GPU };
      return mod.create([]);
    } catch {
      return undefined;
    }
  })();
  return gpuPromise;
}

let acquired: Promise<GpuAcquire> | null = null;

/** The process's WebGPU device (shared by every caller in this thread), or the reason there is none. */
export function nodeDevice(): Promise<GpuAcquire> {
  acquired ??= (async () => {
    const gpu = await nodeGpu();
    if (!gpu) return { ok: false as const, reason: "the 'webgpu' package (Dawn) could not be loaded" };
    return acquireDevice(gpu);
  })();
  return acquired;
}

/** Asks Dawn for an adapter without opening a device (what `--backend auto` decides on). */
export async function probeNodeAdapter(): Promise<{ ok: true; summary: GpuAdapterSummary } | { ok: false; reason: string }> {
  const gpu = await nodeGpu();
  if (!gpu) return { ok: false, reason: "the 'webgpu' package (Dawn) could not be loaded" };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { ok: false, reason: 'WebGPU gave no adapter' };
    return { ok: true, summary: summarizeAdapter(adapter) };
  } catch (e) {
    return { ok: false, reason: `requestAdapter failed: ${(e as Error).message}` };
  }
}

/**
 * Whether this machine could have a hardware adapter, decided without loading Dawn (loading it and tearing
 * it down costs seconds on a CPU-only machine): on Linux a GPU driver needs a render node (/dev/dri/renderD*) or
 * NVIDIA's /dev/nvidia*; elsewhere (macOS Metal, Windows D3D12) only asking the adapter tells.
 */
export function mayHaveHardwareGpu(): { maybe: boolean; why: string } {
  if (process.platform !== 'linux') return { maybe: true, why: `${process.platform} may have a GPU` };
  const list = (dir: string) => {
    try {
      return existsSync(dir) ? readdirSync(dir) : [];
    } catch {
      return [];
    }
  };
  if (list('/dev/dri').some((n) => n.startsWith('renderD')) || list('/dev').some((n) => /^nvidia\d/.test(n))) return { maybe: true, why: 'a GPU device node exists' };
  return { maybe: false, why: 'no GPU device node (/dev/dri/renderD*, /dev/nvidia*): only a CPU emulation could run WebGPU here' };
}
