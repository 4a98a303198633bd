// Held-out bits per byte after N minutes, as a user gets them: `tinystories train --minutes N` with the default
// recipe (no --preset: the recipe table's choice for N minutes) against `--preset 1M --minutes N`, both on the
// embedded corpus (builtin:tinystories) with every other setting at its default (hashed 5% held out, validation
// every 100 steps, early stopping, best/ kept). The score is the best checkpoint's held-out loss, the one whose
// stories the quickstart prints. The PyTorch column of the same table is bench/peer-pytorch.ts --minutes=N.
// Usage: npx tsx bench/budget-figures.ts [--quick] [--budgets=3,10,30] [--contenders=default,1M] [--threads=0]
// --quick: a 3-second budget on builtin:mini (a smoke run, not recorded).
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeRecipe, recipeSettingsFor } from '../src/train/recipe.ts';
import type { TrainSettings } from '../src/train/settings.ts';
import { train } from '../src/train/trainer.ts';

const QUICK = process.argv.includes('--quick');
const opt = (k: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1];
const here = dirname(fileURLToPath(import.meta.url));
const BUDGETS = (opt('budgets') ?? (QUICK ? '0.05' : '3,10,30')).split(',').map(Number);
const CONTENDERS = (opt('contenders') ?? 'default,1M').split(',');
const THREADS = Number(opt('threads') ?? 0);
const DATA = QUICK ? 'builtin:mini' : 'builtin:tinystories';
const resultsFile = join(here, 'results', 'budget-figures.jsonl');

const rows: string[] = [];
for (const minutes of BUDGETS) {
  for (const who of CONTENDERS) {
    const work = mkdtempSync(join(tmpdir(), 'budget-figures-'));
    let settings: Partial<TrainSettings> = { data: DATA, out: join(work, who), minutes, threads: THREADS, sampleEvery: 0, quiet: true, seed: 1337 };
    let label = `--preset ${who}`;
    if (who === 'default') {
      const r = recipeSettingsFor({ minutes })!;
      settings = { ...r.settings, ...settings };
      label = `default (${describeRecipe(r.entry.recipe)})`;
    } else {
      settings.preset = who;
      if (QUICK) Object.assign(settings, { vocabSize: 300, batchSize: 4, seqLen: 32 });
    }
    if (QUICK) Object.assign(settings, { valEvery: 10 });
    console.log(`\n== ${minutes} min: ${label}`);
    const r = await train(settings, { printConfig: false, log: () => {} });
    const line = `| ${minutes} min | ${who} | ${r.bestValBpb?.toFixed(4) ?? '–'} | ${r.bestValLoss?.toFixed(4) ?? '–'} | ${r.bestStep ?? '–'} / ${r.step} | ${Math.round(r.tokensPerSecond).toLocaleString('en-US')} | ${r.reason} |`;
    console.log(line);
    rows.push(line);
    if (!QUICK) {
      mkdirSync(dirname(resultsFile), { recursive: true });
      appendFileSync(resultsFile, JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, threads: THREADS, minutes, contender: who, preset: settings.preset, bestValBpb: r.bestValBpb, bestValLoss: r.bestValLoss, bestStep: r.bestStep, steps: r.step, tokensPerSecond: r.tokensPerSecond, reason: r.reason }) + '\n');
    }
    rmSync(work, { recursive: true, force: true });
  }
}
console.log('\n| budget | contender | held-out bits/byte (best) | nats/token | best step / steps | tokens/s | stop |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) console.log(r);
