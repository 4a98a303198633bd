// `tinystories translate`: translate a story JSONL (e.g. generated English stories) into Vietnamese, keeping ids.
import type { Command } from 'commander';
import { UserError } from '../util/errors.ts';
import { formatReport, reportForDir } from '../synth/report.ts';
import { translate } from '../synth/translate.ts';
import { num } from './_flags.ts';
import { providerOptions, providerSetup, type ProviderFlags } from './_provider-options.ts';
import { checkOutputPath } from './tokenizer.ts';

interface TranslateFlags extends ProviderFlags {
  in?: string;
  out?: string;
  to: string;
  count?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('translate')
    .description('translate story records (JSONL with "story") into another language; rerun the same command to resume')
    .option('--in <jsonl>', 'input records (ids are kept; lines without one get line-N)')
    .option('--out <dir>', 'output directory')
    .option('--to <lang>', 'target language (vi)', 'vi')
    .option('--count <n>', 'translate only the first n records');
  providerOptions(cmd).action(async (f: TranslateFlags) => {
    if (!f.in) throw new UserError('--in <jsonl> is required');
    if (!f.out) throw new UserError('--out <dir> is required');
    checkOutputPath('--out', f.out, 'dir');
    if (f.to !== 'vi' && f.to !== 'en') throw new UserError(`--to: expected vi or en, got "${f.to}"`);
    const setup = providerSetup(f);
    const res = await translate({ ...setup, input: f.in, out: f.out, to: f.to, count: num('--count', f.count, { int: true, min: 1 }) });
    if (!f.quiet) console.error(formatReport(reportForDir(f.out)));
    if (res.shortfall && res.shortfall !== 'input exhausted') throw new UserError(`${f.out}: ${res.accepted}/${res.target} records: ${res.shortfall}`);
  });
}
