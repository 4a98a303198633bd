// WebAssembly kernel entry points (llm.c style). Pointers are byte offsets into the imported shared memory; every
// kernel takes (tid, nth) last and does thread tid's share of the work, so one call per thread runs it in parallel.
import { fma, exp4, hsum, chunkStart } from './simd';
import { gemm, setScratch, SCRATCH_BYTES, PACKA_FLOATS, PACKB_FLOATS } from './gemm';
import { attentionForward, attentionBackward, attentionDecode } from './attention';

/** First free byte after this module's static data (the JS allocator starts here). */
export function heap_base(): usize {
  return __heap_base;
}

/** Bytes of scratch each thread needs. */
export function scratch_bytes(): i32 {
  return SCRATCH_BYTES;
}

/** Floats of the A and B packing areas in each thread's scratch (the attention kernels' size limits). */
export function pack_a_floats(): i32 {
  return PACKA_FLOATS;
}

export function pack_b_floats(): i32 {
  return PACKB_FLOATS;
}

/** Points this instance (one per thread) at its own scratch region. */
export function set_scratch(base: usize): void {
  setScratch(base);
}

/** Theoretical-peak probe: n iterations of 8 independent f32x4 FMAs (64 FLOPs each) on registers. */
export function peak_fma(n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  const x = f32x4.splat(0.999), y = f32x4.splat(0.001);
  for (let i = 0; i < n; i++) {
    a0 = fma(a0, x, y); a1 = fma(a1, x, y); a2 = fma(a2, x, y); a3 = fma(a3, x, y);
    a4 = fma(a4, x, y); a5 = fma(a5, x, y); a6 = fma(a6, x, y); a7 = fma(a7, x, y);
  }
  return hsum(f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7))));
}

// ---------------------------------------------------------------------------------------------------------------
// matmul: weight (OC, C) as nn.Linear; the transposes live in the gemm's strides.

export function matmul_forward(out: usize, inp: usize, weight: usize, bias: usize, N: i32, C: i32, OC: i32, tid: i32, nth: i32): void {
  // out (N,OC) = inp (N,C) @ W^T: B(k=c, j=oc) = W[oc*C + c]
  gemm(out, OC, inp, C, 1, weight, 1, C, bias, N, OC, C, 0, tid, nth);
}

/**
 * out (N,OC) = inp (N,C) @ W^T for a few rows (decode): dot products along W's contiguous rows, no packing (packing
 * would copy the whole weight once per token). Threads split the output channels.
 */
export function matmul_forward_rows(out: usize, inp: usize, weight: usize, bias: usize, N: i32, C: i32, OC: i32, tid: i32, nth: i32): void {
  const o0 = chunkStart(OC, tid, nth, 4), o1 = chunkStart(OC, tid + 1, nth, 4);
  for (let o = o0; o < o1; o++) {
    const w = weight + (<usize>o * <usize>C << 2);
    const b: f32 = bias != 0 ? load<f32>(bias + (<usize>o << 2)) : 0;
    for (let n = 0; n < N; n++) {
      const x = inp + (<usize>n * <usize>C << 2);
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
      let c = 0;
      for (; c + 8 <= C; c += 8) {
        const q = <usize>c << 2;
        a0 = fma(v128.load(x + q), v128.load(w + q), a0);
        a1 = fma(v128.load(x + q, 16), v128.load(w + q, 16), a1);
      }
      let acc = hsum(f32x4.add(a0, a1));
      for (; c < C; c++) acc += load<f32>(x + (<usize>c << 2)) * load<f32>(w + (<usize>c << 2));
      store<f32>(out + ((<usize>n * <usize>OC + <usize>o) << 2), acc + b);
    }
  }
}

export function matmul_backward_inp(dinp: usize, dout: usize, weight: usize, N: i32, C: i32, OC: i32, tid: i32, nth: i32): void {
  // dinp (N,C) += dout (N,OC) @ W (OC,C)
  gemm(dinp, C, dout, OC, 1, weight, C, 1, 0, N, C, OC, 1, tid, nth);
}

