// Tokenizer training time, vocab 4096: the shared ~4.5 MB TinyStories sample and 50 MB (the sample repeated).
// Peer: Hugging Face `tokenizers` (Rust) training on the same text; its Node API cannot set the vocab size, so it
// trains its default (30,000 tokens, min frequency 0) — a reference for speed, not an equal task.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainBpe } from '../src/tokenizer/index.ts';
import { QUICK, record, sampleStories, utf8Bytes } from './tokenizer-common.ts';

const rust = createRequire(import.meta.url)('tokenizers') as typeof import('tokenizers');
const docs = await sampleStories();
const sizes = QUICK ? [1] : [1, Math.ceil(50e6 / utf8Bytes(docs))];
const tmp = mkdtempSync(join(tmpdir(), 'bench-train-'));
const figures: Record<string, unknown> = {};
try {
  for (const repeat of sizes) {
    const corpus: string[] = [];
    for (let r = 0; r < repeat; r++) corpus.push(...docs);
    const mb = utf8Bytes(corpus) / 1e6;
    let t0 = performance.now();
    const tok = await trainBpe(corpus, { vocabSize: 4096 });
    const ours = (performance.now() - t0) / 1000;

    const file = join(tmp, `corpus-${repeat}.txt`);
    writeFileSync(file, corpus.join('\n\n'));
    const rt = new rust.Tokenizer(rust.BPE.empty());
    rt.setPreTokenizer(rust.byteLevelPreTokenizer(false, true));
    t0 = performance.now();
    rt.train([file]);
    const peer = (performance.now() - t0) / 1000;
    const key = `${mb.toFixed(1)}MB`;
    figures[key] = { mb, vocab: tok.vocabSize, oursSeconds: ours, rustDefaultTrainerSeconds: peer, rustVocab: rt.getVocabSize() };
    console.log(
      `train vocab 4096 on ${mb.toFixed(1)} MB: ours ${ours.toFixed(2)} s (${(mb / ours).toFixed(1)} MB/s) | ` +
        `peer HF tokenizers (Rust, default 30k vocab) ${peer.toFixed(2)} s`,
    );
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
record('tokenizer-train', figures);
