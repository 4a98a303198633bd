// inspect neurons: the bounded heaps keep exactly the top-k, a scan matches a brute-force pass, word classes, the CLI.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { NeuronHeaps, opensQuote, scanNeurons, summarizeNeurons } from '../../src/inspect/neurons.ts';
import { classifyWord, wordAround } from '../../src/inspect/word-class.ts';
import { loadRunModel } from '../../src/sample/load.ts';
import { Rng } from '../../src/util/rng.ts';
import { makeStories } from '../train/fixture-stories.ts';
import { makeFixtureRuns } from './fixture-run.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');
const fx = await makeFixtureRuns({ llama: true });
after(() => fx.cleanup());

test('NeuronHeaps keep exactly the k largest values of a stream, in memory fixed by the shape', () => {
  const rng = new Rng(4);
  const k = 7;
  const heaps = new NeuronHeaps(3, k, 1);
  const bytes = heaps.bytes();
  const seen: number[][] = [[], [], []];
  for (let s = 0; s < 5000; s++) {
    for (let i = 0; i < 3; i++) {
      const v = Math.fround(rng.normal() * (i + 1));
      seen[i]!.push(v);
      const slot = heaps.offer(i, v);
      if (slot >= 0) heaps.ctx[slot] = s;
    }
  }
  assert.equal(heaps.bytes(), bytes);
  for (let i = 0; i < 3; i++) {
    const want = seen[i]!.slice().sort((a, b) => b - a).slice(0, k);
    const got = heaps.sorted(i).map((slot) => heaps.vals[slot]!);
    assert.deepEqual(got, want);
    // each kept slot's context is the position the value came from
    for (const slot of heaps.sorted(i)) assert.equal(seen[i]![heaps.ctx[slot]!], heaps.vals[slot]);
  }
});

for (const arch of ['neo', 'llama'] as const) {
  test(`${arch}: a scan keeps the same top activations as a brute-force pass over the same windows`, async () => {
    const { model, tokenizer } = loadRunModel(fx[arch], createRefBackend());
    const stories = makeStories(30, 11);
    const T = 32;
    const scan = await scanNeurons(model, tokenizer, stories, { topK: 5, seqLen: T, batch: 3, before: 3, after: 2 });
    // brute force: the same stream of windows, every activation kept
    const stream: number[] = [];
    for (const s of stories) stream.push(tokenizer.eotId, ...tokenizer.encode(s));
    const H = model.cfg.hidden;
    const all: number[][] = Array.from({ length: model.cfg.nLayers * H }, () => []);
    let tokens = 0;
    for (let start = 0; start < stream.length; start += T) {
      const win = stream.slice(start, start + T);
      if (win.length < 2) break;
      model.forward(Int32Array.from(win), null, 1, win.length);
      const acts = model.activations();
      for (let l = 0; l < model.cfg.nLayers; l++) {
        const a = acts.get(`h.${l}.mlp.act`)!.data;
        for (let p = 0; p < win.length; p++) for (let h = 0; h < H; h++) all[l * H + h]!.push(a[p * H + h]!);
      }
      tokens += win.length;
    }
    assert.equal(scan.tokens, tokens);
    for (const i of [0, 1, H - 1, H, 2 * H - 1]) {
      const want = all[i]!.slice().sort((a, b) => b - a).slice(0, 5);
      const got = scan.heaps.sorted(i).map((s) => scan.heaps.vals[s]!);
      for (let r = 0; r < 5; r++) assert.ok(Math.abs(got[r]! - want[r]!) < 1e-4, `neuron ${i} rank ${r}: ${got[r]} vs ${want[r]}`);
    }
    const report = summarizeNeurons(model, tokenizer, scan, { run: arch, source: 'fixture' });
    assert.equal(report.neurons.length, model.cfg.nLayers * H);
    assert.equal(report.arch, model.cfg.arch);
    for (let r = 1; r < report.ranking.length; r++) assert.ok(report.neurons[report.ranking[r - 1]!]!.consistency >= report.neurons[report.ranking[r]!]!.consistency);
    const n = report.neurons[0]!;
    assert.equal(n.top.length, 5);
    assert.ok(n.top[0]!.act >= n.top[4]!.act);
    assert.ok(n.commonWords.reduce((a, w) => a + w.count, 0) <= 5);
    assert.equal(n.commonTokens[0]!.count, n.top.filter((t) => t.token === n.commonTokens[0]!.token).length);
    assert.ok(Math.abs(Object.values(n.classShares).reduce((a, b) => a + b!, 0) - 1) < 1e-9);
  });
}