export function matmul_backward_weight(dweight: usize, dout: usize, inp: usize, N: i32, C: i32, OC: i32, tid: i32, nth: i32): void {
  // dW (OC,C) += dout^T (OC,N) @ inp (N,C): A(i=oc, k=n) = dout[n*OC + oc]
  gemm(dweight, C, dout, 1, OC, inp, C, 1, 0, OC, C, N, 1, tid, nth);
}

/** dbias (OC) += column sums of dout (N,OC); threads split the columns. */
export function bias_backward(dbias: usize, dout: usize, N: i32, OC: i32, tid: i32, nth: i32): void {
  const c0 = chunkStart(OC, tid, nth, 4), c1 = chunkStart(OC, tid + 1, nth, 4);
  let c = c0;
  for (; c + 4 <= c1; c += 4) {
    let acc = f32x4.splat(0);
    for (let n = 0; n < N; n++) acc = f32x4.add(acc, v128.load(dout + (<usize>(n * OC + c) << 2)));
    const p = dbias + (<usize>c << 2);
    v128.store(p, f32x4.add(v128.load(p), acc));
  }
  for (; c < c1; c++) {
    let acc: f32 = 0;
    for (let n = 0; n < N; n++) acc += load<f32>(dout + (<usize>(n * OC + c) << 2));
    const p = dbias + (<usize>c << 2);
    store<f32>(p, load<f32>(p) + acc);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// attention

export function attention_forward(out: usize, att: usize, qkv: usize, B: i32, T: i32, NH: i32, NKV: i32, HS: i32, window: i32, scale: f32, tid: i32, nth: i32): void {
  attentionForward(out, att, qkv, B, T, NH, NKV, HS, window, scale, tid, nth);
}

export function attention_backward(dqkv: usize, datt: usize, dout: usize, qkv: usize, att: usize, B: i32, T: i32, NH: i32, NKV: i32, HS: i32, window: i32, scale: f32, tid: i32, nth: i32): void {
  attentionBackward(dqkv, datt, dout, qkv, att, B, T, NH, NKV, HS, window, scale, tid, nth);
}

export function attention_decode_forward(out: usize, att: usize, qkv: usize, t: i32, NH: i32, NKV: i32, HS: i32, window: i32, scale: f32, tid: i32, nth: i32): void {
  attentionDecode(out, att, qkv, t, NH, NKV, HS, window, scale, tid, nth);
}

// ---------------------------------------------------------------------------------------------------------------
// encoder

export function encoder_forward(out: usize, inp: usize, wte: usize, wpe: usize, B: i32, T: i32, C: i32, pos0: i32, tid: i32, nth: i32): void {
  const N = B * T;
  const r0 = chunkStart(N, tid, nth, 1), r1 = chunkStart(N, tid + 1, nth, 1);
  for (let n = r0; n < r1; n++) {
    const t = n % T;
    const o = out + (<usize>(n * C) << 2);
    const e = wte + (<usize>(load<i32>(inp + (<usize>n << 2)) * C) << 2);
    const p = wpe + (<usize>((pos0 + t) * C) << 2);
    let c = 0;
    if (wpe != 0) {
      for (; c + 4 <= C; c += 4) v128.store(o + (<usize>c << 2), f32x4.add(v128.load(e + (<usize>c << 2)), v128.load(p + (<usize>c << 2))));
      for (; c < C; c++) store<f32>(o + (<usize>c << 2), load<f32>(e + (<usize>c << 2)) + load<f32>(p + (<usize>c << 2)));
    } else {
      memory.copy(o, e, <usize>C << 2);
    }
  }
}

/** Threads split the channels, so rows sharing a token never race. */
export function encoder_backward(dwte: usize, dwpe: usize, dout: usize, inp: usize, B: i32, T: i32, C: i32, tid: i32, nth: i32): void {
  const c0 = chunkStart(C, tid, nth, 4), c1 = chunkStart(C, tid + 1, nth, 4);
  for (let n = 0; n < B * T; n++) {
    const t = n % T;
    const d = dout + (<usize>(n * C) << 2);
    const e = dwte + (<usize>(load<i32>(inp + (<usize>n << 2)) * C) << 2);
    const p = dwpe + (<usize>(t * C) << 2);
    let c = c0;
    for (; c + 4 <= c1; c += 4) {
      const o = <usize>c << 2;
      const g = v128.load(d + o);
      v128.store(e + o, f32x4.add(v128.load(e + o), g));
      if (dwpe != 0) v128.store(p + o, f32x4.add(v128.load(p + o), g));
    }
    for (; c < c1; c++) {
      const o = <usize>c << 2;
      const g = load<f32>(d + o);
      store<f32>(e + o, load<f32>(e + o) + g);
      if (dwpe != 0) store<f32>(p + o, load<f32>(p + o) + g);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// layernorm / rmsnorm: rows in parallel; the weight/bias grads are split by channel (no cross-thread sums).

export function layernorm_forward(out: usize, mean: usize, rstd: usize, inp: usize, weight: usize, bias: usize, N: i32, C: i32, eps: f32, tid: i32, nth: i32): void {
  const r0 = chunkStart(N, tid, nth, 1), r1 = chunkStart(N, tid + 1, nth, 1);
  const invC: f32 = 1.0 / <f32>C;
  for (let n = r0; n < r1; n++) {
    const x = inp + (<usize>(n * C) << 2);
    const o = out + (<usize>(n * C) << 2);
    let sv = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) sv = f32x4.add(sv, v128.load(x + (<usize>c << 2)));
    let s = hsum(sv);
    for (; c < C; c++) s += load<f32>(x + (<usize>c << 2));
    const m = s * invC;
    const mv = f32x4.splat(m);
    let qv = f32x4.splat(0);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const d = f32x4.sub(v128.load(x + (<usize>c << 2)), mv);
      qv = fma(d, d, qv);
    }
    let q = hsum(qv);
    for (; c < C; c++) {
      const d = load<f32>(x + (<usize>c << 2)) - m;
      q += d * d;
    }
    const r: f32 = 1.0 / Mathf.sqrt(q * invC + eps);
    const rv = f32x4.splat(r);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const o4 = <usize>c << 2;
      const nrm = f32x4.mul(f32x4.sub(v128.load(x + o4), mv), rv);
      v128.store(o + o4, fma(nrm, v128.load(weight + o4), v128.load(bias + o4)));
    }
    for (; c < C; c++) {
      const o4 = <usize>c << 2;
      store<f32>(o + o4, (load<f32>(x + o4) - m) * r * load<f32>(weight + o4) + load<f32>(bias + o4));
    }
    store<f32>(mean + (<usize>n << 2), m);
    store<f32>(rstd + (<usize>n << 2), r);
  }
}

export function layernorm_backward(dinp: usize, dweight: usize, dbias: usize, dout: usize, inp: usize, weight: usize, mean: usize, rstd: usize, N: i32, C: i32, tid: i32, nth: i32): void {
  const r0 = chunkStart(N, tid, nth, 1), r1 = chunkStart(N, tid + 1, nth, 1);
  const invC: f32 = 1.0 / <f32>C;
  for (let n = r0; n < r1; n++) {
    const x = inp + (<usize>(n * C) << 2), g = dout + (<usize>(n * C) << 2), di = dinp + (<usize>(n * C) << 2);
    const m = load<f32>(mean + (<usize>n << 2)), r = load<f32>(rstd + (<usize>n << 2));
    const mv = f32x4.splat(m), rv = f32x4.splat(r);
    let a = f32x4.splat(0), bb = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const nrm = f32x4.mul(f32x4.sub(v128.load(x + o), mv), rv);
      const dn = f32x4.mul(v128.load(weight + o), v128.load(g + o));
      a = f32x4.add(a, dn);
      bb = fma(dn, nrm, bb);
    }
    let dnMean = hsum(a), dnNormMean = hsum(bb);
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const nrm = (load<f32>(x + o) - m) * r;
      const dn = load<f32>(weight + o) * load<f32>(g + o);
      dnMean += dn;
      dnNormMean += dn * nrm;
    }
    dnMean *= invC;
    dnNormMean *= invC;
    const dm = f32x4.splat(dnMean), dnm = f32x4.splat(dnNormMean);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const nrm = f32x4.mul(f32x4.sub(v128.load(x + o), mv), rv);
      const dn = f32x4.mul(v128.load(weight + o), v128.load(g + o));
      const v = f32x4.mul(f32x4.sub(f32x4.sub(dn, dm), f32x4.mul(nrm, dnm)), rv);
      v128.store(di + o, f32x4.add(v128.load(di + o), v));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const nrm = (load<f32>(x + o) - m) * r;
      const dn = load<f32>(weight + o) * load<f32>(g + o);
      store<f32>(di + o, load<f32>(di + o) + (dn - dnMean - nrm * dnNormMean) * r);
    }
  }
  // parameter grads: this thread's channels over all rows
  const c0 = chunkStart(C, tid, nth, 4), c1 = chunkStart(C, tid + 1, nth, 4);
  for (let n = 0; n < N; n++) {
    const x = inp + (<usize>(n * C) << 2), g = dout + (<usize>(n * C) << 2);
    const m = load<f32>(mean + (<usize>n << 2)), r = load<f32>(rstd + (<usize>n << 2));
    const mv = f32x4.splat(m), rv = f32x4.splat(r);
    let c = c0;
    for (; c + 4 <= c1; c += 4) {
      const o = <usize>c << 2;
      const gv = v128.load(g + o);
      const nrm = f32x4.mul(f32x4.sub(v128.load(x + o), mv), rv);
      v128.store(dbias + o, f32x4.add(v128.load(dbias + o), gv));
      v128.store(dweight + o, fma(nrm, gv, v128.load(dweight + o)));
    }
    for (; c < c1; c++) {
      const o = <usize>c << 2;
      const gv = load<f32>(g + o);
      store<f32>(dbias + o, load<f32>(dbias + o) + gv);
      store<f32>(dweight + o, load<f32>(dweight + o) + (load<f32>(x + o) - m) * r * gv);
    }
  }
}

