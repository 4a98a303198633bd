// `tinystories generate`: synthetic stories through LLM APIs (resumable, exactly-once), --dry-run and --report.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { createBatchClient, createProvider, type ProviderName } from '../llm/index.ts';
import { PriceTable } from '../llm/pricing.ts';
import { estimateTokens } from '../llm/types.ts';
import { UserError } from '../util/errors.ts';
import { featureDistributionFromFile, uniformFeatures } from '../synth/features.ts';
import { generate, promptFor, storyRequestId } from '../synth/generate.ts';
import { resolveTemplate } from '../synth/prompts.ts';
import { formatReport, reportForDir } from '../synth/report.ts';
import { wordListsFor, type Lang } from '../synth/words.ts';

/** Parses a positive (or non-negative) number option, naming the flag on error. */
export function num(flag: string, v: string | undefined, opts: { int?: boolean; min?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || (opts.int && !Number.isInteger(x)) || x < (opts.min ?? 0)) {
    throw new UserError(`${flag}: expected ${opts.int ? 'an integer' : 'a number'} >= ${opts.min ?? 0}, got "${v}"`);
  }
  return x;
}

export interface ProviderFlags {
  provider: string;
  baseUrl?: string;
  model?: string;
  concurrency?: string;
  rpm?: string;
  tpm?: string;
  timeout?: string;
  maxRetries?: string;
  temperature?: string;
  maxTokens?: string;
  prices?: string;
  batch?: boolean;
  poll?: string;
  stream?: boolean;
  quiet?: boolean;
  attempts?: string;
  maxFailures?: string;
}

/** Adds the provider/scheduler flags shared by generate and translate. */
export function providerOptions(cmd: Command): Command {
  return cmd
    .option('--provider <name>', 'openai (any OpenAI-compatible server) or anthropic', 'openai')
    .option('--base-url <url>', 'API base URL, e.g. http://127.0.0.1:8000/v1 (vLLM, Ollama, llama.cpp, OpenRouter); Anthropic: host without /v1')
    .option('--model <id>', 'model id')
    .option('--concurrency <n>', 'requests in flight', '16')
    .option('--rpm <n>', 'requests per minute limit')
    .option('--tpm <n>', 'tokens per minute limit')
    .option('--timeout <s>', 'per-request timeout in seconds', '120')
    .option('--max-retries <n>', 'retries on 429/5xx/timeouts', '6')
    .option('--temperature <t>', 'sampling temperature (default 1 for openai, the API default for anthropic)')
    .option('--max-tokens <n>', 'max output tokens per story', '1000')
    .option('--prices <file>', 'JSON price overrides {"model": {"input": usd_per_M, "output": usd_per_M}}')
    .option('--batch', 'use the provider batch API (half price, results within 24 h)')
    .option('--poll <s>', 'batch poll interval in seconds', '30')
    .option('--stream', 'stream responses (OpenAI-compatible)')
    .option('--attempts <n>', 'requests per record before it is given up', '2')
    .option('--max-failures <n>', 'stop after this many requests failed even after retries (rerun resumes)', '20')
    .option('--quiet', 'no progress output');
}

/** Provider, scheduler, prices and batch settings from the shared flags. */
export function providerSetup(f: ProviderFlags) {
  if (f.provider !== 'openai' && f.provider !== 'anthropic') throw new UserError(`--provider: expected openai or anthropic, got "${f.provider}"`);
  if (!f.model) throw new UserError('--model <id> is required (e.g. gpt-4o-mini, claude-haiku-4-5)');
  const timeoutMs = (num('--timeout', f.timeout) ?? 120) * 1000;
  const provider = createProvider({ provider: f.provider as ProviderName, baseURL: f.baseUrl, timeoutMs, stream: f.stream });
  const temperature = num('--temperature', f.temperature) ?? (f.provider === 'openai' ? 1 : undefined);
  return {
    provider,
    providerName: f.provider,
    model: f.model,
    temperature,
    maxTokens: num('--max-tokens', f.maxTokens, { int: true, min: 1 }) ?? 1000,
    scheduler: {
      concurrency: num('--concurrency', f.concurrency, { int: true, min: 1 }),
      rpm: num('--rpm', f.rpm, { min: 1 }),
      tpm: num('--tpm', f.tpm, { min: 1 }),
      maxRetries: num('--max-retries', f.maxRetries, { int: true }),
      timeoutMs,
    },
    prices: f.prices ? PriceTable.fromFile(f.prices) : new PriceTable(),
    batch: f.batch ? { client: createBatchClient(provider), pollMs: (num('--poll', f.poll) ?? 30) * 1000 } : undefined,
    attemptsPerSlot: num('--attempts', f.attempts, { int: true, min: 1 }),
    maxFailures: num('--max-failures', f.maxFailures, { int: true, min: 1 }),
    quiet: f.quiet,
  };
}

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
      for (let i = 0; i < Math.min(show, count); i++) {
        const { spec, prompt } = promptFor(po, i);
        console.log(`--- ${storyRequestId(seed, i, 0)}  words=${spec.words.join(',')}  features=${spec.features.join(',') || '-'}\n${prompt}\n`);
      }
      printEstimate(f, count, lang, Array.from({ length: Math.min(count, 200) }, (_, i) => promptFor(po, i).prompt));
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
function printEstimate(f: GenerateFlags, count: number, lang: Lang, prompts: string[]): void {
  const prices = f.prices ? PriceTable.fromFile(f.prices) : new PriceTable();
  const model = f.model ?? '(no --model)';
  const avgIn = prompts.reduce((a, p) => a + estimateTokens(p), 0) / Math.max(1, prompts.length) + 8;
  const outTok = lang === 'vi' ? 500 : 250;
  const maxTok = Number(f.maxTokens ?? 1000);
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
