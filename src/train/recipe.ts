// The compute-aware default: `train --minutes N` (and the quickstart) without --preset take the model shape,
// vocabulary, batch, context and learning-rate schedule that gave the lowest held-out loss for that budget in the
// recipe sweep (bench/recipe-sweep.ts → recipe-table.ts). Presets named explicitly keep their meaning.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ModelConfig, resolveConfig } from '../engine/config.ts';
import { numel, paramTable } from '../engine/layout.ts';
import { UserError } from '../util/errors.ts';
import type { TrainSettings } from './settings.ts';
import { RECIPE_TABLE } from './recipe-table.ts';

/** Everything a recipe fixes: the model and the settings that shape training for a budget. */
export interface Recipe {
  /** A short label (the run directory is named after it). */
  name: string;
  /** The model, as a --model-config file would give it (its vocabSize is replaced by `vocabSize`). */
  model: ModelConfig;
  vocabSize: number;
  batchSize: number;
  seqLen: number;
  lr: number;
  lrSchedule: 'cosine' | 'constant';
  warmupSteps: number;
  minLrRatio: number;
  /** Passes over the data the budget may plan at most (see plan.ts). */
  maxEpochs: number | null;
}

/** One row of the recipe table: the best recipe for a budget, with what it scored and how that is known. */
export interface RecipeEntry {
  /** The training budget in minutes. */
  minutes: number;
  recipe: Recipe;
  /** Held-out loss in nats/token at the end of the budget (null = not measured). */
  heldOutLoss: number | null;
  /** Held-out bits per byte at the end of the budget (null = not measured). */
  heldOutBpb: number | null;
  /** 'sweep' = measured by bench/recipe-sweep.ts; 'learning-check' = from the two-model learning check; 'unmeasured'. */
  source: 'sweep' | 'learning-check' | 'unmeasured';
  /** One line on the measurement behind the entry. */
  evidence: string;
}

/** The settings a recipe sets (the model goes through --model-config). */
export const RECIPE_SETTING_KEYS = ['vocabSize', 'batchSize', 'seqLen', 'lr', 'lrSchedule', 'warmupSteps', 'minLrRatio', 'maxEpochs'] as const;

const SOURCE_RANK: Record<RecipeEntry['source'], number> = { sweep: 0, 'learning-check': 1, unmeasured: 2 };

/**
 * The recipe for a budget of `minutes`: among the entries of the largest budget not above it (or the smallest
 * budget, for less time), the best measured one (sweep over learning check over unmeasured, then lowest held-out
 * bits per byte, then nats/token). A recipe chosen for less time is safe with more: the step count and schedule
 * follow the real budget, and early stopping and the epoch cap guard the data.
 * @example chooseRecipe(5).entry.minutes // 3
 */
export function chooseRecipe(minutes: number, table: readonly RecipeEntry[] = RECIPE_TABLE): { entry: RecipeEntry; why: string } {
  if (table.length === 0) throw new UserError('the recipe table is empty; pass --preset');
  const budgets = [...new Set(table.map((e) => e.minutes))].sort((a, b) => a - b);
  const budget = budgets.filter((b) => b <= minutes).at(-1) ?? budgets[0]!;
  const key = (x: number | null) => (x === null ? Infinity : x);
  const entry = table
    .filter((e) => e.minutes === budget)
    .sort((a, b) => SOURCE_RANK[a.source] - SOURCE_RANK[b.source] || key(a.heldOutBpb) - key(b.heldOutBpb) || key(a.heldOutLoss) - key(b.heldOutLoss))[0]!;
  const fit = budget === minutes ? `the ${budget}-minute entry` : budget < minutes ? `the ${budget}-minute entry (the largest budget not above ${minutes} min)` : `the ${budget}-minute entry (the smallest budget in the table)`;
  const score = entry.heldOutBpb !== null ? `${entry.heldOutBpb.toFixed(3)} bits/byte held out` : entry.heldOutLoss !== null ? `${entry.heldOutLoss.toFixed(2)} nats/token held out` : 'no held-out score recorded';
  return { entry, why: `${fit}: ${score}; ${entry.evidence}` };
}