export function rmsnorm_forward(out: usize, rstd: usize, inp: usize, weight: usize, N: i32, C: i32, eps: f32, tid: i32, nth: i32): void {
  const r0 = chunkStart(N, tid, nth, 1), r1 = chunkStart(N, tid + 1, nth, 1);
  for (let n = r0; n < r1; n++) {
    const x = inp + (<usize>(n * C) << 2), o = out + (<usize>(n * C) << 2);
    let qv = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) { const v = v128.load(x + (<usize>c << 2)); qv = fma(v, v, qv); }
    let q = hsum(qv);
    for (; c < C; c++) { const v = load<f32>(x + (<usize>c << 2)); q += v * v; }
    const r: f32 = 1.0 / Mathf.sqrt(q / <f32>C + eps);
    const rv = f32x4.splat(r);
    c = 0;
    for (; c + 4 <= C; c += 4) { const p = <usize>c << 2; v128.store(o + p, f32x4.mul(f32x4.mul(v128.load(x + p), rv), v128.load(weight + p))); }
    for (; c < C; c++) { const p = <usize>c << 2; store<f32>(o + p, load<f32>(x + p) * r * load<f32>(weight + p)); }
    store<f32>(rstd + (<usize>n << 2), r);
  }
}

export function rmsnorm_backward(dinp: usize, dweight: usize, dout: usize, inp: usize, weight: usize, rstd: usize, N: i32, C: i32, tid: i32, nth: i32): void {
  const r0 = chunkStart(N, tid, nth, 1), r1 = chunkStart(N, tid + 1, nth, 1);
  for (let n = r0; n < r1; n++) {
    const x = inp + (<usize>(n * C) << 2), g = dout + (<usize>(n * C) << 2), di = dinp + (<usize>(n * C) << 2);
    const r = load<f32>(rstd + (<usize>n << 2));
    let sv = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) { const p = <usize>c << 2; sv = fma(f32x4.mul(v128.load(g + p), v128.load(weight + p)), v128.load(x + p), sv); }
    let s = hsum(sv);
    for (; c < C; c++) { const p = <usize>c << 2; s += load<f32>(g + p) * load<f32>(weight + p) * load<f32>(x + p); }
    const k = s * r * r * r / <f32>C;
    const rv = f32x4.splat(r), kv = f32x4.splat(k);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const p = <usize>c << 2;
      const v = f32x4.sub(f32x4.mul(f32x4.mul(v128.load(g + p), v128.load(weight + p)), rv), f32x4.mul(v128.load(x + p), kv));
      v128.store(di + p, f32x4.add(v128.load(di + p), v));
    }
    for (; c < C; c++) { const p = <usize>c << 2; store<f32>(di + p, load<f32>(di + p) + load<f32>(g + p) * load<f32>(weight + p) * r - load<f32>(x + p) * k); }
  }
  const c0 = chunkStart(C, tid, nth, 4), c1 = chunkStart(C, tid + 1, nth, 4);
  for (let n = 0; n < N; n++) {
    const x = inp + (<usize>(n * C) << 2), g = dout + (<usize>(n * C) << 2);
    const rv = f32x4.splat(load<f32>(rstd + (<usize>n << 2)));
    let c = c0;
    for (; c + 4 <= c1; c += 4) { const p = <usize>c << 2; v128.store(dweight + p, fma(f32x4.mul(v128.load(x + p), rv), v128.load(g + p), v128.load(dweight + p))); }
    for (; c < c1; c++) { const p = <usize>c << 2; store<f32>(dweight + p, load<f32>(dweight + p) + load<f32>(x + p) * f32x4.extract_lane(rv, 0) * load<f32>(g + p)); }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// pointwise: contiguous chunks of 4-aligned elements per thread

const GELU_K: f32 = 0.7978845608028654; // sqrt(2/pi)
const GELU_C: f32 = 0.044715;

/** gelu_new as x * sigmoid(2u) (= 0.5x(1 + tanh u)), u = sqrt(2/pi)(x + 0.044715x^3): no cancellation in either tail. */
// @ts-ignore: decorator
@inline function gelu4(x: v128): v128 {
  const u = f32x4.mul(f32x4.splat(GELU_K), fma(f32x4.mul(f32x4.splat(GELU_C), x), f32x4.mul(x, x), x));
  return f32x4.div(x, f32x4.add(f32x4.splat(1.0), exp4(f32x4.mul(f32x4.splat(-2.0), u))));
}

export function gelu_forward(out: usize, inp: usize, N: i32, tid: i32, nth: i32): void {
  const i0 = chunkStart(N, tid, nth, 4), i1 = chunkStart(N, tid + 1, nth, 4);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const p = <usize>i << 2;
    const x = v128.load(inp + p);
    v128.store(out + p, gelu4(x));
  }
  for (; i < i1; i++) {
    const p = <usize>i << 2;
    store<f32>(out + p, f32x4.extract_lane(gelu4(f32x4.splat(load<f32>(inp + p))), 0));
  }
}

