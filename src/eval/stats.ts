// Summary statistics for evaluation scores: mean with a 95% Student-t interval, a seeded bootstrap interval,
// quantiles and histograms. Plain functions over number arrays; no dependencies.
import { Rng } from '../util/rng.ts';

/** Mean, spread and 95% intervals of a sample. */
export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n-1); 0 when n < 2. */
  sd: number;
  /** Standard error of the mean. */
  se: number;
  /** 95% Student-t interval for the mean: mean ± t(0.975, n-1)·se. [mean, mean] when n < 2. */
  ci95: [number, number];
  min: number;
  max: number;
  median: number;
}

/** Mean and sd; NaN fields when the sample is empty. */
export function summarize(xs: ArrayLike<number>): Summary {
  const n = xs.length;
  if (n === 0) return { n: 0, mean: NaN, sd: NaN, se: NaN, ci95: [NaN, NaN], min: NaN, max: NaN, median: NaN };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i]! - mean) ** 2;
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  const se = n > 1 ? sd / Math.sqrt(n) : 0;
  const half = n > 1 ? studentTQuantile(0.975, n - 1) * se : 0;
  return { n, mean, sd, se, ci95: [mean - half, mean + half], min, max, median: quantile(xs, 0.5) };
}

/** Linear-interpolated quantile (type 7, as numpy's default) of an unsorted sample. */
export function quantile(xs: ArrayLike<number>, q: number): number {
  const a = Float64Array.from(xs as ArrayLike<number>).sort();
  if (a.length === 0) return NaN;
  const h = (a.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(a.length - 1, lo + 1);
  return a[lo]! + (h - lo) * (a[hi]! - a[lo]!);
}

/**
 * Percentile bootstrap 95% interval for the mean, seeded so the report is reproducible.
 * @example bootstrapCi([7, 8, 9], { seed: 1 }) // [7, 9]-ish
 */
export function bootstrapCi(xs: ArrayLike<number>, opts: { resamples?: number; seed?: number } = {}): [number, number] {
  const n = xs.length;
  if (n === 0) return [NaN, NaN];
  const B = opts.resamples ?? 2000;
  const rng = new Rng(opts.seed ?? 1);
  const means = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[rng.int(n)]!;
    means[b] = s / n;
  }
  return [quantile(means, 0.025), quantile(means, 0.975)];
}

/** Counts of integer values in [lo, hi] (index i counts value lo+i); values outside are clamped into the ends. */
export function intHistogram(xs: Iterable<number>, lo: number, hi: number): number[] {
  const out = new Array<number>(hi - lo + 1).fill(0);
  for (const x of xs) out[Math.min(hi, Math.max(lo, Math.round(x))) - lo]!++;
  return out;
}

// ---- Student t quantile via the regularized incomplete beta function (Numerical Recipes' continued fraction).

function logGamma(x: number): number {
  const c = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const ci of c) ser += ci / ++y;
  return -tmp + Math.log((2.5066282746310005 * ser) / x);
}

function betacf(a: number, b: number, x: number): number {
  const FPMIN = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < FPMIN) d = FPMIN;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-14) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const bt = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (bt * betacf(a, b, x)) / a : 1 - (bt * betacf(b, a, 1 - x)) / b;
}

/** CDF of Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * incompleteBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Quantile of Student's t (bisection on the CDF; 1e-10 accurate). studentTQuantile(0.975, 9) ≈ 2.262. */
export function studentTQuantile(p: number, df: number): number {
  if (p === 0.5) return 0;
  let lo = -1000;
  let hi = 1000;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
