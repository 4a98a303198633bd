// `tinystories inspect attention|neurons`: look inside a trained model; JSON reports the dashboard shows.
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { type AttentionReport, type NeuronReport, inspectAttention, inspectNeurons, saveInspectReport } from '../inspect/index.ts';
import { openBackend } from '../engine/open-backend.ts';
import { UserError } from '../util/errors.ts';
import { Progress } from '../util/progress.ts';
import { num, parseBackendKind } from './_flags.ts';

/** --out: refused before any work when it names a directory (the report is one JSON file). */
function outFile(o: Record<string, string | boolean | undefined>): string | null {
  const out = (o.out as string | undefined) ?? null;
  if (out !== null && o.save !== false && existsSync(out) && statSync(out).isDirectory()) throw new UserError(`--out ${out}: is a directory (expected a file path for the JSON report)`);
  return out;
}

function pad(s: string | number, n: number): string {
  return String(s).padEnd(n);
}

/** The head table as text. */
export function formatHeads(r: AttentionReport): string {
  const lines = [`${r.arch}, ${r.nLayers} layers x ${r.nHeads} heads; statistics over ${r.texts} text(s), ${r.tokens} tokens (${r.source})`];
  lines.push(`${pad('layer.head', 11)}${pad('label', 16)}${pad('dist', 7)}${pad('prev', 6)}${pad('first', 6)}${pad('same', 6)}${pad('entropy', 8)}why`);
  for (const h of r.heads) {
    lines.push(
      `${pad(`${h.layer}.${h.head}`, 11)}${pad(h.label, 16)}${pad(h.meanDistance.toFixed(1), 7)}${pad(h.prevShare.toFixed(2), 6)}${pad(h.firstShare.toFixed(2), 6)}${pad(h.sameWordShare.toFixed(2), 6)}${pad(h.entropyNorm.toFixed(2), 8)}${h.why}`,
    );
  }
  lines.push('rule (first clause that holds):', ...r.rule.map((s) => '  ' + s));
  return lines.join('\n');
}

