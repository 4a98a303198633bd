// inspect attention: maps are causal probability rows for gpt-neo and llama; statistics and labels on constructed patterns.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { InferenceSession } from '../../src/engine/inference.ts';
import { HeadStatsAccumulator, LABEL_RULE, attentionForText, headStatsOver, labelHead } from '../../src/inspect/attention.ts';
import { loadRunModel } from '../../src/sample/load.ts';
import { readDocuments } from '../../src/data/read.ts';
import { makeFixtureRuns } from './fixture-run.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');
const fx = await makeFixtureRuns({ llama: true });
after(() => fx.cleanup());

for (const arch of ['neo', 'llama'] as const) {
  test(`${arch}: attention maps are causal rows of probabilities (local layers see only their window)`, () => {
    const { model, tokenizer } = loadRunModel(fx[arch], createRefBackend());
    const text = 'Once upon a time, there was a girl named Lily. Lily had a red ball. One day Lily went to the park with her dog.';
    const m = attentionForText(model, tokenizer, text);
    assert.equal(m.probs.length, model.cfg.nLayers);
    assert.equal(m.probs[0]!.length, model.cfg.nHeads);
    const T = m.tokens.length;
    assert.equal(T, Math.min(model.cfg.maxSeqLen, tokenizer.encode(text).length + 1));
    assert.equal(m.ids[0], tokenizer.eotId);
    for (let l = 0; l < model.cfg.nLayers; l++) {
      const win = model.cfg.windows[l]!;
      for (const head of m.probs[l]!) {
        head.forEach((row, i) => {
          const sum = row.reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(sum - 1) < 2e-3, `layer ${l} row ${i} sums to ${sum}`);
          row.forEach((p, j) => {
            if (j > i) assert.equal(p, 0, `future key ${j} of query ${i}`);
            if (win > 0 && j <= i - win) assert.equal(p, 0, `key ${j} outside window ${win} of query ${i}`);
          });
        });
      }
    }
  });
}

for (const arch of ['neo', 'llama'] as const) {
  test(`${arch}: the maps' last row equals the KV-cached decode path's attention for the same token`, () => {
    const { model, tokenizer } = loadRunModel(fx[arch], createRefBackend());
    // sharpen the barely trained attention so that heads and rows differ (a mixed-up index could not pass)
    for (const lp of model.p.layers) for (let i = 0; i < lp.qkvw.length; i++) lp.qkvw[i]! *= 25;
    const m = attentionForText(model, tokenizer, 'Tom had a red kite. Tom and Mia went to the park.');
    const maxes = m.probs.flatMap((l) => l.map((h) => Math.max(...h[h.length - 1]!)));
    assert.ok(Math.max(...maxes) > 0.5, 'attention is peaked');
    const session = new InferenceSession(model);
    session.prefill(m.ids);
    const acts = session.activations();
    const T = m.ids.length;
    for (let l = 0; l < model.cfg.nLayers; l++) {
      const probs = acts.get(`h.${l}.attn.probs`)!;
      assert.deepEqual(probs.shape, [model.cfg.nHeads, T]);
      for (let h = 0; h < model.cfg.nHeads; h++) {
        for (let j = 0; j < T; j++) assert.ok(Math.abs(probs.data[h * T + j]! - m.probs[l]![h]![T - 1]![j]!) < 1.5e-4, `layer ${l} head ${h} key ${j}`);
      }
    }
  });
}

test('statistics of constructed attention patterns: previous-token, first-token, same-word, uniform', async () => {
  const { model, tokenizer } = loadRunModel(fx.neo, createRefBackend());
  const NH = model.cfg.nHeads;
  const words = ['', 'lily', 'saw', 'a', 'cat', 'lily', 'ran', 'to', 'the', 'cat'];
  const T = words.length;
  // head 0: previous token; head 1: first token; head 2: earlier same word when there is one, else uniform; head 3: uniform
  const probs = new Float32Array(NH * T * T);
  for (let i = 0; i < T; i++) {
    const row = (h: number) => (h * T + i) * T;
    probs[row(0) + Math.max(0, i - 1)] = 1;
    probs[row(1)] = 1;
    const same = words.findIndex((w, j) => j < i && w !== '' && w === words[i]);
    if (same >= 0) probs[row(2) + same] = 1;
    else for (let j = 0; j <= i; j++) probs[row(2) + j] = 1 / (i + 1);
    for (let j = 0; j <= i; j++) probs[row(3) + j] = 1 / (i + 1);
  }
  const acc = new HeadStatsAccumulator(model, tokenizer);
  acc.addProbs(words, Array.from({ length: model.cfg.nLayers }, () => probs));
  const stats = acc.result().filter((s) => s.layer === 0);
  const [prev, first, same, uniform] = stats;
  assert.equal(prev!.prevShare, 1);
  assert.equal(prev!.meanDistance, 1);
  assert.equal(prev!.label, 'previous-token');
  assert.equal(first!.firstShare, 1);
  assert.equal(first!.label, 'positional');
  assert.ok(Math.abs(first!.meanDistance - (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9) / 9) < 1e-9);
  // queries 5 ('lily') and 9 ('cat') have an earlier occurrence; the head puts all its mass there
  assert.equal(same!.sameWordShare, 1);
  assert.ok(Math.abs(same!.sameWordChance - (1 / 6 + 1 / 10) / 2) < 1e-9);
  assert.equal(same!.label, 'semantic');
  assert.ok(Math.abs(uniform!.entropyNorm - 1) < 1e-6);
  assert.equal(uniform!.label, 'mixed');
  assert.ok(Math.abs(uniform!.meanDistance - [1, 2, 3, 4, 5, 6, 7, 8, 9].reduce((a, i) => a + i / 2, 0) / 9) < 1e-6);
});

