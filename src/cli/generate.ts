// `tinystories generate`: synthetic stories through LLM APIs (resumable, exactly-once), --dry-run and --report.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { PriceTable } from '../llm/pricing.ts';
import { estimateTokens } from '../llm/types.ts';
import { UserError } from '../util/errors.ts';
import { featureDistributionFromFile, uniformFeatures } from '../synth/features.ts';
import { generate, promptFor, storyRequestId } from '../synth/generate.ts';
import { resolveTemplate } from '../synth/prompts.ts';
import { formatReport, reportForDir } from '../synth/report.ts';
import { wordListsFor, type Lang } from '../synth/words.ts';
import { num } from './_flags.ts';
import { providerOptions, providerSetup, type ProviderFlags } from './_provider-options.ts';
import { checkOutputPath } from './tokenizer.ts';

interface GenerateFlags extends ProviderFlags {
  count?: string;
  out?: string;
  seed: string;
  lang: string;
  instruct?: boolean;
  dryRun?: boolean;
  report?: string;
  template: string;
  features: string;
  words?: string;
  maxSlots?: string;
  minWords: string;
  maxWords: string;
  maxOov?: string;
  requireWords: boolean;
  dedupThreshold: string;
  show: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('generate')
    .description('generate TinyStories-style data through an LLM API; rerun the same command to resume')
    .option('--count <n>', 'accepted records wanted in the output')
    .option('--out <dir>', 'output directory (stories.jsonl, stories.txt, instruct.txt, report.json, journal.sqlite)')
    .option('--seed <n>', 'prompt sampling seed', '1')
    .option('--lang <lang>', 'en or vi', 'en')
    .option('--instruct', 'also write a summary per story and instruct.txt (TinyStoriesInstruct)')
    .option('--dry-run', 'print prompts and an estimated cost, send nothing')
    .option('--report <dir>', 'print the report of a run directory and exit')
    .option('--template <t>', 'data (released data wording), paper, or a template file', 'data')
    .option('--features <f>', 'uniform, or a feature_combinations.json with real frequencies', 'uniform')
    .option('--words <file>', 'word list JSON {nouns, verbs, adjectives} (default: the bundled list for --lang)')
    .option('--max-slots <n>', 'give up after this many prompts (default 1.5 x count + 20)')
    .option('--min-words <n>', 'shortest story kept', '40')
    .option('--max-words <n>', 'longest story kept', '1000')
    .option('--max-oov <share>', 'largest share of words outside the vocabulary (default 0.3 en, 0.5 vi; 1 = off)')
    .option('--no-require-words', 'keep stories that miss one of the three words')
    .option('--dedup-threshold <j>', 'MinHash Jaccard at which a story is a near duplicate', '0.8')
    .option('--show <n>', 'prompts printed by --dry-run', '5');
  providerOptions(cmd).action(async (f: GenerateFlags) => {
    if (f.report) {
      console.log(formatReport(reportForDir(f.report)));
      return;
    }
    if (!f.count) throw new UserError('--count <n> is required');
    if (!f.out && !f.dryRun) throw new UserError('--out <dir> is required');
    if (f.out && !f.dryRun) checkOutputPath('--out', f.out, 'dir');
    const count = num('--count', f.count, { int: true, min: 1 })!;
    if (f.lang !== 'en' && f.lang !== 'vi') throw new UserError(`--lang: expected en or vi, got "${f.lang}"`);
    const lang = f.lang as Lang;
    const seed = num('--seed', f.seed, { int: true })!;
    const lists = wordListsFor(lang, f.words);
    const features = f.features === 'uniform' ? uniformFeatures() : featureDistributionFromFile(f.features);
    if (f.features !== 'uniform' && !existsSync(f.features)) throw new UserError(`--features ${f.features}: file not found`);
    const template = resolveTemplate(lang, f.template);
    const maxSlots = num('--max-slots', f.maxSlots, { int: true, min: 1 });
    const po = { seed, lists, features, template, lang };
    if (f.dryRun) {
      const show = num('--show', f.show, { int: true })!;
      // read the flags the estimate needs before printing anything, so a bad one fails cleanly up front
      const prices = f.prices ? PriceTable.fromFile(f.prices) : new PriceTable();
      const maxTok = num('--max-tokens', f.maxTokens, { int: true, min: 1 }) ?? 1000;
      for (let i = 0; i < Math.min(show, count); i++) {
        const { spec, prompt } = promptFor(po, i);
        console.log(`--- ${storyRequestId(seed, i, 0)}  words=${spec.words.join(',')}  features=${spec.features.join(',') || '-'}\n${prompt}\n`);
      }
      printEstimate(f, prices, maxTok, count, lang, Array.from({ length: Math.min(count, 200) }, (_, i) => promptFor(po, i).prompt));
      return;
    }
    const setup = providerSetup(f);
    const res = await generate({
      ...setup,
      out: f.out!,
      count,
      lang,
      seed,
      instruct: Boolean(f.instruct),
      lists,
      features,
      template,
      templateName: f.template === 'data' || f.template === 'paper' ? f.template : `file:${f.template}`,
      filters: {
        minWords: num('--min-words', f.minWords, { int: true }),
        maxWords: num('--max-words', f.maxWords, { int: true }),
        maxOovShare: num('--max-oov', f.maxOov),
        requireWords: f.requireWords,
      },
      dedup: { threshold: num('--dedup-threshold', f.dedupThreshold) },
      maxSlots,
    });
    if (!f.quiet) console.error(formatReport(reportForDir(f.out!)));
    if (res.shortfall) throw new UserError(`${f.out}: ${res.accepted}/${res.target} records: ${res.shortfall}`);
  });
}

/** Prints an estimated cost for a run from sample prompts (story output ~250 tokens in English, ~500 in Vietnamese). */
function printEstimate(f: GenerateFlags, prices: PriceTable, maxTok: number, count: number, lang: Lang, prompts: string[]): void {
  const model = f.model ?? '(no --model)';
  const avgIn = prompts.reduce((a, p) => a + estimateTokens(p), 0) / Math.max(1, prompts.length) + 8;
  const outTok = lang === 'vi' ? 500 : 250;
  // 5% of stories are assumed to be filtered out and re-requested.
  const requests = Math.ceil(count * 1.05);
  let usage = { inputTokens: requests * avgIn, outputTokens: requests * outTok };
  let upper = { inputTokens: requests * avgIn, outputTokens: requests * maxTok };
  if (f.instruct) {
    usage = { inputTokens: usage.inputTokens + count * (outTok + 30), outputTokens: usage.outputTokens + count * 50 };
    upper = { inputTokens: upper.inputTokens + count * (maxTok + 30), outputTokens: upper.outputTokens + count * 200 };
  }
  const est = prices.cost(model, usage, Boolean(f.batch));
  const up = prices.cost(model, upper, Boolean(f.batch));
  console.log(`estimate: ${count} records, ~${requests} story requests${f.instruct ? ` + ${count} summary requests` : ''}, ~${Math.round(usage.inputTokens)} input + ~${Math.round(usage.outputTokens)} output tokens`);
  const usd = (x: number) => (x >= 1 ? x.toFixed(2) : x.toPrecision(2));
  if (est === null) console.log(`cost: model "${model}" is not in the price table (pass --prices <file>)`);
  else console.log(`cost: ~$${usd(est)}${f.batch ? ' (batch price)' : ''}; at most ~$${usd(up!)} if every story used --max-tokens ${maxTok}`);
}
