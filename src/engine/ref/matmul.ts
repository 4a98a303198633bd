// Linear layer in PyTorch's nn.Linear layout: out (N,OC) = inp (N,C) @ weight (OC,C)^T + bias, dot products in float64.
import type { F32 } from '../backend.ts';
import { scratch64 } from './scratch.ts';

/** out (N,OC) = inp (N,C) @ weight (OC,C)^T + bias (OC) (bias may be null). */
export function matmul_forward(out: F32, inp: F32, weight: F32, bias: F32 | null, N: number, C: number, OC: number): void {
  for (let n = 0; n < N; n++) {
    const io = n * C;
    const oo = n * OC;
    for (let o = 0; o < OC; o++) {
      const wo = o * C;
      let acc = bias ? bias[o]! : 0;
      for (let c = 0; c < C; c++) acc += inp[io + c]! * weight[wo + c]!;
      out[oo + o] = acc;
    }
  }
}

/** dinp += dout @ weight; dweight += dout^T @ inp; dbias += sum_rows(dout). dinp/dweight/dbias may be null to skip. */
export function matmul_backward(dinp: F32 | null, dweight: F32 | null, dbias: F32 | null, dout: F32, inp: F32, weight: F32, N: number, C: number, OC: number): void {
  if (dinp) {
    for (let n = 0; n < N; n++) {
      const acc = scratch64(0, C);
      const oo = n * OC;
      for (let o = 0; o < OC; o++) {
        const d = dout[oo + o]!;
        const wo = o * C;
        for (let c = 0; c < C; c++) acc[c]! += d * weight[wo + c]!;
      }
      const io = n * C;
      for (let c = 0; c < C; c++) dinp[io + c]! += acc[c]!;
    }
  }
  if (dweight || dbias) {
    for (let o = 0; o < OC; o++) {
      const acc = scratch64(0, C);
      let bacc = 0;
      for (let n = 0; n < N; n++) {
        const d = dout[n * OC + o]!;
        bacc += d;
        if (!dweight) continue;
        const io = n * C;
        for (let c = 0; c < C; c++) acc[c]! += d * inp[io + c]!;
      }
      if (dweight) {
        const wo = o * C;
        for (let c = 0; c < C; c++) dweight[wo + c]! += acc[c]!;
      }
      if (dbias) dbias[o]! += bacc;
    }
  }
}
