// Causal multi-head attention (optional local window, GQA) forward and backward, parallel over (batch, kv head):
// every product (QK^T, PV, dO V^T, dS K, dS^T Q, P^T dO) runs on the packed 4x8 microkernel of gemm.ts.
import { exp4, exp1, hsum, hmax } from './simd';
import { packA, packB, packAPanels, packBPanels, micro } from './gemm';

// @ts-ignore: decorator
@inline function rowLo(i: i32, window: i32): i32 {
  return window > 0 ? max(0, i - window + 1) : 0;
}

/** Scores of one head into att (T x T): S = scale-free Q K^T for the tiles the causal/window mask can reach. */
function scores(attb: usize, qb: usize, sq: i32, kb: usize, sk: i32, T: i32, HS: i32, window: i32): void {
  const pA = packA, pB = packB;
  packBPanels(pB, kb, 1, sk, 0, HS, 0, T); // (k=d, j=t2) = K[t2*sk + d]
  for (let i0 = 0; i0 < T; i0 += 4) {
    const rows = min(4, T - i0);
    packAPanels(pA, qb, sq, 1, i0, rows, 0, HS);
    const jlo = rowLo(i0, window) & ~7;
    const jhi = i0 + rows;
    for (let j0 = jlo; j0 < jhi; j0 += 8) {
      micro(pA, pB + (<usize>(j0 * HS) << 2), HS, attb + (<usize>(i0 * T + j0) << 2), T, rows, min(8, T - j0), 0, 0);
    }
  }
}

/** out (T x HS, row stride so) (+)= P (T x T, causal/window-limited rows) @ V (T x HS, row stride sv). */
function probsTimes(outb: usize, so: i32, pb: usize, vb: usize, sv: i32, T: i32, HS: i32, window: i32, mode: i32): void {
  const pA = packA, pB = packB;
  packBPanels(pB, vb, sv, 1, 0, T, 0, HS); // (k=t2, j=d) = V[t2*sv + d]
  for (let i0 = 0; i0 < T; i0 += 4) {
    const rows = min(4, T - i0);
    const klo = rowLo(i0, window);
    const kn = i0 + rows - klo;
    packAPanels(pA, pb, T, 1, i0, rows, klo, kn);
    for (let jr = 0; jr < HS; jr += 8) {
      micro(pA, pB + (<usize>(jr * T + klo * 8) << 2), kn, outb + (<usize>(i0 * so + jr) << 2), so, rows, min(8, HS - jr), mode, 0);
    }
  }
}

/** out (T x HS, row stride so) += P^T (T x T) @ X (T x HS, row stride sx): the key-side products of backward. */
function probsTransposedTimes(outb: usize, so: i32, pb: usize, xb: usize, sx: i32, T: i32, HS: i32, window: i32): void {
  const pA = packA, pB = packB;
  packBPanels(pB, xb, sx, 1, 0, T, 0, HS);
  for (let i0 = 0; i0 < T; i0 += 4) {
    const rows = min(4, T - i0);
    // key rows i0..i0+rows-1 are seen by queries t in [i0, i0+rows-1+window) (all t >= i0 when global)
    const khi = window > 0 ? min(T, i0 + rows - 1 + window) : T;
    const kn = khi - i0;
    packAPanels(pA, pb, 1, T, i0, rows, i0, kn); // (i=t2, k=t) = P[t*T + t2]
    for (let jr = 0; jr < HS; jr += 8) {
      micro(pA, pB + (<usize>(jr * T + i0 * 8) << 2), kn, outb + (<usize>(i0 * so + jr) << 2), so, rows, min(8, HS - jr), 1, 0);
    }
  }
}

