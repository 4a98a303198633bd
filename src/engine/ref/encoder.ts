// Token + learned position embedding (GPT-Neo's wte + wpe; llama passes wpe = null).
import type { F32, I32 } from '../backend.ts';

/** out[b,t,:] = wte[inp[b,t],:] + (wpe ? wpe[pos0+t,:] : 0). out (B,T,C), inp (B,T), wte (V,C), wpe (maxT,C). */
export function encoder_forward(out: F32, inp: I32, wte: F32, wpe: F32 | null, B: number, T: number, C: number, pos0: number): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * C;
      const wo = inp[b * T + t]! * C;
      if (wpe) {
        const po = (pos0 + t) * C;
        for (let c = 0; c < C; c++) out[o + c] = wte[wo + c]! + wpe[po + c]!;
      } else {
        for (let c = 0; c < C; c++) out[o + c] = wte[wo + c]!;
      }
    }
  }
}

/** dwte[inp[b,t],:] += dout[b,t,:]; dwpe[t,:] += dout[b,t,:] (positions start at 0 in training). */
export function encoder_backward(dwte: F32, dwpe: F32 | null, dout: F32, inp: I32, B: number, T: number, C: number): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * C;
      const wo = inp[b * T + t]! * C;
      for (let c = 0; c < C; c++) dwte[wo + c]! += dout[o + c]!;
      if (dwpe) {
        const po = t * C;
        for (let c = 0; c < C; c++) dwpe[po + c]! += dout[o + c]!;
      }
    }
  }
}
