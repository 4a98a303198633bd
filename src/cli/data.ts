// `tinystories data ...`: corpus statistics, hub downloads and a peek at cleaned stories.
import type { Command } from 'commander';
import { UserError } from '../util/errors.ts';
import { Progress } from '../util/progress.ts';
import { parseNumber } from './_flags.ts';
import { computeStats, formatStats, type TokenEncoder } from '../data/stats.ts';
import { downloadHf, isHfSpec } from '../data/hf.ts';
import { readDocuments } from '../data/read.ts';

interface HygieneFlags {
  nfc: boolean;
  repair: boolean;
  dedupe: boolean;
  quiet?: boolean;
}

function hygieneOptions(o: HygieneFlags) {
  return { nfc: o.nfc, repairMojibake: o.repair, dedupe: o.dedupe, download: { quiet: o.quiet } };
}

/** Loads the project's tokenizer only when asked for (keeps `data stats` fast and independent of it). */
async function loadTokenizerLazily(path: string): Promise<TokenEncoder> {
  const modulePath = new URL('../tokenizer/index.ts', import.meta.url).href;
  let mod: { loadTokenizer?: (p: string) => TokenEncoder | Promise<TokenEncoder> };
  try {
    mod = (await import(modulePath)) as typeof mod;
  } catch (e) {
    throw new UserError(`--tokenizer: the tokenizer module could not be loaded (${(e as Error).message})`);
  }
  if (typeof mod.loadTokenizer !== 'function') throw new UserError('--tokenizer: src/tokenizer/index.ts does not export loadTokenizer');
  return await mod.loadTokenizer(path);
}

/** Adds the `data` command family. */
export function register(program: Command): void {
  const data = program.command('data').description('read, clean, download and measure story data');

  data
    .command('stats')
    .description('count stories, words, characters (and tokens) of a source after hygiene')
    .argument('<src>', 'file, directory, hf:<owner>/<repo>[@rev]/<path>, or builtin:mini')
    .option('--tokenizer <tokenizer.json>', 'also count tokens with this tokenizer')
    .option('--json', 'print the statistics as JSON')
    .option('--no-nfc', 'skip Unicode NFC normalization')
    .option('--no-repair', 'skip mojibake repair')
    .option('--no-dedupe', 'keep exact duplicates')
    .option('-q, --quiet', 'no progress output')
    .addHelpText('after', '\nExamples:\n  tinystories data stats builtin:mini\n  tinystories data stats hf:roneneldan/TinyStories/TinyStoriesV2-GPT4-valid.txt --json')
    .action(async (src: string, o: HygieneFlags & { tokenizer?: string; json?: boolean }) => {
      const tokenizer = o.tokenizer ? await loadTokenizerLazily(o.tokenizer) : undefined;
      let progress: Progress | undefined;
      const started = performance.now();
      const stats = await computeStats(src, {
        ...hygieneOptions(o),
        tokenizer,
        onBytes: (done, total) => {
          // only sources that take a while get a progress bar
          if (!progress && performance.now() - started < 1000) return;
          progress ??= new Progress({ label: 'stats', total, unit: 'MB', scale: 1e6, quiet: o.quiet });
          progress.update(done);
        },
      });
      progress?.done();
      if (o.json) console.log(JSON.stringify(stats, null, 2));
      else console.log(formatStats(stats));
    });

  data
    .command('download')
    .description('download a Hugging Face dataset file into the cache ($TINYSTORIES_CACHE) and print its path')
    .argument('<hf-spec>', 'hf:<owner>/<repo>[@rev]/<path-in-repo>')
    .option('-q, --quiet', 'no progress output')
    .addHelpText('after', '\nExample:\n  tinystories data download hf:roneneldan/TinyStories/TinyStoriesV2-GPT4-valid.txt')
    .action(async (spec: string, o: { quiet?: boolean }) => {
      if (!isHfSpec(spec)) throw new UserError(`${spec}: expected hf:<owner>/<repo>[@<revision>]/<path-in-repo>`);
      console.log(await downloadHf(spec, { quiet: o.quiet }));
    });

  data
    .command('head')
    .description('print the first cleaned stories of a source, separated by <|endoftext|> lines')
    .argument('<src>', 'file, directory, hf:<owner>/<repo>[@rev]/<path>, or builtin:mini')
    .option('-n, --count <n>', 'how many stories', '3')
    .option('--no-nfc', 'skip Unicode NFC normalization')
    .option('--no-repair', 'skip mojibake repair')
    .option('--no-dedupe', 'keep exact duplicates')
    .option('-q, --quiet', 'no progress output')
    .action(async (src: string, o: HygieneFlags & { count: string }) => {
      const n = parseNumber('--count', o.count, { int: true, min: 0 });
      if (n === 0) return;
      let i = 0;
      for await (const story of readDocuments(src, hygieneOptions(o))) {
        process.stdout.write(story + '\n<|endoftext|>\n');
        if (++i >= n) break;
      }
    });
}
