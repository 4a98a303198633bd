// How `--backend auto` treats WebGPU adapters: a hardware adapter is taken for the GPU-resident path (openGpuKernels),
// CPU emulations (lavapipe, SwiftShader, fallback adapters) never, and never the per-kernel bridge (chooseWebGpu);
// the decision is printed as one line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adapterLabel, summarizeAdapter } from '../../src/engine/webgpu/device.ts';
import { autoPassOver, chooseWebGpu, openGpuKernels } from '../../src/engine/webgpu/choose.ts';
import { parseBackendKind } from '../../src/cli/_flags.ts';

/** An object with the GPUAdapter fields summarizeAdapter reads. */
function adapter(info: Partial<GPUAdapterInfo>, features: string[] = [], isFallbackAdapter = false): GPUAdapter {
  return { info: { vendor: '', architecture: '', device: '', description: '', ...info }, features: new Set(features), isFallbackAdapter } as unknown as GPUAdapter;
}

describe('webgpu adapter classification', () => {
  it('calls lavapipe/llvmpipe, SwiftShader and fallback adapters software, and real GPUs hardware', () => {
    assert.equal(summarizeAdapter(adapter({ vendor: 'mesa', description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)' })).software, true);
    assert.equal(summarizeAdapter(adapter({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device (Subzero)' })).software, true);
    assert.equal(summarizeAdapter(adapter({ vendor: 'nvidia', description: 'NVIDIA GeForce RTX 4090' }, [], true)).software, true);
    const h100 = summarizeAdapter(adapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' }, ['shader-f16', 'subgroups']));
    assert.equal(h100.software, false);
    assert.equal(h100.shaderF16, true);
    assert.equal(h100.subgroups, true);
    assert.match(adapterLabel(h100), /^NVIDIA H100 80GB HBM3 \[nvidia, hardware, shader-f16, subgroups\]$/);
    assert.equal(summarizeAdapter(adapter({ vendor: 'apple', architecture: 'metal-3' })).software, false);
  });

  it('auto takes a hardware adapter and passes CPU emulations over, saying why', () => {
    assert.equal(autoPassOver(summarizeAdapter(adapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' }))), null);
    assert.equal(autoPassOver(summarizeAdapter(adapter({ vendor: 'apple', architecture: 'metal-3' }))), null);
    const why = autoPassOver(summarizeAdapter(adapter({ vendor: 'mesa', description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)' })));
    assert.match(why ?? '', /^the WebGPU adapter llvmpipe: Mesa 25\.0\.7 \(LLVM 15\.0\.6\) \[mesa, software\] is a CPU emulation, slower than the WASM kernels$/);
    assert.match(autoPassOver(summarizeAdapter(adapter({ vendor: 'google', architecture: 'swiftshader' }))) ?? '', /CPU emulation/);
  });

  it('accepts --backend webgpu and still refuses an unknown backend', () => {
    assert.equal(parseBackendKind('webgpu'), 'webgpu');
    assert.throws(() => parseBackendKind('cuda'), /--backend: expected auto, wasm, ref, webgpu, got "cuda"/);
  });

  it('--backend webgpu opens the WebGPU kernels and names the adapter, or fails with one line saying why', async () => {
    const lines: string[] = [];
    let be: Awaited<ReturnType<typeof chooseWebGpu>> = null;
    try {
      be = await chooseWebGpu('webgpu', (l) => lines.push(l));
    } catch (e) {
      assert.match((e as Error).message, /^--backend=webgpu: .+; use --backend=wasm$/);
      return;
    }
    try {
      assert.equal(be!.name, 'webgpu-sync');
      assert.match(lines.join('\n'), /^backend webgpu: webgpu on .+\[/);
      const x = be!.alloc(3);
      x.set([1, 2, 3]);
      assert.equal(be!.sumsq(x, 3), 14);
    } finally {
      be?.dispose();
    }
  });

  it('the GPU-resident path: webgpu opens kernels on the adapter or fails with one line; auto prints one line and takes only a hardware adapter', async () => {
    const lines: string[] = [];
    let gpu: Awaited<ReturnType<typeof openGpuKernels>> = null;
    try {
      gpu = await openGpuKernels('webgpu', (l) => lines.push(l));
    } catch (e) {
      assert.match((e as Error).message, /^--backend=webgpu: .+; use --backend=wasm$/);
    }
    if (gpu) {
      try {
        assert.deepEqual(lines, [`backend webgpu: webgpu on ${gpu.label}`]);
        const t = { buf: gpu.kernels.createBuffer(3), off: 0 };
        gpu.kernels.write(t, Float32Array.of(1, 2, 3));
        const out = { buf: gpu.kernels.createBuffer(1), off: 0 };
        gpu.kernels.sum(out, t, 3, true);
        assert.deepEqual([...(await gpu.kernels.read([{ t: out, n: 1 }]))[0]!], [14]);
      } finally {
        gpu.kernels.dispose();
      }
    }
    const autoLines: string[] = [];
    const auto = await openGpuKernels('auto', (l) => autoLines.push(l));
    try {
      assert.equal(autoLines.length, 1, autoLines.join('\n'));
      if (auto) {
        assert.equal(auto.summary.software, false);
        assert.equal(autoLines[0], `backend auto: webgpu on ${auto.label}`);
      } else assert.match(autoLines[0]!, /^backend auto: wasm \(.+\)$/);
      // lavapipe, the adapter of a CPU-only machine with Vulkan installed, is never chosen
      if (gpu?.summary.software) assert.equal(auto, null);
    } finally {
      auto?.kernels.dispose();
    }
  });

  it('auto never takes the per-kernel bridge: it prints one line saying why and takes WASM', async () => {
    const lines: string[] = [];
    const be = await chooseWebGpu('auto', (l) => lines.push(l));
    try {
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.equal(be, null);
      assert.match(lines[0]!, /^backend auto: wasm \(.+\)$/);
    } finally {
      be?.dispose();
    }
  });
});
