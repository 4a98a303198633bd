// WGSL sources of the WebGPU kernels, one entry per compute pass, in the order of backend.ts's contract.
//
// A kernel body names its storage arrays by the argument names of its definition (`out[i]`, `inp[n * P.C + c]`);
// program.ts binds each distinct GPUBuffer once and rewrites `name[expr]` into `bK[P.o_name + (expr)]`, so views
// that share a buffer (a model's activations, probs aliasing logits) work without aliasing-rule violations.
// Scalars come from the uniform `P`; compile-time constants (HS_MAX, KT, HAS_<arg>) are emitted per pipeline.
// Inside main: `lid` (local index), `wid` (workgroup id), `WGI` (linear workgroup index), `GI` = WGI * WG + lid.
// Numerics: f32 everywhere (the reference accumulates in f64; conformance tolerances cover the difference).

/** One compute kernel: storage arguments (type and whether it writes), uniform scalars, workgroup size, WGSL. */
export interface KernelDef {
  name: string;
  wg: number;
  args: ReadonlyArray<readonly [name: string, type: 'f32' | 'i32', access: 'r' | 'w']>;
  params: ReadonlyArray<readonly [name: string, type: 'u32' | 'f32']>;
  /** Module-scope declarations (workgroup memory, helpers). */
  extra?: string;
  body: string;
}

export const REDUCE = /* wgsl */ `
var<workgroup> red: array<f32, WG>;
fn wg_sum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
fn wg_max(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}`;

const FIRST_KEY = /* wgsl */ `
// first key visible to query t: keys j with t - window < j <= t (window 0 = global)
fn first_key(t: u32, window: u32) -> u32 {
  if (window > 0u && t + 1u > window) { return t + 1u - window; }
  return 0u;
}`;

// GELU's tanh terms from e = exp(2u): 0.5 (1 + tanh u) = e / (e + 1) and 1 - tanh^2 u = 4e / (e + 1)^2. Written
// this way (not 1 + tanh) they keep full relative precision where tanh is near -1, which the reference's float64
// tanh does and f32 cancellation did not (gelu_backward was 1.4e-6 off on a conformance input).
const TANH = /* wgsl */ `
fn gelu_terms(u: f32) -> vec2<f32> {
  let e = exp(2.0 * clamp(u, -15.0, 15.0));
  let d = e + 1.0;
  return vec2<f32>(e / d, 4.0 * e / (d * d));
}`;

/** Largest head size the attention kernels take (private arrays are sized by it; HS itself is a uniform). */
export const HS_MAX = 128;
/**
 * Rows per tile of the attention kernels (keys of the forward and dq, queries of dk/dv): two tiles of KT x HS_MAX
 * floats fill 16 KiB, the workgroup memory every WebGPU adapter offers.
 */
export const KEY_TILE = 16;

const ATT_DIMS = [['B', 'u32'], ['T', 'u32'], ['NH', 'u32'], ['NKV', 'u32'], ['HS', 'u32'], ['window', 'u32'], ['scale', 'f32']] as const;
const DECODE_DIMS = [['t', 'u32'], ['NH', 'u32'], ['NKV', 'u32'], ['HS', 'u32'], ['window', 'u32'], ['scale', 'f32']] as const;

