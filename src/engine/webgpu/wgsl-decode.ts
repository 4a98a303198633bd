// WGSL of the KV-cache decoder's own kernels: the matrix-vector product of a decode step (f32 weights, or their f16
// copy where the adapter has shader-f16), summed by a workgroup tree or, where the adapter has subgroups, by
// subgroup operations; and the f32 -> f16 copy. Decoding one token reads every weight once, so the bytes read are
// what costs; products and sums stay f32 whatever the weights' storage.
//
// Same conventions as wgsl.ts (program.ts binds and rewrites `name[expr]`); `directives` go before everything else
// in the module (WGSL's `enable` and `diagnostic` must precede every declaration).
import type { ProgramDef } from './program.ts';
import { REDUCE } from './wgsl.ts';

/** f32 -> f16 copy of n elements (the decoder's half weights, converted once on the GPU). */
export const TO_F16: ProgramDef = {
  name: 'to_f16', wg: 256, directives: ['enable f16;'],
  args: [['out', 'f16', 'w'], ['inp', 'f32', 'r']], params: [['n', 'u32']],
  // f16 tops out at 65504; a weight past it would turn into inf (no trained weight comes near)
  body: `if (GI < P.n) { out[GI] = f16(clamp(inp[GI], -65504.0, 65504.0)); }`,
};

const MATVEC_ARGS = (w: 'f16' | 'f32') => [['out', 'f32', 'w'], ['inp', 'f32', 'r'], ['w', w, 'r'], ['bias', 'f32', 'r']] as const;
const MATVEC_PARAMS = [['N', 'u32'], ['C', 'u32'], ['OC', 'u32']] as const;

/**
 * out (N, OC) = inp (N, C) @ w (OC, C)^T (+ bias): one workgroup of 64 per output, each thread a strided slice of C
 * (neighbours read neighbouring weights), summed by the shared-memory tree of wgsl.ts.
 */
export function matvecTree(weight: 'f16' | 'f32'): ProgramDef {
  return {
    name: `matvec_tree_${weight}`, wg: 64, directives: weight === 'f16' ? ['enable f16;'] : [],
    args: MATVEC_ARGS(weight), params: MATVEC_PARAMS, extra: REDUCE,
    body: `
  let o = WGI % P.OC;
  let n = WGI / P.OC;
  if (n >= P.N) { return; }
  var acc = 0.0;
  for (var c = lid; c < P.C; c += WG) { acc += inp[n * P.C + c] * f32(w[o * P.C + c]); }
  let s = wg_sum(acc, lid);
  if (lid == 0u) {
    var v = s;
    if (HAS_bias) { v += bias[o]; }
    out[n * P.OC + o] = v;
  }`,
  };
}

/**
 * The same product with subgroup sums instead of barriers: thread GI owns output GI, and each subgroup computes its
 * lanes' outputs one after another, all lanes splitting C. It assumes nothing about the subgroup size or how lanes
 * map to local ids: a lane's rank is an exclusive prefix count, and the next output is the smallest one still
 * pending (subgroupMin), so partial or irregular subgroups still cover every output exactly once.
 */
export function matvecSubgroup(weight: 'f16' | 'f32'): ProgramDef {
  return {
    name: `matvec_sg_${weight}`, wg: 64,
    // the loop bound is subgroup-uniform by construction (a subgroupMin), which WGSL's analysis cannot see
    directives: [...(weight === 'f16' ? ['enable f16;'] : []), 'enable subgroups;', 'diagnostic(off, subgroup_uniformity);'],
    args: MATVEC_ARGS(weight), params: MATVEC_PARAMS,
    body: `
  let total = P.N * P.OC;
  let lane = subgroupExclusiveAdd(1u);
  let size = subgroupAdd(1u);
  var done = GI >= total;
  var mine = 0.0;
  loop {
    let g = subgroupMin(select(GI, 0xffffffffu, done));
    if (g == 0xffffffffu) { break; }
    let n = g / P.OC;
    let o = g % P.OC;
    var acc = 0.0;
    for (var c = lane; c < P.C; c += size) { acc += inp[n * P.C + c] * f32(w[o * P.C + c]); }
    let s = subgroupAdd(acc);
    if (g == GI) {
      mine = s;
      done = true;
    }
  }
  if (GI < total) {
    var v = mine;
    if (HAS_bias) { v += bias[GI % P.OC]; }
    out[GI] = v;
  }`,
  };
}
