// WebGPU adapter and device acquisition, shared by Node (Dawn through the `webgpu` package) and browsers
// (navigator.gpu): feature detection, and telling hardware adapters from CPU emulations (lavapipe, SwiftShader).
/// <reference types="@webgpu/types" />

/** What this code knows about the adapter it got. */
export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU emulation (Mesa lavapipe/llvmpipe, SwiftShader, WARP) or a fallback adapter: correct, never fast. */
  software: boolean;
  /** Optional features the kernels may use: f16 storage, subgroup operations. */
  shaderF16: boolean;
  subgroups: boolean;
}

/** An adapter with its device, or the reason there is none. */
export type GpuAcquire = { ok: true; adapter: GPUAdapter; device: GPUDevice; summary: GpuAdapterSummary } | { ok: false; reason: string };

const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups' as GPUFeatureName];

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|microsoft basic render|warp/i;

/** Reads adapter.info and classifies it; works on Dawn and browsers (which may blank some fields). */
export function summarizeAdapter(adapter: GPUAdapter): GpuAdapterSummary {
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const fallback = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true || (info as GPUAdapterInfo & { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true;
  const software = fallback || SOFTWARE.test(`${vendor} ${architecture} ${device} ${description}`);
  return { vendor, architecture, device, description, software, shaderF16: adapter.features.has('shader-f16'), subgroups: adapter.features.has('subgroups') };
}

/** One line naming the adapter, e.g. "llvmpipe (LLVM 19.1.7, 256 bits) [mesa, software]". */
export function adapterLabel(s: GpuAdapterSummary): string {
  const name = s.description || s.device || s.architecture || 'unnamed adapter';
  const extra = [s.vendor, s.software ? 'software' : 'hardware', s.shaderF16 ? 'shader-f16' : '', s.subgroups ? 'subgroups' : ''].filter(Boolean);
  return `${name} [${extra.join(', ')}]`;
}

/**
 * Requests an adapter and a device with the adapter's own buffer limits (the defaults cap a storage binding at
 * 128 MiB and workgroup memory at 16 KiB). Never throws: a missing API or adapter comes back as { ok: false }.
 */
export async function acquireDevice(gpu: GPU | undefined, powerPreference: GPUPowerPreference = 'high-performance'): Promise<GpuAcquire> {
  if (!gpu) return { ok: false, reason: 'this runtime has no WebGPU API' };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference });
  } catch (e) {
    return { ok: false, reason: `requestAdapter failed: ${(e as Error).message}` };
  }
  if (!adapter) return { ok: false, reason: 'WebGPU gave no adapter (no Vulkan/Metal/D3D12 driver; on Debian install mesa-vulkan-drivers from bookworm-backports)' };
  const summary = summarizeAdapter(adapter);
  const lim = adapter.limits;
  try {
    // optional features the decoder uses when present (webgpu/decode.ts): asking for them costs nothing elsewhere
    const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
        maxBufferSize: lim.maxBufferSize,
        maxStorageBuffersPerShaderStage: Math.min(lim.maxStorageBuffersPerShaderStage, 10),
        maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
      },
    });
    return { ok: true, adapter, device, summary };
  } catch (e) {
    return { ok: false, reason: `requestDevice failed: ${(e as Error).message}` };
  }
}
