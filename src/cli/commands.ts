// The list of subcommands; each module adds its commands to the program (one command family per file).
import type { Command } from 'commander';
import { register as gsm } from './gsm.ts';
import { register as evaluate } from './eval.ts';
import { register as data } from './data.ts';
import { register as tokenizer } from './tokenizer.ts';
import { register as tokenize } from './tokenize.ts';
import { register as train } from './train.ts';
import { register as sample } from './sample.ts';
import { register as quickstart } from './quickstart.ts';
import { register as gradcheck } from './gradcheck.ts';
import { register as generate } from './generate.ts';
import { register as translate } from './translate.ts';
import { register as inspect } from './inspect.ts';
import { register as ui } from './ui.ts';
import { register as bench } from './bench.ts';
import { register as convert } from './convert.ts';
import { register as exportModel } from './export.ts';

export const commands: Array<(program: Command) => void> = [
  gsm,
  data,
  tokenizer,
  tokenize,
  train,
  sample,
  quickstart,
  gradcheck,
  generate,
  translate,
  inspect,
  ui,
  evaluate,
  bench,
  exportModel,
  convert,
];