/** Softmax of row i's [lo, i] range after scaling; every other entry of the row becomes 0. */
function softmaxRow(row: usize, i: i32, T: i32, window: i32, scale: f32): void {
  const sc = f32x4.splat(scale);
  const lo = rowLo(i, window), hi = i + 1;
  let mv = f32x4.splat(-Infinity);
  let j = lo;
  for (; j + 4 <= hi; j += 4) mv = f32x4.pmax(mv, v128.load(row + (<usize>j << 2)));
  let m = hmax(mv);
  for (; j < hi; j++) m = max(m, load<f32>(row + (<usize>j << 2)));
  const ms = f32x4.splat(m * scale);
  let sv = f32x4.splat(0);
  j = lo;
  for (; j + 4 <= hi; j += 4) {
    const p = row + (<usize>j << 2);
    const e = exp4(f32x4.sub(f32x4.mul(v128.load(p), sc), ms));
    v128.store(p, e);
    sv = f32x4.add(sv, e);
  }
  let s = hsum(sv);
  for (; j < hi; j++) {
    const p = row + (<usize>j << 2);
    const e = exp1(load<f32>(p) * scale - m * scale);
    store<f32>(p, e);
    s += e;
  }
  const inv = f32x4.splat(<f32>1.0 / s);
  j = lo;
  for (; j + 4 <= hi; j += 4) {
    const p = row + (<usize>j << 2);
    v128.store(p, f32x4.mul(v128.load(p), inv));
  }
  for (; j < hi; j++) {
    const p = row + (<usize>j << 2);
    store<f32>(p, load<f32>(p) * f32x4.extract_lane(inv, 0));
  }
  memory.fill(row, 0, <usize>lo << 2);
  memory.fill(row + (<usize>hi << 2), 0, <usize>(T - hi) << 2);
}

/**
 * dS = P * (dP - sum(P * dP)) * scale over row i's [lo, i], in place on dP. Entries outside that range are only
 * zeroed where the next products read them (up to 3 past either end, inside the 4-row tiles), not the whole row.
 */
function softmaxBackwardRow(drow: usize, prow: usize, i: i32, T: i32, window: i32, scale: f32): void {
  const lo = rowLo(i, window), hi = i + 1;
  let sv = f32x4.splat(0);
  let j = lo;
  for (; j + 4 <= hi; j += 4) {
    const o = <usize>j << 2;
    sv = f32x4.add(sv, f32x4.mul(v128.load(prow + o), v128.load(drow + o)));
  }
  let s = hsum(sv);
  for (; j < hi; j++) s += load<f32>(prow + (<usize>j << 2)) * load<f32>(drow + (<usize>j << 2));
  const ss = f32x4.splat(s), sc = f32x4.splat(scale);
  j = lo;
  for (; j + 4 <= hi; j += 4) {
    const o = <usize>j << 2;
    v128.store(drow + o, f32x4.mul(f32x4.mul(v128.load(prow + o), f32x4.sub(v128.load(drow + o), ss)), sc));
  }
  for (; j < hi; j++) {
    const o = <usize>j << 2;
    store<f32>(drow + o, load<f32>(prow + o) * (load<f32>(drow + o) - s) * scale);
  }
  const zlo = max(0, lo - 3);
  memory.fill(drow + (<usize>zlo << 2), 0, <usize>(lo - zlo) << 2);
  const zhi = min(T, hi + 3);
  memory.fill(drow + (<usize>hi << 2), 0, <usize>(zhi - hi) << 2);
}

/**
 * One head's forward, fused per 4-query tile while its rows are in L1: scores (Q K^T), softmax, then out = P V.
 * K^T and V are packed once per head into the two halves of the B scratch.
 */
