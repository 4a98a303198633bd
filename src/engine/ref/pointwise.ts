// Elementwise kernels: gelu_new (GPT-2/GPT-Neo tanh approximation), SwiGLU (llama), residual add.
import type { F32 } from '../backend.ts';

const GELU_K = Math.sqrt(2 / Math.PI);

/** out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
export function gelu_forward(out: F32, inp: F32, N: number): void {
  for (let i = 0; i < N; i++) {
    const x = inp[i]!;
    out[i] = 0.5 * x * (1 + Math.tanh(GELU_K * (x + 0.044715 * x * x * x)));
  }
}

/** dinp += gelu'(inp) * dout. */
export function gelu_backward(dinp: F32, inp: F32, dout: F32, N: number): void {
  for (let i = 0; i < N; i++) {
    const x = inp[i]!;
    const u = GELU_K * (x + 0.044715 * x * x * x);
    const th = Math.tanh(u);
    const sech2 = 1 - th * th;
    const grad = 0.5 * (1 + th) + 0.5 * x * sech2 * GELU_K * (1 + 3 * 0.044715 * x * x);
    dinp[i]! += grad * dout[i]!;
  }
}

/** SwiGLU: inp (N, 2H) holds [gate | up] per row; out (N,H) = silu(gate) * up. */
export function swiglu_forward(out: F32, inp: F32, N: number, H: number): void {
  for (let n = 0; n < N; n++) {
    const io = n * 2 * H;
    const oo = n * H;
    for (let i = 0; i < H; i++) {
      const g = inp[io + i]!;
      out[oo + i] = (g / (1 + Math.exp(-g))) * inp[io + H + i]!;
    }
  }
}

/** dinp (N,2H) += [dgate | dup]: dgate = dout * up * sig(g) (1 + g (1 - sig(g))), dup = dout * silu(g). */
export function swiglu_backward(dinp: F32, inp: F32, dout: F32, N: number, H: number): void {
  for (let n = 0; n < N; n++) {
    const io = n * 2 * H;
    const oo = n * H;
    for (let i = 0; i < H; i++) {
      const g = inp[io + i]!;
      const u = inp[io + H + i]!;
      const d = dout[oo + i]!;
      const sig = 1 / (1 + Math.exp(-g));
      dinp[io + i]! += d * u * sig * (1 + g * (1 - sig));
      dinp[io + H + i]! += d * g * sig;
    }
  }
}

/** out = inp1 + inp2 (N elements). */
export function residual_forward(out: F32, inp1: F32, inp2: F32, N: number): void {
  for (let i = 0; i < N; i++) out[i] = inp1[i]! + inp2[i]!;
}

/** dinp1 += dout; dinp2 += dout. */
export function residual_backward(dinp1: F32, dinp2: F32, dout: F32, N: number): void {
  for (let i = 0; i < N; i++) {
    dinp1[i]! += dout[i]!;
    dinp2[i]! += dout[i]!;
  }
}
