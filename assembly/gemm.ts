// Packed, blocked single-precision GEMM with a 4x8 register tile (GotoBLAS loop order), over strided operands so
// that the transposes of the backward matmuls happen while packing and every variant runs at forward speed.
import { fma, chunkStart } from './simd';

// Block sizes: a 4 x KC panel of A (4 KiB) and a KC x 8 panel of B (8 KiB) stay in L1; the MC x KC block of A
// and the KC x NC block of B in L2. Tiles larger than 4x8 spill V8's 16 vector registers (MEASURED.md).
export const KC: i32 = 256;
export const MC: i32 = 64;
export const NC: i32 = 512;
export const PACKA_FLOATS: i32 = MC * KC;
export const PACKB_FLOATS: i32 = KC * NC;
export const TILE_FLOATS: i32 = 32;
/** Bytes of per-thread scratch the kernels need (set with set_scratch). */
export const SCRATCH_BYTES: i32 = (PACKA_FLOATS + PACKB_FLOATS + TILE_FLOATS) * 4;

// Per-instance (so per-thread) scratch pointers; each worker's instance gets its own region.
export let packA: usize = 0;
export let packB: usize = 0;
let tileBuf: usize = 0;

export function setScratch(base: usize): void {
  packA = base;
  packB = base + <usize>PACKA_FLOATS * 4;
  tileBuf = packB + <usize>PACKB_FLOATS * 4;
}

// @ts-ignore: decorator
@inline function transposeStore4(d: usize, dstride: usize, a0: v128, a1: v128, a2: v128, a3: v128): void {
  const t0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(d + dstride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(d + 2 * dstride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(d + 3 * dstride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

/**
 * Packs rows [i0, i0+mc) x k [k0, k0+kc) of A (element (i,k) at A[i*sai + k*sak]) into 4-row panels:
 * panel p holds [k*4 + ii], rows past mc are zero.
 */
export function packAPanels(dst: usize, A: usize, sai: i32, sak: i32, i0: i32, mc: i32, k0: i32, kc: i32): void {
  for (let p = 0; p < mc; p += 4) {
    const d = dst + (<usize>(p * kc) << 2);
    const rows = min(4, mc - p);
    const i = i0 + p;
    if (rows == 4 && sak == 1) {
      const r0 = A + (<usize>(i * sai + k0) << 2);
      const rs = <usize>sai << 2;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = <usize>k << 2;
        transposeStore4(d + (o << 2), 16, v128.load(r0 + o), v128.load(r0 + rs + o), v128.load(r0 + 2 * rs + o), v128.load(r0 + 3 * rs + o));
      }
      for (; k < kc; k++) {
        const o = <usize>k << 2;
        const dk = d + (o << 2);
        store<f32>(dk, load<f32>(r0 + o));
        store<f32>(dk, load<f32>(r0 + rs + o), 4);
        store<f32>(dk, load<f32>(r0 + 2 * rs + o), 8);
        store<f32>(dk, load<f32>(r0 + 3 * rs + o), 12);
      }
    } else if (rows == 4 && sai == 1) {
      for (let k = 0; k < kc; k++) {
        v128.store(d + (<usize>k << 4), v128.load(A + (<usize>((k0 + k) * sak + i) << 2)));
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let ii = 0; ii < 4; ii++) {
          const v: f32 = ii < rows ? load<f32>(A + (<usize>((i + ii) * sai + (k0 + k) * sak) << 2)) : 0;
          store<f32>(d + (<usize>(k * 4 + ii) << 2), v);
        }
      }
    }
  }
}

/**
 * Packs k [k0, k0+kc) x columns [j0, j0+nc) of B (element (k,j) at B[k*sbk + j*sbj]) into 8-column panels:
 * panel q (columns q..q+7) starts at dst + q*kc floats and holds [k*8 + jj], columns past nc are zero.
 */
export function packBPanels(dst: usize, B: usize, sbk: i32, sbj: i32, k0: i32, kc: i32, j0: i32, nc: i32): void {
  for (let q = 0; q < nc; q += 8) {
    const d = dst + (<usize>(q * kc) << 2);
    const cols = min(8, nc - q);
    const j = j0 + q;
    if (cols == 8 && sbj == 1) {
      for (let k = 0; k < kc; k++) {
        const s = B + (<usize>((k0 + k) * sbk + j) << 2);
        const dk = d + (<usize>k << 5);
        v128.store(dk, v128.load(s));
        v128.store(dk, v128.load(s, 16), 16);
      }
    } else if (cols == 8 && sbk == 1) {
      const rs = <usize>sbj << 2;
      for (let h = 0; h < 2; h++) {
        const r0 = B + (<usize>((j + 4 * h) * sbj + k0) << 2);
        const dh = d + (<usize>h << 4);
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const o = <usize>k << 2;
          transposeStore4(dh + (o << 3), 32, v128.load(r0 + o), v128.load(r0 + rs + o), v128.load(r0 + 2 * rs + o), v128.load(r0 + 3 * rs + o));
        }
        for (; k < kc; k++) {
          const o = <usize>k << 2;
          const dk = dh + (o << 3);
          store<f32>(dk, load<f32>(r0 + o));
          store<f32>(dk, load<f32>(r0 + rs + o), 4);
          store<f32>(dk, load<f32>(r0 + 2 * rs + o), 8);
          store<f32>(dk, load<f32>(r0 + 3 * rs + o), 12);
        }
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let jj = 0; jj < 8; jj++) {
          const v: f32 = jj < cols ? load<f32>(B + (<usize>((k0 + k) * sbk + (j + jj) * sbj) << 2)) : 0;
          store<f32>(d + (<usize>(k * 8 + jj) << 2), v);
        }
      }
    }
  }
}

