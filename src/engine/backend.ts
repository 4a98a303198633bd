// The kernel interface every compute backend implements (TS reference, WASM SIMD, WebGPU via webgpu/sync.ts): the engine's contract.
//
// Conventions (llm.c style):
// - Dims: B batch, T sequence length, C channels (d_model), NH query heads, NKV key/value heads, HS head size,
//   V vocab, N = B*T rows, OC output channels, H hidden width. All tensors are row-major Float32Array views.
// - Arguments: outputs first, then inputs and weights, then dims, then scalars.
// - Linear weights use PyTorch's nn.Linear layout: weight is (OC, C) and out = inp @ weight^T + bias.
// - Gradient rule: every *_backward ADDS (+=) into its parameter grads AND its input grads; the caller zeroes the
//   gradient buffers once before a backward pass. This makes branching (residuals, tied weights) free of special cases.
// - Views may live on any ArrayBuffer/SharedArrayBuffer; a backend whose kernels need its own memory (WASM) only
//   accelerates views it allocated with alloc()/allocI32() and must fall back to the reference for others.
// - Kernels are synchronous; a backend may use worker threads internally (and block on Atomics.wait).

/** Which compute backend to open (open-backend.ts): 'auto' = the WASM engine when it loads, else the TS reference. */
export type BackendKind = 'auto' | 'wasm' | 'ref' | 'webgpu';

export type F32 = Float32Array;
export type I32 = Int32Array;

export interface Kernels {
  /** out[b,t,:] = wte[inp[b,t],:] + (wpe ? wpe[pos0+t,:] : 0). out (B,T,C), inp (B,T), wte (V,C), wpe (maxT,C). */
  encoder_forward(out: F32, inp: I32, wte: F32, wpe: F32 | null, B: number, T: number, C: number, pos0: number): void;
  encoder_backward(dwte: F32, dwpe: F32 | null, dout: F32, inp: I32, B: number, T: number, C: number): void;

  /** LayerNorm over the last dim. mean, rstd (N) are saved for backward. */
  layernorm_forward(out: F32, mean: F32, rstd: F32, inp: F32, weight: F32, bias: F32, N: number, C: number, eps: number): void;
  layernorm_backward(dinp: F32, dweight: F32, dbias: F32, dout: F32, inp: F32, weight: F32, mean: F32, rstd: F32, N: number, C: number): void;

  /** RMSNorm (llama): out = inp * rstd * weight, rstd = 1/sqrt(mean(inp^2) + eps). */
  rmsnorm_forward(out: F32, rstd: F32, inp: F32, weight: F32, N: number, C: number, eps: number): void;
  rmsnorm_backward(dinp: F32, dweight: F32, dout: F32, inp: F32, weight: F32, rstd: F32, N: number, C: number): void;

  /** out (N,OC) = inp (N,C) @ weight (OC,C)^T + bias (OC) (bias may be null). */
  matmul_forward(out: F32, inp: F32, weight: F32, bias: F32 | null, N: number, C: number, OC: number): void;
  /** dinp += dout @ weight; dweight += dout^T @ inp; dbias += sum_rows(dout). Either of dinp/dweight may be null to skip it. */
  matmul_backward(dinp: F32 | null, dweight: F32 | null, dbias: F32 | null, dout: F32, inp: F32, weight: F32, N: number, C: number, OC: number): void;

