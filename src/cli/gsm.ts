// `tinystories gsm ...`: TinyGSM data synthesis, filtering/decontamination, sandboxed execution, GSM8K evaluation
// by execution, and verifier training.
import type { Command } from 'commander';
import { existsSync, statSync, readdirSync, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readGsm8k } from '../data/gsm8k.ts';
import { readJsonRecords } from '../data/json-stream.ts';
import { readTextChunks } from '../data/text-stream.ts';
import { estimateGsmCost, generateGsm, type Seed } from '../gsm/generate.ts';
import { evalGsm } from '../gsm/eval.ts';
import { buildTestIndex, filterRecords, recordProgram } from '../gsm/filter.ts';
import { similarProblemsPrompt } from '../gsm/prompts.ts';
import { renderTinyGsm } from '../gsm/tinygsm.ts';
import { runVerifierTraining } from '../gsm/verifier-train.ts';
import { PriceTable } from '../llm/pricing.ts';
import { SandboxPool } from '../sandbox/pool.ts';
import { openBackend } from '../engine/open-backend.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';
import { resolveThreads } from '../util/threads.ts';
import { Progress } from '../util/progress.ts';
import { num, parseBackendKind } from './_flags.ts';
import { providerOptions, providerSetup, type ProviderFlags } from './_provider-options.ts';

/** Reads every GSM8K record of the given files as seeds, id = `<file name>:<line>`. */
async function readSeeds(paths: string[]): Promise<Seed[]> {
  const seeds: Seed[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new UserError(`--seeds ${p}: no such file`);
    let line = 0;
    for await (const r of readGsm8k(p)) seeds.push({ id: `${basename(p)}:${++line}`, question: r.question });
  }
  if (seeds.length === 0) throw new UserError(`--seeds: no questions in ${paths.join(', ')}`);
  return seeds;
}

/** The JSONL files behind --in: a file, or a directory's problems.jsonl (else all its .jsonl files). */
function inputFiles(path: string): string[] {
  if (!existsSync(path)) throw new UserError(`--in ${path}: no such file or directory`);
  if (!statSync(path).isDirectory()) return [path];
  if (existsSync(join(path, 'problems.jsonl'))) return [join(path, 'problems.jsonl')];
  const files = readdirSync(path).filter((f) => f.endsWith('.jsonl')).sort().map((f) => join(path, f));
  if (files.length === 0) throw new UserError(`--in ${path}: no .jsonl files in this directory`);
  return files;
}

async function* readRecords(files: string[]): AsyncGenerator<unknown> {
  for (const f of files) yield* readJsonRecords(readTextChunks(f), f);
}

function sandboxFlags(cmd: Command): Command {
  return cmd
    .option('--timeout-ms <t>', 'time limit per program in ms', '2000')
    .option('--workers <n>', 'sandbox worker threads (default: min(2, cores))')
    .option('--memory-mb <m>', 'WebAssembly heap cap per sandbox worker in MiB', '256');
}

function sandboxOptions(f: { timeoutMs?: string; workers?: string; memoryMb?: string }) {
  return {
    timeoutMs: num('--timeout-ms', f.timeoutMs, { int: true, min: 1 }),
    // each worker holds a Pyodide (~120 MB): never more than the cores
    workers: f.workers === undefined ? undefined : resolveThreads(num('--workers', f.workers, { int: true, min: 1 })!, '--workers', (l) => console.error(l)),
    memoryLimitMb: num('--memory-mb', f.memoryMb, { int: true, min: 32 }),
  };
}

interface GenFlags extends ProviderFlags {
  seeds?: string[];
  count?: string;
  out?: string;
  icShare: string;
  dryRun?: boolean;
  maxSlots?: string;
  show: string;
}