/**
 * The 4x8 microkernel: acc = Apanel (4 x kc) @ Bpanel (kc x 8), then into C (row stride ldc floats) by mode:
 * 0 C = acc, 1 C += acc, 2 C = acc + bias[j]. rows/cols < 4/8 write only the valid part (mode 2 still reads 8
 * bias floats: the JS allocator leaves a guard after every buffer so that read stays in bounds).
 */
export function micro(pa: usize, pb: usize, kc: i32, c: usize, ldc: i32, rows: i32, cols: i32, mode: i32, bias: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = fma(a, b0, c00);
    c01 = fma(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = fma(a, b0, c10);
    c11 = fma(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = fma(a, b0, c20);
    c21 = fma(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = fma(a, b0, c30);
    c31 = fma(a, b1, c31);
    pa += 16;
    pb += 32;
  }
  if (mode == 2) {
    const bb0 = v128.load(bias), bb1 = v128.load(bias, 16);
    c00 = f32x4.add(c00, bb0); c01 = f32x4.add(c01, bb1);
    c10 = f32x4.add(c10, bb0); c11 = f32x4.add(c11, bb1);
    c20 = f32x4.add(c20, bb0); c21 = f32x4.add(c21, bb1);
    c30 = f32x4.add(c30, bb0); c31 = f32x4.add(c31, bb1);
  }
  const ld = <usize>ldc << 2;
  if (rows == 4 && cols == 8) {
    if (mode == 1) {
      c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
      c10 = f32x4.add(c10, v128.load(c + ld)); c11 = f32x4.add(c11, v128.load(c + ld, 16));
      c20 = f32x4.add(c20, v128.load(c + 2 * ld)); c21 = f32x4.add(c21, v128.load(c + 2 * ld, 16));
      c30 = f32x4.add(c30, v128.load(c + 3 * ld)); c31 = f32x4.add(c31, v128.load(c + 3 * ld, 16));
    }
    v128.store(c, c00); v128.store(c, c01, 16);
    v128.store(c + ld, c10); v128.store(c + ld, c11, 16);
    v128.store(c + 2 * ld, c20); v128.store(c + 2 * ld, c21, 16);
    v128.store(c + 3 * ld, c30); v128.store(c + 3 * ld, c31, 16);
    return;
  }
  const t = tileBuf;
  v128.store(t, c00); v128.store(t, c01, 16);
  v128.store(t, c10, 32); v128.store(t, c11, 48);
  v128.store(t, c20, 64); v128.store(t, c21, 80);
  v128.store(t, c30, 96); v128.store(t, c31, 112);
  for (let ii = 0; ii < rows; ii++) {
    const crow = c + <usize>ii * ld;
    const trow = t + (<usize>ii << 5);
    for (let jj = 0; jj < cols; jj++) {
      const o = <usize>jj << 2;
      let v = load<f32>(trow + o);
      if (mode == 1) v += load<f32>(crow + o);
      store<f32>(crow + o, v);
    }
  }
}

/**
 * C (M x N, row stride ldc) = or += A (M x K; (i,k) at A[i*sai + k*sak]) @ B (K x N; (k,j) at B[k*sbk + j*sbj]).
 * accumulate 0: C = AB (+ bias[j] when bias != 0); 1: C += AB. Threads split the longer of M and N.
 */
export function gemm(C: usize, ldc: i32, A: usize, sai: i32, sak: i32, B: usize, sbk: i32, sbj: i32, bias: usize,
  M: i32, N: i32, K: i32, accumulate: i32, tid: i32, nth: i32): void {
  let m0 = 0, m1 = M, n0 = 0, n1 = N;
  if (nth > 1) {
    if (M >= N) {
      m0 = chunkStart(M, tid, nth, 4);
      m1 = chunkStart(M, tid + 1, nth, 4);
    } else {
      n0 = chunkStart(N, tid, nth, 8);
      n1 = chunkStart(N, tid + 1, nth, 8);
    }
  }
  if (m0 >= m1 || n0 >= n1) return;
  const pA = packA, pB = packB;
  for (let jc = n0; jc < n1; jc += NC) {
    const nc = min(NC, n1 - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      packBPanels(pB, B, sbk, sbj, pc, kc, jc, nc);
      const mode = pc > 0 || accumulate != 0 ? 1 : (bias != 0 ? 2 : 0);
      for (let ic = m0; ic < m1; ic += MC) {
        const mc = min(MC, m1 - ic);
        packAPanels(pA, A, sai, sak, ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += 8) {
          const cols = min(8, nc - jr);
          const pb = pB + (<usize>(jr * kc) << 2);
          const cj = C + (<usize>(jc + jr) << 2);
          const bj = bias + (<usize>(jc + jr) << 2);
          for (let ir = 0; ir < mc; ir += 4) {
            micro(pA + (<usize>(ir * kc) << 2), pb, kc, cj + (<usize>((ic + ir) * ldc) << 2), ldc, min(4, mc - ir), cols, mode, bj);
          }
        }
      }
    }
  }
}
