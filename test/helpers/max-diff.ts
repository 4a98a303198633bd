/** The largest absolute difference between two arrays, and the largest magnitude of `want` (to scale a tolerance). */
export function maxDiff(got: ArrayLike<number>, want: ArrayLike<number>): { diff: number; scale: number } {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
  }
  return { diff, scale };
}
