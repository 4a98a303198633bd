// Rotary position embedding in Hugging Face's rotate-half convention (pairs i and i+HS/2), in place on q and k heads.
import type { F32 } from '../backend.ts';

function rotate(qkv: F32, B: number, T: number, NH: number, NKV: number, HS: number, theta: number, pos0: number, sign: number): void {
  const R = (NH + 2 * NKV) * HS;
  const half = HS >> 1;
  const heads = NH + NKV; // q heads then k heads are contiguous at the start of each row
  for (let i = 0; i < half; i++) {
    const freq = Math.pow(theta, (-2 * i) / HS);
    for (let t = 0; t < T; t++) {
      const angle = (pos0 + t) * freq;
      const cos = Math.cos(angle);
      const sin = sign * Math.sin(angle);
      for (let b = 0; b < B; b++) {
        const ro = (b * T + t) * R;
        for (let h = 0; h < heads; h++) {
          const o = ro + h * HS + i;
          const x1 = qkv[o]!;
          const x2 = qkv[o + half]!;
          qkv[o] = x1 * cos - x2 * sin;
          qkv[o + half] = x2 * cos + x1 * sin;
        }
      }
    }
  }
}

/** Rotates q and k heads of qkv (B,T,(NH+2*NKV)*HS) by positions pos0..pos0+T-1, frequencies theta^(-2i/HS). */
export function rope_forward(qkv: F32, B: number, T: number, NH: number, NKV: number, HS: number, theta: number, pos0: number): void {
  rotate(qkv, B, T, NH, NKV, HS, theta, pos0, 1);
}

/** In place on dqkv: the inverse (transposed) rotation, since RoPE is orthogonal. */
export function rope_backward(dqkv: F32, B: number, T: number, NH: number, NKV: number, HS: number, theta: number, pos0: number): void {
  rotate(dqkv, B, T, NH, NKV, HS, theta, pos0, -1);
}
