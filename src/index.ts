// The public library surface of tinystories: re-exports only; everything not listed here is internal.
export { UserError } from './util/errors.ts';
export { Rng } from './util/rng.ts';
export { Progress } from './util/progress.ts';
export type { Backend, Kernels } from './engine/backend.ts';