export const KERNELS = {
  fill: {
    name: 'fill', wg: 256, args: [['out', 'f32', 'w']], params: [['n', 'u32'], ['value', 'f32']],
    body: `if (GI < P.n) { out[GI] = P.value; }`,
  },
  encoder_forward: {
    name: 'encoder_forward', wg: 256,
    args: [['out', 'f32', 'w'], ['inp', 'i32', 'r'], ['wte', 'f32', 'r'], ['wpe', 'f32', 'r']],
    params: [['N', 'u32'], ['C', 'u32'], ['T', 'u32'], ['pos0', 'u32']],
    body: `
  if (GI >= P.N * P.C) { return; }
  let n = GI / P.C;
  let c = GI % P.C;
  var v = wte[u32(inp[n]) * P.C + c];
  if (HAS_wpe) { v = v + wpe[(P.pos0 + n % P.T) * P.C + c]; }
  out[GI] = v;`,
  },
  encoder_backward_wte: {
    // one thread per channel walks the positions in order: no two threads touch the same dwte element
    name: 'encoder_backward_wte', wg: 64, args: [['dwte', 'f32', 'w'], ['dout', 'f32', 'r'], ['inp', 'i32', 'r']], params: [['N', 'u32'], ['C', 'u32']],
    body: `
  if (GI >= P.C) { return; }
  for (var n = 0u; n < P.N; n++) {
    let o = u32(inp[n]) * P.C + GI;
    dwte[o] = dwte[o] + dout[n * P.C + GI];
  }`,
  },
  encoder_backward_wpe: {
    name: 'encoder_backward_wpe', wg: 256, args: [['dwpe', 'f32', 'w'], ['dout', 'f32', 'r']], params: [['B', 'u32'], ['T', 'u32'], ['C', 'u32']],
    body: `
  if (GI >= P.T * P.C) { return; }
  var s = dwpe[GI];
  for (var b = 0u; b < P.B; b++) { s = s + dout[b * P.T * P.C + GI]; }
  dwpe[GI] = s;`,
  },
  layernorm_forward: {
    name: 'layernorm_forward', wg: 64, extra: REDUCE,
    args: [['out', 'f32', 'w'], ['mean', 'f32', 'w'], ['rstd', 'f32', 'w'], ['inp', 'f32', 'r'], ['weight', 'f32', 'r'], ['bias', 'f32', 'r']],
    params: [['N', 'u32'], ['C', 'u32'], ['eps', 'f32']],
    body: `
  let row = WGI;
  if (row >= P.N) { return; }
  let o = row * P.C;
  var s = 0.0;
  for (var c = lid; c < P.C; c += WG) { s += inp[o + c]; }
  let m = wg_sum(s, lid) / f32(P.C);
  var v = 0.0;
  for (var c = lid; c < P.C; c += WG) { let d = inp[o + c] - m; v += d * d; }
  let r = 1.0 / sqrt(wg_sum(v, lid) / f32(P.C) + P.eps);
  for (var c = lid; c < P.C; c += WG) { out[o + c] = (inp[o + c] - m) * r * weight[c] + bias[c]; }
  if (lid == 0u) { mean[row] = m; rstd[row] = r; }`,
  },
  layernorm_backward_dinp: {
    name: 'layernorm_backward_dinp', wg: 64, extra: REDUCE,
    args: [['dinp', 'f32', 'w'], ['dout', 'f32', 'r'], ['inp', 'f32', 'r'], ['weight', 'f32', 'r'], ['mean', 'f32', 'r'], ['rstd', 'f32', 'r']],
    params: [['N', 'u32'], ['C', 'u32']],
    body: `
  let row = WGI;
  if (row >= P.N) { return; }
  let o = row * P.C;
  let m = mean[row];
  let s = rstd[row];
  var a = 0.0;
  var b = 0.0;
  for (var c = lid; c < P.C; c += WG) {
    let dn = weight[c] * dout[o + c];
    a += dn;
    b += dn * (inp[o + c] - m) * s;
  }
  let dm = wg_sum(a, lid) / f32(P.C);
  let dnm = wg_sum(b, lid) / f32(P.C);
  for (var c = lid; c < P.C; c += WG) {
    let norm = (inp[o + c] - m) * s;
    dinp[o + c] += (weight[c] * dout[o + c] - dm - norm * dnm) * s;
  }`,
  },
  layernorm_backward_dweight: {
    name: 'layernorm_backward_dweight', wg: 64,
    args: [['dweight', 'f32', 'w'], ['dbias', 'f32', 'w'], ['dout', 'f32', 'r'], ['inp', 'f32', 'r'], ['mean', 'f32', 'r'], ['rstd', 'f32', 'r']],
    params: [['N', 'u32'], ['C', 'u32']],
    body: `
  if (GI >= P.C) { return; }
  var dw = 0.0;
  var db = 0.0;
  for (var n = 0u; n < P.N; n++) {
    let d = dout[n * P.C + GI];
    dw += (inp[n * P.C + GI] - mean[n]) * rstd[n] * d;
    db += d;
  }
  dweight[GI] += dw;
  dbias[GI] += db;`,
  },
  rmsnorm_forward: {
    name: 'rmsnorm_forward', wg: 64, extra: REDUCE,
    args: [['out', 'f32', 'w'], ['rstd', 'f32', 'w'], ['inp', 'f32', 'r'], ['weight', 'f32', 'r']],
    params: [['N', 'u32'], ['C', 'u32'], ['eps', 'f32']],
    body: `
  let row = WGI;
  if (row >= P.N) { return; }
  let o = row * P.C;
  var ss = 0.0;
  for (var c = lid; c < P.C; c += WG) { ss += inp[o + c] * inp[o + c]; }
  let r = 1.0 / sqrt(wg_sum(ss, lid) / f32(P.C) + P.eps);
  for (var c = lid; c < P.C; c += WG) { out[o + c] = inp[o + c] * r * weight[c]; }
  if (lid == 0u) { rstd[row] = r; }`,
  },
  rmsnorm_backward_dinp: {
    name: 'rmsnorm_backward_dinp', wg: 64, extra: REDUCE,
    args: [['dinp', 'f32', 'w'], ['dout', 'f32', 'r'], ['inp', 'f32', 'r'], ['weight', 'f32', 'r'], ['rstd', 'f32', 'r']],
    params: [['N', 'u32'], ['C', 'u32']],
    body: `
  let row = WGI;
  if (row >= P.N) { return; }
  let o = row * P.C;
  let s = rstd[row];
  var d = 0.0;
  for (var c = lid; c < P.C; c += WG) { d += dout[o + c] * weight[c] * inp[o + c]; }
  let k = s * s * s * wg_sum(d, lid) / f32(P.C);
  for (var c = lid; c < P.C; c += WG) { dinp[o + c] += s * weight[c] * dout[o + c] - k * inp[o + c]; }`,
  },
  rmsnorm_backward_dweight: {
    name: 'rmsnorm_backward_dweight', wg: 64,
    args: [['dweight', 'f32', 'w'], ['dout', 'f32', 'r'], ['inp', 'f32', 'r'], ['rstd', 'f32', 'r']],
    params: [['N', 'u32'], ['C', 'u32']],
    body: `
  if (GI >= P.C) { return; }
  var dw = 0.0;
  for (var n = 0u; n < P.N; n++) { dw += dout[n * P.C + GI] * inp[n * P.C + GI] * rstd[n]; }
  dweight[GI] += dw;`,
  },
  matmul: {
    // mo (M, Nc) (+)= A (M, K) @ B (K, Nc) (+ bias); A and B are read through strides, which folds the transposes of
    // the forward (B = weight^T), dinp (A = dout, B = weight) and dweight (A = dout^T, B = inp) into one kernel.
    // A 64x64 output tile per workgroup of 16x16 threads, each thread a 4x4 block; K in steps of 16 via shared memory.
    name: 'matmul', wg: 256,
    args: [['mo', 'f32', 'w'], ['ma', 'f32', 'r'], ['mb', 'f32', 'r'], ['bias', 'f32', 'r']],
    params: [['M', 'u32'], ['Nc', 'u32'], ['K', 'u32'], ['sai', 'u32'], ['sak', 'u32'], ['sbk', 'u32'], ['sbj', 'u32'], ['ldo', 'u32'], ['accumulate', 'u32']],
    extra: `
var<workgroup> As: array<f32, 1024>;
var<workgroup> Bs: array<f32, 1024>;`,
    body: `
  let tx = lid % 16u;
  let ty = lid / 16u;
  let row0 = wid.y * 64u;
  let col0 = wid.x * 64u;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < P.K; k0 += 16u) {
    for (var e = 0u; e < 4u; e++) {
      let idx = lid + e * 256u;
      // neighbouring threads walk each operand's unit-stride dimension, so their global reads coalesce
      var i = idx % 64u;
      var k = idx / 64u;
      if (P.sak == 1u) {
        i = idx / 16u;
        k = idx % 16u;
      }
      var va = 0.0;
      if (row0 + i < P.M && k0 + k < P.K) { va = ma[(row0 + i) * P.sai + (k0 + k) * P.sak]; }
      As[k * 64u + i] = va;
      var kb = idx % 16u;
      var j = idx / 16u;
      if (P.sbj == 1u) {
        kb = idx / 64u;
        j = idx % 64u;
      }
      var vb = 0.0;
      if (k0 + kb < P.K && col0 + j < P.Nc) { vb = mb[(k0 + kb) * P.sbk + (col0 + j) * P.sbj]; }
      Bs[kb * 64u + j] = vb;
    }
    workgroupBarrier();
    for (var k = 0u; k < 16u; k++) {
      let a = vec4<f32>(As[k * 64u + ty * 4u], As[k * 64u + ty * 4u + 1u], As[k * 64u + ty * 4u + 2u], As[k * 64u + ty * 4u + 3u]);
      let b = vec4<f32>(Bs[k * 64u + tx * 4u], Bs[k * 64u + tx * 4u + 1u], Bs[k * 64u + tx * 4u + 2u], Bs[k * 64u + tx * 4u + 3u]);
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    let gi = row0 + ty * 4u + r;
    if (gi >= P.M) { break; }
    for (var c = 0u; c < 4u; c++) {
      let gj = col0 + tx * 4u + c;
      if (gj >= P.Nc) { break; }
      var v = acc[r][c];
      if (HAS_bias) { v += bias[gj]; }
      if (P.accumulate != 0u) { v += mo[gi * P.ldo + gj]; }
      mo[gi * P.ldo + gj] = v;
    }
  }`,
  },
  matmul_dbias: {
    name: 'matmul_dbias', wg: 64, args: [['dbias', 'f32', 'w'], ['dout', 'f32', 'r']], params: [['N', 'u32'], ['OC', 'u32']],
    body: `
  if (GI >= P.OC) { return; }
  var s = 0.0;
  for (var n = 0u; n < P.N; n++) { s += dout[n * P.OC + GI]; }
  dbias[GI] += s;`,
  },
  attention_forward: {
    // Online softmax (flash attention): each thread owns one query, keys and values stream through workgroup
    // memory in tiles of KT rows; only the output and the row's log-sum-exp are written, so memory is O(T).
    name: 'attention_forward', wg: 64,
    args: [['out', 'f32', 'w'], ['lse', 'f32', 'w'], ['qkv', 'f32', 'r']],
    params: ATT_DIMS,
    extra: `
const HS_MAX = ${HS_MAX}u;
const KT = ${KEY_TILE}u;
var<workgroup> Ks: array<f32, KT * HS_MAX>;
var<workgroup> Vs: array<f32, KT * HS_MAX>;
${FIRST_KEY}`,
    body: `
  let R = (P.NH + 2u * P.NKV) * P.HS;
  let bh = wid.y;
  let b = bh / P.NH;
  let h = bh % P.NH;
  let g = h / (P.NH / P.NKV);
  let t0 = wid.x * 64u;
  let t = t0 + lid;
  let valid = t < P.T;
  let tl = min(t0 + 63u, P.T - 1u);
  var q: array<f32, HS_MAX>;
  var acc: array<f32, HS_MAX>;
  var sc: array<f32, KT>;
  if (valid) {
    for (var i = 0u; i < P.HS; i++) { q[i] = qkv[(b * P.T + t) * R + h * P.HS + i]; }
  }
  let lo = first_key(t, P.window);
  var m = -3.0e38;
  var l = 0.0;
  for (var j0 = first_key(t0, P.window); j0 <= tl; j0 += KT) {
    for (var idx = lid; idx < KT * P.HS; idx += 64u) {
      let j = j0 + idx / P.HS;
      let i = idx % P.HS;
      if (j <= tl) {
        let rb = (b * P.T + j) * R;
        Ks[idx] = qkv[rb + (P.NH + g) * P.HS + i];
        Vs[idx] = qkv[rb + (P.NH + P.NKV + g) * P.HS + i];
      }
    }
    workgroupBarrier();
    if (valid) {
      var tmax = -3.0e38;
      for (var jj = 0u; jj < KT; jj++) {
        let j = j0 + jj;
        if (j >= lo && j <= t) {
          var s = 0.0;
          for (var i = 0u; i < P.HS; i++) { s += q[i] * Ks[jj * P.HS + i]; }
          s *= P.scale;
          sc[jj] = s;
          tmax = max(tmax, s);
        }
      }
      if (tmax > -1.0e38) {
        let mn = max(m, tmax);
        let corr = exp(m - mn);
        l *= corr;
        for (var i = 0u; i < P.HS; i++) { acc[i] *= corr; }
        for (var jj = 0u; jj < KT; jj++) {
          let j = j0 + jj;
          if (j >= lo && j <= t) {
            let p = exp(sc[jj] - mn);
            l += p;
            for (var i = 0u; i < P.HS; i++) { acc[i] += p * Vs[jj * P.HS + i]; }
          }
        }
        m = mn;
      }
    }
    workgroupBarrier();
  }
  if (valid) {
    let inv = 1.0 / l;
    for (var i = 0u; i < P.HS; i++) { out[(b * P.T + t) * P.NH * P.HS + h * P.HS + i] = acc[i] * inv; }
    lse[bh * P.T + t] = m + log(l);
  }`,
  },
  attention_probs: {
    // materialises att (B,NH,T,T) = exp(score - lse): the contract's probabilities (conformance, inspection); the
    // backward below does not read them
    name: 'attention_probs', wg: 256, extra: FIRST_KEY,
    args: [['att', 'f32', 'w'], ['qkv', 'f32', 'r'], ['lse', 'f32', 'r']],
    params: ATT_DIMS,
    body: `
  if (GI >= P.B * P.NH * P.T * P.T) { return; }
  let R = (P.NH + 2u * P.NKV) * P.HS;
  let j = GI % P.T;
  let t = (GI / P.T) % P.T;
  let bh = GI / (P.T * P.T);
  let b = bh / P.NH;
  let h = bh % P.NH;
  let g = h / (P.NH / P.NKV);
  var v = 0.0;
  if (j <= t && j >= first_key(t, P.window)) {
    let qo = (b * P.T + t) * R + h * P.HS;
    let ko = (b * P.T + j) * R + (P.NH + g) * P.HS;
    var s = 0.0;
    for (var i = 0u; i < P.HS; i++) { s += qkv[qo + i] * qkv[ko + i]; }
    v = exp(s * P.scale - lse[bh * P.T + t]);
  }
  att[GI] = v;`,
  },
  // FlashAttention-2's backward (Dao, 2023), O(T) memory: nothing of size T x T is read or written. The forward
  // kept each row's log-sum-exp, so p = exp(scale * q.k - lse) is recomputed bit for bit as the forward summed it;
  // with D = dout . out per row, dscore = p * (dout . v - D) * scale. Three passes: D; dq per query (keys and values
  // stream through workgroup memory); dk, dv per key (queries and their douts stream, over every head of the GQA
  // group, so no two threads add into the same element and no atomics are needed).
  attention_backward_d: {
    name: 'attention_backward_d', wg: 256,
    args: [['dd', 'f32', 'w'], ['dout', 'f32', 'r'], ['out', 'f32', 'r']],
    params: ATT_DIMS,
    body: `
  if (GI >= P.B * P.NH * P.T) { return; }
  let b = GI / (P.NH * P.T);
  let h = (GI / P.T) % P.NH;
  let t = GI % P.T;
  let o = (b * P.T + t) * P.NH * P.HS + h * P.HS;
  var s = 0.0;
  for (var i = 0u; i < P.HS; i++) { s += dout[o + i] * out[o + i]; }
  dd[GI] = s;`,
  },
  attention_backward_dq: {
    // one thread per query, the forward's tiling: a workgroup's 64 queries of one (batch, head) share key tiles
    name: 'attention_backward_dq', wg: 64,
    args: [['dqkv', 'f32', 'w'], ['dout', 'f32', 'r'], ['qkv', 'f32', 'r'], ['lse', 'f32', 'r'], ['dd', 'f32', 'r']],
    params: ATT_DIMS,
    extra: `
const HS_MAX = ${HS_MAX}u;
const KT = ${KEY_TILE}u;
var<workgroup> Ks: array<f32, KT * HS_MAX>;
var<workgroup> Vs: array<f32, KT * HS_MAX>;
${FIRST_KEY}`,
    body: `
  let R = (P.NH + 2u * P.NKV) * P.HS;
  let bh = wid.y;
  let b = bh / P.NH;
  let h = bh % P.NH;
  let g = h / (P.NH / P.NKV);
  let t0 = wid.x * 64u;
  let t = t0 + lid;
  let valid = t < P.T;
  let tl = min(t0 + 63u, P.T - 1u);
  let qo = (b * P.T + t) * R + h * P.HS;
  var q: array<f32, HS_MAX>;
  var d: array<f32, HS_MAX>;
  var dq: array<f32, HS_MAX>;
  var m = 0.0;
  var dt = 0.0;
  if (valid) {
    let doo = (b * P.T + t) * P.NH * P.HS + h * P.HS;
    for (var i = 0u; i < P.HS; i++) {
      q[i] = qkv[qo + i];
      d[i] = dout[doo + i];
    }
    m = lse[bh * P.T + t];
    dt = dd[bh * P.T + t];
  }
  let lo = first_key(t, P.window);
  for (var j0 = first_key(t0, P.window); j0 <= tl; j0 += KT) {
    for (var idx = lid; idx < KT * P.HS; idx += 64u) {
      let j = j0 + idx / P.HS;
      let i = idx % P.HS;
      if (j <= tl) {
        let rb = (b * P.T + j) * R;
        Ks[idx] = qkv[rb + (P.NH + g) * P.HS + i];
        Vs[idx] = qkv[rb + (P.NH + P.NKV + g) * P.HS + i];
      }
    }
    workgroupBarrier();
    if (valid) {
      for (var jj = 0u; jj < KT; jj++) {
        let j = j0 + jj;
        if (j >= lo && j <= t) {
          var s = 0.0;
          var dp = 0.0;
          for (var i = 0u; i < P.HS; i++) {
            s += q[i] * Ks[jj * P.HS + i];
            dp += d[i] * Vs[jj * P.HS + i];
          }
          s *= P.scale;
          let ds = exp(s - m) * (dp - dt) * P.scale;
          for (var i = 0u; i < P.HS; i++) { dq[i] += ds * Ks[jj * P.HS + i]; }
        }
      }
    }
    workgroupBarrier();
  }
  if (valid) {
    for (var i = 0u; i < P.HS; i++) { dqkv[qo + i] += dq[i]; }
  }`,
  },
  attention_backward_dkv: {
    // one thread per key of one (batch, kv head); the queries that see a workgroup's 64 keys run from its first key
    // to its last key's window end, in tiles of QT rows of q and dout per query head of the group
    name: 'attention_backward_dkv', wg: 64,
    args: [['dqkv', 'f32', 'w'], ['dout', 'f32', 'r'], ['qkv', 'f32', 'r'], ['lse', 'f32', 'r'], ['dd', 'f32', 'r']],
    params: ATT_DIMS,
    extra: `
const HS_MAX = ${HS_MAX}u;
const QT = ${KEY_TILE}u;
var<workgroup> Qs: array<f32, QT * HS_MAX>;
var<workgroup> Ds: array<f32, QT * HS_MAX>;
${FIRST_KEY}`,
    body: `
  let R = (P.NH + 2u * P.NKV) * P.HS;
  let bg = wid.y;
  let b = bg / P.NKV;
  let g = bg % P.NKV;
  let grp = P.NH / P.NKV;
  let j0 = wid.x * 64u;
  let j = j0 + lid;
  let valid = j < P.T;
  var tend = P.T - 1u;
  if (P.window > 0u) { tend = min(tend, min(j0 + 63u, P.T - 1u) + P.window - 1u); }
  let kr = (b * P.T + j) * R + (P.NH + g) * P.HS;
  let vr = kr + P.NKV * P.HS;
  var k: array<f32, HS_MAX>;
  var v: array<f32, HS_MAX>;
  var dk: array<f32, HS_MAX>;
  var dv: array<f32, HS_MAX>;
  if (valid) {
    for (var i = 0u; i < P.HS; i++) {
      k[i] = qkv[kr + i];
      v[i] = qkv[vr + i];
    }
  }
  for (var h = g * grp; h < (g + 1u) * grp; h++) {
    for (var t0 = j0; t0 <= tend; t0 += QT) {
      for (var idx = lid; idx < QT * P.HS; idx += 64u) {
        let t = t0 + idx / P.HS;
        let i = idx % P.HS;
        if (t <= tend) {
          Qs[idx] = qkv[(b * P.T + t) * R + h * P.HS + i];
          Ds[idx] = dout[(b * P.T + t) * P.NH * P.HS + h * P.HS + i];
        }
      }
      workgroupBarrier();
      if (valid) {
        for (var tt = 0u; tt < QT; tt++) {
          let t = t0 + tt;
          if (t <= tend && j <= t && j >= first_key(t, P.window)) {
            var s = 0.0;
            var dp = 0.0;
            for (var i = 0u; i < P.HS; i++) {
              s += Qs[tt * P.HS + i] * k[i];
              dp += Ds[tt * P.HS + i] * v[i];
            }
            s *= P.scale;
            let row = (b * P.NH + h) * P.T + t;
            let p = exp(s - lse[row]);
            let ds = p * (dp - dd[row]) * P.scale;
            for (var i = 0u; i < P.HS; i++) {
              dv[i] += p * Ds[tt * P.HS + i];
              dk[i] += ds * Qs[tt * P.HS + i];
            }
          }
        }
      }
      workgroupBarrier();
    }
  }
  if (valid) {
    for (var i = 0u; i < P.HS; i++) {
      dqkv[kr + i] += dk[i];
      dqkv[vr + i] += dv[i];
    }
  }`,
  },
  attention_decode_probs: {
    name: 'attention_decode_probs', wg: 64, extra: FIRST_KEY,
    args: [['att', 'f32', 'w'], ['qkv', 'f32', 'r']],
    params: DECODE_DIMS,
    body: `
  if (GI >= P.NH) { return; }
  let h = GI;
  let R = (P.NH + 2u * P.NKV) * P.HS;
  let g = h / (P.NH / P.NKV);
  let T1 = P.t + 1u;
  let lo = first_key(P.t, P.window);
  let qo = P.t * R + h * P.HS;
  var mx = -3.0e38;
  for (var j = lo; j <= P.t; j++) {
    let ko = j * R + (P.NH + g) * P.HS;
    var s = 0.0;
    for (var i = 0u; i < P.HS; i++) { s += qkv[qo + i] * qkv[ko + i]; }
    s *= P.scale;
    att[h * T1 + j] = s;
    mx = max(mx, s);
  }
  var sum = 0.0;
  for (var j = lo; j <= P.t; j++) {
    let e = exp(att[h * T1 + j] - mx);
    att[h * T1 + j] = e;
    sum += e;
  }
  for (var j = 0u; j < T1; j++) {
    if (j < lo) { att[h * T1 + j] = 0.0; } else { att[h * T1 + j] = att[h * T1 + j] / sum; }
  }`,
  },
  attention_decode_out: {
    name: 'attention_decode_out', wg: 64, extra: FIRST_KEY,
    args: [['out', 'f32', 'w'], ['att', 'f32', 'r'], ['qkv', 'f32', 'r']],
    params: DECODE_DIMS,
    body: `
  if (GI >= P.NH * P.HS) { return; }
  let h = GI / P.HS;
  let i = GI % P.HS;
  let R = (P.NH + 2u * P.NKV) * P.HS;
  let g = h / (P.NH / P.NKV);
  let T1 = P.t + 1u;
  var s = 0.0;
  for (var j = first_key(P.t, P.window); j <= P.t; j++) { s += att[h * T1 + j] * qkv[j * R + (P.NH + P.NKV + g) * P.HS + i]; }
  out[GI] = s;`,
  },
  rope: {
    // cs holds (cos, sin) per (position, frequency), computed in float64 on the host
    name: 'rope', wg: 256, args: [['x', 'f32', 'w'], ['cs', 'f32', 'r']],
    params: [['N', 'u32'], ['T', 'u32'], ['NH', 'u32'], ['NKV', 'u32'], ['HS', 'u32'], ['pos0', 'u32'], ['sign', 'f32']],
    body: `
  let half = P.HS / 2u;
  let heads = P.NH + P.NKV;
  if (GI >= P.N * heads * half) { return; }
  let i = GI % half;
  let hh = (GI / half) % heads;
  let n = GI / (half * heads);
  let ci = ((P.pos0 + n % P.T) * half + i) * 2u;
  let c = cs[ci];
  let s = cs[ci + 1u] * P.sign;
  let o = n * (P.NH + 2u * P.NKV) * P.HS + hh * P.HS + i;
  let x1 = x[o];
  let x2 = x[o + half];
  x[o] = x1 * c - x2 * s;
  x[o + half] = x2 * c + x1 * s;`,
  },
  gelu_forward: {
    name: 'gelu_forward', wg: 256, extra: TANH, args: [['out', 'f32', 'w'], ['inp', 'f32', 'r']], params: [['n', 'u32']],
    body: `
  if (GI >= P.n) { return; }
  let x = inp[GI];
  out[GI] = x * gelu_terms(0.7978845608028654 * (x + 0.044715 * x * x * x)).x;`,
  },
  gelu_backward: {
    name: 'gelu_backward', wg: 256, extra: TANH, args: [['dinp', 'f32', 'w'], ['inp', 'f32', 'r'], ['dout', 'f32', 'r']], params: [['n', 'u32']],
    body: `
  if (GI >= P.n) { return; }
  let x = inp[GI];
  let g = gelu_terms(0.7978845608028654 * (x + 0.044715 * x * x * x));
  let grad = g.x + 0.5 * x * g.y * 0.7978845608028654 * (1.0 + 3.0 * 0.044715 * x * x);
  dinp[GI] += grad * dout[GI];`,
  },
  swiglu_forward: {
    name: 'swiglu_forward', wg: 256, args: [['out', 'f32', 'w'], ['inp', 'f32', 'r']], params: [['N', 'u32'], ['H', 'u32']],
    body: `
  if (GI >= P.N * P.H) { return; }
  let io = (GI / P.H) * 2u * P.H + GI % P.H;
  let g = inp[io];
  out[GI] = g / (1.0 + exp(-g)) * inp[io + P.H];`,
  },
  swiglu_backward: {
    name: 'swiglu_backward', wg: 256, args: [['dinp', 'f32', 'w'], ['inp', 'f32', 'r'], ['dout', 'f32', 'r']], params: [['N', 'u32'], ['H', 'u32']],
    body: `
  if (GI >= P.N * P.H) { return; }
  let io = (GI / P.H) * 2u * P.H + GI % P.H;
  let g = inp[io];
  let u = inp[io + P.H];
  let d = dout[GI];
  let sig = 1.0 / (1.0 + exp(-g));
  dinp[io] += d * u * sig * (1.0 + g * (1.0 - sig));
  dinp[io + P.H] += d * g * sig;`,
  },
  residual_forward: {
    name: 'residual_forward', wg: 256, args: [['out', 'f32', 'w'], ['inp1', 'f32', 'r'], ['inp2', 'f32', 'r']], params: [['n', 'u32']],
    body: `if (GI < P.n) { out[GI] = inp1[GI] + inp2[GI]; }`,
  },
  residual_backward: {
    name: 'residual_backward', wg: 256, args: [['dinp1', 'f32', 'w'], ['dinp2', 'f32', 'w'], ['dout', 'f32', 'r']], params: [['n', 'u32']],
    body: `if (GI < P.n) { let d = dout[GI]; dinp1[GI] += d; dinp2[GI] += d; }`,
  },
  crossentropy_forward: {
    name: 'crossentropy_forward', wg: 256, extra: REDUCE,
    args: [['losses', 'f32', 'w'], ['probs', 'f32', 'w'], ['logits', 'f32', 'r'], ['targets', 'i32', 'r']],
    params: [['N', 'u32'], ['V', 'u32']],
    body: `
  let row = WGI;
  if (row >= P.N) { return; }
  let o = row * P.V;
  var mx = -3.0e38;
  for (var v = lid; v < P.V; v += WG) { mx = max(mx, logits[o + v]); }
  mx = wg_max(mx, lid);
  var s = 0.0;
  for (var v = lid; v < P.V; v += WG) { s += exp(logits[o + v] - mx); }
  s = wg_sum(s, lid);
  let tgt = targets[row];
  var lt = 0.0;
  if (tgt >= 0) { lt = logits[o + u32(tgt)]; }
  // every thread has read the target logit before probs (which may alias logits) are written
  workgroupBarrier();
  let inv = 1.0 / s;
  for (var v = lid; v < P.V; v += WG) { probs[o + v] = exp(logits[o + v] - mx) * inv; }
  if (lid == 0u) { losses[row] = select(0.0, log(s) - (lt - mx), tgt >= 0); }`,
  },
  crossentropy_backward: {
    name: 'crossentropy_backward', wg: 256,
    // dscale, when bound, supplies dloss from the GPU (a resident trainer's 1 / valid positions)
    args: [['dlogits', 'f32', 'w'], ['probs', 'f32', 'r'], ['targets', 'i32', 'r'], ['dscale', 'f32', 'r']],
    params: [['N', 'u32'], ['V', 'u32'], ['dloss', 'f32']],
    body: `
  if (GI >= P.N * P.V) { return; }
  let tgt = targets[GI / P.V];
  var dl = P.dloss;
  if (HAS_dscale) { dl = dscale[0]; }
  var d = 0.0;
  if (tgt >= 0) { d = (probs[GI] - select(0.0, 1.0, GI % P.V == u32(tgt))) * dl; }
  dlogits[GI] = d;`,
  },
  adamw: {
    // step = [lr, 1 - beta1^t, 1 - beta2^t, gradient scale (clipping)] lives on the GPU, so a resident trainer
    // clips without reading the norm back
    name: 'adamw', wg: 256,
    args: [['params', 'f32', 'w'], ['grads', 'f32', 'r'], ['m', 'f32', 'w'], ['v', 'f32', 'w'], ['step', 'f32', 'r']],
    params: [['n', 'u32'], ['beta1', 'f32'], ['beta2', 'f32'], ['eps', 'f32'], ['wd', 'f32']],
    body: `
  if (GI >= P.n) { return; }
  let lr = step[0];
  let g = grads[GI] * step[3];
  let mi = P.beta1 * m[GI] + (1.0 - P.beta1) * g;
  let vi = P.beta2 * v[GI] + (1.0 - P.beta2) * g * g;
  m[GI] = mi;
  v[GI] = vi;
  params[GI] = params[GI] * (1.0 - lr * P.wd) - lr * (mi / step[1]) / (sqrt(vi / step[2]) + P.eps);`,
  },
  sum_partial: {
    // partial sums (of squares when SQUARE) of x over a grid of G workgroups, Kahan-compensated per thread
    name: 'sum_partial', wg: 256, extra: REDUCE,
    args: [['part', 'f32', 'w'], ['x', 'f32', 'r']], params: [['n', 'u32'], ['G', 'u32']],
    body: `
  var s = 0.0;
  var comp = 0.0;
  for (var i = WGI * WG + lid; i < P.n; i += P.G * WG) {
    var v = x[i];
    if (SQUARE) { v = v * v; }
    let y = v - comp;
    let t = s + y;
    comp = (t - s) - y;
    s = t;
  }
  s = wg_sum(s, lid);
  if (lid == 0u) { part[WGI] = s; }`,
  },
  sum_final: {
    name: 'sum_final', wg: 256, extra: REDUCE, args: [['out', 'f32', 'w'], ['part', 'f32', 'r']], params: [['G', 'u32']],
    body: `
  var s = 0.0;
  if (lid < P.G) { s = part[lid]; }
  s = wg_sum(s, lid);
  if (lid == 0u) { out[0] = s; }`,
  },
  clip_factor: {
    // step[3] = gradient scale for clipping to maxNorm (0 = no clipping); step[4] = the norm before clipping
    name: 'clip_factor', wg: 1, args: [['step', 'f32', 'w'], ['ss', 'f32', 'r']], params: [['maxNorm', 'f32']],
    body: `
  let norm = sqrt(ss[0]);
  step[4] = norm;
  step[3] = select(1.0, P.maxNorm / norm, P.maxNorm > 0.0 && norm > P.maxNorm);`,
  },
  scale: {
    name: 'scale', wg: 256, args: [['x', 'f32', 'w']], params: [['n', 'u32'], ['s', 'f32']],
    body: `if (GI < P.n) { x[GI] = x[GI] * P.s; }`,
  },
  mean_loss: {
    // out[0] = sum(losses) / count, for the resident trainer's one read-back
    name: 'mean_loss', wg: 256, extra: REDUCE, args: [['out', 'f32', 'w'], ['losses', 'f32', 'r']], params: [['n', 'u32'], ['count', 'f32']],
    body: `
  var s = 0.0;
  for (var i = lid; i < P.n; i += WG) { s += losses[i]; }
  s = wg_sum(s, lid);
  if (lid == 0u) { out[0] = s / P.count; }`,
  },
} satisfies Record<string, KernelDef>;

export type KernelName = keyof typeof KERNELS;