test('labelHead applies the documented clauses in order', () => {
  const base = { layer: 0, head: 0, meanDistance: 3, prevShare: 0.1, firstShare: 0.1, sameWordShare: 0, sameWordChance: 0.05, entropy: 1, entropyNorm: 0.5, offsetMass: [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05], topOffset: 0 };
  assert.equal(labelHead({ ...base, prevShare: LABEL_RULE.previousToken, firstShare: 0.9 }).label, 'previous-token');
  assert.equal(labelHead({ ...base, firstShare: 0.5 }).label, 'positional');
  assert.equal(labelHead({ ...base, offsetMass: [0, 0, 0.6, 0, 0, 0, 0, 0], topOffset: 2 }).label, 'positional');
  assert.equal(labelHead({ ...base, offsetMass: [0.3, 0.2, 0.2, 0.15, 0, 0, 0, 0] }).label, 'positional');
  assert.equal(labelHead({ ...base, sameWordShare: 0.3, sameWordChance: 0.05 }).label, 'semantic');
  assert.equal(labelHead({ ...base, sameWordShare: 0.3, sameWordChance: 0.2 }).label, 'mixed');
  assert.equal(LABEL_RULE.text.length, 4);
});

test('head statistics over a corpus sample stay in range for gpt-neo and llama', async () => {
  for (const run of [fx.neo, fx.llama]) {
    const { model, tokenizer } = loadRunModel(run, createRefBackend());
    const r = await headStatsOver(model, tokenizer, readDocuments(fx.stories), { maxDocs: 12 });
    assert.equal(r.texts, 12);
    assert.equal(r.heads.length, model.cfg.nLayers * model.cfg.nHeads);
    for (const h of r.heads) {
      for (const v of [h.prevShare, h.firstShare, h.sameWordShare, h.entropyNorm]) assert.ok(v >= 0 && v <= 1 + 1e-6, JSON.stringify(h));
      assert.ok(h.meanDistance >= 0 && h.meanDistance < model.cfg.maxSeqLen);
      assert.ok(['previous-token', 'positional', 'semantic', 'mixed'].includes(h.label));
    }
  }
});

test('CLI: inspect attention --text --json prints the report and saves <run>/inspect/attention.json', () => {
  const r = spawnSync(process.execPath, [CLI, 'inspect', 'attention', '--run', fx.llama, '--text', 'Lily saw a cat. Lily smiled.', '--backend', 'ref', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.format, 'tinystories-attention');
  assert.equal(report.arch, 'llama');
  assert.equal(report.example.tokens.length, report.tokens);
  const saved = join(fx.llama, 'inspect', 'attention.json');
  assert.ok(existsSync(saved));
  assert.deepEqual(JSON.parse(readFileSync(saved, 'utf8')).heads, report.heads);
  const bad = spawnSync(process.execPath, [CLI, 'inspect', 'attention', '--run', fx.llama, '--backend', 'ref'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /give --text <s>, --data <src>, or both/);
  assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/);
});

test('CLI: --out naming a directory is refused before any work, one line naming --out (was EISDIR after the scan)', () => {
  const dir = join(fx.llama, 'inspect');
  mkdirSync(dir, { recursive: true });
  const r = spawnSync(process.execPath, [CLI, 'inspect', 'attention', '--run', fx.llama, '--text', 'Lily saw a cat.', '--backend', 'ref', '--out', dir], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `tinystories: --out ${dir}: is a directory (expected a file path for the JSON report)\n`);
  assert.equal(r.stdout, '');
});
