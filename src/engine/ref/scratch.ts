// Reusable float64 scratch rows for the reference kernels, so they accumulate in double without allocating per call.
// Kernels are synchronous and never nested, so a few fixed slots grown on demand are enough.

const slots: Float64Array[] = [new Float64Array(64), new Float64Array(64), new Float64Array(64)];

/** A zero-filled Float64Array of at least n elements from slot `slot` (0..2); valid until the next call for that slot. */
export function scratch64(slot: 0 | 1 | 2, n: number): Float64Array {
  let s = slots[slot]!;
  if (s.length < n) {
    s = new Float64Array(Math.max(n, 2 * s.length));
    slots[slot] = s;
  } else {
    s.fill(0, 0, n);
  }
  return s;
}
