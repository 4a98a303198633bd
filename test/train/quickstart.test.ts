// quickstart offline: the hub is unreachable, so it says so, trains on builtin:tinystories and prints 3 stories and the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STORY_PROMPTS, STORY_SAMPLING } from '../../src/cli/quickstart.ts';
import { createRefBackend } from '../../src/engine/ref/index.ts';
import { generateText } from '../../src/sample/generate.ts';
import { loadRunModel } from '../../src/sample/load.ts';
import { RECIPE_TABLE } from '../../src/train/recipe-table.ts';
import { Rng } from '../../src/util/rng.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');

test('quickstart falls back to the embedded corpus when offline and prints three stories and the run path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quickstart-'));
  const out = join(dir, 'run');
  const r = spawnSync(
    process.execPath,
    [CLI, 'quickstart', '--minutes', '0.03', '--out', out, '--preset=260K', '--seq-len=32', '--batch-size=4', '--vocab-size=300', '--backend=ref', '--download-timeout=5'],
    // port 9 (discard) refuses connections: an offline hub without touching the network
    { encoding: 'utf8', env: { ...process.env, TINYSTORIES_HF_ENDPOINT: 'http://127.0.0.1:9', TINYSTORIES_CACHE: join(dir, 'cache') }, timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /offline: using the embedded TinyStories sample instead \(builtin:tinystories/);
  assert.match(r.stderr, new RegExp(`run: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // the stories come from the best checkpoint, and the loss is given in bits per byte too
  assert.match(r.stderr, /best val loss \d+\.\d+ nats\/token = \d+\.\d+ bits\/byte at step \d+ of \d+.*Three stories from that checkpoint \(best\/\)/);
  assert.match(r.stderr, new RegExp(`more stories: tinystories sample --run ${join(out, 'best').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
  // The printed stories are what the trained weights in best/ generate (regenerated here with the same seed), each
  // with a continuation after its prompt: text printed before generation could not show that.
  const backend = createRefBackend();
  try {
    const { model, tokenizer } = loadRunModel(join(out, 'best'), backend);
    const rng = new Rng(1337);
    let expected = '';
    for (const prompt of STORY_PROMPTS) {
      const text = (await generateText(model, tokenizer, prompt, { ...STORY_SAMPLING, rng })).trimEnd();
      assert.ok(text.trim().length > 0, `an empty story after "${prompt}"`);
      expected += prompt + text + '\n\n';
    }
    assert.equal(r.stdout, expected);
  } finally {
    backend.dispose();
  }
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'train_config.json', 'metrics.jsonl']) assert.ok(existsSync(join(out, f)), f);
  const bad = spawnSync(process.execPath, [CLI, 'quickstart', '--minutes=-1'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^tinystories: --minutes: .*>0/m);
});

test('quickstart without --preset trains the compute-aware recipe and says which and why', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quickstart-recipe-'));
  const out = join(dir, 'run');
  const r = spawnSync(
    process.execPath,
    [CLI, 'quickstart', '--minutes', '0.02', '--out', out, '--data=builtin:mini', '--seq-len=32', '--batch-size=4', '--vocab-size=300', '--backend=ref'],
    { encoding: 'utf8', env: { ...process.env, TINYSTORIES_CACHE: join(dir, 'cache') }, timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const chosen = RECIPE_TABLE.filter((e) => e.minutes === 3)[0]!.recipe;
  assert.match(r.stderr, new RegExp(`^recipe for 0\\.02 min: ${chosen.name}: ${chosen.model.arch} d${chosen.model.dim} L${chosen.model.nLayers}`, 'm'));
  assert.match(r.stderr, /^ {2}why: the 3-minute entry/m);
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).model_type, chosen.model.arch === 'llama' ? 'llama' : 'gpt_neo');
  for (const prompt of ['Once upon a time', 'Tom and his dog', 'Lily wanted to']) assert.ok(r.stdout.includes(prompt), `story starting "${prompt}"`);
});
