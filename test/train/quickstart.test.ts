// quickstart offline: the hub is unreachable, so it says so, trains on builtin:mini and prints 3 stories and the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tinystories.mjs');

test('quickstart falls back to the embedded corpus when offline and prints three stories and the run path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quickstart-'));
  const out = join(dir, 'run');
  const r = spawnSync(
    process.execPath,
    [CLI, 'quickstart', '--minutes', '0.03', '--out', out, '--preset=260K', '--seq-len=32', '--batch-size=4', '--vocab-size=300', '--backend=ref', '--download-timeout=5'],
    // port 9 (discard) refuses connections: an offline hub without touching the network
    { encoding: 'utf8', env: { ...process.env, TINYSTORIES_HF_ENDPOINT: 'http://127.0.0.1:9', TINYSTORIES_CACHE: join(dir, 'cache') }, timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /offline: using the small embedded story corpus \(builtin:mini\)/);
  assert.match(r.stderr, new RegExp(`run: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  for (const prompt of ['Once upon a time', 'Tom and his dog', 'Lily wanted to']) assert.ok(r.stdout.includes(prompt), `story starting "${prompt}"`);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'train_config.json', 'metrics.jsonl']) assert.ok(existsSync(join(out, f)), f);
  const bad = spawnSync(process.execPath, [CLI, 'quickstart', '--minutes=-1'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^tinystories: --minutes: .*>0/m);
});