// @ts-ignore: decorator
@inline function geluGrad(x: v128): v128 {
  const k = f32x4.splat(GELU_K), cc = f32x4.splat(GELU_C), half = f32x4.splat(0.5), one = f32x4.splat(1.0);
  const x2 = f32x4.mul(x, x);
  const u = f32x4.mul(k, fma(f32x4.mul(cc, x), x2, x));
  // tanh and sech^2 from one exp: 1 - tanh^2 computed as 4e/(e+1)^2, not by cancellation (accurate in the tails)
  const e = exp4(f32x4.add(u, u));
  const r = f32x4.div(one, f32x4.add(e, one));
  const th = f32x4.sub(one, f32x4.add(r, r));
  const sech2 = f32x4.mul(f32x4.mul(f32x4.splat(4.0), e), f32x4.mul(r, r));
  const du = f32x4.mul(k, fma(f32x4.splat(3.0 * GELU_C), x2, one));
  return fma(f32x4.mul(f32x4.mul(half, x), sech2), du, f32x4.mul(half, f32x4.add(one, th)));
}

export function gelu_backward(dinp: usize, inp: usize, dout: usize, N: i32, tid: i32, nth: i32): void {
  const i0 = chunkStart(N, tid, nth, 4), i1 = chunkStart(N, tid + 1, nth, 4);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const p = <usize>i << 2;
    v128.store(dinp + p, fma(geluGrad(v128.load(inp + p)), v128.load(dout + p), v128.load(dinp + p)));
  }
  for (; i < i1; i++) {
    const p = <usize>i << 2;
    store<f32>(dinp + p, load<f32>(dinp + p) + f32x4.extract_lane(geluGrad(f32x4.splat(load<f32>(inp + p))), 0) * load<f32>(dout + p));
  }
}

