// The plain TypeScript reference backend: every kernel of backend.ts as a free function, the living spec.
import type { Backend, Kernels } from '../backend.ts';
import { attention_backward, attention_decode_forward, attention_forward } from './attention.ts';
import { encoder_backward, encoder_forward } from './encoder.ts';
import { crossentropy_softmax_backward, crossentropy_softmax_forward } from './loss.ts';
import { matmul_backward, matmul_forward } from './matmul.ts';
import { layernorm_backward, layernorm_forward, rmsnorm_backward, rmsnorm_forward } from './norm.ts';
import { adamw_update, scale, sumsq } from './optim.ts';
import { gelu_backward, gelu_forward, residual_backward, residual_forward, swiglu_backward, swiglu_forward } from './pointwise.ts';
import { rope_backward, rope_forward } from './rope.ts';

export * from './attention.ts';
export * from './encoder.ts';
export * from './loss.ts';
export * from './matmul.ts';
export * from './norm.ts';
export * from './optim.ts';
export * from './pointwise.ts';
export * from './rope.ts';

/** All reference kernels as one object (a faster backend spreads this and overrides what it accelerates). */
export const refKernels: Kernels = {
  encoder_forward,
  encoder_backward,
  layernorm_forward,
  layernorm_backward,
  rmsnorm_forward,
  rmsnorm_backward,
  matmul_forward,
  matmul_backward,
  attention_forward,
  attention_backward,
  attention_decode_forward,
  rope_forward,
  rope_backward,
  gelu_forward,
  gelu_backward,
  swiglu_forward,
  swiglu_backward,
  residual_forward,
  residual_backward,
  crossentropy_softmax_forward,
  crossentropy_softmax_backward,
  adamw_update,
  sumsq,
  scale,
};

/** The reference backend: plain Float32Arrays, one thread. Example: `const model = new Model(cfg, createRefBackend())`. */
export function createRefBackend(): Backend {
  return {
    ...refKernels,
    name: 'ref',
    threads: 1,
    alloc: (n: number) => new Float32Array(n),
    allocI32: (n: number) => new Int32Array(n),
    dispose: () => {},
  };
}