test('word classes: names, verbs, pronouns, punctuation; whole words rebuilt from BPE pieces', () => {
  assert.equal(classifyWord('Lily', false, 'day,'), 'name');
  assert.equal(classifyWord('Tom', true, ''), 'name');
  assert.equal(classifyWord('ran', false, 'Tom'), 'verb');
  assert.equal(classifyWord('book', false, 'the'), 'noun');
  assert.equal(classifyWord('She', true, ''), 'pronoun');
  assert.equal(classifyWord('We', true, '"'), 'pronoun');
  assert.equal(classifyWord('.', false, 'park'), 'punctuation');
  assert.equal(classifyWord('happy', false, 'was'), 'adjective');
  assert.equal(classifyWord('\n', false), 'newline');
  const w = wordAround(['The', ' dog', '.', ' L', 'ily', ' ran'], 4);
  assert.deepEqual(w, { word: 'Lily', sentenceStart: true, prevWord: 'dog.' });
  assert.equal(wordAround(['One', ' day', ',', ' L', 'ily'], 3).sentenceStart, false);
  // quotations: opened by “ or a hugging straight quote after a space; `!" Mia` closes one
  assert.equal(opensQuote('Tom said, "', 'I'), true);
  assert.equal(opensQuote('said: “', 'We'), true);
  assert.equal(opensQuote('\n"', 'Look'), true);
  assert.equal(opensQuote('"Look, a bird!"', ' Mia'), false);
  assert.equal(opensQuote('a bird!"', 'Mia'), false);
  assert.equal(opensQuote('the dog', ' ran'), false);
});

test('CLI: inspect neurons --layer --top --max-tokens --json; report saved where the dashboard reads it', () => {
  const r = spawnSync(process.execPath, [CLI, 'inspect', 'neurons', '--run', fx.neo, '--data', fx.stories, '--layer', '1', '--top', '4', '--max-tokens', '3000', '--backend', 'ref', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.format, 'tinystories-neurons');
  assert.deepEqual(report.layers, [1]);
  assert.equal(report.topK, 4);
  assert.ok(report.tokens <= 3000 + 128 && report.tokens > 0);
  assert.ok(existsSync(join(fx.neo, 'inspect', 'neurons.json')));
  assert.equal(JSON.parse(readFileSync(join(fx.neo, 'inspect', 'neurons.json'), 'utf8')).neurons.length, report.neurons.length);
  const text = spawnSync(process.execPath, [CLI, 'inspect', 'neurons', '--run', fx.neo, '--data', fx.stories, '--top', '4', '--max-tokens', '2000', '--backend', 'ref', '--no-save'], { encoding: 'utf8' });
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /most consistent 20:\n  L\d #\d+/);
  assert.match(text.stdout, /look for:\n  protagonist names .*\n  action verbs .*\n  quote starts/);
  const bad = spawnSync(process.execPath, [CLI, 'inspect', 'neurons', '--run', fx.neo, '--data', fx.stories, '--layer', '9', '--backend', 'ref'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--layer 9 is outside 0\.\.1/);
});

test('CLI: --layer refuses an empty item (was read as layer 0) and scans a repeated layer once', () => {
  const args = (layer: string) => [CLI, 'inspect', 'neurons', '--run', fx.neo, '--data', fx.stories, '--layer', layer, '--top', '2', '--max-tokens', '500', '--backend', 'ref', '--json', '--no-save'];
  for (const layer of ['1,', ',1', '']) {
    const bad = spawnSync(process.execPath, args(layer), { encoding: 'utf8' });
    assert.equal(bad.status, 1, `--layer '${layer}': ${bad.stdout.slice(0, 200)}`);
    assert.match(bad.stderr, /^tinystories: --layer: expected an integer >= 0, got ""\n$/);
  }
  const dup = spawnSync(process.execPath, args('1,1'), { encoding: 'utf8' });
  assert.equal(dup.status, 0, dup.stderr);
  const report = JSON.parse(dup.stdout);
  assert.deepEqual(report.layers, [1]);
  assert.equal(report.neurons.length, report.hidden);
});
