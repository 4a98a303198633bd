// Training logs bits per byte: val_bpb in metrics.jsonl is the validation nats over the bytes of the validation
// windows' decoded text (counted here independently, by decoding), and each step's training bpb is logged too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openShards } from '../../src/data/shards.ts';
import { loadTokenizer } from '../../src/tokenizer/hf-json.ts';
import { readJsonLines, type MetricsRecord } from '../../src/train/metrics.ts';
import { train } from '../../src/train/trainer.ts';
import { TINY_NEO, writeStoriesFile } from './fixture-stories.ts';

const dir = mkdtempSync(join(tmpdir(), 'train-bpb-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const data = join(dir, 'stories.txt');
writeStoriesFile(data, 150, 11);
const neo = join(dir, 'neo.json');
writeFileSync(neo, JSON.stringify(TINY_NEO));

test('metrics.jsonl: val_bpb = val nats / (ln 2 × UTF-8 bytes of the validation text); train bpb on every step', async () => {
  const B = 4;
  const T = 32;
  const valBatches = 2;
  const lines: string[] = [];
  const r = await train({ data, modelConfig: neo, vocabSize: 300, batchSize: B, seqLen: T, backend: 'ref', steps: 4, valEvery: 2, valBatches, sampleEvery: 0, checkpointEvery: 0, quiet: true, out: join(dir, 'run') }, { log: (l) => lines.push(l) });
  const m = readJsonLines<MetricsRecord>(join(r.runDir, 'metrics.jsonl'));
  assert.equal(m.length, 4);
  // the validation windows' text, decoded independently (<|endoftext|> is not story text)
  const tok = loadTokenizer(join(r.runDir, 'tokenizer.json'));
  const val = openShards(join(r.runDir, 'shards'), { tokenizer: tok }).val;
  const windows = Math.min(valBatches * B, Math.floor((val.length - 1) / T));
  const w = new Int32Array(T + 1);
  let bytes = 0;
  for (let i = 0; i < windows; i++) {
    val.window(i * T, T + 1, w);
    bytes += Buffer.byteLength(tok.decode(Array.from(w.subarray(1)).filter((id) => id !== tok.eotId)), 'utf8');
  }
  for (const rec of m.filter((x) => x.val_loss !== undefined)) {
    const expected = (rec.val_loss! * windows * T) / (Math.LN2 * bytes);
    assert.ok(Math.abs(rec.val_bpb! - expected) < 1e-9, `step ${rec.step}: ${rec.val_bpb} vs ${expected}`);
  }
  assert.equal(m.filter((x) => x.val_bpb !== undefined).length, 2);
  for (const rec of m) {
    // bits per byte = nats per token × tokens per byte / ln 2, and a token of these stories is 1 to 20 bytes
    const bytesPerToken = rec.loss / (Math.LN2 * rec.bpb!);
    assert.ok(bytesPerToken >= 1 && bytesPerToken <= 20, `step ${rec.step}: ${bytesPerToken} bytes/token`);
  }
  assert.equal(r.valBpb, m.at(-1)!.val_bpb);
});
