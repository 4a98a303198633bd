// Optional per-kernel timing for any Backend: a wrapper that adds each kernel call's wall time to a table.
import type { Backend, Kernels } from '../backend.ts';
import { refKernels } from '../ref/index.ts';

export interface KernelTime {
  kernel: string;
  ms: number;
  calls: number;
}

/** A Backend that forwards to `inner` and times every kernel call; `times()` lists them, largest first. */
export function instrumentBackend<B extends Backend>(inner: B): { backend: B; times(): KernelTime[]; reset(): void } {
  const acc = new Map<string, { ms: number; calls: number }>();
  const wrapped = Object.create(inner) as B;
  // methods that touch state run on the inner object (assignments through the wrapper would shadow its fields)
  for (const name of ['alloc', 'allocI32', 'dispose'] as const) {
    (wrapped as unknown as Record<string, unknown>)[name] = (inner[name] as (...a: unknown[]) => unknown).bind(inner);
  }
  for (const name of Object.keys(refKernels) as Array<keyof Kernels>) {
    const f = (inner[name] as (...a: unknown[]) => unknown).bind(inner);
    const slot = { ms: 0, calls: 0 };
    acc.set(name, slot);
    (wrapped as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const t0 = performance.now();
      const r = f(...args);
      slot.ms += performance.now() - t0;
      slot.calls++;
      return r;
    };
  }
  return {
    backend: wrapped,
    times: () => [...acc].filter(([, s]) => s.calls > 0).map(([kernel, s]) => ({ kernel, ms: s.ms, calls: s.calls })).sort((a, b) => b.ms - a.ms),
    reset: () => {
      for (const s of acc.values()) {
        s.ms = 0;
        s.calls = 0;
      }
    },
  };
}
