// `tinystories train`: the training command (settings: defaults, then --config file, then --key=value flags).
import type { Command } from 'commander';
import { TRAIN_DEFAULTS, type TrainSettings, TrainSettingsSchema } from '../train/settings.ts';
import { kebab, parseFlagValue, parseFlags, readSettingsFile, resolveSettings } from '../train/configurator.ts';
import { describeRecipe, recipeSettingsFor } from '../train/recipe.ts';
import { train } from '../train/trainer.ts';
import { formatSeconds } from '../util/progress.ts';
import { UserError } from '../util/errors.ts';

/** The named options (everything else in the settings is accepted as --key=value). */
const NAMED = ['preset', 'init', 'data', 'out', 'minutes', 'steps', 'seed', 'tokenizer', 'vocabSize'] as const;

export function register(program: Command): void {
  program
    .command('train')
    .description('train a model; writes a run directory that Hugging Face transformers loads as it is')
    .option('--preset <name>', `model preset: 1M, 3M, 8M, 28M, 33M (gpt-neo), 260K, 15M (llama), bench-r (default ${TRAIN_DEFAULTS.preset})`)
    .option('--data <src>', `token-shard dir, file, dir, hf:<owner>/<repo>/<path>, builtin:tinystories or builtin:mini (default ${TRAIN_DEFAULTS.data})`)
    .option('--out <run-dir>', 'run directory (default runs/<preset>-<date>)')
    .option('--minutes <n>', 'train for N minutes (the schedule is set from the measured step time); without --preset, the compute-aware recipe for N minutes picks the model, vocab, batch, context and schedule')
    .option('--steps <n>', 'total optimizer steps (with --resume: train up to this step)')
    .option('--resume <run-dir>', 'continue a run from its latest checkpoint (bit-exact)')
    .option('--init <model>', 'fine-tune: start from these weights (a run, `convert` output, HF folder, hf:<owner>/<repo>, llama2.c .bin, .gguf) with a fresh optimizer')
    .option('--seed <s>', `seed of init, data order and samples (default ${TRAIN_DEFAULTS.seed})`)
    .option('--tokenizer <tokenizer.json>', 'use this tokenizer instead of training one on the data')
    .option('--vocab-size <v>', `vocabulary of the tokenizer trained on the data (default ${TRAIN_DEFAULTS.vocabSize})`)
    .option('--config <file>', 'a JSON file of settings (applied before the flags)')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText(
      'after',
      `\nEvery setting can be given as --key=value (or in --config):\n${Object.entries(TRAIN_DEFAULTS)
        .map(([k, v]) => `  --${kebab(k)}=${JSON.stringify(v)}`)
        .join('\n')}\n\nExamples:\n  tinystories train --preset 1M --data builtin:tinystories --minutes 5\n  tinystories train --preset 260K --data hf:roneneldan/TinyStories/TinyStoriesV2-GPT4-valid.txt --steps 2000 --lr=1e-3\n  tinystories train --resume runs/1M-20260101-120000 --steps 4000\n  tinystories train --init runs/tinystories-1m --data builtin:mini --steps 200 --lr=1e-4`,
    )
    .action(async (opts: Record<string, string | undefined>, cmd: Command) => {
      const explicit: Record<string, unknown> = {};
      for (const key of NAMED) {
        const v = opts[key];
        if (v !== undefined) explicit[key] = parseFlagValue(TrainSettingsSchema, key, v);
      }
      const { values: flagValues, rest } = parseFlags(TrainSettingsSchema, cmd.args);
      if (rest.length) throw new UserError(`train: unexpected argument '${rest[0]}'`);
      const resume = opts.resume ?? null;
      let result;
      if (resume) {
        // Only what was given on this command line overrides the run's saved settings.
        const overrides: Record<string, unknown> = {};
        if (opts.config) Object.assign(overrides, readSettingsFile(TrainSettingsSchema, opts.config));
        Object.assign(overrides, flagValues, explicit);
        result = await train(overrides as Partial<TrainSettings>, { handleSignals: true }, resume);
      } else {
        const given = { ...(opts.config ? readSettingsFile(TrainSettingsSchema, opts.config) : {}), ...flagValues, ...explicit };
        // --minutes without a named model: the compute-aware recipe fills in what the user did not set.
        const recipe = recipeSettingsFor(given);
        if (recipe) {
          process.stderr.write(`no --preset: the compute-aware recipe for ${given.minutes as number} min is ${describeRecipe(recipe.entry.recipe)}\n  why: ${recipe.why}\n  (settings you give override it; --preset <name> trains a named preset as before)\n`);
        }
        const settings = resolveSettings(TrainSettingsSchema, { file: opts.config ?? null, explicit: { ...recipe?.settings, ...flagValues, ...explicit } });
        result = await train(settings, { handleSignals: true });
      }
      if (result.seconds === 0) return; // nothing left to train (the trainer said so)
      const val = result.valLoss !== null ? `, val loss ${result.valLoss.toFixed(3)}${result.valBpb !== null ? ` (${result.valBpb.toFixed(3)} bits/byte)` : ''}` : '';
      const how = result.reason === 'interrupted' ? 'stopped by Ctrl-C at' : result.reason === 'time' ? 'time budget reached at' : result.reason === 'stalled' ? 'stopped early (val loss stopped improving) at' : 'finished';
      process.stderr.write(
        `${how} step ${result.step}/${result.totalSteps}: loss ${result.loss.toFixed(3)}${val} in ${formatSeconds(result.seconds)} (${Math.round(result.tokensPerSecond)} tok/s on ${result.backend})\n` +
          (result.bestValLoss !== null ? `best val loss ${result.bestValLoss.toFixed(3)}${result.bestValBpb !== null ? ` (${result.bestValBpb.toFixed(3)} bits/byte)` : ''} at step ${result.bestStep}, in ${result.runDir}/best\n` : '') +
          `run: ${result.runDir}\n  sample it: tinystories sample --run ${result.runDir}${result.bestValLoss !== null ? '/best' : ''}\n`,
      );
    });
}