export function register(program: Command): void {
  const gsm = program.command('gsm').description('TinyGSM: math problems with Python solutions, a sandbox, GSM8K scored by execution, a verifier');

  const genCmd = gsm
    .command('generate')
    .description('generate TinyGSM problems from GSM8K train seeds through an LLM API; rerun the same command to resume')
    .option('--seeds <files...>', 'GSM8K train .jsonl file(s) (e.g. train.part1.jsonl train.part2.jsonl)')
    .option('--count <n>', 'problems wanted in problems.jsonl (before filtering)')
    .option('--out <dir>', 'output directory (problems.jsonl, stories.jsonl = one record per call, journal.sqlite)')
    .option('--ic-share <p>', 'share of GSM-IC problems (irrelevant context, two calls each)', '0.33')
    .option('--dry-run', 'print the first prompt and an estimated cost; send nothing')
    .option('--max-slots <n>', 'give up after this many slots (default 1.5 x the slots needed + 20)')
    .option('--show <n>', 'prompts printed by --dry-run', '1');
  providerOptions(genCmd, { timeout: '300', maxTokens: '4096', request: '10-problem call', unit: 'slot' })
    .action(async (f: GenFlags) => {
      if (!f.seeds?.length) throw new UserError('--seeds <gsm8k train jsonl...> is required');
      if (!f.count) throw new UserError('--count <problems> is required');
      const count = num('--count', f.count, { int: true, min: 1 })!;
      const icShare = num('--ic-share', f.icShare)!;
      if (icShare > 1) throw new UserError(`--ic-share: expected a share in [0, 1], got ${f.icShare}`);
      const seeds = await readSeeds(f.seeds);
      if (f.dryRun) {
        for (let i = 0; i < Math.min(num('--show', f.show, { int: true })!, seeds.length); i++) console.log(`--- seed ${seeds[i]!.id}\n${similarProblemsPrompt(seeds[i]!.question)}\n`);
        const prices = f.prices ? PriceTable.fromFile(f.prices) : new PriceTable();
        const model = f.model ?? '(no --model)';
        const e = estimateGsmCost({ count, seeds, icShare, model, prices, batch: Boolean(f.batch), maxTokens: num('--max-tokens', f.maxTokens, { int: true, min: 1 }) ?? 4096 });
        console.log(`estimate: ${count} problems from ${seeds.length} seeds: ${e.slots} slots = ${e.similarCalls} "10 similar problems" calls + ${e.icCalls} GSM-IC calls; ~${Math.round(e.usage.inputTokens)} input + ~${Math.round(e.usage.outputTokens)} output tokens`);
        const usd = (x: number) => (x >= 1 ? x.toFixed(2) : x.toPrecision(2));
        if (e.cost === null) console.log(`cost: model "${model}" is not in the price table (pass --prices <file>)`);
        else console.log(`cost: ~$${usd(e.cost)}${f.batch ? ' (batch price)' : ''}; at most ~$${usd(e.costUpperBound!)} if every call used --max-tokens`);
        return;
      }
      if (!f.out) throw new UserError('--out <dir> is required');
      const setup = providerSetup(f);
      const res = await generateGsm({
        ...setup, out: f.out, count, seeds, icShare, maxSlots: num('--max-slots', f.maxSlots, { int: true, min: 1 }),
      });
      console.error(`${f.out}/problems.jsonl: ${res.problems}/${count} problems from ${res.accepted} calls/slots`);
      if (res.problems < count) throw new UserError(`${f.out}: ${res.problems}/${count} problems: ${res.shortfall ?? 'stopped early'}; rerun to resume`);
    });

  sandboxFlags(
    gsm
      .command('filter')
      .description('drop short/number-less/duplicate problems, GSM8K-test overlaps and programs that do not run to a number')
      .option('--in <dir|jsonl>', 'a gsm generate directory (its problems.jsonl) or JSONL files of {question, code|program}')
      .option('--out <dir>', 'output directory: kept.jsonl and report.json')
      .option('--decontaminate <jsonl>', 'GSM8K test .jsonl: drop questions sharing a 13-gram with it (8-gram overlaps are counted)')
      .option('--drop-8gram', 'also drop questions that share only an 8-gram with GSM8K test')
      .option('--min-words <n>', 'shortest question kept, in words', '8')
      .option('--quiet', 'no progress output'),
  ).action(async (f: { in?: string; out?: string; decontaminate?: string; drop8gram?: boolean; minWords: string; quiet?: boolean; timeoutMs?: string; workers?: string; memoryMb?: string }) => {
    if (!f.in) throw new UserError('--in <dir|jsonl> is required');
    if (!f.out) throw new UserError('--out <dir> is required');
    const files = inputFiles(f.in);
    let index;
    if (f.decontaminate) {
      if (!existsSync(f.decontaminate)) throw new UserError(`--decontaminate ${f.decontaminate}: no such file`);
      index = await buildTestIndex((async function* () {
        for await (const r of readGsm8k(f.decontaminate!)) yield r.question;
      })());
    }
    await mkdir(f.out, { recursive: true });
    const tmp = join(f.out, '.kept.jsonl.part');
    const ws = createWriteStream(tmp);
    const pool = await SandboxPool.create(sandboxOptions(f));
    const progress = new Progress({ label: 'gsm filter', unit: 'row', quiet: f.quiet });
    let report;
    try {
      report = await filterRecords(readRecords(files), (rec) => {
        if (!ws.write(JSON.stringify(rec) + '\n')) return new Promise<void>((r) => ws.once('drain', () => r()));
      }, { pool, decontaminate: index, dropShortOverlap: f.drop8gram, minQuestionWords: num('--min-words', f.minWords, { int: true }), timeoutMs: num('--timeout-ms', f.timeoutMs, { int: true, min: 1 }), onProgress: (read, kept) => progress.update(read, `kept ${kept}`) });
    } finally {
      await pool.close();
      await new Promise<void>((r) => ws.end(() => r()));
    }
    progress.done();
    const { rename } = await import('node:fs/promises');
    await rename(tmp, join(f.out, 'kept.jsonl'));
    await writeFileAtomic(join(f.out, 'report.json'), JSON.stringify({ input: files, ...report }, null, 2) + '\n');
    const d = report.decontamination;
    console.log(`read ${report.read}, kept ${report.kept}; dropped ${Object.entries(report.dropped).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
    if (d) console.log(`decontamination vs ${d.testQuestions} GSM8K test questions: ${d.overlap13} of ${d.checked} share a ${d.nLong}-gram (${(100 * d.rate13).toFixed(4)}%), ${d.overlap8} share an ${d.nShort}-gram (${(100 * d.rate8).toFixed(3)}%)`);
    console.log(`wrote ${join(f.out, 'kept.jsonl')} and report.json`);
  });

  sandboxFlags(
    gsm
      .command('exec')
      .description("run each record's program in the sandbox and print its result")
      .option('--in <jsonl>', 'JSONL of {question, code} (TinyGSM) or {question, program}')
      .option('--json', 'one JSON object per record'),
  ).action(async (f: { in?: string; json?: boolean; timeoutMs?: string; workers?: string; memoryMb?: string }) => {
    if (!f.in) throw new UserError('--in <jsonl> is required');
    const pool = await SandboxPool.create(sandboxOptions(f));
    const counts: Record<string, number> = {};
    let i = 0;
    const window: Array<Promise<string>> = [];
    const flush = async (limit: number) => {
      while (window.length > limit) console.log(await window.shift()!);
    };
    try {
      for await (const rec of readRecords(inputFiles(f.in))) {
        const n = ++i;
        const rp = recordProgram(rec);
        const id = String((rec as { id?: unknown }).id ?? n);
        if (!rp) {
          counts.malformed_record = (counts.malformed_record ?? 0) + 1;
          window.push(Promise.resolve(f.json ? JSON.stringify({ id, ok: false, failure: 'malformed_record' }) : `${id}\tmalformed_record (no question + code/program)`));
        } else {
          window.push(pool.run(renderTinyGsm(rp)).then((r) => {
            const key = r.ok ? 'ok' : r.failure;
            counts[key] = (counts[key] ?? 0) + 1;
            if (f.json) return JSON.stringify({ id, ...r });
            return r.ok ? `${id}\t${r.value}\t(${r.ms} ms)` : `${id}\t${r.failure}: ${r.message.split('\n')[0]}`;
          }));
        }
        await flush(4 * pool.size);
      }
      await flush(0);
      if (i === 0) throw new UserError(`--in ${f.in}: no records (expected JSONL of {question, code} or {question, program})`);
    } catch (e) {
      // A broken input line: the records before it still ran, so print them, then report the parse error itself
      // (closing the pool with programs in flight would reject them and hide it behind "sandbox pool closed").
      await flush(0).catch(() => undefined);
      throw e;
    } finally {
      await pool.close();
    }
    console.error(Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', '));
  });

  sandboxFlags(
    gsm
      .command('eval')
      .description('score a model on GSM8K by executing its programs: pass@1 (greedy), pass@k, majority@k, verify@k')
      .option('--run <dir>', 'a run directory (or best/, checkpoints/step-N, an HF model folder)')
      .option('--data <jsonl>', 'GSM8K test .jsonl')
      .option('--out <dir>', 'output directory: records.jsonl, report.json, report.html')
      .option('--samples <k>', 'solutions sampled per problem besides the greedy one (1 = greedy only)', '1')
      .option('--temperature <t>', 'sampling temperature of the k samples', '0.7')
      .option('--top-p <p>', 'nucleus sampling of the k samples', '1')
      .option('--max-tokens <n>', 'longest solution in tokens', '320')
      .option('--verifier <dir>', 'a verifier from `gsm verifier train`: adds verify@k')
      .option('--limit <n>', 'only the first N problems')
      .option('--seed <s>', 'sampler seed', '1234')
      .option('--backend <b>', 'auto, wasm or ref', 'auto')
      .option('--threads <n>', 'backend threads (0 = all cores)', '1')
      .option('--quiet', 'no progress output'),
  ).action(async (f: Record<string, string | undefined> & { quiet?: boolean }) => {
    if (!f.run) throw new UserError('--run <dir> is required');
    if (!f.data) throw new UserError('--data <gsm8k test jsonl> is required');
    if (!f.out) throw new UserError('--out <dir> is required');
    const backend = await openBackend(parseBackendKind(f.backend), num('--threads', f.threads, { int: true }) ?? 1, (l) => console.error(l));
    const s = await evalGsm({
      run: f.run, data: f.data, out: f.out, backend, samples: num('--samples', f.samples, { int: true, min: 1 }), temperature: num('--temperature', f.temperature),
      topP: num('--top-p', f.topP), maxTokens: num('--max-tokens', f.maxTokens, { int: true, min: 1 }), verifier: f.verifier, limit: num('--limit', f.limit, { int: true, min: 1 }),
      seed: num('--seed', f.seed, { int: true }), sandbox: sandboxOptions(f as { timeoutMs?: string }), quiet: f.quiet,
    });
    const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(2)}%`);
    console.log(`problems ${s.problems}: pass@1 greedy ${pct(s.pass1Greedy)}` + (s.k > 1 ? `, pass@1 sampled ${pct(s.pass1Sampled)}, pass@${s.k} ${pct(s.passAtK)}, majority@${s.k} ${pct(s.majorityAtK)}` + (s.verifyAtK !== null ? `, verify@${s.k} ${pct(s.verifyAtK)}` : '') : ''));
    console.log(`wrote ${join(f.out, 'records.jsonl')}, report.json, report.html`);
  });

  const verifier = gsm.command('verifier').description('the TinyGSM verifier (a scalar head on every token)');
  sandboxFlags(
    verifier
      .command('train')
      .description('sample solutions from a generator run, label them by execution, train a verifier on them')
      .option('--run <dir>', 'the generator run')
      .option('--data <jsonl>', 'GSM8K train .jsonl (questions to sample solutions for)')
      .option('--out <dir>', 'verifier directory (config.json, model.safetensors, verifier_head.safetensors, samples.jsonl)')
      .option('--samples <k>', 'solutions sampled per question', '4')
      .option('--limit <n>', 'questions used', '500')
      .option('--temperature <t>', 'sampling temperature', '0.7')
      .option('--max-tokens <n>', 'longest solution in tokens', '320')
      .option('--samples-file <jsonl>', 'train on this samples.jsonl (from an earlier run) instead of sampling')
      .option('--epochs <n>', 'passes over the samples', '2')
      .option('--batch-size <n>', 'sequences per step', '8')
      .option('--lr <x>', 'learning rate of the transformer (the head uses 10x)', '1e-4')
      .option('--seed <s>', 'seed', '7')
      .option('--backend <b>', 'auto, wasm or ref', 'auto')
      .option('--threads <n>', 'backend threads (0 = all cores)', '0')
      .option('--quiet', 'no progress output'),
  ).action(async (f: Record<string, string | undefined> & { quiet?: boolean }) => {
    if (!f.run) throw new UserError('--run <generator run> is required');
    if (!f.data && !f.samplesFile) throw new UserError('--data <gsm8k train jsonl> is required');
    if (!f.out) throw new UserError('--out <dir> is required');
    const backend = await openBackend(parseBackendKind(f.backend), num('--threads', f.threads, { int: true }) ?? 0, (l) => console.error(l));
    const r = await runVerifierTraining({
      run: f.run, data: f.data ?? '', out: f.out, backend, samples: num('--samples', f.samples, { int: true, min: 1 }), limit: num('--limit', f.limit, { int: true, min: 1 }),
      temperature: num('--temperature', f.temperature), maxTokens: num('--max-tokens', f.maxTokens, { int: true, min: 1 }), samplesFile: f.samplesFile,
      epochs: num('--epochs', f.epochs, { int: true, min: 1 }), batchSize: num('--batch-size', f.batchSize, { int: true, min: 1 }), lr: num('--lr', f.lr),
      seed: num('--seed', f.seed, { int: true }), sandbox: sandboxOptions(f as { timeoutMs?: string }), quiet: f.quiet,
    });
    console.log(`trained on ${r.samples} samples (${r.correct} correct); final loss ${r.losses[r.losses.length - 1]?.toFixed(4)}; wrote ${f.out}`);
  });
}
