// What the synchronous WebGPU backend (sync.ts) and its worker (sync-worker.ts) exchange.

/** A view argument: allocation id, element offset and length; numbers pass as they are; null stays null. */
export type WireArg = { id: number; off: number; len: number } | number | null;

/** Int32 slots of the control block (a Float64 result at byte 64, an error message from byte 128). */
export const CTRL = { SEQ: 0, STATUS: 1, LEN: 2 } as const;
export const CONTROL_BYTES = 128 + 4096;

/** Argument positions each contract kernel writes (the worker copies exactly these back). */
export const OUTPUTS: Record<string, readonly number[]> = {
  encoder_forward: [0],
  encoder_backward: [0, 1],
  layernorm_forward: [0, 1, 2],
  layernorm_backward: [0, 1, 2],
  rmsnorm_forward: [0, 1],
  rmsnorm_backward: [0, 1],
  matmul_forward: [0],
  matmul_backward: [0, 1, 2],
  attention_forward: [0, 1],
  attention_backward: [0, 1],
  attention_decode_forward: [0, 1],
  rope_forward: [0],
  rope_backward: [0],
  gelu_forward: [0],
  gelu_backward: [0],
  swiglu_forward: [0],
  swiglu_backward: [0],
  residual_forward: [0],
  residual_backward: [0, 1],
  crossentropy_softmax_forward: [0, 1],
  crossentropy_softmax_backward: [0],
  adamw_update: [0, 2, 3],
  sumsq: [],
  scale: [0],
};
