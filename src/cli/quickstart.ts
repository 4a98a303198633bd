// `tinystories quickstart` (npm start): get TinyStories (or the embedded corpus offline), train a tokenizer and a
// small model for a few minutes on the CPU, and print three stories it writes.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { presetConfig } from '../engine/config.ts';
import { downloadHf, hfCachePath, parseHfSpec } from '../data/hf.ts';
import { generateText } from '../sample/generate.ts';
import { loadRunModel } from '../sample/load.ts';
import { openBackend } from '../engine/open-backend.ts';
import { parseFlagValue, parseFlags, resolveSettings } from '../train/configurator.ts';
import type { TrainSettings } from '../train/settings.ts';
import { describeRecipe, recipeSettingsFor } from '../train/recipe.ts';
import { hasTrainConfig } from '../train/run-config.ts';
import { train } from '../train/trainer.ts';
import { UserError } from '../util/errors.ts';
import { formatSeconds } from '../util/progress.ts';
import { Rng } from '../util/rng.ts';

export const TINYSTORIES_VALID = 'hf:roneneldan/TinyStories/TinyStoriesV2-GPT4-valid.txt';

export const QuickstartSettingsSchema = z.strictObject({
  /** Training time in minutes (the tokenizer and data preparation come on top, usually seconds). */
  minutes: z.number().positive().default(3),
  /** Data source; null = the TinyStories V2 validation file from the hub, or builtin:tinystories (embedded) when offline. */
  data: z.string().nullable().default(null),
  /** Run directory (default runs/quickstart-<date>). */
  out: z.string().nullable().default(null),
  /** A named model preset; null = the compute-aware recipe for --minutes (src/train/recipe.ts). */
  preset: z.string().nullable().default(null),
  /** Null = the recipe's value (or, with --preset, the preset defaults below). */
  vocabSize: z.number().int().min(257).nullable().default(null),
  seqLen: z.number().int().positive().nullable().default(null),
  batchSize: z.number().int().positive().nullable().default(null),
  lr: z.number().positive().nullable().default(null),
  /** Seconds to wait for the hub to start sending before falling back to the embedded corpus. */
  downloadTimeout: z.number().positive().default(15),
  backend: z.enum(['auto', 'wasm', 'ref', 'webgpu']).default('auto'),
  seed: z.number().int().default(1337),
});
export type QuickstartSettings = z.infer<typeof QuickstartSettingsSchema>;

/**
 * Downloads the hub file unless it is already cached; gives up (resolving null) when nothing arrives within
 * `timeoutS` seconds or the hub is unreachable. A download that is making progress is waited for.
 */
