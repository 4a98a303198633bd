// `tinystories eval gpt|metrics|instruct`: GPT-Eval with an LLM judge, automatic metrics, Instruct evaluation.
import { Command, Option } from 'commander';
import { existsSync, statSync } from 'node:fs';
import type { ProviderName } from '../llm/index.ts';
import { GPT_EVAL_DEFAULTS, runGptEval, type JudgeConfig } from '../eval/gpt-eval.ts';
import { runInstructEval } from '../eval/instruct.ts';
import { compareMetricsReports, compareReports, isMetricsReport } from '../eval/compare.ts';
import { METRICS_DEFAULTS, runMetrics } from '../eval/metrics.ts';
import { DIMENSIONS } from '../eval/grades.ts';
import { HUB_BEGINNINGS } from '../eval/prompts.ts';
import { UserError } from '../util/errors.ts';
import { BACKEND_KINDS, num, parseBackendKind } from './_flags.ts';

type Opts = Record<string, string | boolean | string[] | undefined>;

function judgeOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--judge-provider <name>', 'judge API').choices(['openai', 'anthropic']))
    .option('--judge-base-url <url>', 'OpenAI-compatible or Anthropic base URL (vLLM, Ollama, a proxy); keys come from OPENAI_API_KEY / ANTHROPIC_API_KEY')
    .option('--judge-model <id>', 'judge model id, e.g. gpt-4o or claude-sonnet-4-5')
    .option('--judge-temperature <t>', 'judge temperature (default 0)')
    .option('--judge-json', 'structured-output mode: ask for the grades as a JSON object')
    .option('--concurrency <n>', 'judge calls in flight (default 8)')
    .option('--rpm <n>', 'judge requests per minute limit')
    .option('--tpm <n>', 'judge tokens per minute limit')
    .option('--parse-retries <n>', 'extra tries after an unreadable grade answer (default 2)')
    .option('--cache <file>', 'judge-call cache (SQLite); default $TINYSTORIES_CACHE/judge-cache.sqlite or <out>/judge-cache.sqlite')
    .option('--prices <file>', 'JSON price table overrides, USD per 1M tokens');
}

function judgeConfig(o: Opts): JudgeConfig {
  if (!o.judgeProvider) throw new UserError('--judge-provider openai|anthropic is required');
  if (!o.judgeModel) throw new UserError('--judge-model <id> is required');
  const d = GPT_EVAL_DEFAULTS.judge;
  return {
    provider: o.judgeProvider as ProviderName,
    baseURL: o.judgeBaseUrl as string | undefined,
    model: o.judgeModel as string,
    temperature: (num('--judge-temperature', o.judgeTemperature as string | undefined, { min: 0, max: 2 }) ?? d.temperature),
    json: Boolean(o.judgeJson),
    concurrency: (num('--concurrency', o.concurrency as string | undefined, { int: true, min: 1 }) ?? d.concurrency),
    rpm: num('--rpm', o.rpm as string | undefined, { min: 1 }),
    tpm: num('--tpm', o.tpm as string | undefined, { min: 1 }),
    maxRetries: d.maxRetries,
    parseRetries: (num('--parse-retries', o.parseRetries as string | undefined, { int: true, min: 0 }) ?? d.parseRetries),
    timeoutMs: d.timeoutMs,
    cache: o.cache as string | undefined,
    pricesFile: o.prices as string | undefined,
  };
}

function runs(o: Opts): string[] {
  const r = o.run;
  const list = Array.isArray(r) ? r : r ? [String(r)] : [];
  if (list.length === 0) throw new UserError('--run <run-dir> is required (repeat it, or list several, to compare models)');
  return list;
}

function out(o: Opts): string {
  if (!o.out) throw new UserError('--out <dir> is required (report.json and report.html are written there)');
  const dir = o.out as string;
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`--out ${dir}: exists and is not a directory (expected an output directory)`);
  return dir;
}

function engineOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--backend <kind>', 'compute backend for the models (default auto: WASM when it loads, else the reference; recorded in report.json, and completions are regenerated when it changes)').choices([...BACKEND_KINDS]))
    .option('--threads <n>', 'WASM worker threads (0 = all cores)')
    .option('--quiet', 'no progress output');
}