  /**
   * Causal multi-head attention over a packed qkv (B,T,(NH+2*NKV)*HS): q heads first, then k heads, then v heads.
   * Query head h reads kv head floor(h / (NH/NKV)) (GQA). window > 0 limits each query to the last `window` keys
   * (itself included), as GPT-Neo's local layers; window = 0 is global. scale multiplies scores before softmax
   * (1/sqrt(HS) for llama, 1.0 for GPT-Neo, which does not scale).
   * out (B,T,NH*HS); att (B,NH,T,T) holds the softmax probabilities (masked entries 0) for backward and inspection.
   */
  attention_forward(out: F32, att: F32, qkv: F32, B: number, T: number, NH: number, NKV: number, HS: number, window: number, scale: number): void;
  /** dqkv += grads of q, k, v. datt is scratch of the att's size (contents overwritten). */
  attention_backward(dqkv: F32, datt: F32, dout: F32, qkv: F32, att: F32, B: number, T: number, NH: number, NKV: number, HS: number, window: number, scale: number): void;
  /**
   * Inference with a KV cache: one query against cached packed qkv rows of one sequence. qkv (>= t+1 rows of
   * (NH+2*NKV)*HS) holds positions 0..t; the query is row t, keys/values rows max(0, t-window+1)..t.
   * out (NH*HS); att (NH, t+1) holds the probabilities (masked entries 0). Same window/scale/GQA rules as above.
   */
  attention_decode_forward(out: F32, att: F32, qkv: F32, t: number, NH: number, NKV: number, HS: number, window: number, scale: number): void;

  /**
   * Rotary embedding in place on the q and k heads of a packed qkv (B,T,(NH+2*NKV)*HS), Hugging Face's rotate-half
   * convention (pairs i and i+HS/2), positions pos0..pos0+T-1, frequencies theta^(-2i/HS).
   */
  rope_forward(qkv: F32, B: number, T: number, NH: number, NKV: number, HS: number, theta: number, pos0: number): void;
  /** In place on dqkv: the inverse rotation (RoPE is orthogonal). */
  rope_backward(dqkv: F32, B: number, T: number, NH: number, NKV: number, HS: number, theta: number, pos0: number): void;

  /** gelu_new (tanh approximation, as GPT-2/GPT-Neo). */
  gelu_forward(out: F32, inp: F32, N: number): void;
  gelu_backward(dinp: F32, inp: F32, dout: F32, N: number): void;

  /** SwiGLU: inp (N, 2H) holds [gate | up] per row; out (N,H) = silu(gate) * up. */
  swiglu_forward(out: F32, inp: F32, N: number, H: number): void;
  swiglu_backward(dinp: F32, inp: F32, dout: F32, N: number, H: number): void;

  /** out = inp1 + inp2 (N elements). */
  residual_forward(out: F32, inp1: F32, inp2: F32, N: number): void;
  residual_backward(dinp1: F32, dinp2: F32, dout: F32, N: number): void;

  /**
   * Softmax + cross-entropy. logits (N,V) -> probs (N,V) (may alias logits), losses (N) = -log p[target].
   * Targets < 0 are ignored (loss 0, no gradient).
   */
  crossentropy_softmax_forward(losses: F32, probs: F32, logits: F32, targets: I32, N: number, V: number): void;
  /** dlogits = (probs - onehot(target)) * dloss per row (dlogits may alias probs; this kernel assigns, not adds). */
  crossentropy_softmax_backward(dlogits: F32, probs: F32, targets: I32, dloss: number, N: number, V: number): void;

  /** AdamW step t (1-based) over n elements with decoupled weight decay (PyTorch AdamW semantics). */
  adamw_update(params: F32, grads: F32, m: F32, v: F32, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, t: number): void;
  /** Sum of squares of n elements (for the global grad norm). */
  sumsq(x: F32, n: number): number;
  /** x *= s over n elements (gradient clipping). */
  scale(x: F32, n: number, s: number): void;
}

export interface Backend extends Kernels {
  /** "ref", "wasm-relaxed-simd", "wasm-simd", ... */
  readonly name: string;
  /** Worker threads the backend computes on (1 for the reference). */
  readonly threads: number;
  /** A zeroed float buffer in this backend's memory. */
  alloc(n: number): F32;
  /** A zeroed int buffer in this backend's memory. */
  allocI32(n: number): I32;
  /** Releases workers; the backend is unusable afterwards. */
  dispose(): void;
}