async function tryDownload(spec: string, timeoutS: number, say: (l: string) => void): Promise<string | null> {
  const dest = hfCachePath(parseHfSpec(spec));
  if (existsSync(dest)) return dest;
  say(`downloading ${spec.slice(3)} (about 22 MB, cached for next time)...`);
  const download = downloadHf(spec, { idleTimeoutMs: timeoutS * 1000, maxResumes: 2 }).then(
    (p) => ({ ok: true as const, p }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  const part = dest + '.part';
  let lastSize = -1;
  let idleSince = Date.now();
  for (;;) {
    const r = await Promise.race([download, new Promise<null>((res) => setTimeout(() => res(null), 500))]);
    if (r) {
      if (r.ok) return r.p;
      say(`  the hub is not reachable (${(r.e as Error).message.split('\n')[0]})`);
      return null;
    }
    const size = existsSync(part) ? statSync(part).size : -1;
    if (size !== lastSize) {
      lastSize = size;
      idleSince = Date.now();
    } else if (Date.now() - idleSince > timeoutS * 1000) {
      say(`  no data from the hub for ${timeoutS} s`);
      return null;
    }
  }
}

/** The three stories' prompts and sampling (the quickstart test regenerates them from the run to check the output). */
export const STORY_PROMPTS = ['Once upon a time', 'Tom and his dog', 'Lily wanted to'];
export const STORY_SAMPLING = { temperature: 0.8, topP: 0.95, maxTokens: 150 };

/** Runs the quickstart; returns the run directory. */
export async function runQuickstart(s: QuickstartSettings): Promise<string> {
  const say = (l: string) => process.stderr.write(l + '\n');
  const t0 = performance.now();
  // Settings that need no data are checked before the download and the tokenizer.
  let model: Partial<TrainSettings>;
  const given = { minutes: s.minutes, vocabSize: s.vocabSize ?? undefined, seqLen: s.seqLen ?? undefined, batchSize: s.batchSize ?? undefined, lr: s.lr ?? undefined };
  if (s.preset === null) {
    const r = recipeSettingsFor(given)!;
    model = { ...given, ...r.settings };
    say(`recipe for ${s.minutes} min: ${describeRecipe(r.entry.recipe)}\n  why: ${r.why}`);
  } else {
    try {
      presetConfig(s.preset);
    } catch (e) {
      throw e instanceof UserError ? new UserError(`--preset: ${e.message}`) : e;
    }
    // a named preset keeps the quickstart's earlier settings
    model = { preset: s.preset, vocabSize: s.vocabSize ?? 2048, seqLen: s.seqLen ?? 128, batchSize: s.batchSize ?? 16, lr: s.lr ?? 3e-3, warmupSteps: 30 };
  }
  if (s.out && hasTrainConfig(s.out)) throw new UserError(`--out: ${s.out} already holds a run; continue it with tinystories train --resume ${s.out}, or choose another --out`);
  say(`tinystories quickstart: a tiny story model trained on this CPU for ${s.minutes} min`);
  let data = s.data;
  if (!data) {
    const path = await tryDownload(TINYSTORIES_VALID, s.downloadTimeout, say);
    if (path) data = TINYSTORIES_VALID;
    else {
      data = 'builtin:tinystories';
      say('offline: using the embedded TinyStories sample instead (builtin:tinystories: 4,043 stories, CDLA-Sharing-1.0)');
    }
  }
  const result = await train(
    {
      ...model,
      data,
      out: s.out,
      minutes: s.minutes,
      backend: s.backend,
      seed: s.seed,
      valEvery: 50,
      sampleEvery: 0,
      checkpointEvery: 100,
    },
    { handleSignals: true, printConfig: false },
  );
  // The stories come from the best checkpoint (lowest validation loss), not the last weights, which may have
  // started to overfit.
  const best = join(result.runDir, 'best');
  const from = result.bestValLoss !== null && existsSync(join(best, 'model.safetensors')) ? best : result.runDir;
  const bpb = (x: number | null) => (x === null ? '' : ` = ${x.toFixed(3)} bits/byte`);
  const stopped = result.reason === 'stalled' ? ', stopped early as val loss stopped improving' : '';
  if (from === best) say(`\nbest val loss ${result.bestValLoss!.toFixed(3)} nats/token${bpb(result.bestValBpb)} at step ${result.bestStep} of ${result.step}${stopped} (${Math.round(result.tokensPerSecond)} tokens/s on ${result.backend}). Three stories from that checkpoint (best/):\n`);
  else say(`\nval loss ${result.valLoss?.toFixed(3) ?? '?'}${bpb(result.valBpb)} after ${result.step} steps (${Math.round(result.tokensPerSecond)} tokens/s on ${result.backend}). Three stories:\n`);
  const backend = await openBackend('ref', 1);
  try {
    const { model, tokenizer } = loadRunModel(from, backend);
    const rng = new Rng(s.seed);
    for (const prompt of STORY_PROMPTS) {
      process.stdout.write(prompt);
      const text = await generateText(model, tokenizer, prompt, { ...STORY_SAMPLING, rng });
      process.stdout.write(text.trimEnd() + '\n\n');
    }
  } finally {
    backend.dispose();
  }
  say(`run: ${result.runDir}  (${formatSeconds((performance.now() - t0) / 1000)} in all)`);
  say(`more stories: tinystories sample --run ${from} --num 3`);
  say(`train longer: tinystories train --resume ${result.runDir} --minutes 30`);
  return result.runDir;
}

export function register(program: Command): void {
  program
    .command('quickstart')
    .description('download TinyStories (or use the embedded corpus offline), train a small model for a few minutes, print 3 stories')
    .option('--minutes <n>', 'training time in minutes (default 3)')
    .option('--data <src>', 'data source instead of the TinyStories V2 validation file')
    .option('--out <run-dir>', 'run directory')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', `\nOther settings as --key=value: ${Object.keys(QuickstartSettingsSchema.shape).map((k) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(' ')}`)
    .action(async (opts: Record<string, string | undefined>, cmd: Command) => {
      const explicit: Record<string, unknown> = {};
      for (const key of ['minutes', 'data', 'out'] as const) if (opts[key] !== undefined) explicit[key] = parseFlagValue(QuickstartSettingsSchema, key, opts[key]!);
      const { values, rest } = parseFlags(QuickstartSettingsSchema, cmd.args);
      if (rest.length) throw new UserError(`quickstart: unexpected argument '${rest[0]}'`);
      await runQuickstart(resolveSettings(QuickstartSettingsSchema, { explicit: { ...values, ...explicit } }));
      // A hub download abandoned after the timeout may still hold the event loop open.
      process.exit(0);
    });
}