function headForward(outb: usize, so: i32, attb: usize, qb: usize, kb: usize, vb: usize, S: i32, T: i32, HS: i32, window: i32, scale: f32): void {
  const pA = packA;
  const pK = packB;
  const pV = packB + (<usize>(((T + 7) & ~7) * HS) << 2);
  packBPanels(pK, kb, 1, S, 0, HS, 0, T); // (k=d, j=t2) = K[t2*S + d]
  packBPanels(pV, vb, S, 1, 0, T, 0, HS); // (k=t2, j=d) = V[t2*S + d]
  for (let i0 = 0; i0 < T; i0 += 4) {
    const rows = min(4, T - i0);
    packAPanels(pA, qb, S, 1, i0, rows, 0, HS);
    const jhi = i0 + rows;
    for (let j0 = rowLo(i0, window) & ~7; j0 < jhi; j0 += 8) {
      micro(pA, pK + (<usize>(j0 * HS) << 2), HS, attb + (<usize>(i0 * T + j0) << 2), T, rows, min(8, T - j0), 0, 0);
    }
    for (let i = i0; i < jhi; i++) softmaxRow(attb + (<usize>(i * T) << 2), i, T, window, scale);
    const klo = rowLo(i0, window);
    const kn = jhi - klo;
    packAPanels(pA, attb, T, 1, i0, rows, klo, kn);
    for (let jr = 0; jr < HS; jr += 8) {
      micro(pA, pV + (<usize>(jr * T + klo * 8) << 2), kn, outb + (<usize>(i0 * so + jr) << 2), so, rows, min(8, HS - jr), 0, 0);
    }
  }
}

export function attentionForward(out: usize, att: usize, qkv: usize, B: i32, T: i32, NH: i32, NKV: i32, HS: i32,
  window: i32, scale: f32, tid: i32, nth: i32): void {
  const S = (NH + 2 * NKV) * HS, C = NH * HS, rep = NH / NKV;
  for (let u = tid; u < B * NKV; u += nth) {
    const b = u / NKV, kh = u % NKV;
    const base = qkv + (<usize>(b * T * S) << 2);
    const kb = base + (<usize>((NH + kh) * HS) << 2);
    const vb = base + (<usize>((NH + NKV + kh) * HS) << 2);
    for (let r = 0; r < rep; r++) {
      const h = kh * rep + r;
      const attb = att + (<usize>((b * NH + h) * T) * <usize>T << 2);
      headForward(out + (<usize>(b * T * C + h * HS) << 2), C, attb, base + (<usize>(h * HS) << 2), kb, vb, S, T, HS, window, scale);
    }
  }
}

/**
 * The query side of one head's backward, fused per 4-query tile: dP = dO V^T, dS = softmax backward (into datt),
 * dQ += dS K. V^T and K are packed once per head into the two halves of the B scratch.
 */
function headBackwardQuery(dqb: usize, dattb: usize, attb: usize, dob: usize, so: i32, kb: usize, vb: usize, S: i32, T: i32, HS: i32, window: i32, scale: f32): void {
  const pA = packA;
  const pVt = packB;
  const pK = packB + (<usize>(((T + 7) & ~7) * HS) << 2);
  packBPanels(pVt, vb, 1, S, 0, HS, 0, T); // (k=d, j=t2) = V[t2*S + d]
  packBPanels(pK, kb, S, 1, 0, T, 0, HS); // (k=t2, j=d) = K[t2*S + d]
  for (let i0 = 0; i0 < T; i0 += 4) {
    const rows = min(4, T - i0);
    packAPanels(pA, dob, so, 1, i0, rows, 0, HS);
    const jhi = i0 + rows;
    for (let j0 = rowLo(i0, window) & ~7; j0 < jhi; j0 += 8) {
      micro(pA, pVt + (<usize>(j0 * HS) << 2), HS, dattb + (<usize>(i0 * T + j0) << 2), T, rows, min(8, T - j0), 0, 0);
    }
    for (let i = i0; i < jhi; i++) softmaxBackwardRow(dattb + (<usize>(i * T) << 2), attb + (<usize>(i * T) << 2), i, T, window, scale);
    const klo = rowLo(i0, window);
    const kn = jhi - klo;
    packAPanels(pA, dattb, T, 1, i0, rows, klo, kn);
    for (let jr = 0; jr < HS; jr += 8) {
      micro(pA, pK + (<usize>(jr * T + klo * 8) << 2), kn, dqb + (<usize>(i0 * S + jr) << 2), S, rows, min(8, HS - jr), 1, 0);
    }
  }
}

