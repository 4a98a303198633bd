// `tinystories convert`: a model from elsewhere (HF folder or repo, pytorch_model.bin, llama2.c, GGUF) into a run directory.
import type { Command } from 'commander';
import { convertToRun } from '../interop/convert.ts';

export function register(program: Command): void {
  program
    .command('convert')
    .description('convert a model (HF folder, hf:<owner>/<repo>, pytorch_model.bin, llama2.c .bin, .gguf, or a run) into a run directory')
    .argument('<model>', 'a run directory, Hugging Face model folder, hf:<owner>/<repo>[@rev], model file, llama2.c .bin or .gguf')
    .requiredOption('--out <run-dir>', 'the run directory to write (config.json, model.safetensors, tokenizer.json); must not exist yet')
    .option('--tokenizer <file>', "replace the model's tokenizer: tokenizer.json, a vocab.json + merges.txt folder, or a llama2.c tokenizer.bin")
    .option('--quiet', 'no download progress')
    .addHelpText(
      'after',
      '\nExamples:\n  tinystories convert hf:roneneldan/TinyStories-1M --out runs/tinystories-1m\n' +
        '  tinystories convert stories260K.bin --tokenizer tok512.bin --out runs/stories260K\n' +
        '  tinystories sample --run runs/tinystories-1m --prompt "" --temperature 0\n' +
        '  tinystories train --init runs/tinystories-1m --data builtin:mini --steps 200 --lr=1e-4',
    )
    .action(async (model: string, opts: { out: string; tokenizer?: string; quiet?: boolean }) => {
      const r = await convertToRun(model, opts.out, { tokenizer: opts.tokenizer, quiet: opts.quiet });
      process.stderr.write(
        `read ${r.source}\nwrote ${r.out}: ${r.config.arch}, ${(r.params / 1e6).toFixed(2)}M parameters, vocab ${r.vocabSize}\n` +
          `  sample it: tinystories sample --run ${opts.out}\n  fine-tune it: tinystories train --init ${opts.out} --data <src>\n`,
      );
    });
}
