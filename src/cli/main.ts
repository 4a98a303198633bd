// The `tinystories` command line: builds the subcommand tree and turns errors into one clear line.
import { Command, CommanderError } from 'commander';
import { UserError } from '../util/errors.ts';
import { commands } from './commands.ts';
import { fetchRunSources } from './_model-source.ts';

const program = new Command();
program
  .name('tinystories')
  .description('TinyStories research loop in TypeScript: data, tokenizer, training, sampling, evaluation')
  .version('0.1.0')
  .option('--verbose', 'print stack traces on errors')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

for (const register of commands) register(program);
// --run hf:<owner>/<repo>: download the model before any command loads it
program.hook('preAction', fetchRunSources);

function verbose(): boolean {
  return process.argv.includes('--verbose');
}

function fail(err: unknown): never {
  if (err instanceof CommanderError) {
    // commander already printed its message (help, version, or a usage error)
    process.exit(err.exitCode);
  }
  // One line, no stack trace, unless --verbose: UserErrors carry the file/field and what was expected.
  if (verbose()) console.error(err);
  else console.error(`tinystories: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`);
  process.exit(1);
}

process.on('unhandledRejection', fail);
// A reader that stops early (`tinystories ... --json | head`) closes the pipe: that is the end, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    fail(err);
  });
}
try {
  await program.parseAsync(process.argv);
} catch (err) {
  fail(err);
}