/** Adds `eval` and its subcommands to the program. */
export function register(program: Command): void {
  const ev = program.command('eval').description('evaluate trained models: GPT-Eval with an LLM judge, automatic metrics, Instruct evaluation');

  engineOptions(
    judgeOptions(
      ev
        .command('gpt')
        .description("the paper's GPT-Eval: complete story beginnings, grade them with an LLM judge (grammar, creativity, consistency, plot, age group)")
        .option('--run <run-dir...>', 'run directories to evaluate (several = side-by-side comparison)')
        .option('--checkpoints', 'also evaluate every checkpoint of each run (score vs training step)')
        .option('--beginnings <file>', `story beginnings, YAML or JSON (default ${GPT_EVAL_DEFAULTS.beginnings}: the paper's 44, shipped with the package; "${HUB_BEGINNINGS}" downloads the hub copy)`)
        .option('--limit <n>', 'use only the first n beginnings')
        .option('--completions <n>', `completions per beginning (default ${GPT_EVAL_DEFAULTS.sampling.completions})`)
        .option('--temperature <t>', `sampling temperature (default ${GPT_EVAL_DEFAULTS.sampling.temperature})`)
        .option('--top-k <k>', 'top-k sampling, 0 = off (default 0)')
        .option('--top-p <p>', 'nucleus sampling, 1 = off (default 1)')
        .option('--max-tokens <n>', `tokens per completion at most (default ${GPT_EVAL_DEFAULTS.sampling.maxTokens})`)
        .option('--seed <s>', `sampling seed (default ${GPT_EVAL_DEFAULTS.sampling.seed})`)
        .option('--out <dir>', 'output directory'),
    ),
  )
    .addHelpText('after', `\nExample:\n  tinystories eval gpt --run runs/1M --run runs/8M --judge-provider openai --judge-model gpt-4o --completions 10 --out eval/gpt\n\nReports mean and 95% CI of ${DIMENSIONS.join(', ')} per model. Judge calls are cached, so a rerun is free.`)
    .action(async (o: Opts) => {
      const d = GPT_EVAL_DEFAULTS;
      await runGptEval(
        {
          runs: runs(o),
          checkpoints: Boolean(o.checkpoints),
          beginnings: (o.beginnings as string | undefined) ?? d.beginnings,
          limit: o.limit === undefined ? null : (num('--limit', o.limit as string, { int: true, min: 1 }) ?? 0),
          sampling: {
            completions: (num('--completions', o.completions as string | undefined, { int: true, min: 1 }) ?? d.sampling.completions),
            temperature: (num('--temperature', o.temperature as string | undefined, { min: 0 }) ?? d.sampling.temperature),
            topK: (num('--top-k', o.topK as string | undefined, { int: true, min: 0 }) ?? d.sampling.topK),
            topP: (num('--top-p', o.topP as string | undefined, { min: 0, max: 1 }) ?? d.sampling.topP),
            maxTokens: (num('--max-tokens', o.maxTokens as string | undefined, { int: true, min: 1 }) ?? d.sampling.maxTokens),
            seed: (num('--seed', o.seed as string | undefined, { int: true }) ?? d.sampling.seed),
          },
          judge: judgeConfig(o),
          backend: parseBackendKind(o.backend as string | undefined, d.backend),
          threads: (num('--threads', o.threads as string | undefined, { int: true, min: 0 }) ?? d.threads),
          out: out(o),
        },
        { quiet: Boolean(o.quiet) },
      ).then((r) => {
        for (const m of r.models) {
          const s = m.results.scores;
          process.stdout.write(`${m.id}: ${DIMENSIONS.map((k) => `${k} ${s[k].mean.toFixed(2)} [${s[k].ci95[0].toFixed(2)}, ${s[k].ci95[1].toFixed(2)}]`).join(', ')}; graded ${m.results.graded}/${m.results.total} (unparseable ${m.results.unparseable}, failed ${m.results.failed})\n`);
        }
        process.stdout.write(`wrote ${out(o)}/report.json and report.html\n`);
      });
    });

  engineOptions(
    ev
      .command('metrics')
      .description('judge-free metrics: val loss/perplexity, guess-rank, distinct-n, vocabulary adherence, memorization (Rouge-k vs training set)')
      .option('--run <run-dir...>', 'run directories')
      .option('--checkpoints', 'also score every checkpoint of each run')
      .option('--data <src>', 'held-out stories (file, directory, hf:..., builtin:mini)')
      .option('--train <src>', 'training stories for the memorization check (an n-gram index is built once and cached)')
      .option('--max-docs <n>', 'use at most n held-out stories')
      .option('--score-tokens <n>', 'score at most n tokens per model')
      .option('--window <n>', 'context window for loss and rank (default: the context the model was trained at, from its train_config.json; the model maximum for imported models)')
      .option('--batch <n>', 'windows per forward pass (default 8)')
      .option('--no-generate', 'skip generation (no distinct-n, vocabulary or memorization)')
      .option('--samples <n>', `completions to generate (default ${METRICS_DEFAULTS.samples}; prompts = first sentence of held-out stories)`)
      .option('--beginnings <file>', 'prompts for generation instead (YAML/JSON beginnings)')
      .option('--temperature <t>', 'sampling temperature (default 1)')
      .option('--gen-tokens <n>', 'tokens per completion at most (default 300)')
      .option('--seed <s>', 'sampling seed (default 1)')
      .option('--vocab <file>', 'extra child-vocabulary words, one per line')
      .option('--index-sample <k>', 'index 1 in k word 4-grams (default 4)')
      .option('--candidates <n>', 'candidate stories per completion for exact Rouge (default 20)')
      .option('--out <dir>', 'output directory'),
  )
    .addHelpText('after', '\nExample:\n  tinystories eval metrics --run runs/1M --data data/TinyStoriesV2-GPT4-valid.txt --train data/TinyStoriesV2-GPT4-train.txt --out eval/metrics')
    .action(async (o: Opts) => {
      const d = METRICS_DEFAULTS;
      if (!o.data) throw new UserError('--data <held-out src> is required');
      const r = await runMetrics(
        {
          runs: runs(o),
          checkpoints: Boolean(o.checkpoints),
          data: o.data as string,
          train: (o.train as string | undefined) ?? null,
          maxDocs: o.maxDocs === undefined ? null : (num('--max-docs', o.maxDocs as string, { int: true, min: 1 }) ?? 0),
          maxTokens: o.scoreTokens === undefined ? null : (num('--score-tokens', o.scoreTokens as string, { int: true, min: 1 }) ?? 0),
          window: o.window === undefined ? null : (num('--window', o.window as string, { int: true, min: 1 }) ?? 0),
          batch: (num('--batch', o.batch as string | undefined, { int: true, min: 1 }) ?? d.batch),
          generate: o.generate !== false,
          beginnings: (o.beginnings as string | undefined) ?? null,
          samples: (num('--samples', o.samples as string | undefined, { int: true, min: 1 }) ?? d.samples),
          sampling: {
            ...d.sampling,
            temperature: (num('--temperature', o.temperature as string | undefined, { min: 0 }) ?? d.sampling.temperature),
            maxTokens: (num('--gen-tokens', o.genTokens as string | undefined, { int: true, min: 1 }) ?? d.sampling.maxTokens),
            seed: (num('--seed', o.seed as string | undefined, { int: true }) ?? d.sampling.seed),
          },
          vocabFile: (o.vocab as string | undefined) ?? null,
          index: { ...d.index, sample: (num('--index-sample', o.indexSample as string | undefined, { int: true, min: 1 }) ?? d.index.sample) },
          candidates: (num('--candidates', o.candidates as string | undefined, { int: true, min: 1 }) ?? d.candidates),
          backend: parseBackendKind(o.backend as string | undefined, d.backend),
          threads: (num('--threads', o.threads as string | undefined, { int: true, min: 0 }) ?? d.threads),
          out: out(o),
        },
        { quiet: Boolean(o.quiet) },
      );
      for (const m of r.models) {
        let line = `${m.id}: loss ${m.lm.loss.toFixed(4)} ppl ${m.lm.perplexity.toFixed(2)} (nats/token) bits/byte ${m.lm.bitsPerByte?.toFixed(4) ?? '–'} window ${m.window.used} guess-rank mean ${m.lm.rank.mean.toFixed(2)} median ${m.lm.rank.median}`;
        if (m.generation) line += `; distinct-2 ${m.generation.distinct[2].toFixed(3)} OOV ${(m.generation.vocab.oovShare * 100).toFixed(1)}%`;
        if (m.memorization) line += `; Rouge-4 mean ${m.memorization.rouge[4].mean.toFixed(3)} max ${m.memorization.rouge[4].max.toFixed(3)}`;
        process.stdout.write(line + '\n');
      }
      process.stdout.write(`wrote ${out(o)}/report.json and report.html\n`);
    });

  ev.command('compare')
    .description('put the models of several `eval gpt` reports (or several `eval metrics` reports: loss and bits per byte) side by side (checks they were measured the same way)')
    .argument('<reports...>', 'report.json files or eval output directories (all gpt or all metrics)')
    .option('--out <dir>', 'output directory')
    .option('--strict', 'fail when the reports were not measured the same way (default: warn and list the differences)')
    .action((paths: string[], o: Opts) => {
      const metrics = paths.map(isMetricsReport);
      if (metrics.some((m) => m !== metrics[0])) throw new UserError('eval compare: give reports of one kind (all `eval gpt` or all `eval metrics`)');
      if (metrics[0]) {
        const { report, issues } = compareMetricsReports(paths, out(o), Boolean(o.strict));
        for (const i of issues) process.stderr.write(`warning: ${i}\n`);
        for (const m of report.models) process.stdout.write(`${m.id}: loss ${m.lm.loss.toFixed(4)} nats/token, ${m.lm.bitsPerByte?.toFixed(4) ?? '–'} bits/byte (window ${m.window?.used ?? m.lm.window}, ${m.params.toLocaleString('en-US')} params)\n`);
        process.stdout.write(`compared ${report.models.length} models from ${paths.length} reports; wrote ${out(o)}/report.json and report.html\n`);
        return;
      }
      const { report, issues } = compareReports(paths, out(o), Boolean(o.strict));
      for (const i of issues) process.stderr.write(`warning: ${i}\n`);
      process.stdout.write(`compared ${report.models.length} models from ${paths.length} reports; wrote ${out(o)}/report.json and report.html\n`);
    });

  engineOptions(
    judgeOptions(
      ev
        .command('instruct')
        .description('Instruct evaluation: give Features/Words/Summary, grade instruction following (judge rubric) and check the required words')
        .option('--run <run-dir...>', 'run directories of models trained on TinyStoriesInstruct')
        .option('--prompts <src>', 'a TinyStoriesInstruct file to take prompts from (default: drawn from the built-in word lists)')
        .option('--count <n>', 'number of prompts (default 50)')
        .option('--temperature <t>', 'sampling temperature (default 1)')
        .option('--max-tokens <n>', 'tokens per story at most (default 400)')
        .option('--seed <s>', 'seed for prompts and sampling (default 1)')
        .option('--out <dir>', 'output directory'),
    ),
  ).action(async (o: Opts) => {
    const r = await runInstructEval(
      {
        runs: runs(o),
        prompts: (o.prompts as string | undefined) ?? null,
        count: (num('--count', o.count as string | undefined, { int: true, min: 1 }) ?? 50),
        sampling: {
          temperature: (num('--temperature', o.temperature as string | undefined, { min: 0 }) ?? 1),
          topK: 0,
          topP: 1,
          maxTokens: (num('--max-tokens', o.maxTokens as string | undefined, { int: true, min: 1 }) ?? 400),
          seed: (num('--seed', o.seed as string | undefined, { int: true }) ?? 1),
        },
        judge: judgeConfig(o),
        backend: parseBackendKind(o.backend as string | undefined),
        threads: (num('--threads', o.threads as string | undefined, { int: true, min: 0 }) ?? 0),
        out: out(o),
      },
      { quiet: Boolean(o.quiet) },
    );
    for (const m of r.models) {
      process.stdout.write(`${m.id}: overall ${m.scores.overall?.mean.toFixed(2) ?? '–'}; all required words used ${(m.requiredWords.allPresent * 100).toFixed(0)}%; graded ${m.graded}/${m.total}\n`);
    }
    process.stdout.write(`wrote ${out(o)}/report.json and report.html\n`);
  });
}
