// `tinystories sample`: stream stories from a trained run (prompt from an argument or stdin).
import type { Command } from 'commander';
import { SAMPLE_DEFAULTS, type SampleSettings, SampleSettingsSchema } from '../sample/config.ts';
import { generate, promptFit } from '../sample/generate.ts';
import { fetchModelSource } from '../interop/resolve.ts';
import { loadRunModel } from '../sample/load.ts';
import { openCpuBackend } from '../engine/open-backend.ts';
import { createRefBackend } from '../engine/ref/index.ts';
import { openGpuDecoding } from '../sample/gpu-decoding.ts';
import { parseFlagValue, parseFlags, resolveSettings } from '../train/configurator.ts';
import { UserError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';

const NAMED = ['run', 'tokenizer', 'prompt', 'temperature', 'topK', 'topP', 'maxTokens', 'seed', 'num'] as const;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\s+$/, '');
}

/** Runs the sample command with resolved settings, writing to `out`. */
export async function runSample(s: SampleSettings, out: { write(s: string): unknown } = process.stdout): Promise<void> {
  if (!s.run) throw new UserError('sample: --run <run-dir> is required');
  const prompt = s.prompt ?? (process.stdin.isTTY ? '' : await readStdin());
  const log = (l: string) => process.stderr.write(l + '\n');
  // webgpu (and auto on a hardware adapter) decodes on the GPU-resident decoder; the weights load on the CPU first
  const gpu = s.backend === 'webgpu' || s.backend === 'auto' ? await openGpuDecoding(s.backend, log, s.gpuPrecision) : null;
  const backend = gpu ? createRefBackend() : await openCpuBackend(s.backend, s.threads, log);
  try {
    const { model, tokenizer } = loadRunModel(await fetchModelSource(s.run), backend, { tokenizer: s.tokenizer ?? undefined });
    const session = gpu?.decoder(model);
    const fit = promptFit(model, tokenizer, prompt);
    if (fit.tokens > fit.window) process.stderr.write(`sample: the prompt is ${fit.tokens} tokens but the model's context window is ${fit.window}: only the last ${fit.window} tokens of it are used\n`);
    const seed = s.seed ?? Math.floor(Math.random() * 2 ** 31);
    const rng = new Rng(seed);
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.once('SIGINT', onSigint);
    try {
      for (let i = 0; i < s.num && !abort.signal.aborted; i++) {
        const opts = { temperature: s.temperature, topK: s.topK, topP: s.topP, repetitionPenalty: s.repetitionPenalty, maxTokens: s.maxTokens, rng, signal: abort.signal, session };
        if (s.json) {
          const tokens: Array<{ id: number; text: string; prob: number; rank: number }> = [];
          let text = '';
          for await (const t of generate(model, tokenizer, prompt, opts)) {
            tokens.push({ id: t.id, text: t.text, prob: t.prob, rank: t.rank });
            text += t.text;
          }
          const stop = tokens.length >= s.maxTokens ? 'length' : abort.signal.aborted ? 'interrupted' : 'eot';
          out.write(JSON.stringify({ index: i, seed, prompt, text, stop, tokens }) + '\n');
        } else {
          if (i > 0) out.write('\n---\n');
          out.write(prompt);
          for await (const t of generate(model, tokenizer, prompt, opts)) out.write(t.text);
          out.write('\n');
        }
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
  } finally {
    gpu?.dispose();
    backend.dispose();
  }
}

export function register(program: Command): void {
  program
    .command('sample')
    .description('generate stories from a trained run (streams to stdout; stops at <|endoftext|>)')
    .argument('[prompt]', 'prompt text (or --prompt, or piped on stdin)')
    .option('--run <model>', 'a run directory (or best/, checkpoints/step-N), a Hugging Face model folder, hf:<owner>/<repo>[@rev], a llama2.c .bin or a .gguf')
    .option('--tokenizer <file>', "replace the model's tokenizer: tokenizer.json, a vocab.json + merges.txt folder, or a llama2.c tokenizer.bin")
    .option('--prompt <s>', 'prompt text')
    .option('--temperature <t>', `0 = greedy (default ${SAMPLE_DEFAULTS.temperature})`)
    .option('--top-k <k>', `keep the k most likely tokens, 0 = off (default ${SAMPLE_DEFAULTS.topK})`)
    .option('--top-p <p>', `nucleus sampling, 1 = off (default ${SAMPLE_DEFAULTS.topP})`)
    .option('--max-tokens <n>', `new tokens at most (default ${SAMPLE_DEFAULTS.maxTokens})`)
    .option('--seed <s>', 'sampler seed (default: random)')
    .option('--num <n>', 'number of samples (default 1)')
    .option('--json', 'one JSON line per sample with each token, its probability and rank')
    .option('--config <file>', 'a JSON file of settings')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', `\nOther settings as --key=value: --repetition-penalty=R (default ${SAMPLE_DEFAULTS.repetitionPenalty} = off; e.g. 1.1) --backend=ref|wasm|webgpu|auto --threads=N --gpu-precision=auto|f16|f32 (webgpu: the weights the GPU decoder reads; auto = f16 on a hardware adapter with shader-f16, else f32)\n\nExamples:\n  tinystories sample --run runs/1M --prompt "Once upon a time" --num 3\n  tinystories sample --run hf:roneneldan/TinyStories-1M --prompt "" --temperature 0\n  tinystories sample --run stories260K.bin --tokenizer tok512.bin --prompt ""\n  echo "Tom and Lily" | tinystories sample --run runs/1M/best --temperature 0 --json`)
    .action(async (promptArg: string | undefined, opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      const explicit: Record<string, unknown> = {};
      for (const key of NAMED) {
        const v = opts[key];
        if (v !== undefined) explicit[key] = parseFlagValue(SampleSettingsSchema, key, v as string);
      }
      if (opts.json) explicit.json = true;
      // commander puts the unknown --key=value words and the positional prompt into cmd.args
      void promptArg;
      const { values, rest } = parseFlags(SampleSettingsSchema, cmd.args);
      if (rest.length > 1) throw new UserError(`sample: unexpected argument '${rest[1]}' (quote a prompt with spaces)`);
      if (rest.length === 1 && explicit.prompt === undefined) explicit.prompt = rest[0];
      const s = resolveSettings(SampleSettingsSchema, { file: (opts.config as string | undefined) ?? null, explicit: { ...values, ...explicit } });
      await runSample(s);
    });
}
