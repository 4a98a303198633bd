// Training memory, estimated before anything is allocated: an absurd model size is refused naming the field.
import { totalmem } from 'node:os';
import type { ResolvedConfig } from '../engine/config.ts';
import { actTable, numel, paramTable } from '../engine/layout.ts';
import { UserError } from '../util/errors.ts';

/** The sizes a training run's memory depends on; `B` and `T` are the batch and sequence length. */
type SizeKey = 'nLayers' | 'dim' | 'hidden' | 'nHeads' | 'vocabSize' | 'T' | 'B';

function perLayerLinear(cfg: ResolvedConfig, count: (c: ResolvedConfig) => number): number {
  // Both tables are a fixed part plus one identical block per layer: two layers give the slope, so a config with
  // 500,000 layers is sized without building a 500,000-layer table.
  const at = (L: number) => count({ ...cfg, nLayers: L, windows: new Array<number>(L).fill(cfg.windows[0] ?? 0) });
  const one = at(1);
  return one + (cfg.nLayers - 1) * (at(2) - one);
}

/** Parameters and activation floats of a training model (the engine's own size tables, extrapolated over layers). */
export function trainingFloats(cfg: ResolvedConfig, B: number, T: number): { params: number; acts: number } {
  return {
    params: perLayerLinear(cfg, (c) => paramTable(c).reduce((s, e) => s + numel(e.shape), 0)),
    acts: perLayerLinear(cfg, (c) => actTable(c, B, T).reduce((s, e) => s + e.size, 0)),
  };
}

/** Bytes training needs: weights, gradients and two AdamW moments, plus activations and their gradients (f32). */
export function trainingBytes(cfg: ResolvedConfig, B: number, T: number): number {
  const { params, acts } = trainingFloats(cfg, B, T);
  return 4 * (4 * params + 2 * acts);
}

function gb(bytes: number): string {
  return bytes >= 1e12 ? `${(bytes / 1e12).toFixed(1)} TB` : `${(bytes / 1e9).toFixed(1)} GB`;
}

/**
 * Refuses a model that cannot be trained in this machine's memory, before anything is allocated, naming the size
 * field that makes it so (the one whose reduction to 1 saves the most) as `label` spells it for the user.
 */
export function checkTrainingMemory(
  cfg: ResolvedConfig,
  B: number,
  T: number,
  where: string,
  label: (key: SizeKey) => string,
  limitBytes = totalmem(),
): void {
  const need = trainingBytes(cfg, B, T);
  if (need <= limitBytes) return;
  const sizes: Record<SizeKey, number> = { nLayers: cfg.nLayers, dim: cfg.dim, hidden: cfg.hidden, nHeads: cfg.nHeads, vocabSize: cfg.vocabSize, T, B };
  let worst: SizeKey = 'nLayers';
  let saved = -1;
  for (const key of Object.keys(sizes) as SizeKey[]) {
    const c = key === 'T' || key === 'B' ? cfg : { ...cfg, [key]: 1, ...(key === 'dim' ? { headSize: 1 / cfg.nHeads } : {}) };
    const without = trainingBytes(c, key === 'B' ? 1 : B, key === 'T' ? 1 : T);
    if (need - without > saved) {
      saved = need - without;
      worst = key;
    }
  }
  const params = trainingFloats(cfg, B, T).params;
  throw new UserError(
    `${where}: ${label(worst)} = ${sizes[worst]} makes training need about ${gb(need)} ` +
      `(${params >= 1e9 ? `${(params / 1e9).toFixed(1)}B` : `${(params / 1e6).toFixed(1)}M`} parameters with their gradients and AdamW moments, plus activations for ` +
      `${B} × ${T} tokens); this machine has ${gb(limitBytes)}`,
  );
}