// @ts-ignore: decorator
@inline function sigmoid4(x: v128): v128 {
  return f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), exp4(f32x4.neg(x))));
}

export function swiglu_forward(out: usize, inp: usize, N: i32, H: i32, tid: i32, nth: i32): void {
  const r0 = chunkStart(N, tid, nth, 1), r1 = chunkStart(N, tid + 1, nth, 1);
  for (let n = r0; n < r1; n++) {
    const g = inp + (<usize>(n * 2 * H) << 2), u = g + (<usize>H << 2), o = out + (<usize>(n * H) << 2);
    let h = 0;
    for (; h + 4 <= H; h += 4) {
      const p = <usize>h << 2;
      const gv = v128.load(g + p);
      v128.store(o + p, f32x4.mul(f32x4.mul(gv, sigmoid4(gv)), v128.load(u + p)));
    }
    for (; h < H; h++) {
      const p = <usize>h << 2;
      const gv = f32x4.splat(load<f32>(g + p));
      store<f32>(o + p, f32x4.extract_lane(f32x4.mul(gv, sigmoid4(gv)), 0) * load<f32>(u + p));
    }
  }
}

export function swiglu_backward(dinp: usize, inp: usize, dout: usize, N: i32, H: i32, tid: i32, nth: i32): void {
  const r0 = chunkStart(N, tid, nth, 1), r1 = chunkStart(N, tid + 1, nth, 1);
  const one = f32x4.splat(1.0);
  for (let n = r0; n < r1; n++) {
    const g = inp + (<usize>(n * 2 * H) << 2), u = g + (<usize>H << 2), d = dout + (<usize>(n * H) << 2);
    const dg = dinp + (<usize>(n * 2 * H) << 2), du = dg + (<usize>H << 2);
    for (let h = 0; h < H; h += 4) {
      const p = <usize>h << 2;
      const lanes = min(4, H - h);
      let gv: v128, uv: v128, dv: v128;
      if (lanes == 4) { gv = v128.load(g + p); uv = v128.load(u + p); dv = v128.load(d + p); }
      else { gv = f32x4.splat(load<f32>(g + p)); uv = f32x4.splat(load<f32>(u + p)); dv = f32x4.splat(load<f32>(d + p)); }
      const s = sigmoid4(gv);
      const silu = f32x4.mul(gv, s);
      const dsilu = f32x4.mul(s, fma(gv, f32x4.sub(one, s), one));
      const ddg = f32x4.mul(f32x4.mul(dv, uv), dsilu);
      const ddu = f32x4.mul(dv, silu);
      if (lanes == 4) {
        v128.store(dg + p, f32x4.add(v128.load(dg + p), ddg));
        v128.store(du + p, f32x4.add(v128.load(du + p), ddu));
      } else {
        // scalar tail: one element per iteration
        store<f32>(dg + p, load<f32>(dg + p) + f32x4.extract_lane(ddg, 0));
        store<f32>(du + p, load<f32>(du + p) + f32x4.extract_lane(ddu, 0));
        h -= 3;
      }
    }
  }
}

