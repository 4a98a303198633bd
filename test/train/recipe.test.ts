// The compute-aware default: choosing a recipe from the table by budget and evidence, filling only the settings a
// user did not give, and `train --minutes N` without --preset training the chosen model and saying why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { resolveConfig, type ModelConfig } from '../../src/engine/config.ts';
import { bestPerBudget, chooseRecipe, describeRecipe, recipeSettingsFor, recipeTableSource, type Recipe, type RecipeEntry } from '../../src/train/recipe.ts';
import { RECIPE_TABLE } from '../../src/train/recipe-table.ts';
import { TINY_LLAMA, TINY_NEO, writeStoriesFile } from './fixture-stories.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');
const dir = mkdtempSync(join(tmpdir(), 'recipe-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const recipe = (name: string, model: object, lr = 1e-3): Recipe => ({ name, model: model as ModelConfig, vocabSize: 512, batchSize: 8, seqLen: 64, lr, lrSchedule: 'cosine', warmupSteps: 10, minLrRatio: 0.1, maxEpochs: 10 });
const entry = (minutes: number, r: Recipe, source: RecipeEntry['source'], heldOutBpb: number | null): RecipeEntry => ({ minutes, recipe: r, heldOutLoss: null, heldOutBpb, source, evidence: `${r.name} at ${minutes}` });
const TABLE: RecipeEntry[] = [
  entry(3, recipe('neo-small', TINY_NEO), 'sweep', 1.6),
  entry(3, recipe('llama-small', TINY_LLAMA), 'sweep', 1.4),
  entry(3, recipe('llama-guess', TINY_LLAMA), 'unmeasured', null),
  entry(10, recipe('llama-mid', TINY_LLAMA), 'sweep', 1.2),
  entry(10, recipe('llama-lc', TINY_LLAMA), 'learning-check', 1.0),
  entry(30, recipe('neo-big', TINY_NEO), 'sweep', 1.1),
];

test('the recipe for N minutes is the best measured entry of the largest budget not above N', () => {
  assert.equal(chooseRecipe(3, TABLE).entry.recipe.name, 'llama-small', 'lowest bits/byte among sweep entries');
  assert.equal(chooseRecipe(5, TABLE).entry.recipe.name, 'llama-small');
  assert.equal(chooseRecipe(10, TABLE).entry.recipe.name, 'llama-mid', 'a sweep measurement outranks a learning-check one');
  assert.equal(chooseRecipe(29.9, TABLE).entry.recipe.name, 'llama-mid');
  assert.equal(chooseRecipe(120, TABLE).entry.recipe.name, 'neo-big');
  const tiny = chooseRecipe(0.5, TABLE);
  assert.equal(tiny.entry.minutes, 3);
  assert.match(tiny.why, /^the 3-minute entry \(the smallest budget in the table\): 1\.400 bits\/byte held out; llama-small at 3$/);
  assert.match(chooseRecipe(5, TABLE).why, /the largest budget not above 5 min/);
  assert.throws(() => chooseRecipe(3, []), /recipe table is empty/);
});

test('recipe settings fill only what the user did not give, and apply only with --minutes and no named model', () => {
  assert.equal(recipeSettingsFor({ steps: 100 }, TABLE), null);
  assert.equal(recipeSettingsFor({ minutes: 3, preset: '1M' }, TABLE), null);
  assert.equal(recipeSettingsFor({ minutes: 3, modelConfig: 'm.json' }, TABLE), null);
  const r = recipeSettingsFor({ minutes: 3, lr: 5e-4, seqLen: 32 }, TABLE)!;
  assert.equal(r.entry.recipe.name, 'llama-small');
  assert.equal(r.settings.lr, undefined);
  assert.equal(r.settings.seqLen, undefined);
  assert.equal(r.settings.vocabSize, 512);
  assert.equal(r.settings.maxEpochs, 10);
  assert.equal(r.settings.preset, 'llama-small');
  assert.equal(basename(r.settings.modelConfig!), 'llama-small.json');
  assert.deepEqual(JSON.parse(readFileSync(r.settings.modelConfig!, 'utf8')), TINY_LLAMA);
});

test('the shipped table covers 3, 10 and 30 minutes with valid models and states its evidence honestly', () => {
  assert.deepEqual([...new Set(RECIPE_TABLE.map((e) => e.minutes))].sort((a, b) => a - b), [3, 10, 30]);
  for (const e of RECIPE_TABLE) {
    resolveConfig({ ...e.recipe.model, vocabSize: e.recipe.vocabSize } as ModelConfig);
    assert.ok(e.evidence.length > 20);
    if (e.source === 'sweep') assert.ok(e.heldOutBpb !== null, 'a sweep entry carries its measured bits per byte');
    if (e.source !== 'sweep') assert.match(e.evidence, /sweep has not been run|not measured/);
  }
  const r3 = RECIPE_TABLE[0]!.recipe;
  assert.match(describeRecipe(r3), new RegExp(`^${r3.name}: ${r3.model.arch} d${r3.model.dim} L${r3.model.nLayers} heads \\d+(/\\d+)? \\(0\\.\\d\\dM params\\), vocab ${r3.vocabSize}, batch ${r3.batchSize} x ${r3.seqLen} tokens, lr ${r3.lr} ${r3.lrSchedule}`));
});

test('CLI: train --minutes without --preset trains the recipe model and says why; --preset keeps its meaning', () => {
  const data = join(dir, 'stories.txt');
  writeStoriesFile(data, 60, 3);
  const runs = join(dir, 'runs');
  const common = ['--data', data, '--minutes', '0.02', '--vocab-size', '300', '--batch-size=4', '--seq-len=32', '--backend=ref', '--val-every=0', '--quiet'];
  const r = spawnSync(process.execPath, [CLI, 'train', ...common, '--out', join(runs, 'recipe')], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const chosen = RECIPE_TABLE.filter((e) => e.minutes === 3)[0]!.recipe; // the smallest budget's entry (one per budget)
  assert.match(r.stderr, new RegExp(`^no --preset: the compute-aware recipe for 0\\.02 min is ${chosen.name}: ${chosen.model.arch} d${chosen.model.dim} L${chosen.model.nLayers}`, 'm'));
  assert.match(r.stderr, /^ {2}why: the 3-minute entry \(the smallest budget in the table\)/m);
  const hf = JSON.parse(readFileSync(join(runs, 'recipe', 'config.json'), 'utf8'));
  assert.equal(hf.model_type, chosen.model.arch === 'llama' ? 'llama' : 'gpt_neo');
  assert.equal(hf.hidden_size, chosen.model.dim);
  assert.equal(hf.vocab_size, 300, 'the vocab size given overrides the recipe');
  const saved = JSON.parse(readFileSync(join(runs, 'recipe', 'train_config.json'), 'utf8')).settings;
  assert.equal(saved.preset, chosen.name);
  assert.equal(saved.lr, chosen.lr);
  assert.equal(saved.maxEpochs, chosen.maxEpochs);
  const p = spawnSync(process.execPath, [CLI, 'train', ...common, '--preset', '1M', '--out', join(runs, 'preset')], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(p.status, 0, p.stderr);
  assert.doesNotMatch(p.stderr, /compute-aware recipe/);
  assert.equal(JSON.parse(readFileSync(join(runs, 'preset', 'config.json'), 'utf8')).model_type, 'gpt_neo');
  assert.deepEqual(readdirSync(runs).sort(), ['preset', 'recipe']);
});

test('the sweep keeps the lowest held-out bits per byte per budget and writes a table module that loads', async () => {
  const trials = [
    { minutes: 3, recipe: recipe('a', TINY_NEO), heldOutLoss: 3.0, heldOutBpb: 1.5 },
    { minutes: 3, recipe: recipe('b', TINY_LLAMA), heldOutLoss: 2.9, heldOutBpb: 1.3 },
    { minutes: 3, recipe: recipe('c', TINY_LLAMA), heldOutLoss: null, heldOutBpb: null },
    { minutes: 10, recipe: recipe('d', TINY_LLAMA), heldOutLoss: 2.5, heldOutBpb: 1.1 },
  ];
  const rows = bestPerBudget(trials, '2026-12-06');
  assert.deepEqual(rows.map((r) => [r.minutes, r.recipe.name, r.source]), [[3, 'b', 'sweep'], [10, 'd', 'sweep']]);
  assert.equal(rows[0]!.evidence, 'recipe sweep 2026-12-06: best of 2 trials at 3 min; runner-up a at 1.500 bits/byte');
  const file = join(dir, 'recipe-table.ts');
  writeFileSync(file, recipeTableSource(rows, 'test').replace("from './recipe.ts'", `from '${join(import.meta.dirname, '..', '..', 'src', 'train', 'recipe.ts')}'`));
  const mod = (await import(file)) as { RECIPE_TABLE: RecipeEntry[] };
  assert.deepEqual(mod.RECIPE_TABLE, rows);
  assert.equal(chooseRecipe(3, mod.RECIPE_TABLE).entry.recipe.name, 'b');
});
