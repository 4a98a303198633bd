// `tinystories tokenize`: a corpus → binary token shards (train/val) for training; resumable.
import type { Command } from 'commander';
import { tokenizeToShards } from '../data/shards.ts';
import { intArg, numArg, threadsArg } from './_flags.ts';
import { checkOutputPath } from './tokenizer.ts';

/** Adds the `tokenize` command. */
export function register(program: Command): void {
  program
    .command('tokenize')
    .description('tokenize a corpus into binary shards (uint16/uint32 tokens, <|endoftext|> after each story, train/val split)')
    .requiredOption('--data <src>', 'file, directory, hf:<owner>/<repo>/<path>, or builtin:mini')
    .requiredOption('--tokenizer <tokenizer.json>', 'tokenizer.json, top-K file, or a vocab.json + merges.txt directory')
    .requiredOption('--out <dir>', 'output directory (manifest.json + train_*.bin, val_*.bin)')
    .option('--val-fraction <x>', 'share of stories in the validation split', numArg('--val-fraction', { min: 0, below: 1 }), 0.05)
    .option('--seed <n>', 'seed of the per-story hash that picks the split', intArg('--seed', 0, 2 ** 31 - 1), 1337)
    .option('--shard-tokens <n>', 'tokens per shard file', intArg('--shard-tokens', 1, 2 ** 31 - 1), 100_000_000)
    .option('--threads <n>', 'encoder worker threads (1 = main thread only)', threadsArg('--threads'))
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      '\nRe-running the same command resumes: finished shards are kept and the output is identical.\n' +
        'Example:\n  tinystories tokenize --data builtin:mini --tokenizer runs/tok512.json --out runs/shards',
    )
    .action(async (o: { data: string; tokenizer: string; out: string; valFraction: number; seed: number; shardTokens: number; threads?: number; quiet?: boolean }) => {
      checkOutputPath('--out', o.out, 'dir');
      const s = await tokenizeToShards({
        data: o.data,
        tokenizer: o.tokenizer,
        out: o.out,
        valFraction: o.valFraction,
        seed: o.seed,
        shardTokens: o.shardTokens,
        threads: o.threads,
        quiet: o.quiet,
      });
      if (s.alreadyComplete) console.log(`${o.out}: already complete (delete it to regenerate)`);
      if (s.replacedChars > 0) console.error(`note: ${s.replacedChars} invalid UTF-8 sequences in ${o.data} were replaced by U+FFFD`);
      const mb = s.bytesRead / 1e6;
      console.log(
        `${o.out}: train ${s.train.tokens} tokens / ${s.train.docs} stories in ${s.train.shards} shards, ` +
          `val ${s.val.tokens} tokens / ${s.val.docs} stories in ${s.val.shards} shards` +
          (s.resumedDocs ? ` (resumed: ${s.resumedDocs} stories already done)` : '') +
          (mb > 0 ? `; ${mb.toFixed(1)} MB in ${s.seconds.toFixed(1)} s (${(mb / s.seconds).toFixed(1)} MB/s)` : ''),
      );
    });
}
