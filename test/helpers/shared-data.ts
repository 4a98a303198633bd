// Where tests and benchmarks find the real data samples: ../shared/data beside the repository root (never an
// absolute path of one machine), overridable with TINYSTORIES_SHARED_DATA, and how a data-backed test skips.
//
// A data-backed test skips with a reason that starts with SHARED_SKIP_PREFIX when its files are absent. When
// TINYSTORIES_REQUIRE_SHARED_DATA=1 (set by .ci/run whenever ../shared/data exists), an absent file is an error
// instead, so CI cannot pass while the only evidence for GPT-2 parity, GSM8K, etc. silently skipped.
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (two levels above this file). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Every data-backed skip reason starts with this, so a log can be searched for them. */
export const SHARED_SKIP_PREFIX = 'shared data absent:';

/** The shared data folder: $TINYSTORIES_SHARED_DATA (relative to the current folder) or ../shared/data from the repo root. */
export function sharedDataDir(): string {
  const env = process.env.TINYSTORIES_SHARED_DATA;
  if (env) return isAbsolute(env) ? env : resolve(env);
  return join(REPO_ROOT, '..', 'shared', 'data');
}

/** The absolute path of a file or folder inside the shared data, e.g. `sharedData('gsm8k', 'train.part1.jsonl')`. */
export function sharedData(...parts: string[]): string {
  return join(sharedDataDir(), ...parts);
}

function requireMode(): boolean {
  return process.env.TINYSTORIES_REQUIRE_SHARED_DATA === '1';
}

/**
 * Whether the named shared file (or folder) exists. When it is absent and TINYSTORIES_REQUIRE_SHARED_DATA=1, throws
 * instead, so the data-backed test fails rather than falling back or skipping.
 */
export function hasSharedData(...parts: string[]): boolean {
  const p = sharedData(...parts);
  if (existsSync(p)) return true;
  if (requireMode()) throw new Error(`TINYSTORIES_REQUIRE_SHARED_DATA=1 but ${p} is absent (set TINYSTORIES_SHARED_DATA to the data folder)`);
  return false;
}

/**
 * A `skip` option for a data-backed test: false when every named path exists, else a reason starting with
 * SHARED_SKIP_PREFIX (printed by the test runner). Each argument is one path, as a string or an array of parts.
 * Throws in require mode (see hasSharedData).
 * @example test('GSM8K parses', { skip: sharedSkip('gsm8k') }, () => { ... })
 */
export function sharedSkip(...paths: (string | string[])[]): string | false {
  const missing = paths.map((p) => (Array.isArray(p) ? p : [p])).filter((parts) => !hasSharedData(...parts));
  return missing.length ? `${SHARED_SKIP_PREFIX} ${missing.map((parts) => sharedData(...parts)).join(', ')}` : false;
}