/** A recipe in one line: model shape, parameters, vocabulary, batch, context, schedule. */
export function describeRecipe(r: Recipe): string {
  const cfg = resolveConfig({ ...r.model, vocabSize: r.vocabSize } as ModelConfig);
  const heads = cfg.nKvHeads !== cfg.nHeads ? `${cfg.nHeads}/${cfg.nKvHeads}` : `${cfg.nHeads}`;
  const params = paramTable(cfg).reduce((a, p) => a + numel(p.shape), 0);
  return (
    `${r.name}: ${cfg.arch} d${cfg.dim} L${cfg.nLayers} heads ${heads} (${(params / 1e6).toFixed(2)}M params), vocab ${r.vocabSize}, ` +
    `batch ${r.batchSize} x ${r.seqLen} tokens, lr ${r.lr} ${r.lrSchedule} (warmup ${r.warmupSteps}, floor ${r.minLrRatio}), at most ${r.maxEpochs ?? '∞'} epochs`
  );
}

/**
 * Train settings for a budget when no model was named (no --preset, --model-config or --init): the chosen
 * recipe's values for every recipe setting the user did not give, and its model written to a temporary
 * --model-config file named after the recipe (so the run directory is runs/<recipe>-<date>; the file is removed
 * when the process exits).
 * Returns null when the user named a model or gave no --minutes.
 */
export function recipeSettingsFor(given: Partial<Record<keyof TrainSettings, unknown>>, table: readonly RecipeEntry[] = RECIPE_TABLE): { settings: Partial<TrainSettings>; entry: RecipeEntry; why: string } | null {
  if (typeof given.minutes !== 'number' || given.preset !== undefined || given.modelConfig != null || given.init != null) return null;
  const { entry, why } = chooseRecipe(given.minutes, table);
  const r = entry.recipe;
  const settings: Partial<TrainSettings> = {};
  for (const k of RECIPE_SETTING_KEYS) if (given[k] === undefined) (settings as Record<string, unknown>)[k] = r[k];
  const dir = mkdtempSync(join(tmpdir(), 'tinystories-recipe-'));
  const file = join(dir, `${r.name}.json`);
  writeFileSync(file, JSON.stringify(r.model));
  // Only read while the run is set up (the run keeps its model in config.json), so it goes when the process does.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  settings.modelConfig = file;
  settings.preset = r.name;
  return { settings, entry, why };
}

/** The text of recipe-table.ts for `entries` (what bench/recipe-sweep.ts --write puts there). */
export function recipeTableSource(entries: readonly RecipeEntry[], header: string): string {
  const body = entries.map((e) => `  ${JSON.stringify(e)},`).join('\n');
  return (
    `// The compute-aware recipe table: the best recipe found for each training budget on the reference machine.\n` +
    `// Written by bench/recipe-sweep.ts --write; do not edit by hand. ${header}\n` +
    `import type { RecipeEntry } from './recipe.ts';\n\n` +
    `export const RECIPE_TABLE: readonly RecipeEntry[] = [\n${body}\n];\n`
  );
}

/**
 * The table's rows from sweep trials: for each budget, the trial with the lowest held-out bits per byte (trials
 * without a score are left out), its evidence naming the runner-up.
 */
export function bestPerBudget(trials: ReadonlyArray<{ minutes: number; recipe: Recipe; heldOutLoss: number | null; heldOutBpb: number | null }>, date: string): RecipeEntry[] {
  const out: RecipeEntry[] = [];
  for (const minutes of [...new Set(trials.map((t) => t.minutes))].sort((a, b) => a - b)) {
    const ranked = trials.filter((t) => t.minutes === minutes && t.heldOutBpb !== null && Number.isFinite(t.heldOutBpb)).sort((a, b) => a.heldOutBpb! - b.heldOutBpb!);
    const best = ranked[0];
    if (!best) continue;
    const second = ranked[1];
    out.push({
      minutes,
      recipe: best.recipe,
      heldOutLoss: best.heldOutLoss,
      heldOutBpb: best.heldOutBpb,
      source: 'sweep',
      evidence: `recipe sweep ${date}: best of ${ranked.length} trials at ${minutes} min${second ? `; runner-up ${second.recipe.name} at ${second.heldOutBpb!.toFixed(3)} bits/byte` : ''}`,
    });
  }
  return out;
}
