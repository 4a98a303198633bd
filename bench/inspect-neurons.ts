// Neuron scan throughput (tokens/s) for the 1M and 8M presets: every layer's MLP neurons, top-20 heaps with context.
// Peer in the same run: the plain forward passes over the same windows (the scan's ceiling; the gap is the heap work).
// Weights are random (init seed 1): throughput does not depend on what the model learned. Tokenizer: BPE 4096.
import { presetConfig } from '../src/engine/config.ts';
import { Model } from '../src/engine/model.ts';
import { scanNeurons } from '../src/inspect/neurons.ts';
import { trainBpe } from '../src/tokenizer/train.ts';
import { openBackend } from '../src/engine/open-backend.ts';
import { QUICK, benchStories, record } from './ui-common.ts';

const { source, docs } = await benchStories(QUICK ? 300 : 3000);
const tokenizer = await trainBpe(docs.slice(0, 1000), { vocabSize: 4096 });
const T = 128;
const B = 4;
const budget = QUICK ? 8 * 1024 : 128 * 1024;
const backend = await openBackend('auto', 0, (l) => console.log(l));
const figures: Record<string, unknown> = { source, backend: backend.name, threads: backend.threads, T, B, topK: 20 };
console.log(`neuron scan: ${source}, backend ${backend.name} x${backend.threads}, windows ${B}x${T}, ${budget} tokens per preset${QUICK ? ' (quick)' : ''}`);
for (const preset of ['1M', '8M']) {
  const model = new Model(presetConfig(preset, { vocabSize: tokenizer.vocabSize }), backend, { seed: 1 });
  // peer: forward passes alone over the same stream of windows
  const stream: number[] = [];
  for (const d of docs) {
    stream.push(tokenizer.eotId, ...tokenizer.encode(d));
    if (stream.length >= budget) break;
  }
  const input = new Int32Array(B * T);
  let t0 = performance.now();
  let fwdTokens = 0;
  for (let s = 0; s + B * T <= Math.min(stream.length, budget); s += B * T) {
    for (let i = 0; i < B * T; i++) input[i] = stream[s + i]!;
    model.forward(input, null, B, T);
    fwdTokens += B * T;
  }
  const fwdSec = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const scan = await scanNeurons(model, tokenizer, docs, { topK: 20, seqLen: T, batch: B, maxTokens: budget });
  const sec = (performance.now() - t0) / 1000;
  const neurons = model.cfg.nLayers * model.cfg.hidden;
  const row = {
    params: model.numParams(), neurons, tokens: scan.tokens, seconds: sec, tokensPerSecond: scan.tokens / sec,
    heapBytes: scan.heaps.bytes(), forwardOnlyTokensPerSecond: fwdTokens / fwdSec,
  };
  figures[preset] = row;
  console.log(
    `${preset.padEnd(3)} (${(row.params / 1e6).toFixed(2)}M params, ${neurons} neurons): scan ${row.tokensPerSecond.toFixed(0)} tokens/s over ${scan.tokens} tokens; ` +
      `heaps ${(row.heapBytes / 1e6).toFixed(1)} MB (fixed); peer forward-only ${row.forwardOnlyTokensPerSecond.toFixed(0)} tokens/s`,
  );
}
backend.dispose();
record('inspect-neurons', figures);
