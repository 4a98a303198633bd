// Learning-rate schedules: linear warmup, then cosine decay to a floor or a constant rate (the paper's choice).

export interface ScheduleSettings {
  /** Peak learning rate. */
  lr: number;
  lrSchedule: 'cosine' | 'constant';
  /** Steps of linear warmup from lr/warmupSteps up to lr. */
  warmupSteps: number;
  /** The cosine floor as a fraction of lr. */
  minLrRatio: number;
}

/**
 * The learning rate for optimizer step `step` (0-based) of `totalSteps`.
 * @example learningRate({ lr: 1e-3, lrSchedule: 'cosine', warmupSteps: 10, minLrRatio: 0.1 }, 5, 100) // 6e-4
 */
export function learningRate(s: ScheduleSettings, step: number, totalSteps: number): number {
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  if (s.lrSchedule === 'constant') return s.lr;
  const decaySteps = Math.max(1, totalSteps - s.warmupSteps);
  const progress = Math.min(1, (step - s.warmupSteps) / decaySteps);
  const minLr = s.lr * s.minLrRatio;
  return minLr + 0.5 * (s.lr - minLr) * (1 + Math.cos(Math.PI * progress));
}