export function attentionBackward(dqkv: usize, datt: usize, dout: usize, qkv: usize, att: usize, B: i32, T: i32, NH: i32,
  NKV: i32, HS: i32, window: i32, scale: f32, tid: i32, nth: i32): void {
  const S = (NH + 2 * NKV) * HS, C = NH * HS, rep = NH / NKV;
  // one unit = one (batch, kv head) with all its query heads, so the dK/dV sums of a GQA group stay in one thread
  for (let u = tid; u < B * NKV; u += nth) {
    const b = u / NKV, kh = u % NKV;
    const base = qkv + (<usize>(b * T * S) << 2);
    const dbase = dqkv + (<usize>(b * T * S) << 2);
    const kOff = <usize>((NH + kh) * HS) << 2, vOff = <usize>((NH + NKV + kh) * HS) << 2;
    for (let r = 0; r < rep; r++) {
      const h = kh * rep + r;
      const hOff = <usize>(h * HS) << 2;
      const tt = <usize>((b * NH + h) * T) * <usize>T << 2;
      const attb = att + tt, dattb = datt + tt;
      const dob = dout + (<usize>(b * T * C) << 2) + hOff;
      headBackwardQuery(dbase + hOff, dattb, attb, dob, C, base + kOff, base + vOff, S, T, HS, window, scale);
      probsTransposedTimes(dbase + kOff, S, dattb, base + hOff, S, T, HS, window); // dK += dS^T Q
      probsTransposedTimes(dbase + vOff, S, attb, dob, C, T, HS, window); // dV += P^T dO
    }
  }
}

/** One query (row t of a sequence's packed qkv) against keys max(0,t-window+1)..t, parallel over heads. */
export function attentionDecode(out: usize, att: usize, qkv: usize, t: i32, NH: i32, NKV: i32, HS: i32, window: i32,
  scale: f32, tid: i32, nth: i32): void {
  const S = (NH + 2 * NKV) * HS, rep = NH / NKV, T = t + 1;
  const lo = rowLo(t, window);
  for (let h = tid; h < NH; h += nth) {
    const kh = h / rep;
    const q = qkv + (<usize>(t * S + h * HS) << 2);
    const arow = att + (<usize>(h * T) << 2);
    let m: f32 = -Infinity;
    for (let j = lo; j < T; j++) {
      const k = qkv + (<usize>(j * S + (NH + kh) * HS) << 2);
      let acc = f32x4.splat(0);
      let d = 0;
      for (; d + 4 <= HS; d += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(q + (<usize>d << 2)), v128.load(k + (<usize>d << 2))));
      let s = hsum(acc);
      for (; d < HS; d++) s += load<f32>(q + (<usize>d << 2)) * load<f32>(k + (<usize>d << 2));
      s *= scale;
      store<f32>(arow + (<usize>j << 2), s);
      m = max(m, s);
    }
    let sum: f32 = 0;
    for (let j = lo; j < T; j++) {
      const e = exp1(load<f32>(arow + (<usize>j << 2)) - m);
      store<f32>(arow + (<usize>j << 2), e);
      sum += e;
    }
    const inv: f32 = 1.0 / sum;
    memory.fill(arow, 0, <usize>lo << 2);
    const o = out + (<usize>(h * HS) << 2);
    memory.fill(o, 0, <usize>HS << 2);
    for (let j = lo; j < T; j++) {
      const p = load<f32>(arow + (<usize>j << 2)) * inv;
      store<f32>(arow + (<usize>j << 2), p);
      const v = qkv + (<usize>(j * S + (NH + NKV + kh) * HS) << 2);
      const pv = f32x4.splat(p);
      let d = 0;
      for (; d + 4 <= HS; d += 4) v128.store(o + (<usize>d << 2), f32x4.add(v128.load(o + (<usize>d << 2)), f32x4.mul(pv, v128.load(v + (<usize>d << 2)))));
      for (; d < HS; d++) store<f32>(o + (<usize>d << 2), load<f32>(o + (<usize>d << 2)) + p * load<f32>(v + (<usize>d << 2)));
    }
  }
}
