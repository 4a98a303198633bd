// `tinystories export`: write a model in llama2.c's formats (model.bin + tokenizer.bin; Llama only) or as GGUF.
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveConfig } from '../engine/config.ts';
import { type GgufType, gptNeoGgufContext, writeGguf, writeLlama2c } from '../interop/index.ts';
import { fetchModelSource, readModelSource } from '../interop/resolve.ts';
import { writeFileAtomic, writeFileAtomicSync } from '../util/atomic.ts';
import { UserError } from '../util/errors.ts';

const FORMATS = { llama2c: 0, 'llama2c-v1': 1, 'llama2c-q8': 2, gguf: -1 } as const;
type Format = keyof typeof FORMATS;
const GGUF_TYPES: Record<string, GgufType> = { f32: 'F32', f16: 'F16', q8_0: 'Q8_0', q8: 'Q8_0' };

export interface ExportOptions {
  format: string;
  out: string;
  /** GGUF tensor type: F32 (default), F16 or Q8_0. */
  type?: string;
  tokenizer?: string;
}

/** Reads `run` (any model source) and writes it in `format`; returns what was written, one line per file. */
export async function runExport(run: string, o: ExportOptions): Promise<string[]> {
  if (!(o.format in FORMATS)) throw new UserError(`export: --format must be one of ${Object.keys(FORMATS).join(', ')}; got ${JSON.stringify(o.format)}`);
  const format = o.format as Format;
  const type = GGUF_TYPES[(o.type ?? 'f32').toLowerCase()];
  if (!type) throw new UserError(`export: --type must be F32, F16 or Q8_0; got ${JSON.stringify(o.type)}`);
  if (o.type && format !== 'gguf') throw new UserError(`export: --type applies to --format gguf only (llama2c-q8 is llama2.c's int8 format)`);
  const src = readModelSource(await fetchModelSource(run), { tokenizer: o.tokenizer });
  const input = { config: src.config, tensors: src.tensors, tokenizer: src.tokenizer, name: basename(resolve(src.dir)) };
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  if (format === 'gguf') {
    if (existsSync(o.out) && statSync(o.out).isDirectory()) throw new UserError(`${o.out}: is a directory; --format gguf writes one file (e.g. --out model.gguf)`);
    const chunks = writeGguf(input, type);
    await writeFileAtomic(o.out, chunks);
    const size = chunks.reduce((a, c) => a + c.length, 0);
    const lines = [`wrote ${o.out} (GGUF v3 ${type}, ${mb(size)}) from ${src.source}`];
    const r = resolveConfig(src.config);
    if (r.arch === 'gpt-neo') {
      const ctx = gptNeoGgufContext(r);
      lines.push(`GPT-Neo as llama.cpp's gpt2 architecture (global attention only)${ctx < r.maxSeqLen ? `: context ${ctx} tokens, the local-attention window, within which it is exact` : ''}`);
    }
    return lines;
  }
  const files = writeLlama2c(input, FORMATS[format] as 0 | 1 | 2);
  writeDirAtomic(o.out, { 'model.bin': files.model, 'tokenizer.bin': files.tokenizer });
  const version = format === 'llama2c' ? 'legacy v0 (run.c)' : format === 'llama2c-v1' ? 'v1' : 'v2 int8 (runq.c)';
  const runner = format === 'llama2c-q8' ? 'runq' : 'run';
  return [
    `wrote ${join(o.out, 'model.bin')} (llama2.c ${version}, ${mb(files.model.length)}) and ${join(o.out, 'tokenizer.bin')} from ${src.source}`,
    `${src.tokenizer.isSentencePiece ? 'BOS is id 1' : 'our <|endoftext|> is id 1 (llama2.c starts and ends stories there)'}; try: ./${runner} ${join(o.out, 'model.bin')} -z ${join(o.out, 'tokenizer.bin')} -t 0`,
  ];
}

/** Writes files into `dir`: a new directory appears whole (temp dir + rename); into an existing one, each file atomically. */
function writeDirAtomic(dir: string, files: Record<string, Uint8Array>): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new UserError(`${dir}: exists and is not a directory; llama2c formats write <out>/model.bin and <out>/tokenizer.bin`);
    for (const [name, data] of Object.entries(files)) writeFileAtomicSync(join(dir, name), data);
    return;
  }
  const parent = dirname(resolve(dir));
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp);
    for (const [name, data] of Object.entries(files)) writeFileAtomicSync(join(tmp, name), data);
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write a model (run, HF folder, hf:owner/repo, llama2.c .bin, .gguf) for llama2.c (Llama only) or llama.cpp (GGUF)')
    .argument('<run>', 'model to export: a run directory, Hugging Face folder, hf:<owner>/<repo>, llama2.c .bin or .gguf')
    .requiredOption('--format <format>', 'llama2c (version 0, run.c) | llama2c-v1 | llama2c-q8 (version 2, runq.c) | gguf')
    .requiredOption('--out <path>', 'llama2c formats: a directory receiving model.bin and tokenizer.bin; gguf: the file to write')
    .option('--type <type>', 'GGUF tensor type: F32 (default), F16 or Q8_0')
    .option('--tokenizer <file>', "tokenizer to use instead of the model's own (tokenizer.json or llama2.c tokenizer.bin)")
    .addHelpText(
      'after',
      '\nExamples:\n  tinystories export runs/260K --format llama2c --out out/260K        # then: ./run out/260K/model.bin -z out/260K/tokenizer.bin\n  tinystories export runs/260K --format gguf --type Q8_0 --out 260K.gguf',
    )
    .action(async (run: string, o: ExportOptions) => {
      for (const line of await runExport(run, o)) console.log(line);
    });
}
