// Causal multi-head attention over a packed qkv (q heads, then k heads, then v heads per row), with GQA, an optional
// local window (GPT-Neo's local layers) and an optional score scale (1 for GPT-Neo, 1/sqrt(HS) for llama).
import type { F32 } from '../backend.ts';
import { scratch64 } from './scratch.ts';

/** First key position visible to query t: keys j with t - window < j <= t (window 0 = global). */
export function firstKey(t: number, window: number): number {
  return window > 0 && t - window + 1 > 0 ? t - window + 1 : 0;
}

/**
 * out (B,T,NH*HS); att (B,NH,T,T) softmax probabilities (masked entries 0); qkv (B,T,(NH+2*NKV)*HS).
 * Scores are max-subtracted and exponentials summed in float64.
 */
export function attention_forward(out: F32, att: F32, qkv: F32, B: number, T: number, NH: number, NKV: number, HS: number, window: number, scale: number): void {
  const R = (NH + 2 * NKV) * HS;
  const group = NH / NKV;
  const C = NH * HS;
  const p = scratch64(1, T);
  const acc = scratch64(2, HS);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const g = Math.floor(h / group);
      const ko = (NH + g) * HS;
      const vo = (NH + NKV + g) * HS;
      for (let t = 0; t < T; t++) {
        attendQuery(out, (b * T + t) * C + h * HS, att, ((b * NH + h) * T + t) * T, T, qkv, (b * T + t) * R + h * HS, b * T, R, ko, vo, firstKey(t, window), t, HS, scale, p, acc);
      }
    }
  }
}

/**
 * One query row of one head: scores against keys lo..t (key j in qkv row base+j), max-subtracted softmax into
 * att[ao..ao+attLen) (zeros outside lo..t), and the probability-weighted sum of values into out[oo..oo+HS).
 * p (>= t+1) and acc (>= HS) are float64 scratch. Shared by the training forward and the KV-cache decode.
 */
function attendQuery(out: F32, oo: number, att: F32, ao: number, attLen: number, qkv: F32, qo: number, base: number, R: number, ko: number, vo: number, lo: number, t: number, HS: number, scale: number, p: Float64Array, acc: Float64Array): void {
  let max = -Infinity;
  for (let j = lo; j <= t; j++) {
    const kr = (base + j) * R + ko;
    let s = 0;
    for (let i = 0; i < HS; i++) s += qkv[qo + i]! * qkv[kr + i]!;
    s *= scale;
    p[j] = s;
    if (s > max) max = s;
  }
  let sum = 0;
  for (let j = lo; j <= t; j++) {
    const e = Math.exp(p[j]! - max);
    p[j] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let j = 0; j < attLen; j++) att[ao + j] = j >= lo && j <= t ? p[j]! * inv : 0;
  acc.fill(0, 0, HS);
  for (let j = lo; j <= t; j++) {
    const w = p[j]! * inv;
    const vr = (base + j) * R + vo;
    for (let i = 0; i < HS; i++) acc[i]! += w * qkv[vr + i]!;
  }
  for (let i = 0; i < HS; i++) out[oo + i] = acc[i]!;
}

/** dqkv += grads of q, k, v. datt is scratch of att's size (contents overwritten). */
export function attention_backward(dqkv: F32, datt: F32, dout: F32, qkv: F32, att: F32, B: number, T: number, NH: number, NKV: number, HS: number, window: number, scale: number): void {
  const R = (NH + 2 * NKV) * HS;
  const group = NH / NKV;
  const C = NH * HS;
  const dq = scratch64(2, HS);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const g = Math.floor(h / group);
      const ko = (NH + g) * HS;
      const vo = (NH + NKV + g) * HS;
      for (let t = 0; t < T; t++) {
        const qo = (b * T + t) * R + h * HS;
        const ao = ((b * NH + h) * T + t) * T;
        const doo = (b * T + t) * C + h * HS;
        const lo = firstKey(t, window);
        // datt_j = dout . v_j; dv_j += att_j * dout
        let dot = 0;
        for (let j = 0; j < T; j++) datt[ao + j] = 0;
        for (let j = lo; j <= t; j++) {
          const vr = (b * T + j) * R + vo;
          const a = att[ao + j]!;
          let s = 0;
          for (let i = 0; i < HS; i++) {
            const d = dout[doo + i]!;
            s += d * qkv[vr + i]!;
            dqkv[vr + i]! += a * d;
          }
          datt[ao + j] = s;
          dot += a * s;
        }
        // softmax backward: dscore_j = att_j * (datt_j - sum_k att_k datt_k), then the scale
        dq.fill(0, 0, HS);
        for (let j = lo; j <= t; j++) {
          const ds = att[ao + j]! * (datt[ao + j]! - dot) * scale;
          const kr = (b * T + j) * R + ko;
          for (let i = 0; i < HS; i++) {
            dq[i]! += ds * qkv[kr + i]!;
            dqkv[kr + i]! += ds * qkv[qo + i]!;
          }
        }
        for (let i = 0; i < HS; i++) dqkv[qo + i]! += dq[i]!;
      }
    }
  }
}

/**
 * One query against a cache of packed qkv rows (inference with a KV cache): qkv (>= t+1, (NH+2*NKV)*HS) holds rows
 * for positions 0..t of one sequence; the query is row t. out (NH*HS); att (NH, t+1) probabilities (masked 0).
 */
export function attention_decode_forward(out: F32, att: F32, qkv: F32, t: number, NH: number, NKV: number, HS: number, window: number, scale: number): void {
  const R = (NH + 2 * NKV) * HS;
  const group = NH / NKV;
  const T1 = t + 1;
  const lo = firstKey(t, window);
  const p = scratch64(1, T1);
  const acc = scratch64(2, HS);
  for (let h = 0; h < NH; h++) {
    const g = Math.floor(h / group);
    const ko = (NH + g) * HS;
    const vo = (NH + NKV + g) * HS;
    attendQuery(out, h * HS, att, h * T1, T1, qkv, t * R + h * HS, 0, R, ko, vo, lo, t, HS, scale, p, acc);
  }
}