export function residual_forward(out: usize, inp1: usize, inp2: usize, N: i32, tid: i32, nth: i32): void {
  const i0 = chunkStart(N, tid, nth, 4), i1 = chunkStart(N, tid + 1, nth, 4);
  let i = i0;
  for (; i + 4 <= i1; i += 4) { const p = <usize>i << 2; v128.store(out + p, f32x4.add(v128.load(inp1 + p), v128.load(inp2 + p))); }
  for (; i < i1; i++) { const p = <usize>i << 2; store<f32>(out + p, load<f32>(inp1 + p) + load<f32>(inp2 + p)); }
}

export function residual_backward(dinp1: usize, dinp2: usize, dout: usize, N: i32, tid: i32, nth: i32): void {
  const i0 = chunkStart(N, tid, nth, 4), i1 = chunkStart(N, tid + 1, nth, 4);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const p = <usize>i << 2;
    const g = v128.load(dout + p);
    v128.store(dinp1 + p, f32x4.add(v128.load(dinp1 + p), g));
    v128.store(dinp2 + p, f32x4.add(v128.load(dinp2 + p), g));
  }
  for (; i < i1; i++) {
    const p = <usize>i << 2;
    const g = load<f32>(dout + p);
    store<f32>(dinp1 + p, load<f32>(dinp1 + p) + g);
    store<f32>(dinp2 + p, load<f32>(dinp2 + p) + g);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// softmax + cross-entropy over V, rows in parallel

export function crossentropy_softmax_forward(losses: usize, probs: usize, logits: usize, targets: usize, N: i32, V: i32, tid: i32, nth: i32): void {
  const r0 = chunkStart(N, tid, nth, 1), r1 = chunkStart(N, tid + 1, nth, 1);
  for (let n = r0; n < r1; n++) {
    const l = logits + (<usize>n * <usize>V << 2), p = probs + (<usize>n * <usize>V << 2);
    const tgt = load<i32>(targets + (<usize>n << 2));
    let mv = f32x4.splat(-Infinity);
    let j = 0;
    for (; j + 4 <= V; j += 4) mv = f32x4.pmax(mv, v128.load(l + (<usize>j << 2)));
    let m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (; j < V; j++) m = max(m, load<f32>(l + (<usize>j << 2)));
    const lt: f32 = tgt >= 0 ? load<f32>(l + (<usize>tgt << 2)) : 0;
    const ms = f32x4.splat(m);
    let sv = f32x4.splat(0);
    j = 0;
    for (; j + 4 <= V; j += 4) {
      const o = <usize>j << 2;
      const e = exp4(f32x4.sub(v128.load(l + o), ms));
      v128.store(p + o, e);
      sv = f32x4.add(sv, e);
    }
    let s = hsum(sv);
    for (; j < V; j++) {
      const o = <usize>j << 2;
      const e = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(l + o) - m)), 0);
      store<f32>(p + o, e);
      s += e;
    }
    const inv = f32x4.splat(<f32>1.0 / s);
    j = 0;
    for (; j + 4 <= V; j += 4) { const o = <usize>j << 2; v128.store(p + o, f32x4.mul(v128.load(p + o), inv)); }
    for (; j < V; j++) { const o = <usize>j << 2; store<f32>(p + o, load<f32>(p + o) * f32x4.extract_lane(inv, 0)); }
    store<f32>(losses + (<usize>n << 2), tgt >= 0 ? <f32>(Math.log(<f64>s) - <f64>(lt - m)) : 0);
  }
}

