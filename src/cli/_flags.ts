// The CLI's flag parsers, one per flag type, shared by every command: numbers and integers with a range, thread
// counts (capped at the core count), and the backend kind. Each error is one line naming the flag and the value.
// Settings-file commands (train, sample, quickstart) parse through their zod schemas instead (train/configurator.ts).
import type { BackendKind } from '../engine/open-backend.ts';
import { UserError } from '../util/errors.ts';
import { resolveThreads } from '../util/threads.ts';

/** The accepted range of a number flag. `below` is an exclusive upper bound. */
export interface NumberRange {
  int?: boolean;
  min?: number;
  max?: number;
  below?: number;
}

function describe(r: NumberRange): string {
  const kind = r.int ? 'an integer' : 'a number';
  if (r.below !== undefined) return `${kind} in [${r.min ?? '-∞'}, ${r.below})`;
  if (r.min !== undefined && r.max !== undefined) return `${kind} in [${r.min}, ${r.max}]`;
  if (r.min !== undefined) return `${kind} >= ${r.min}`;
  if (r.max !== undefined) return `${kind} <= ${r.max}`;
  return kind;
}

/**
 * Parses a number flag's value; a blank value is refused (Number('') is 0).
 * @example parseNumber('--top-p', '0.9', { min: 0, max: 1 }) // 0.9; '2' throws "--top-p: expected a number in [0, 1], got "2""
 */
export function parseNumber(flag: string, v: string, r: NumberRange = {}): number {
  const x = v.trim() === '' ? NaN : Number(v);
  const bad = !Number.isFinite(x) || (r.int && !Number.isSafeInteger(x)) || (r.min !== undefined && x < r.min) || (r.max !== undefined && x > r.max) || (r.below !== undefined && x >= r.below);
  if (bad) throw new UserError(`${flag}: expected ${describe(r)}, got ${JSON.stringify(v)}`);
  return x;
}

/**
 * An optional number flag: undefined when absent. Without `range.min` the value must be >= 0 (most flags are counts,
 * sizes or rates); pass `{ min: -Infinity }`-style bounds explicitly where negatives make sense.
 */
export function num(flag: string, v: string | undefined, range: NumberRange = {}): number | undefined {
  if (v === undefined) return undefined;
  return parseNumber(flag, v, { ...range, min: range.min ?? 0 });
}

/** A commander argument parser for a number flag (`.option('--x <n>', desc, numArg('--x', { min: 1 }))`). */
export function numArg(flag: string, range: NumberRange = {}): (v: string) => number {
  return (v: string) => parseNumber(flag, v, range);
}

/** A commander argument parser for an integer flag in [min, max]. */
export function intArg(flag: string, min: number, max?: number): (v: string) => number {
  return numArg(flag, { int: true, min, max });
}

/** The compute backends a `--backend` flag accepts. */
export const BACKEND_KINDS: readonly BackendKind[] = ['auto', 'wasm', 'ref', 'webgpu'];

/** Parses `--backend`: an unknown value is an error (it used to act as `auto` silently in some commands). */
export function parseBackendKind(v: string | undefined, fallback: BackendKind = 'auto', flag = '--backend'): BackendKind {
  if (v === undefined) return fallback;
  if (!(BACKEND_KINDS as readonly string[]).includes(v)) throw new UserError(`${flag}: expected ${BACKEND_KINDS.join(', ')}, got ${JSON.stringify(v)}`);
  return v as BackendKind;
}

/**
 * Parses a thread-count flag (0 = all cores); a count above the core count is capped with a note on `log`.
 * @example parseThreads('--threads', '999', 0, console.error) // 2 on a 2-core machine
 */
export function parseThreads(flag: string, v: string | undefined, fallback: number, log: (line: string) => void = (l) => process.stderr.write(l + '\n'), min = 0): number {
  const n = v === undefined ? fallback : parseNumber(flag, v, { int: true, min });
  return n === 0 ? 0 : resolveThreads(n, flag, log);
}

/** A commander argument parser for a thread-count flag: an integer >= min, capped at the core count with a note. */
export function threadsArg(flag: string, min = 1): (v: string) => number {
  return (v: string) => parseThreads(flag, v, min, undefined, min);
}
