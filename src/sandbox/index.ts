// The Python sandbox: a reused pool of Pyodide workers with time and memory limits, and result normalization.
export { SandboxPool, type ExecResult, type FailureKind, type SandboxOptions, type SandboxStats, type RunOptions } from './pool.ts';
export { normalizeValue, parseNumericString, answersMatch, type RawValue, type Normalized } from './normalize.ts';
