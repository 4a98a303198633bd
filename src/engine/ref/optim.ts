// AdamW (PyTorch semantics, decoupled weight decay) and the grad-norm helpers.
import type { F32 } from '../backend.ts';

/** AdamW step t (1-based): p -= lr*wd*p; m,v moments; p -= lr * mhat / (sqrt(vhat) + eps). */
export function adamw_update(params: F32, grads: F32, m: F32, v: F32, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, t: number): void {
  const bc1 = 1 - Math.pow(beta1, t);
  const bc2 = 1 - Math.pow(beta2, t);
  const decay = 1 - lr * weightDecay;
  for (let i = 0; i < n; i++) {
    const g = grads[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * g;
    const vi = beta2 * v[i]! + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    params[i] = params[i]! * decay - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
  }
}

/** Sum of squares of n elements, accumulated in float64. */
export function sumsq(x: F32, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i]! * x[i]!;
  return s;
}

/** x *= s over n elements. */
export function scale(x: F32, n: number, s: number): void {
  for (let i = 0; i < n; i++) x[i]! *= s;
}
