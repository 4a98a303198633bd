// SIMD building blocks shared by the kernels: FMA (relaxed or mul+add, chosen at compile time), exp, sums, ranges.

// RELAXED is a compile-time integer constant from `asc --use RELAXED=0|1` (see scripts/build-wasm.mjs): the
// relaxed build uses f32x4.relaxed_madd (one FMA instruction on x86 with FMA3), the plain build mul + add.
// @ts-ignore: decorator
@inline export function fma(a: v128, b: v128, c: v128): v128 {
  if (RELAXED) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/**
 * exp on 4 lanes (Cephes expf polynomial, ~2 ulp); inputs are clamped to [-87.3, 88.3]. Uses pmin/pmax (one
 * instruction each; the NaN-exact min/max lower to long sequences in V8) and the 1.5*2^23 trick for the rounding
 * and the integer exponent (trunc_sat and nearest are slow on x64).
 */
// @ts-ignore: decorator
@inline export function exp4(x0: v128): v128 {
  const x1 = f32x4.pmin(f32x4.pmax(x0, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const magic = f32x4.splat(12582912.0); // 1.5 * 2^23: adding it rounds to an integer in the low mantissa bits
  const t = fma(x1, f32x4.splat(1.44269504088896341), magic);
  const fx = f32x4.sub(t, magic);
  let x = fma(fx, f32x4.splat(-0.693359375), x1);
  x = fma(fx, f32x4.splat(2.12194440e-4), x);
  let y = f32x4.splat(1.9875691500e-4);
  y = fma(y, x, f32x4.splat(1.3981999507e-3));
  y = fma(y, x, f32x4.splat(8.3334519073e-3));
  y = fma(y, x, f32x4.splat(4.1665795894e-2));
  y = fma(y, x, f32x4.splat(1.6666665459e-1));
  y = fma(y, x, f32x4.splat(5.0000001201e-1));
  y = f32x4.add(fma(y, f32x4.mul(x, x), x), f32x4.splat(1.0));
  // 2^fx: the integer sits in t's bits as 0x4B400000 + fx
  const pow2 = i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4B400000)), 23);
  return f32x4.mul(y, pow2);
}

/** Scalar exp through the same polynomial (tails of vector loops, so results match lane for lane). */
// @ts-ignore: decorator
@inline export function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

/** Start of thread tid's share of n items split into nth chunks of a multiple of `align` items. */
// @ts-ignore: decorator
@inline export function chunkStart(n: i32, tid: i32, nth: i32, align: i32): i32 {
  let per = (n + nth - 1) / nth;
  per = (per + align - 1) / align * align;
  return min(n, per * tid);
}
