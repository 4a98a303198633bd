// LayerNorm (GPT-Neo) and RMSNorm (llama) over the last dimension, statistics accumulated in float64.
import type { F32 } from '../backend.ts';

/** LayerNorm with biased variance (PyTorch): out = (x - mean) * rstd * weight + bias; mean, rstd (N) saved for backward. */
export function layernorm_forward(out: F32, mean: F32, rstd: F32, inp: F32, weight: F32, bias: F32, N: number, C: number, eps: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let m = 0;
    for (let c = 0; c < C; c++) m += inp[o + c]!;
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) {
      const d = inp[o + c]! - m;
      v += d * d;
    }
    v /= C;
    const s = 1 / Math.sqrt(v + eps);
    for (let c = 0; c < C; c++) out[o + c] = (inp[o + c]! - m) * s * weight[c]! + bias[c]!;
    mean[n] = m;
    rstd[n] = s;
  }
}

/** Adds the LayerNorm gradients into dinp, dweight, dbias. */
export function layernorm_backward(dinp: F32, dweight: F32, dbias: F32, dout: F32, inp: F32, weight: F32, mean: F32, rstd: F32, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    const m = mean[n]!;
    const s = rstd[n]!;
    // dnorm = dout * weight; dinp = s * (dnorm - mean(dnorm) - norm * mean(dnorm * norm))
    let dnormMean = 0;
    let dnormNormMean = 0;
    for (let c = 0; c < C; c++) {
      const norm = (inp[o + c]! - m) * s;
      const dnorm = weight[c]! * dout[o + c]!;
      dnormMean += dnorm;
      dnormNormMean += dnorm * norm;
    }
    dnormMean /= C;
    dnormNormMean /= C;
    for (let c = 0; c < C; c++) {
      const norm = (inp[o + c]! - m) * s;
      const d = dout[o + c]!;
      const dnorm = weight[c]! * d;
      dbias[c]! += d;
      dweight[c]! += norm * d;
      dinp[o + c]! += (dnorm - dnormMean - norm * dnormNormMean) * s;
    }
  }
}

/** RMSNorm (llama): out = inp * rstd * weight, rstd = 1/sqrt(mean(inp^2) + eps); rstd (N) saved for backward. */
export function rmsnorm_forward(out: F32, rstd: F32, inp: F32, weight: F32, N: number, C: number, eps: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let ss = 0;
    for (let c = 0; c < C; c++) ss += inp[o + c]! * inp[o + c]!;
    const s = 1 / Math.sqrt(ss / C + eps);
    for (let c = 0; c < C; c++) out[o + c] = inp[o + c]! * s * weight[c]!;
    rstd[n] = s;
  }
}

/** Adds the RMSNorm gradients: dinp = s*w*dout - s^3/C * x * sum(dout*w*x); dweight += dout * x * s. */
export function rmsnorm_backward(dinp: F32, dweight: F32, dout: F32, inp: F32, weight: F32, rstd: F32, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const o = n * C;
    const s = rstd[n]!;
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dout[o + c]! * weight[c]! * inp[o + c]!;
    const k = (s * s * s * dot) / C;
    for (let c = 0; c < C; c++) {
      const x = inp[o + c]!;
      const d = dout[o + c]!;
      dweight[c]! += d * x * s;
      dinp[o + c]! += s * weight[c]! * d - k * x;
    }
  }
}
