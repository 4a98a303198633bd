// The WebGPU kernels against the reference: the shared conformance suite, run through the synchronous bridge
// (each call uploads, dispatches and reads back). Skips with the reason where WebGPU has no adapter.
import { describe, it } from 'node:test';
import { createWebGpuSyncBackend, type WebGpuSyncBackend } from '../../src/engine/webgpu/sync.ts';
import { adapterLabel } from '../../src/engine/webgpu/device.ts';
import { runConformance } from './conformance.ts';

let backend: WebGpuSyncBackend | null = null;
let reason = '';
try {
  backend = await createWebGpuSyncBackend();
} catch (e) {
  reason = (e as Error).message;
}

if (backend) {
  console.log(`# webgpu adapter: ${adapterLabel(backend.adapter)}`);
  const be = backend;
  runConformance(`webgpu (${be.adapter.software ? 'software adapter' : 'hardware adapter'})`, () => be);
} else {
  console.log(`# skipping the WebGPU conformance suite: ${reason}`);
  describe('kernel conformance: webgpu', () => {
    it('runs every kernel against the reference on a WebGPU adapter', (t) => t.skip(`no WebGPU adapter: ${reason}`));
  });
}
