// Fused softmax + cross-entropy over the vocabulary, max-subtracted, sums in float64.
import type { F32, I32 } from '../backend.ts';

/** logits (N,V) -> probs (N,V) (may alias logits), losses (N) = -log p[target]; targets < 0 give loss 0. */
export function crossentropy_softmax_forward(losses: F32, probs: F32, logits: F32, targets: I32, N: number, V: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[o + v]! > max) max = logits[o + v]!;
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[o + v]! - max);
    const logSum = Math.log(sum);
    const tgt = targets[n]!;
    // read the target logit before probs (which may alias logits) overwrite it
    losses[n] = tgt >= 0 ? logSum - (logits[o + tgt]! - max) : 0;
    const inv = 1 / sum;
    for (let v = 0; v < V; v++) probs[o + v] = Math.exp(logits[o + v]! - max) * inv;
  }
}

/** dlogits = (probs - onehot(target)) * dloss per row, assigned (dlogits may alias probs); ignored rows get 0. */
export function crossentropy_softmax_backward(dlogits: F32, probs: F32, targets: I32, dloss: number, N: number, V: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * V;
    const tgt = targets[n]!;
    if (tgt < 0) {
      dlogits.fill(0, o, o + V);
      continue;
    }
    // one pass, each element read before it is written, so dlogits may alias probs
    for (let v = 0; v < V; v++) dlogits[o + v] = (probs[o + v]! - (v === tgt ? 1 : 0)) * dloss;
  }
}
