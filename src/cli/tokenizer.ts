// `tinystories tokenizer ...`: train a byte-level BPE, encode/decode text, restrict a vocabulary to its top K.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { readDocuments, sourceSizeBytes } from '../data/index.ts';
import { UserError } from '../util/errors.ts';
import { Progress } from '../util/progress.ts';
import { loadTokenizer } from '../tokenizer/hf-json.ts';
import { restrictToTopK } from '../tokenizer/topk.ts';
import { trainBpe } from '../tokenizer/train.ts';
import { intArg } from './_flags.ts';

/**
 * Checks up front that an output path can be written as a file (`kind: 'file'`) or used as a directory, so a long
 * run does not end in a raw EISDIR/EEXIST/ENOTDIR: the path, if it exists, must be of that kind, and its nearest
 * existing parent must be a directory.
 */
export function checkOutputPath(flag: string, path: string, kind: 'file' | 'dir'): void {
  if (existsSync(path)) {
    const isDir = statSync(path).isDirectory();
    if (kind === 'file' && isDir) throw new UserError(`${flag} ${path}: is a directory; expected a file path, e.g. ${join(path, 'tokenizer.json')}`);
    if (kind === 'dir' && !isDir) throw new UserError(`${flag} ${path}: is a file; expected a directory (new or existing)`);
    return;
  }
  for (let p = dirname(resolve(path)); ; p = dirname(p)) {
    if (existsSync(p)) {
      if (!statSync(p).isDirectory()) throw new UserError(`${flag} ${path}: ${p} is a file, so nothing can be created under it`);
      return;
    }
    if (dirname(p) === p) return;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Adds the `tokenizer` command family. */
export function register(program: Command): void {
  const tk = program.command('tokenizer').description('train and use byte-level BPE tokenizers (Hugging Face tokenizer.json)');

  tk.command('train')
    .description('train a byte-level BPE tokenizer (GPT-2 pre-tokenization, NFC, <|endoftext|>) and save tokenizer.json')
    .requiredOption('--data <src>', 'file, directory, hf:<owner>/<repo>/<path>, or builtin:mini')
    .requiredOption('--vocab-size <n>', 'vocabulary size incl. 256 bytes and special tokens (e.g. 512, 4096, 10000)', intArg('--vocab-size', 257, 1 << 24))
    .requiredOption('--out <tokenizer.json>', 'where to write the tokenizer')
    .option('--min-frequency <n>', 'stop when the best pair occurs fewer times', intArg('--min-frequency', 1), 2)
    .option('--special <token...>', 'special tokens', ['<|endoftext|>'])
    .option('-q, --quiet', 'no progress output')
    .addHelpText('after', '\nExample:\n  tinystories tokenizer train --data builtin:mini --vocab-size 512 --out runs/tok512.json')
    .action(async (o: { data: string; vocabSize: number; out: string; minFrequency: number; special: string[]; quiet?: boolean }) => {
      checkOutputPath('--out', o.out, 'file');
      const total = await sourceSizeBytes(o.data);
      const reading = new Progress({ label: 'count pre-tokens', total, unit: 'MB', scale: 1e6, quiet: o.quiet });
      let merging: Progress | undefined;
      let bytes = 0;
      const docs = readDocuments(o.data, {
        onBytes: (n) => reading.update((bytes = n)),
        download: { quiet: o.quiet },
      });
      const tok = await trainBpe(docs, {
        vocabSize: o.vocabSize,
        specialTokens: o.special,
        minFrequency: o.minFrequency,
        onProgress: (p) => {
          if (p.phase === 'count') {
            reading.update(bytes, `${p.done} docs, ${p.distinct} distinct`);
            return;
          }
          if (!merging) {
            reading.done();
            merging = new Progress({ label: 'merge', total: p.total, unit: 'merges', quiet: o.quiet });
          }
          merging.update(p.done);
        },
      });
      merging?.done();
      tok.save(o.out);
      const short = tok.vocabSize < o.vocabSize ? ` (fewer than ${o.vocabSize}: no pair left with frequency ≥ ${o.minFrequency})` : '';
      console.log(`wrote ${o.out}: vocab ${tok.vocabSize}${short}, ${tok.data.merges.length / 2} merges, <|endoftext|> = ${tok.eotId}`);
    });

  tk.command('encode')
    .description('print the token ids of --text (or stdin) as JSON')
    .requiredOption('--tokenizer <tokenizer.json>', 'tokenizer.json, top-K file, or a vocab.json + merges.txt directory')
    .option('--text <s>', 'text to encode (default: read stdin)')
    .option('--tokens', 'print the token strings too')
    .addHelpText('after', `\nExample:\n  tinystories tokenizer encode --tokenizer runs/tok512.json --text 'Once upon a time'`)
    .action(async (o: { tokenizer: string; text?: string; tokens?: boolean }) => {
      const tok = loadTokenizer(o.tokenizer);
      const text = o.text ?? (await readStdin());
      const ids = tok.encode(text);
      if (o.tokens) console.log(JSON.stringify({ ids, tokens: ids.map((id) => tok.tokenString(id)) }));
      else console.log(JSON.stringify(ids));
    });

  tk.command('decode')
    .description('print the text of a JSON array of ids given with --ids (or on stdin)')
    .requiredOption('--tokenizer <tokenizer.json>', 'tokenizer.json, top-K file, or a vocab.json + merges.txt directory')
    .option('--ids <json>', 'e.g. [7454, 2402]')
    .action(async (o: { tokenizer: string; ids?: string }) => {
      const tok = loadTokenizer(o.tokenizer);
      const raw = o.ids ?? (await readStdin());
      let ids: unknown;
      try {
        ids = JSON.parse(raw);
      } catch {
        throw new UserError(`--ids: expected a JSON array of integers, got ${JSON.stringify(raw.slice(0, 40))}`);
      }
      if (!Array.isArray(ids) || !ids.every((x) => Number.isInteger(x) && x >= 0 && x < tok.vocabSize)) {
        throw new UserError(`--ids: expected a JSON array of integers in 0..${tok.vocabSize - 1}`);
      }
      process.stdout.write(tok.decode(ids as number[]) + '\n');
    });

  tk.command('topk')
    .description("keep only a base tokenizer's K most frequent tokens on a corpus (the paper's GPT-Neo top 10k)")
    .requiredOption('--tokenizer <path>', 'base tokenizer (tokenizer.json or a vocab.json + merges.txt directory)')
    .requiredOption('--data <src>', 'corpus to count token frequencies on')
    .requiredOption('--k <n>', 'vocabulary size to keep, special tokens and the fallback included', intArg('--k', 3))
    .requiredOption('--out <file.json>', 'where to write the restricted tokenizer')
    .option('--fallback <s>', 'text of the id that dropped tokens map to', '<|unk|>')
    .option('-q, --quiet', 'no progress output')
    .addHelpText('after', '\nExample:\n  tinystories tokenizer topk --tokenizer ../shared/data/tokenizer --data builtin:mini --k 10000 --out runs/neo10k.json')
    .action(async (o: { tokenizer: string; data: string; k: number; out: string; fallback: string; quiet?: boolean }) => {
      checkOutputPath('--out', o.out, 'file');
      const base = loadTokenizer(o.tokenizer);
      const total = await sourceSizeBytes(o.data);
      const progress = new Progress({ label: 'count tokens', total, unit: 'MB', scale: 1e6, quiet: o.quiet });
      const docs = readDocuments(o.data, { onBytes: (n) => progress.update(n), download: { quiet: o.quiet } });
      const r = await restrictToTopK(base, docs, { k: o.k, fallback: o.fallback });
      progress.done();
      r.tokenizer.save(o.out);
      console.log(
        `wrote ${o.out}: ${r.tokenizer.vocabSize} ids; coverage ${(r.coverage * 100).toFixed(3)}% of ${r.corpusTokens} corpus tokens ` +
          `(${r.distinctSeen} distinct tokens seen); the rest map to ${JSON.stringify(o.fallback)} = ${r.tokenizer.data.remap!.fallbackId}`,
      );
    });
}