export function crossentropy_softmax_backward(dlogits: usize, probs: usize, targets: usize, dloss: f32, N: i32, V: i32, tid: i32, nth: i32): void {
  const r0 = chunkStart(N, tid, nth, 1), r1 = chunkStart(N, tid + 1, nth, 1);
  const dl = f32x4.splat(dloss);
  for (let n = r0; n < r1; n++) {
    const d = dlogits + (<usize>n * <usize>V << 2), p = probs + (<usize>n * <usize>V << 2);
    const tgt = load<i32>(targets + (<usize>n << 2));
    if (tgt < 0) {
      memory.fill(d, 0, <usize>V << 2);
      continue;
    }
    let j = 0;
    for (; j + 4 <= V; j += 4) { const o = <usize>j << 2; v128.store(d + o, f32x4.mul(v128.load(p + o), dl)); }
    for (; j < V; j++) { const o = <usize>j << 2; store<f32>(d + o, load<f32>(p + o) * dloss); }
    const o = <usize>tgt << 2;
    store<f32>(d + o, load<f32>(d + o) - dloss);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// optimizer helpers

/** AdamW (PyTorch): p = p*decay - lrc * m / (sqrt(v)*rsbc2 + eps), decay = 1-lr*wd, lrc = lr/(1-b1^t), rsbc2 = 1/sqrt(1-b2^t). */
export function adamw_update(params: usize, grads: usize, m: usize, v: usize, n: i32, lrc: f32, beta1: f32, beta2: f32, eps: f32, decay: f32, rsbc2: f32, tid: i32, nth: i32): void {
  const i0 = chunkStart(n, tid, nth, 4), i1 = chunkStart(n, tid + 1, nth, 4);
  const b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2), ob1 = f32x4.splat(1 - beta1), ob2 = f32x4.splat(1 - beta2);
  const lr = f32x4.splat(lrc), ep = f32x4.splat(eps), dc = f32x4.splat(decay), rs = f32x4.splat(rsbc2);
  for (let i = i0; i < i1; i += 4) {
    const lanes = min(4, i1 - i);
    const o = <usize>i << 2;
    if (lanes == 4) {
      const g = v128.load(grads + o);
      const mi = fma(b1, v128.load(m + o), f32x4.mul(ob1, g));
      const vi = fma(b2, v128.load(v + o), f32x4.mul(ob2, f32x4.mul(g, g)));
      v128.store(m + o, mi);
      v128.store(v + o, vi);
      const den = fma(f32x4.sqrt(vi), rs, ep);
      v128.store(params + o, f32x4.sub(f32x4.mul(v128.load(params + o), dc), f32x4.div(f32x4.mul(lr, mi), den)));
    } else {
      for (let k = 0; k < lanes; k++) {
        const q = o + (<usize>k << 2);
        const g = load<f32>(grads + q);
        const mi = beta1 * load<f32>(m + q) + (1 - beta1) * g;
        const vi = beta2 * load<f32>(v + q) + (1 - beta2) * g * g;
        store<f32>(m + q, mi);
        store<f32>(v + q, vi);
        store<f32>(params + q, load<f32>(params + q) * decay - lrc * mi / (Mathf.sqrt(vi) * rsbc2 + eps));
      }
    }
  }
}

/** Writes thread tid's partial sum of squares (float64) to out[tid]. */
export function sumsq(out: usize, x: usize, n: i32, tid: i32, nth: i32): void {
  const i0 = chunkStart(n, tid, nth, 4), i1 = chunkStart(n, tid + 1, nth, 4);
  let a = f64x2.splat(0), b = f64x2.splat(0);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const sq = f32x4.mul(v, v);
    a = f64x2.add(a, f64x2.promote_low_f32x4(sq));
    b = f64x2.add(b, f64x2.promote_low_f32x4(v128.shuffle<f32>(sq, sq, 2, 3, 0, 1)));
  }
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1) + f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1);
  for (; i < i1; i++) { const v = <f64>load<f32>(x + (<usize>i << 2)); s += v * v; }
  store<f64>(out + (<usize>tid << 3), s);
}

export function scale(x: usize, n: i32, s: f32, tid: i32, nth: i32): void {
  const i0 = chunkStart(n, tid, nth, 4), i1 = chunkStart(n, tid + 1, nth, 4);
  const sv = f32x4.splat(s);
  let i = i0;
  for (; i + 4 <= i1; i += 4) { const p = <usize>i << 2; v128.store(x + p, f32x4.mul(v128.load(x + p), sv)); }
  for (; i < i1; i++) { const p = <usize>i << 2; store<f32>(x + p, load<f32>(x + p) * s); }
}