/** The most consistent neurons as text. */
export function formatNeurons(r: NeuronReport, limit = 20): string {
  const lines = [`${r.arch}: ${r.neurons.length} neurons (layers ${r.layers.join(',')}), top ${r.topK} over ${r.tokens.toLocaleString('en-US')} tokens in ${r.seconds.toFixed(1)} s`];
  lines.push(`most consistent ${Math.min(limit, r.ranking.length)}:`);
  for (const i of r.ranking.slice(0, limit)) {
    const n = r.neurons[i]!;
    const t = n.top[0];
    const ctx = t ? `${t.before.slice(-30)}[${t.token}]${t.after}`.replace(/\n/g, '⏎') : '';
    lines.push(`  L${n.layer} #${String(n.neuron).padEnd(5)} ${pad(n.wordClass, 12)} ${(n.consistency * 100).toFixed(0).padStart(3)}%  ${n.commonWords.map((w) => `${w.word.replace(/\n/g, '⏎') || '␠'}×${w.count}`).join(' ')}   ${ctx}`);
  }
  // the paper's first sightings, if this model has them
  const best = (pred: (n: NeuronReport['neurons'][number]) => boolean, key: (n: NeuronReport['neurons'][number]) => number) =>
    r.neurons.filter(pred).sort((a, b) => key(b) - key(a))[0];
  const show = (label: string, n: NeuronReport['neurons'][number] | undefined, why: string) =>
    lines.push(`  ${label.padEnd(26)} ${n ? `L${n.layer} #${n.neuron}: ${n.commonWords.map((w) => w.word.replace(/\n/g, '⏎')).join(', ')} (${why})` : 'none found'}`);
  lines.push('look for:');
  const name = best((n) => n.wordClass === 'name', (n) => n.consistency);
  show('protagonist names', name, name ? `${(name.classShares.name! * 100).toFixed(0)}% names` : '');
  const verb = best((n) => n.wordClass === 'verb', (n) => n.consistency);
  show('action verbs', verb, verb ? `${(verb.classShares.verb! * 100).toFixed(0)}% verbs` : '');
  const quote = best((n) => n.quoteStartShare >= 0.5, (n) => n.quoteStartShare + (n.classShares.pronoun ?? 0));
  show('quote starts ("I", "We")', quote, quote ? `${(quote.quoteStartShare * 100).toFixed(0)}% open a quote` : '');
  return lines.join('\n');
}

export function register(program: Command): void {
  const inspect = program.command('inspect').description('look inside a trained model: attention heads and MLP neurons');
  inspect
    .command('attention')
    .description('attention maps for a text and per-head statistics + labels over a corpus sample')
    .requiredOption('--run <run>', 'a run directory (or best/, checkpoints/step-N), a Hugging Face model folder, hf:<owner>/<repo>, a llama2.c .bin or a .gguf')
    .option('--tokenizer <file>', "replace the model's tokenizer (tokenizer.json, vocab.json + merges.txt folder, llama2.c tokenizer.bin)")
    .option('--text <s>', 'a text: its attention maps (and statistics, without --data)')
    .option('--data <src>', 'statistics over this source (file, dir, hf:..., builtin:mini)')
    .option('--docs <n>', 'texts of --data to use (default 200)')
    .option('--max-tokens <n>', 'tokens per text at most (default: the model context)')
    .option('--json', 'print the report as JSON on stdout')
    .option('--out <file>', 'write the report here (default <run>/inspect/attention.json)')
    .option('--no-save', 'do not write the report file')
    .option('--backend <b>', 'auto, wasm or ref (default auto)')
    .addHelpText('after', '\nExamples:\n  tinystories inspect attention --run runs/1M --data builtin:mini --docs 100\n  tinystories inspect attention --run runs/1M --text "Lily saw a cat. Lily smiled." --json')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const out = outFile(o);
      const backend = await openBackend(parseBackendKind(o.backend as string | undefined), 0, (l) => process.stderr.write(l + '\n'));
      try {
        const r = await inspectAttention(backend, {
          run: o.run as string,
          tokenizer: (o.tokenizer as string | undefined) ?? null,
          text: (o.text as string | undefined) ?? null,
          data: (o.data as string | undefined) ?? null,
          docs: num('--docs', o.docs as string | undefined, { int: true, min: 1 }),
          maxTokens: num('--max-tokens', o.maxTokens as string | undefined, { int: true, min: 2 }),
        });
        if (o.save !== false) process.stderr.write(`wrote ${await saveInspectReport(o.run as string, 'attention', r, out)}\n`);
        process.stdout.write(o.json ? JSON.stringify(r) + '\n' : formatHeads(r) + '\n');
      } finally {
        backend.dispose();
      }
    });
  inspect
    .command('neurons')
    .description('top-k activating tokens (with context) of every MLP neuron over a corpus, word classes, consistency ranking')
    .requiredOption('--run <run>', 'a run directory (or best/, checkpoints/step-N), a Hugging Face model folder, hf:<owner>/<repo>, a llama2.c .bin or a .gguf')
    .option('--tokenizer <file>', "replace the model's tokenizer (tokenizer.json, vocab.json + merges.txt folder, llama2.c tokenizer.bin)")
    .requiredOption('--data <src>', 'the corpus to stream (file, dir, hf:..., builtin:mini)')
    .option('--layer <L>', 'only this layer (repeatable as a comma list: 0,3)')
    .option('--top <k>', 'activations kept per neuron (default 20)')
    .option('--max-tokens <n>', 'stop after this many tokens (default: all)')
    .option('--seq-len <T>', 'tokens per window (default 128)')
    .option('--json', 'print the report as JSON on stdout')
    .option('--out <file>', 'write the report here (default <run>/inspect/neurons.json)')
    .option('--no-save', 'do not write the report file')
    .option('--backend <b>', 'auto, wasm or ref (default auto)')
    .option('--threads <n>', 'WASM threads (default all cores)')
    .addHelpText('after', '\nExamples:\n  tinystories inspect neurons --run runs/1M --data builtin:mini --top 20\n  tinystories inspect neurons --run runs/8M --data hf:roneneldan/TinyStories/TinyStoriesV2-GPT4-valid.txt --layer 3 --max-tokens 1000000')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const out = outFile(o);
      const layers = o.layer === undefined ? undefined : [...new Set(String(o.layer).split(',').map((s) => num('--layer', s.trim(), { int: true, min: 0 })!))];
      const backend = await openBackend(parseBackendKind(o.backend as string | undefined), num('--threads', o.threads as string | undefined, { int: true, min: 0 }) ?? 0, (l) => process.stderr.write(l + '\n'));
      const maxTokens = num('--max-tokens', o.maxTokens as string | undefined, { int: true, min: 1 });
      const progress = new Progress({ total: maxTokens, label: 'neurons', unit: 'tok' });
      try {
        const r = await inspectNeurons(backend, {
          run: o.run as string,
          tokenizer: (o.tokenizer as string | undefined) ?? null,
          data: o.data as string,
          layers,
          topK: num('--top', o.top as string | undefined, { int: true, min: 1 }),
          maxTokens,
          seqLen: num('--seq-len', o.seqLen as string | undefined, { int: true, min: 2 }),
          onProgress: (n) => progress.update(n),
        });
        progress.done();
        if (o.save !== false) process.stderr.write(`wrote ${await saveInspectReport(o.run as string, 'neurons', r, out)}\n`);
        process.stdout.write(o.json ? JSON.stringify(r) + '\n' : formatNeurons(r) + '\n');
      } finally {
        backend.dispose();
      }
    });
}
